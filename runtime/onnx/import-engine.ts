// Runs an imported ONNX export through the same contract as the family graphs (runtime/inspector/engine.ts): one
// session per graph (the encoder first for encoder-decoder exports) whose outputs include every tapped attention
// Softmax. Streaming is per run, not per layer: the session computes all layers at once, then the layers are handed
// on in order, with a pause between them so a cancel can land. At load, a probe run on a few tokens fixes what the
// graph does not say: heads per layer, and whether each layer is self, causal (every key after the query gets exactly
// 0) or cross attention (its keys are the encoder's positions).
import { createSession, type OutputTensor, type Session } from '../backend/ort';
import { cancelled, LensError } from '../errors';
import { computeFeeds } from '../models/feeds';
import type { Batch, FeedTensor, PlanFacts, StageFeeds } from '../models/plan';
import type { AttentionKind, BackendName, LayerAttention } from '../types';
import type { EngineForwardOptions, EngineRunOptions, EngineRunResult } from '../inspector/engine';
import type { ForwardResult } from '../inspector/api';
import { buildFeeds } from './feeds';
import type { OnnxLayout } from './locate';
import { configInt, readConfigInfo, type ConfigInfo } from './model-info';
import { prepareGraph, type PreparedGraph } from './prepare';

interface Part extends PreparedGraph {
  session: Session;
  role: 'encoder' | 'model';
}

/** Where a layer's probabilities come from, and what the probe found. */
interface LayerSlot {
  part: number;
  output: string;
  kind: AttentionKind;
  heads: number;
}

/** Probe lengths: different for encoder and decoder, so cross attention shows as keys ≠ queries. */
const PROBE_ENCODER = 5;
const PROBE_MODEL = 3;
/** A probability at most this is taken as masked (exp of a -1e4 or lower bias underflows to 0 in float32). */
const MASKED_MAX = 1e-12;

export type ImportProgress = (phase: 'reading-weights' | 'building-graphs' | 'creating-sessions', f?: number) => void;

export class ImportEngine {
  private constructor(
    readonly facts: PlanFacts,
    readonly backend: BackendName,
    private parts: Part[],
    private readonly slots: LayerSlot[],
    private readonly info: ConfigInfo,
  ) {}

  static async create(
    layout: OnnxLayout,
    backend: BackendName,
    threads: number,
    onProgress?: ImportProgress,
  ): Promise<ImportEngine> {
    const info = readConfigInfo(layout.dir);
    const files = layout.encoder ? [layout.encoder, layout.model] : [layout.model];
    onProgress?.('reading-weights');
    const prepared = files.map((f) => prepareGraph(f, info.config !== undefined));
    onProgress?.('creating-sessions', 0);
    const parts: Part[] = [];
    try {
      for (const [i, p] of prepared.entries()) {
        const session = await createSession(p.bytes, { backend, threads });
        parts.push({ ...p, bytes: new Uint8Array(0), session, role: i < files.length - 1 ? 'encoder' : 'model' });
        onProgress?.('creating-sessions', parts.length / files.length);
      }
      if (parts.length === 2 && !parts[0].hidden)
        throw new LensError(
          'UNSUPPORTED_MODEL',
          `${parts[0].label} has no last_hidden_state output to feed ${parts[1].label}; re-export the encoder.`,
        );
      const { facts, slots } = await probe(parts, info);
      return new ImportEngine(facts, backend, parts, slots, info);
    } catch (e) {
      await Promise.allSettled(parts.map((p) => p.session.release()));
      throw e;
    }
  }

  async run(ids: number[], options: EngineRunOptions): Promise<EngineRunResult> {
    if (this.parts.length === 0) throw new LensError('DISPOSED', 'The model was unloaded; load it again.');
    if (options.isCancelled?.()) throw cancelled();
    const outputs = await runParts(this.parts, ids, this.info);
    const S = ids.length;
    for (const [layer, slot] of this.slots.entries()) {
      if (options.isCancelled?.()) throw cancelled();
      const t = outputs.taps[slot.part][slot.output];
      const [Q, K] = t.dims.slice(-2);
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
      options.onLayer(attention);
      if (options.pause) await options.pause();
    }
    return { lastHidden: outputs.lastHidden ?? new Float32Array(0), stageMs: outputs.stageMs };
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
    await Promise.allSettled(parts.map((p) => p.session.release()));
  }
}

interface PartsOutput {
  /** Per part: tap output name → tensor. */
  taps: Record<string, OutputTensor>[];
  /** [S, E] of the last part that has a hidden state. */
  lastHidden?: Float32Array;
  stageMs: number[];
}

/** Runs every part on ids (the decoder of an encoder-decoder export sees the same ids as the encoder). */
async function runParts(parts: Part[], ids: number[], info: ConfigInfo, encoderIds = ids): Promise<PartsOutput> {
  const result: PartsOutput = { taps: [], stageMs: [] };
  let encoderHidden: FeedTensor | undefined;
  for (const part of parts) {
    const partIds = part.role === 'encoder' ? encoderIds : ids;
    const plan: StageFeeds | undefined = info.config
      ? computeFeeds({ ids: [partIds], mask: [partIds.map(() => 1)] }, info.config)
      : undefined;
    const feeds = buildFeeds(part.inputs, partIds, { encoderHidden, plan }, part.label);
    const fetches = [...part.taps, ...(part.hidden ? [part.hidden] : [])];
    const t0 = performance.now();
    const out = await part.session.run(feeds, fetches);
    result.stageMs.push(performance.now() - t0);
    result.taps.push(out);
    if (part.hidden) {
      const h = out[part.hidden]; // [1, S, E]
      if (part.role === 'encoder') encoderHidden = { type: 'float32', dims: h.dims, data: h.data };
      result.lastHidden = h.data;
    }
  }
  return result;
}

/** Runs the model once on a few tokens to learn each layer's heads and kind, and the hidden size. */
async function probe(parts: Part[], info: ConfigInfo): Promise<{ facts: PlanFacts; slots: LayerSlot[] }> {
  const vocab =
    info.config?.vocabSize ??
    configInt(info.raw, ['vocab_size', 'n_vocab']) ??
    parts.map((p) => p.vocabSize).find((v) => v !== undefined);
  const probeIds = (n: number) => Array.from({ length: n }, (_, i) => (vocab ? (i + 1) % vocab : i + 1));
  const encoderIds = probeIds(PROBE_ENCODER);
  const ids = parts.length > 1 ? probeIds(PROBE_MODEL) : probeIds(PROBE_ENCODER);
  let out: PartsOutput;
  try {
    out = await runParts(parts, ids, info, encoderIds);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new LensError('UNSUPPORTED_MODEL', `The imported model did not run on a test input: ${why}`);
  }
  const slots: LayerSlot[] = [];
  parts.forEach((part, p) => {
    const queries = part.role === 'encoder' ? encoderIds.length : ids.length;
    for (const name of part.taps) {
      const t = out.taps[p][name];
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
        part.role === 'model' && parts.length > 1 && K === encoderIds.length && K !== Q
          ? 'cross'
          : K === Q && isCausal(t.data, heads, Q)
            ? 'causal'
            : 'self';
      slots.push({ part: p, output: name, kind, heads });
    }
  });
  const last = parts[parts.length - 1];
  const hiddenOut = last.hidden ? out.taps[parts.length - 1][last.hidden] : undefined;
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
