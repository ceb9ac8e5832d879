// Runs an imported ONNX export through the same contract as the family graphs (runtime/inspector/engine.ts): each
// graph (the encoder first for encoder-decoder exports) runs as a sequence of per-layer stage sessions (imported-part.ts),
// and each layer's attention is handed on the moment its stage has run, with a pause after it so a cancel can land
// before the next stage. A graph that cannot be split runs in one session and its layers are handed on after it,
// with the same numbers. At load, a probe run on a few tokens fixes what the graph does not say: heads per layer,
// and whether each layer is self, causal (every key after the query gets exactly 0) or cross attention (its keys
// are the encoder's positions). forward() runs a padded batch of rows through the same pieces, one session call per
// piece for the whole batch (forward.ts), for the explanations that re-run the model on changed inputs. An
// encoder–decoder export served as one (config.json names the decoder's start and eos ids) runs its encoder and
// decoder whole, one session each: inspector/import-seq2seq.ts hands each pass's layers on together, so stages would
// only cost. With a key/value cache (decoder_with_past_model.onnx beside decoder_model.onnx, or a merged decoder
// split into both by merged-decoder.ts) it also opens its step decoder (step-decoder.ts) for greedy decoding.
import type { OutputTensor } from '../backend/ort';
import { cancelled, LensError } from '../errors';
import { checkAttentionFinite, checkOutputFinite } from '../finite';
import { computeFeeds } from '../models/feeds';
import type { Seq2SeqGeneration } from '../models/seq2seq-generation';
import { readFolderGeneration } from '../models/seq2seq-read';
import type { Batch, FeedTensor, PlanFacts, StageFeeds } from '../models/plan';
import type { AttentionKind, BackendName, LayerAttention } from '../types';
import type { EngineForwardOptions, EngineRunOptions, EngineRunResult } from '../inspector/engine';
import type { ForwardResult } from '../inspector/api';
import { targetLogprobRows } from '../generate/target-logprobs';
import { buildFeeds, oneRow, type FeedContext } from './feeds';
import { checkMaskable, checkRead, checkRows, NORMS_REFUSED, readHead, runRows } from './forward';
import type { OnnxLayout } from './locate';
import { configInt, readConfigInfo, type ConfigInfo } from './model-info';
import { ImportedPart, type PartProbe, type PartRunResult } from './imported-part';
import { isMergedDecoder, splitMergedDecoder, USE_CACHE_BRANCH } from './merged-decoder';
import { PRESENT_PREFIX } from './feeds';
import type { ReadGraph } from './prepare';
import { readOnnxFile } from './read';
import { StepDecoder, type KvCache, type StepResult } from './step-decoder';

type Role = 'encoder' | 'model';

/** An encoder–decoder export's encoded source. */
export interface EncodedImport {
  /** The source's ids as the encoder read them. */
  ids: readonly number[];
  /** Kind 'encoder', entry = encoder layer. */
  layers: LayerAttention[];
  /** last_hidden_state [1,S,E]. */
  hidden: FeedTensor;
  ms: number[];
}

/** One decoder pass: decoder self-attention (kind 'decoder') and cross-attention (kind 'cross') by decoder layer. */
export interface DecodedImport {
  self: LayerAttention[];
  cross: LayerAttention[];
  /** [T, V] */
  logits: Float32Array;
  ms: number[];
  /** The key/value cache the pass leaves (asked for with `cache`, on an export with a step decoder). */
  cache?: KvCache;
}

/** What the probe found about one layer. */
interface LayerSlot {
  kind: AttentionKind;
  heads: number;
}

/**
 * Probe lengths, for the two probe inputs: different for encoder and decoder, so cross attention shows as keys ≠
 * queries; and different between the two inputs, so the stages learn which sizes follow the sequence.
 */
const PROBE_ENCODER: [number, number] = [5, 7];
const PROBE_MODEL: [number, number] = [3, 4];
/** A probability at most this is taken as masked (exp of a -1e4 or lower bias underflows to 0 in float32). */
const MASKED_MAX = 1e-12;

export type ImportProgress = (phase: 'reading-weights' | 'building-graphs' | 'creating-sessions', f?: number) => void;

export class ImportEngine {
  private stageRunCount = 0;

