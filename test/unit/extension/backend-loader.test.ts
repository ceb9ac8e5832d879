// Where the extension runs a model (extension/backend-loader.ts) and the WebviewInspector that talks to a panel's
// in-webview model (extension/webview-inspector.ts), against a fake webview that answers the panel's inference
// requests like webview/inference/bridge.ts does, over the real request/reply channel on a real MessageChannel with
// the host's real checks: which backend each setting picks and the note it gives, layers streamed in order, the GPU
// fallback, a panel that goes away, forward passes delegated to a host copy, and malformed answers refused.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { backendLoader, type Loader } from '../../../extension/backend-loader';
import { WebviewInspector, type InferencePort } from '../../../extension/webview-inspector';
import type { InferenceCalls } from '../../../protocol/inference';
import { hostChecks, type PanelHostEnd, type PanelWebviewEnd } from '../../../protocol/panel-channel';
import { checkInferEvent, checkInferReply, checkInferRequest } from '../../../protocol/inference-validate';
import { Channel, type RequestOptions } from '../../../runtime/channel/channel';
import { nodePort } from '../../../runtime/channel/ports';
import type { ForwardRequest, ForwardResult, Inspector } from '../../../runtime/inspector/api';
import { isLensError, LensError } from '../../../runtime/errors';
import type { PlanFacts } from '../../../runtime/models/plan';
import { fixtureModel } from '../../helpers/fixtures';

const stories = fixtureModel('stories260K');

const FACTS: PlanFacts = {
  family: 'llama',
  modelType: 'llama',
  layers: 2,
  heads: 2,
  kvHeads: 2,
  headDim: 4,
  hidden: 8,
  vocabSize: 512,
  maxPositions: 512,
  attentionKinds: ['causal', 'causal'],
  hasLmHead: true,
};

type Behaviour = {
  adapter: string | null;
  /** What the webview answers to inferLoad. */
  load: 'webgpu' | 'wasm' | 'unavailable';
  /** The run moves to Wasm after this layer (a fallback event). */
  fallbackAfter?: number;
  /** The webview sends a layer with too few bytes for its shape. */
  shortLayer?: boolean;
};

const openPorts: { close(): void }[] = [];
after(() => openPorts.forEach((p) => p.close()));

/** A panel whose webview answers like webview/inference/bridge.ts, through the real channel. */
class FakePort implements InferencePort {
  isDisposed = false;
  /** The requests the webview received. */
  asked: string[] = [];
  private readonly host: Channel<PanelHostEnd, PanelWebviewEnd>;
  private readonly webview: Channel<PanelWebviewEnd, PanelHostEnd>;
  private resets = new Set<(why: string) => void>();

  constructor(b: Behaviour) {
    const { port1, port2 } = new MessageChannel();
    this.host = new Channel(nodePort(port1), {
      peer: 'the panel',
      checks: hostChecks(() => ({ runId: undefined, layers: 0, tokens: 0 })),
    });
    this.webview = new Channel(nodePort(port2), { checks: { request: checkInferRequest } });
    // Listening keeps the process alive: every port is closed after the tests.
    openPorts.push(port1, port2);
    const w = this.webview;
    w.handle('inferProbe', () => {
      this.asked.push('inferProbe');
      return b.adapter ? { adapter: b.adapter } : { adapter: null, reason: 'no adapter here' };
    });
    w.handle('inferLoad', (_, ctx) => {
      this.asked.push('inferLoad');
      ctx.emit({ phase: 'reading-weights' });
      if (b.load === 'unavailable') throw new LensError('BACKEND_UNAVAILABLE', 'WebGPU not used: too small.');
      return {
        facts: FACTS,
        backend: b.load,
        note: b.load === 'webgpu' ? 'WebGPU on fake gpu.' : 'Wasm in the panel: no adapter here.',
        ...(b.load === 'webgpu' ? { adapter: 'fake gpu' } : {}),
      };
    });
    w.handle('inferRun', (m, ctx) => {
      this.asked.push('inferRun');
      const n = m.ids.length;
      for (let layer = 0; layer < FACTS.layers; layer++) {
        const data = new Float32Array(2 * n * n - (b.shortLayer ? 1 : 0)).fill(layer + 1); // [heads, q, k]
        ctx.emit({ type: 'layer', layer, kind: 'causal', heads: 2, queryLength: n, keyLength: n, data: data.buffer });
        if (b.fallbackAfter === layer) ctx.emit({ type: 'fallback', reason: 'the GPU device was lost (destroyed)' });
      }
      return { lastHidden: new Float32Array(8 * n).buffer, stageMs: [1] };
    });
    w.handle('inferDispose', () => {
      this.asked.push('inferDispose');
      return {};
    });
  }

