// Exact attention recomputed from a layer's kept q and k (runtime/attention/) against independent references:
// hand-computed softmaxes (causal, window, soft-cap, padded key, shared key heads); the full dense maps the
// family graphs compute in onnxruntime (stories260K; hf-tiny gemma2 with windows, soft-cap and its own scale;
// mistral's window; qwen3's q/k norms) for every value, rows, columns and the per-head summaries (entropy, top-k,
// specials, distance, previous token, the overview pooled as figures/heads.ts poolWindow pools the full map);
// the query-row blocked variant of llama, bert (all-MiniLM-L6-v2, padding mask from key_mask) and gpt2 (tiny-gpt2,
// causal from positions) on native and Wasm against the maps computed whole; and a
// 2,048-token SmolLM2 (GGUF) layer 0 whose chosen rows are also computed by plain float64 loops from the weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExactAttention } from '../../../../runtime/attention/exact-attention';
import { summariseHead } from '../../../../runtime/attention/head-summaries';
import { keepLayerQK, type LayerQK } from '../../../../runtime/attention/layer-qk';
import { KeptRun } from '../../../../runtime/attention/kept-run';
import { StageEngine } from '../../../../runtime/inspector/engine';
import {
  BLOCK_BYTES,
  POOL,
  QUERY_ROWS,
  QUERY_ROWS_INPUT,
  queryRows,
  summaryNames,
} from '../../../../runtime/models/attention-summaries';
import { createSession } from '../../../../runtime/backend/ort';
import { buildPlan, readModel, type ModelSource } from '../../../../runtime/models/read-model';
import { readGgufModel } from '../../../../runtime/models/gguf-source';
import { layerOutputs, type Batch, type GraphPlan } from '../../../../runtime/models/plan';
import { poolWindow } from '../../../../figures/heads';
import { decodeModel } from '../../../../runtime/formats/onnx-schema';
import { runPlan } from '../../../reference/run-plan';
import { fixtureModel, hfTinyModel, miniLmDir, smolLm2Gguf } from '../../../helpers/fixtures';
import { isLensError } from '../../../../runtime/errors';

const TOL = 1e-5;

/** A seeded sequence of token ids in [lo, hi). */
function ids(n: number, lo: number, hi: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (s % (hi - lo));
  });
}

function qkOf(q: number[], k: number[], heads: number, kvHeads: number, D: number, rule: LayerQK['rule']): LayerQK {
  const length = q.length / (heads * D);
  return {
    layer: 0,
    heads,
    kvHeads,
    length,
    headDim: D,
    q: Float32Array.from(q),
    k: Float32Array.from(k),
    rule,
  };
}

test('hand-computed softmaxes: causal, window, soft-cap, a padded key and shared key heads', () => {
  const L2 = Math.log(2);
  const L3 = Math.log(3);
  // Keys [3, 1]: logits of query [1] against them are 0, ln 2, ln 3 → weights 1 : 2 : 3.
  const k = [0, L2, L3];
  // Two query heads share the one key head; head 1's query is [2] (logits 0, 2 ln 2, 2 ln 3 → 1 : 4 : 9).
  const q = [1, 1, 1, 2, 2, 2];
  const causal = new ExactAttention(qkOf(q, k, 2, 1, 1, { scale: 1, softcap: null, causal: true, window: null }));
  assert.ok(Math.abs(causal.value(0, 2, 0) - 1 / 6) < 1e-7);
  assert.ok(Math.abs(causal.value(0, 2, 2) - 3 / 6) < 1e-7);
  assert.ok(Math.abs(causal.value(0, 1, 1) - 2 / 3) < 1e-7);
  assert.equal(causal.value(0, 0, 0), 1);
  assert.equal(causal.value(0, 0, 1), 0); // a later key: exactly 0
  assert.ok(Math.abs(causal.value(1, 2, 1) - 4 / 14) < 1e-7);
  const column = causal.column(1, 2);
  assert.ok(column[0] === 0 && column[1] === 0 && Math.abs(column[2] - 9 / 14) < 1e-7);
  const windowed = new ExactAttention(qkOf(q, k, 2, 1, 1, { scale: 1, softcap: null, causal: true, window: 2 }));
  const row = windowed.row(0, 2);
  assert.ok(row[0] === 0 && Math.abs(row[1] - 2 / 5) < 1e-7 && Math.abs(row[2] - 3 / 5) < 1e-7);
  // Soft-cap 1 with scale 0.5: logits tanh(0.5 · x).
  const capped = new ExactAttention(qkOf(q, k, 2, 1, 1, { scale: 0.5, softcap: 1, causal: false, window: null }));
  const e = [0, L2, L3].map((x) => Math.exp(Math.tanh(0.5 * x)));
  assert.ok(Math.abs(capped.value(0, 0, 1) - e[1] / (e[0] + e[1] + e[2])) < 1e-7);
  // A padded key is never attended.
  const padded = new ExactAttention({
    ...qkOf(q, k, 2, 1, 1, { scale: 1, softcap: null, causal: false, window: null }),
    keyMask: Uint8Array.of(1, 0, 1),
  });
  const padRow = padded.row(0, 0);
  assert.ok(Math.abs(padRow[0] - 1 / 4) < 1e-7 && padRow[1] === 0 && Math.abs(padRow[2] - 3 / 4) < 1e-7);
  // Out of range: one clear line.
  assert.throws(
    () => causal.value(2, 0, 0),
    (e: unknown) => isLensError(e) && /Head 2 is outside the layer's 2 heads/.test(e.message),
  );
  assert.throws(
    () => causal.row(0, 3),
    (e: unknown) => isLensError(e) && /Position 3 is outside the 3/.test(e.message),
  );
});

