// An index of one ONNX graph for pattern matching: who produces and who consumes each tensor, which tensors are
// constant (initializers, Constant nodes and anything computed from constants alone), the graph's real inputs
// (old exports also list initializers as inputs) and a topological order of the nodes (exporters usually write
// one, but onnxruntime does not require it, so it is computed; a cycle is a BAD_ONNX error).
import { LensError } from '../errors';
import type { GraphMsg, NodeMsg, ValueInfoMsg } from '../formats/onnx-schema';

export interface GraphIndex {
  graph: GraphMsg;
  nodes: NodeMsg[];
  /** Tensor name → index of the node that outputs it. */
  producer: Map<string, number>;
  /** Tensor name → indices of the nodes that read it. */
  consumers: Map<string, number[]>;
  /** Tensors known before any input arrives. */
  constants: Set<string>;
  /** Initializer name → dims. */
  initializerDims: Map<string, number[]>;
  /** Graph inputs that are not initializers. */
  inputs: ValueInfoMsg[];
  /** Node indices in a topological order. */
  order: number[];
  /** Node index → its rank in `order`. */
  rank: Int32Array;
  /** Every tensor name in the graph (for choosing fresh names). */
  names: Set<string>;
}

const dimsOf = (dims: unknown[] | undefined): number[] => (dims ?? []).map((d) => Number(d));

export function indexGraph(graph: GraphMsg, label: string): GraphIndex {
  const nodes = graph.node ?? [];
  const producer = new Map<string, number>();
  const consumers = new Map<string, number[]>();
  const names = new Set<string>();
  const initializerDims = new Map<string, number[]>();
  for (const t of graph.initializer ?? []) {
    if (t.name) {
      initializerDims.set(t.name, dimsOf(t.dims));
      names.add(t.name);
    }
  }
  const inputs = (graph.input ?? []).filter((v) => v.name && !initializerDims.has(v.name));
  for (const v of graph.input ?? []) if (v.name) names.add(v.name);
  nodes.forEach((n, i) => {
    for (const o of n.output ?? []) {
      if (!o) continue;
      if (producer.has(o)) {
        throw new LensError(
          'BAD_ONNX',
          `${label} is not a valid ONNX model (tensor ${o} is produced twice); re-export it.`,
        );
      }
      producer.set(o, i);
      names.add(o);
    }
    for (const x of n.input ?? []) {
      if (!x) continue;
      const list = consumers.get(x);
      if (list) {
        if (list[list.length - 1] !== i) list.push(i);
      } else consumers.set(x, [i]);
      names.add(x);
    }
  });
  const order = topologicalOrder(nodes, producer, consumers, label);
  const rank = new Int32Array(nodes.length);
  order.forEach((n, r) => (rank[n] = r));
  const constants = new Set(initializerDims.keys());
  for (const i of order) {
    const n = nodes[i];
    const ins = (n.input ?? []).filter((x) => x);
    const constant = n.opType === 'Constant' || (ins.length > 0 && ins.every((x) => constants.has(x)));
    if (constant) for (const o of n.output ?? []) if (o) constants.add(o);
  }
  return { graph, nodes, producer, consumers, constants, initializerDims, inputs, order, rank, names };
}

/** Kahn's algorithm, taking ready nodes in file order; throws on a cycle. */
function topologicalOrder(
  nodes: NodeMsg[],
  producer: Map<string, number>,
  consumers: Map<string, number[]>,
  label: string,
): number[] {
  const pending = new Int32Array(nodes.length);
  nodes.forEach((n, i) => {
    const deps = new Set<number>();
    for (const x of n.input ?? []) {
      const p = x ? producer.get(x) : undefined;
      if (p !== undefined) deps.add(p);
    }
    pending[i] = deps.size;
  });
  const ready: number[] = [];
  for (let i = 0; i < nodes.length; i++) if (pending[i] === 0) ready.push(i);
  const order: number[] = [];
  for (let head = 0; head < ready.length; head++) {
    const i = ready[head];
    order.push(i);
    const next = new Set<number>();
    for (const o of nodes[i].output ?? []) for (const c of (o && consumers.get(o)) || []) next.add(c);
    for (const c of next) if (--pending[c] === 0) ready.push(c);
  }
  if (order.length !== nodes.length) {
    throw new LensError(
      'BAD_ONNX',
      `${label} is not a valid ONNX model (its graph has a cycle through ${nodes.length - order.length} nodes); re-export it.`,
    );
  }
  return order;
}

/** A fresh tensor name starting with `hint`. */
export function freshName(index: GraphIndex, hint: string): string {
  let name = hint;
  for (let i = 1; index.names.has(name); i++) name = `${hint}_${i}`;
  index.names.add(name);
  return name;
}