  request<N extends keyof InferenceCalls>(
    name: N,
    payload: InferenceCalls[N]['request'],
    options?: RequestOptions<InferenceCalls[N]['event']>,
  ): Promise<InferenceCalls[N]['reply']> {
    return this.host.request(name, payload as never, options as never) as Promise<InferenceCalls[N]['reply']>;
  }
  onEnded(l: (reason: string) => void): () => void {
    return this.host.on('inferEnded', (p) => l(p.reason));
  }
  onInferenceReset(l: (why: string) => void): () => void {
    this.resets.add(l);
    return () => this.resets.delete(l);
  }
  async prepareInference(): Promise<{ modelBase: string; workerUrl: string; wasmUrl: string }> {
    return { modelBase: 'https://x/model/', workerUrl: 'https://x/w.js', wasmUrl: 'https://x/o.wasm' };
  }
  /** The webview's worker crashed. */
  crash(reason: string): void {
    this.webview.notify('inferEnded', { reason });
  }
  reset(why: string): void {
    for (const l of [...this.resets]) l(why);
    this.host.restart(new LensError('INFERENCE_FAILED', `The panel was ${why}.`));
  }
}

/** A host "inspector" that records how it was loaded. */
function hostStub(calls: { model: string; backend?: string }[]): Loader {
  return async (model, options = {}) => {
    calls.push({ model, backend: options.backend });
    const insp: Partial<Inspector> = {
      facts: { ...FACTS, name: 'host', dir: model },
      backend: options.backend === 'wasm' ? 'wasm' : 'native',
      threads: 2,
      loadMs: 1,
      forward: async () => ({ rows: 1, seq: 1, head: new Float32Array(1), width: 1, stageMs: [] }) as ForwardResult,
      dispose: async () => undefined,
    };
    return insp as Inspector;
  };
}

function loaderWith(port: InferencePort | undefined, calls: { model: string; backend?: string }[]) {
  const notes: string[] = [];
  const load = backendLoader({
    hostLoad: hostStub(calls),
    port: () => port,
    maxTokens: () => 512,
    loaded: (_, note) => notes.push(note),
  });
  return { load, notes };
}

test('native and wasm settings load on the host; webgpu/auto without a panel too, saying why', async () => {
  const calls: { model: string; backend?: string }[] = [];
  const { load, notes } = loaderWith(undefined, calls);
  assert.equal((await load(stories, { backend: 'native' })).backend, 'native');
  assert.equal((await load(stories, { backend: 'wasm' })).backend, 'wasm');
  assert.equal((await load(stories, { backend: 'auto' })).backend, 'native');
  assert.deepEqual(notes, [
    'native in the extension host: as the settings ask.',
    'Wasm in the extension host: as the settings ask.',
    'native in the extension host: no panel is open to run WebGPU in.',
  ]);
});

test('auto: no adapter in the webview, or a model that does not fit → native in the host, with the reason', async () => {
  for (const [behaviour, reason] of [
    [{ adapter: null, load: 'webgpu' }, /WebGPU not used: no adapter here\./],
    [{ adapter: 'fake gpu', load: 'unavailable' }, /WebGPU not used: too small\./],
  ] as [Behaviour, RegExp][]) {
    const calls: { model: string; backend?: string }[] = [];
    const port = new FakePort(behaviour);
    const { load, notes } = loaderWith(port, calls);
    const insp = await load(stories, { backend: 'auto' });
    assert.equal(insp.backend, 'native');
    assert.equal(calls.length, 1);
    assert.match(notes[0], /^native in the extension host: /);
    assert.match(notes[0], reason);
    if (behaviour.adapter === null) assert.deepEqual(port.asked, ['inferProbe'], 'nothing fetched');
  }
});

test('auto with an adapter, and webgpu: the model runs in the panel; the note names the adapter or the fallback', async () => {
  const calls: { model: string; backend?: string }[] = [];
  const gpu = loaderWith(new FakePort({ adapter: 'fake gpu', load: 'webgpu' }), calls);
  const a = await gpu.load(stories, { backend: 'auto' });
  assert.ok(a instanceof WebviewInspector);
  assert.equal(a.backend, 'webgpu');
  assert.equal(a.facts.name, 'stories260K');
  assert.match(gpu.notes[0], /^WebGPU in the panel on fake gpu; auto prefers the GPU/);
  const wasm = loaderWith(new FakePort({ adapter: null, load: 'wasm' }), calls);
  const b = await wasm.load(stories, { backend: 'webgpu' });
  assert.equal(b.backend, 'wasm');
  assert.equal(wasm.notes[0], 'Wasm in the panel: no adapter here.');
  assert.equal(calls.length, 0, 'nothing loaded on the host');
});