test('keepLayerQK keeps k once per key/value head and refuses repeated heads that differ, in one line', () => {
  const facts = { heads: 2, kvHeads: 1, headDim: 1, attentionKinds: ['causal'] } as unknown as Parameters<
    typeof keepLayerQK
  >[0];
  const kept = keepLayerQK(facts, 0, Float32Array.of(1, 2, 3, 4), Float32Array.of(5, 6, 5, 6));
  assert.deepEqual(Array.from(kept.k), [5, 6]);
  assert.equal(kept.rule.scale, 1);
  assert.equal(kept.rule.causal, true);
  assert.throws(
    () => keepLayerQK(facts, 3, Float32Array.of(1, 2, 3, 4), Float32Array.of(5, 6, 5, 7)),
    (e: unknown) =>
      isLensError(e) &&
      /^Layer 3: query heads 0 and 1 should share key head 0 but their keys differ\.$/.test(e.message),
  );
  assert.throws(
    () => keepLayerQK(facts, 0, Float32Array.of(1, 2, 3, 4), Float32Array.of(5, 6)),
    (e: unknown) => isLensError(e) && /q has 4 values and k 2/.test(e.message),
  );
});

test('the summaries of a hand-computed head: entropy, top-k, specials, distance, previous token, overview', () => {
  const L2 = Math.log(2);
  const L3 = Math.log(3);
  const ex = new ExactAttention(
    qkOf([1, 1, 1], [0, L2, L3], 1, 1, 1, { scale: 1, softcap: null, causal: true, window: null }),
  );
  const s = summariseHead(ex, 0, { topK: 2, specials: [0], block: 1 });
  const H = (ps: number[]) => -ps.reduce((a, p) => a + p * Math.log(p), 0);
  const want = [H([1]), H([1 / 3, 2 / 3]), H([1 / 6, 2 / 6, 3 / 6])];
  want.forEach((w, i) => assert.ok(Math.abs(s.entropy[i] - w) < 1e-6, `entropy ${i}`));
  assert.deepEqual(Array.from(s.topKeys), [0, -1, 1, 0, 2, 1]);
  assert.ok(Math.abs(s.topWeights[4] - 0.5) < 1e-7 && Math.abs(s.topWeights[5] - 1 / 3) < 1e-7);
  assert.ok(Math.abs(s.specialMass[2] - 1 / 6) < 1e-7 && s.specialMass[0] === 1);
  // distance: row 1: 1/3 · 1; row 2: 1/6 · 2 + 2/6 · 1 → mean (1/3 + 2/3) / 3.
  assert.ok(Math.abs(s.meanDistance - 1 / 3) < 1e-7);
  assert.ok(Math.abs(s.previousToken - (1 / 3 + 2 / 6) / 2) < 1e-7);
  assert.ok(Math.abs(s.blockMax[2 * 3 + 2] - 0.5) < 1e-7 && s.blockMax[1] === 0);
});

