// Every RoPE decoder family against Hugging Face transformers (test/fixtures/models/hf-tiny/*/reference_attention.json,
// eager attention of the saved folder): gemma2, gemma3, qwen3, phi3, llama (llama3 RoPE), mistral (window 8),
// olmo2, and the folders scripts/make-hf-tiny-fixtures.py adds (phi3 LongRoPE with partial rotary, qwen2 with
// rope_parameters θ = 1e6 and max_window_layers, qwen3 YaRN, llama dynamic NTK). On both CPU backends: the
// tokenizer gives the reference ids, every layer's attention is within 1e-5, rows sum to 1, causal and
// out-of-window entries are exactly 0, and the last position's top-5 log-probabilities (which also check the last
// MLP, the final norm and soft-capping) are within 1e-4. Plus: the full graph equals the staged plan with mixed
// layer kinds, and the transformers 4 form of two configs runs the very same model.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { normaliseConfig } from '../../../../runtime/formats/config';
import { buildFullGraph, buildPlan, readModel } from '../../../../runtime/models/read-model';
import { loadTokenizer } from '../../../../runtime/tokenizers/index';
import { neuronScores } from '../../../../webview/layout';
import { maxAbsDiff, runFull, runPlan } from '../../../reference/run-plan';
import { hfTinyModel, type HfTinyModel } from '../../../helpers/fixtures';

interface Run {
  text: string;
  input_ids: number[];
  shape: number[];
  /** [layer][head][query][key] */
  attentions: number[][][][];
  top5_last: { ids: number[]; logprobs: number[] };
}

interface Reference extends Run {
  layer_types: string[];
  sliding_window: number | null;
  extra_runs?: Run[];
}

const FAMILIES: HfTinyModel[] = [
  'gemma2',
  'gemma3',
  'qwen3',
  'phi3',
  'llama',
  'mistral',
  'olmo2',
  'phi3-longrope',
  'qwen2',
  'qwen3-yarn',
  'llama-dynamic',
  'gemma3-multimodal',
];

const reference = (name: HfTinyModel): Reference =>
  JSON.parse(fs.readFileSync(path.join(hfTinyModel(name), 'reference_attention.json'), 'utf8'));

const made: string[] = [];
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** Log-softmax of the last position's logits at `ids`. */
function lastLogProbs(logits: Float32Array, S: number, V: number, ids: number[]): number[] {
  const last = logits.subarray((S - 1) * V, S * V);
  let m = -Infinity;
  for (const x of last) m = Math.max(m, x);
  let z = 0;
  for (const x of last) z += Math.exp(x - m);
  return ids.map((id) => last[id] - m - Math.log(z));
}

/** Checks one run's attention and top-5 against the reference; `window(l)` is layer l's window or null. */
function checkRun(
  label: string,
  attn: Float32Array[],
  logits: Float32Array,
  V: number,
  want: Run,
  window: (l: number) => number | null,
): void {
  const [L, H, S] = want.shape;
  assert.equal(attn.length, L);
  for (let l = 0; l < L; l++) {
    const a = attn[l]; // [1,H,S,S]
    const d = maxAbsDiff(a, want.attentions[l].flat(2));
    assert.ok(d <= 1e-5, `${label} layer ${l}: max diff ${d}`);
    const w = window(l);
    for (let h = 0; h < H; h++)
      for (let i = 0; i < S; i++) {
        let sum = 0;
        for (let j = 0; j < S; j++) {
          const p = a[(h * S + i) * S + j];
          sum += p;
          if (j > i || (w !== null && i - j >= w))
            assert.ok(p === 0, `${label} layer ${l} head ${h}: masked entry (${i}, ${j}) is ${p}, not exactly 0`);
        }
        assert.ok(Math.abs(sum - 1) <= 1e-5, `${label} layer ${l} head ${h} row ${i} sums to ${sum}`);
      }
  }
  const lp = lastLogProbs(logits, S, V, want.top5_last.ids);
  lp.forEach((v, i) =>
    assert.ok(
      Math.abs(v - want.top5_last.logprobs[i]) <= 1e-4,
      `${label} top-5 #${i}: ${v} vs ${want.top5_last.logprobs[i]}`,
    ),
  );
}

