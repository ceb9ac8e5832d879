// The in-browser inference worker (bundled as dist/webview-inference.js; the panel's webview and the WebGPU tests
// start it). It builds the model's stage graphs from bytes the page fetched, runs them on onnxruntime-web's WebGPU
// execution provider where an adapter is there and the model fits its limits (otherwise Wasm), and streams each
// layer's attention exactly as the Node worker does (same StageEngine, same messages). When the GPU goes away — the
// device is lost (GPU reset, adapter gone, out of memory) or a run fails on it — the worker rebuilds the model on
// Wasm, finishes the interrupted run there (layers already sent are not sent again) and says so with a `fallback`
// message; it stays on Wasm until the model is loaded again.
import { configureWebRuntime, webgpuDevice } from '../../runtime/backend/ort';
import { parseConfig } from '../../runtime/formats/config-normalise';
import { bytesWeights } from '../../runtime/formats/safetensors-bytes';
import { cancelled, isLensError, LensError } from '../../runtime/errors';
import { StageEngine, type EngineRunResult } from '../../runtime/inspector/engine';
import { buildPlan } from '../../runtime/models/builders';
import { RunQueue } from '../../runtime/inspector/run-queue';
import { layerMessage, own } from '../../runtime/inspector/transfer';
import type { ModelSource } from '../../runtime/models/source';
import { asDevice, largestBuffer, misfit, probeAdapter, type GpuDevice } from './gpu';
import type { FromInference, RunRequest, ToInference, WebBackend, WebLoadRequest, WireError } from './protocol';

/** Inference threads: 1, since Wasm threads need a cross-origin-isolated page and a webview is not one. */
const THREADS = 1;

let source: ModelSource | undefined;
let engine: StageEngine | undefined;
let loading: Promise<void> | undefined;
/** Set when the WebGPU device is lost: why. */
let gpuLost: string | undefined;
let onGpuLost: (() => void) | undefined;
/** Incremented when the engine is replaced: layers of a run on the old engine are dropped. */
let generation = 0;
const runs = new RunQueue<RunRequest>(
  (req) => runOne(req),
  () => loading,
);
/** Tests: destroy the device after this layer of the next run. */
let loseAfterLayer: number | undefined;

function post(msg: FromInference, transfer: ArrayBuffer[] = []): void {
  self.postMessage(msg, { transfer });
}

