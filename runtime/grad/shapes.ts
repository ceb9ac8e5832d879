// Static shape inference for the operators the family builders emit and the ones the backward rules add, so that
// the reverse-mode transform knows every tensor's dimensions (broadcasting undone by fixed axes). An operator it
// does not know stops the gradient with a LensError naming it.
import { DataType, type NodeMsg } from '../formats/onnx-descriptor';
import { LensError } from '../errors';
import { attrInt, attrInts } from './attrs';
import type { GradGraph, Shape } from './grad-graph';

interface Out {
  shape: Shape;
  type: number;
}

/** numpy broadcasting of several shapes. */
export function broadcast(...shapes: Shape[]): Shape {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Shape = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v !== 1) {
        if (d !== 1 && d !== v) throw new Error(`shapes [${shapes.join('] [')}] do not broadcast`);
        d = v;
      }
    }
    out.push(d);
  }
  return out;
}

const norm = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

export const UNARY = new Set([
  'Neg',
  'Tanh',
  'Erf',
  'Sigmoid',
  'Relu',
  'Sqrt',
  'Reciprocal',
  'Exp',
  'Log',
  'Identity',
  'Softmax',
  'LogSoftmax',
  'Abs',
]);
export const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min']);
const COMPARE = new Set(['Greater', 'Less', 'Equal', 'And']);

