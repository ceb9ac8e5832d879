// Graph fragments shared by the families, as plain opset-17 ONNX ops: linear layers over HF [out, in] weights,
// LayerNorm / RMSNorm, activations, RoPE and multi-head attention whose Softmax output stays a named tensor.
// Shapes in comments: B batch, S sequence, E hidden, H heads, D head size.
import type { Activation } from '../formats/config-fields';
import { A, type GraphBuilder } from './graph-builder';

/** x [B,S,in] · Wᵀ (+ b) with W an HF Linear weight [out, in]: the transpose is a graph node that onnxruntime folds
 * into a constant at session creation, so the weights go into the protobuf once, uncopied. Returns [B,S,out]. */
export function linearT(g: GraphBuilder, x: string, w: string, b?: string): string {
  const wt = g.op('Transpose', [w], { perm: A.ints([1, 0]) }); // [in, out]
  const y = g.op('MatMul', [x, wt]); // [B,S,out]
  return b ? g.op('Add', [y, b]) : y;
}

/** Several projections of one x [B,S,in] as one MatMul over their HF weights stacked by rows (w [Σ out, in], b [Σ out]:
 * CheckedWeights.addStacked), split back along the last axis: one GEMM with Σ out columns instead of several narrower
 * ones (onnxruntime does not merge MatMuls that share an input; SmolLM2's k and v have 192 columns each), for one
 * copy of the outputs by the Split. Returns [B,S,out_i] per size. */
export function splitLinear(g: GraphBuilder, x: string, w: string, b: string | undefined, sizes: number[]): string[] {
  const y = linearT(g, x, w, b); // [B,S,Σ out]
  return g.opN('Split', [y, g.constI64(sizes, [sizes.length], 'split')], sizes.length, { axis: A.int(-1) }); // [B,S,out_i]
}

/** x [B,S,in] · W (+ b) with W already [in, out] (GPT-2 Conv1D). Returns [B,S,out]. */
export function linear(g: GraphBuilder, x: string, w: string, b?: string): string {
  const y = g.op('MatMul', [x, w]); // [B,S,out]
  return b ? g.op('Add', [y, b]) : y;
}

/** LayerNorm over the last axis. x [B,S,E] → [B,S,E]. */
export function layerNorm(g: GraphBuilder, x: string, scale: string, bias: string, eps: number): string {
  return g.op('LayerNormalization', [x, scale, bias], { axis: A.int(-1), epsilon: A.float(eps) });
}

/** RMSNorm as HF Llama: x / √(mean(x²) + eps) · w. x [B,S,E] → [B,S,E]. Written as Pow, ReduceMean, Add, Sqrt, Div,
 * Mul: the pattern onnxruntime fuses into one SimplifiedLayerNormalization kernel (one pass instead of six). */
export function rmsNorm(g: GraphBuilder, x: string, weight: string, eps: number): string {
  const sq = g.op('Pow', [x, g.constF([2], [], 'two')]); // [B,S,E]
  const mean = g.op('ReduceMean', [sq], { axes: A.ints([-1]), keepdims: A.int(1) }); // [B,S,1]
  const root = g.op('Sqrt', [g.op('Add', [mean, g.constF([eps], [], 'eps')])]); // [B,S,1]
  return g.op('Mul', [g.op('Div', [x, root]), weight]); // [B,S,E]
}

/** Elementwise activation (recorded in g.activations for AttnLRP's identity rule). */
export function activation(g: GraphBuilder, x: string, act: Activation): string {
  const y = activationOf(g, x, act);
  g.activations.push({ input: x, output: y });
  return y;
}

function activationOf(g: GraphBuilder, x: string, act: Activation): string {
  switch (act) {
    case 'gelu': {
      // 0.5 · x · (1 + erf(x / √2)), divided by √2 as HF does: the pattern onnxruntime fuses into one Gelu kernel
      // (BiasGelu with the bias Add before it); x · (1/√2) was left as five passes (Mul, Erf, Add, Mul, Mul: ~7 % of
      // all-MiniLM-L6-v2's raw run at 512 tokens, bench/raw-profile.ts).
      const e = g.op('Erf', [g.op('Div', [x, g.constF([Math.SQRT2], [], 'sqrt2')])]);
      const onePlus = g.op('Add', [e, g.constF([1], [], 'one')]);
      return g.op('Mul', [g.op('Mul', [x, onePlus]), g.constF([0.5], [], 'half')]);
    }
    case 'gelu_new': {
      // 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
      const x3 = g.op('Mul', [g.op('Mul', [x, x]), x]);
      const inner = g.op('Add', [x, g.op('Mul', [x3, g.constF([0.044715], [], 'gelu_c')])]);
      const t = g.op('Tanh', [g.op('Mul', [inner, g.constF([Math.sqrt(2 / Math.PI)], [], 'sqrt_2_pi')])]);
      const onePlus = g.op('Add', [t, g.constF([1], [], 'one')]);
      return g.op('Mul', [g.op('Mul', [x, onePlus]), g.constF([0.5], [], 'half')]);
    }
    case 'relu':
      return g.op('Relu', [x]);
    case 'silu':
      return g.op('Mul', [x, g.op('Sigmoid', [x])]);
  }
}

