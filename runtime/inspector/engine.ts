// Runs a GraphPlan stage by stage (embeddings, each layer, head) on one session per stage, handing each layer's
// attention to a callback as soon as its stage finishes. Independent of the thread it runs on: the worker wraps it
// with messaging, and tests drive it directly with toy plans.
import { createSession, type OutputTensor, type Session } from '../backend/ort';
import type { BackendName, LayerAttention } from '../types';
import type { FeedTensor, GraphPlan, PlanFacts, StageRole } from '../models/plan';
import { cancelled, LensError } from '../errors';

interface ReadyStage {
  role: StageRole;
  layer?: number;
  session: Session;
  inputNames: readonly string[];
  /** Builds the layer's variant with q/k/v outputs; its session is created on first use and kept. */
  vectors?: () => Uint8Array;
  vectorSession?: Session;
}

export interface EngineRunOptions {
  /** Also fetch q and k: of every layer (true) or of the listed layers. */
  withVectors: boolean | readonly number[];
  /** Checked between stages; true stops the run with LensError CANCELLED. */
  isCancelled?: () => boolean;
  /** Awaited between stages so the host's event loop can deliver a cancel message. */
  pause?: () => Promise<void>;
  onLayer: (layer: LayerAttention, q?: Float32Array, k?: Float32Array) => void;
}

export interface EngineRunResult {
  /** [query, hidden]. */
  lastHidden: Float32Array;
  /** Embeddings, layer 0 .. L-1, head, in milliseconds. */
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
        const session = await createSession(stage.onnx, { backend, threads });
        ready.push({
          role: stage.role,
          layer: stage.layer,
          session,
          inputNames: stage.inputNames,
          vectors: stage.vectors,
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
    const perRun = this.feedsOf(batch);
    const stageMs: number[] = [];
    const wantVectors = (layer: number) =>
      options.withVectors === true || (Array.isArray(options.withVectors) && options.withVectors.includes(layer));
    let hiddenState: FeedTensor | undefined;
    let lastHidden: Float32Array | undefined;

    for (const stage of this.stages) {
      if (options.isCancelled?.()) throw cancelled();
      const feeds = pick(stage.inputNames, stage.role === 'embed' ? perRun.embed : perRun.layer, hiddenState);
      const t0 = performance.now();
      if (stage.role === 'embed') {
        const out = await stage.session.run(feeds, ['hidden']);
        hiddenState = asFeed(out.hidden); // [1, seq, hidden]
      } else if (stage.role === 'layer') {
        const layer = stage.layer ?? 0;
        const vectors = wantVectors(layer);
        const session = vectors ? await this.vectorSession(stage) : stage.session;
        const out = await session.run(feeds, vectors ? ['hidden_out', 'attn', 'q', 'k'] : ['hidden_out', 'attn']);
        hiddenState = asFeed(out.hidden_out); // [1, seq, hidden]
        const attn = out.attn; // [1, heads, seq, seq]
        expectSize(attn, heads * seq * seq, 'attn');
        const attention: LayerAttention = {
          layer,
          kind: this.facts.attentionKinds[layer] ?? 'self',
          heads,
          queryLength: seq,
          keyLength: seq,
          data: attn.data, // [heads, query, key]
        };
        let q: Float32Array | undefined;
        let k: Float32Array | undefined;
        if (vectors) {
          expectSize(out.q, heads * seq * headDim, 'q');
          expectSize(out.k, heads * seq * headDim, 'k');
          q = out.q.data; // [heads, query, headDim]
          k = out.k.data; // [heads, key, headDim]
        }
        stageMs.push(performance.now() - t0);
        options.onLayer(attention, q, k);
        if (options.pause) await options.pause();
        continue;
      } else {
        const out = await stage.session.run(feeds, ['last_hidden']);
        expectSize(out.last_hidden, seq * hidden, 'last_hidden');
        lastHidden = out.last_hidden.data; // [seq, hidden]
      }
      stageMs.push(performance.now() - t0);
    }
    if (!lastHidden) throw new LensError('INFERENCE_FAILED', 'The model plan has no head stage.');
    return { lastHidden, stageMs };
  }

  /** The session of a layer's q/k/v variant, created on first use. */
  private async vectorSession(stage: ReadyStage): Promise<Session> {
    if (stage.vectorSession) return stage.vectorSession;
    if (!stage.vectors) throw new LensError('INFERENCE_FAILED', 'This model does not expose query/key vectors.');
    stage.vectorSession = await createSession(stage.vectors(), { backend: this.backend, threads: this.threads });
    return stage.vectorSession;
  }

  async release(): Promise<void> {
    const stages = this.stages;
    this.stages = [];
    await Promise.allSettled(
      stages.flatMap((s) => [s.session.release(), ...(s.vectorSession ? [s.vectorSession.release()] : [])]),
    );
  }
}

/** The inputs a stage declares, from the per-run feeds and the previous stage's hidden state. */
function pick(
  names: readonly string[],
  shared: Record<string, FeedTensor>,
  hidden: FeedTensor | undefined,
): Record<string, FeedTensor> {
  const feeds: Record<string, FeedTensor> = {};
  for (const name of names) {
    if (name === 'hidden') {
      if (!hidden)
        throw new LensError('INFERENCE_FAILED', 'A stage needs the hidden state before any stage produced it.');
      feeds.hidden = hidden;
    } else {
      const t = shared[name];
      if (!t) throw new LensError('INFERENCE_FAILED', `The model plan gives no value for the stage input ${name}.`);
      feeds[name] = t;
    }
  }
  return feeds;
}

function asFeed(t: OutputTensor): FeedTensor {
  return { type: 'float32', dims: t.dims, data: t.data };
}

function expectSize(t: OutputTensor, size: number, name: string): void {
  if (t.data.length !== size) {
    throw new LensError('INFERENCE_FAILED', `The ${name} output has ${t.data.length} values; expected ${size}.`);
  }
}