for (const name of FAMILIES) {
  test(`${name}: tokenizer ids, facts and the windows transformers applies`, async () => {
    const dir = hfTinyModel(name);
    const ref = reference(name);
    const tok = await loadTokenizer(dir);
    assert.deepEqual(
      tok.encode(ref.text).map((t) => t.id),
      ref.input_ids,
    );
    const plan = buildPlan(await readModel(dir));
    const [L, H] = ref.shape;
    assert.deepEqual([plan.facts.layers, plan.facts.heads, plan.facts.kvHeads], [L, H, 2]);
    const windows = ref.layer_types.map((t) => (t === 'sliding_attention' ? ref.sliding_window : null));
    if (windows.some((w) => w !== null)) assert.deepEqual(plan.facts.slidingWindows, windows);
    else assert.equal(plan.facts.slidingWindows, undefined);
  });

  for (const backend of ['native', 'wasm'] as const) {
    test(`${name}: attention and top-5 next tokens equal transformers' (${backend})`, async () => {
      const dir = hfTinyModel(name);
      const ref = reference(name);
      const plan = buildPlan(await readModel(dir));
      const window = (l: number) => (ref.layer_types[l] === 'sliding_attention' ? ref.sliding_window : null);
      for (const run of [ref, ...(ref.extra_runs ?? [])]) {
        const ids = run.input_ids;
        const out = await runPlan(plan, { ids: [ids], mask: [ids.map(() => 1)] }, backend);
        checkRun(`${name} "${run.text.slice(0, 12)}…"`, out.attn, out.logits!, plan.facts.vocabSize, run, window);
      }
    });
  }
}

test('gemma3 full graph (full and sliding layers, two RoPE tables) equals the staged plan', async () => {
  const source = await readModel(hfTinyModel('gemma3'));
  const plan = buildPlan(source);
  const full = buildFullGraph(source, { attentionOutputs: true });
  assert.deepEqual(full.inputNames, [
    'input_ids',
    'position_ids',
    'attn_bias_sliding',
    'rope_cos_local',
    'rope_sin_local',
    'attn_bias',
    'rope_cos',
    'rope_sin',
  ]);
  const ids = reference('gemma3').input_ids;
  const batch = { ids: [ids], mask: [ids.map(() => 1)] };
  const staged = await runPlan(plan, batch, 'native');
  const f = await runFull(full, plan, batch, 'native');
  for (let l = 0; l < 4; l++) assert.ok(maxAbsDiff(f[`attn_${l}`], staged.attn[l]) <= 1e-6);
  assert.ok(maxAbsDiff(f.logits, staged.logits!) <= 1e-5);
});

for (const name of ['llama', 'gemma3'] as const) {
  test(`${name}: the transformers 4 form of its config (rope_theta, rope_scaling...) runs the same model`, async () => {
    const src = hfTinyModel(name);
    const oldText = fs.readFileSync(path.join(src, 'config-transformers4.json'), 'utf8');
    const { raw: _a, ...oldForm } = normaliseConfig(JSON.parse(oldText));
    const { raw: _b, ...newForm } = normaliseConfig(JSON.parse(fs.readFileSync(path.join(src, 'config.json'), 'utf8')));
    assert.deepEqual(oldForm, newForm);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-v4-'));
    made.push(dir);
    fs.copyFileSync(path.join(src, 'model.safetensors'), path.join(dir, 'model.safetensors'));
    fs.writeFileSync(path.join(dir, 'config.json'), oldText);
    const ref = reference(name);
    const plan = buildPlan(await readModel(dir));
    const ids = ref.input_ids;
    const out = await runPlan(plan, { ids: [ids], mask: [ids.map(() => 1)] }, 'native');
    out.attn.forEach((a, l) => assert.ok(maxAbsDiff(a, ref.attentions[l].flat(2)) <= 1e-5, `layer ${l}`));
  });
}

test('the facts the neuron view reads (scale, soft-cap, windows) turn gemma2 q and k back into its attention', async () => {
  const plan = buildPlan(await readModel(hfTinyModel('gemma2')));
  const f = plan.facts;
  assert.deepEqual([f.attentionScale, f.attentionSoftcap], [24 ** -0.5, 2]);
  const ids = reference('gemma2').input_ids;
  const S = ids.length;
  const D = f.headDim;
  const out = await runPlan(plan, { ids: [ids], mask: [ids.map(() => 1)] }, 'native');
  for (let l = 0; l < f.layers; l++) {
    const win = f.slidingWindows![l];
    for (let h = 0; h < f.heads; h++)
      for (let i = 0; i < S; i++) {
        const q = out.q[l].subarray((h * S + i) * D, (h * S + i + 1) * D); // [1,H,S,D]
        const keys = Array.from({ length: S }, (_, j) => out.k[l].subarray((h * S + j) * D, (h * S + j + 1) * D));
        const masked = (j: number) => j > i || (win !== null && i - j >= win);
        const s = neuronScores(q, keys, D, masked, { scale: f.attentionScale, softcap: f.attentionSoftcap });
        const row = out.attn[l].subarray((h * S + i) * S, (h * S + i + 1) * S);
        assert.ok(maxAbsDiff(row, s.softmax) <= 1e-5, `layer ${l} head ${h} row ${i}`);
      }
  }
});
