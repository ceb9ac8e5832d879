// The gradient methods through explain() and the inference worker, against numbers computed without the project's
// graphs: saliency and gradient × input from PyTorch autograd's gradient (test/fixtures/gradients) and the
// safetensors embedding table, attention × gradient from the naive forward pass's attention times PyTorch's
// d target / d attention; Integrated Gradients' completeness (Σ attributions = f(x) − f(baseline)) with the pad
// baseline, which has no near-zero RMSNorm input on its path (stories260K has no pad token: these runs load a copy
// that declares <unk>, id 0, its pad; the model itself is refused the pad baseline by name); AttnLRP against LXT 2.1
// (test/fixtures/attnlrp: stories260K and tiny-gpt2); an imported ONNX export refused by name.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { load } from '../../../../runtime/inspector/load-model';
import type { Inspector } from '../../../../runtime/inspector/api';
import { explain } from '../../../../runtime/explain/explain';
import { isLensError } from '../../../../runtime/errors';
import { readModel } from '../../../../runtime/models/read-model';
import { GRADIENT_REFUSED_ONNX } from '../../../../runtime/grad/family-gradient';
import { naiveForward } from '../../../reference/naive-forward';
import { readSafetensors } from '../../../reference/safetensors-lite';
import { exportOnnx } from '../../../helpers/onnx-export';
import { fixtureModel, fixturesDir, repoRoot } from '../../../helpers/fixtures';
import { relativeError } from '../../../helpers/relative-error';

const WORKER = path.join(repoRoot, 'dist/worker.js');
const STORIES = fixtureModel('stories260K');
const ref = JSON.parse(fs.readFileSync(path.join(fixturesDir, 'gradients', 'stories260K.json'), 'utf8')) as {
  ids: number[];
  readout: number;
  token: number;
  target: number;
  hidden: number;
  layers: number;
  heads: number;
  grad_embeds: number[];
  grad_attn: number[][];
};
const S = ref.ids.length;
const E = ref.hidden;
const made: string[] = [];
let inspector: Inspector;

before(async () => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'pipe' });
  // The same weights and ids, with <unk> (#0) declared the pad token in special_tokens_map.json.
  const padded = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-ig-pad-'));
  made.push(padded);
  for (const f of fs.readdirSync(STORIES)) fs.copyFileSync(path.join(STORIES, f), path.join(padded, f));
  const map = path.join(padded, 'special_tokens_map.json');
  fs.writeFileSync(map, JSON.stringify({ ...JSON.parse(fs.readFileSync(map, 'utf8')), pad_token: '<unk>' }));
  inspector = await load(padded, { backend: 'native', threads: 2, workerPath: WORKER });
  assert.equal(inspector.tokenizer?.special.pad, 0, 'the copy has a pad token');
});
after(async () => {
  await inspector?.dispose();
  made.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
});

const options = (methods: string[]) => ({
  target: `token:${ref.readout + 1}:${ref.token}`,
  methods,
  faithfulness: false,
  erasureSteps: 0,
  headStats: false,
});

/** The scores of a method on a result, which must have run. */
function scoresOf(result: { methods: { id: string; error?: string; kind: string; scores: number[] }[] }, id: string) {
  const m = result.methods.find((x) => x.id === id)!;
  assert.equal(m.error, undefined, `${id}: ${m.error}`);
  assert.equal(m.kind, 'gradient');
  return m.scores;
}

/** Saliency, gradient × input and (with the last layer's d target / d attention) attention × gradient per token,
 * from a PyTorch reference gradient [S,E], the embedding rows of model.safetensors and the naive forward's attention. */
function referenceScores(gradEmbeds: number[], gradAttnLast?: number[]) {
  const emb = readSafetensors(path.join(STORIES, 'model.safetensors')).get('model.embed_tokens.weight'); // [V,E]
  const g = (j: number, e: number) => gradEmbeds[j * E + e];
  const sum = (f: (e: number) => number) => Array.from({ length: E }, (_, e) => f(e)).reduce((a, v) => a + v, 0);
  const saliency = Array.from({ length: S }, (_, j) => Math.sqrt(sum((e) => g(j, e) ** 2)));
  const gxi = Array.from({ length: S }, (_, j) => sum((e) => g(j, e) * emb[ref.ids[j] * E + e]));
  if (!gradAttnLast) return { saliency, gxi, axg: [] };
  const attn = naiveForward(STORIES, ref.ids).attention[ref.layers - 1]; // [H,S,S]
  const at = (h: number, j: number) => (h * S + ref.readout) * S + j;
  const axg = Array.from({ length: S }, (_, j) => {
    let a = 0;
    for (let h = 0; h < ref.heads; h++) a += (attn[at(h, j)] * gradAttnLast[at(h, j)]) / ref.heads;
    return a;
  });
  return { saliency, gxi, axg };
}

