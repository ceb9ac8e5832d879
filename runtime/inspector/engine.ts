// Runs a GraphPlan stage by stage (embeddings, each layer, head) on one session per stage, handing each layer's
// attention to a callback as soon as its stage finishes. Independent of the thread it runs on: the worker wraps it
// with messaging, and tests drive it directly with toy plans. forward() runs a whole batch of rows per stage call
// (perturbation methods) and reads only what the caller needs from the head.
import { createSession, type OutputTensor, type Session } from '../backend/ort';
import type { BackendName, LayerAttention } from '../types';
import {
  layerOutputs,
  type Batch,
  type FeedTensor,
  type GraphPlan,
  type LayerExtras,
  type PlanFacts,
  type StageRole,
  VALUE_KEEP_INPUT,
} from '../models/plan';
import type { ForwardResult, HeadRead, MixingTensors } from './api';
import { cancelled, LensError } from '../errors';
import { MAX_INPUT_TOKENS } from './long-runs';
import { checkWasmHeap } from '../models/wasm-heap';
import { checkReadPositions } from '../models/feeds';
import { checkAttentionFinite, checkOutputFinite, firstNonFinite } from '../finite';
import {
  POOL,
  QUERY_ROWS_INPUT,
  queryRows,
  summaryNames,
  type LayerSummaryTensors,
} from '../models/attention-summaries';

interface ReadyStage {
  role: StageRole;
  layer?: number;
  layers?: number[];
  session: Session;
  inputNames: readonly string[];
  outputNames: readonly string[];
  /** Builds the layer's variant with q/k/v outputs; its session is created on first use and kept. */
  vectors?: () => Uint8Array;
  vectorSession?: Session;
  /** Builds a layer variant with extra outputs (norms); sessions created on first use and kept, by variant. */
  variant?: (extras: LayerExtras) => Uint8Array;
  variantSessions: Map<string, Session>;
  /** Builds the head on one position per row; its session is created on first use and kept. */
  gathered?: () => Uint8Array;
  gatheredSession?: Session;
  /** Stage.mapsReachHidden. */
  mapsReachHidden?: boolean;
  /** Bytes of the serialized graphs of this stage's sessions so far (their weights): the Wasm heap check's. */
  graphBytes: number;
  /** Bytes of the plain session's graph. */
  plainBytes: number;
}

export interface EngineForwardOptions {
  read: HeadRead;
  /** Fetch every layer's attention [B,H,S,S]. */
  attention?: boolean;
  /** Fetch value_gram [B,S,H,H] of every layer (true) or of the listed layers. */
  norms?: boolean | readonly number[];
  /** Run the mixing variant of every layer: its per-layer tensors (ALTI) and, with valueKeep, zeroed values;
   * 'outputs' fetches only each layer's output. */
  mixing?: boolean | 'outputs';
  /** With mixing: [B, layers, S], 1 keeps token j's value vectors in layer l of row b, 0 zeroes them (default 1). */
  valueKeep?: Float32Array;
  isCancelled?: () => boolean;
  pause?: () => Promise<void>;
}

export interface EngineRunOptions {
  /** Also fetch q and k: of every layer (true) or of the listed layers. */
  withVectors: boolean | readonly number[];
  /** Checked between stages; true stops the run with LensError CANCELLED. */
  isCancelled?: () => boolean;
  /** Awaited between stages so the host's event loop can deliver a cancel message. */
  pause?: () => Promise<void>;
  onLayer: (layer: LayerAttention, q?: Float32Array, k?: Float32Array) => void;
  /** Long inputs: run the layers' summaries variant; each layer's q, k and summaries go to onSummaries and its map
   * never leaves onnxruntime (onLayer is not called). */
  summaries?: {
    topK: number;
    specials: readonly number[];
    onSummaries: (s: LayerSummaryTensors) => void;
    /** Rows per query block (the benches and tests compare them; default queryRows(seq, heads)). */
    rows?: number;
    /** onnxruntime's CPU arena for the summaries sessions (bench only; default off: see variantSession). */
    arena?: boolean;
  };
}

