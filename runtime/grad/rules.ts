// The backward rule of each operator: given the gradients of a node's outputs (undefined where an output does not
// reach the target), add the nodes that compute the gradients of the inputs that need one. Every rule is checked
// against central finite differences in float64 (test/unit/runtime/grad/rules.test.ts).
import type { NodeMsg } from '../formats/onnx-descriptor';
import { attrFloat, attrInt, attrInts } from './attrs';
import type { GradGraph, Shape } from './grad-graph';
import { reduceAxes, sliceRange, unsupported } from './shapes';

/** Input gradients, one per input (undefined: not needed or zero). */
export type InputGrads = (string | undefined)[];

type Rule = (g: GradGraph, node: NodeMsg, dy: (string | undefined)[], need: boolean[]) => InputGrads;

const eq = (a: Shape, b: Shape) => a.length === b.length && a.every((d, i) => d === b[i]);

/** Sums a broadcast gradient back to the shape of the operand it was broadcast from. */
export function unbroadcast(g: GradGraph, grad: string, to: Shape): string {
  const from = g.shape(grad);
  if (eq(from, to)) return grad;
  const lead = from.length - to.length;
  const axes: number[] = [];
  for (let i = 0; i < from.length; i++) if (i < lead || (to[i - lead] === 1 && from[i] !== 1)) axes.push(i);
  const summed = axes.length ? g.op('ReduceSum', [grad, g.constI64(axes)], { keepdims: 1 }) : grad;
  return eq(g.shape(summed), to) ? summed : g.op('Reshape', [summed, g.constI64(to)]);
}

const scalar = (g: GradGraph, v: number) => g.constF([v], []);

/** The axis of a Softmax-like node, normalised. */
const axisOf = (g: GradGraph, node: NodeMsg, dflt: number) => {
  const rank = g.shape(node.input[0]).length;
  const a = attrInt(node, 'axis') ?? dflt;
  return a < 0 ? a + rank : a;
};

/** Elementwise rules dx = dy · f'(x, y). */
const unary =
  (dfdx: (g: GradGraph, x: string, y: string, dy: string) => string): Rule =>
  (g, node, dy) => [dy[0] && dfdx(g, node.input[0], node.output[0], dy[0])];

