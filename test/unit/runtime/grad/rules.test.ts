// Every backward rule of runtime/grad against central finite differences in float64: each case is a small graph of
// one operator (or one fragment of runtime/models/ops.ts: RMSNorm, GELU, RoPE, attention...) whose output is
// weighted by fixed random numbers and summed; the transform's gradient graph runs on onnxruntime (float32) and
// must match the finite differences of the same graph evaluated by the float64 interpreter of
// test/reference/onnx-eval64.ts to a relative norm error ≤ 1e-4. Operators without a rule stop with a LensError
// naming them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSession } from '../../../../runtime/backend/ort';
import { encodeModelPlain } from '../../../../runtime/formats/onnx-encode';
import { A, GraphBuilder } from '../../../../runtime/models/graph-builder';
import { activation, attention, layerNorm, linearT, rmsNorm, rope, softcap } from '../../../../runtime/models/ops';
import { addBackward } from '../../../../runtime/grad/backward';
import { mulberry32 } from '../../../../runtime/random';
import { isLensError } from '../../../../runtime/errors';
import { evalModel64, type T64 } from '../../../reference/onnx-eval64';
import { relativeError } from '../../../helpers/relative-error';

interface Case {
  name: string;
  /** Differentiated inputs: shape, and 'positive' for values in [0.5, 1.5] (else [-1, 1]). */
  inputs: { shape: number[]; positive?: boolean }[];
  /** The output's shape (for the random weights of the sum). */
  out: number[];
  build(g: GraphBuilder, x: string[]): string;
  /** A GELU / SiLU fragment or a LayerNormalization: true where runtime/grad/fused.ts must differentiate it as one (fewer nodes), false
   * where it must not (an inner tensor has another consumer); both ways are checked. */
  fused?: boolean;
  /** Fused with as many nodes as node by node (a rule over smaller tensors: attention's Softmax from do · o): the
   * graphs must differ instead. */
  sameNodeCount?: boolean;
  /** GELU's 1/√2 and ½ folded into the linear layers around it (fused.ts foldGeluScales): Erf reads the first layer's
   * output directly. */
  geluFolded?: boolean;
  /** No Transpose of the backward reads a tensor the forward nodes computed (a copy of an operand). */
  operandsNotCopied?: boolean;
}

/** ops.activation's GELU written out, its erf also read by `extra` (so the fragment cannot be fused). */
function geluErfReadTwice(g: GraphBuilder, x: string): string {
  const e = g.op('Erf', [g.op('Mul', [x, g.constF([Math.SQRT1_2], [])])]);
  const y = g.op('Mul', [g.op('Mul', [x, g.op('Add', [e, g.constF([1], [])])]), g.constF([0.5], [])]);
  return g.op('Add', [y, g.op('Mul', [e, g.constF([0.3], [])])]);
}

