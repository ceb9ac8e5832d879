// What an explanation's numbers mean, checked on stories260K: the probability target (prob:) equals softmax of the
// independent plain-loops forward pass's logits; AOPC is ERASER's Σ/(|B| + 1) over the bins requested, also when
// two bins give the same k; --perturb hide equals remove for a causal LM, as documented; and the notes that say all
// this reach the result (the CLI, its JSON and the Explain view show them).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { load } from '../../../../runtime/inspector/load-model';
import type { Inspector } from '../../../../runtime/inspector/api';
import { explain } from '../../../../runtime/explain/explain';
import { formatTargetSpec, parseTargetSpec, resolveGenerated } from '../../../../runtime/explain/target-spec';
import { resultToJson } from '../../../../runtime/explain/result';
import { isLensError } from '../../../../runtime/errors';
import { naiveForward } from '../../../reference/naive-forward';
import { fixtureModel, repoRoot } from '../../../helpers/fixtures';

const ROOT = repoRoot;
const STORIES = fixtureModel('stories260K');
const V = 512;
let inspector: Inspector;
let ids: number[];

before(async () => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
  ids = JSON.parse(fs.readFileSync(path.join(STORIES, 'reference_attention.json'), 'utf8')).input_ids; // 17 tokens
  inspector = await load(STORIES, { backend: 'native', threads: 1, workerPath: path.join(ROOT, 'dist/worker.js') });
});
after(() => inspector?.dispose());

/** softmax(row)[id] in float64. */
function softmaxAt(row: ArrayLike<number>, id: number): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  return Math.exp(row[id] - max) / sum;
}

test('target specs: prob: before next, next:TOKEN and token:POS:ID; not before mask or similarity', () => {
  for (const spec of ['prob:next', 'prob:next:▁Lily', 'prob:token:3:57'])
    assert.equal(formatTargetSpec(parseTargetSpec(spec)), spec);
  assert.deepEqual(parseTargetSpec('prob:token:3:57'), { kind: 'token', position: 3, id: 57, prob: true });
  for (const bad of ['prob:mask', 'prob:similarity:x', 'prob:prob:next', 'prob:'])
    assert.throws(
      () => parseTargetSpec(bad),
      (e: unknown) => isLensError(e) && /Bad target/.test(e.message),
      bad,
    );
  // The message quotes the whole target, prob: included.
  const quoted: [string, RegExp][] = [
    ['prob:', /^Bad target "prob:": give the target after "prob:"/],
    ['prob:token:x:1', /^Bad target "prob:token:x:1": POS "x" is not a whole number/],
  ];
  for (const [spec, why] of quoted)
    assert.throws(
      () => parseTargetSpec(spec),
      (e: unknown) => isLensError(e) && why.test(e.message),
      spec,
    );
});

test('generated:N is token:POS:ID of the N-th generated token (1 = the first) on prompt + output', () => {
  for (const spec of ['generated:1', 'prob:generated:4']) assert.equal(formatTargetSpec(parseTargetSpec(spec)), spec);
  const ids = [1, 10, 11, 12, 50, 51, 52]; // a prompt of 4, then 3 generated tokens
  assert.deepEqual(resolveGenerated(parseTargetSpec('generated:1'), ids, 4), { kind: 'token', position: 4, id: 50 });
  assert.deepEqual(resolveGenerated(parseTargetSpec('prob:generated:3'), ids, 4), {
    kind: 'token',
    position: 6,
    id: 52,
    prob: true,
  });
  assert.deepEqual(resolveGenerated(parseTargetSpec('next'), ids, undefined), { kind: 'next' });
  assert.throws(
    () => resolveGenerated(parseTargetSpec('generated:4'), ids, 4),
    /past the 3 generated tokens \(1\.\.3\)/,
  );
  assert.throws(() => resolveGenerated(parseTargetSpec('generated:1'), ids, undefined), /applies after a generation/);
  assert.throws(() => parseTargetSpec('generated:0'), /N must be at least 1/);
});

