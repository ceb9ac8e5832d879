// Drives the stage engine (runtime/inspector/engine.ts) in-process on a toy two-layer attention model built with
// the graph builder, and checks the streamed attention against a plain-JS computation of the same model: layer order,
// values, causal zeros, q/k fetched only on request, and cancellation between layers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { A, GraphBuilder } from '../../../../runtime/models/graph-builder';
import type { Batch, GraphPlan, Stage, StageFeeds } from '../../../../runtime/models/plan';
import { StageEngine } from '../../../../runtime/inspector/engine';
import type { LayerAttention } from '../../../../runtime/types';
import { isLensError } from '../../../../runtime/errors';

const V = 7; // vocabulary
const E = 4; // hidden
const H = 2; // heads
const D = E / H; // head dim
const L = 2; // layers

/** Deterministic pseudo-random weights in [-1, 1). */
function weights(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

const emb = weights(V * E, 1); // [V, E]
const wq = Array.from({ length: L }, (_, l) => weights(E * E, 10 + l)); // [E, E] each
const wk = Array.from({ length: L }, (_, l) => weights(E * E, 20 + l));

function embedStage(): Stage {
  const g = new GraphBuilder('embed');
  const ids = g.input('input_ids', 'int64', [1, 'seq']);
  g.output(g.op('Gather', [g.weight('emb', emb, [V, E]), ids], { axis: A.int(0) }), 'hidden', 'float32', [1, 'seq', E]);
  return { role: 'embed', onnx: g.toBytes(), inputNames: ['input_ids'], outputNames: ['hidden'] };
}

function layerStage(l: number): Stage {
  const g = new GraphBuilder(`layer${l}`);
  const x = g.input('hidden', 'float32', [1, 'seq', E]);
  const bias = g.input('attn_bias', 'float32', [1, 1, 'seq', 'seq']);
  const split = g.constI64([0, -1, H, D]);
  const heads = (w: Float32Array, name: string) =>
    g.op('Transpose', [g.op('Reshape', [g.op('MatMul', [x, g.weight(name, w, [E, E])]), split])], {
      perm: A.ints([0, 2, 1, 3]),
    });
  const q = heads(wq[l], 'wq'); // [1, H, S, D]
  const k = heads(wk[l], 'wk'); // [1, H, S, D]
  const kt = g.op('Transpose', [k], { perm: A.ints([0, 1, 3, 2]) }); // [1, H, D, S]
  const scores = g.op('Add', [
    g.op('Mul', [g.op('MatMul', [q, kt]), g.weight('scale', Float32Array.of(1 / Math.sqrt(D)), [])]),
    bias,
  ]);
  const attn = g.op('Softmax', [scores], { axis: A.int(-1) }); // [1, H, S, S]
  const ctx = g.op('MatMul', [attn, q]); // values = queries in this toy: [1, H, S, D]
  const merged = g.op('Reshape', [g.op('Transpose', [ctx], { perm: A.ints([0, 2, 1, 3]) }), g.constI64([0, 0, E])]);
  g.output(g.op('Add', [x, merged]), 'hidden_out', 'float32', [1, 'seq', E]);
  g.output(attn, 'attn', 'float32', [1, H, 'seq', 'seq']);
  g.output(q, 'q', 'float32', [1, H, 'seq', D]);
  g.output(k, 'k', 'float32', [1, H, 'seq', D]);
  g.output(q, 'v', 'float32', [1, H, 'seq', D]);
  const onnx = g.toBytes();
  return {
    role: 'layer',
    layer: l,
    onnx,
    inputNames: ['hidden', 'attn_bias'],
    outputNames: ['hidden_out', 'attn', 'q', 'k', 'v'],
    vectors: () => onnx,
  };
}

function headStage(): Stage {
  const g = new GraphBuilder('head');
  g.output(g.input('hidden', 'float32', [1, 'seq', E]), 'last_hidden', 'float32', [1, 'seq', E]);
  return { role: 'head', onnx: g.toBytes(), inputNames: ['hidden'], outputNames: ['last_hidden'] };
}

function toyPlan(): GraphPlan {
  return {
    facts: {
      family: 'llama',
      modelType: 'toy',
      layers: L,
      heads: H,
      kvHeads: H,
      headDim: D,
      hidden: E,
      vocabSize: V,
      maxPositions: 16,
      attentionKinds: ['causal', 'causal'],
      hasLmHead: false,
    },
    stages: [embedStage(), layerStage(0), layerStage(1), headStage()],
    feeds(batch: Batch): StageFeeds {
      const s = batch.ids[0].length;
      const bias = new Float32Array(s * s); // [1, 1, S, S]
      for (let i = 0; i < s; i++) for (let j = i + 1; j < s; j++) bias[i * s + j] = -1e9;
      return {
        embed: { input_ids: { type: 'int64', dims: [1, s], data: BigInt64Array.from(batch.ids[0], BigInt) } },
        layer: { attn_bias: { type: 'float32', dims: [1, 1, s, s], data: bias } },
      };
    },
  };
}

/** The toy model in plain JS, float64: per layer [H, S, S] attention. */
function expected(ids: number[]): Float64Array[] {
  const s = ids.length;
  let x = ids.flatMap((id) => Array.from(emb.subarray(id * E, id * E + E))); // [S, E]
  const out: Float64Array[] = [];
  for (let l = 0; l < L; l++) {
    const proj = (w: Float32Array) => {
      const y = new Float64Array(s * E); // [S, E]
      for (let i = 0; i < s; i++)
        for (let o = 0; o < E; o++) for (let c = 0; c < E; c++) y[i * E + o] += x[i * E + c] * w[c * E + o];
      return y;
    };
    const q = proj(wq[l]);
    const k = proj(wk[l]);
    const attn = new Float64Array(H * s * s); // [H, S, S]
    const next = [...x];
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < s; i++) {
        const logits: number[] = [];
        for (let j = 0; j <= i; j++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[i * E + h * D + d] * k[j * E + h * D + d];
          logits.push(dot / Math.sqrt(D));
        }
        const m = Math.max(...logits);
        const e = logits.map((v) => Math.exp(v - m));
        const z = e.reduce((a, b) => a + b, 0);
        e.forEach((v, j) => (attn[(h * s + i) * s + j] = v / z));
        for (let d = 0; d < D; d++) {
          let acc = 0;
          for (let j = 0; j <= i; j++) acc += attn[(h * s + i) * s + j] * q[j * E + h * D + d];
          next[i * E + h * D + d] += acc;
        }
      }
    }
    out.push(attn);
    x = next;
  }
  return out;
}