const i64 = (g: GraphBuilder, v: number[]) => g.constI64(v, [v.length]);
const cases: Case[] = [
  {
    name: 'Add (broadcast)',
    inputs: [{ shape: [2, 3, 4] }, { shape: [4] }],
    out: [2, 3, 4],
    build: (g, [a, b]) => g.op('Add', [a, b]),
  },
  {
    name: 'Sub (broadcast)',
    inputs: [{ shape: [2, 3, 4] }, { shape: [2, 1, 4] }],
    out: [2, 3, 4],
    build: (g, [a, b]) => g.op('Sub', [a, b]),
  },
  {
    name: 'Mul (broadcast)',
    inputs: [{ shape: [2, 3, 4] }, { shape: [3, 1] }],
    out: [2, 3, 4],
    build: (g, [a, b]) => g.op('Mul', [a, b]),
  },
  {
    name: 'Div (broadcast)',
    inputs: [{ shape: [2, 3, 4] }, { shape: [1, 3, 4], positive: true }],
    out: [2, 3, 4],
    build: (g, [a, b]) => g.op('Div', [a, b]),
  },
  {
    name: 'Pow (constant exponent)',
    inputs: [{ shape: [3, 4], positive: true }],
    out: [3, 4],
    build: (g, [a]) => g.op('Pow', [a, g.constF([3], [])]),
  },
  {
    name: 'MatMul',
    inputs: [{ shape: [2, 3, 4] }, { shape: [4, 5] }],
    out: [2, 3, 5],
    build: (g, [a, b]) => g.op('MatMul', [a, b]),
  },
  {
    name: 'MatMul (batched, broadcast)',
    inputs: [{ shape: [1, 3, 4] }, { shape: [2, 4, 5] }],
    out: [2, 3, 5],
    build: (g, [a, b]) => g.op('MatMul', [a, b]),
  },
  {
    // attention's scores: q [B,S,H,D] → [B,H,S,D] scaled, k [B,S,H,D] → [B,H,D,S]; the product's rule reads the
    // operands as they are (dAᵀ = B·dCᵀ, dBᵀ = dCᵀ·A), so no backward Transpose copies a forward operand
    name: 'MatMul of two transposes (q·kᵀ over heads)',
    inputs: [{ shape: [2, 3, 2, 4] }, { shape: [2, 3, 2, 4] }],
    out: [2, 2, 3, 3],
    build: (g, [q, k]) => {
      const qh = g.op('Transpose', [q], { perm: A.ints([0, 2, 1, 3]) });
      const kT = g.op('Transpose', [k], { perm: A.ints([0, 2, 3, 1]) });
      return g.op('MatMul', [g.op('Mul', [qh, g.constF([0.5], [])]), kT]);
    },
    operandsNotCopied: true,
  },
  {
    name: 'Softmax (last axis)',
    inputs: [{ shape: [2, 3, 5] }],
    out: [2, 3, 5],
    build: (g, [a]) => g.op('Softmax', [a], { axis: A.int(-1) }),
  },
  {
    name: 'Softmax (axis 1)',
    inputs: [{ shape: [2, 3, 5] }],
    out: [2, 3, 5],
    build: (g, [a]) => g.op('Softmax', [a], { axis: A.int(1) }),
  },
  {
    name: 'LogSoftmax',
    inputs: [{ shape: [2, 7] }],
    out: [2, 7],
    build: (g, [a]) => g.op('LogSoftmax', [a], { axis: A.int(-1) }),
  },
  {
    name: 'LayerNormalization',
    inputs: [{ shape: [2, 3, 6] }],
    out: [2, 3, 6],
    build: (g, [a]) =>
      layerNorm(g, a, g.constF([0.5, 1, 1.5, 2, -1, 0.3], [6]), g.constF([0.1, 0, -0.2, 0.3, 0, 1], [6]), 1e-5),
    fused: true,
  },
  {
    // x read by a second consumer too: the fused rule's parts are summed with its gradient; inputs far from 0 (the
    // mean large against the spread, where xc = x − μ must come from the forward's μ)
    name: 'LayerNormalization beside a residual, inputs + 30',
    inputs: [{ shape: [2, 3, 6] }],
    out: [2, 3, 6],
    build: (g, [a]) => {
      const x = g.op('Add', [a, g.constF([30], [])]);
      const y = layerNorm(
        g,
        x,
        g.constF([0.5, 1, 1.5, 2, -1, 0.3], [6]),
        g.constF([0.1, 0, -0.2, 0.3, 0, 1], [6]),
        1e-5,
      );
      return g.op('Add', [y, g.op('Mul', [x, g.constF([0.01], [])])]);
    },
    fused: true,
  },
  {
    name: 'RMSNorm (ops.rmsNorm: Mul, ReduceMean, Add, Sqrt, Reciprocal)',
    inputs: [{ shape: [2, 3, 6] }],
    out: [2, 3, 6],
    build: (g, [a]) => rmsNorm(g, a, g.constF([0.5, 1, 1.5, 2, -1, 0.3], [6]), 1e-6),
    fused: true,
  },
  {
    // x read by a residual too: the fused rule's parts are summed with its gradient
    name: 'RMSNorm beside a residual',
    inputs: [{ shape: [2, 3, 6] }],
    out: [2, 3, 6],
    build: (g, [a]) => {
      const y = rmsNorm(g, a, g.constF([0.5, 1, 1.5, 2, -1, 0.3], [6]), 1e-6);
      return g.op('Add', [y, g.op('Mul', [a, g.constF([0.7], [])])]);
    },
    fused: true,
  },
  {
    // its mean of squares also read elsewhere: not fused
    name: 'RMSNorm whose mean of squares has another reader',
    inputs: [{ shape: [2, 3, 6] }],
    out: [2, 3, 6],
    build: (g, [a]) => {
      const sq = g.op('Pow', [a, g.constF([2], [])]);
      const mean = g.op('ReduceMean', [sq], { axes: A.ints([-1]), keepdims: A.int(1) });
      const root = g.op('Sqrt', [g.op('Add', [mean, g.constF([1e-6], [])])]);
      const y = g.op('Mul', [g.op('Div', [a, root]), g.constF([0.5, 1, 1.5, 2, -1, 0.3], [6])]);
      return g.op('Add', [y, g.op('Mul', [mean, g.constF([0.2], [])])]);
    },
    fused: false,
  },
  {
    name: 'GELU (erf)',
    inputs: [{ shape: [3, 5] }],
    out: [3, 5],
    build: (g, [a]) => activation(g, a, 'gelu'),
    fused: true,
  },
  {
    // |x| up to 20: exp(u²) overflows to ∞ past |x| ≈ 13.3 in float32, where the fused rule's u / exp(u²) must be 0
    name: 'GELU (erf), inputs × 20 (the tails)',
    inputs: [{ shape: [4, 5] }],
    out: [4, 5],
    build: (g, [a]) => activation(g, g.op('Mul', [a, g.constF([20], [])]), 'gelu'),
    fused: true,
  },
  {
    // the feed-forward's shape: GELU's 1/√2 and ½ folded into W₁, b₁ and W₂ (fused.ts foldGeluScales), x·W₁ᵀ ∈ ±3
    name: 'GELU (erf) between two linear layers',
    inputs: [{ shape: [3, 4] }],
    out: [3, 5],
    build: (g, [a]) => {
      const c = (n: number, k: number, dims: number[]) =>
        g.constF(
          Array.from({ length: n }, (_, i) => Math.sin(1.7 * i + k)),
          dims,
        );
      const h = activation(g, linearT(g, a, c(24, 1, [6, 4]), c(6, 2, [6])), 'gelu');
      return linearT(g, h, c(30, 3, [5, 6]), c(5, 4, [5]));
    },
    fused: true,
    geluFolded: true,
  },
  {
    name: 'GELU (erf) whose erf is read elsewhere too',
    inputs: [{ shape: [3, 5] }],
    out: [3, 5],
    build: (g, [a]) => geluErfReadTwice(g, a),
    fused: false,
  },
  { name: 'GELU (tanh)', inputs: [{ shape: [3, 5] }], out: [3, 5], build: (g, [a]) => activation(g, a, 'gelu_new') },
  {
    name: 'SiLU (Sigmoid)',
    inputs: [{ shape: [3, 5] }],
    out: [3, 5],
    build: (g, [a]) => activation(g, a, 'silu'),
    fused: true,
  },
  {
    name: 'SwiGLU: SiLU(a) · b, a × 8',
    inputs: [{ shape: [3, 5] }, { shape: [3, 5] }],
    out: [3, 5],
    build: (g, [a, b]) => g.op('Mul', [activation(g, g.op('Mul', [a, g.constF([8], [])]), 'silu'), b]),
    fused: true,
  },
  { name: 'Relu', inputs: [{ shape: [3, 5] }], out: [3, 5], build: (g, [a]) => activation(g, a, 'relu') },
  { name: 'Soft-cap (Div, Tanh)', inputs: [{ shape: [3, 5] }], out: [3, 5], build: (g, [a]) => softcap(g, a, 0.7) },
  { name: 'Neg', inputs: [{ shape: [4] }], out: [4], build: (g, [a]) => g.op('Neg', [a]) },
  { name: 'Sqrt', inputs: [{ shape: [4], positive: true }], out: [4], build: (g, [a]) => g.op('Sqrt', [a]) },
  {
    name: 'Reciprocal',
    inputs: [{ shape: [4], positive: true }],
    out: [4],
    build: (g, [a]) => g.op('Reciprocal', [a]),
  },
  { name: 'Exp', inputs: [{ shape: [4] }], out: [4], build: (g, [a]) => g.op('Exp', [a]) },
  { name: 'Log', inputs: [{ shape: [4], positive: true }], out: [4], build: (g, [a]) => g.op('Log', [a]) },
  {
    name: 'Cast (float → float), Identity',
    inputs: [{ shape: [4] }],
    out: [4],
    build: (g, [a]) => g.op('Identity', [g.op('Cast', [a], { to: A.int(1) })]),
  },
  {
    name: 'Transpose',
    inputs: [{ shape: [2, 3, 4] }],
    out: [4, 2, 3],
    build: (g, [a]) => g.op('Transpose', [a], { perm: A.ints([2, 0, 1]) }),
  },
  {
    name: 'Reshape',
    inputs: [{ shape: [2, 3, 4] }],
    out: [6, 4],
    build: (g, [a]) => g.op('Reshape', [a, i64(g, [-1, 4])]),
  },
  {
    name: 'Unsqueeze, Squeeze',
    inputs: [{ shape: [3, 4] }],
    out: [3, 1, 4],
    build: (g, [a]) =>
      g.op('Unsqueeze', [g.op('Squeeze', [g.op('Unsqueeze', [a, i64(g, [0])]), i64(g, [0])]), i64(g, [1])]),
  },
  {
    name: 'Expand',
    inputs: [{ shape: [3, 1] }],
    out: [2, 3, 4],
    build: (g, [a]) => g.op('Expand', [a, i64(g, [2, 3, 4])]),
  },
  {
    name: 'Split (sizes; one output unused)',
    inputs: [{ shape: [2, 7] }],
    out: [2, 4],
    build: (g, [a]) => g.opN('Split', [a, i64(g, [3, 4])], 2, { axis: A.int(1) })[1],
  },
  {
    name: 'Split (equal) then Concat',
    inputs: [{ shape: [2, 6] }, { shape: [2, 2] }],
    out: [2, 6],
    build: (g, [a, b]) => {
      const [p, q, r] = g.opN('Split', [a], 3, { axis: A.int(-1) });
      return g.op('Concat', [r, b, g.op('Mul', [p, q])], { axis: A.int(-1) });
    },
  },
  {
    name: 'Slice (negative start)',
    inputs: [{ shape: [2, 6, 3] }],
    out: [2, 3, 3],
    build: (g, [a]) => g.op('Slice', [a, i64(g, [-4]), i64(g, [5]), i64(g, [1])]),
  },
  {
    name: 'Where (broadcast branch)',
    inputs: [{ shape: [2, 4] }, { shape: [4] }],
    out: [2, 4],
    build: (g, [a, b]) => {
      const c = g.op('Greater', [g.constF([1, -1, 2, -3, -1, 1, 1, -2], [2, 4]), g.constF([0], [])]);
      return g.op('Where', [c, a, b]);
    },
  },
  {
    name: 'ReduceSum (axes input, no keepdims)',
    inputs: [{ shape: [2, 3, 4] }],
    out: [2, 4],
    build: (g, [a]) => g.op('ReduceSum', [a, i64(g, [1])], { keepdims: A.int(0) }),
  },
  {
    name: 'ReduceMean (axes attribute)',
    inputs: [{ shape: [2, 3, 4] }],
    out: [2, 3, 1],
    build: (g, [a]) => g.op('ReduceMean', [a], { axes: A.ints([-1]), keepdims: A.int(1) }),
  },
  {
    name: 'RoPE (ops.rope: Split, Neg, Concat, Mul)',
    inputs: [{ shape: [1, 2, 3, 4] }, { shape: [1, 1, 3, 4] }, { shape: [1, 1, 3, 4] }],
    out: [1, 2, 3, 4],
    build: (g, [x, cos, sin]) => rope(g, x, cos, sin, 4),
  },
  {
    name: 'RoPE, partial rotary (Split with sizes)',
    inputs: [{ shape: [1, 2, 3, 6] }],
    out: [1, 2, 3, 6],
    build: (g, [x]) =>
      rope(
        g,
        x,
        g.constF([0.9, 0.5, 0.1, -0.4, 0.8, 0.3, 0.2, 0.7, -0.5, 0.6, 0.4, 0.1], [1, 1, 3, 4]),
        g.constF([0.1, -0.5, 0.9, 0.3, 0.2, 0.8, 0.6, 0.4, 0.7, -0.1, 0.2, 0.9], [1, 1, 3, 4]),
        6,
        4,
      ),
  },
  {
    name: 'attention (ops.attention: MatMul, Transpose, scale, causal bias, Softmax, merge heads)',
    inputs: [{ shape: [1, 2, 3, 4] }, { shape: [1, 2, 3, 4] }, { shape: [1, 2, 3, 4] }],
    out: [1, 3, 8],
    build: (g, [q, k, v]) => {
      const bias = g.constF([0, -1e9, -1e9, 0, 0, -1e9, 0, 0, 0], [1, 1, 3, 3]);
      return attention(g, q, k, v, bias, 2, 4, { softcap: 2 }).context;
    },
  },
  {
    // the Softmax's rule from Σ do ⊙ o over [.., S, D] instead of Σ dP ⊙ P over [.., S, S] (fused.ts)
    name: 'attention, no soft-cap, two rows of a batch',
    inputs: [{ shape: [2, 2, 3, 4] }, { shape: [2, 2, 3, 4] }, { shape: [2, 2, 3, 4] }],
    out: [2, 3, 8],
    build: (g, [q, k, v]) => {
      const bias = g.constF([0, -1e9, -1e9, 0, 0, -1e9, 0, 0, 0], [1, 1, 3, 3]);
      return attention(g, q, k, v, bias, 2, 4).context;
    },
    fused: true,
    sameNodeCount: true,
  },
  {
    // its probabilities read by a second consumer: the Softmax keeps its own rule
    name: 'attention whose probabilities are read elsewhere too',
    inputs: [{ shape: [1, 2, 3, 4] }, { shape: [1, 2, 3, 4] }, { shape: [1, 2, 3, 4] }],
    out: [1, 2, 3, 3],
    build: (g, [q, k, v]) => {
      const bias = g.constF([0, -1e9, -1e9, 0, 0, -1e9, 0, 0, 0], [1, 1, 3, 3]);
      const a = attention(g, q, k, v, bias, 2, 4);
      const c = g.op('Reshape', [a.context, g.constI64([1, 3, 2, 4])]);
      const ct = g.op('Transpose', [c], { perm: A.ints([0, 2, 1, 3]) }); // [1,2,3,4]
      return g.op('Add', [a.probs, g.op('MatMul', [ct, g.op('Transpose', [k], { perm: A.ints([0, 1, 3, 2]) })])]);
    },
    fused: false,
  },
];