  private constructor(
    readonly facts: PlanFacts,
    readonly backend: BackendName,
    private parts: ImportedPart[],
    private readonly roles: Role[],
    private readonly slots: LayerSlot[],
    private readonly info: ConfigInfo,
    /** generation_config.json beside the export (config.json's fields without one): what beam search follows. */
    readonly generation: Seq2SeqGeneration,
    private stepDecoder?: StepDecoder,
  ) {}

  /** True when greedy decoding runs KV-cached through the export's step decoder (with past / merged). */
  get cached(): boolean {
    return this.stepDecoder !== undefined;
  }

  /** True when every graph runs in per-layer stages (layers stream); false when one runs in a single piece. */
  get streaming(): boolean {
    return this.parts.every((p) => p.streaming);
  }

  /** True when every graph takes a batch of rows in one call per piece (forward); false: rows run one by one. */
  get batched(): boolean {
    return this.parts.every((p) => p.batched);
  }

  /** Why a graph runs in one piece (its split failed), when one does. */
  get notStreamingWhy(): string | undefined {
    return this.parts.map((p) => p.notStreamingWhy).find((w) => w !== undefined);
  }

  /** Stage sessions per graph (encoder first). */
  get stageCounts(): number[] {
    return this.parts.map((p) => p.stageCount);
  }

  /** How many stage sessions have run since load, probe excluded (it tells a test when each layer arrived). */
  get stageRuns(): number {
    return this.stageRunCount;
  }

  static async create(
    layout: OnnxLayout,
    backend: BackendName,
    threads: number,
    onProgress?: ImportProgress,
  ): Promise<ImportEngine> {
    const info = readConfigInfo(layout.dir);
    const { model, step } = decoderGraphs(layout);
    const files: (string | ReadGraph)[] = layout.encoder ? [layout.encoder, model] : [model];
    const roles: Role[] = files.map((_, i) => (i < files.length - 1 ? 'encoder' : 'model'));
    const configVocab = info.config?.vocabSize ?? configInt(info.raw, ['vocab_size', 'n_vocab']);
    const probeIds = (n: number, vocab: number | undefined) =>
      Array.from({ length: n }, (_, i) => (vocab ? (i + 1) % vocab : i + 1));
    // An encoder–decoder export that layoutEncoderDecoder will lay out (config.json names the decoder's start and
    // eos ids) is served by inspector/import-seq2seq.ts, which hands each pass's layers on together.
    const isId = (x: unknown) => Number.isSafeInteger(x);
    const servedAsSeq2Seq =
      layout.encoder !== undefined && isId(info.raw?.decoder_start_token_id) && isId(info.raw?.eos_token_id);
    const parts: ImportedPart[] = [];
    const probes: PartProbe[] = [];
    const lengths: number[] = [];
    let vocab = configVocab;
    let stepDecoder: StepDecoder | undefined;
    try {
      for (const [p, file] of files.entries()) {
        onProgress?.('reading-weights');
        const seq = roles[p] === 'encoder' || files.length === 1 ? PROBE_ENCODER : PROBE_MODEL;
        const encoder = p > 0 ? probes[p - 1] : undefined;
        const { part, probe } = await ImportedPart.open(file, {
          planFeeds: info.config !== undefined,
          whole: servedAsSeq2Seq
            ? 'an encoder–decoder export runs each graph whole (its layers are handed on after each pass)'
            : undefined,
          backend,
          threads,
          probeFeeds: (inputs, graphVocab, i, rows) => {
            vocab ??= graphVocab;
            const batch = oneRow(probeIds(seq[i], vocab), rows);
            const encoderHidden = repeatRow(i === 0 ? encoder?.hidden : encoder?.hiddenB, rows);
            return buildFeeds(inputs, batch, { encoderHidden, plan: planFeeds(info, batch) }, graphLabel(file));
          },
          lengths: { seq, encoderSeq: encoder ? PROBE_ENCODER : undefined },
          onSession: (done, total) => onProgress?.('creating-sessions', (p + done / total) / files.length),
        });
        parts.push(part);
        probes.push(probe);
        lengths.push(seq[0]);
        if (roles[p] === 'encoder' && !probe.hidden)
          throw new LensError(
            'UNSUPPORTED_MODEL',
            `${part.label} has no last_hidden_state output to feed ${graphLabel(files[p + 1])}; re-export the encoder.`,
          );
      }
      const { facts, slots } = describe(parts, roles, probes, lengths, info, vocab);
      if (layout.encoder) layoutEncoderDecoder(facts, slots, parts[0].tapCount, info);
      if (step && facts.encoderDecoder) {
        onProgress?.('reading-weights');
        stepDecoder = await StepDecoder.open(step, {
          backend,
          threads,
          planFeeds: info.config !== undefined,
          first: parts[1],
          firstSlots: slots.slice(parts[0].tapCount),
          encoderProbe: probes[0],
          encoderLengths: PROBE_ENCODER,
          vocabSize: facts.vocabSize,
        });
      }
      const generation = readFolderGeneration(layout.dir, info.raw);
      return new ImportEngine(facts, backend, parts, roles, slots, info, generation, stepDecoder);
    } catch (e) {
      await Promise.allSettled([...parts.map((p) => p.release()), stepDecoder?.release()]);
      throw e;
    }
  }