/** [B,S,H·D] → [B,H,S,D]. */
export function splitHeads(g: GraphBuilder, x: string, heads: number, headDim: number): string {
  const r = g.op('Reshape', [x, g.constI64([0, 0, heads, headDim], [4], 'shape')]); // [B,S,H,D]
  return g.op('Transpose', [r], { perm: A.ints([0, 2, 1, 3]) }); // [B,H,S,D]
}

/** [B,H,S,D] → [B,S,H·D]. */
export function mergeHeads(g: GraphBuilder, x: string, heads: number, headDim: number): string {
  const t = g.op('Transpose', [x], { perm: A.ints([0, 2, 1, 3]) }); // [B,S,H,D]
  return g.op('Reshape', [t, g.constI64([0, 0, heads * headDim], [3], 'shape')]); // [B,S,H·D]
}

/** HF rotate_half RoPE: x·cos + rotate_half(x)·sin, rotate_half(x) = [-x₂, x₁]. x [B,H,S,D], cos/sin [B,1,S,R].
 * With R < D (partial rotary, phi3) only the first R dimensions rotate; the rest pass through. */
export function rope(g: GraphBuilder, x: string, cos: string, sin: string, headDim: number, rotary = headDim): string {
  if (rotary < headDim) {
    const sizes = g.constI64([rotary, headDim - rotary], [2], 'split');
    const [xr, pass] = g.opN('Split', [x, sizes], 2, { axis: A.int(-1) }); // [B,H,S,R], [B,H,S,D-R]
    return g.op('Concat', [rope(g, xr, cos, sin, rotary), pass], { axis: A.int(-1) }); // [B,H,S,D]
  }
  const [x1, x2] = g.opN('Split', [x], 2, { axis: A.int(-1) }); // [B,H,S,D/2] each
  const rot = g.op('Concat', [g.op('Neg', [x2]), x1], { axis: A.int(-1) }); // [B,H,S,D]
  return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rot, sin])]); // [B,H,S,D]
}

/** Soft-capping cap·tanh(x / cap) (gemma), elementwise. */
export function softcap(g: GraphBuilder, x: string, cap: number): string {
  const c = g.constF([cap], [], 'cap');
  return g.op('Mul', [g.op('Tanh', [g.op('Div', [x, c])]), c]);
}

export interface AttentionOut {
  /** Post-softmax probabilities [B,H,S,S]. */
  probs: string;
  /** Context merged back to [B,S,H·D] (before the output projection). */
  context: string;
}

export interface AttentionOptions {
  /** The factor on q·k (default 1/√D). */
  scale?: number;
  /** cap·tanh(s / cap) on the scaled scores, before the mask (gemma2). */
  softcap?: number | null;
}

/** Scaled dot-product attention. q, k, v [B,H,S,D]; bias [B,1,S,S] additive (0 / -1e9, added after soft-capping, so
 * masked probabilities are exactly 0). */
export function attention(
  g: GraphBuilder,
  q: string,
  k: string,
  v: string,
  bias: string,
  heads: number,
  headDim: number,
  options: AttentionOptions = {},
): AttentionOut {
  const kt = g.op('Transpose', [k], { perm: A.ints([0, 1, 3, 2]) }); // [B,H,D,S]
  const scores = g.op('MatMul', [q, kt]); // [B,H,S,S]
  const scale = options.scale ?? 1 / Math.sqrt(headDim);
  let scaled = g.op('Mul', [scores, g.constF([scale], [], 'scale')]); // [B,H,S,S]
  if (options.softcap) scaled = softcap(g, scaled, options.softcap);
  const biased = g.op('Add', [scaled, bias]); // [B,H,S,S]
  const probs = g.op('Softmax', [biased], { axis: A.int(-1) }); // [B,H,S,S]
  const ctx = g.op('MatMul', [probs, v]); // [B,H,S,D]
  return { probs, context: mergeHeads(g, ctx, heads, headDim) };
}