test('a panel-run model streams layers in order, reports a GPU fallback, and fails its runs when the panel goes', async () => {
  const port = new FakePort({ adapter: 'fake gpu', load: 'webgpu', fallbackAfter: 0 });
  const calls: { model: string; backend?: string }[] = [];
  const insp = (await loaderWith(port, calls).load(stories, { backend: 'webgpu' })) as WebviewInspector;
  const events: string[] = [];
  insp.onEvent((e) => events.push(`${e.kind}: ${e.reason}`));
  const run = insp.run('Once upon a time');
  const layers = [];
  for await (const l of run) layers.push(l);
  assert.deepEqual(
    layers.map((l) => [l.layer, l.data[0], l.data.length]),
    [
      [0, 1, 2 * run.tokens.length ** 2],
      [1, 2, 2 * run.tokens.length ** 2],
    ],
  );
  assert.equal(run.lastHidden()?.length, 8 * run.tokens.length);
  assert.equal(insp.backend, 'wasm', 'the fallback event of the run');
  assert.equal(insp.note, 'Wasm in the panel: the GPU device was lost (destroyed).');
  // forward passes go to a host copy, loaded once
  await insp.forward({ batch: { ids: [[1]], mask: [[1]] }, read: { kind: 'none' } });
  await insp.forward({ batch: { ids: [[1]], mask: [[1]] }, read: { kind: 'none' } });
  assert.equal(calls.length, 1);
  port.reset('closed');
  assert.ok(insp.isDead);
  assert.throws(
    () => insp.run('again'),
    (e: unknown) => isLensError(e) && e.code === 'INFERENCE_FAILED' && /was closed; run again/.test(e.message),
  );
  assert.deepEqual(events, [
    'fallback: the GPU device was lost (destroyed)',
    'ended: The panel that ran stories260K was closed; run again to reload it.',
  ]);
  await insp.dispose();
});

test('a host copy whose load failed is loaded again by the next analysis, not failed for good', async () => {
  const port = new FakePort({ adapter: 'fake gpu', load: 'webgpu' });
  const calls: { model: string; backend?: string }[] = [];
  const working = hostStub(calls);
  let fails = 1;
  const load = backendLoader({
    hostLoad: async (model, options) => {
      if (fails-- > 0) throw new LensError('CANCELLED', 'Cancelled.');
      return working(model, options);
    },
    port: () => port,
    maxTokens: () => 512,
    loaded: () => undefined,
  });
  const insp = (await load(stories, { backend: 'webgpu' })) as WebviewInspector;
  const request: ForwardRequest = { batch: { ids: [[1]], mask: [[1]] }, read: { kind: 'none' } };
  await assert.rejects(insp.forward(request), /Cancelled/);
  const r = await insp.forward(request);
  assert.equal(r.rows, 1);
  assert.equal(calls.length, 1, 'loaded once it could be');
  await insp.dispose();
});

test('the worker crashing in the panel ends the model; dispose asks the panel to release it', async () => {
  const port = new FakePort({ adapter: 'fake gpu', load: 'webgpu' });
  const insp = (await loaderWith(port, []).load(stories, { backend: 'webgpu' })) as WebviewInspector;
  const ended = new Promise<string>((resolve) => insp.onEvent((e) => e.kind === 'ended' && resolve(e.reason)));
  port.crash("the panel's inference worker crashed (out of memory)");
  assert.match(await ended, /inference worker stopped \(the panel's inference worker crashed \(out of memory\)\)/);
  assert.ok(insp.isDead);
  const other = new FakePort({ adapter: 'fake gpu', load: 'webgpu' });
  const live = await loaderWith(other, []).load(stories, { backend: 'webgpu' });
  await live.dispose();
  assert.deepEqual(other.asked, ['inferLoad', 'inferDispose']);
});

test('a layer with too few bytes for its shape fails the run with the reason (never reaches a view)', async () => {
  const port = new FakePort({ adapter: 'fake gpu', load: 'webgpu', shortLayer: true });
  const insp = await loaderWith(port, []).load(stories, { backend: 'webgpu' });
  const layers: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const l of insp.run('Once upon a time')) layers.push(l.layer);
    })(),
    (e: unknown) =>
      isLensError(e) && /the panel sent a malformed event for "inferRun": data has \d+ bytes/.test(e.message),
  );
  assert.deepEqual(layers, []);
  await insp.dispose();
});

