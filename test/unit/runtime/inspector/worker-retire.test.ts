// An inference worker is never ended while onnxruntime is inside a native call: a worker.terminate() that lands
// during onnxruntime-node's synchronous session creation or run aborts the whole process ("terminate called after
// throwing an instance of 'Napi::Error'", SIGABRT) — in the extension, the extension host (a real-VS-Code run lost it
// when a model setting changed while the previous model was still loading). The scenario (test/helpers/
// worker-retire-scenario.ts, real onnxruntime, stories260K and SmolLM2) cancels loads while sessions are being
// created, disposes a model while a long run streams, cancels a load and at once loads again, runs to the end, and
// ends the process right after disposing a model mid-run (the CLI's case); it runs in a child process so that an abort fails this test with its exit signal instead of ending the runner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { repoRoot } from '../../../helpers/fixtures';

const SCENARIO = path.join(repoRoot, 'test/helpers/worker-retire-scenario.ts');
const WORKER = path.join(repoRoot, 'dist/worker.js');

test('cancelled loads and disposals during runs end their workers without aborting the process; the next load works', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', SCENARIO, WORKER], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 600_000,
  });
  const stderr = r.stderr ?? '';
  assert.equal(r.signal, null, `the process ended by ${r.signal}: ${stderr.slice(-400)}`);
  assert.equal(r.status, 0, `exit ${r.status}: ${stderr.slice(-400)}\n${r.stdout}`);
  assert.doesNotMatch(stderr, /terminate called|Napi::Error|FATAL/);
  const steps = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown> & { step: string });
  const of = (name: string) => steps.filter((s) => s.step === name);

  // 1. Every cancelled load is refused as cancelled (or had finished first), none otherwise.
  const [loads] = of('loads-cancelled');
  assert.ok(loads, r.stdout);
  const outcomes = loads.outcomes as Record<string, number>;
  assert.deepEqual(
    Object.keys(outcomes).filter((k) => k !== 'CANCELLED' && k !== 'loaded'),
    [],
    JSON.stringify(outcomes),
  );
  assert.equal((outcomes.CANCELLED ?? 0) + (outcomes.loaded ?? 0), 12);
  assert.ok((outcomes.CANCELLED ?? 0) > 0, `some loads were cancelled while loading: ${JSON.stringify(outcomes)}`);

  // 2. A model disposed while its run streams: the run fails as unloaded, part-way.
  const disposed = of('run-disposed');
  assert.deepEqual(
    disposed.map((s) => s.after),
    [1, 15],
  );
  for (const s of disposed) {
    assert.equal(s.ended, 'DISPOSED', JSON.stringify(s));
    assert.ok((s.layers as number) >= (s.after as number) && (s.layers as number) < 30, JSON.stringify(s));
  }

  // 3. A load cancelled half-way through its sessions, and another load at once.
  assert.deepEqual(of('load-overlap'), [{ step: 'load-overlap', cancelled: 'CANCELLED' }]);

  // 4. The next load runs SmolLM2 to the end: 30 layers over the 40 tokens, every value finite.
  assert.deepEqual(of('last-run'), [{ step: 'last-run', layers: 30, tokens: 40, finite: true }]);

  // 5. A process that ends at once after disposing a model mid-run (dispose's wait cut to 0 ms): its worker, still
  //    inside a run call, keeps the process until it has stopped (it aborted the process 3 times in 3 before).
  assert.deepEqual(of('exit-after-dispose'), [{ step: 'exit-after-dispose', layers: 1 }]);
  assert.equal(steps.at(-1)?.step, 'end');
});