function randomInputs(c: Case, seed: number): Float32Array[] {
  const rand = mulberry32(seed);
  return c.inputs.map((inp) =>
    Float32Array.from({ length: inp.shape.reduce((a, d) => a * d, 1) }, () =>
      inp.positive ? 0.5 + rand() : 2 * rand() - 1,
    ),
  );
}

/** The case's graph with total = Σ w ⊙ y (w fixed random). */
function caseModel(c: Case) {
  const g = new GraphBuilder('case');
  const names = c.inputs.map((inp, i) => g.input(`x${i}`, 'float32', inp.shape));
  const y = c.build(g, names);
  const rand = mulberry32(7);
  const w = g.constF(
    Float32Array.from({ length: c.out.reduce((a, d) => a * d, 1) }, () => 2 * rand() - 1),
    c.out,
  );
  const total = g.op('ReduceSum', [g.op('Mul', [y, w])], { keepdims: A.int(0) });
  g.output(total, 'total', 'float32', []);
  return g.toModel();
}

for (const [c, fuse] of cases.flatMap(
  (c) =>
    (c.fused === undefined
      ? [[c, true]]
      : [
          [c, true],
          [c, false],
        ]) as [Case, boolean][],
)) {
  const how = c.fused === undefined ? '' : fuse ? ' (fragments fused)' : ' (node by node)';
  test(`backward rule: ${c.name}${how} matches central finite differences (float64)`, async () => {
    const xs = randomInputs(c, 11);
    const forward = caseModel(c);
    const f = (values: Float64Array[]) => {
      const feeds: Record<string, T64> = {};
      values.forEach((v, i) => (feeds[`x${i}`] = { shape: c.inputs[i].shape, data: v }));
      return evalModel64(forward, feeds).total.data[0];
    };
    const base = xs.map((x) => Float64Array.from(x));
    const h = 1e-5;
    const fd = base.map((x, i) =>
      Float64Array.from(x, (_, j) => {
        const plus = base.map((b) => Float64Array.from(b));
        const minus = base.map((b) => Float64Array.from(b));
        plus[i][j] += h;
        minus[i][j] -= h;
        return (f(plus) - f(minus)) / (2 * h);
      }),
    );

    const grads = c.inputs.map((_, i) => ({ of: `x${i}`, as: `g${i}` }));
    const model = caseModel(c);
    addBackward(model, { target: 'total', grads, fuse });
    if (c.fused !== undefined && fuse) {
      const plain = addBackward(caseModel(c), { target: 'total', grads, fuse: false });
      const [n, nPlain] = [model, plain].map((m) => m.graph!.node!.length);
      const ops = (m: typeof model) => JSON.stringify(m.graph!.node!.map((x) => [x.opType, x.input]));
      if (c.fused && c.sameNodeCount) assert.ok(n === nPlain && ops(model) !== ops(plain), 'a rule of its own');
      else if (c.fused) assert.ok(n < nPlain, `fused: ${n} nodes, node by node: ${nPlain}`);
      else assert.equal(n, nPlain, 'not fused');
    }
    if (c.operandsNotCopied) {
      const forward = new Set(caseModel(c).graph!.node!.flatMap((n) => n.output));
      const copies = model.graph!.node!.filter(
        (n) => n.opType === 'Transpose' && !forward.has(n.output[0]) && forward.has(n.input[0]),
      );
      assert.deepEqual(
        copies.map((n) => n.input[0]),
        [],
        'backward Transposes of forward tensors',
      );
    }
    if (c.geluFolded && fuse) {
      const nodes = model.graph!.node!;
      const erf = nodes.find((x) => x.opType === 'Erf')!;
      const from = nodes.find((x) => x.output.includes(erf.input[0]))?.opType;
      assert.ok(from === 'Add' || from === 'MatMul', `Erf reads a ${from}: GELU's scales were not folded`);
    }
    const session = await createSession(encodeModelPlain(model), { backend: 'native', threads: 1 });
    try {
      const feeds = Object.fromEntries(
        xs.map((x, i) => [`x${i}`, { type: 'float32' as const, dims: c.inputs[i].shape, data: x }]),
      );
      const out = await session.run(
        feeds,
        c.inputs.map((_, i) => `g${i}`),
      );
      c.inputs.forEach((_, i) => {
        const e = relativeError(out[`g${i}`].data, fd[i]);
        assert.ok(e <= 1e-4, `input ${i}: relative error ${e}`);
        assert.ok(
          fd[i].some((v) => Math.abs(v) > 1e-3),
          `input ${i}: the case has a non-trivial gradient`,
        );
      });
    } finally {
      await session.release();
    }
  });
}

test('an operator without a backward rule stops with a LensError naming it', () => {
  for (const [op, build] of [
    ['Max', (g: GraphBuilder, x: string) => g.op('Max', [x, g.constF([0], [])])],
    ['Gather', (g: GraphBuilder, x: string) => g.op('Gather', [x, g.constI64([1, 0], [2])])],
  ] as const) {
    const g = new GraphBuilder('bad');
    const x = g.input('x', 'float32', [3, 2]);
    const total = g.op('ReduceSum', [build(g, x)], { keepdims: A.int(0) });
    g.output(total, 'total', 'float32', []);
    assert.throws(
      () => addBackward(g.toModel(), { target: 'total', grads: [{ of: 'x', as: 'gx' }] }),
      (e: unknown) => isLensError(e) && e.code === 'UNSUPPORTED_MODEL' && e.message.includes(op),
    );
  }
});
