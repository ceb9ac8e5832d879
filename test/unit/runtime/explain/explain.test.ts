// Explanations on real models through the real worker (dist/worker.js), against independent references: the target
// values and leave-one-out scores equal brute-force loops of the naive float64 forward pass (test/reference) on the
// shortened texts (stories260K: next token and token:POS:ID; a synthetic BERT with a masked-LM head written to a
// folder: mask and mask@POS), the value Gram matrices of the `norms` layer variant equal f_h(x_j) = v_h,j · W_O,h
// built from the plan's v and the checkpoint's output projection (llama with grouped-query attention, GPT-2 Conv1D,
// BERT), the similarity target equals the naive mean-pooled cosine, and leave-one-out runs as one batched call.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { load } from '../../../../runtime/inspector/load-model';
import type { Inspector } from '../../../../runtime/inspector/api';
import { explain, type ExplainOptions } from '../../../../runtime/explain/explain';
import { isLensError } from '../../../../runtime/errors';
import { buildPlan, readModel } from '../../../../runtime/models/read-model';
import { naiveForward, erf } from '../../../reference/naive-forward';
import { maxAbsDiff, runPlan } from '../../../reference/run-plan';
import { fixtureModel, miniLmDir, miniLmTokenizerDir, repoRoot } from '../../../helpers/fixtures';
import { readSafetensors } from '../../../reference/safetensors-lite';
import { writeSafetensors } from '../../../helpers/safetensors-writer';

const ROOT = repoRoot;
const WORKER = path.join(ROOT, 'dist/worker.js');
const STORIES = fixtureModel('stories260K');

before(() => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
});

const made: string[] = [];
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** log softmax(row)[id] in float64. */
function logSoftmax(row: ArrayLike<number>, id: number): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  return row[id] - max - Math.log(sum);
}

