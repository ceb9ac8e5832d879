// Browser side of the WebGPU page tests and benchmark (bundled by test/helpers/webgpu-page.ts with esbuild and served
// on 127.0.0.1, a secure origin where Chromium exposes navigator.gpu). It drives the real in-browser inference path —
// webview/inference/client.ts starting dist/webview-inference.js from a blob: URL, exactly as the panel does — and
// exposes window.lensTest for Playwright.
import { InferenceWorker } from '../../webview/inference/client';
import type { GpuLimits, WebBackend } from '../../webview/inference/protocol';
import { isLensError } from '../../runtime/errors';

/** A failure as the page reports it: the LensError's code and message. */
export interface PageError {
  code: string;
  message: string;
}

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
  | { ok: false; error: PageError };

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
  /** The moves from WebGPU to Wasm during the run. */
  fallbacks: { reason: string }[];
  /** Wall time of the run as the page saw it (first message to done). */
  ms: number;
  stageMs?: number[];
  error?: PageError;
}

/** A continuation as the worker's `generate` streamed it: each token's id, position and rows [heads, position + 1]. */
export interface PageGeneration {
  tokens: { id: number; position: number; rows: number[][] }[];
  end?: string;
  ms: number;
  error?: PageError;
}

export interface LensTestApi {
  load(options: PageLoadOptions): Promise<PageLoadResult>;
  run(ids: number[], keepData?: boolean): Promise<PageRun>;
  generate(ids: number[], maxNew: number): Promise<PageGeneration>;
  loseDevice(afterLayer?: number): void;
  dispose(): void;
}

const WORKER_URL = '/dist/webview-inference.js';
const WASM_URL = '/dist/ort-wasm-simd-threaded.asyncify.wasm';

let worker: InferenceWorker | undefined;

function current(): InferenceWorker {
  if (!worker) throw new Error('no model loaded');
  return worker;
}

const pageError = (e: unknown): PageError =>
  isLensError(e) ? { code: e.code, message: e.message } : { code: 'INFERENCE_FAILED', message: String(e) };

async function load(options: PageLoadOptions): Promise<PageLoadResult> {
  worker?.terminate();
  const w = await InferenceWorker.start(WORKER_URL);
  worker = w;
  const t0 = performance.now();
  try {
    const m = await w.load({ ...options, wasmUrl: WASM_URL });
    return {
      ok: true,
      backend: m.backend,
      note: m.note,
      ...(m.adapter ? { adapter: m.adapter } : {}),
      layers: m.facts.layers,
      heads: m.facts.heads,
      loadMs: performance.now() - t0,
    };
  } catch (e) {
    return { ok: false, error: pageError(e) };
  }
}

async function run(ids: number[], keepData = true): Promise<PageRun> {
  const w = current();
  const result: PageRun = { layers: [], fallbacks: [], ms: 0 };
  const t0 = performance.now();
  try {
    const done = await w.channel.request(
      'run',
      { ids, withVectors: false },
      {
        onEvent: (e) => {
          if (e.type === 'fallback') {
            result.fallbacks.push({ reason: e.reason });
            return;
          }
          if (e.type !== 'layer') return;
          const a = e.attention;
          result.layers.push({
            layer: a.layer,
            heads: a.heads,
            queryLength: a.queryLength,
            keyLength: a.keyLength,
            data: keepData ? Array.from(a.data) : [],
          });
        },
      },
    );
    result.stageMs = done.stageMs;
  } catch (e) {
    result.error = pageError(e);
  }
  result.ms = performance.now() - t0;
  return result;
}

async function generate(ids: number[], maxNew: number): Promise<PageGeneration> {
  const result: PageGeneration = { tokens: [], ms: 0 };
  const t0 = performance.now();
  try {
    const done = await current().channel.request(
      'generate',
      { ids, maxNew, stopIds: [], rows: true },
      {
        onEvent: (t) => result.tokens.push({ id: t.id, position: t.position, rows: t.rows.map((r) => Array.from(r)) }),
      },
    );
    result.end = done.end;
  } catch (e) {
    result.error = pageError(e);
  }
  result.ms = performance.now() - t0;
  return result;
}

const api: LensTestApi = {
  load,
  run,
  generate,
  loseDevice: (afterLayer) =>
    void current()
      .channel.request('loseDevice', afterLayer === undefined ? {} : { afterLayer })
      .catch(() => undefined),
  dispose: () => {
    worker?.terminate();
    worker = undefined;
  },
};
(window as unknown as { lensTest: LensTestApi }).lensTest = api;
document.title = 'lens-test-ready';