/** The output shapes and element types of a node. */
export function inferNode(g: GradGraph, node: NodeMsg): Out[] {
  const s = (i: number) => g.shape(node.input[i]);
  const t0 = () => g.types.get(node.input[0]) ?? DataType.FLOAT;
  const op = node.opType;
  if (UNARY.has(op)) return [{ shape: s(0), type: t0() }];
  if (BINARY.has(op)) return [{ shape: broadcast(s(0), s(1)), type: t0() }];
  if (COMPARE.has(op)) return [{ shape: broadcast(s(0), s(1)), type: DataType.BOOL }];
  switch (op) {
    case 'Sum':
      return [{ shape: broadcast(...node.input.map((_, i) => s(i))), type: t0() }];
    case 'Where':
      return [{ shape: broadcast(s(0), s(1), s(2)), type: g.types.get(node.input[1]) ?? DataType.FLOAT }];
    case 'Cast':
      return [{ shape: s(0), type: attrInt(node, 'to') ?? DataType.FLOAT }];
    case 'LayerNormalization': {
      // y, then the optional Mean and InvStdDev (float32, the normalised axes kept as 1: fused.ts reads them)
      const a = attrInt(node, 'axis') ?? -1;
      const x = s(0);
      const from = a < 0 ? a + x.length : a;
      const stat = { shape: x.map((d, i) => (i < from ? d : 1)), type: DataType.FLOAT };
      return [{ shape: x, type: t0() }, stat, stat];
    }
    case 'MatMul': {
      const a = s(0);
      const b = s(1);
      if (a.length < 2 || b.length < 2) throw unsupported(node, 'MatMul of a vector');
      if (a[a.length - 1] !== b[b.length - 2]) throw new Error(`MatMul [${a}]·[${b}]`);
      const batch = broadcast(a.slice(0, -2), b.slice(0, -2));
      return [{ shape: [...batch, a[a.length - 2], b[b.length - 1]], type: t0() }];
    }
    case 'Transpose': {
      const x = s(0);
      const perm = attrInts(node, 'perm') ?? x.map((_, i) => x.length - 1 - i);
      return [{ shape: perm.map((p) => x[p]), type: t0() }];
    }
    case 'Reshape': {
      const x = s(0);
      const spec = g.intsOf(node.input[1], 'the Reshape shape');
      const out = spec.map((d, i) => (d === 0 ? x[i] : d));
      const known = out.reduce((a, d) => (d === -1 ? a : a * d), 1);
      const total = x.reduce((a, d) => a * d, 1);
      return [{ shape: out.map((d) => (d === -1 ? total / known : d)), type: t0() }];
    }
    case 'Expand':
      return [{ shape: broadcast(s(0), g.intsOf(node.input[1], 'the Expand shape')), type: t0() }];
    case 'Unsqueeze': {
      const x = [...s(0)];
      const axes = g.intsOf(node.input[1], 'the Unsqueeze axes');
      const rank = x.length + axes.length;
      for (const a of axes.map((a) => norm(a, rank)).sort((p, q) => p - q)) x.splice(a, 0, 1);
      return [{ shape: x, type: t0() }];
    }
    case 'Squeeze': {
      const x = s(0);
      const axes = node.input[1] ? g.intsOf(node.input[1], 'the Squeeze axes').map((a) => norm(a, x.length)) : null;
      return [{ shape: x.filter((d, i) => (axes ? !axes.includes(i) : d !== 1)), type: t0() }];
    }
    case 'Split': {
      const x = s(0);
      const axis = norm(attrInt(node, 'axis') ?? 0, x.length);
      const n = node.output.length;
      const sizes = node.input[1]
        ? g.intsOf(node.input[1], 'the Split sizes')
        : Array.from({ length: n }, () => x[axis] / n);
      return sizes.map((size) => ({ shape: x.map((d, i) => (i === axis ? size : d)), type: t0() }));
    }
    case 'Concat': {
      const shapes = node.input.map((_, i) => s(i));
      const axis = norm(attrInt(node, 'axis') ?? 0, shapes[0].length);
      const out = [...shapes[0]];
      out[axis] = shapes.reduce((a, sh) => a + sh[axis], 0);
      return [{ shape: out, type: t0() }];
    }
    case 'ReduceSum':
    case 'ReduceMean':
    case 'ReduceMax': {
      const x = s(0);
      const axes = reduceAxes(g, node, x.length);
      const keep = (attrInt(node, 'keepdims') ?? 1) === 1;
      const out: Shape = [];
      x.forEach((d, i) => {
        if (!axes.includes(i)) out.push(d);
        else if (keep) out.push(1);
      });
      return [{ shape: out, type: t0() }];
    }
    case 'Gather': {
      const data = s(0);
      const idx = s(1);
      const axis = norm(attrInt(node, 'axis') ?? 0, data.length);
      return [{ shape: [...data.slice(0, axis), ...idx, ...data.slice(axis + 1)], type: t0() }];
    }
    case 'Slice': {
      const x = [...s(0)];
      const starts = g.intsOf(node.input[1], 'the Slice starts');
      const ends = g.intsOf(node.input[2], 'the Slice ends');
      const axes = node.input[3] ? g.intsOf(node.input[3], 'the Slice axes') : starts.map((_, i) => i);
      const steps = node.input[4] ? g.intsOf(node.input[4], 'the Slice steps') : starts.map(() => 1);
      axes.forEach((a0, i) => {
        const a = norm(a0, x.length);
        const [b, e] = sliceRange(starts[i], ends[i], x[a], steps[i]);
        x[a] = Math.max(0, Math.ceil((e - b) / steps[i]));
      });
      return [{ shape: x, type: t0() }];
    }
    case 'Pad': {
      const x = s(0);
      const pads = g.intsOf(node.input[1], 'the Pad amounts');
      return [{ shape: x.map((d, i) => d + pads[i] + pads[i + x.length]), type: t0() }];
    }
  }
  throw unsupported(node);
}

/** Clamped [begin, end) of a Slice along an axis of size `dim` (step 1 or positive). */
export function sliceRange(start: number, end: number, dim: number, step: number): [number, number] {
  if (step <= 0) throw new LensError('UNSUPPORTED_MODEL', 'Gradient methods support Slice with positive steps only.');
  const clamp = (v: number) => Math.min(dim, Math.max(0, v < 0 ? v + dim : v));
  return [clamp(start), clamp(end)];
}

/** The axes a Reduce* node reduces (attribute before opset 18 for Mean/Max, input for Sum), normalised. */
export function reduceAxes(g: GradGraph, node: NodeMsg, rank: number): number[] {
  const given = node.input[1] ? g.intsOf(node.input[1], 'the reduction axes') : attrInts(node, 'axes');
  if (!given || given.length === 0) return Array.from({ length: rank }, (_, i) => i);
  return given.map((a) => norm(a, rank));
}

export function unsupported(node: NodeMsg, what = node.opType): LensError {
  return new LensError(
    'UNSUPPORTED_MODEL',
    `Gradient methods cannot differentiate the ONNX operator ${what} (node ${node.name ?? node.output[0]}); use an attention, perturbation or norm method for this model.`,
  );
}
