// Backward rules for whole fragments of ops.ts: the rules of rules.ts differentiate a fragment operator by operator,
// which for an activation means as many passes over its [rows, S, intermediate] tensor as the chain has nodes, plus
// the Sum of what its input gets from two consumers. Integrated Gradients runs 33 rows at once, where these passes
// are memory-bound and cost as much as matrix products (all-MiniLM-L6-v2: GELU's 15 elementwise nodes, forward and
// backward, took 21 % of IG). Here the exact GELU (erf) and SiLU of ops.activation are recognised as one unit whose
// gradient is written as one short formula over tensors the forward already has:
//   GELU  y = x·½(1 + erf(u)), u = x/√2:  dx = dy · ½ · (1 + erf(u) + (2/√π) · u / exp(u²))   (7 nodes, was 11)
//   SiLU  y = x·σ(x):                     dx = dy · (σ + y · (1 − σ))                        (4 nodes, was 6)
// LayerNormalization and RMSNorm likewise (their backward from statistics the forward has), and attention's Softmax
// from the gradient of its output o = P·v instead of P's (two passes over [B,H,S,S] instead of four).
// A fragment is fused only when its inner tensors have no other consumer (nothing else needs their gradients).
// And attention's scale moves from the [B,H,S,S] scores to the [B,H,S,D] queries (foldAttentionScale).
// Checked against central finite differences like every rule (test/unit/runtime/grad/rules.test.ts).
import { DataType, type ModelMsg, type NodeMsg, type TensorMsg } from '../formats/onnx-descriptor';
import { attrInt } from './attrs';
import { reduceAxes } from './shapes';
import type { GradGraph } from './grad-graph';

