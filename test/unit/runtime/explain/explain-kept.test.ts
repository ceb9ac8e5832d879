// Explain on a run kept for long inputs (runtime/explain/explain-kept.ts), stories260K through the real inference
// worker, 300 tokens run dense and kept: raw attention and rollout computed from the kept q and k equal what
// explain() computes from the dense maps (1e-5), with the uniform baseline and their agreement; the head statistics
// from the run's summaries equal headTable's from the dense maps (1e-4); every other method says in one line why it
// does not run, its cost at this length and what to do; the value is not shown (not a number). Cancel: an aborted
// signal stops it with the cancelled error, asking nothing more of the worker, and a request in flight is not waited
// for.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { load } from '../../../../runtime/inspector/load-model';
import type { Inspector } from '../../../../runtime/inspector/api';
import { explain } from '../../../../runtime/explain/explain';
import { explainKept, keptMethodRefusal } from '../../../../runtime/explain/explain-kept';
import { mulberry32 } from '../../../../runtime/random';
import { isLensError } from '../../../../runtime/errors';
import type { KeptAttention } from '../../../../runtime/inspector/api';
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

test('raw attention, rollout and head statistics of a kept run equal the dense explanation; other methods state their cost in one line', async () => {
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
  assert.equal(loo.error, keptMethodRefusal(inspector.facts, 'loo', N, { candidates: 299 }));
  assert.match(
    loo.error!,
    /^Leave-one-out does not run on 300 tokens kept for long inputs: it runs the model once per candidate token: 299 passes over 300 tokens; run with the maps \(--long auto or maps\) for it\. Raw attention, rollout and the head statistics run here\.$/,
  );
  assert.match(
    kept.methods.find((m) => m.id === 'flow')!.error!,
    /it holds every layer's maps and solves a max-flow over 1,500 nodes and 450,000 edges \(\d+ MB\); run with the maps \(--long auto or maps\) for it\. /,
  );
  // The head statistics from the summaries the run computed equal headTable's from the dense maps.
  const denseHeads = dense.heads;
  assert.equal(kept.heads.length, denseHeads.length);
  let worstHead = 0;
  kept.heads.forEach((r, i) => {
    const d = denseHeads[i];
    assert.deepEqual([r.layer, r.head], [d.layer, d.head]);
    for (const k of ['entropy', 'specialShare', 'previousToken', 'meanDistance'] as const)
      worstHead = Math.max(worstHead, Math.abs(r[k] - d[k]));
    assert.ok(Number.isNaN(r.punctuationShare) && (r.head === -1 || Number.isNaN(r.jsdUniform)), 'not kept');
  });
  assert.ok(worstHead <= 1e-4, `head statistics differ from the dense maps' by ${worstHead}`);
  assert.equal(kept.target.readout, N - 1);
  assert.ok(Number.isNaN(kept.target.value), 'the target value is not computed, so not shown');
  assert.ok(kept.agreement.some((r) => r.a === 'raw-attention' && r.b === 'rollout'));
  assert.deepEqual(kept.faithfulness, []);
  assert.match(
    kept.notes[0],
    /^This run of 300 tokens is kept for long inputs .* rollout of position 299 costs (< 1 s|about \d+ s) \(5 layers over 300 tokens\)/,
  );
});

