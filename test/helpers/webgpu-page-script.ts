// Browser side of the WebGPU page tests and benchmark (bundled by test/helpers/webgpu-page.ts with esbuild and served
// on 127.0.0.1, a secure origin where Chromium exposes navigator.gpu). It drives the real in-browser inference path —
// webview/inference/client.ts starting dist/webview-inference.js from a blob: URL, exactly as the panel does — and
// exposes window.lensTest for Playwright.
import { listen, loadInWorker, send, startWorker } from '../../webview/inference/client';
import type { FromInference, GpuLimits, WebBackend, WireError } from '../../webview/inference/protocol';

export interface PageLoadOptions {
  /** URL of the model folder (served by the test). */
  modelBase: string;
  backend: WebBackend;
  fallback: 'wasm' | 'fail';
  maxTokens: number;
  limits?: Partial<GpuLimits>;
}

export type PageLoadResult =
  | { ok: true; backend: WebBackend; note: string; adapter?: string; layers: number; heads: number; loadMs: number }
  | { ok: false; error: WireError };

export interface PageLayer {
  layer: number;
  heads: number;
  queryLength: number;
  keyLength: number;
  /** [heads, query, key], or empty when the run was asked not to keep data. */
  data: number[];
}

export interface PageRun {
  layers: PageLayer[];
  fallbacks: { runId?: number; reason: string }[];
  /** Wall time of the run as the page saw it (first message to done). */
  ms: number;
  stageMs?: number[];
  error?: WireError;
}

export interface LensTestApi {
  load(options: PageLoadOptions): Promise<PageLoadResult>;
  run(ids: number[], keepData?: boolean): Promise<PageRun>;
  loseDevice(afterLayer?: number): void;
  dispose(): void;
}

const WORKER_URL = '/dist/webview-inference.js';
const WASM_URL = '/dist/ort-wasm-simd-threaded.asyncify.wasm';

let worker: Worker | undefined;
let nextRun = 0;

function current(): Worker {
  if (!worker) throw new Error('no model loaded');
  return worker;
}

async function load(options: PageLoadOptions): Promise<PageLoadResult> {
  worker?.terminate();
  const w = await startWorker(WORKER_URL);
  worker = w;
  const t0 = performance.now();
  const settled = new Promise<FromInference>((resolve) => {
    const off = listen(w, (m) => {
      if (m.type === 'loaded' || m.type === 'load-failed') {
        off();
        resolve(m);
      }
    });
    w.addEventListener('error', (e) =>
      resolve({
        type: 'load-failed',
        error: {
          code: 'INFERENCE_FAILED',
          message: `worker error: ${e.message} at ${e.filename}:${e.lineno}:${e.colno}`,
        },
      }),
    );
  });
  await loadInWorker(w, { ...options, wasmUrl: WASM_URL });
  const m = await settled;
  if (m.type === 'load-failed') return { ok: false, error: m.error };
  if (m.type !== 'loaded') throw new Error(`unexpected ${m.type}`);
  return {
    ok: true,
    backend: m.backend,
    note: m.note,
    ...(m.adapter ? { adapter: m.adapter } : {}),
    layers: m.facts.layers,
    heads: m.facts.heads,
    loadMs: performance.now() - t0,
  };
}

function run(ids: number[], keepData = true): Promise<PageRun> {
  const w = current();
  const runId = ++nextRun;
  const result: PageRun = { layers: [], fallbacks: [], ms: 0 };
  const t0 = performance.now();
  return new Promise((resolve) => {
    const off = listen(w, (m) => {
      if (m.type === 'fallback') result.fallbacks.push({ runId: m.runId, reason: m.reason });
      if (!('runId' in m) || m.runId !== runId) return;
      if (m.type === 'layer') {
        const a = m.attention;
        result.layers.push({
          layer: a.layer,
          heads: a.heads,
          queryLength: a.queryLength,
          keyLength: a.keyLength,
          data: keepData ? Array.from(a.data) : [],
        });
      } else if (m.type === 'done' || m.type === 'run-failed') {
        off();
        result.ms = performance.now() - t0;
        if (m.type === 'done') result.stageMs = m.stageMs;
        else result.error = m.error;
        resolve(result);
      }
    });
    send(w, { type: 'run', runId, ids, withVectors: false });
  });
}

const api: LensTestApi = {
  load,
  run,
  loseDevice: (afterLayer) =>
    send(current(), afterLayer === undefined ? { type: 'lose-device' } : { type: 'lose-device', afterLayer }),
  dispose: () => {
    worker?.terminate();
    worker = undefined;
  },
};
(window as unknown as { lensTest: LensTestApi }).lensTest = api;
document.title = 'lens-test-ready';
