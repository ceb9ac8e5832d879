// CancelFlags: a run marked on one thread is seen as cancelled on another without a message (the inference worker
// reads the marks between stages while onnxruntime blocks its event loop), and marks never leak to other runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { CancelFlags } from '../../../../runtime/inspector/cancel-flags';
import { RunQueue } from '../../../../runtime/inspector/run-queue';

test('a mark is seen for its run only, including ids that share a slot', () => {
  const flags = new CancelFlags();
  assert.equal(flags.isMarked(5), false);
  flags.mark(5);
  assert.equal(flags.isMarked(5), true);
  assert.equal(flags.isMarked(4), false);
  assert.equal(flags.isMarked(5 + 64), false, 'run 69 shares run 5 slot but was not cancelled');
  flags.mark(5 + 64);
  assert.equal(flags.isMarked(5 + 64), true);
  assert.equal(flags.isMarked(5), false, 'the newer run took the slot; run 5 ended long before');
});

test('a thread that never turns its event loop sees a mark made on another thread', async () => {
  const flags = new CancelFlags();
  // The worker spins synchronously (no event-loop turn, so no message could reach it) until run 7 is marked.
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    const slots = new Int32Array(workerData);
    const started = Date.now();
    parentPort.postMessage('spinning');
    let seen = false;
    while (Date.now() - started < 20000) if (Atomics.load(slots, 7 % 64) === 7) { seen = true; break; }
    parentPort.postMessage(seen ? 'seen' : 'timeout');`;
  const worker = new Worker(code, { eval: true, workerData: flags.buffer });
  const replies: string[] = [];
  const done = new Promise<void>((resolve, reject) => {
    worker.on('message', (m: string) => {
      replies.push(m);
      if (m === 'spinning') flags.mark(7);
      else resolve();
    });
    worker.on('error', reject);
  });
  await done;
  await worker.terminate();
  assert.deepEqual(replies, ['spinning', 'seen']);
});

test('RunQueue reports a run cancelled through its shared flags', async () => {
  const flags = new CancelFlags();
  const seen: boolean[] = [];
  const queue = new RunQueue(() => undefined);
  queue.shared = flags;
  await queue.run(3, new AbortController().signal, async (isCancelled) => {
    seen.push(isCancelled());
    flags.mark(3);
    seen.push(isCancelled());
  });
  assert.deepEqual(seen, [false, true]);
});
