// AttnLRP (Achtibat et al. 2024, "AttnLRP: Attention-Aware Layer-Wise Relevance Propagation for Transformers") as
// alternative backward rules of the reverse-mode transform, in the Gradient × Input form of the authors' LXT
// (efficient mode): relevance = input ⊙ a modified gradient. Where the rules differ from the gradient's:
// - normalisers are constants: every Sqrt output (RMSNorm's and the cosine target's norms) stops the walk, and
//   LayerNormalization passes (ĝ − mean ĝ) / σ with σ fixed (its mean still differentiated, as LXT's);
// - element-wise activations (ops.activation, recorded by the graph builder) get the identity rule as a whole:
//   dx = dy · y / (x + 1e-10);
// - a product of two variables (MatMul of q·kᵀ and attention·v, the gated MLP's Mul) gets the uniform rule: the
//   gradient halved before the product rule, so each factor receives half the relevance;
// - softmax, linear layers, residual sums, RoPE and reshapes keep the plain gradient (LXT's efficient mode).
// Any other non-linearity on the path (a soft-cap's Tanh, a probability's Exp) has no rule here and stops with a
// LensError naming it. Checked against LXT 2.1 in float64 (test/unit/runtime/grad/attnlrp.test.ts).
import type { NodeMsg } from '../formats/onnx-descriptor';
import { LensError } from '../errors';
import { ATTNLRP_MODEL_TYPES } from './attnlrp-coverage';
import { attrFloat, attrInt } from './attrs';
import type { GradGraph } from './grad-graph';
import type { InputGrads } from './rules';

/** The identity rule's ε (LXT's identity_rule_implicit). */
export const IDENTITY_EPSILON = 1e-10;

/** Operators whose plain gradient is AttnLRP's rule (linear in the variables, or softmax). */
const PLAIN = new Set([
  'Identity',
  'Neg',
  'Softmax',
  'Add',
  'Sub',
  'Transpose',
  'Reshape',
  'Unsqueeze',
  'Squeeze',
  'Expand',
  'Cast',
  'Split',
  'Concat',
  'Slice',
  'Where',
  'ReduceSum',
  'ReduceMean',
]);

/** Tensors AttnLRP treats as constants: the outputs of Sqrt (the norms' denominators). */
export function isConstantUnderAttnLrp(node: NodeMsg): boolean {
  return node.opType === 'Sqrt';
}

export function attnLrpRefusal(node: NodeMsg, what: string): LensError {
  return new LensError(
    'UNSUPPORTED_MODEL',
    `AttnLRP has no rule for ${what} (node ${node.name ?? node.output[0]}): it covers the operators of the model types ${ATTNLRP_MODEL_TYPES.join(', ')}; use gradient × input for this model.`,
  );
}

/** The identity rule of an activation x → y: dx = dy · y / (x + ε). */
export function identityRule(g: GradGraph, x: string, y: string, dy: string): string {
  const ratio = g.op('Div', [y, g.op('Add', [x, g.constF([IDENTITY_EPSILON], [])])]); // [.., I]
  return g.op('Mul', [dy, ratio]);
}

/**
 * How AttnLRP changes a node's backward: 'plain' (the gradient's rule), 'half' (the uniform rule: dy halved, then the
 * product rule), or a rule of its own (LayerNormalization). Throws for operators without an AttnLRP rule.
 */
export function attnLrpRule(
  g: GradGraph,
  node: NodeMsg,
  dy: (string | undefined)[],
  need: boolean[],
): 'plain' | { dy: (string | undefined)[] } | InputGrads {
  const op = node.opType;
  if (PLAIN.has(op)) return 'plain';
  if (op === 'MatMul' || op === 'Mul') {
    if (!(need[0] && need[1])) return 'plain'; // a weight, a mask or a constant factor: linear
    return { dy: dy.map((d) => d && g.op('Mul', [d, g.constF([0.5], [])])) };
  }
  if (op === 'Div') {
    if (need[1]) throw attnLrpRefusal(node, 'a quotient of two variables');
    return 'plain';
  }
  if (op === 'LayerNormalization') return [layerNormConstantSigma(g, node, dy[0]), undefined, undefined];
  throw attnLrpRefusal(node, `the operator ${op}`);
}

/** LayerNorm with σ a constant (LXT's layer_norm_forward: (x − μ) / stop_gradient(σ) · γ + β): dx = (ĝ − mean ĝ) / σ,
 * ĝ = dy ⊙ γ, over the last axis. */
function layerNormConstantSigma(g: GradGraph, node: NodeMsg, dy: string | undefined): string | undefined {
  if (!dy) return undefined;
  const [x, gamma] = node.input;
  const rank = g.shape(x).length;
  const a = attrInt(node, 'axis') ?? -1;
  if ((a < 0 ? a + rank : a) !== rank - 1)
    throw attnLrpRefusal(node, 'a LayerNormalization over more than the last axis');
  const eps = attrFloat(node, 'epsilon') ?? 1e-5;
  const mean = (t: string) => g.op('ReduceMean', [t], { axes: [-1], keepdims: 1 });
  const xc = g.op('Sub', [x, mean(x)]); // [.., E]
  const inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [mean(g.op('Mul', [xc, xc])), g.constF([eps], [])])])]); // [.., 1]
  const gh = g.op('Mul', [dy, gamma]); // [.., E]
  return g.op('Mul', [g.op('Sub', [gh, mean(gh)]), inv]);
}