test('a kept run honours raw attention’s layer and head (a number, mean, max) and rollout’s first layer, as the dense explanation does; out of range is refused', async () => {
  const rand = mulberry32(9);
  const ids = [1, ...Array.from({ length: 120 }, () => 3 + Math.floor(rand() * 500))];
  const run = inspector.run(ids, { long: 'kept' });
  for await (const _ of run);
  const tokens = run.tokens;
  const methods = ['raw-attention', 'rollout'];
  for (const options of [
    { layer: 2, head: 3, startLayer: 1 },
    { layer: 0, head: 'max' as const, startLayer: 4 },
    { layer: 3, head: 'mean' as const, startLayer: 2 },
  ]) {
    const kept = await explainKept(inspector, tokens, run.kept!, { target: 'next', methods, ...options });
    const dense = await explain(inspector, tokens, { target: 'next', methods, ...options });
    for (const id of methods) {
      const a = kept.methods.find((m) => m.id === id)!.scores;
      const b = dense.methods.find((m) => m.id === id)!.scores;
      assert.equal(a.length, ids.length);
      const worst = Math.max(...a.map((x, j) => Math.abs(x - b[j])));
      assert.ok(worst <= 1e-5, `${id} ${JSON.stringify(options)}: ${worst}`);
    }
  }
  for (const [options, message] of [
    [{ layer: 5 }, /--layer 5 is outside 0\.\.4: stories260K has 5 layers/],
    [{ head: 8 }, /--head 8 is outside 0\.\.7: stories260K has 8 heads/],
    [{ startLayer: 7 }, /--start-layer 7 is outside 0\.\.4/],
  ] as const)
    await assert.rejects(explainKept(inspector, tokens, run.kept!, { target: 'next', methods, ...options }), message);
});

test('Cancel stops Explain on a kept run: nothing more is asked of the worker, a request in flight is not waited for', async () => {
  const rand = mulberry32(13);
  const ids = [1, ...Array.from({ length: 200 }, () => 3 + Math.floor(rand() * 500))];
  const run = inspector.run(ids, { long: 'kept' });
  for await (const _ of run);
  const real = run.kept!;
  // The real kept run, with the requests that reach the worker recorded and a hook after each answer.
  const asked: string[] = [];
  let answered = (_what: string) => {};
  const kept: KeptAttention = {
    length: real.length,
    layer: (l) => real.layer(l),
    value: (...a) => real.value(...a),
    column: (...a) => real.column(...a),
    window: (...a) => real.window(...a),
    vectors: (...a) => real.vectors(...a),
    row: async (layer, head, query) => {
      asked.push(`row ${head}`);
      const row = await real.row(layer, head, query);
      answered(`row ${head}`);
      return row;
    },
    rollout: async (query, startLayer) => {
      asked.push('rollout');
      const row = await real.rollout(query, startLayer);
      answered('rollout');
      return row;
    },
  };
  const methods = ['raw-attention', 'rollout'];
  const isCancelled = (e: unknown) => isLensError(e) && e.code === 'CANCELLED';

  // Already cancelled: nothing is asked.
  const before = new AbortController();
  before.abort();
  await assert.rejects(
    explainKept(inspector, run.tokens, kept, { target: 'next', methods, signal: before.signal }),
    isCancelled,
  );
  assert.deepEqual(asked, []);

  // Cancelled when the first head's row answers: raw attention's 7 other heads and rollout are never asked.
  const cancel = new AbortController();
  answered = () => cancel.abort();
  await assert.rejects(
    explainKept(inspector, run.tokens, kept, { target: 'next', methods, signal: cancel.signal }),
    isCancelled,
  );
  assert.deepEqual(asked, ['row 0']);

  // Cancelled while rollout is in flight: it ends at once, before the worker answers (the answer is dropped).
  asked.length = 0;
  const events: string[] = [];
  answered = (what) => events.push(`answered ${what}`);
  const inFlight = new AbortController();
  const explaining = explainKept(inspector, run.tokens, kept, {
    target: 'next',
    methods: ['rollout'],
    signal: inFlight.signal,
    onProgress: () => queueMicrotask(() => inFlight.abort()),
  });
  await assert.rejects(
    explaining.finally(() => events.push('ended')),
    isCancelled,
  );
  assert.deepEqual(asked, ['rollout']);
  assert.deepEqual(events, ['ended']);

  // The worker is still good for the next explanation, which equals one never cancelled.
  answered = () => {};
  const again = await explainKept(inspector, run.tokens, kept, { target: 'next', methods });
  const fresh = await explainKept(inspector, run.tokens, real, { target: 'next', methods });
  assert.deepEqual(
    again.methods.map((m) => m.scores),
    fresh.methods.map((m) => m.scores),
  );
  assert.ok(again.methods.every((m) => m.error === undefined && m.scores.length === ids.length));
});