  async run(ids: number[], options: EngineRunOptions): Promise<EngineRunResult> {
    if (this.parts.length === 0) throw new LensError('DISPOSED', 'The model was unloaded; load it again.');
    if (options.isCancelled?.()) throw cancelled();
    const S = ids.length;
    const stageMs: number[] = [];
    let encoderHidden: FeedTensor | undefined;
    let lastHidden: Float32Array | undefined;
    let offset = 0;
    const batch = oneRow(ids);
    for (const [p, part] of this.parts.entries()) {
      const ctx: FeedContext = { encoderHidden, plan: planFeeds(this.info, batch), causal: this.causal(offset, part) };
      const feeds = buildFeeds(part.inputs, batch, ctx, part.label);
      const first = offset;
      const result = await part.run(feeds, {
        isCancelled: options.isCancelled,
        onStage: () => void this.stageRunCount++,
        onTap: async (tap, t, finite) => {
          if (options.isCancelled?.()) throw cancelled();
          options.onLayer(this.layer(first + tap, t, S, finite));
          if (options.pause) await options.pause();
        },
      });
      stageMs.push(...result.ms);
      offset += part.tapCount;
      if (result.hidden) {
        // [1, S, E]
        if (this.roles[p] === 'encoder') encoderHidden = asFeed(result.hidden);
        lastHidden = result.hidden.data;
      }
    }
    return { lastHidden: lastHidden ?? new Float32Array(0), stageMs };
  }

  /**
   * A tap's tensor ([1,H,Q,K] or [H,Q,K]) as the layer's attention, checked against what the probe found and
   * scanned for NaN / ±Infinity unless the graph's own sum of the taps already showed every value `finite`.
   */
  private layer(
    layer: number,
    t: OutputTensor,
    S: number,
    finite = false,
    as?: { kind: AttentionKind; layer: number; stackLayer: number },
  ): LayerAttention {
    const slot = this.slots[layer];
    const dims = t.dims;
    const Q = dims[dims.length - 2];
    const K = dims[dims.length - 1];
    if (Q !== S || t.data.length !== slot.heads * Q * K)
      throw new LensError(
        'INFERENCE_FAILED',
        `Layer ${layer} of the imported model returned attention of shape [${t.dims.join(', ')}] for ${S} tokens.`,
      );
    const attention: LayerAttention = {
      layer,
      kind: slot.kind,
      heads: slot.heads,
      queryLength: Q,
      keyLength: K,
      data: t.data, // [heads, query, key]
    };
    if (!finite) checkAttentionFinite(attention); // NaN / ±Infinity stop the run here, naming the tap and head
    // An encoder–decoder pass relabels its entries in place (one object a layer, no spread copy).
    if (as) {
      attention.kind = as.kind;
      attention.layer = as.layer;
      attention.stackLayer = as.stackLayer;
    }
    return attention;
  }

  /** The kinds of the layers of the part whose taps start at `first`. */
  private kinds(first: number, part: ImportedPart): AttentionKind[] {
    return this.slots.slice(first, first + part.tapCount).map((s) => s.kind);
  }

  /** Whether a part has causal layers (its position ids then count real tokens, as the family feeds do). */
  private causal(first: number, part: ImportedPart): boolean {
    return this.kinds(first, part).includes('causal');
  }