test('saliency, gradient × input and attention × gradient equal PyTorch autograd’s gradients (stories260K)', async () => {
  const result = await explain(inspector, ref.ids, options(['saliency', 'grad-x-input', 'attn-x-grad']));
  const scores = (id: string) => scoresOf(result, id);
  const { saliency, gxi, axg } = referenceScores(ref.grad_embeds, ref.grad_attn[ref.layers - 1]);
  assert.ok(
    relativeError(scores('saliency'), saliency) <= 1e-4,
    `saliency ${relativeError(scores('saliency'), saliency)}`,
  );
  assert.ok(
    relativeError(scores('grad-x-input'), gxi) <= 1e-4,
    `grad-x-input ${relativeError(scores('grad-x-input'), gxi)}`,
  );
  assert.ok(
    relativeError(scores('attn-x-grad'), axg) <= 1e-4,
    `attn-x-grad ${relativeError(scores('attn-x-grad'), axg)}`,
  );
  assert.ok(result.notes.some((n) => /float32/.test(n) && /Gradient methods/.test(n)));
});

test('Integrated Gradients: Σ attributions = f(x) − f(pad baseline) within 0.1 % at 128 steps, reported in the notes', async () => {
  const result = await explain(inspector, ref.ids, {
    ...options(['integrated-gradients']),
    steps: 128,
    baseline: 'pad',
  });
  const m = result.methods.find((x) => x.id === 'integrated-gradients')!;
  assert.equal(m.error, undefined);
  const note = result.notes.find((n) => n.startsWith('Integrated Gradients (128 steps, pad-token'));
  assert.ok(note, result.notes.join('\n'));
  const sum = m.scores.reduce((a, v) => a + v, 0);
  const [, shownSum, delta] = /Σ attributions = (\S+), f\(x\) − f\(baseline\) = (\S+) /.exec(note)!;
  assert.ok(Math.abs(Number(shownSum) - sum) <= 1e-4 * Math.abs(sum));
  assert.ok(Math.abs(sum - Number(delta)) <= 1e-3 * Math.abs(Number(delta)), `${sum} vs ${delta}`);
  // f(x) is the explained value
  assert.ok(Math.abs(result.target.value - ref.target) <= 1e-4 * Math.abs(ref.target));
});

test('Integrated Gradients from the pad token of a model without one (stories260K itself) is refused before any pass', async () => {
  const plain = await load(STORIES, { backend: 'native', threads: 1, workerPath: WORKER });
  try {
    assert.equal(plain.tokenizer?.special.pad, undefined);
    let passes = 0;
    const counting = new Proxy(plain, {
      get(target, key) {
        const v = Reflect.get(target, key, target) as unknown;
        if (typeof v !== 'function') return v;
        return (...a: unknown[]) => {
          if (key === 'forward' || key === 'gradients') passes++;
          return (v as (...a: unknown[]) => unknown).apply(target, a);
        };
      },
    });
    await assert.rejects(
      explain(counting, ref.ids, { ...options(['saliency', 'integrated-gradients']), steps: 4, baseline: 'pad' }),
      (e: unknown) => {
        assert.ok(isLensError(e), String(e));
        assert.equal(
          e.message,
          'stories260K has no pad token, so Integrated Gradients has no pad embedding to start from; use --ig-baseline zero (the zero embedding).',
        );
        return true;
      },
    );
    assert.equal(passes, 0, 'no model pass before the refusal');
    // The zero baseline, and the pad baseline without Integrated Gradients, still run.
    const zero = await explain(plain, ref.ids, { ...options(['integrated-gradients']), steps: 4, baseline: 'zero' });
    assert.equal(zero.methods.find((m) => m.id === 'integrated-gradients')!.error, undefined);
    await explain(plain, ref.ids, { ...options(['saliency']), baseline: 'pad' });
  } finally {
    await plain.dispose();
  }
});

