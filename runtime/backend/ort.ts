// The only module that imports onnxruntime. It hides which engine runs a graph — native onnxruntime-node where it
// loads, onnxruntime-web's Wasm build otherwise — behind one small Session interface over plain typed arrays, so
// the rest of the runtime never touches onnxruntime types.
import type { BackendName } from '../types';
import type { FeedTensor } from '../models/plan';
import { LensError } from '../errors';

type Ort = typeof import('onnxruntime-node');

export interface SessionOptions {
  backend: BackendName;
  /** Intra-op threads (native) or Wasm threads. */
  threads: number;
}

export interface OutputTensor {
  dims: number[];
  data: Float32Array;
}

export interface Session {
  readonly backend: BackendName;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the graph; fetches only the named outputs (all float32). */
  run(feeds: Record<string, FeedTensor>, fetches: readonly string[]): Promise<Record<string, OutputTensor>>;
  release(): Promise<void>;
}

const loaded: Partial<Record<BackendName, Ort>> = {};
const loadErrors: Partial<Record<BackendName, string>> = {};

/** Loads the onnxruntime module of a backend, or explains why it cannot be loaded. */
export async function loadBackend(backend: BackendName, threads: number): Promise<Ort> {
  const cached = loaded[backend];
  if (cached) return cached;
  if (loadErrors[backend]) throw new LensError('BACKEND_UNAVAILABLE', loadErrors[backend]!);
  try {
    // Both packages share onnxruntime-common's API; the web build's typings are the same shape. Plain require:
    // both stay external to the bundles (native binaries, .wasm files) and load from node_modules at run time.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const mod: Ort = backend === 'native' ? require('onnxruntime-node') : require('onnxruntime-web');
    /* eslint-enable @typescript-eslint/no-require-imports */
    if (backend === 'wasm') {
      mod.env.wasm.numThreads = Math.max(1, threads);
      mod.env.wasm.proxy = false;
    }
    loaded[backend] = mod;
    return mod;
  } catch (e) {
    const why =
      backend === 'native'
        ? `The native onnxruntime-node backend could not be loaded on ${process.platform}-${process.arch} (${(e as Error).message.split('\n')[0]}). Use the wasm backend.`
        : `The onnxruntime-web (wasm) backend could not be loaded (${(e as Error).message.split('\n')[0]}).`;
    loadErrors[backend] = why;
    throw new LensError('BACKEND_UNAVAILABLE', why);
  }
}

/** Picks 'native' when it loads, otherwise 'wasm'. */
export async function resolveBackend(requested: BackendName | 'auto', threads: number): Promise<BackendName> {
  if (requested !== 'auto') {
    await loadBackend(requested, threads);
    return requested;
  }
  try {
    await loadBackend('native', threads);
    return 'native';
  } catch {
    await loadBackend('wasm', threads);
    return 'wasm';
  }
}

export async function createSession(model: Uint8Array, options: SessionOptions): Promise<Session> {
  const ort = await loadBackend(options.backend, options.threads);
  const threads = Math.max(1, options.threads);
  let inner: import('onnxruntime-node').InferenceSession;
  try {
    inner =
      options.backend === 'native'
        ? await ort.InferenceSession.create(model, {
            executionProviders: ['cpu'],
            graphOptimizationLevel: 'all',
            intraOpNumThreads: threads,
            interOpNumThreads: 1,
            executionMode: 'sequential',
            // Idle sessions must not spin: with one session per layer, spinning threads steal the cores
            // (1.5-3x slower, shared/notes/performance.md).
            extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
          })
        : await ort.InferenceSession.create(model, {
            executionProviders: ['wasm'],
            graphOptimizationLevel: 'all',
          });
  } catch (e) {
    throw new LensError(
      'INFERENCE_FAILED',
      `onnxruntime could not create a session: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  return {
    backend: options.backend,
    inputNames: inner.inputNames,
    outputNames: inner.outputNames,
    async run(feeds, fetches) {
      const ortFeeds: Record<string, import('onnxruntime-node').Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(t.type, t.data, t.dims);
      let out: Record<string, import('onnxruntime-node').Tensor>;
      try {
        out = await inner.run(ortFeeds, fetches as string[]);
      } catch (e) {
        throw new LensError(
          'INFERENCE_FAILED',
          `onnxruntime failed to run the model: ${(e as Error).message.split('\n')[0]}`,
        );
      }
      const result: Record<string, OutputTensor> = {};
      for (const name of fetches) {
        const t = out[name];
        if (!t) throw new LensError('INFERENCE_FAILED', `the model produced no output named ${name}`);
        result[name] = { dims: t.dims.map(Number), data: t.data as Float32Array };
      }
      return result;
    },
    async release() {
      await inner.release();
    },
  };
}