  /**
   * Encoder–decoder exports (facts.encoderDecoder): runs the encoder graph on the source ids; its layers as
   * 'encoder' entries and its last_hidden_state [1,S,E] for the decoder.
   */
  async encode(ids: number[], isCancelled?: () => boolean, taps = true): Promise<EncodedImport> {
    const [encoder] = this.encoderDecoderParts();
    const S = ids.length;
    const batch = oneRow(ids);
    const layers: LayerAttention[] = [];
    const feeds = buildFeeds(encoder.inputs, batch, {}, encoder.label);
    const result = await encoder.run(feeds, {
      isCancelled,
      onStage: () => void this.stageRunCount++,
      onTap: taps
        ? (tap, t, finite) => {
            if (isCancelled?.()) throw cancelled();
            layers.push(this.layer(tap, t, S, finite, { kind: 'encoder', layer: tap, stackLayer: tap }));
          }
        : undefined,
    });
    const hidden = asFeed(result.hidden); // [1,S,E]
    if (!hidden) throw new LensError('INFERENCE_FAILED', `${encoder.label} returned no last_hidden_state.`);
    return { ids, layers, hidden, ms: result.ms };
  }

  /**
   * Encoder–decoder exports: one pass of the decoder graph over decoder inputs of length T (no key/value cache: a
   * greedy step re-runs the whole prefix). Its causal self-attention layers and cross-attention layers in decoder
   * layer order, and its logits [T, V].
   */
  async decode(
    enc: EncodedImport,
    decoderIds: number[],
    isCancelled?: () => boolean,
    cache = false,
    taps = true,
  ): Promise<DecodedImport> {
    const [encoder, decoder] = this.encoderDecoderParts();
    const T = decoderIds.length;
    const first = encoder.tapCount;
    const self: LayerAttention[] = [];
    const cross: LayerAttention[] = [];
    const feeds = buildFeeds(
      decoder.inputs,
      oneRow(decoderIds),
      { encoderHidden: enc.hidden, causal: true },
      decoder.label,
    );
    const step = cache ? this.stepDecoder : undefined;
    const result = await decoder.run(feeds, {
      isCancelled,
      outputs: ['logits', ...(step?.firstOutputs ?? [])],
      hidden: false, // the decoder's last hidden state is not read (its logits are)
      onStage: () => void this.stageRunCount++,
      onTap: taps
        ? (tap, t, finite) => {
            if (isCancelled?.()) throw cancelled();
            const isCross = this.slots[first + tap].kind === 'cross';
            const list = isCross ? cross : self;
            const at = list.length;
            const as = { kind: isCross ? ('cross' as const) : ('decoder' as const), layer: at, stackLayer: at };
            list.push(this.layer(first + tap, t, T, finite, as));
          }
        : undefined,
    });
    const logits = result.outputs.logits; // [1,T,V]
    if (!logits) throw new LensError('INFERENCE_FAILED', `${decoder.label} returned no logits.`);
    if (logits.data.length !== T * this.facts.vocabSize)
      throw new LensError(
        'UNSUPPORTED_MODEL',
        `${decoder.label} returned logits of shape [${logits.dims.join(', ')}] for ${T} tokens; config.json's ` +
          `vocab_size is ${this.facts.vocabSize}.`,
      );
    checkOutputFinite('logits', logits.data, this.facts.vocabSize);
    const out: DecodedImport = { self, cross, logits: logits.data, ms: result.ms };
    if (step) out.cache = step.startCache(result.outputs);
    return out;
  }

  /**
   * Encoder–decoder exports with a key/value cache: one greedy step on token `id` at decoder position `position`
   * after the cached ones (the cache from decode(..., cache: true), carried on in place): the new token's decoder
   * self- and cross-attention rows and its logits [V].
   */
  async step(
    enc: EncodedImport,
    cache: KvCache,
    id: number,
    position: number,
    isCancelled?: () => boolean,
  ): Promise<StepResult> {
    this.encoderDecoderParts();
    if (!this.stepDecoder)
      throw new LensError('UNSUPPORTED_MODEL', 'This ONNX export has no key/value-cached step decoder.');
    return this.stepDecoder.run(cache, id, position, enc.hidden, { isCancelled, onStage: () => this.stageRunCount++ });
  }

  /**
   * Encoder–decoder exports with a key/value cache, beam search: one step of hypotheses of one length, token ids[b]
   * after caches[b], at decoder position `position` (step-decoder.ts runRows: the rows of one call where the export
   * takes a batch). Per row its logits [V] and its new cache; the given caches are not changed.
   */
  async stepRows(
    enc: EncodedImport,
    caches: KvCache[],
    ids: number[],
    position: number,
    isCancelled?: () => boolean,
  ): Promise<{ logits: Float32Array; cache: KvCache }[]> {
    this.encoderDecoderParts();
    if (!this.stepDecoder)
      throw new LensError('UNSUPPORTED_MODEL', 'This ONNX export has no key/value-cached step decoder.');
    return this.stepDecoder.runRows(caches, ids, position, enc.hidden, {
      isCancelled,
      onStage: () => this.stageRunCount++,
    });
  }