test('the inference checks: shapes, sizes and types of requests, replies and events', () => {
  const layer = { type: 'layer', layer: 0, kind: 'self', heads: 2, queryLength: 3, keyLength: 3 };
  assert.equal(checkInferEvent('inferRun', { ...layer, data: new ArrayBuffer(72) }), undefined);
  assert.match(checkInferEvent('inferRun', { ...layer, data: new ArrayBuffer(70) }) ?? '', /needs 72/);
  assert.ok(checkInferEvent('inferRun', { ...layer, kind: 'other', data: new ArrayBuffer(72) }));
  assert.ok(checkInferEvent('inferRun', { type: 'bogus' }));
  assert.equal(checkInferEvent('inferRun', { type: 'fallback', reason: 'x' }), undefined);
  assert.equal(checkInferEvent('inferLoad', { phase: 'reading-weights', fraction: 0.5 }), undefined);
  assert.ok(checkInferEvent('inferLoad', { phase: 'reading-weights', fraction: 2 }));
  assert.ok(checkInferReply('inferLoad', { backend: 'cuda', note: '', facts: FACTS }));
  assert.equal(checkInferReply('inferLoad', { backend: 'webgpu', note: 'x', facts: FACTS }), undefined);
  assert.ok(checkInferReply('inferLoad', { backend: 'webgpu', note: 'x', facts: { ...FACTS, attentionKinds: [] } }));
  assert.equal(checkInferRequest('inferRun', { ids: [1, 2], withVectors: [0] }), undefined);
  assert.ok(checkInferRequest('inferRun', { ids: [1, -2], withVectors: false }));
  assert.ok(
    checkInferRequest('inferLoad', {
      modelBase: '',
      workerUrl: 'w',
      wasmUrl: 'x',
      backend: 'webgpu',
      fallback: 'wasm',
      maxTokens: 5,
    }),
  );
  assert.ok(checkInferRequest('inferBogus', {}));
});

test('the inference checks of Continue (inferGenerate): the request, each token and its rows, the reply', () => {
  const req = { ids: [1, 2], maxNew: 4, stopIds: [3], rows: true };
  assert.equal(checkInferRequest('inferGenerate', req), undefined);
  assert.equal(checkInferRequest('inferGenerate', { ...req, temperature: 0.7, topP: 0.9, seed: 12 }), undefined);
  for (const [bad, why] of [
    [{ ...req, ids: [] }, /ids/],
    [{ ...req, ids: [1.5] }, /ids/],
    [{ ...req, maxNew: 0 }, /maxNew/],
    [{ ...req, temperature: -1 }, /temperature/],
    [{ ...req, topP: 0 }, /topP/],
    [{ ...req, seed: 0.5 }, /seed/],
    [{ ...req, stopIds: ['x'] }, /stopIds/],
    [{ ...req, rows: 'yes' }, /rows/],
  ] as const)
    assert.match(checkInferRequest('inferGenerate', bad) ?? '', why, JSON.stringify(bad));
  // A token at position 2 (3 keys) of a 2-head model: rows of 2 × 3 float32.
  const token = { index: 0, id: 5, position: 2, rows: [new ArrayBuffer(24), new ArrayBuffer(24)] };
  assert.equal(checkInferEvent('inferGenerate', token), undefined);
  assert.equal(checkInferEvent('inferGenerate', { ...token, end: 'stop' }), undefined);
  assert.equal(checkInferEvent('inferGenerate', { ...token, rows: [] }), undefined, 'tokens only');
  assert.match(checkInferEvent('inferGenerate', { ...token, rows: [new ArrayBuffer(20)] }) ?? '', /20 bytes/);
  assert.match(checkInferEvent('inferGenerate', { ...token, rows: [[0.5]] }) ?? '', /ArrayBuffers/);
  assert.match(checkInferEvent('inferGenerate', { ...token, index: 3 }) ?? '', /position/);
  assert.match(checkInferEvent('inferGenerate', { ...token, end: 'cancelled' }) ?? '', /end/);
  assert.equal(checkInferReply('inferGenerate', { count: 4, end: 'length', ms: 12.5 }), undefined);
  assert.ok(checkInferReply('inferGenerate', { count: 4, end: 'stopped', ms: 1 }));
  assert.ok(checkInferReply('inferGenerate', { count: -1, end: 'stop', ms: 1 }));
});
