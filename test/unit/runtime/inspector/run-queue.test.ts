// The workers' run queue: arrival order, waiting for the load, cancelling queued and active runs, stop().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunQueue } from '../../../../runtime/inspector/run-queue';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

test('runs requests one at a time, in arrival order, after the load', async () => {
  let loaded!: () => void;
  const loading = new Promise<void>((resolve) => (loaded = resolve));
  const log: string[] = [];
  const queue = new RunQueue<{ runId: number }>(
    async (req) => {
      log.push(`start ${req.runId}`);
      await tick();
      log.push(`end ${req.runId}`);
    },
    () => loading,
  );
  queue.push({ runId: 1 });
  queue.push({ runId: 2 });
  await tick();
  assert.deepEqual(log, []);
  loaded();
  for (let i = 0; i < 6; i++) await tick();
  assert.deepEqual(log, ['start 1', 'end 1', 'start 2', 'end 2']);
});

test('stop() drops queued requests and waits for the active one', async () => {
  const log: string[] = [];
  const queue = new RunQueue<{ runId: number }>(
    async (req) => {
      log.push(`start ${req.runId}`);
      await tick();
      log.push(`end ${req.runId} cancelled=${queue.isCancelled(req.runId)}`);
    },
    () => undefined,
  );
  queue.push({ runId: 1 });
  queue.push({ runId: 2 });
  await queue.stop();
  assert.deepEqual(log, ['start 1', 'end 1 cancelled=true']);
});

test('cancel drops a queued request and marks the active one until it ends', async () => {
  const seen: number[] = [];
  const cancelledWhileRunning: boolean[] = [];
  let release!: () => void;
  const queue = new RunQueue<{ runId: number }>(
    async (req) => {
      seen.push(req.runId);
      if (req.runId === 1) await new Promise<void>((resolve) => (release = resolve));
      cancelledWhileRunning.push(queue.isCancelled(req.runId));
    },
    () => undefined,
  );
  queue.push({ runId: 1 });
  queue.push({ runId: 2 });
  queue.push({ runId: 3 });
  await tick();
  queue.cancel(2);
  queue.cancel(1);
  assert.equal(queue.isCancelled(1), true);
  release();
  await tick();
  await tick();
  assert.deepEqual(seen, [1, 3]);
  assert.deepEqual(cancelledWhileRunning, [true, false]);
  assert.equal(queue.isCancelled(1), false);
});
