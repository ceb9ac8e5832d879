// Test helper: runs a GraphPlan in-process, stage after stage, through runtime/backend/ort.ts's createSession (no
// worker), and collects every layer's outputs. Also runs a full graph. Used by the model tests to compare the
// builders' graphs with the naive reference and with each other on both backends.
import { createSession } from '../../runtime/backend/ort';
import type { BackendName } from '../../runtime/types';
import { layerOutputs, type Batch, type FeedTensor, type GraphPlan } from '../../runtime/models/plan';

export interface PlanRun {
  /** Per layer [B,H,S,S]. */
  attn: Float32Array[];
  /** Per layer [B,H,S,D]. */
  q: Float32Array[];
  k: Float32Array[];
  v: Float32Array[];
  /** [B,S,E] */
  lastHidden: Float32Array;
  /** [B,S,V] when the model has an LM head. */
  logits?: Float32Array;
}

const asFeed = (t: { dims: number[]; data: Float32Array }): FeedTensor => ({
  type: 'float32',
  dims: t.dims,
  data: t.data,
});

/** Runs every stage of `plan` on `batch` and returns all outputs. */
export async function runPlan(plan: GraphPlan, batch: Batch, backend: BackendName, threads = 1): Promise<PlanRun> {
  const feeds = plan.feeds(batch);
  const result: PlanRun = { attn: [], q: [], k: [], v: [], lastHidden: new Float32Array() };
  let hidden: FeedTensor | undefined;
  for (const stage of plan.stages) {
    // Layers run their `vectors` variant, so q/k/v come back too (the engine tests cover the lean variant).
    // The head runs its logits variant where the model has an LM head.
    const vectors = stage.role === 'layer' && stage.vectors !== undefined;
    const logits = stage.role === 'head' && stage.withLogits !== undefined;
    const bytes = vectors ? stage.vectors!() : logits ? stage.withLogits!() : stage.onnx;
    const session = await createSession(bytes, { backend, threads });
    try {
      const available: Record<string, FeedTensor> = { ...feeds.embed, ...feeds.layer };
      if (hidden) available.hidden = hidden;
      const inputs: Record<string, FeedTensor> = {};
      for (const name of stage.inputNames) inputs[name] = available[name];
      const names = stage.role === 'layer' ? layerOutputs(stage) : [];
      const fetches = vectors
        ? [...stage.outputNames, ...names.flatMap((n) => [n.q, n.k, n.v])]
        : logits
          ? [...stage.outputNames, 'logits']
          : stage.outputNames;
      const out = await session.run(inputs, fetches);
      if (stage.role === 'embed') hidden = asFeed(out.hidden);
      else if (stage.role === 'layer') {
        hidden = asFeed(out.hidden_out);
        for (const n of names) {
          result.attn.push(out[n.attn].data);
          result.q.push(out[n.q].data);
          result.k.push(out[n.k].data);
          result.v.push(out[n.v].data);
        }
      } else {
        result.lastHidden = out.last_hidden.data;
        if (out.logits) result.logits = out.logits.data;
      }
    } finally {
      await session.release();
    }
  }
  return result;
}

/** Runs a full graph (buildFullGraph) on the plan's feeds for `batch`; returns every output by name. */
export async function runFull(
  full: { onnx: Uint8Array; inputNames: string[]; outputNames: string[] },
  plan: GraphPlan,
  batch: Batch,
  backend: BackendName,
  threads = 1,
): Promise<Record<string, Float32Array>> {
  const feeds = plan.feeds(batch);
  const all: Record<string, FeedTensor> = { ...feeds.embed, ...feeds.layer };
  const inputs: Record<string, FeedTensor> = {};
  for (const n of full.inputNames) inputs[n] = all[n];
  const session = await createSession(full.onnx, { backend, threads });
  try {
    const out = await session.run(inputs, full.outputNames);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data]));
  } finally {
    await session.release();
  }
}

/** Row `b` of a [B, ...rest] tensor with `perRow` values per row. */
export function row(t: Float32Array, b: number, perRow: number): Float32Array {
  return t.subarray(b * perRow, (b + 1) * perRow);
}

/** Largest |a - b| over two equally long arrays (Infinity when the lengths differ). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}
