// Splits an imported graph into per-layer stages, so its attention streams layer by layer like the family graphs
// (inspector/engine.ts) instead of arriving all at once after the whole run. In topological order, stage k holds every
// node needed to compute the k-th attention tap that no earlier stage holds; a last stage holds what the graph's
// outputs and the last hidden state still need. Constant nodes (and the constant nodes they read) are copied into
// every stage that reads them, initializers go to every stage whose nodes read them, and a tensor that one stage
// computes and a later one reads crosses the boundary as an output of the first and an input of the second.
// Graphs the split cannot express (nodes with subgraphs: If, Loop, Scan; tensors nothing produces) get a
// PartitionError, and the engine runs them in one piece instead.
import type { AttentionTap } from './find-attention';
import type { GraphIndex } from './graph-index';

export class PartitionError extends Error {}

export interface StageSpec {
  /** Node indices in topological order, copied constant nodes included. */
  nodes: number[];
  /** Graph inputs (not initializers) the stage reads. */
  inputs: string[];
  /** Initializers the stage's nodes read. */
  initializers: string[];
  /** Tensors an earlier stage computes that this one reads. */
  imports: string[];
  /** Tensors this stage computes that a later stage reads. */
  exports: string[];
  /** The attention taps it computes (index into the taps): [k] for stage k, [] for the last stage. */
  taps: number[];
  /** The graph outputs it computes (a decoder's present.* key/value outputs come with the layer that makes them). */
  outputs: string[];
  /** True when it computes the last hidden state. */
  hidden: boolean;
}

/** Whether a node carries a subgraph (If, Loop, Scan): its outer-scope reads are not in its inputs. */
function hasSubgraph(index: GraphIndex, node: number): boolean {
  return (index.nodes[node].attribute ?? []).some((a) => {
    const attr = a as { g?: unknown; graphs?: unknown[] };
    return Boolean(attr.g) || (attr.graphs?.length ?? 0) > 0;
  });
}

/**
 * The stages of a graph: one per tap (in the taps' order, which is topological), then one for `targets` (graph
 * outputs and the hidden state) when anything is left to compute for them. Throws PartitionError.
 */
export function partitionGraph(
  index: GraphIndex,
  taps: AttentionTap[],
  hidden: string | undefined,
  label: string,
): StageSpec[] {
  const n = index.nodes.length;
  for (let i = 0; i < n; i++)
    if (hasSubgraph(index, i))
      throw new PartitionError(`${label}: node ${index.nodes[i].name || i} (${index.nodes[i].opType}) has a subgraph`);
  const isConstNode = (i: number) => (index.nodes[i].output ?? []).every((o) => !o || index.constants.has(o));
  const graphInputs = new Set(index.inputs.map((v) => v.name));

  // Stage of every computed (non-constant) node: the first stage whose target needs it; -1 when none does.
  const stageOf = new Int32Array(n).fill(-1);
  const claim = (tensor: string, stage: number) => {
    const stack = [tensor];
    while (stack.length > 0) {
      const p = index.producer.get(stack.pop()!);
      if (p === undefined || stageOf[p] >= 0 || isConstNode(p)) continue;
      stageOf[p] = stage;
      for (const x of index.nodes[p].input ?? []) if (x) stack.push(x);
    }
  };
  taps.forEach((t, k) => claim(t.tensor, k));
  const last = taps.length;
  const outputs = (index.graph.output ?? []).map((o) => o.name).filter((o) => o);
  for (const t of [...outputs, ...(hidden ? [hidden] : [])]) claim(t, last);
  const count = index.order.some((i) => stageOf[i] === last) ? last + 1 : last;

  /** The stage that computes a tensor; -1 for inputs, constants and tensors no stage needs. */
  const stageOfTensor = (t: string) => {
    const p = index.producer.get(t);
    return p === undefined ? -1 : stageOf[p];
  };
  const stages: StageSpec[] = Array.from({ length: count }, (_, s) => ({
    nodes: [],
    inputs: [],
    initializers: [],
    imports: [],
    exports: [],
    taps: s < last ? [s] : [],
    outputs: outputs.filter((o) => stageOfTensor(o) === s),
    hidden: hidden !== undefined && stageOfTensor(hidden) === s,
  }));
  if (hidden !== undefined && stageOfTensor(hidden) < 0)
    throw new PartitionError(`${label}: the hidden state ${hidden} is not computed by any stage`);
  const exportSets = stages.map(() => new Set<string>());
  stages.forEach((stage, s) => {
    const nodes = new Set<number>();
    const inputs = new Set<string>();
    const initializers = new Set<string>();
    const imports = new Set<string>();
    // Constant nodes this stage reads, with the constant nodes they read, copied in.
    const copyConstant = (tensor: string) => {
      const stack = [tensor];
      while (stack.length > 0) {
        const t = stack.pop()!;
        const p = index.producer.get(t);
        if (p === undefined) {
          if (index.initializerDims.has(t)) initializers.add(t);
          continue;
        }
        if (nodes.has(p)) continue;
        nodes.add(p);
        for (const x of index.nodes[p].input ?? []) if (x) stack.push(x);
      }
    };
    for (const i of index.order) {
      if (stageOf[i] !== s) continue;
      nodes.add(i);
      for (const x of index.nodes[i].input ?? []) {
        if (!x) continue;
        const p = index.producer.get(x);
        if (index.constants.has(x)) copyConstant(x);
        else if (p === undefined) {
          if (!graphInputs.has(x)) throw new PartitionError(`${label}: tensor ${x} is read but never produced`);
          inputs.add(x);
        } else if (stageOf[p] < s) {
          if (stageOf[p] < 0) throw new PartitionError(`${label}: tensor ${x} belongs to no stage`);
          imports.add(x);
          exportSets[stageOf[p]].add(x);
        } else if (stageOf[p] > s) {
          throw new PartitionError(`${label}: tensor ${x} is needed before it is computed`);
        }
      }
    }
    stage.nodes = [...nodes].sort((a, b) => index.rank[a] - index.rank[b]);
    stage.inputs = [...inputs];
    stage.initializers = [...initializers];
    stage.imports = [...imports];
  });
  stages.forEach((stage, s) => (stage.exports = [...exportSets[s]]));
  return stages;
}