  /** True when beams step as the rows of one call (the export's step decoder takes a batch). */
  get batchedBeams(): boolean {
    return this.stepDecoder?.batchable ?? false;
  }

  private encoderDecoderParts(): [ImportedPart, ImportedPart] {
    if (this.parts.length === 0) throw new LensError('DISPOSED', 'The model was unloaded; load it again.');
    if (!this.facts.encoderDecoder || this.parts.length !== 2)
      throw new LensError('UNSUPPORTED_MODEL', 'This ONNX export is not an encoder–decoder pair.');
    return [this.parts[0], this.parts[1]];
  }

  /**
   * Runs a padded batch through every piece (one session call per piece for all rows, or row by row for a graph
   * that takes one row) and reads the head as asked: StageEngine.forward's contract. Norms are refused: an export
   * does not say which tensors are the value vectors.
   */
  async forward(batch: Batch, options: EngineForwardOptions): Promise<ForwardResult> {
    if (this.parts.length === 0) throw new LensError('DISPOSED', 'The model was unloaded; load it again.');
    if (options.norms === true || (Array.isArray(options.norms) && options.norms.length > 0))
      throw new LensError('UNSUPPORTED_MODEL', NORMS_REFUSED);
    // Explain's passes on an encoder–decoder export: each source encoded, the decoder teacher-forced on the target,
    // fetching only what the pass reads (the hidden state, the logits), not the attention taps.
    if (this.facts.encoderDecoder) {
      const { isCancelled } = options;
      return targetLogprobRows(batch, options, this.facts, async (ids, read) => {
        const enc = await this.encode(ids, isCancelled, false);
        return (await this.decode(enc, [...read.decoderInput], isCancelled, false, false)).logits;
      });
    }
    const { read } = options;
    const [B, S] = checkRows(batch, this.facts);
    const last = this.parts[this.parts.length - 1];
    checkRead(read, B, S, last, last.hasHidden);
    const plan = planFeeds(this.info, batch); // the family's feeds for this batch (Attention Lens exports)
    const attention: Float32Array[] = [];
    const stageMs: number[] = [];
    let encoderHidden: FeedTensor | undefined; // [B,S_enc,E]
    let offset = 0;
    let result: PartRunResult | undefined;
    for (const part of this.parts) {
      checkMaskable(part, this.kinds(offset, part), batch.mask);
      const ctx: FeedContext = { encoderHidden, encoderMask: batch.mask, plan, causal: this.causal(offset, part) };
      const feeds = buildFeeds(part.inputs, batch, ctx, part.label);
      const first = offset;
      result = await runRows(part, feeds, B, {
        isCancelled: options.isCancelled,
        onStage: async () => {
          this.stageRunCount++;
          if (options.pause) await options.pause();
        },
        outputs: part === last && read.kind === 'logits' ? ['logits'] : [],
        // The taps are fetched only when the maps are asked for (a pass that reads the head alone skips them).
        onTap: options.attention
          ? (tap, t) => void (attention[first + tap] = this.batchLayer(first + tap, t, B, S)) // [B,H,S,K]
          : undefined,
      });
      stageMs.push(...result.ms);
      offset += part.tapCount;
      if (part !== last) encoderHidden = asFeed(result.hidden); // [B,S_enc,E]
    }
    const { head, width } = readHead(read, batch, result!);
    checkOutputFinite(read.kind === 'logits' ? 'logits' : 'hidden states', head, Math.max(1, width));
    const out: ForwardResult = { rows: B, seq: S, head, width, stageMs };
    if (options.attention) out.attention = attention;
    return out;
  }