const ids = [1, 5, 2, 6, 0, 3];

test('streams every layer in order, equal to a plain-JS computation, causal zeros exact', async () => {
  const engine = await StageEngine.create(toyPlan(), 'native', 1);
  try {
    const layers: LayerAttention[] = [];
    const vectors: (Float32Array | undefined)[] = [];
    const result = await engine.run(ids, {
      withVectors: false,
      onLayer: (a, q, k) => {
        layers.push(a);
        vectors.push(q, k);
      },
    });
    assert.deepEqual(
      layers.map((a) => a.layer),
      [0, 1],
    );
    assert.ok(
      vectors.every((v) => v === undefined),
      'q/k are not fetched unless asked for',
    );
    const want = expected(ids);
    const s = ids.length;
    for (const a of layers) {
      assert.equal(a.data.length, H * s * s);
      assert.equal(a.kind, 'causal');
      for (let i = 0; i < a.data.length; i++) {
        assert.ok(
          Math.abs(a.data[i] - want[a.layer][i]) < 1e-5,
          `layer ${a.layer} [${i}]: ${a.data[i]} vs ${want[a.layer][i]}`,
        );
        const q = Math.floor(i / s) % s;
        if (i % s > q) assert.equal(a.data[i], 0, 'masked entries are exactly 0');
      }
    }
    assert.equal(result.lastHidden.length, s * E);
    assert.equal(result.stageMs.length, L + 2);
  } finally {
    await engine.release();
  }
});

test('withVectors returns q and k of [heads, seq, headDim]', async () => {
  const engine = await StageEngine.create(toyPlan(), 'native', 1);
  try {
    const sizes: number[] = [];
    await engine.run(ids, { withVectors: true, onLayer: (_a, q, k) => sizes.push(q!.length, k!.length) });
    assert.deepEqual(sizes, Array(2 * L).fill(H * ids.length * D));
  } finally {
    await engine.release();
  }
});

test('withVectors as a list returns q and k of the listed layers only', async () => {
  const engine = await StageEngine.create(toyPlan(), 'native', 1);
  try {
    const got: boolean[] = [];
    await engine.run(ids, { withVectors: [1], onLayer: (_a, q, k) => got.push(q !== undefined && k !== undefined) });
    assert.deepEqual(got, [false, true]);
  } finally {
    await engine.release();
  }
});

test('a cancel seen between layers stops the run with CANCELLED; the engine still runs afterwards', async () => {
  const engine = await StageEngine.create(toyPlan(), 'wasm', 1);
  try {
    let seen = 0;
    await assert.rejects(
      engine.run(ids, { withVectors: false, isCancelled: () => seen >= 1, onLayer: () => seen++ }),
      (e: unknown) => isLensError(e) && e.code === 'CANCELLED',
    );
    assert.equal(seen, 1);
    let after = 0;
    await engine.run(ids, { withVectors: false, onLayer: () => after++ });
    assert.equal(after, L);
  } finally {
    await engine.release();
  }
});

test('a released engine refuses to run', async () => {
  const engine = await StageEngine.create(toyPlan(), 'native', 1);
  await engine.release();
  await assert.rejects(
    engine.run(ids, { withVectors: false, onLayer: () => undefined }),
    (e: unknown) => isLensError(e) && e.code === 'DISPOSED',
  );
});
