// The workers' run queue (runtime/inspector/run-queue.ts): arrival order, waiting for the load, a request cancelled
// while queued never runs, one cancelled while running sees it, stop() cancels everything and waits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunQueue } from '../../../../runtime/inspector/run-queue';
import { isLensError } from '../../../../runtime/errors';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const isCancelledError = (e: unknown) => isLensError(e) && e.code === 'CANCELLED';

test('runs requests one at a time, in arrival order, after the load', async () => {
  let loaded!: () => void;
  const loading = new Promise<void>((resolve) => (loaded = resolve));
  const log: string[] = [];
  const queue = new RunQueue(() => loading);
  const work = (id: number) => async () => {
    log.push(`start ${id}`);
    await tick();
    log.push(`end ${id}`);
    return id;
  };
  const signal = new AbortController().signal;
  const runs = [queue.run(1, signal, work(1)), queue.run(2, signal, work(2))];
  await tick();
  assert.deepEqual(log, []);
  loaded();
  assert.deepEqual(await Promise.all(runs), [1, 2]);
  assert.deepEqual(log, ['start 1', 'end 1', 'start 2', 'end 2']);
});

test('a failed load does not stop the queue: the requests run (and find no model)', async () => {
  const queue = new RunQueue(() => Promise.reject(new Error('no config')));
  assert.equal(await queue.run(1, new AbortController().signal, async () => 'ran'), 'ran');
});

test('a request cancelled while queued never runs; one cancelled while running sees it until it ends', async () => {
  const seen: number[] = [];
  const cancelledWhileRunning: boolean[] = [];
  let release!: () => void;
  const queue = new RunQueue(() => undefined);
  const controllers = [1, 2, 3].map(() => new AbortController());
  const runs = [1, 2, 3].map((id, i) =>
    queue.run(id, controllers[i].signal, async (isCancelled) => {
      seen.push(id);
      if (id === 1) await new Promise<void>((resolve) => (release = resolve));
      cancelledWhileRunning.push(isCancelled());
      return id;
    }),
  );
  await tick();
  controllers[1].abort();
  controllers[0].abort();
  release();
  const settled = await Promise.allSettled(runs);
  assert.deepEqual(seen, [1, 3]);
  assert.deepEqual(cancelledWhileRunning, [true, false]);
  assert.equal(settled[0].status, 'fulfilled', 'a running request ends as its work decides');
  assert.ok(settled[1].status === 'rejected' && isCancelledError(settled[1].reason));
  assert.deepEqual(settled[2], { status: 'fulfilled', value: 3 });
});

test('stop() cancels the queued requests and the running one, and waits for it', async () => {
  const log: string[] = [];
  const queue = new RunQueue(() => undefined);
  const signal = new AbortController().signal;
  const first = queue.run(1, signal, async (isCancelled) => {
    log.push('start 1');
    await tick();
    log.push(`end 1 cancelled=${isCancelled()}`);
  });
  const second = queue.run(2, signal, async () => void log.push('start 2'));
  await tick();
  await queue.stop();
  assert.deepEqual(log, ['start 1', 'end 1 cancelled=true']);
  await first;
  await assert.rejects(second, isCancelledError);
  // Requests queued after stop() run again.
  assert.equal(await queue.run(3, signal, async (isCancelled) => isCancelled()), false);
});