  /** A tap's tensor for a batch ([B,H,Q,K] or [B·H,Q,K]) as one layer's [B,H,Q,K], checked against the probe. */
  private batchLayer(layer: number, t: OutputTensor, B: number, S: number): Float32Array {
    const heads = this.slots[layer].heads;
    const [Q, K] = t.dims.slice(-2);
    const lead = t.dims.length === 4 ? t.dims[0] === B && t.dims[1] === heads : t.dims[0] === B * heads;
    if (Q !== S || !lead || t.data.length !== B * heads * Q * K)
      throw new LensError(
        'INFERENCE_FAILED',
        `Layer ${layer} of the imported model returned attention of shape [${t.dims.join(', ')}] for ${B} rows of ${S} tokens.`,
      );
    const per = heads * Q * K;
    for (let b = 0; b < B; b++)
      checkAttentionFinite({
        layer,
        kind: this.slots[layer].kind,
        heads,
        queryLength: Q,
        keyLength: K,
        data: t.data.subarray(b * per, (b + 1) * per), // [heads, query, key] of row b
      });
    return t.data; // [B,H,Q,K]
  }

  async release(): Promise<void> {
    const parts = this.parts;
    const step = this.stepDecoder;
    this.parts = [];
    this.stepDecoder = undefined;
    await Promise.allSettled([...parts.map((p) => p.release()), step?.release()]);
  }
}

function graphLabel(file: string | ReadGraph): string {
  return typeof file === 'string' ? (file.split(/[\\/]/).pop() ?? file) : file.label;
}

/**
 * The decoder graph to run (a file, or the no-cache branch of a merged decoder) and the step decoder, when the
 * export has one (decoder_with_past_model.onnx, or the merged decoder's cache branch). A merged decoder or a step
 * decoder opens only with its encoder.
 */
function decoderGraphs(layout: OnnxLayout): { model: string | ReadGraph; step?: ReadGraph } {
  const label = graphLabel(layout.model);
  const onnx = readOnnxFile(layout.model);
  if (isMergedDecoder(onnx.graph)) {
    if (!layout.encoder)
      throw new LensError(
        'UNSUPPORTED_MODEL',
        `${label} is a merged decoder with a key/value cache (it takes ${USE_CACHE_BRANCH}); it opens only with its ` +
          'encoder: open the folder that holds encoder_model.onnx beside it, or export without the cache ' +
          '(`optimum-cli export onnx --task text-generation`, not -with-past).',
      );
    const split = splitMergedDecoder(onnx, label);
    return {
      model: { onnx: split.noCache, label: `${label} (no-cache branch)` },
      step: { onnx: split.withCache, label: `${label} (cache branch)` },
    };
  }
  const model = { onnx, label };
  if (!layout.step) return { model };
  if (!layout.encoder)
    throw new LensError('UNSUPPORTED_MODEL', `${graphLabel(layout.step)} opens only with its encoder_model.onnx.`);
  if (!onnx.graph.output?.some((o) => o.name?.startsWith(PRESENT_PREFIX)))
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `${label} gives no ${PRESENT_PREFIX}* outputs to start ${graphLabel(layout.step)}'s key/value cache; export ` +
        'both decoders together (`optimum-cli export onnx --task text2text-generation-with-past`).',
    );
  return { model, step: { onnx: readOnnxFile(layout.step), label: graphLabel(layout.step) } };
}

/** The family's per-run feeds for graphs Attention Lens exported (config.json with a supported model_type). */
function planFeeds(info: ConfigInfo, batch: Batch): StageFeeds | undefined {
  return info.config ? computeFeeds(batch, info.config) : undefined;
}

function asFeed(t: OutputTensor | undefined): FeedTensor | undefined {
  return t ? { type: 'float32', dims: t.dims, data: t.data } : undefined;
}

/** Row 0 of a [B,S,E] probe output repeated `rows` times (the probe's rows are identical). */
function repeatRow(t: OutputTensor | undefined, rows: number): FeedTensor | undefined {
  if (!t) return undefined;
  const n = t.data.length / t.dims[0];
  const data = new Float32Array(n * rows); // [rows,S,E]
  for (let r = 0; r < rows; r++) data.set(t.data.subarray(0, n), r * n);
  return { type: 'float32', dims: [rows, ...t.dims.slice(1)], data };
}

