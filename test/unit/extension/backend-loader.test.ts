// Where the extension runs a model (extension/backend-loader.ts) and the WebviewInspector that talks to a panel's
// in-webview model (extension/webview-inspector.ts), against a fake panel port that answers like the webview does:
// which backend each setting picks and the note it gives, layers streamed in order, the GPU fallback, a panel that
// goes away, forward passes delegated to a host copy, and the inference channel's validators.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendLoader, type Loader } from '../../../extension/backend-loader';
import { WebviewInspector, type InferencePort } from '../../../extension/webview-inspector';
import type { InferHostMessage, InferWebviewMessage } from '../../../protocol/inference';
import { validateInferHostMessage, validateInferWebviewMessage } from '../../../protocol/inference-validate';
import type { ForwardResult, Inspector } from '../../../runtime/inspector/api';
import { isLensError } from '../../../runtime/errors';
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
};

/** A panel whose webview answers like webview/inference/bridge.ts (synchronously, for the test). */
class FakePort implements InferencePort {
  isDisposed = false;
  sent: InferHostMessage[] = [];
  private listeners = new Set<(m: InferWebviewMessage) => void>();
  private resets = new Set<(why: string) => void>();
  constructor(private readonly behaviour: Behaviour) {}

  postInference(m: InferHostMessage): void {
    this.sent.push(m);
    queueMicrotask(() => this.answer(m));
  }
  onInference(l: (m: InferWebviewMessage) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  onInferenceReset(l: (why: string) => void): () => void {
    this.resets.add(l);
    return () => this.resets.delete(l);
  }
  async prepareInference(): Promise<{ modelBase: string; workerUrl: string; wasmUrl: string }> {
    return { modelBase: 'https://x/model/', workerUrl: 'https://x/w.js', wasmUrl: 'https://x/o.wasm' };
  }
  emit(m: InferWebviewMessage): void {
    for (const l of [...this.listeners]) l(m);
  }
  reset(why: string): void {
    for (const l of [...this.resets]) l(why);
  }

  private answer(m: InferHostMessage): void {
    const b = this.behaviour;
    if (m.type === 'inferProbe')
      this.emit({
        type: 'inferProbed',
        probeId: m.probeId,
        adapter: b.adapter,
        ...(b.adapter ? {} : { reason: 'no adapter here' }),
      });
    else if (m.type === 'inferLoad') {
      if (b.load === 'unavailable')
        this.emit({
          type: 'inferLoadFailed',
          loadId: m.loadId,
          code: 'BACKEND_UNAVAILABLE',
          message: 'WebGPU not used: too small.',
        });
      else
        this.emit({
          type: 'inferLoaded',
          loadId: m.loadId,
          facts: FACTS,
          backend: b.load,
          note: b.load === 'webgpu' ? 'WebGPU on fake gpu.' : 'Wasm in the panel: no adapter here.',
          ...(b.load === 'webgpu' ? { adapter: 'fake gpu' } : {}),
        });
    } else if (m.type === 'inferRun') {
      for (let layer = 0; layer < FACTS.layers; layer++) {
        const data = new Float32Array(2 * m.ids.length * m.ids.length).fill(layer + 1); // [heads, q, k]
        this.emit({
          type: 'inferLayer',
          runId: m.runId,
          layer,
          kind: 'causal',
          heads: 2,
          queryLength: m.ids.length,
          keyLength: m.ids.length,
          data: data.buffer,
        });
      }
      this.emit({
        type: 'inferDone',
        runId: m.runId,
        lastHidden: new Float32Array(8 * m.ids.length).buffer,
        stageMs: [1],
      });
    } else if (m.type === 'inferDispose') this.emit({ type: 'inferEnded' });
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
    if (behaviour.adapter === null) assert.ok(!port.sent.some((m) => m.type === 'inferLoad'), 'nothing fetched');
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
  const port = new FakePort({ adapter: 'fake gpu', load: 'webgpu' });
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
  port.emit({ type: 'inferFallback', reason: 'the GPU device was lost (destroyed)' });
  assert.equal(insp.backend, 'wasm');
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

test('the inference channel validators check shapes, sizes and types', () => {
  const layer = { type: 'inferLayer', runId: 1, layer: 0, kind: 'self', heads: 2, queryLength: 3, keyLength: 3 };
  assert.ok(validateInferWebviewMessage({ ...layer, data: new ArrayBuffer(72) }).ok);
  const short = validateInferWebviewMessage({ ...layer, data: new ArrayBuffer(70) });
  assert.ok(!short.ok && /needs 72/.test(short.reason));
  assert.ok(!validateInferWebviewMessage({ ...layer, kind: 'other', data: new ArrayBuffer(72) }).ok);
  assert.ok(!validateInferWebviewMessage({ type: 'inferBogus' }).ok);
  assert.ok(
    !validateInferWebviewMessage({ type: 'inferLoaded', loadId: 1, backend: 'cuda', note: '', facts: FACTS }).ok,
  );
  assert.ok(
    validateInferWebviewMessage({ type: 'inferLoaded', loadId: 1, backend: 'webgpu', note: 'x', facts: FACTS }).ok,
  );
  assert.ok(validateInferHostMessage({ type: 'inferRun', runId: 2, ids: [1, 2], withVectors: [0] }).ok);
  assert.ok(!validateInferHostMessage({ type: 'inferRun', runId: 2, ids: [1, -2], withVectors: false }).ok);
  assert.ok(
    !validateInferHostMessage({
      type: 'inferLoad',
      loadId: 1,
      modelBase: '',
      workerUrl: 'w',
      wasmUrl: 'x',
      backend: 'webgpu',
      fallback: 'wasm',
      maxTokens: 5,
    }).ok,
  );
});