export interface EngineRunResult {
  /** [query, hidden]. */
  lastHidden: Float32Array;
  /** Milliseconds per stage call, in order (a family plan: layer 0 with the embeddings .. layer L-1). */
  stageMs: number[];
}

export class StageEngine {
  private constructor(
    readonly facts: PlanFacts,
    readonly backend: BackendName,
    private readonly threads: number,
    private readonly feedsOf: GraphPlan['feeds'],
    private stages: ReadyStage[],
  ) {}

  /** Creates one session per stage. The plan's serialized graphs are not kept. */
  static async create(
    plan: GraphPlan,
    backend: BackendName,
    threads: number,
    onStage?: (done: number, total: number) => void,
  ): Promise<StageEngine> {
    const ready: ReadyStage[] = [];
    try {
      for (const stage of plan.stages) {
        const onnx = stage.onnx;
        const session = await createSession(onnx, { backend, threads });
        ready.push({
          role: stage.role,
          layer: stage.layer,
          layers: stage.layers,
          session,
          inputNames: stage.inputNames,
          outputNames: stage.outputNames,
          vectors: stage.vectors,
          variant: stage.variant,
          variantSessions: new Map(),
          gathered: stage.gathered,
          mapsReachHidden: stage.mapsReachHidden,
          graphBytes: onnx.byteLength,
          plainBytes: onnx.byteLength,
        });
        onStage?.(ready.length, plan.stages.length);
      }
    } catch (e) {
      await Promise.allSettled(ready.map((s) => s.session.release()));
      throw e;
    }
    const feeds = plan.feeds.bind(plan);
    return new StageEngine(plan.facts, backend, threads, feeds, ready);
  }