test('prob:next and prob:token are the probabilities of the plain-loops forward pass', async () => {
  const logits = naiveForward(STORIES, ids).logits!; // [17, V]
  const last = logits.subarray(16 * V, 17 * V);
  const r = await explain(inspector, ids, { target: 'prob:next', methods: ['rollout'], faithfulness: false });
  assert.equal(r.target.measure, 'prob');
  assert.match(r.target.label, /^p\("/);
  assert.ok(Math.abs(r.target.value - softmaxAt(last, r.target.token!.id)) <= 1e-5, String(r.target.value));
  const t = await explain(inspector, ids, { target: 'prob:token:5:42', methods: ['rollout'], faithfulness: false });
  assert.ok(Math.abs(t.target.value - softmaxAt(logits.subarray(4 * V, 5 * V), 42)) <= 1e-5, String(t.target.value));
  assert.ok(!r.notes.some((n) => /log-probability/.test(n)), 'no unbounded-target note for a probability');
});

test('AOPC is Σ over the bins requested ÷ (|B| + 1), with the 1 % and 5 % bins both k = 1 on 16 candidates', async () => {
  const r = await explain(inspector, ids, { target: 'next', methods: ['rollout', 'loo'], erasureSteps: 0 });
  assert.equal(r.candidates.filter(Boolean).length, 16);
  for (const f of r.faithfulness) {
    assert.deepEqual(
      f.bins.map((b) => [b.percent, b.k]),
      [
        [1, 1],
        [5, 1],
        [10, 2],
        [20, 4],
        [50, 8],
      ],
    );
    const sum = (key: 'comprehensiveness' | 'sufficiency') => f.bins.reduce((s, b) => s + b[key], 0);
    assert.ok(Math.abs(f.aopcComprehensiveness - sum('comprehensiveness') / 6) <= 1e-12, f.method);
    assert.ok(Math.abs(f.aopcSufficiency - sum('sufficiency') / 6) <= 1e-12, f.method);
  }
  assert.ok(r.notes.some((n) => /AOPC is ERASER's .*sum over the 5 bins requested ÷ \(5 \+ 1\)/.test(n)));
  assert.ok(r.notes.some((n) => /16 candidate tokens the 1 % and 5 % bins both take k = 1/.test(n)));
  assert.ok(r.notes.some((n) => /log-probability .*unbounded.*prob:next/.test(n)));
  assert.deepEqual(JSON.parse(resultToJson(r)).notes, r.notes, 'the JSON result carries the notes');
});

test('--perturb hide equals remove for a causal LM (positions count the unmasked tokens), and says so', async () => {
  const options = { target: 'next', methods: ['loo', 'occlusion'], faithfulness: false, erasureSteps: 0 };
  const removed = await explain(inspector, ids, { ...options, perturbation: 'remove' });
  const hidden = await explain(inspector, ids, { ...options, perturbation: 'hide' });
  for (const id of ['loo', 'occlusion']) {
    const a = removed.methods.find((m) => m.id === id)!.scores;
    const b = hidden.methods.find((m) => m.id === id)!.scores;
    a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= 1e-4, `${id}[${i}]: ${x} vs ${b[i]}`));
  }
  assert.ok(hidden.notes.some((n) => /--perturb hide equals remove for this model/.test(n)));
  assert.ok(!removed.notes.some((n) => /hide/.test(n)));
});

test('attention flow is named as renormalised per output node', async () => {
  const r = await explain(inspector, ids.slice(0, 8), { target: 'next', methods: ['flow'], faithfulness: false });
  const flow = r.methods.find((m) => m.id === 'flow')!.scores;
  assert.ok(Math.abs(flow.reduce((a, b) => a + b, 0) - 1) <= 1e-9, 'one target: the scores sum to 1');
  assert.ok(r.notes.some((n) => /flow is renormalised per output node/.test(n)));
});