test('Integrated Gradients beside saliency and gradient × input: one gradient request (the input rides IG’s path as α = 1), their scores equal PyTorch autograd’s', async () => {
  const asked: unknown[] = [];
  const counting = new Proxy(inspector, {
    get(target, key) {
      const v = Reflect.get(target, key, target) as unknown;
      if (key === 'gradients')
        return (req: unknown, o: unknown) => {
          asked.push(req);
          return target.gradients!(req as Parameters<NonNullable<Inspector['gradients']>>[0], o as undefined);
        };
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const result = await explain(counting, ref.ids, {
    ...options(['saliency', 'grad-x-input', 'integrated-gradients']),
    steps: 8,
    baseline: 'pad',
  });
  assert.equal(asked.length, 1, 'one gradient request');
  assert.deepEqual((asked[0] as { alphas: number[] }).alphas, [
    ...Array.from({ length: 8 }, (_, k) => (k + 0.5) / 8),
    1,
    0,
  ]);
  const scores = (id: string) => scoresOf(result, id);
  const { saliency, gxi } = referenceScores(ref.grad_embeds);
  assert.ok(relativeError(scores('grad-x-input'), gxi) <= 1e-4);
  assert.ok(relativeError(scores('saliency'), saliency) <= 1e-4);
  // IG from the shared path equals IG asked apart: beside attention × gradient (whose gradient pass needs the
  // attention outputs) the input gets its own pass and the path its own request, without α = 1.
  const alone = await explain(inspector, ref.ids, {
    ...options(['attn-x-grad', 'integrated-gradients']),
    steps: 8,
    baseline: 'pad',
  });
  const ig = alone.methods.find((x) => x.id === 'integrated-gradients')!.scores;
  assert.ok(relativeError(scores('integrated-gradients'), ig) <= 1e-5);
  // f(x) in the completeness note is the α = 1 row's target: the explained value (PyTorch's, ≤ 1e-4)
  const note = result.notes.find((n) => n.startsWith('Integrated Gradients (8 steps'))!;
  const [, delta] = /f\(x\) − f\(baseline\) = (\S+) /.exec(note)!;
  const aloneNote = alone.notes.find((n) => n.startsWith('Integrated Gradients (8 steps'))!;
  assert.ok(
    Math.abs(Number(delta) - Number(/f\(x\) − f\(baseline\) = (\S+) /.exec(aloneNote)![1])) <=
      1e-4 * Math.abs(Number(delta)),
  );
});

test('AttnLRP through explain and the worker equals LXT 2.1’s relevances, its conservation in the notes', async () => {
  const lxt = JSON.parse(fs.readFileSync(path.join(fixturesDir, 'attnlrp', 'stories260K.json'), 'utf8')) as {
    ids: number[];
    token: number;
    target: number;
    relevance: number[];
    relevance_sum: number;
  };
  assert.deepEqual(lxt.ids, ref.ids);
  assert.equal(lxt.token, ref.token);
  const result = await explain(inspector, ref.ids, options(['grad-x-input', 'attnlrp']));
  const m = result.methods.find((x) => x.id === 'attnlrp')!;
  assert.equal(m.error, undefined, m.error);
  assert.equal(m.kind, 'gradient');
  const e = relativeError(m.scores, lxt.relevance);
  assert.ok(e <= 1e-4, `relative error ${e}`);
  const note = result.notes.find((n) => n.startsWith('AttnLRP (Achtibat et al. 2024'));
  assert.ok(note, result.notes.join('\n'));
  const [, sum, target] = /Σ relevance = (\S+), target = (\S+) /.exec(note)!;
  assert.ok(Math.abs(Number(sum) - lxt.relevance_sum) <= 1e-4 * Math.abs(lxt.target), note);
  assert.ok(Math.abs(Number(target) - lxt.target) <= 1e-4 * Math.abs(lxt.target), note);
  assert.match(note, /the token’s logit/);
});

test('contrast:#A|#B: gradient × input and attention × gradient equal PyTorch autograd’s on log p(A) − log p(B); AttnLRP is A’s relevance minus B’s', async () => {
  const c = JSON.parse(fs.readFileSync(path.join(fixturesDir, 'gradients', 'stories260K-contrast.json'), 'utf8')) as {
    ids: number[];
    readout: number;
    token: number;
    contrast: number;
    target: number;
    grad_embeds: number[];
    grad_attn: number[][];
  };
  assert.deepEqual(c.ids, ref.ids);
  assert.equal(c.readout, ref.readout); // contrast:A|B reads the last position, as the fixture does
  const methods = ['grad-x-input', 'attn-x-grad', 'attnlrp'];
  const run = (target: string) => explain(inspector, ref.ids, { ...options(methods), target });
  const result = await run(`contrast:#${c.token}|#${c.contrast}`);
  const scores = scoresOf;
  assert.equal(result.target.measure, 'log-odds');
  assert.ok(Math.abs(result.target.value - c.target) <= 1e-4 * Math.max(1, Math.abs(c.target)));
  const { gxi, axg } = referenceScores(c.grad_embeds, c.grad_attn[ref.layers - 1]);
  assert.ok(relativeError(scores(result, 'grad-x-input'), gxi) <= 1e-4);
  assert.ok(relativeError(scores(result, 'attn-x-grad'), axg) <= 1e-4);
  // AttnLRP's relevance is linear in the logits' seed: +1 on A, −1 on B gives A's relevance minus B's.
  const a = await run(`token:${S}:${c.token}`);
  const b = await run(`token:${S}:${c.contrast}`);
  const diff = scores(a, 'attnlrp').map((v, j) => v - scores(b, 'attnlrp')[j]);
  assert.ok(relativeError(scores(result, 'attnlrp'), diff) <= 1e-4);
  const note = result.notes.find((n) => n.startsWith('AttnLRP (Achtibat et al. 2024'))!;
  assert.match(note, /explains the token’s logit minus the contrast token’s/);
  // z_A − z_B = log p(A) − log p(B): the note's target is the explained value
  const [, target] = /target = (\S+) /.exec(note)!;
  assert.ok(Math.abs(Number(target) - c.target) <= 1e-4 * Math.max(1, Math.abs(c.target)), note);
});

test('AttnLRP on gpt2 (tiny-gpt2) through explain and the worker equals LXT 2.1’s GPT-2 patch', async () => {
  const lxt = JSON.parse(fs.readFileSync(path.join(fixturesDir, 'attnlrp', 'tiny-gpt2.json'), 'utf8')) as {
    ids: number[];
    readout: number;
    token: number;
    target: number;
    relevance: number[];
  };
  const gpt2 = await load(fixtureModel('tiny-gpt2'), { backend: 'native', threads: 2, workerPath: WORKER });
  try {
    const result = await explain(gpt2, lxt.ids, {
      ...options(['attnlrp']),
      target: `token:${lxt.readout + 1}:${lxt.token}`,
    });
    const m = result.methods.find((x) => x.id === 'attnlrp')!;
    assert.equal(m.error, undefined, m.error);
    const e = relativeError(m.scores, lxt.relevance);
    assert.ok(e <= 1e-4, `relative error ${e}`);
    const note = result.notes.find((n) => n.startsWith('AttnLRP (Achtibat et al. 2024'))!;
    const [, target] = /target = (\S+) /.exec(note)!;
    assert.ok(Math.abs(Number(target) - lxt.target) <= 1e-4 * Math.abs(lxt.target), note);
  } finally {
    await gpt2.dispose();
  }
});

test('an imported ONNX export: gradient methods are refused by name, the others still run', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-grad-onnx-'));
  made.push(dir);
  exportOnnx(await readModel(STORIES), STORIES, dir);
  const onnx = await load(dir, { backend: 'native', threads: 2, workerPath: WORKER });
  try {
    const result = await explain(onnx, ref.ids, options(['raw-attention', 'grad-x-input', 'integrated-gradients']));
    assert.equal(result.methods.find((x) => x.id === 'raw-attention')!.error, undefined);
    for (const id of ['grad-x-input', 'integrated-gradients'])
      assert.equal(result.methods.find((x) => x.id === id)!.error, GRADIENT_REFUSED_ONNX);
  } finally {
    await onnx.dispose();
  }
});