/** Each layer's heads and kind from the probe's taps, and the model's facts. */
function describe(
  parts: ImportedPart[],
  roles: Role[],
  probes: PartProbe[],
  lengths: number[],
  info: ConfigInfo,
  vocab: number | undefined,
): { facts: PlanFacts; slots: LayerSlot[] } {
  const encoderLength = roles[0] === 'encoder' ? lengths[0] : undefined;
  const slots: LayerSlot[] = [];
  parts.forEach((part, p) => {
    const queries = lengths[p];
    for (const t of probes[p].taps) {
      const rank = t.dims.length;
      const [Q, K] = t.dims.slice(-2);
      const heads = rank === 4 ? t.dims[1] : rank === 3 ? t.dims[0] : 0;
      if ((rank !== 3 && rank !== 4) || (rank === 4 && t.dims[0] !== 1) || Q !== queries || heads < 1) {
        throw new LensError(
          'UNSUPPORTED_MODEL',
          `${part.label}: an attention Softmax has shape [${t.dims.join(', ')}] for ${queries} tokens; expected [1, heads, ${queries}, keys].`,
        );
      }
      const kind: AttentionKind =
        roles[p] === 'model' && encoderLength !== undefined && K === encoderLength && K !== Q
          ? 'cross'
          : K === Q && isCausal(t.data, heads, Q)
            ? 'causal'
            : 'self';
      slots.push({ kind, heads });
    }
  });
  const last = parts[parts.length - 1];
  const hiddenOut = probes[probes.length - 1].hidden;
  const hidden =
    hiddenOut?.dims[hiddenOut.dims.length - 1] ??
    info.config?.hidden ??
    configInt(info.raw, ['hidden_size', 'd_model', 'n_embd', 'dim']) ??
    0;
  const heads = Math.max(...slots.map((s) => s.heads));
  const facts: PlanFacts = {
    family: 'onnx',
    modelType: typeof info.raw?.model_type === 'string' ? info.raw.model_type : 'onnx',
    layers: slots.length,
    heads,
    kvHeads: info.config?.kvHeads ?? heads,
    headDim: info.config?.headDim ?? (hidden > 0 && hidden % heads === 0 ? hidden / heads : 0),
    hidden,
    vocabSize: vocab ?? 0x7fffffff,
    maxPositions:
      info.config?.maxPositions ??
      configInt(info.raw, ['max_position_embeddings', 'n_positions', 'n_ctx', 'max_seq_len', 'seq_length']) ??
      512,
    attentionKinds: slots.map((s) => s.kind),
    hasLmHead: last.outputs.includes('logits'),
  };
  return { facts, slots };
}

/**
 * An encoder–decoder export whose config.json names decoder_start_token_id and eos_token_id (optimum's
 * encoder_model.onnx + decoder_model.onnx of marian, bart, t5...): its entries take ModelFacts.encoderDecoder's
 * layout (encoder, decoder self, cross), and runs feed the decoder a target (runtime/onnx/seq2seq-import.ts).
 * Without those ids the export keeps the probe's kinds (self, causal, cross in graph order) and a run feeds the
 * source ids to both graphs.
 */
function layoutEncoderDecoder(facts: PlanFacts, slots: LayerSlot[], encoderTaps: number, info: ConfigInfo): void {
  const start = info.raw?.decoder_start_token_id;
  const eos = info.raw?.eos_token_id;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(eos)) return;
  const decoderSlots = slots.slice(encoderTaps);
  const self = decoderSlots.filter((s) => s.kind === 'causal').length;
  const cross = decoderSlots.filter((s) => s.kind === 'cross').length;
  if (
    slots.slice(0, encoderTaps).some((s) => s.kind !== 'self') ||
    self !== cross ||
    self + cross !== decoderSlots.length
  )
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `The encoder–decoder export has ${self} causal self-attention and ${cross} cross-attention layers in its decoder; ` +
        'expected one of each per decoder layer (and only self-attention in the encoder).',
    );
  facts.attentionKinds = [
    ...Array.from({ length: encoderTaps }, () => 'encoder' as const),
    ...Array.from({ length: self }, () => 'decoder' as const),
    ...Array.from({ length: cross }, () => 'cross' as const),
  ];
  facts.encoderDecoder = {
    encoderLayers: encoderTaps,
    decoderLayers: self,
    decoderStartTokenId: start as number,
    eosTokenId: eos as number,
    ...(info.raw?.model_type === 'mbart' ? { shiftsLastLabel: true as const } : {}),
  };
}

/** True when every key after its query has (numerically) zero probability in every head. */
function isCausal(data: Float32Array, heads: number, n: number): boolean {
  if (n < 2) return false;
  for (let h = 0; h < heads; h++)
    for (let q = 0; q < n; q++)
      for (let k = q + 1; k < n; k++) if (data[(h * n + q) * n + k] > MASKED_MAX) return false;
  return true;
}
