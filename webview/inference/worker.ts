// The in-browser inference worker (bundled as dist/webview-inference.js; the panel's webview and the WebGPU tests
// start it). It builds the model's stage graphs from bytes the page fetched, runs them on onnxruntime-web's WebGPU
// execution provider where an adapter is there and the model fits its limits (otherwise Wasm), and streams each
// layer's attention through the same worker loop as the Node worker (runtime/inspector/worker-loop.ts). When the GPU
// goes away — the device is lost (GPU reset, adapter gone, out of memory) or a run fails on it — the worker rebuilds
// the model on Wasm, finishes the interrupted run there (layers already sent are not sent again) and says so with a
// `fallback` event of that run; it stays on Wasm until the model is loaded again.
import { configureWebRuntime, webgpuDevice } from '../../runtime/backend/ort';
import { Channel, type NoEnd } from '../../runtime/channel/channel';
import { webPort, type WebMessagePort } from '../../runtime/channel/ports';
import { parseConfig } from '../../runtime/formats/config-normalise';
import { bytesWeights } from '../../runtime/formats/weight-bytes';
import { cancelled, isLensError, LensError } from '../../runtime/errors';
import { StageEngine, type EngineRunResult } from '../../runtime/inspector/engine';
import { buildPlan } from '../../runtime/models/builders';
import { layerEvent } from '../../runtime/inspector/transfer';
import {
  workerFailure,
  WorkerLoop,
  type ModelLoader,
  type RunControl,
  type ServedModel,
} from '../../runtime/inspector/worker-loop';
import type {
  GenerateDone,
  GenerateRequest,
  LoadProgressEvent,
  RunRequest,
} from '../../runtime/inspector/worker-protocol';
import { ServedGenerator, type GenerateControl } from '../../runtime/inspector/served-generator';
import type { ModelSource } from '../../runtime/models/source';
import { asDevice, largestBuffer, misfit, probeAdapter, type GpuDevice } from './gpu';
import type { WebBackend, WebLoaded, WebLoadRequest, WebWorkerEnd } from './protocol';

/** Inference threads: 1, since Wasm threads need a cross-origin-isolated page and a webview is not one. */
const THREADS = 1;