function argmaxOf(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

const only = (methods: string[], extra: Partial<ExplainOptions> = {}): Omit<ExplainOptions, 'target'> => ({
  methods,
  faithfulness: false,
  erasureSteps: 0,
  headStats: false,
  ...extra,
});

const without = (ids: number[], j: number) => ids.filter((_, i) => i !== j);

describe('stories260K (llama, causal): targets and leave-one-out against naive passes', () => {
  let inspector: Inspector;
  const ref = JSON.parse(fs.readFileSync(path.join(STORIES, 'reference_attention.json'), 'utf8')) as {
    input_ids: number[];
  };
  const ids = ref.input_ids; // <s> + "Once upon a time, there was a little girl named Lily. She" (17 tokens)
  const V = 512;
  before(async () => {
    inspector = await load(STORIES, { backend: 'native', threads: 2, workerPath: WORKER });
  });
  after(() => inspector?.dispose());

  test('next: the argmax token and its log-probability; LOO (remove) = a brute-force loop over shortened inputs', async () => {
    const r = await explain(inspector, ids, { target: 'next', ...only(['loo']) });
    const full = naiveForward(STORIES, ids).logits!.subarray(16 * V, 17 * V);
    const token = argmaxOf(full);
    assert.equal(r.target.token?.id, token);
    assert.ok(Math.abs(r.target.value - logSoftmax(full, token)) <= 1e-4, `${r.target.value}`);
    assert.equal(r.target.readout, 16);
    assert.deepEqual(r.candidates, [false, ...Array(16).fill(true)]); // <s> is special
    const loo = r.methods.find((m) => m.id === 'loo')!;
    for (let j = 0; j < 17; j++) {
      if (j === 0) {
        assert.equal(loo.scores[j], 0);
        continue;
      }
      const short = without(ids, j);
      const logits = naiveForward(STORIES, short).logits!; // [16, V]: the prediction after the shortened text
      const expected = logSoftmax(full, token) - logSoftmax(logits.subarray(15 * V, 16 * V), token);
      assert.ok(Math.abs(loo.scores[j] - expected) <= 2e-4, `token ${j}: ${loo.scores[j]} vs ${expected}`);
    }
    // All 16 variants went through the model in one batched call.
    assert.deepEqual([r.timings.rows, r.timings.batches], [16, 1]);
  });

  test('decoders: hide equals remove; one call per row equals the batched scores', async () => {
    const remove = await explain(inspector, ids, { target: 'next', ...only(['loo', 'occlusion']) });
    const hide = await explain(inspector, ids, {
      target: 'next',
      ...only(['loo', 'occlusion'], { perturbation: 'hide' }),
    });
    const single = await explain(inspector, ids, { target: 'next', ...only(['loo'], { batched: false }) });
    const scores = (r: typeof remove, id: string) => r.methods.find((m) => m.id === id)!.scores;
    assert.ok(maxAbsDiff(scores(remove, 'loo'), scores(hide, 'loo')) <= 1e-4);
    assert.ok(maxAbsDiff(scores(remove, 'occlusion'), scores(hide, 'occlusion')) <= 1e-4);
    assert.ok(maxAbsDiff(scores(remove, 'loo'), scores(single, 'loo')) <= 1e-4);
    assert.deepEqual([single.timings.rows, single.timings.batches], [16, 16]);
  });

  test('the wasm backend gives the same target, leave-one-out and norm scores (batched forward, gathered head)', async () => {
    const wasm = await load(STORIES, { backend: 'wasm', threads: 2, workerPath: WORKER });
    try {
      const options = { target: 'next', ...only(['loo', 'norm']) };
      const [a, b] = [await explain(inspector, ids, options), await explain(wasm, ids, options)];
      assert.equal(b.model.backend, 'wasm');
      assert.ok(Math.abs(a.target.value - b.target.value) <= 1e-4);
      for (const i of [0, 1]) assert.ok(maxAbsDiff(a.methods[i].scores, b.methods[i].scores) <= 1e-4, a.methods[i].id);
    } finally {
      await wasm.dispose();
    }
  });

  test('contrast:A|B: log p(A) − log p(B) and its leave-one-out equal naive passes; @POS and @generated:N', async () => {
    const A = inspector.tokenizer!.tokenToId('▁was')!; // by text
    const B = ids[3]; // by #ID (▁a)
    const r = await explain(inspector, ids, { target: `contrast:▁was|#${B}`, ...only(['loo']) });
    const full = naiveForward(STORIES, ids).logits!;
    const diff = (logits: Float32Array, row: number) => {
      const x = logits.subarray(row * V, (row + 1) * V);
      return logSoftmax(x, A) - logSoftmax(x, B);
    };
    assert.ok(Math.abs(r.target.value - diff(full, 16)) <= 1e-4, `${r.target.value} vs ${diff(full, 16)}`);
    assert.deepEqual(
      [r.target.kind, r.target.measure, r.target.token?.id, r.target.contrast?.id],
      ['contrast', 'log-odds', A, B],
    );
    assert.match(r.target.label, /^log p\("▁was" next \| input\) − log p\("▁a" next \| input\)$/);
    const loo = r.methods.find((m) => m.id === 'loo')!;
    for (const j of [1, 8, 16]) {
      const expected = diff(full, 16) - diff(naiveForward(STORIES, without(ids, j)).logits!, 15);
      assert.ok(Math.abs(loo.scores[j] - expected) <= 2e-4, `token ${j}: ${loo.scores[j]} vs ${expected}`);
    }
    // At a position: the prediction of token 6 from tokens 0..5; by a generation's index: the same position.
    const at = await explain(inspector, ids, { target: `contrast:#${A}|#${B}@6`, ...only(['rollout']) });
    assert.equal(at.target.readout, 5);
    assert.ok(Math.abs(at.target.value - diff(full, 5)) <= 1e-4);
    const gen = await explain(inspector, ids, {
      target: `contrast:#${A}|#${B}@generated:2`,
      promptLength: 5,
      ...only(['rollout']),
    });
    assert.equal(gen.target.readout, 5);
    assert.ok(Math.abs(gen.target.value - at.target.value) <= 1e-6);
  });

  test('token:POS:ID reads the logits at POS − 1; later tokens are not candidates', async () => {
    const r = await explain(inspector, ids, { target: `token:5:${ids[5]}`, ...only(['loo', 'rollout']) });
    const logits = naiveForward(STORIES, ids).logits!;
    assert.ok(Math.abs(r.target.value - logSoftmax(logits.subarray(4 * V, 5 * V), ids[5])) <= 1e-4);
    assert.equal(r.target.readout, 4);
    assert.deepEqual(
      r.candidates,
      ids.map((_, j) => j >= 1 && j <= 4),
    );
    // Removing token 2 predicts token 5's id after the 3 kept tokens before it.
    const short = naiveForward(STORIES, without(ids, 2).slice(0, 4)).logits!;
    const expected = r.target.value - logSoftmax(short.subarray(3 * V, 4 * V), ids[5]);
    const got = r.methods.find((m) => m.id === 'loo')!.scores[2];
    assert.ok(Math.abs(got - expected) <= 2e-4, `${got} vs ${expected}`);
  });

  test('the explain result has every table and a uniform baseline row', async () => {
    const r = await explain(inspector, ids, {
      target: 'next',
      methods: ['raw', 'rollout', 'loo', 'norm', 'norm-rollout', 'occlusion'],
      erasureSteps: 4,
    });
    const ids_ = r.methods.map((m) => m.id);
    assert.deepEqual(ids_, ['raw-attention', 'rollout', 'loo', 'norm', 'norm-rollout', 'occlusion', 'uniform']);
    for (const m of r.methods) assert.equal(m.scores.length, 17, m.id);
    // Every pair of the 7 methods, then each of the 6 that are not baselines vs recency and random.
    assert.equal(r.agreement.length, (7 * 6) / 2 + 6 * 2);
    assert.ok(r.agreement.some((a) => a.b === 'uniform'));
    assert.ok(r.distance.every((d) => !['loo', 'occlusion'].includes(d.a) && !['loo', 'occlusion'].includes(d.b)));
    assert.deepEqual(
      r.faithfulness.map((f) => f.method),
      ids_,
    );
    assert.deepEqual(
      r.faithfulness[0].bins.map((b) => b.percent),
      [1, 5, 10, 20, 50],
    );
    assert.deepEqual(r.erasure[0].erased, [0, 4, 8, 12, 16]);
    assert.equal(r.heads.length, 5 * (8 + 1));
    for (const f of r.faithfulness) assert.ok(Math.abs(f.full - r.target.value) <= 1e-9);
  });
});

/** f_h(x_j) Gram matrices [S,H,H] from v [H,S,D] and W_O as [H·D, E] (row h·D + d). */
function bruteGram(
  v: Float32Array,
  woInOut: (row: number, e: number) => number,
  H: number,
  S: number,
  D: number,
  E: number,
) {
  const out = new Float64Array(S * H * H);
  for (let j = 0; j < S; j++) {
    const f: Float64Array[] = [];
    for (let h = 0; h < H; h++) {
      const fh = new Float64Array(E);
      for (let d = 0; d < D; d++) {
        const vd = v[(h * S + j) * D + d];
        for (let e = 0; e < E; e++) fh[e] += vd * woInOut(h * D + d, e);
      }
      f.push(fh);
    }
    for (let a = 0; a < H; a++)
      for (let b = 0; b < H; b++) {
        let s = 0;
        for (let e = 0; e < E; e++) s += f[a][e] * f[b][e];
        out[(j * H + a) * H + b] = s;
      }
  }
  return out;
}

const gramCases: {
  name: string;
  dir: () => string;
  ids: number[];
  wo: (l: number) => string;
  layout: 'out-in' | 'in-out';
}[] = [
  {
    name: 'stories260K (GQA)',
    dir: () => STORIES,
    ids: [1, 403, 407, 261, 378, 29, 4],
    wo: (l) => `model.layers.${l}.self_attn.o_proj.weight`,
    layout: 'out-in',
  },
  {
    name: 'tiny-gpt2 (Conv1D)',
    dir: () => fixtureModel('tiny-gpt2'),
    ids: [464, 3797, 3332, 319],
    wo: (l) => `transformer.h.${l}.attn.c_proj.weight`,
    layout: 'in-out',
  },
  {
    name: 'all-MiniLM-L6-v2 (BERT)',
    dir: miniLmDir,
    ids: [101, 1996, 4937, 2938, 102],
    wo: (l) => `encoder.layer.${l}.attention.output.dense.weight`,
    layout: 'out-in',
  },
];

for (const c of gramCases) {
  test(`value Gram matrices of the norms variant equal v · W_O by brute force: ${c.name}`, async () => {
    const dir = c.dir();
    const plan = buildPlan(await readModel(dir));
    const { heads: H, headDim: D, hidden: E, layers: L } = plan.facts;
    const batch = { ids: [c.ids], mask: [c.ids.map(() => 1)] };
    const ref = await runPlan(plan, batch, 'native'); // v [1,H,S,D] per layer from the vectors variant
    const st = readSafetensors(path.join(dir, 'model.safetensors'));
    const inspector = await load(dir, { backend: 'native', threads: 2, workerPath: WORKER });
    try {
      const out = await inspector.forward({ batch, read: { kind: 'none' }, norms: true, attention: true });
      const S = c.ids.length;
      for (let l = 0; l < L; l++) {
        const name = st.names.find((n) => n.endsWith(c.wo(l)))!;
        const w = st.get(name); // out-in: [E, H·D]; in-out: [H·D, E]
        const wo =
          c.layout === 'out-in' ? (r: number, e: number) => w[e * H * D + r] : (r: number, e: number) => w[r * E + e];
        const expected = bruteGram(ref.v[l], wo, H, S, D, E);
        const got = out.grams![l]!;
        const scale = Math.max(1, ...Array.from(expected, Math.abs));
        assert.ok(
          maxAbsDiff(got, expected) <= 1e-4 * scale,
          `layer ${l}: ${maxAbsDiff(got, expected)} (scale ${scale})`,
        );
        assert.ok(maxAbsDiff(out.attention![l], ref.attn[l]) <= 1e-5);
      }
    } finally {
      await inspector.dispose();
    }
  });
}

describe('all-MiniLM-L6-v2 (encoder without a head)', () => {
  let inspector: Inspector;
  before(async () => {
    inspector = await load(miniLmDir(), { backend: 'native', threads: 2, workerPath: WORKER });
  });
  after(() => inspector?.dispose());

  const meanPool = (h: Float32Array, S: number, E: number) => {
    const out = new Float64Array(E);
    for (let s = 0; s < S; s++) for (let e = 0; e < E; e++) out[e] += h[s * E + e] / S;
    return out;
  };
  const cos = (a: Float64Array, b: Float64Array) => {
    let d = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < a.length; i++) {
      d += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return d / Math.sqrt(na * nb);
  };

  test('similarity: the cosine of mean-pooled embeddings equals the naive pass; LOO matches the naive loop', async () => {
    const catSat = [101, 1996, 4937, 2938, 2006, 1996, 13523, 1012, 102]; // [CLS] the cat sat on the mat . [SEP]
    const ref = inspector.tokenize('A kitten is resting on a rug.').map((t) => t.id);
    const r = await explain(inspector, catSat, {
      target: 'similarity:A kitten is resting on a rug.',
      ...only(['loo', 'rollout', 'norm']),
    });
    const E = 384;
    const refEmb = meanPool(naiveForward(miniLmDir(), ref).lastHidden, ref.length, E);
    const embOf = (ids: number[]) => meanPool(naiveForward(miniLmDir(), ids).lastHidden, ids.length, E);
    const full = cos(embOf(catSat), refEmb);
    assert.ok(Math.abs(r.target.value - full) <= 1e-5, `${r.target.value} vs ${full}`);
    assert.equal(r.target.readout, null);
    const loo = r.methods.find((m) => m.id === 'loo')!.scores;
    for (const j of [1, 3, 7]) {
      const expected = full - cos(embOf(without(catSat, j)), refEmb);
      assert.ok(Math.abs(loo[j] - expected) <= 2e-6, `token ${j}: ${loo[j]} vs ${expected}`);
    }
    assert.equal(loo[0], 0); // [CLS] is not a candidate
  });

  test('inspector.forward: padded rows equal single rows; bad reads are BAD_INPUT; an abort rejects with CANCELLED', async () => {
    const a = [101, 1996, 4937, 2938, 102];
    const b = [101, 4518, 6089, 102];
    const one = async (ids: number[]) =>
      (
        await inspector.forward({
          batch: { ids: [ids], mask: [ids.map(() => 1)] },
          read: { kind: 'hidden', positions: [1] },
        })
      ).head;
    const both = await inspector.forward({
      batch: { ids: [a, [...b, 0]], mask: [a.map(() => 1), [1, 1, 1, 1, 0]] },
      read: { kind: 'hidden', positions: [1, 1] },
      attention: true,
    });
    assert.deepEqual([both.rows, both.seq, both.width, both.attention?.length], [2, 5, 384, 6]);
    assert.ok(maxAbsDiff(both.head.subarray(0, 384), await one(a)) <= 1e-5);
    assert.ok(maxAbsDiff(both.head.subarray(384), await one(b)) <= 1e-5);
    const code = (c: string) => (e: unknown) => isLensError(e) && e.code === c;
    const batch = { ids: [a], mask: [a.map(() => 1)] };
    await assert.rejects(inspector.forward({ batch, read: { kind: 'logits', positions: [0] } }), code('BAD_INPUT'));
    await assert.rejects(inspector.forward({ batch, read: { kind: 'hidden', positions: [5] } }), code('BAD_INPUT'));
    await assert.rejects(inspector.forward({ batch, read: { kind: 'hidden', positions: [0, 1] } }), code('BAD_INPUT'));
    const ac = new AbortController();
    const pending = inspector.forward({ batch, read: { kind: 'mean-hidden' } }, { signal: ac.signal });
    ac.abort();
    await assert.rejects(pending, code('CANCELLED'));
    // The worker is still usable afterwards.
    assert.equal((await inspector.forward({ batch, read: { kind: 'none' } })).width, 0);
  });

  test('targets that need a head say which target fits instead', async () => {
    for (const [target, pattern] of [
      ['mask', /no masked-LM head.*similarity:TEXT/],
      ['next', /encoder without a head: use similarity:TEXT/],
    ] as const) {
      await assert.rejects(
        explain(inspector, 'the cat sat', { target, ...only(['loo']) }),
        (e: unknown) => isLensError(e) && e.code === 'BAD_INPUT' && pattern.test(e.message),
      );
    }
    await assert.rejects(
      explain(inspector, 'the cat sat', { target: 'similarity:x', methods: ['nope'] }),
      /Unknown method "nope"/,
    );
  });
});

// ---- A synthetic BERT with a masked-LM head (BertForMaskedLM layout), written as a model folder.

function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const MLM = { V: 30522, E: 16, H: 2, L: 2, I: 32, P: 64 };

function makeMlmModel(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-mlm-'));
  made.push(dir);
  const tok = miniLmTokenizerDir;
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'])
    fs.copyFileSync(path.join(tok, f), path.join(dir, f));
  const { V, E, H, L, I, P } = MLM;
  fs.writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({
      architectures: ['BertForMaskedLM'],
      model_type: 'bert',
      vocab_size: V,
      hidden_size: E,
      num_hidden_layers: L,
      num_attention_heads: H,
      intermediate_size: I,
      max_position_embeddings: P,
      type_vocab_size: 2,
      hidden_act: 'gelu',
      layer_norm_eps: 1e-12,
      pad_token_id: 0,
    }),
  );
  const rand = prng(7);
  const t: Record<string, { shape: number[]; data: Float32Array }> = {};
  const random = (name: string, shape: number[], scale: number) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = (2 * rand() - 1) * scale;
    t[name] = { shape, data };
  };
  const norm = (name: string) => {
    t[name + '.weight'] = { shape: [E], data: Float32Array.from({ length: E }, () => 0.8 + 0.4 * rand()) };
    t[name + '.bias'] = { shape: [E], data: Float32Array.from({ length: E }, () => 0.2 * rand() - 0.1) };
  };
  random('bert.embeddings.word_embeddings.weight', [V, E], 1.5);
  random('bert.embeddings.position_embeddings.weight', [P, E], 0.5);
  random('bert.embeddings.token_type_embeddings.weight', [2, E], 0.1);
  norm('bert.embeddings.LayerNorm');
  for (let l = 0; l < L; l++) {
    const p = `bert.encoder.layer.${l}.`;
    for (const n of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) {
      random(p + n + '.weight', [E, E], 0.6);
      random(p + n + '.bias', [E], 0.1);
    }
    random(p + 'intermediate.dense.weight', [I, E], 0.5);
    random(p + 'intermediate.dense.bias', [I], 0.1);
    random(p + 'output.dense.weight', [E, I], 0.3);
    random(p + 'output.dense.bias', [E], 0.1);
    norm(p + 'attention.output.LayerNorm');
    norm(p + 'output.LayerNorm');
  }
  random('cls.predictions.transform.dense.weight', [E, E], 0.6);
  random('cls.predictions.transform.dense.bias', [E], 0.1);
  norm('cls.predictions.transform.LayerNorm');
  random('cls.predictions.bias', [V], 0.5); // the decoder is tied to the word embeddings (not stored)
  writeSafetensors(path.join(dir, 'model.safetensors'), t);
  return dir;
}