  async run(ids: number[], options: EngineRunOptions): Promise<EngineRunResult> {
    if (this.stages.length === 0) throw new LensError('DISPOSED', 'The model was unloaded; load it again.');
    const seq = ids.length;
    const { heads, headDim, hidden } = this.facts;
    const batch = { ids: [ids], mask: [ids.map(() => 1)] };
    const summaries = options.summaries;
    if (this.backend === 'wasm') this.checkHeap(seq, summaries !== undefined, options.withVectors !== false);
    // Long inputs: no n × n bias in JS (the blocked variant builds its mask in the graph); a family that computes
    // the map whole reads it from the full feeds, computed then.
    const perRun = this.feedsOf(batch, summaries ? { denseBias: false } : undefined);
    const shared = { ...perRun.embed, ...perRun.layer };
    let full: Record<string, FeedTensor> | undefined;
    const fullFeeds = () => (full ??= this.feedsOf(batch).layer);
    if (summaries) {
      const specials = new Float32Array(seq); // [S]
      for (const p of summaries.specials) if (p >= 0 && p < seq) specials[p] = 1;
      shared.top_k = { type: 'int64', dims: [1], data: BigInt64Array.of(BigInt(Math.min(summaries.topK, seq))) };
      shared.special_keys = { type: 'float32', dims: [seq], data: specials };
      const rows = summaries.rows ?? queryRows(seq, heads);
      shared[QUERY_ROWS_INPUT] = { type: 'int64', dims: [1], data: BigInt64Array.of(BigInt(rows)) };
    }
    const stageMs: number[] = [];
    const wantVectors = (layer: number) =>
      options.withVectors === true || (Array.isArray(options.withVectors) && options.withVectors.includes(layer));
    let hiddenState: FeedTensor | undefined;
    let lastHidden: Float32Array | undefined;

    for (const stage of this.stages) {
      if (options.isCancelled?.()) throw cancelled();
      // A plan whose last layer also gives last_hidden needs no head call.
      if (stage.role === 'head' && lastHidden) break;
      // The summaries variant's inputs are its own session's (no dense bias where it builds its mask).
      const feeds = stage.role === 'layer' && summaries ? {} : pick(stage.inputNames, shared, hiddenState);
      const t0 = performance.now();
      if (stage.role === 'embed') {
        const out = await stage.session.run(feeds, ['hidden']);
        hiddenState = asFeed(out.hidden); // [1, seq, hidden]
      } else if (stage.role === 'layer' && summaries) {
        // Query-row blocks in a Loop (every family builds them: bert, gpt2, the RoPE decoders): one session a layer
        // for every length and rows per block.
        const session = await this.variantSession(stage, { summaries: true, blocked: true }, summaries.arena === true);
        Object.assign(feeds, pick(session.inputNames, shared, hiddenState, fullFeeds));
        const final = stage.outputNames.includes('last_hidden');
        const names = layerOutputs(stage).map((n) => ({ n, s: summaryNames(n.attn.slice('attn'.length)) }));
        const fetches = ['hidden_out', ...names.flatMap(({ n, s }) => [n.q, n.k, ...Object.values(s)])];
        const out = await session.run(feeds, final ? [...fetches, 'last_hidden'] : fetches);
        hiddenState = asFeed(out.hidden_out); // [1, seq, hidden]
        if (final) {
          expectSize(out.last_hidden, seq * hidden, 'last_hidden');
          lastHidden = out.last_hidden.data; // [seq, hidden]
        }
        stageMs.push(performance.now() - t0);
        const topK = Math.min(summaries.topK, seq);
        const cells = Math.ceil(seq / POOL);
        // q, k and every summary reach hidden_out (a NaN or ±Infinity in them makes a row of scores, softmax,
        // context and so of the residual sum non-finite), so they are scanned only when hidden_out is not finite,
        // and then name the first bad one as always: one pass over S × E values instead of ~2× that.
        const scan = firstNonFinite(out.hidden_out.data) >= 0;
        for (const { n, s } of names) {
          expectSize(out[n.q], heads * seq * headDim, n.q);
          expectSize(out[n.k], this.facts.kvHeads * seq * headDim, n.k); // once per key/value head
          for (const name of [s.topWeights, s.topKeys]) expectSize(out[name], heads * seq * topK, name);
          for (const name of [s.entropy, s.special, s.keyMean, s.previous]) expectSize(out[name], heads * seq, name);
          for (const name of [s.blockMax, s.blockMean]) expectSize(out[name], heads * cells * cells, name);
          if (scan)
            for (const name of [n.q, n.k, ...Object.values(s)])
              checkOutputFinite(`layer ${n.layer}'s ${name}`, out[name].data, seq);
          summaries.onSummaries({
            layer: n.layer,
            q: out[n.q].data, // [heads, seq, headDim]
            k: out[n.k].data,
            topK,
            topWeights: out[s.topWeights].data, // [heads, seq, topK]
            topKeys: out[s.topKeys].data,
            entropy: out[s.entropy].data, // [heads, seq]
            special: out[s.special].data,
            keyMean: out[s.keyMean].data,
            previous: out[s.previous].data,
            cells,
            blockMax: out[s.blockMax].data, // [heads, cells, cells]
            blockMean: out[s.blockMean].data,
          });
        }
        if (options.pause) await options.pause();
        continue;
      } else if (stage.role === 'layer') {
        const names = layerOutputs(stage);
        const vectors = names.some((n) => wantVectors(n.layer));
        const session = vectors ? await this.vectorSession(stage) : stage.session;
        const final = stage.outputNames.includes('last_hidden');
        const fetches = [
          'hidden_out',
          ...names.map((n) => n.attn),
          ...(vectors ? names.flatMap((n) => [n.q, n.k]) : []),
          ...(final ? ['last_hidden'] : []),
        ];
        const out = await session.run(feeds, fetches);
        hiddenState = asFeed(out.hidden_out); // [1, seq, hidden]
        if (final) {
          expectSize(out.last_hidden, seq * hidden, 'last_hidden');
          lastHidden = out.last_hidden.data; // [seq, hidden]
        }
        stageMs.push(performance.now() - t0);
        // A family stage's maps reach its hidden_out (mapsReachHidden): their scan, a pass over every map, is needed
        // only when hidden_out is not finite, and then names the first bad layer, head, query and key as always.
        const scanMaps = stage.mapsReachHidden !== true || firstNonFinite(out.hidden_out.data) >= 0;
        for (const n of names) {
          const attn = out[n.attn]; // [1, heads, seq, seq]
          expectSize(attn, heads * seq * seq, n.attn);
          const attention: LayerAttention = {
            layer: n.layer,
            kind: this.facts.attentionKinds[n.layer] ?? 'self',
            heads,
            queryLength: seq,
            keyLength: seq,
            data: attn.data, // [heads, query, key]
          };
          // Stops the run at the first layer with NaN / ±Infinity, naming layer and head, before anyone sees it.
          if (scanMaps) checkAttentionFinite(attention);
          let q: Float32Array | undefined;
          let k: Float32Array | undefined;
          if (vectors && wantVectors(n.layer)) {
            expectSize(out[n.q], heads * seq * headDim, n.q);
            expectSize(out[n.k], heads * seq * headDim, n.k);
            q = out[n.q].data; // [heads, query, headDim]
            k = out[n.k].data; // [heads, key, headDim]
          }
          options.onLayer(attention, q, k);
        }
        if (options.pause) await options.pause();
        continue;
      } else {
        const out = await stage.session.run(feeds, ['last_hidden']);
        expectSize(out.last_hidden, seq * hidden, 'last_hidden');
        lastHidden = out.last_hidden.data; // [seq, hidden]
      }
      stageMs.push(performance.now() - t0);
    }
    if (!lastHidden)
      throw new LensError('INFERENCE_FAILED', 'The model plan gave no last hidden state (no head stage).');
    return { lastHidden, stageMs };
  }