/** Checks every head of every layer of a run: values, rows, columns and summaries against the dense maps. */
function checkAgainstDense(
  label: string,
  plan: GraphPlan,
  dense: Float32Array[],
  q: Float32Array[],
  k: Float32Array[],
) {
  const { heads } = plan.facts;
  const options = { topK: 3, specials: [0], block: 8 };
  const keptRun = new KeptRun(plan.facts, options);
  for (let l = 0; l < dense.length; l++) {
    const ex = new ExactAttention(keepLayerQK(plan.facts, l, q[l], k[l]));
    const n = ex.length;
    const attention = { layer: l, kind: plan.facts.attentionKinds[l], heads, queryLength: n, keyLength: n };
    const keptLayer = keptRun.add({ ...attention, data: dense[l] }, q[l], k[l]);
    const rule = ex.qk.rule;
    for (let h = 0; h < heads; h++) {
      const map = dense[l].subarray(h * n * n, (h + 1) * n * n); // [query, key]
      const s = summariseHead(ex, h, options);
      // The run kept for long inputs: summaries and each row's lse read from the dense map, values from q and k.
      const kept = keptLayer.heads[h];
      assert.deepEqual(kept.topKeys, s.topKeys, `${label}: the same top keys from the dense map and from q and k`);
      for (const key of ['entropy', 'topWeights', 'specialMass', 'blockMax', 'blockMean'] as const)
        kept[key].forEach((v, i) => assert.ok(Math.abs(v - s[key][i]) <= 1e-5, `${label}: ${key} from the map`));
      const all = keptLayer.exact.window(h, { start: 0, end: n }, { start: 0, end: n }); // [n, n]
      const recomputed = ex.window(h, { start: 0, end: n }, { start: 0, end: n }); // [n, n], lse from q and k
      let worst = 0;
      for (let i = 0; i < n * n; i++) {
        worst = Math.max(worst, Math.abs(all[i] - map[i]), Math.abs(recomputed[i] - map[i]));
        if (ex.masked(Math.floor(i / n), i % n))
          assert.ok(all[i] === 0 && map[i] === 0, `${label} layer ${l} head ${h}: masked entry ${i} is exactly 0`);
      }
      assert.ok(worst <= TOL, `${label} layer ${l} head ${h}: max |exact − dense| ${worst}`);
      for (const j of [0, Math.floor(n / 2), n - 1]) {
        const col = ex.column(h, j);
        for (let i = 0; i < n; i++) assert.ok(Math.abs(col[i] - map[i * n + j]) <= TOL, `${label} column ${j}`);
      }
      let distance = 0;
      let previous = 0;
      for (let i = 0; i < n; i++) {
        const row = map.subarray(i * n, (i + 1) * n);
        let ent = 0;
        for (let j = 0; j < n; j++) {
          if (row[j] > 0) ent -= row[j] * Math.log(row[j]);
          distance += row[j] * (i - j);
        }
        if (i > 0) previous += row[i - 1];
        assert.ok(Math.abs(s.entropy[i] - ent) <= 1e-4, `${label} layer ${l} head ${h} entropy of row ${i}`);
        assert.ok(Math.abs(s.specialMass[i] - row[0]) <= TOL);
        const best = Array.from(row, (p, j) => [p, j]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
        for (let t = 0; t < Math.min(3, i + 1); t++) {
          assert.ok(Math.abs(s.topWeights[i * 3 + t] - best[t][0]) <= TOL, `${label} top-${t} weight of row ${i}`);
          if (best[t][0] - (best[t + 1]?.[0] ?? -1) > 1e-5)
            assert.equal(s.topKeys[i * 3 + t], best[t][1], `${label} layer ${l} head ${h} top-${t} key of row ${i}`);
        }
      }
      assert.ok(Math.abs(s.meanDistance - distance / n) <= 1e-4);
      assert.ok(Math.abs(s.previousToken - previous / (n - 1)) <= TOL);
      const span = { start: 0, end: n };
      const mask = { causal: rule.causal, window: rule.window };
      const max = poolWindow(map, 0, n, span, span, s.res, s.res, mask, 'max').values;
      const mean = poolWindow(map, 0, n, span, span, s.res, s.res, mask, 'mean').values;
      for (let c = 0; c < s.res * s.res; c++) {
        assert.ok(Math.abs(s.blockMax[c] - max[c]) <= TOL, `${label} layer ${l} head ${h} block max ${c}`);
        assert.ok(Math.abs(s.blockMean[c] - mean[c]) <= TOL, `${label} layer ${l} head ${h} block mean ${c}`);
      }
    }
  }
}

async function denseRun(source: ModelSource, n: number, seed: number) {
  const plan = buildPlan(source);
  const batch: Batch = { ids: [ids(n, 3, source.config.vocabSize, seed)], mask: [Array(n).fill(1)] };
  return { plan, run: await runPlan(plan, batch, 'native') };
}

test('stories260K: exact values, rows, columns and summaries equal the dense maps of every layer and head', async () => {
  const { plan, run } = await denseRun(await readModel(fixtureModel('stories260K')), 96, 7);
  checkAgainstDense('stories260K', plan, run.attn, run.q, run.k);
});

for (const name of ['gemma2', 'mistral', 'qwen3'] as const)
  test(`hf-tiny ${name}: exact values equal the dense maps (windows, soft-cap, scale, q/k norms)`, async () => {
    const source = await readModel(hfTinyModel(name));
    const { plan, run } = await denseRun(source, 40, 11);
    if (name === 'gemma2') {
      assert.equal(plan.facts.attentionSoftcap, 2);
      assert.deepEqual(plan.facts.slidingWindows, [8, null, 8, null]);
    }
    checkAgainstDense(name, plan, run.attn, run.q, run.k);
  });

/** x rounded to the nearest IEEE half-precision value (normal range). */
function toHalf(x: number): number {
  if (x === 0) return 0;
  const e = Math.max(-14, Math.floor(Math.log2(Math.abs(x))));
  const ulp = 2 ** (e - 10);
  return Math.round(x / ulp) * ulp;
}

test('q and k kept in half precision would move the probabilities by more than 1e-5 (why float32 is kept)', async () => {
  const { plan, run } = await denseRun(await readModel(hfTinyModel('gemma2')), 40, 11);
  let worst = 0;
  for (let l = 0; l < run.attn.length; l++) {
    const qk = keepLayerQK(plan.facts, l, run.q[l], run.k[l]);
    const half = new ExactAttention({ ...qk, q: qk.q.map(toHalf), k: qk.k.map(toHalf) });
    const n = qk.length;
    for (let h = 0; h < qk.heads; h++) {
      const all = half.window(h, { start: 0, end: n }, { start: 0, end: n });
      for (let i = 0; i < n * n; i++) worst = Math.max(worst, Math.abs(all[i] - run.attn[l][h * n * n + i]));
    }
  }
  assert.ok(worst > TOL, `half precision moved values by at most ${worst}`);
});

test('SmolLM2 (GGUF) over 2,048 tokens, layer 0: chosen rows equal the dense map and plain float64 loops', async () => {
  const source = readGgufModel(smolLm2Gguf());
  const c = source.config;
  const n = 2048;
  const tokens = ids(n, 3, c.vocabSize, 5);
  const plan = buildPlan(source);
  const stage = plan.stages[0];
  assert.equal(stage.role, 'layer');
  assert.equal(stage.layer, 0);
  const feeds = plan.feeds({ ids: [tokens], mask: [Array(n).fill(1)] });
  const session = await createSession(stage.vectors!(), { backend: 'native', threads: 2 });
  const names = layerOutputs(stage)[0];
  let dense: Float32Array;
  let qk: LayerQK;
  try {
    const all = { ...feeds.embed, ...feeds.layer };
    const inputs = Object.fromEntries(stage.inputNames.map((x) => [x, all[x]]));
    const out = await session.run(inputs, [names.attn, names.q, names.k]);
    dense = out[names.attn].data; // [1, H, n, n]
    qk = keepLayerQK(plan.facts, 0, out[names.q].data, out[names.k].data);
  } finally {
    await session.release();
  }
  const ex = new ExactAttention(qk);
  const { heads: H, kvHeads: KV, headDim: D, hidden: E } = c;
  assert.equal(qk.k.length, KV * n * D); // k kept once per key/value head

  // Plain loops from the weights: embedding → RMSNorm → q, k projections → RoPE (rotate_half) → causal softmax.
  const w = (name: string) => source.weights.get(source.weights.names().find((x) => x.endsWith(name))!);
  const emb = w('embed_tokens.weight'); // [V, E]
  const norm = w('layers.0.input_layernorm.weight'); // [E]
  const wq = w('layers.0.self_attn.q_proj.weight'); // [H·D, E]
  const wk = w('layers.0.self_attn.k_proj.weight'); // [KV·D, E]
  assert.equal(c.rope?.type, 'default');
  assert.equal(c.rope.dim, D);
  const theta = c.rope.theta;
  const x = (t: number): Float64Array => {
    const row = emb.subarray(tokens[t] * E, (tokens[t] + 1) * E);
    let ms = 0;
    for (const v of row) ms += v * v;
    const r = 1 / Math.sqrt(ms / E + c.normEps);
    return Float64Array.from(row, (v, e) => v * r * norm[e]);
  };
  const project = (weights: Float32Array, head: number, xs: Float64Array, pos: number): Float64Array => {
    const v = new Float64Array(D); // [D]
    for (let d = 0; d < D; d++) {
      let s = 0;
      for (let e = 0; e < E; e++) s += weights[(head * D + d) * E + e] * xs[e];
      v[d] = s;
    }
    const out = new Float64Array(D);
    for (let d = 0; d < D / 2; d++) {
      const a = pos * theta ** ((-2 * d) / D);
      out[d] = v[d] * Math.cos(a) - v[d + D / 2] * Math.sin(a);
      out[d + D / 2] = v[d + D / 2] * Math.cos(a) + v[d] * Math.sin(a);
    }
    return out;
  };
  const rows = [0, 1, 777, 2047];
  const heads = [0, 4, 8];
  const xs = Array.from({ length: n }, (_, t) => x(t));
  for (const kv of new Set(heads.map((h) => Math.floor(h / (H / KV))))) {
    const keys = xs.map((xt, t) => project(wk, kv, xt, t)); // [n, D]
    for (const h of heads.filter((hh) => Math.floor(hh / (H / KV)) === kv))
      for (const i of rows) {
        const qi = project(wq, h, xs[i], i);
        const logits = keys.slice(0, i + 1).map((kj) => kj.reduce((s, v, d) => s + v * qi[d], 0) / Math.sqrt(D));
        const m = Math.max(...logits);
        const z = logits.reduce((s, v) => s + Math.exp(v - m), 0);
        const got = ex.row(h, i);
        let fromLoops = 0;
        let fromDense = 0;
        for (let j = 0; j < n; j++) {
          const want = j <= i ? Math.exp(logits[j] - m) / z : 0;
          fromLoops = Math.max(fromLoops, Math.abs(got[j] - want));
          fromDense = Math.max(fromDense, Math.abs(got[j] - dense[(h * n + i) * n + j]));
        }
        assert.ok(fromDense <= TOL, `head ${h} row ${i}: max |exact − dense| ${fromDense}`);
        assert.ok(fromLoops <= 1e-4, `head ${h} row ${i}: max |exact − loops| ${fromLoops}`);
        assert.ok(Math.abs(ex.value(h, i, Math.floor(i / 2)) - dense[(h * n + i) * n + Math.floor(i / 2)]) <= TOL);
      }
  }
});

/** Checks a run kept from the graph's summaries (the map never fetched) against the dense maps of the same input. */
async function checkGraphSummaries(
  label: string,
  source: ModelSource,
  n: number,
  backend: 'native' | 'wasm' = 'native',
  rows?: number,
) {
  const { plan, run } = await denseRun(source, n, 3);
  const engine = await StageEngine.create(plan, backend, 1);
  const K = 4;
  const specials = [0, 5];
  const kept = new KeptRun(plan.facts, { topK: K, specials, block: POOL });
  try {
    await engine.run(ids(n, 3, source.config.vocabSize, 3), {
      withVectors: false,
      onLayer: () => assert.fail('no map leaves the graph in the summaries variant'),
      summaries: { topK: K, specials, onSummaries: (t) => kept.addSummaries(t), ...(rows ? { rows } : {}) },
    });
  } finally {
    await engine.release();
  }
  const { heads } = plan.facts;
  const res = Math.ceil(n / POOL);
  for (let l = 0; l < plan.facts.layers; l++) {
    const layer = kept.layer(l)!;
    for (let h = 0; h < heads; h++) {
      const map = run.attn[l].subarray(h * n * n, (h + 1) * n * n); // [query, key]
      const s = layer.heads[h];
      const where = `${label} layer ${l} head ${h}`;
      const all = layer.exact.window(h, { start: 0, end: n }, { start: 0, end: n });
      let worst = 0;
      for (let i = 0; i < n * n; i++) worst = Math.max(worst, Math.abs(all[i] - map[i]));
      assert.ok(worst <= TOL, `${where}: max |exact − dense| ${worst}`);
      let distance = 0;
      let previous = 0;
      const max = new Float32Array(res * res);
      const sum = new Float64Array(res * res);
      const count = new Float64Array(res * res);
      for (let i = 0; i < n; i++) {
        const row = map.subarray(i * n, (i + 1) * n);
        let ent = 0;
        for (let j = 0; j < n; j++) {
          if (row[j] > 0) ent -= row[j] * Math.log(row[j]);
          distance += row[j] * (i - j);
          if (layer.exact.masked(i, j)) continue;
          const c = Math.floor(i / POOL) * res + Math.floor(j / POOL);
          max[c] = Math.max(max[c], row[j]);
          sum[c] += row[j];
          count[c] += 1;
        }
        if (i > 0) previous += row[i - 1];
        assert.ok(Math.abs(s.entropy[i] - ent) <= 1e-4, `${where}: entropy of row ${i}`);
        assert.ok(Math.abs(s.specialMass[i] - row[0] - row[5]) <= TOL, `${where}: special mass of row ${i}`);
        const best = Array.from(row, (p, j) => [p, j]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
        for (let t = 0; t < K; t++) {
          assert.ok(Math.abs(s.topWeights[i * K + t] - best[t][0]) <= TOL, `${where}: top-${t} weight of row ${i}`);
          if (
            best[t][0] > 0 &&
            best[t][0] - (best[t + 1]?.[0] ?? -1) > 1e-5 &&
            (t === 0 || best[t - 1][0] - best[t][0] > 1e-5)
          )
            assert.equal(s.topKeys[i * K + t], best[t][1], `${where}: top-${t} key of row ${i}`);
        }
      }
      assert.ok(Math.abs(s.meanDistance - distance / n) <= 1e-4, `${where}: mean distance`);
      assert.ok(Math.abs(s.previousToken - previous / (n - 1)) <= TOL, `${where}: previous-token weight`);
      assert.equal(s.res, res);
      for (let c = 0; c < res * res; c++) {
        assert.ok(Math.abs(s.blockMax[c] - max[c]) <= TOL, `${where}: block max ${c}`);
        const mean = count[c] > 0 ? sum[c] / count[c] : 0;
        assert.ok(Math.abs(s.blockMean[c] - mean) <= TOL, `${where}: block mean ${c}`);
      }
    }
  }
  // Kept per layer: q [H, n, D], k once per key/value head, the rows' lse and the summaries — no n² term.
  const { heads: H, kvHeads: KV, headDim: D } = plan.facts;
  const perHead = n * (8 + 4 + 4 * K + 4 * K + 4) + 2 * res * res * 4;
  assert.equal(kept.bytes(), plan.facts.layers * (H * n * D * 4 + KV * n * D * 4 + H * perHead));
}

test('stories260K: the graph summaries variant (no map fetched) gives exact values and summaries of the dense maps', async () => {
  await checkGraphSummaries('stories260K', await readModel(fixtureModel('stories260K')), 150);
});

test('hf-tiny gemma2: the graph summaries variant with windows and soft-cap', async () => {
  await checkGraphSummaries('gemma2', await readModel(hfTinyModel('gemma2')), 100);
});

test("queryRows: 64 rows, fewer when a block's scores pass BLOCK_BYTES, never more than the tokens", () => {
  assert.equal(queryRows(10, 9), 10);
  assert.equal(queryRows(512, 9), QUERY_ROWS);
  assert.equal(queryRows(8192, 9), 64); // 9 × 64 × 8,192 × 4 bytes = 19 MB a block
  assert.equal(queryRows(65536, 64), 8); // 64 heads over 65,536 tokens: 8 rows are 128 MiB
  for (let n = 1; n <= 8192; n += 37)
    for (const heads of [1, 9, 32]) {
      const r = queryRows(n, heads);
      assert.ok(Number.isInteger(r) && r >= 1 && r <= Math.min(n, QUERY_ROWS), `${n} tokens, ${heads} heads: ${r}`);
      assert.ok(heads * r * n * 4 <= BLOCK_BYTES, `${n} tokens, ${heads} heads`);
    }
});

// The rows per block are the query_rows input: each count below leaves a shorter last block (padded in the loop).
test('stories260K over 300 tokens: query-row blocks (no [heads, n, n] tensor in the graph) give the same', async () => {
  await checkGraphSummaries('stories260K blocked', await readModel(fixtureModel('stories260K')), 300, 'native', 64);
});

test('hf-tiny gemma2 over 250 tokens: query-row blocks with windows and soft-cap', async () => {
  await checkGraphSummaries('gemma2 blocked', await readModel(hfTinyModel('gemma2')), 250, 'native', 100);
});

// bert (bidirectional, the padding mask from key_mask) and gpt2 (causal from positions) in query-row blocks too: the
// summaries and every exact value from the kept q and k equal the full maps runPlan computes whole.
for (const backend of ['native', 'wasm'] as const) {
  test(`all-MiniLM-L6-v2 over 260 tokens: query-row blocks give the dense maps' values and summaries (${backend})`, async () => {
    await checkGraphSummaries(`all-MiniLM-L6-v2 blocked ${backend}`, await readModel(miniLmDir()), 260, backend, 64);
  });

  test(`tiny-gpt2 over 300 tokens: query-row blocks, causal from positions (${backend})`, async () => {
    const source = await readModel(fixtureModel('tiny-gpt2'));
    await checkGraphSummaries(`tiny-gpt2 blocked ${backend}`, source, 300, backend, 7);
  });
}

/** The ops of a graph and of its subgraphs (a Loop's body), by graph. */
function graphOps(bytes: Uint8Array): { outer: string[]; bodies: string[][] } {
  const graph = decodeModel(bytes).graph!;
  const bodies = graph
    .node!.filter((n) => n.opType === 'Loop')
    .map((n) => n.attribute!.find((a) => a.name === 'body')!.g!.node!.map((b) => b.opType));
  return { outer: graph.node!.map((n) => n.opType), bodies };
}

test('bert and gpt2 blocked variants: one Loop a layer whose body has the one softmax, key_mask in, no n × n bias input', async () => {
  for (const dir of [miniLmDir(), fixtureModel('tiny-gpt2')]) {
    const plan = buildPlan(await readModel(dir));
    const stage = plan.stages.find((s) => s.role === 'layer' && s.variant)!;
    const bytes = stage.variant!({ summaries: true, blocked: true });
    const { outer, bodies } = graphOps(bytes);
    const layers = layerOutputs(stage).length;
    assert.equal(outer.filter((o) => o === 'Softmax').length, 0, dir);
    assert.equal(bodies.length, layers, dir);
    for (const body of bodies) assert.equal(body.filter((o) => o === 'Softmax').length, 1, dir);
    const inputs = decodeModel(bytes).graph!.input!.map((i) => i.name!);
    assert.ok(inputs.includes('key_mask') && inputs.includes(QUERY_ROWS_INPUT), `${dir}: inputs ${inputs.join(', ')}`);
    assert.ok(!inputs.some((n) => n.startsWith('attn_bias')), `${dir}: inputs ${inputs.join(', ')}`);
  }
});

test("the blocked variant computes the softmax once per block of query rows (a Loop's body), never over the whole map", () => {
  const plan = buildPlan(readGgufModel(smolLm2Gguf()));
  const layers = layerOutputs(plan.stages[1]).length; // SmolLM2's layers after the first run four to a stage
  assert.equal(layers, 4);
  const blocked = graphOps(plan.stages[1].variant!({ summaries: true, blocked: true }));
  assert.equal(blocked.outer.filter((o) => o === 'Softmax').length, 0);
  assert.deepEqual(
    blocked.bodies.map((b) => b.filter((o) => o === 'Softmax').length),
    [1, 1, 1, 1],
  );
  const whole = graphOps(plan.stages[1].variant!({ summaries: true }));
  assert.equal(whole.outer.filter((o) => o === 'Softmax').length, layers);
  assert.equal(whole.bodies.length, 0);
});

test("the blocked variant's Loop body stays small: per-block values from tables, k and v once per key/value head", () => {
  // A body node costs a few µs whatever its size, once per block (8 times a layer at 512 tokens): what does not
  // depend on the block is made before the Loop (ARCHITECTURE.md, "Fewer passes over a block's scores").
  const plan = buildPlan(readGgufModel(smolLm2Gguf()));
  const graph = decodeModel(plan.stages[1].variant!({ summaries: true, blocked: true })).graph!;
  const [body] = graphOps(plan.stages[1].variant!({ summaries: true, blocked: true })).bodies;
  assert.ok(body.length <= 42, `${body.length} body nodes`);
  for (const op of ['Range', 'Expand', 'Concat', 'Shape']) assert.ok(!body.includes(op), `${op} in the body`);
  assert.equal(body.filter((o) => o === 'Gather').length, 4); // start, end, key end, overview padding
  // SmolLM2: 9 query heads over 3 key/value heads; k and v enter the Loop as [B,3,S,D] (the first head of each
  // group), and the body's two MatMuls take a group's query heads as one matrix (Reshape [0, 3, -1, 0]).
  type Init = { dataType?: number | null; rawData?: Uint8Array | null };
  const int64s = (t: Init | undefined) => {
    const raw = t?.dataType === 7 ? t.rawData : undefined; // INT64
    return raw ? Array.from(new BigInt64Array(new Uint8Array(raw).buffer), Number) : [];
  };
  const inits = new Map(graph.initializer!.map((t) => [t.name!, t]));
  const ints = (name: string) => int64s(inits.get(name));
  const perKv = graph.node!.filter((n) => n.opType === 'Gather' && ints(n.input![1]).join() === '0,3,6');
  assert.ok(perKv.length >= 2, `${perKv.length} Gathers of heads 0, 3, 6`);
  const loop = graph.node!.find((n) => n.opType === 'Loop')!;
  const bodyNodes = loop.attribute!.find((a) => a.name === 'body')!.g!;
  const bodyInits = new Map(bodyNodes.initializer!.map((t) => [t.name!, t]));
  const shapes = bodyNodes
    .node!.filter((n) => n.opType === 'Reshape')
    .map((n) => int64s(bodyInits.get(n.input![1])).join());
  assert.equal(shapes.filter((x) => x === '0,3,-1,0').length, 2, shapes.join(' | '));
});

test('the blocked variant builds its mask in the graph: key_mask [B,S] in, no n × n bias fed or computed', () => {
  const plan = buildPlan(readGgufModel(smolLm2Gguf()));
  const inputs = (bytes: Uint8Array) => decodeModel(bytes).graph!.input!.map((i) => i.name);
  const blocked = inputs(plan.stages[1].variant!({ summaries: true, blocked: true }));
  assert.ok(blocked.includes('key_mask'));
  assert.ok(!blocked.some((n) => n!.startsWith('attn_bias')), `inputs ${blocked.join(', ')}`);
  assert.ok(inputs(plan.stages[1].variant!({ summaries: true })).includes('attn_bias'));
  const batch = { ids: [[1, 2, 3]], mask: [[1, 1, 0]] };
  const feeds = plan.feeds(batch, { denseBias: false }).layer;
  assert.ok(!Object.keys(feeds).some((n) => n.startsWith('attn_bias')));
  assert.deepEqual(feeds.key_mask.dims, [1, 3]);
  assert.deepEqual(Array.from(feeds.key_mask.data as Float32Array), [1, 1, 0]);
  assert.equal(plan.feeds(batch).layer.key_mask, undefined); // the default path is unchanged
});

test('hf-tiny gemma2, padded keys: the mask built in the graph equals the fed dense bias (causal, window, padding)', async () => {
  const source = await readModel(hfTinyModel('gemma2'));
  const plan = buildPlan(source);
  const n = 250;
  const mask = Array.from({ length: n }, (_, j) => ([3, 9, 100, 101, 249].includes(j) ? 0 : 1));
  const batch = { ids: [ids(n, 3, source.config.vocabSize, 5)], mask: [mask] };
  const dense = plan.feeds(batch);
  const fromPositions = plan.feeds(batch, { denseBias: false });
  const stage = plan.stages.find((s) => s.role === 'layer' && s.variant)!;
  const out = async (blocked: boolean, feeds: typeof dense) => {
    const session = await createSession(stage.variant!({ summaries: true, blocked }), {
      backend: 'native',
      threads: 1,
    });
    try {
      const all = { ...feeds.embed, ...feeds.layer };
      all.top_k = { type: 'int64', dims: [1], data: BigInt64Array.of(4n) };
      all.special_keys = { type: 'float32', dims: [n], data: new Float32Array(n) };
      all[QUERY_ROWS_INPUT] = { type: 'int64', dims: [1], data: BigInt64Array.of(96n) }; // 96, 96 and 58 rows
      const picked = Object.fromEntries(session.inputNames.map((name) => [name, all[name]]));
      const s = summaryNames(layerOutputs(stage)[0].attn.slice('attn'.length));
      return await session.run(picked, ['hidden_out', s.topWeights, s.topKeys, s.blockMax, s.entropy]);
    } finally {
      await session.release();
    }
  };
  const whole = await out(false, dense); // the map whole, with the dense bias fed
  const blocked = await out(true, fromPositions); // blocks, the mask from key_mask and positions
  for (const name of Object.keys(whole)) {
    const a = whole[name].data;
    const b = blocked[name].data;
    assert.equal(a.length, b.length, name);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    assert.ok(worst <= (name.startsWith('top_keys') ? 0 : 1e-4), `${name}: max difference ${worst}`);
  }
  // Padded keys get no weight in any row (the top weights beyond the visible keys are exact zeros).
  const keys = blocked[summaryNames(layerOutputs(stage)[0].attn.slice('attn'.length)).topKeys].data;
  const weights = blocked[summaryNames(layerOutputs(stage)[0].attn.slice('attn'.length)).topWeights].data;
  for (let i = 0; i < keys.length; i++) if (weights[i] > 0) assert.equal(mask[keys[i]], 1, `top key ${keys[i]}`);
});