/** The MLM head by hand on the naive encoder output: gelu(dense) → LayerNorm → tied decoder + bias. [S, V] rows. */
function naiveMlmProbs(dir: string, ids: number[], at: number): Float64Array {
  const { V, E } = MLM;
  const st = readSafetensors(path.join(dir, 'model.safetensors'));
  const h = naiveForward(dir, ids).lastHidden.subarray(at * E, (at + 1) * E);
  const W = st.get('cls.predictions.transform.dense.weight');
  const b = st.get('cls.predictions.transform.dense.bias');
  const t = new Float64Array(E);
  for (let o = 0; o < E; o++) {
    let s = b[o];
    for (let i = 0; i < E; i++) s += W[o * E + i] * h[i];
    t[o] = 0.5 * s * (1 + erf(s / Math.SQRT2));
  }
  const mean = t.reduce((a, x) => a + x, 0) / E;
  const variance = t.reduce((a, x) => a + (x - mean) ** 2, 0) / E;
  const g = st.get('cls.predictions.transform.LayerNorm.weight');
  const beta = st.get('cls.predictions.transform.LayerNorm.bias');
  for (let i = 0; i < E; i++) t[i] = ((t[i] - mean) / Math.sqrt(variance + 1e-12)) * g[i] + beta[i];
  const emb = st.get('bert.embeddings.word_embeddings.weight');
  const bias = st.get('cls.predictions.bias');
  const logits = new Float64Array(V);
  for (let v = 0; v < V; v++) {
    let s = bias[v];
    for (let i = 0; i < E; i++) s += emb[v * E + i] * t[i];
    logits[v] = s;
  }
  let max = -Infinity;
  for (const x of logits) max = Math.max(max, x);
  let sum = 0;
  for (let v = 0; v < V; v++) sum += Math.exp(logits[v] - max);
  return logits.map((x) => Math.exp(x - max) / sum);
}