  /** Runs a batch through every stage (one session call per stage for all rows) and reads the head as asked. */
  async forward(batch: Batch, options: EngineForwardOptions): Promise<ForwardResult> {
    if (this.stages.length === 0) throw new LensError('DISPOSED', 'The model was unloaded; load it again.');
    const perRun = this.feedsOf(batch); // checks the batch
    const shared = { ...perRun.embed, ...perRun.layer };
    const B = batch.ids.length;
    const S = batch.ids[0].length;
    const { read } = options;
    if (read.kind === 'logits' && !this.facts.hasLmHead)
      throw new LensError('BAD_INPUT', 'This model has no language-model head, so it gives no logits.');
    if (read.kind === 'target-logprobs')
      throw new LensError(
        'BAD_INPUT',
        `${this.facts.modelType} is not an encoder–decoder model; it has no target to score.`,
      );
    if (read.kind === 'logits' || read.kind === 'hidden') checkReadPositions(read.positions, B, S);
    const wantNorms = (layer: number) =>
      options.norms === true || (Array.isArray(options.norms) && options.norms.includes(layer));
    const stageMs: number[] = [];
    const attention: Float32Array[] = [];
    const grams: (Float32Array | undefined)[] = [];
    const mixing: MixingTensors[] = [];
    const L = this.facts.layers;
    if (options.valueKeep && options.valueKeep.length !== B * L * S)
      throw new RangeError(`valueKeep has ${options.valueKeep.length} values; expected ${B}×${L}×${S}`);
    const keepFeed: FeedTensor | undefined = options.mixing
      ? { type: 'float32', dims: [B, L, S], data: options.valueKeep ?? new Float32Array(B * L * S).fill(1) }
      : undefined;
    let hiddenState: FeedTensor | undefined;
    let lastHidden: Float32Array | undefined; // [B,S,E] from a last layer that gives it
    let head: Float32Array = new Float32Array(0);
    let width = 0;

    for (const stage of this.stages) {
      if (options.isCancelled?.()) throw cancelled();
      const feeds = pick(stage.inputNames, shared, hiddenState);
      const t0 = performance.now();
      if (stage.role === 'embed') {
        hiddenState = asFeed((await stage.session.run(feeds, ['hidden'])).hidden); // [B,S,E]
      } else if (stage.role === 'layer') {
        const names = layerOutputs(stage);
        const norms = names.some((n) => wantNorms(n.layer));
        const mix = options.mixing === true || options.mixing === 'outputs';
        const full = options.mixing === true;
        const session =
          norms || mix
            ? await this.variantSession(stage, { ...(norms ? { norms: true } : {}), ...(mix ? { mixing: true } : {}) })
            : stage.session;
        const final = read.kind === 'mean-hidden' && stage.outputNames.includes('last_hidden');
        const mixNames = mix
          ? names.flatMap((n) =>
              full
                ? [n.mixVectors, n.mixResid, n.mixSum, ...(session.outputNames.includes(n.mixNorm) ? [n.mixNorm] : [])]
                : [n.mixResid],
            )
          : [];
        const fetches = [
          'hidden_out',
          ...(options.attention ? names.map((n) => n.attn) : []),
          ...(norms ? names.map((n) => n.valueGram) : []),
          ...mixNames,
          ...(final ? ['last_hidden'] : []),
        ];
        if (keepFeed) feeds[VALUE_KEEP_INPUT] = keepFeed;
        const out = await session.run(feeds, fetches);
        hiddenState = asFeed(out.hidden_out); // [B,S,E]
        if (final) lastHidden = out.last_hidden.data;
        for (const n of names) {
          if (options.attention) {
            expectSize(out[n.attn], B * this.facts.heads * S * S, n.attn);
            checkBatchAttention(out[n.attn].data, n.layer, B, this.facts.heads, S, this.facts.attentionKinds);
            attention.push(out[n.attn].data); // [B,H,S,S]
          }
          const gram = norms && wantNorms(n.layer);
          if (gram) expectSize(out[n.valueGram], B * S * this.facts.heads * this.facts.heads, n.valueGram);
          grams.push(gram ? out[n.valueGram].data : undefined); // [B,S,H,H]
          if (mix) {
            const E = this.facts.hidden;
            const H = this.facts.heads;
            expectSize(out[n.mixResid], B * S * E, n.mixResid);
            if (full) {
              expectSize(out[n.mixVectors], B * S * H * E, n.mixVectors);
              expectSize(out[n.mixSum], B * S * E, n.mixSum);
            }
            const m: MixingTensors = {
              vectors: full ? out[n.mixVectors].data : new Float32Array(0), // [B,S,H,E]
              resid: out[n.mixResid].data, // [B,S,E]
              sum: full ? out[n.mixSum].data : new Float32Array(0), // [B,S,E]
            };
            if (out[n.mixNorm]) {
              expectSize(out[n.mixNorm], 3 * E, n.mixNorm);
              m.postNorm = out[n.mixNorm].data; // [3,E]: γ, β, ε
            }
            mixing.push(m);
          }
        }
      } else if ((read.kind === 'logits' || read.kind === 'hidden') && !stage.gathered) {
        // A plan without the gathered head: run the whole head and keep one position per row.
        const name = read.kind === 'logits' ? 'logits' : 'last_hidden';
        const all = (await stage.session.run(feeds, [name]))[name].data; // [B,S,width]
        width = all.length / (B * S);
        head = new Float32Array(B * width); // [B,width]
        read.positions.forEach((p, b) =>
          head.set(all.subarray((b * S + p) * width, (b * S + p + 1) * width), b * width),
        );
      } else if (read.kind === 'logits' || read.kind === 'hidden') {
        const session = await this.gatheredSession(stage);
        const select: FeedTensor = {
          type: 'int64',
          dims: [B],
          data: BigInt64Array.from(read.positions, (p) => BigInt(p)),
        };
        const name = read.kind === 'logits' ? 'logits_at' : 'hidden_at';
        const out = await session.run({ hidden: hiddenState!, select }, [name]);
        head = out[name].data; // [B,1,width]
        width = head.length / B;
      } else if (read.kind === 'mean-hidden') {
        const all = lastHidden ?? (await stage.session.run(feeds, ['last_hidden'])).last_hidden.data; // [B,S,E]
        width = this.facts.hidden;
        if (all.length !== B * S * width)
          throw new LensError(
            'INFERENCE_FAILED',
            `The last_hidden output has ${all.length} values; expected ${B * S * width}.`,
          );
        head = meanPool(all, batch.mask, width); // [B,E]
      }
      stageMs.push(performance.now() - t0);
      if (options.pause && stage.role !== 'head') await options.pause();
    }
    checkOutputFinite(read.kind === 'logits' ? 'logits' : 'hidden states', head, Math.max(1, width));
    const result: ForwardResult = { rows: B, seq: S, head, width, stageMs };
    if (options.attention) result.attention = attention;
    if (options.norms) result.grams = grams;
    if (options.mixing) {
      // Each layer's output: the next layer's residual input, and the last stage's hidden_out for the last layer.
      if (mixing.length !== L)
        throw new LensError('INFERENCE_FAILED', `The mixing variant gave ${mixing.length} layers.`);
      mixing.forEach((m, l) => (m.out = l + 1 < L ? mixing[l + 1].resid : (hiddenState!.data as Float32Array)));
      result.mixing = mixing;
    }
    return result;
  }

