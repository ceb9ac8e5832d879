// The request/reply channel (runtime/channel/channel.ts) over real ports: node:worker_threads' MessageChannel (the
// structured clone and transfer of a real postMessage) and a real worker thread (test/helpers/channel-worker.ts).
// Replies are matched to their request by id whatever the order they come back in; events stream in order before
// the reply; errors arrive as LensErrors with their code; a cancel mid-stream rejects at once, aborts the handler and
// stops its events; transfer lists move buffers (the sender's is detached) and their absence copies them; malformed
// messages from the other side are refused; restart() and close() settle everything in flight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { Channel, type Call, type NoEnd, type Port } from '../../../../runtime/channel/channel';
import { nodePort } from '../../../../runtime/channel/ports';
import { isLensError, LensError } from '../../../../runtime/errors';
import type { EchoEnd } from '../../../helpers/channel-worker';

/** The side that answers. */
interface Server {
  calls: {
    echo: Call<{ value: number; delayMs: number }, { value: number }>;
    count: Call<{ to: number; everyMs: number }, { sent: number }, { i: number }>;
    fail: Call<{ lens: boolean }, never>;
    bytes: Call<{ data: ArrayBuffer; move: boolean }, { data: ArrayBuffer; seen: number[] }, { data: ArrayBuffer }>;
    hang: Call<Record<string, never>, never>;
  };
  notes: { hello: { name: string } };
}

