// Explain on a run kept for long inputs (runtime/explain/explain-kept.ts), stories260K through the real inference
// worker, 300 tokens run dense and kept: raw attention and rollout computed from the kept q and k equal what
// explain() computes from the dense maps (1e-5), with the uniform baseline and their agreement; every other method
// says in one line why it does not run and how many tokens it takes; the value is not shown (not a number).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { load } from '../../../../runtime/inspector/load-model';
import type { Inspector } from '../../../../runtime/inspector/api';
import { explain } from '../../../../runtime/explain/explain';
import { explainKept, keptMethodRefusal } from '../../../../runtime/explain/explain-kept';
import { mulberry32 } from '../../../../runtime/random';
import { fixtureModel, repoRoot } from '../../../helpers/fixtures';

const N = 300;
let inspector: Inspector;

before(async () => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'pipe' });
  inspector = await load(fixtureModel('stories260K'), {
    backend: 'native',
    threads: 2,
    workerPath: path.join(repoRoot, 'dist/worker.js'),
  });
});
after(async () => {
  await inspector.dispose();
});

test('raw attention and rollout of a kept run equal the dense explanation; other methods refuse in one line', async () => {
  const rand = mulberry32(5);
  const ids = [1, ...Array.from({ length: N - 1 }, () => 3 + Math.floor(rand() * 500))];
  const run = inspector.run(ids, { long: 'kept' });
  for await (const _ of run);
  const tokens = run.tokens;
  const methods = ['raw-attention', 'rollout', 'loo', 'flow'];
  const progress: string[] = [];
  const kept = await explainKept(inspector, tokens, run.kept!, {
    target: 'next',
    methods,
    onProgress: (p) => progress.push(`${p.phase}: ${p.cost}`),
  });
  assert.deepEqual(progress, ['raw-attention: 8 rows of 300 keys', progress[1]]);
  assert.match(progress[1], /^rollout: (< 1 s|about \d+ s) \(5 layers over 300 tokens\)$/);
  const dense = await explain(inspector, tokens, { target: 'next', methods: ['raw-attention', 'rollout'] });
  assert.deepEqual(
    kept.methods.map((m) => m.id),
    ['raw-attention', 'rollout', 'loo', 'flow', 'uniform'],
  );
  let worst = 0;
  for (const id of ['raw-attention', 'rollout']) {
    const a = kept.methods.find((m) => m.id === id)!;
    const b = dense.methods.find((m) => m.id === id)!;
    assert.equal(a.error, undefined);
    assert.equal(a.scores.length, N);
    a.scores.forEach((x, j) => (worst = Math.max(worst, Math.abs(x - b.scores[j]))));
  }
  assert.ok(worst <= 1e-5, `largest difference from the dense explanation: ${worst}`);
  const loo = kept.methods.find((m) => m.id === 'loo')!;
  assert.deepEqual(loo.scores, []);
  assert.equal(loo.error, keptMethodRefusal(inspector.facts, 'loo', N));
  assert.match(
    loo.error!,
    /^Leave-one-out does not run on a run of 300 tokens kept for long inputs: it would run the model once per token over 300 tokens; select at most \d+ tokens for it\./,
  );
  assert.match(kept.methods.find((m) => m.id === 'flow')!.error!, /would hold every layer's maps \([\d.]+ GB\)/);
  assert.equal(kept.target.readout, N - 1);
  assert.ok(Number.isNaN(kept.target.value), 'the target value is not computed, so not shown');
  assert.ok(kept.agreement.some((r) => r.a === 'raw-attention' && r.b === 'rollout'));
  assert.deepEqual(kept.faithfulness, []);
  assert.match(
    kept.notes[0],
    /^This run of 300 tokens is kept for long inputs .* rollout of position 299 costs (< 1 s|about \d+ s) \(5 layers over 300 tokens\)/,
  );
});