function why(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

function toWire(e: unknown, fallback: string): WireError {
  if (isLensError(e)) return { code: e.code, message: e.message };
  return { code: 'INFERENCE_FAILED', message: `${fallback}: ${why(e)}` };
}

/** A typed array whose whole buffer can be transferred (copies only when it is a view into a larger buffer). */
/** Why WebGPU cannot run this model here, or undefined when it can (plus the adapter's name). */
async function gpuVerdict(req: WebLoadRequest, src: ModelSource): Promise<{ reason?: string; adapter?: string }> {
  const probe = await probeAdapter(req.limits);
  if (!probe.ok) return { reason: probe.reason };
  const reason = misfit(largestBuffer(src.config, src.weights, req.maxTokens), probe.limits);
  return reason ? { reason, adapter: probe.name } : { adapter: probe.name };
}

/** Watches the device onnxruntime's WebGPU provider runs on. */
async function watchDevice(): Promise<void> {
  const device: GpuDevice | undefined = asDevice(await webgpuDevice());
  if (!device) return;
  void device.lost.then((info) => {
    gpuLost = `the GPU device was lost (${info.reason || 'unknown'}${info.message ? `: ${info.message}` : ''})`;
    onGpuLost?.();
  });
}

async function createEngine(src: ModelSource, backend: WebBackend): Promise<StageEngine> {
  const plan = buildPlan(src);
  post({ type: 'progress', phase: 'creating-sessions', fraction: 0 });
  return StageEngine.create(plan, backend, THREADS, (done, total) =>
    post({ type: 'progress', phase: 'creating-sessions', fraction: done / total }),
  );
}

async function load(req: WebLoadRequest): Promise<void> {
  try {
    configureWebRuntime({ wasmBinary: req.wasmBinary });
    const t0 = performance.now();
    post({ type: 'progress', phase: 'reading-weights' });
    const src: ModelSource = {
      config: parseConfig(req.model.config),
      weights: bytesWeights(req.model.weights, req.model.index),
    };
    const t1 = performance.now();
    let backend: WebBackend = req.backend;
    let note = 'Wasm in the panel, as the settings ask.';
    let adapter: string | undefined;
    if (req.backend === 'webgpu') {
      const verdict = await gpuVerdict(req, src);
      adapter = verdict.adapter;
      if (verdict.reason) {
        if (req.fallback === 'fail') throw new LensError('BACKEND_UNAVAILABLE', `WebGPU not used: ${verdict.reason}.`);
        backend = 'wasm';
        note = `Wasm in the panel: ${verdict.reason}.`;
      } else note = `WebGPU on ${verdict.adapter}.`;
    }
    post({ type: 'progress', phase: 'building-graphs' });
    let created: StageEngine;
    try {
      created = await createEngine(src, backend);
    } catch (e) {
      if (backend !== 'webgpu') throw e;
      const reason = `creating the WebGPU sessions failed (${why(e)})`;
      if (req.fallback === 'fail') throw new LensError('BACKEND_UNAVAILABLE', `WebGPU not used: ${reason}.`);
      backend = 'wasm';
      note = `Wasm in the panel: ${reason}.`;
      created = await createEngine(src, backend);
    }
    const t2 = performance.now();
    source = src;
    engine = created;
    gpuLost = undefined;
    if (backend === 'webgpu') await watchDevice();
    post({
      type: 'loaded',
      facts: created.facts,
      backend,
      note,
      ...(adapter && backend === 'webgpu' ? { adapter } : {}),
      timings: { readMs: t1 - t0, planMs: 0, sessionsMs: t2 - t1 },
    });
  } catch (e) {
    post({ type: 'load-failed', error: toWire(e, 'The model could not be loaded in the panel') });
  }
}

/** Replaces the WebGPU engine with a Wasm one built from the same weights. */
async function toWasm(reason: string, runId?: number): Promise<void> {
  const old = engine;
  engine = undefined;
  generation++;
  // Releasing GPU sessions on a lost device must not hold up the fallback.
  void old?.release().catch(() => undefined);
  if (!source) throw new LensError('DISPOSED', 'No model is loaded.');
  engine = await createEngine(source, 'wasm');
  post({ type: 'fallback', ...(runId !== undefined ? { runId } : {}), from: 'webgpu', to: 'wasm', reason });
}

const pause = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** One attempt of a run on the current engine; rejects as soon as the GPU device is lost. */
function attempt(req: RunRequest, posted: { last: number }): Promise<EngineRunResult> {
  const current = engine!;
  const gen = generation;
  const onGpu = current.backend === 'webgpu';
  const run = current.run(req.ids, {
    withVectors: req.withVectors,
    isCancelled: () => runs.isCancelled(req.runId) || (onGpu && gpuLost !== undefined),
    pause,
    onLayer: (attention, q, k) => {
      if (gen !== generation || attention.layer <= posted.last) return;
      posted.last = attention.layer;
      post(...layerMessage(req.runId, attention, q, k));
      if (onGpu && loseAfterLayer === attention.layer) {
        loseAfterLayer = undefined;
        void loseDevice();
      }
    },
  });
  if (!onGpu) return run;
  // A lost device may leave a pending GPU read unresolved: do not wait for it.
  const lost = new Promise<never>((_, reject) => {
    onGpuLost = () => reject(new LensError('INFERENCE_FAILED', gpuLost ?? 'the GPU device was lost'));
    if (gpuLost) onGpuLost();
  });
  return Promise.race([run, lost]).finally(() => (onGpuLost = undefined));
}

async function runOne(req: RunRequest): Promise<void> {
  if (!engine) {
    post({ type: 'run-failed', runId: req.runId, error: { code: 'DISPOSED', message: 'No model is loaded.' } });
    return;
  }
  const posted = { last: -1 };
  try {
    if (engine.backend === 'webgpu' && gpuLost) await toWasm(gpuLost, req.runId);
    let result: EngineRunResult;
    try {
      result = await attempt(req, posted);
    } catch (e) {
      if (engine?.backend !== 'webgpu' || runs.isCancelled(req.runId)) throw e;
      await toWasm(gpuLost ?? `a run failed on the GPU (${why(e)})`, req.runId);
      result = await attempt(req, posted);
    }
    if (runs.isCancelled(req.runId)) throw cancelled();
    const lastHidden = own(result.lastHidden);
    post({ type: 'done', runId: req.runId, lastHidden, stageMs: result.stageMs }, [lastHidden.buffer as ArrayBuffer]);
  } catch (e) {
    post({ type: 'run-failed', runId: req.runId, error: toWire(e, 'The run failed') });
  }
}

async function loseDevice(): Promise<void> {
  if (engine?.backend !== 'webgpu') return;
  asDevice(await webgpuDevice())?.destroy();
}

async function dispose(): Promise<void> {
  await runs.stop();
  const e = engine;
  engine = undefined;
  source = undefined;
  await e?.release();
  post({ type: 'disposed' });
}

self.addEventListener('message', (event: MessageEvent<ToInference>) => {
  const msg = event.data;
  switch (msg.type) {
    case 'load':
      loading = load(msg);
      break;
    case 'run':
      runs.push(msg);
      break;
    case 'cancel':
      runs.cancel(msg.runId);
      break;
    case 'dispose':
      void dispose();
      break;
    case 'lose-device':
      if (msg.afterLayer !== undefined) loseAfterLayer = msg.afterLayer;
      else void loseDevice();
      break;
  }
});