  /** The session of a layer variant with extra outputs, created on first use. */
  private async variantSession(stage: ReadyStage, extras: LayerExtras, arena = false): Promise<Session> {
    const key = `${extras.vectors ? 'v' : ''}${extras.norms ? 'n' : ''}${extras.mixing ? 'm' : ''}${extras.summaries ? `s${extras.blocked ? 'b' : ''}${arena ? 'a' : ''}` : ''}`;
    const hit = stage.variantSessions.get(key);
    if (hit) return hit;
    if (!stage.variant) throw new LensError('INFERENCE_FAILED', 'This model does not expose value-vector norms.');
    // The summaries variant is for long inputs: no arena, so that no layer session keeps its n² peak.
    const onnx = stage.variant(extras);
    const session = await createSession(onnx, {
      backend: this.backend,
      threads: this.threads,
      memArena: extras.summaries !== true || arena,
    });
    stage.variantSessions.set(key, session);
    stage.graphBytes += onnx.byteLength;
    return session;
  }

  /** The session of the head on one position per row, created on first use. */
  private async gatheredSession(stage: ReadyStage): Promise<Session> {
    if (stage.gatheredSession) return stage.gatheredSession;
    if (!stage.gathered) throw new LensError('INFERENCE_FAILED', 'This model cannot read the head at one position.');
    const onnx = stage.gathered();
    stage.gatheredSession = await createSession(onnx, { backend: this.backend, threads: this.threads });
    stage.graphBytes += onnx.byteLength;
    return stage.gatheredSession;
  }