describe('a BERT with a masked-LM head (synthetic weights in a model folder)', () => {
  let dir: string;
  let inspector: Inspector;
  before(async () => {
    dir = makeMlmModel();
    inspector = await load(dir, { backend: 'native', threads: 2, workerPath: WORKER });
  });
  after(() => inspector?.dispose());

  test('mask: p(the most likely token at [MASK]) and LOO equal the naive encoder + MLM head by hand', async () => {
    assert.equal(inspector.facts.hasLmHead, true);
    const text = 'the cat [MASK] on the mat.';
    const tokens = inspector.tokenize(text);
    const ids = tokens.map((t) => t.id);
    const at = ids.indexOf(103);
    assert.equal(at, 3);
    const r = await explain(inspector, text, { target: 'mask', ...only(['loo']) });
    const probs = naiveMlmProbs(dir, ids, at);
    const token = argmaxOf(probs);
    assert.equal(r.target.token?.id, token);
    assert.ok(Math.abs(r.target.value - probs[token]) <= 1e-5, `${r.target.value} vs ${probs[token]}`);
    assert.equal(r.candidates[at], false); // the [MASK] itself is never removed
    const loo = r.methods[0].scores;
    for (let j = 1; j < ids.length - 1; j++) {
      if (j === at) continue;
      // Compare the probability without token j itself, relatively: it can be far smaller than p(full).
      const pj = naiveMlmProbs(dir, without(ids, j), j < at ? at - 1 : at)[token];
      const got = r.target.value - loo[j];
      assert.ok(Math.abs(got - pj) <= 1e-12 + 1e-3 * pj, `token ${j}: p without it ${got} vs ${pj}`);
    }
  });

  test('mask@POS writes [MASK] there and explains the original token; mask:TOKEN a chosen one', async () => {
    const text = 'the cat sat on the mat.';
    const ids = inspector.tokenize(text).map((t) => t.id);
    const r = await explain(inspector, text, { target: 'mask@3', ...only(['rollout']) });
    const masked = [...ids];
    masked[3] = 103;
    const probs = naiveMlmProbs(dir, masked, 3);
    assert.equal(r.target.token?.id, ids[3]);
    assert.ok(Math.abs(r.target.value - probs[ids[3]]) <= 1e-5);
    const dog = await explain(inspector, 'the cat [MASK] on the mat.', { target: 'mask:dog', ...only(['rollout']) });
    assert.ok(
      Math.abs(dog.target.value - naiveMlmProbs(dir, masked, 3)[inspector.tokenizer!.tokenToId('dog')!]) <= 1e-5,
    );
    await assert.rejects(explain(inspector, 'no mask here', { target: 'mask', ...only(['loo']) }), /no \[MASK\] token/);
  });
});