const RULES: Record<string, Rule> = {
  Identity: unary((_g, _x, _y, dy) => dy),
  Neg: unary((g, _x, _y, dy) => g.op('Neg', [dy])),
  // d tanh = 1 − y²
  Tanh: unary((g, _x, y, dy) => g.op('Mul', [dy, g.op('Sub', [scalar(g, 1), g.op('Mul', [y, y])])])),
  // d σ = y (1 − y)
  Sigmoid: unary((g, _x, y, dy) => g.op('Mul', [dy, g.op('Mul', [y, g.op('Sub', [scalar(g, 1), y])])])),
  // d erf = 2/√π · exp(−x²)
  Erf: unary((g, x, _y, dy) => {
    const e = g.op('Exp', [g.op('Neg', [g.op('Mul', [x, x])])]);
    return g.op('Mul', [dy, g.op('Mul', [e, scalar(g, 2 / Math.sqrt(Math.PI))])]);
  }),
  Relu: unary((g, x, _y, dy) => g.op('Mul', [dy, g.op('Cast', [g.op('Greater', [x, scalar(g, 0)])], { to: 1 })])),
  // d √x = 1 / (2y)
  Sqrt: unary((g, _x, y, dy) => g.op('Div', [g.op('Mul', [dy, scalar(g, 0.5)]), y])),
  // d (1/x) = −y²
  Reciprocal: unary((g, _x, y, dy) => g.op('Neg', [g.op('Mul', [dy, g.op('Mul', [y, y])])])),
  Exp: unary((g, _x, y, dy) => g.op('Mul', [dy, y])),
  Log: unary((g, x, _y, dy) => g.op('Div', [dy, x])),
  // dx = y ⊙ (dy − Σ dy ⊙ y) along the axis
  Softmax: (g, node, dy) => {
    if (!dy[0]) return [undefined];
    const y = node.output[0];
    const axis = axisOf(g, node, -1);
    const s = g.op('ReduceSum', [g.op('Mul', [dy[0], y]), g.constI64([axis])], { keepdims: 1 });
    return [g.op('Mul', [y, g.op('Sub', [dy[0], s])])];
  },
  // dx = dy − softmax ⊙ Σ dy
  LogSoftmax: (g, node, dy) => {
    if (!dy[0]) return [undefined];
    const axis = axisOf(g, node, -1);
    const s = g.op('ReduceSum', [dy[0], g.constI64([axis])], { keepdims: 1 });
    return [g.op('Sub', [dy[0], g.op('Mul', [g.op('Exp', [node.output[0]]), s])])];
  },
  Add: (g, node, dy, need) => {
    const [a, b] = node.input;
    if (!dy[0]) return [undefined, undefined];
    return [
      need[0] ? unbroadcast(g, dy[0], g.shape(a)) : undefined,
      need[1] ? unbroadcast(g, dy[0], g.shape(b)) : undefined,
    ];
  },
  Sub: (g, node, dy, need) => {
    const [a, b] = node.input;
    if (!dy[0]) return [undefined, undefined];
    return [
      need[0] ? unbroadcast(g, dy[0], g.shape(a)) : undefined,
      need[1] ? unbroadcast(g, g.op('Neg', [dy[0]]), g.shape(b)) : undefined,
    ];
  },
  Mul: (g, node, dy, need) => {
    const [a, b] = node.input;
    if (!dy[0]) return [undefined, undefined];
    return [
      need[0] ? unbroadcast(g, g.op('Mul', [dy[0], b]), g.shape(a)) : undefined,
      need[1] ? unbroadcast(g, g.op('Mul', [dy[0], a]), g.shape(b)) : undefined,
    ];
  },
  // d(a/b): da = dy / b, db = −dy · y / b
  Div: (g, node, dy, need) => {
    const [a, b] = node.input;
    if (!dy[0]) return [undefined, undefined];
    return [
      need[0] ? unbroadcast(g, g.op('Div', [dy[0], b]), g.shape(a)) : undefined,
      need[1]
        ? unbroadcast(g, g.op('Neg', [g.op('Div', [g.op('Mul', [dy[0], node.output[0]]), b])]), g.shape(b))
        : undefined,
    ];
  },
  // x^p with a constant exponent: p · x^(p−1)
  Pow: (g, node, dy, need) => {
    if (need[1]) throw unsupported(node, 'Pow (gradient w.r.t. the exponent)');
    if (!dy[0]) return [undefined, undefined];
    const [x, p] = node.input;
    const d = g.op('Mul', [p, g.op('Pow', [x, g.op('Sub', [p, scalar(g, 1)])])]);
    return [unbroadcast(g, g.op('Mul', [dy[0], d]), g.shape(x)), undefined];
  },
  // C = A·B with batch broadcasting: dA = dC·Bᵀ, dB = Aᵀ·dC (each summed over the batch dims it was broadcast on)
  MatMul: (g, node, dy, need) => {
    const [a, b] = node.input;
    if (!dy[0]) return [undefined, undefined];
    const swap = (t: string) => {
      const r = g.shape(t).length;
      const perm = Array.from({ length: r }, (_, i) => i);
      [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
      return g.op('Transpose', [t], { perm });
    };
    // Both operands transposes read by this product alone (attention's q·kᵀ over heads): swap(B) or swap(A) would be
    // merged by onnxruntime with the operand's own Transpose into one more copy of it. dAᵀ = B·dCᵀ and dBᵀ = dCᵀ·A
    // read the operands as they are (dCᵀ fuses into each product), and the outer transpose of each merges with the
    // inverse Transpose the operand's own rule adds: the same copies of the gradients, none of the operands.
    const [sa, sb, sc] = [a, b, node.output[0]].map((t) => g.shape(t));
    const batchOf = (s: Shape) => s.slice(0, -2);
    // read by this product alone, and a Transpose's output or a scalar multiple of one (queries scaled by 1/√d)
    const transposeOnly = (t: string): boolean => {
      if (g.forwardReaders(t) !== 1) return false;
      const p = g.forwardProducer(t);
      if (p?.opType === 'Transpose') return true;
      const scalarMul = p?.opType === 'Mul' && g.floatScalar(p.input[1]) !== undefined;
      return scalarMul && g.forwardProducer(p.input[0])?.opType === 'Transpose' && g.forwardReaders(p.input[0]) === 1;
    };
    if (
      sa.length >= 3 &&
      eq(batchOf(sa), batchOf(sb)) &&
      eq(batchOf(sa), batchOf(sc)) &&
      transposeOnly(a) &&
      transposeOnly(b)
    )
      return [
        need[0] ? swap(g.op('MatMul', [b, swap(dy[0])])) : undefined,
        need[1] ? swap(g.op('MatMul', [swap(dy[0]), a])) : undefined,
      ];
    return [
      need[0] ? unbroadcast(g, g.op('MatMul', [dy[0], swap(b)]), g.shape(a)) : undefined,
      need[1] ? unbroadcast(g, g.op('MatMul', [swap(a), dy[0]]), g.shape(b)) : undefined,
    ];
  },
  Transpose: (g, node, dy) => {
    if (!dy[0]) return [undefined];
    const rank = g.shape(node.input[0]).length;
    const perm = attrInts(node, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [g.op('Transpose', [dy[0]], { perm: inverse })];
  },
  Reshape: (g, node, dy) => [dy[0] && g.op('Reshape', [dy[0], g.constI64(g.shape(node.input[0]))])],
  Unsqueeze: (g, node, dy) => [dy[0] && g.op('Reshape', [dy[0], g.constI64(g.shape(node.input[0]))])],
  Squeeze: (g, node, dy) => [dy[0] && g.op('Reshape', [dy[0], g.constI64(g.shape(node.input[0]))])],
  Expand: (g, node, dy) => [dy[0] && unbroadcast(g, dy[0], g.shape(node.input[0]))],
  Cast: (g, node, dy) => [dy[0] !== undefined && g.isFloat(node.output[0]) ? dy[0] : undefined],
  // Split → Concat of the outputs' gradients (zeros for an output that does not reach the target)
  Split: (g, node, dy) => {
    if (dy.every((d) => !d)) return [undefined];
    const axis = axisOf(g, node, 0);
    const parts = node.output.map((o, i) => dy[i] ?? g.zeros(g.shape(o)));
    return [g.op('Concat', parts, { axis })];
  },
  // Concat → Split of the gradient into the inputs' sizes
  Concat: (g, node, dy) => {
    if (!dy[0]) return node.input.map(() => undefined);
    const axis = axisOf(g, node, 0);
    const sizes = node.input.map((i) => g.shape(i)[axis]);
    return g.opN('Split', [dy[0], g.constI64(sizes)], sizes.length, { axis });
  },
  // Slice (positive steps) → Pad with zeros back to the input's shape
  Slice: (g, node, dy) => {
    if (!dy[0]) return [undefined];
    const x = g.shape(node.input[0]);
    const starts = g.intsOf(node.input[1], 'the Slice starts');
    const ends = g.intsOf(node.input[2], 'the Slice ends');
    const axes = node.input[3] ? g.intsOf(node.input[3], 'the Slice axes') : starts.map((_, i) => i);
    const steps = node.input[4] ? g.intsOf(node.input[4], 'the Slice steps') : starts.map(() => 1);
    if (steps.some((s) => s !== 1)) throw unsupported(node, 'Slice with steps other than 1');
    const pads = new Array<number>(2 * x.length).fill(0);
    axes.forEach((a0, i) => {
      const a = a0 < 0 ? a0 + x.length : a0;
      const [b, e] = sliceRange(starts[i], ends[i], x[a], 1);
      pads[a] = b;
      pads[a + x.length] = x[a] - Math.max(b, e);
    });
    return [g.op('Pad', [dy[0], g.constI64(pads)])];
  },
  Where: (g, node, dy, need) => {
    if (!dy[0]) return [undefined, undefined, undefined];
    const [c, a, b] = node.input;
    const zero = scalar(g, 0);
    return [
      undefined,
      need[1] ? unbroadcast(g, g.op('Where', [c, dy[0], zero]), g.shape(a)) : undefined,
      need[2] ? unbroadcast(g, g.op('Where', [c, zero, dy[0]]), g.shape(b)) : undefined,
    ];
  },
  ReduceSum: (g, node, dy) => [dy[0] && reduceBack(g, node, dy[0], 1)],
  ReduceMean: (g, node, dy) => {
    if (!dy[0]) return [undefined];
    const x = g.shape(node.input[0]);
    const n = reduceAxes(g, node, x.length).reduce((a, i) => a * x[i], 1);
    return [reduceBack(g, node, dy[0], 1 / n)];
  },
  // y = (x − μ)/σ · γ + β over the last axis: dx = (1/σ)(ĝ − mean(ĝ) − x̂ · mean(ĝ ⊙ x̂)), ĝ = dy ⊙ γ
  LayerNormalization: (g, node, dy, need) => {
    if (need[1] || need[2]) throw unsupported(node, 'LayerNormalization (gradient w.r.t. its scale or bias)');
    if (node.output.length > 1 && node.output.slice(1).some(Boolean))
      throw unsupported(node, 'LayerNormalization with mean / inverse deviation outputs');
    if (!dy[0]) return [undefined, undefined, undefined];
    const [x, gamma] = node.input;
    const rank = g.shape(x).length;
    const axis = axisOf(g, node, -1);
    if (axis !== rank - 1) throw unsupported(node, 'LayerNormalization over more than the last axis');
    const eps = attrFloat(node, 'epsilon') ?? 1e-5;
    const mean = (t: string) => g.op('ReduceMean', [t], { axes: [-1], keepdims: 1 });
    const xc = g.op('Sub', [x, mean(x)]); // [.., E]
    const inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [mean(g.op('Mul', [xc, xc])), scalar(g, eps)])])]); // [.., 1]
    const xhat = g.op('Mul', [xc, inv]);
    const gh = g.op('Mul', [dy[0], gamma]);
    const inner = g.op('Sub', [g.op('Sub', [gh, mean(gh)]), g.op('Mul', [xhat, mean(g.op('Mul', [gh, xhat]))])]);
    return [g.op('Mul', [inner, inv]), undefined, undefined];
  },
};

/** The gradient of a Reduce{Sum,Mean} input: dy with the reduced axes restored, broadcast to x, times `factor`. */
function reduceBack(g: GradGraph, node: NodeMsg, dy: string, factor: number): string {
  const x = g.shape(node.input[0]);
  const axes = reduceAxes(g, node, x.length);
  const kept = x.map((d, i) => (axes.includes(i) ? 1 : d));
  let t = g.op('Reshape', [dy, g.constI64(kept)]);
  if (factor !== 1) t = g.op('Mul', [t, scalar(g, factor)]);
  return g.op('Expand', [t, g.constI64(x)]);
}

/** The operators the transform can differentiate. */
export const DIFFERENTIABLE_OPS: readonly string[] = Object.keys(RULES);

/** Runs a node's rule; an operator without one stops with a LensError naming it. */
export function backwardNode(g: GradGraph, node: NodeMsg, dy: (string | undefined)[], need: boolean[]): InputGrads {
  const rule = RULES[node.opType];
  if (!rule) throw unsupported(node);
  return rule(g, node, dy, need).map((d, i) => (need[i] && d ? d : undefined));
}