  /** The session of a layer's q/k/v variant, created on first use. */
  private async vectorSession(stage: ReadyStage): Promise<Session> {
    if (stage.vectorSession) return stage.vectorSession;
    if (!stage.vectors) throw new LensError('INFERENCE_FAILED', 'This model does not expose query/key vectors.');
    const onnx = stage.vectors();
    stage.vectorSession = await createSession(onnx, { backend: this.backend, threads: this.threads });
    stage.graphBytes += onnx.byteLength;
    return stage.vectorSession;
  }

  /** Wasm: refuses a run that would pass onnxruntime-web's 4 GiB heap (runtime/models/wasm-heap.ts), before any
   * stage runs. The layer variant the run will create (summaries for a kept run, q/k/v for vectors) counts as the
   * plain layer's graph again. */
  private checkHeap(seq: number, kept: boolean, vectors: boolean): void {
    let graphs = 0;
    for (const stage of this.stages) {
      graphs += stage.graphBytes;
      if (stage.role !== 'layer') continue;
      const created = kept
        ? [...stage.variantSessions.keys()].some((k) => k.startsWith('s'))
        : !vectors || stage.vectorSession !== undefined;
      if (!created) graphs += stage.plainBytes;
    }
    const stageLayers = Math.max(1, ...this.stages.map((s) => s.layers?.length ?? 1));
    checkWasmHeap(
      { ...this.facts, stageLayers },
      graphs,
      seq,
      kept,
      Math.min(MAX_INPUT_TOKENS, this.facts.maxPositions),
    );
  }

