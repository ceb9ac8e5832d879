// The panel's channel as both sides declare it (protocol/panel-channel.ts): the host's checks against its current run
// and the webview's checks of the host's notes and replies, applied by the real channel over a real MessageChannel.
// A webview note or request about another run is refused, a layer whose bytes do not fit its shape never reaches a
// view, a malformed reply fails its request, and a note cannot smuggle in a `type` of its own.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { hostChecks, webviewChecks, type PanelHostEnd, type PanelWebviewEnd } from '../../../protocol/panel-channel';
import type { RunContext } from '../../../protocol/validate';
import { Channel } from '../../../runtime/channel/channel';
import { nodePort } from '../../../runtime/channel/ports';
import { isLensError } from '../../../runtime/errors';

const run: RunContext = { runId: 7, layers: 2, tokens: 3, heads: 2 };
const { port1, port2 } = new MessageChannel();
after(() => {
  port1.close();
  port2.close();
});
const hostDrops: string[] = [];
const webviewDrops: string[] = [];
const host = new Channel<PanelHostEnd, PanelWebviewEnd>(nodePort(port1), {
  peer: 'the panel',
  checks: hostChecks(() => run),
  onDrop: (r) => hostDrops.push(r),
});
const webview = new Channel<PanelWebviewEnd, PanelHostEnd>(nodePort(port2), {
  peer: 'the host',
  checks: webviewChecks(),
  onDrop: (r) => webviewDrops.push(r),
});
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

test('webview notes about the current run reach the host; others are dropped with the reason', async () => {
  const picked: number[] = [];
  host.on('selectToken', (m) => picked.push(m.index));
  webview.notify('selectToken', { runId: 7, index: 2 });
  webview.notify('selectToken', { runId: 6, index: 1 });
  webview.notify('selectToken', { runId: 7, index: 3 });
  webview.notify('selectToken', { runId: 7, index: 0, type: 'ready' } as never);
  await settle();
  assert.deepEqual(picked, [2]);
  assert.equal(hostDrops.length, 3);
  assert.match(hostDrops[0], /runId 6 is not the panel's current run \(7\)/);
  assert.match(hostDrops[1], /index must be an integer in \[0, 3\)/);
});

test('a request about another run is refused with one line; a valid one is answered', async () => {
  host.handle('vectors', ({ runId, layer }) => ({
    runId,
    layer,
    heads: 2,
    kvHeads: 2,
    queryLength: 3,
    keyLength: 3,
    headDim: 4,
    q: new ArrayBuffer(2 * 3 * 4 * 4),
    k: new ArrayBuffer(layer === 1 ? 4 : 2 * 3 * 4 * 4),
  }));
  await assert.rejects(
    webview.request('vectors', { runId: 5, layer: 0 }),
    (e: unknown) => isLensError(e) && e.code === 'BAD_INPUT' && /not the panel's current run/.test(e.message),
  );
  const v = await webview.request('vectors', { runId: 7, layer: 0 });
  assert.equal(v.q?.byteLength, 96);
  // Layer 1's reply has a k of the wrong size: the webview refuses it.
  await assert.rejects(
    webview.request('vectors', { runId: 7, layer: 1 }),
    (e: unknown) => isLensError(e) && /the host sent a malformed reply for "vectors": k size/.test(e.message),
  );
});

test('host notes: a layer whose bytes do not fit its shape never reaches the view', async () => {
  const layers: number[] = [];
  webview.on('layer', (m) => layers.push(m.layer));
  const note = { runId: 7, kind: 'self' as const, heads: 2, queryLength: 3, keyLength: 3 };
  host.notify('layer', { ...note, layer: 0, data: new ArrayBuffer(72) });
  host.notify('layer', { ...note, layer: 1, data: new ArrayBuffer(68) });
  await settle();
  assert.deepEqual(layers, [0]);
  assert.match(webviewDrops.at(-1) ?? '', /expected 72/);
});

test('the host checks the inference answers of the webview: a reply without facts fails the load', async () => {
  webview.handle('inferLoad', () => ({ backend: 'webgpu', note: 'x' }) as never);
  await assert.rejects(
    host.request('inferLoad', {
      modelBase: 'https://m/',
      workerUrl: 'https://w.js',
      wasmUrl: 'https://o.wasm',
      backend: 'webgpu',
      fallback: 'wasm',
      maxTokens: 8,
    }),
    (e: unknown) => isLensError(e) && /the panel sent a malformed reply for "inferLoad": facts/.test(e.message),
  );
});
