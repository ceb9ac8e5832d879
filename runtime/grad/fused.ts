// Backward rules for whole fragments of ops.ts: the rules of rules.ts differentiate a fragment operator by operator,
// which for an activation means as many passes over its [rows, S, intermediate] tensor as the chain has nodes, plus
// the Sum of what its input gets from two consumers. Integrated Gradients runs 33 rows at once, where these passes
// are memory-bound and cost as much as matrix products (all-MiniLM-L6-v2: GELU's 15 elementwise nodes, forward and
// backward, took 21 % of IG). Here the exact GELU (erf) and SiLU of ops.activation are recognised as one unit whose
// gradient is written as one short formula over tensors the forward already has:
//   GELU  y = x·½(1 + erf(u)), u = x/√2:  dx = dy · ½ · (1 + erf(u) + (2/√π) · u / exp(u²))   (7 nodes, was 11)
//   SiLU  y = x·σ(x):                     dx = dy · (σ + y · (1 − σ))                        (4 nodes, was 6)
// A fragment is fused only when its inner tensors have no other consumer (nothing else needs their gradients).
// And attention's scale moves from the [B,H,S,S] scores to the [B,H,S,D] queries (foldAttentionScale).
// Checked against central finite differences like every rule (test/unit/runtime/grad/rules.test.ts).
import { DataType, type ModelMsg, type NodeMsg } from '../formats/onnx-descriptor';
import type { GradGraph } from './grad-graph';

/** A fragment differentiated as one: its last node, the nodes it spans, its input and its rule. */
export interface Fused {
  last: NodeMsg;
  nodes: NodeMsg[];
  input: string;
  /** dx from dy (the gradient of the last node's output). */
  backward(g: GradGraph, dy: string): string;
}

const scalarOf = (g: GradGraph, name: string): number | undefined => g.floatScalar(name);
const near = (a: number | undefined, b: number) => a !== undefined && Math.abs(a - b) <= 1e-6 * Math.abs(b);

/** The other input of a binary node whose one input is `t`, or undefined. */
function other(node: NodeMsg, t: string): string | undefined {
  if (node.input.length !== 2) return undefined;
  if (node.input[0] === t) return node.input[1];
  if (node.input[1] === t) return node.input[0];
  return undefined;
}

/** Finds the fusable fragments of the forward nodes (consumers: every node reading a tensor, graph outputs too). */
export function findFused(g: GradGraph, forward: readonly NodeMsg[], outputs: ReadonlySet<string>): Fused[] {
  const consumers = new Map<string, NodeMsg[]>();
  const producers = new Map<string, NodeMsg>();
  for (const node of forward) {
    for (const i of node.input) consumers.set(i, [...(consumers.get(i) ?? []), node]);
    for (const o of node.output) producers.set(o, node);
  }
  /** The single consumer of t (undefined where t has several, or is a graph output). */
  const only = (t: string): NodeMsg | undefined => {
    const c = consumers.get(t);
    return c?.length === 1 && !outputs.has(t) ? c[0] : undefined;
  };
  const found: Fused[] = [];
  for (const node of forward) {
    if (node.opType === 'Erf') {
      const gelu = matchGelu(g, node, producers, only);
      if (gelu) found.push(gelu);
    } else if (node.opType === 'Sigmoid') {
      const silu = matchSilu(node, only);
      if (silu) found.push(silu);
    }
  }
  return found;
}