  /** Creates the summaries variant's layer sessions a long run uses (one a layer for every length, kept), which
   * the first long run would otherwise create: bench/long-inputs.ts times them apart. */
  async prepareLong(arena = false): Promise<void> {
    for (const stage of this.stages)
      if (stage.role === 'layer') await this.variantSession(stage, { summaries: true, blocked: true }, arena);
  }

  async release(): Promise<void> {
    const stages = this.stages;
    this.stages = [];
    await Promise.allSettled(
      stages.flatMap((s) => [
        s.session.release(),
        ...(s.vectorSession ? [s.vectorSession.release()] : []),
        ...[...s.variantSessions.values()].map((v) => v.release()),
        ...(s.gatheredSession ? [s.gatheredSession.release()] : []),
      ]),
    );
  }
}

/** The inputs a stage declares, from the per-run feeds (embedding and layer inputs) and the previous hidden state. */
function pick(
  names: readonly string[],
  shared: Record<string, FeedTensor>,
  hidden: FeedTensor | undefined,
  more?: () => Record<string, FeedTensor>,
): Record<string, FeedTensor> {
  const feeds: Record<string, FeedTensor> = {};
  for (const name of names) {
    if (name === 'hidden') {
      if (!hidden)
        throw new LensError('INFERENCE_FAILED', 'A stage needs the hidden state before any stage produced it.');
      feeds.hidden = hidden;
    } else {
      const t = shared[name] ?? more?.()[name];
      if (!t) throw new LensError('INFERENCE_FAILED', `The model plan gives no value for the stage input ${name}.`);
      feeds[name] = t;
    }
  }
  return feeds;
}

/** Mean of hidden [B,S,E] over each row's mask-1 positions → [B,E] (zeros for a row with none). */
export function meanPool(hidden: Float32Array, mask: readonly (readonly number[])[], width: number): Float32Array {
  const B = mask.length;
  const S = B > 0 ? mask[0].length : 0;
  const out = new Float32Array(B * width); // [B,E]
  for (let b = 0; b < B; b++) {
    let count = 0;
    const acc = new Float64Array(width);
    for (let s = 0; s < S; s++) {
      if (mask[b][s] !== 1) continue;
      count++;
      const base = (b * S + s) * width; // [b, s, 0]
      for (let e = 0; e < width; e++) acc[e] += hidden[base + e];
    }
    for (let e = 0; e < width; e++) out[b * width + e] = count > 0 ? acc[e] / count : 0;
  }
  return out;
}

function asFeed(t: OutputTensor): FeedTensor {
  return { type: 'float32', dims: t.dims, data: t.data };
}

function expectSize(t: OutputTensor, size: number, name: string): void {
  if (t.data.length !== size) {
    throw new LensError('INFERENCE_FAILED', `The ${name} output has ${t.data.length} values; expected ${size}.`);
  }
}

/** checkAttentionFinite for each row of a batch's [B,H,S,S] attention (rows beyond the first are perturbed inputs). */
export function checkBatchAttention(
  data: Float32Array,
  layer: number,
  B: number,
  heads: number,
  S: number,
  kinds: PlanFacts['attentionKinds'],
): void {
  const per = heads * S * S;
  for (let b = 0; b < B; b++)
    checkAttentionFinite({
      layer,
      kind: kinds[layer] ?? 'self',
      heads,
      queryLength: S,
      keyLength: S,
      data: data.subarray(b * per, (b + 1) * per), // [heads, query, key]
    });
}
