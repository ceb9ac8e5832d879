// Runs an imported ONNX export through the same contract as the family graphs (runtime/inspector/engine.ts): each
// graph (the encoder first for encoder-decoder exports) runs as a sequence of per-layer stage sessions (part.ts),
// and each layer's attention is handed on the moment its stage has run, with a pause after it so a cancel can land
// before the next stage. A graph that cannot be split runs in one session and its layers are handed on after it,
// with the same numbers. At load, a probe run on a few tokens fixes what the graph does not say: heads per layer,
// and whether each layer is self, causal (every key after the query gets exactly 0) or cross attention (its keys
// are the encoder's positions).
import type { OutputTensor } from '../backend/ort';
import { cancelled, LensError } from '../errors';
import { computeFeeds } from '../models/feeds';
import type { Batch, FeedTensor, PlanFacts, StageFeeds } from '../models/plan';
import type { AttentionKind, BackendName, LayerAttention } from '../types';
import type { EngineForwardOptions, EngineRunOptions, EngineRunResult } from '../inspector/engine';
import type { ForwardResult } from '../inspector/api';
import { buildFeeds, type FeedContext } from './feeds';
import type { OnnxLayout } from './locate';
import { configInt, readConfigInfo, type ConfigInfo } from './model-info';
import { ImportedPart, type PartProbe } from './part';

type Role = 'encoder' | 'model';

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
  ) {}

  /** True when every graph runs in per-layer stages (layers stream); false when one runs in a single piece. */
  get streaming(): boolean {
    return this.parts.every((p) => p.streaming);
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
    const files = layout.encoder ? [layout.encoder, layout.model] : [layout.model];
    const roles: Role[] = files.map((_, i) => (i < files.length - 1 ? 'encoder' : 'model'));
    const configVocab = info.config?.vocabSize ?? configInt(info.raw, ['vocab_size', 'n_vocab']);
    const probeIds = (n: number, vocab: number | undefined) =>
      Array.from({ length: n }, (_, i) => (vocab ? (i + 1) % vocab : i + 1));
    const parts: ImportedPart[] = [];
    const probes: PartProbe[] = [];
    const lengths: number[] = [];
    let vocab = configVocab;
    try {
      for (const [p, file] of files.entries()) {
        onProgress?.('reading-weights');
        const seq = roles[p] === 'encoder' || files.length === 1 ? PROBE_ENCODER : PROBE_MODEL;
        const encoder = p > 0 ? probes[p - 1] : undefined;
        const { part, probe } = await ImportedPart.open(file, {
          planFeeds: info.config !== undefined,
          backend,
          threads,
          probeFeeds: (inputs, graphVocab, i) => {
            vocab ??= graphVocab;
            const ids = probeIds(seq[i], vocab);
            const encoderHidden = asFeed(i === 0 ? encoder?.hidden : encoder?.hiddenB);
            return buildFeeds(inputs, ids, { encoderHidden, plan: planFeeds(info, ids) }, fileLabel(file));
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
            `${part.label} has no last_hidden_state output to feed ${fileLabel(files[p + 1])}; re-export the encoder.`,
          );
      }
      const { facts, slots } = describe(parts, roles, probes, lengths, info, vocab);
      return new ImportEngine(facts, backend, parts, roles, slots, info);
    } catch (e) {
      await Promise.allSettled(parts.map((p) => p.release()));
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
    for (const [p, part] of this.parts.entries()) {
      const ctx: FeedContext = { encoderHidden, plan: planFeeds(this.info, ids) };
      const feeds = buildFeeds(part.inputs, ids, ctx, part.label);
      const first = offset;
      const result = await part.run(feeds, {
        isCancelled: options.isCancelled,
        onStage: () => this.stageRunCount++,
        onTap: async (tap, t) => {
          if (options.isCancelled?.()) throw cancelled();
          options.onLayer(this.layer(first + tap, t, S));
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

  /** A tap's tensor ([1,H,Q,K] or [H,Q,K]) as the layer's attention, checked against what the probe found. */
  private layer(layer: number, t: OutputTensor, S: number): LayerAttention {
    const slot = this.slots[layer];
    const [Q, K] = t.dims.slice(-2);
    if (Q !== S || t.data.length !== slot.heads * Q * K)
      throw new LensError(
        'INFERENCE_FAILED',
        `Layer ${layer} of the imported model returned attention of shape [${t.dims.join(', ')}] for ${S} tokens.`,
      );
    return {
      layer,
      kind: slot.kind,
      heads: slot.heads,
      queryLength: Q,
      keyLength: K,
      data: t.data, // [heads, query, key]
    };
  }

  /** Batched re-runs on changed inputs (perturbation explanations) are not implemented for imported graphs. */
  async forward(_batch: Batch, _options: EngineForwardOptions): Promise<ForwardResult> {
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `${this.parts[0]?.label ?? 'This model'} is an imported ONNX export; explanations that re-run the model on ` +
        'changed inputs need the Hugging Face folder (config.json + model.safetensors). Attention views work as usual.',
    );
  }

  async release(): Promise<void> {
    const parts = this.parts;
    this.parts = [];
    await Promise.allSettled(parts.map((p) => p.release()));
  }
}

function fileLabel(file: string): string {
  return file.split(/[\\/]/).pop() ?? file;
}

/** The family's per-run feeds for graphs Attention Lens exported (config.json with a supported model_type). */
function planFeeds(info: ConfigInfo, ids: number[]): StageFeeds | undefined {
  return info.config ? computeFeeds({ ids: [ids], mask: [ids.map(() => 1)] }, info.config) : undefined;
}

function asFeed(t: OutputTensor | undefined): FeedTensor | undefined {
  return t ? { type: 'float32', dims: t.dims, data: t.data } : undefined;
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

/** True when every key after its query has (numerically) zero probability in every head. */
function isCausal(data: Float32Array, heads: number, n: number): boolean {
  if (n < 2) return false;
  for (let h = 0; h < heads; h++)
    for (let q = 0; q < n; q++)
      for (let k = q + 1; k < n; k++) if (data[(h * n + q) * n + k] > MASKED_MAX) return false;
  return true;
}