/** Mul(x, 1/√2) or Div(x, √2) → u → Erf → e → Add(e, 1) → p → Mul(x, p) → h → Mul(h, ½) → y (ops.activation 'gelu'). */
function matchGelu(
  g: GradGraph,
  erf: NodeMsg,
  producers: Map<string, NodeMsg>,
  only: (t: string) => NodeMsg | undefined,
): Fused | undefined {
  const u = erf.input[0];
  const scale = producers.get(u);
  if (!scale || (scale.opType !== 'Mul' && scale.opType !== 'Div')) return undefined;
  const [x, c] = scale.input;
  const factor = scale.opType === 'Mul' ? Math.SQRT1_2 : Math.SQRT2;
  if (!near(scalarOf(g, c), factor) || only(u) !== erf) return undefined;
  const e = erf.output[0];
  const add = only(e);
  if (add?.opType !== 'Add' || !near(scalarOf(g, other(add, e) ?? ''), 1)) return undefined;
  const p = add.output[0];
  const mul = only(p);
  if (mul?.opType !== 'Mul' || other(mul, p) !== x) return undefined;
  const h = mul.output[0];
  const half = only(h);
  if (half?.opType !== 'Mul' || !near(scalarOf(g, other(half, h) ?? ''), 0.5)) return undefined;
  return {
    last: half,
    nodes: [scale, erf, add, mul, half],
    input: x,
    backward: (gg, dy) => {
      const f = (v: number) => gg.constF([v], []);
      const r = gg.op('Div', [u, gg.op('Exp', [gg.op('Mul', [u, u])])]); // u·exp(−u²); exp(u²) = ∞ gives 0
      const d2 = gg.op('Add', [p, gg.op('Mul', [r, f(2 / Math.sqrt(Math.PI))])]); // 2 · GELU'(x)
      return gg.op('Mul', [gg.op('Mul', [dy, f(0.5)]), d2]);
    },
  };
}

/** Sigmoid(x) → s → Mul(x, s) → y (ops.activation 'silu'). */
function matchSilu(sig: NodeMsg, only: (t: string) => NodeMsg | undefined): Fused | undefined {
  const x = sig.input[0];
  const s = sig.output[0];
  const mul = only(s);
  if (mul?.opType !== 'Mul' || other(mul, s) !== x) return undefined;
  const y = mul.output[0];
  return {
    last: mul,
    nodes: [sig, mul],
    input: x,
    backward: (gg, dy) => {
      const oneMinus = gg.op('Sub', [gg.constF([1], []), s]);
      return gg.op('Mul', [dy, gg.op('Add', [s, gg.op('Mul', [y, oneMinus])])]);
    },
  };
}

/**
 * Moves attention's scale from the scores to the queries: MatMul(q, Transpose(k)) · c becomes MatMul(q · c,
 * Transpose(k)) (ops.attention), so the scale's forward and backward passes run over [B,H,S,D] instead of [B,H,S,S]
 * (stories260K: 8× fewer values). Only where the scores have no other consumer. Modifies the forward nodes in place.
 */
export function foldAttentionScale(model: ModelMsg): void {
  const graph = model.graph!;
  const nodes = graph.node!;
  const scalars = new Map<string, number>();
  for (const t of graph.initializer ?? [])
    if ((t.dataType ?? DataType.FLOAT) === DataType.FLOAT && t.rawData?.byteLength === 4)
      scalars.set(t.name!, new DataView(t.rawData.buffer, t.rawData.byteOffset, 4).getFloat32(0, true));
  const producers = new Map<string, NodeMsg>();
  const uses = new Map<string, number>();
  for (const n of nodes) {
    for (const o of n.output) producers.set(o, n);
    for (const i of n.input) uses.set(i, (uses.get(i) ?? 0) + 1);
  }
  for (const o of graph.output ?? []) uses.set(o.name!, (uses.get(o.name!) ?? 0) + 1);
  const isKeyTranspose = (t: string) => {
    const n = producers.get(t);
    const perm = n?.opType === 'Transpose' ? n.attribute?.find((a) => a.name === 'perm')?.ints?.map(Number) : undefined;
    return perm?.join() === '0,1,3,2';
  };
  const dropped = new Set<NodeMsg>();
  for (const mul of [...nodes]) {
    if (mul.opType !== 'Mul' || !scalars.has(mul.input[1])) continue;
    const mm = producers.get(mul.input[0]);
    if (mm?.opType !== 'MatMul' || uses.get(mm.output[0]) !== 1 || !isKeyTranspose(mm.input[1])) continue;
    const scaled = `${mm.input[0]}_scaled_${mul.output[0]}`;
    // The Mul now scales q and feeds the MatMul, which takes over the Mul's output name.
    const at = nodes.indexOf(mm);
    nodes.splice(at, 0, { ...mul, input: [mm.input[0], mul.input[1]], output: [scaled] });
    mm.input = [scaled, mm.input[1]];
    mm.output = [mul.output[0]];
    dropped.add(mul);
  }
  graph.node = nodes.filter((n) => !dropped.has(n));
}