/** The side that asks. */
interface Client {
  calls: Record<never, never>;
  notes: { log: { line: string } };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Waits until `done()` holds (messages cross a real port asynchronously), at most 5 s. */
async function until(done: () => boolean): Promise<void> {
  for (let t = 0; t < 500 && !done(); t++) await sleep(10);
}

function pair(options: ConstructorParameters<typeof Channel>[1] = {}) {
  const { port1, port2 } = new MessageChannel();
  const client = new Channel<Client, Server>(nodePort(port1), options);
  const server = new Channel<Server, Client>(nodePort(port2));
  const aborted: number[] = [];
  server.handle('echo', async ({ value, delayMs }) => {
    await sleep(delayMs);
    return { value };
  });
  server.handle('count', async ({ to, everyMs }, ctx) => {
    let sent = 0;
    for (let i = 0; i < to; i++) {
      if (ctx.signal.aborted) {
        aborted.push(ctx.id);
        throw new LensError('CANCELLED', 'stopped');
      }
      ctx.emit({ i });
      sent++;
      await sleep(everyMs);
    }
    return { sent };
  });
  server.handle('fail', ({ lens }) => {
    if (lens) throw new LensError('NO_CONFIG', 'There is no config.json in /x: choose a model folder.');
    throw new TypeError('x is not a function\n    at somewhere (file.ts:1:1)');
  });
  server.handle('bytes', ({ data, move }, ctx) => {
    const seen = [...new Uint8Array(data)];
    const event = new Uint8Array([9, 9]).buffer;
    ctx.emit({ data: event }, move ? [event] : []);
    if (move) ctx.transfer(data);
    return { data, seen };
  });
  server.handle('hang', () => new Promise<never>(() => undefined));
  const close = () => {
    port1.close();
    port2.close();
  };
  return { client, server, aborted, close };
}

test('replies are matched to their requests by id, in whatever order they come back', async () => {
  const { client, close } = pair();
  const replies = await Promise.all([
    client.request('echo', { value: 1, delayMs: 40 }),
    client.request('echo', { value: 2, delayMs: 0 }),
    client.request('echo', { value: 3, delayMs: 20 }),
  ]);
  assert.deepEqual(
    replies.map((r) => r.value),
    [1, 2, 3],
  );
  assert.equal(client.pending, 0);
  close();
});

test('events stream in order before the reply', async () => {
  const { client, close } = pair();
  const events: number[] = [];
  const reply = await client.request('count', { to: 5, everyMs: 0 }, { onEvent: (e) => events.push(e.i) });
  assert.deepEqual(events, [0, 1, 2, 3, 4]);
  assert.equal(reply.sent, 5);
  close();
});

test('errors arrive as LensErrors: the code and message kept, an unexpected error as its first line', async () => {
  const { client, close } = pair();
  await assert.rejects(
    client.request('fail', { lens: true }),
    (e: unknown) =>
      isLensError(e) && e.code === 'NO_CONFIG' && e.message === 'There is no config.json in /x: choose a model folder.',
  );
  await assert.rejects(
    client.request('fail', { lens: false }),
    (e: unknown) => isLensError(e) && e.code === 'INFERENCE_FAILED' && e.message === 'x is not a function',
  );
  close();
});

test('a request nobody answers fails with BAD_INPUT, and so does a malformed one', async () => {
  const { port1, port2 } = new MessageChannel();
  const client = new Channel<NoEnd, Server>(nodePort(port1));
  const drops: string[] = [];
  const server = new Channel<Server, NoEnd>(nodePort(port2), {
    checks: { request: (_, p) => (typeof (p as { value?: unknown }).value === 'number' ? undefined : 'value') },
    onDrop: (r) => drops.push(r),
  });
  server.handle('echo', ({ value }) => ({ value }));
  await assert.rejects(
    client.request('count', { to: 1, everyMs: 0 }),
    (e: unknown) => isLensError(e) && e.code === 'BAD_INPUT',
  );
  await assert.rejects(
    client.request('echo', { value: 'x' as unknown as number, delayMs: 0 }),
    (e: unknown) => isLensError(e) && e.code === 'BAD_INPUT' && /malformed: value/.test(e.message),
  );
  assert.deepEqual((await client.request('echo', { value: 4, delayMs: 0 })).value, 4);
  assert.equal(drops.length, 2);
  port1.close();
});

test('cancelling mid-stream rejects at once, aborts the handler and stops its events', async () => {
  const cancelledIds: number[] = [];
  const { client, aborted, close } = pair({ onCancel: (id) => cancelledIds.push(id) });
  const ac = new AbortController();
  const events: number[] = [];
  const request = client.request(
    'count',
    { to: 1000, everyMs: 5 },
    {
      signal: ac.signal,
      onEvent: (e) => {
        events.push(e.i);
        if (e.i === 2) ac.abort();
      },
    },
  );
  await assert.rejects(request, (e: unknown) => isLensError(e) && e.code === 'CANCELLED');
  assert.deepEqual(events, [0, 1, 2]);
  assert.equal(cancelledIds.length, 1);
  await until(() => aborted.length > 0);
  assert.deepEqual(aborted, cancelledIds, 'the handler saw its signal aborted');
  assert.deepEqual(events, [0, 1, 2], 'no event after the cancel');
  // An aborted signal given up front never sends the request.
  await assert.rejects(
    client.request('echo', { value: 1, delayMs: 0 }, { signal: AbortSignal.abort() }),
    (e: unknown) => isLensError(e) && e.code === 'CANCELLED',
  );
  close();
});

test('an event the consumer fails on fails the request and stops the handler', async () => {
  const { client, aborted, close } = pair();
  const request = client.request(
    'count',
    { to: 1000, everyMs: 5 },
    {
      onEvent: (e) => {
        if (e.i === 1) throw new LensError('INFERENCE_FAILED', 'NaN in layer 1');
      },
    },
  );
  await assert.rejects(request, /NaN in layer 1/);
  await until(() => aborted.length > 0);
  assert.equal(aborted.length, 1);
  close();
});

test('transfer lists move buffers; without one they are copied', async () => {
  const { client, close } = pair();
  const moved = new Uint8Array([1, 2, 3]).buffer;
  let event: ArrayBuffer | undefined;
  const reply = await client.request(
    'bytes',
    { data: moved, move: true },
    { transfer: [moved], onEvent: (e) => (event = e.data) },
  );
  assert.equal(moved.byteLength, 0, 'the request moved the buffer away');
  assert.deepEqual(reply.seen, [1, 2, 3]);
  assert.deepEqual([...new Uint8Array(reply.data)], [1, 2, 3], 'the reply moved it back');
  assert.deepEqual([...new Uint8Array(event!)], [9, 9]);

  const copied = new Uint8Array([4, 5]).buffer;
  const again = await client.request('bytes', { data: copied, move: false });
  assert.equal(copied.byteLength, 2, 'no transfer list: the sender keeps its buffer');
  assert.deepEqual(again.seen, [4, 5]);
  close();
});

test('the handler side: a reply moved with ctx.transfer leaves its buffer detached there', async () => {
  const { port1, port2 } = new MessageChannel();
  const client = new Channel<NoEnd, Server>(nodePort(port1));
  const server = new Channel<Server, NoEnd>(nodePort(port2));
  let kept: ArrayBuffer | undefined;
  server.handle('bytes', ({ data }, ctx) => {
    kept = new Uint8Array([7, 7, 7, 7]).buffer;
    ctx.transfer(kept);
    return { data: kept, seen: [...new Uint8Array(data)] };
  });
  const reply = await client.request('bytes', { data: new ArrayBuffer(1), move: false });
  assert.equal(reply.data.byteLength, 4);
  assert.equal(kept!.byteLength, 0);
  port1.close();
});

test('notes reach their listeners; malformed notes and replies are refused', async () => {
  const { port1, port2 } = new MessageChannel();
  const drops: string[] = [];
  const server = new Channel<Server, Client>(nodePort(port2));
  const client = new Channel<Client, Server>(nodePort(port1), {
    peer: 'the test server',
    checks: {
      note: (name, p) => (typeof (p as { line?: unknown }).line === 'string' ? undefined : `${name}: line`),
      reply: (name, p) => (name === 'echo' && (p as { value: number }).value < 0 ? 'negative' : undefined),
    },
    onDrop: (r) => drops.push(r),
  });
  const lines: string[] = [];
  client.on('log', (p) => lines.push(p.line));
  server.notify('log', { line: 'one' });
  server.notify('log', { line: 2 as unknown as string });
  server.notify('log', { line: 'three' });
  server.handle('echo', ({ value }) => ({ value }));
  await assert.rejects(
    client.request('echo', { value: -1, delayMs: 0 }),
    (e: unknown) => isLensError(e) && /the test server sent a malformed reply for "echo": negative/.test(e.message),
  );
  assert.deepEqual(lines, ['one', 'three']);
  assert.ok(drops.some((d) => /dropped the note "log"/.test(d)));
  // Not channel messages at all.
  port2.postMessage({ type: 'layer' });
  port2.postMessage('hello');
  await until(() => drops.filter((d) => d.startsWith('not a channel message')).length >= 2);
  assert.equal(drops.filter((d) => d.startsWith('not a channel message')).length, 2);
  port1.close();
});

test('restart(): the requests of a side that started again are detached, its own fail', async () => {
  const { port1, port2 } = new MessageChannel();
  const client = new Channel<Client, Server>(nodePort(port1));
  const server = new Channel<Server, Client>(nodePort(port2));
  let finish: (() => void) | undefined;
  let detachedAtEnd: boolean | undefined;
  server.handle('echo', async ({ value }, ctx) => {
    await new Promise<void>((resolve) => (finish = resolve));
    detachedAtEnd = ctx.detached;
    return { value };
  });
  let settled = false;
  const asked = client.request('echo', { value: 1, delayMs: 0 }).finally(() => (settled = true));
  await until(() => finish !== undefined);
  server.restart(new LensError('INFERENCE_FAILED', 'reloaded'));
  finish!();
  await until(() => detachedAtEnd !== undefined);
  // A note sent after the handler ended arrives after any reply it could have sent.
  let marker = false;
  client.on('log', () => (marker = true));
  server.notify('log', { line: 'after' });
  await until(() => marker);
  assert.equal(detachedAtEnd, true);
  assert.equal(settled, false, 'a detached handler sends no reply');
  client.restart(new LensError('INFERENCE_FAILED', 'the other side reloaded'));
  await assert.rejects(asked, /the other side reloaded/);
  port1.close();
});

test('close(): requests in flight and later ones fail with the reason; handlers are aborted', async () => {
  const { client, server, close } = pair();
  const hanging = client.request('hang', {});
  await sleep(5);
  client.close(new LensError('INFERENCE_FAILED', 'The inference worker stopped.'));
  await assert.rejects(hanging, /The inference worker stopped/);
  await assert.rejects(client.request('echo', { value: 1, delayMs: 0 }), /The inference worker stopped/);
  server.close(new LensError('DISPOSED', 'gone'));
  close();
});

test('a real worker thread: replies, streamed events with moved buffers, cancel and errors', async () => {
  // The worker loads the TypeScript helper through tsx's CommonJS hook (a worker does not inherit the test's loader).
  const helper = path.resolve(import.meta.dirname, '../../../helpers/channel-worker.ts');
  const worker = new Worker(`require('tsx/cjs'); require(${JSON.stringify(helper)});`, { eval: true });
  const port: Port = nodePort(worker);
  const channel = new Channel<NoEnd, EchoEnd>(port);
  try {
    const input = new Float32Array([0.25, 0.5, 0.75]);
    const chunks: Float32Array[] = [];
    const reply = await channel.request(
      'scale',
      { data: input.buffer as ArrayBuffer, factor: 2, chunks: 3 },
      { transfer: [input.buffer as ArrayBuffer], onEvent: (e) => chunks.push(new Float32Array(e.chunk)) },
    );
    assert.equal(input.byteLength, 0, 'the input moved to the worker');
    assert.deepEqual(
      chunks.map((c) => [...c]),
      [
        [0.5, 1, 1.5],
        [1, 2, 3],
        [1.5, 3, 4.5],
      ],
    );
    assert.deepEqual(reply, { chunks: 3 });
    await assert.rejects(
      channel.request('scale', { data: new ArrayBuffer(0), factor: 0, chunks: 1 }),
      (e: unknown) => isLensError(e) && e.code === 'BAD_INPUT',
    );
    const ac = new AbortController();
    const slow = channel.request(
      'scale',
      { data: new ArrayBuffer(4), factor: 1, chunks: 10_000 },
      { signal: ac.signal, onEvent: () => ac.abort() },
    );
    await assert.rejects(slow, (e: unknown) => isLensError(e) && e.code === 'CANCELLED');
    // The worker sees the cancel at its next step.
    let stopped = 0;
    for (let i = 0; i < 100 && stopped === 0; i++) {
      await sleep(5);
      stopped = (await channel.request('stopped', {})).cancelled;
    }
    assert.equal(stopped, 1);
  } finally {
    await worker.terminate();
  }
});