/** A fragment differentiated as one: its last node, the nodes it spans, its input and its rule. */
export interface Fused {
  last: NodeMsg;
  nodes: NodeMsg[];
  input: string;
  /** dx from dy (the gradient of the last node's output), or the parts whose sum it is (summed with the input's other
   * gradients in one Sum). */
  backward(g: GradGraph, dy: string, gradOf: (t: string) => string | undefined): string | string[];
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
export function findFused(
  g: GradGraph,
  forward: readonly NodeMsg[],
  outputs: ReadonlySet<string>,
  options: { rmsNorm: boolean; softmax: boolean } = { rmsNorm: true, softmax: true },
): Fused[] {
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
      const gelu = matchGelu(g, node, producers, only) ?? matchScaledGelu(g, node, only);
      if (gelu) found.push(gelu);
    } else if (node.opType === 'Sigmoid') {
      const silu = matchSilu(node, only);
      if (silu) found.push(silu);
    } else if (node.opType === 'LayerNormalization') {
      const ln = matchLayerNorm(g, node);
      if (ln) found.push(ln);
    } else if (node.opType === 'Softmax' && options.softmax) {
      const sm = matchAttentionSoftmax(g, node, only);
      if (sm) found.push(sm);
    } else if (node.opType === 'Pow' && options.rmsNorm) {
      const rms = matchRmsNorm(g, node, only);
      if (rms) found.push(rms);
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

/** Erf(u) → e → Add(e, 1) → p → Mul(u, p) → h: GELU with its scales folded into the weights around it
 * (foldGeluScales; h = √2 · GELU(√2 u)). dh/du = p + (2/√π) · u · exp(−u²): six passes, as matchGelu's. */
function matchScaledGelu(g: GradGraph, erf: NodeMsg, only: (t: string) => NodeMsg | undefined): Fused | undefined {
  const u = erf.input[0];
  const e = erf.output[0];
  const add = only(e);
  if (add?.opType !== 'Add' || !near(scalarOf(g, other(add, e) ?? ''), 1)) return undefined;
  const p = add.output[0];
  const mul = only(p);
  if (mul?.opType !== 'Mul' || other(mul, p) !== u) return undefined;
  return {
    last: mul,
    nodes: [erf, add, mul],
    input: u,
    backward: (gg, dy) => {
      const r = gg.op('Div', [u, gg.op('Exp', [gg.op('Mul', [u, u])])]); // u·exp(−u²); exp(u²) = ∞ gives 0
      const d = gg.op('Add', [p, gg.op('Mul', [r, gg.constF([2 / Math.sqrt(Math.PI)], [])])]); // dh/du
      return gg.op('Mul', [dy, d]);
    },
  };
}

/**
 * Folds GELU's two constant scales into the linear layers around it, so that its forward runs three passes over
 * [rows, S, intermediate] instead of five: W₁x + b₁ → Mul(1/√2) or Div(√2) → u → Erf → Add 1 → Mul x → Mul ½ → W₂ becomes
 * (W₁/√2)x + b₁/√2 = u → Erf → Add 1 → Mul u → (W₂/√2), since ½ x (1 + erf u) = u (1 + erf u) / √2. Only where
 * each weight, bias and inner tensor has that one reader and the weights are float32 initializers (read directly or
 * through a Transpose, as ops.linearT); the scaled weights are copies (the model's own stay untouched). matchScaledGelu
 * differentiates the result. Modifies the forward graph in place.
 */
export function foldGeluScales(model: ModelMsg): void {
  const graph = model.graph!;
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name!, t]));
  const producers = new Map<string, NodeMsg>();
  const readers = new Map<string, NodeMsg[]>();
  for (const n of graph.node!) {
    for (const o of n.output) producers.set(o, n);
    for (const i of n.input) readers.set(i, [...(readers.get(i) ?? []), n]);
  }
  const outputs = new Set((graph.output ?? []).map((o) => o.name));
  const only = (t: string) => {
    const r = readers.get(t);
    return r?.length === 1 && !outputs.has(t) ? r[0] : undefined;
  };
  const scalar = (name: string | undefined) => {
    const t = name === undefined ? undefined : inits.get(name);
    return t && (t.dataType ?? DataType.FLOAT) === DataType.FLOAT && t.rawData?.byteLength === 4
      ? new DataView(t.rawData.buffer, t.rawData.byteOffset, 4).getFloat32(0, true)
      : undefined;
  };
  /** The float32 initializer a MatMul reads as its weight (directly or through a Transpose), read by it alone. */
  const weightOf = (mm: NodeMsg | undefined): TensorMsg | undefined => {
    if (mm?.opType !== 'MatMul') return undefined;
    let w = mm.input[1];
    const tr = producers.get(w);
    if (tr) {
      if (tr.opType !== 'Transpose' || only(w) !== mm) return undefined;
      w = tr.input[0];
    }
    return floatInit(w, tr ?? mm);
  };
  const floatInit = (name: string, reader: NodeMsg): TensorMsg | undefined => {
    const t = inits.get(name);
    const ok = t && (t.dataType ?? DataType.FLOAT) === DataType.FLOAT && t.rawData && only(name) === reader;
    return ok ? t : undefined;
  };
  const scaled: { t: TensorMsg; by: number }[] = [];
  const dropped = new Set<NodeMsg>();
  for (const erf of graph.node!) {
    if (erf.opType !== 'Erf') continue;
    const scale = producers.get(erf.input[0]);
    if ((scale?.opType !== 'Mul' && scale?.opType !== 'Div') || only(erf.input[0]) !== erf) continue;
    const x = scale.input[0];
    if (!near(scalar(scale.input[1]), scale.opType === 'Mul' ? Math.SQRT1_2 : Math.SQRT2)) continue;
    const add = only(erf.output[0]);
    if (add?.opType !== 'Add' || !near(scalar(other(add, erf.output[0])), 1)) continue;
    const mul = only(add.output[0]);
    if (mul?.opType !== 'Mul' || other(mul, add.output[0]) !== x) continue;
    const half = only(mul.output[0]);
    if (half?.opType !== 'Mul' || !near(scalar(other(half, mul.output[0])), 0.5)) continue;
    if (readers.get(x)?.length !== 2 || outputs.has(x)) continue; // the scale and the product
    // x = MatMul(a, W₁) (+ b₁), and GELU's output feeds MatMul(·, W₂) alone
    const xp = producers.get(x);
    const mm1 = xp?.opType === 'Add' ? producers.get(xp.input[0]) : xp;
    const b1 = xp?.opType === 'Add' ? floatInit(xp.input[1], xp) : undefined;
    if (xp?.opType === 'Add' && (!b1 || only(mm1?.output[0] ?? '') !== xp)) continue;
    const w1 = weightOf(mm1);
    const mm2 = only(half.output[0]);
    const w2 = mm2?.input[0] === half.output[0] ? weightOf(mm2) : undefined;
    if (!w1 || !w2) continue;
    scaled.push({ t: w1, by: Math.SQRT1_2 }, { t: w2, by: Math.SQRT1_2 });
    if (b1) scaled.push({ t: b1, by: Math.SQRT1_2 });
    erf.input = [x];
    mm2!.input = [mul.output[0], mm2!.input[1]];
    dropped.add(scale).add(half);
  }
  for (const { t, by } of scaled) {
    const raw = t.rawData!;
    const from = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    const to = from.map((v) => v * by);
    const copy: TensorMsg = { ...t, rawData: new Uint8Array(to.buffer) };
    graph.initializer = graph.initializer!.map((i) => (i === t ? copy : i));
  }
  graph.node = graph.node!.filter((n) => !dropped.has(n));
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
 * LayerNormalization over the last axis with constant γ, β: its backward reads the Mean and InvStdDev the forward node
 * computes anyway (its optional outputs, added here) instead of recomputing them from x, and ends in the parts of dx,
 * summed in one Sum with the other gradients x gets (the residual's):
 *   dx = σ⁻¹ ĝ − xc · (σ⁻³ mean(ĝ xc)) − σ⁻¹ mean(ĝ),   ĝ = dy γ, xc = x − μ
 * (the plain rule's (1/σ)(ĝ − mean ĝ − x̂ mean(ĝ x̂)), x̂ = xc/σ, with the scalars per row gathered on [.., 1]):
 * six passes over [.., E] and two reductions instead of nine and four.
 */
function matchLayerNorm(g: GradGraph, ln: NodeMsg): Fused | undefined {
  const [x, gamma, beta] = ln.input;
  const rank = g.shape(x).length;
  const axis = attrInt(ln, 'axis') ?? -1;
  if ((axis < 0 ? axis + rank : axis) !== rank - 1) return undefined;
  if (!g.initializerNames.has(gamma) || (beta && !g.initializerNames.has(beta))) return undefined;
  if (ln.output.slice(1).some(Boolean)) return undefined; // its statistics are read already
  return {
    last: ln,
    nodes: [ln],
    input: x,
    backward: (gg, dy) => {
      const [, mu, inv] = gg.outputsOf(ln, 3); // [.., 1]
      const mean = (t: string) => gg.op('ReduceMean', [t], { axes: [-1], keepdims: 1 }); // [.., 1]
      const xc = gg.op('Sub', [x, mu]); // [.., E]
      const gh = gg.op('Mul', [dy, gamma]); // [.., E]
      const k = gg.op('Mul', [mean(gg.op('Mul', [gh, xc])), gg.op('Mul', [inv, gg.op('Mul', [inv, inv])])]); // [.., 1]
      return [
        gg.op('Mul', [gh, inv]),
        gg.op('Mul', [xc, gg.op('Neg', [k])]),
        gg.op('Neg', [gg.op('Mul', [mean(gh), inv])]), // [.., 1], broadcast by the Sum
      ];
    },
  };
}

/**
 * Attention's Softmax whose probabilities P [.., S_q, S_k] are read by one MatMul(P, v) = o alone: the Softmax rule's
 * Σ_k dP ⊙ P over the [.., S_q, S_k] maps equals Σ_d do ⊙ o over the [.., S_q, D] outputs (dP = do · vᵀ, so
 * Σ_k dP_qk P_qk = Σ_d do_qd Σ_k P_qk v_kd; FlashAttention's D), so
 *   dz = P ⊙ (dP − Σ_d do ⊙ o)
 * runs two passes over the maps instead of four (stories260K: D = 8 against S = 64).
 */
function matchAttentionSoftmax(g: GradGraph, sm: NodeMsg, only: (t: string) => NodeMsg | undefined): Fused | undefined {
  const p = sm.output[0];
  const rank = g.shape(p).length;
  const axis = attrInt(sm, 'axis') ?? -1;
  if ((axis < 0 ? axis + rank : axis) !== rank - 1) return undefined;
  const mm = only(p);
  if (mm?.opType !== 'MatMul' || mm.input[0] !== p || mm.input[1] === p) return undefined;
  const o = mm.output[0];
  if (g.shape(o).length !== rank) return undefined;
  return {
    last: sm,
    nodes: [sm],
    input: sm.input[0],
    backward: (gg, dp, gradOf) => {
      const dO = gradOf(o);
      if (!dO)
        return gg.op('Mul', [
          p,
          gg.op('Sub', [dp, gg.op('ReduceSum', [gg.op('Mul', [dp, p]), gg.constI64([-1])], { keepdims: 1 })]),
        ]);
      const d = gg.op('ReduceSum', [gg.op('Mul', [dO, o]), gg.constI64([-1])], { keepdims: 1 }); // [.., S_q, 1]
      return gg.op('Mul', [p, gg.op('Sub', [dp, d])]); // [.., S_q, S_k]
    },
  };
}

/**
 * RMSNorm as ops.rmsNorm writes it, Pow(x, 2) → ReduceMean(last axis) → Add ε → Sqrt → r; Div(x, r) → Mul(·, w) → y
 * with a constant w: differentiated as one, ending in the parts of dx summed with x's other gradients in one Sum:
 *   dx = ĝ / r − x · (mean(ĝ x) / r³),   ĝ = dy w
 * (four passes over [.., E] and one reduction; node by node: Pow's rule alone ran x^1 through the general pow, 13 %
 * of stories260K's IG, beside the Div's two gradients, the ReduceMean's Expand and the Sum of x's three parts).
 */
function matchRmsNorm(g: GradGraph, pow: NodeMsg, only: (t: string) => NodeMsg | undefined): Fused | undefined {
  const [x, two] = pow.input;
  if (scalarOf(g, two) !== 2) return undefined;
  const rank = g.shape(x).length;
  const mean = only(pow.output[0]);
  if (mean?.opType !== 'ReduceMean' || (attrInt(mean, 'keepdims') ?? 1) !== 1) return undefined;
  const axes = reduceAxes(g, mean, rank);
  if (axes.length !== 1 || axes[0] !== rank - 1) return undefined;
  const add = only(mean.output[0]);
  if (add?.opType !== 'Add' || scalarOf(g, other(add, mean.output[0]) ?? '') === undefined) return undefined;
  const sqrt = only(add.output[0]);
  if (sqrt?.opType !== 'Sqrt') return undefined;
  const r = sqrt.output[0];
  const div = only(r);
  if (div?.opType !== 'Div' || div.input[0] !== x || div.input[1] !== r) return undefined;
  const mul = only(div.output[0]);
  const w = mul && other(mul, div.output[0]);
  if (mul?.opType !== 'Mul' || !w || !g.initializerNames.has(w)) return undefined;
  return {
    last: mul,
    nodes: [pow, mean, add, sqrt, div, mul],
    input: x,
    backward: (gg, dy) => {
      const gh = gg.op('Mul', [dy, w]); // [.., E]
      const m = gg.op('ReduceMean', [gg.op('Mul', [gh, x])], { axes: [-1], keepdims: 1 }); // [.., 1]
      const k = gg.op('Div', [m, gg.op('Mul', [r, gg.op('Mul', [r, r])])]); // mean(ĝ x) / r³ [.., 1]
      return [gg.op('Div', [gh, r]), gg.op('Mul', [x, gg.op('Neg', [k])])];
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