function why(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

/** Why WebGPU cannot run this model here, or undefined when it can (plus the adapter's name). */
async function gpuVerdict(req: WebLoadRequest, src: ModelSource): Promise<{ reason?: string; adapter?: string }> {
  const probe = await probeAdapter(req.limits);
  if (!probe.ok) return { reason: probe.reason };
  const reason = misfit(largestBuffer(src.config, src.weights, req.maxTokens), probe.limits);
  return reason ? { reason, adapter: probe.name } : { adapter: probe.name };
}

async function createEngine(
  src: ModelSource,
  backend: WebBackend,
  progress: (p: LoadProgressEvent) => void,
): Promise<StageEngine> {
  const plan = buildPlan(src);
  progress({ phase: 'creating-sessions', fraction: 0 });
  return StageEngine.create(plan, backend, THREADS, (done, total) =>
    progress({ phase: 'creating-sessions', fraction: done / total }),
  );
}

const pause = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Tests: destroy the device after this layer of the next run on the GPU. */
let loseAfterLayer: number | undefined;

/** The model on WebGPU (or Wasm), moving to Wasm for good when the GPU goes away. */
class GpuModel implements ServedModel {
  /** Set when the WebGPU device is lost: why. */
  private gpuLost: string | undefined;
  private onGpuLost: (() => void) | undefined;
  /** Incremented when the engine is replaced: layers of a run on the old engine are dropped. */
  private generation = 0;

  /** The KV-cached step graph, built on the first `generate` from the same weights, on the engine's backend. */
  private readonly generator: ServedGenerator;

  constructor(
    private engine: StageEngine,
    private readonly source: ModelSource,
  ) {
    this.generator = new ServedGenerator(source, () => this.engine.backend, THREADS);
  }

  generate(req: GenerateRequest, control: GenerateControl): Promise<GenerateDone> {
    return this.generator.generate(req, control);
  }

  /** Watches the device onnxruntime's WebGPU provider runs on. */
  async watchDevice(): Promise<void> {
    const device: GpuDevice | undefined = asDevice(await webgpuDevice());
    if (!device) return;
    void device.lost.then((info) => {
      this.gpuLost = `the GPU device was lost (${info.reason || 'unknown'}${info.message ? `: ${info.message}` : ''})`;
      this.onGpuLost?.();
    });
  }

  async run(req: RunRequest, control: RunControl): Promise<EngineRunResult> {
    const posted = { last: -1 };
    if (this.engine.backend === 'webgpu' && this.gpuLost) await this.toWasm(this.gpuLost, control);
    let result: EngineRunResult;
    try {
      result = await this.attempt(req, control, posted);
    } catch (e) {
      if (this.engine.backend !== 'webgpu' || control.isCancelled()) throw e;
      await this.toWasm(this.gpuLost ?? `a run failed on the GPU (${why(e)})`, control);
      result = await this.attempt(req, control, posted);
    }
    if (control.isCancelled()) throw cancelled();
    return result;
  }

  async loseDevice(): Promise<void> {
    if (this.engine.backend !== 'webgpu') return;
    asDevice(await webgpuDevice())?.destroy();
  }

  async release(): Promise<void> {
    await this.generator.release();
    await this.engine.release();
  }

  /** Replaces the WebGPU engine with a Wasm one built from the same weights. */
  private async toWasm(reason: string, control: RunControl): Promise<void> {
    const old = this.engine;
    this.generation++;
    // Releasing GPU sessions on a lost device must not hold up the fallback.
    void old.release().catch(() => undefined);
    this.engine = await createEngine(this.source, 'wasm', () => undefined);
    control.emit({ type: 'fallback', reason }, []);
  }

  /** One attempt of a run on the current engine; rejects as soon as the GPU device is lost. */
  private attempt(req: RunRequest, control: RunControl, posted: { last: number }): Promise<EngineRunResult> {
    const current = this.engine;
    const gen = this.generation;
    const onGpu = current.backend === 'webgpu';
    const run = current.run(req.ids, {
      withVectors: req.withVectors,
      isCancelled: () => control.isCancelled() || (onGpu && this.gpuLost !== undefined),
      pause,
      onLayer: (attention, q, k) => {
        if (gen !== this.generation || attention.layer <= posted.last) return;
        posted.last = attention.layer;
        control.emit(...layerEvent(attention, q, k));
        if (onGpu && loseAfterLayer === attention.layer) {
          loseAfterLayer = undefined;
          void this.loseDevice();
        }
      },
    });
    if (!onGpu) return run;
    // A lost device may leave a pending GPU read unresolved: do not wait for it.
    const lost = new Promise<never>((_, reject) => {
      this.onGpuLost = () => reject(new LensError('INFERENCE_FAILED', this.gpuLost ?? 'the GPU device was lost'));
      if (this.gpuLost) this.onGpuLost();
    });
    return Promise.race([run, lost]).finally(() => (this.onGpuLost = undefined));
  }
}

const loader: ModelLoader<WebLoadRequest, WebLoaded, GpuModel> = {
  async load(req, progress) {
    try {
      configureWebRuntime({ wasmBinary: req.wasmBinary });
      const t0 = performance.now();
      progress({ phase: 'reading-weights' });
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
          if (req.fallback === 'fail')
            throw new LensError('BACKEND_UNAVAILABLE', `WebGPU not used: ${verdict.reason}.`);
          backend = 'wasm';
          note = `Wasm in the panel: ${verdict.reason}.`;
        } else note = `WebGPU on ${verdict.adapter}.`;
      }
      progress({ phase: 'building-graphs' });
      let created: StageEngine;
      try {
        created = await createEngine(src, backend, progress);
      } catch (e) {
        if (backend !== 'webgpu') throw e;
        const reason = `creating the WebGPU sessions failed (${why(e)})`;
        if (req.fallback === 'fail') throw new LensError('BACKEND_UNAVAILABLE', `WebGPU not used: ${reason}.`);
        backend = 'wasm';
        note = `Wasm in the panel: ${reason}.`;
        created = await createEngine(src, backend, progress);
      }
      const t2 = performance.now();
      const model = new GpuModel(created, src);
      if (backend === 'webgpu') await model.watchDevice();
      return {
        model,
        reply: {
          facts: created.facts,
          backend,
          note,
          ...(adapter && backend === 'webgpu' ? { adapter } : {}),
          timings: { readMs: t1 - t0, planMs: 0, sessionsMs: t2 - t1 },
        },
      };
    } catch (e) {
      if (isLensError(e)) throw e;
      throw new LensError('INFERENCE_FAILED', `The model could not be loaded in the panel: ${why(e)}`);
    }
  },
};

const channel = new Channel<WebWorkerEnd, NoEnd>(webPort(self as unknown as WebMessagePort), {
  unexpected: workerFailure,
});
const loop = new WorkerLoop(channel, loader);

channel.handle('loseDevice', ({ afterLayer }) => {
  if (afterLayer !== undefined) loseAfterLayer = afterLayer;
  else void loop.model()?.loseDevice();
  return {};
});
