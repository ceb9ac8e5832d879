// The only module that imports onnxruntime. It hides which engine runs a graph behind one small Session interface
// over plain typed arrays, so the rest of the runtime never touches onnxruntime types. One file serves two worlds:
//   Node (extension host's worker thread, CLI): native onnxruntime-node where it loads, onnxruntime-web's Wasm build
//     otherwise — both loaded with require() at run time (external to the bundles: native binaries, .wasm files);
//   a browser (the panel's webview, in a dedicated worker): onnxruntime-web's WebGPU build, bundled into that
//     worker, which runs both the WebGPU and the Wasm execution providers. Its .wasm binary is handed in by the
//     caller (configureWebRuntime), because a webview fetches only what its Content-Security-Policy allows.
import type * as OrtModule from 'onnxruntime-common';
import type { BackendName, FeedTensor } from '../types';
import { LensError } from '../errors';
import { turnOffOnnxruntimeTelemetry } from './telemetry-off';

type Ort = typeof OrtModule;

/** Node's require in the CommonJS bundles (and under tsx); absent in a browser worker. */
declare const require: (((id: string) => unknown) & { resolve(id: string): string }) | undefined;
// Called through an alias so that bundlers leave the packages alone: they stay external in the Node bundles, and the
// browser bundle never sees onnxruntime-node.
const nodeRequire = typeof require === 'function' ? require : undefined;

interface HostGlobals {
  process?: { versions?: { node?: string }; platform?: string; arch?: string };
  navigator?: { gpu?: unknown };
  crossOriginIsolated?: boolean;
}
const host = globalThis as HostGlobals;

/** True in Node (extension host, worker threads, CLI); false in a browser or a webview's worker. */
export const inNode = typeof host.process?.versions?.node === 'string' && nodeRequire !== undefined;

export interface SessionOptions {
  backend: BackendName;
  /** Intra-op threads (native) or Wasm threads. */
  threads: number;
  /** Native: keep onnxruntime's CPU arena (default). Off for sessions with length-squared temporaries: an arena per
   * layer session keeps each layer's peak (SmolLM2 at 1,024 tokens, summaries variant: peak RSS 8.0 GB with,
   * 3.6 GB without; bench/long-inputs.ts). */
  memArena?: boolean;
  /** Native: flush denormal floats to zero (onnxruntime's set_denormal_as_zero: FTZ/DAZ on the session's threads).
   * Values under 1.2e-38 become 0; the exponentials of masked scores and of GELU's tails otherwise run on x86's slow
   * denormal path (a causal [33,8,64,64] Softmax: 5.6 → 1.6 ms CPU; SmolLM2's 30 causal [9,512,512] Softmax nodes:
   * 79 → 21 ms, bench/raw-profile.ts). Default on: every value shown is ≥ 1e-5 apart from its reference anyway, and a
   * masked probability comes out exactly 0; false keeps IEEE denormals (gradients' keepDenormals). */
  denormalAsZero?: boolean;
  /** Native, benches only: write onnxruntime's per-node profile (JSON) under this file prefix. */
  profilePrefix?: string;
  /** Native, benches only: write the graph as onnxruntime optimized it to this path (which fusions applied). */
  optimizedModelPath?: string;
  /** Native: let the intra-op threads spin between ops (default off: see sessionOptions). */
  spinning?: boolean;
}

/** onnxruntime's element type names: 'float32', 'int64', 'bool', 'float16'... */
export type ElementType = OrtModule.Tensor.Type;

export interface OutputTensor {
  /** The element type; `data` is a Float32Array for 'float32' outputs, the only ones read as numbers. */
  type: ElementType;
  dims: number[];
  data: Float32Array;
}

/** A tensor of any element type as a session returned it, fed unchanged to another session (imported graphs run
 * in per-layer pieces that pass int64, bool or float16 tensors between them). */
export interface PassTensor {
  type: ElementType;
  dims: number[];
  data: OrtModule.Tensor.DataType;
}

export interface Session {
  readonly backend: BackendName;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the graph; fetches only the named outputs (float32 unless the graph says otherwise: see `type`). */
  run(
    feeds: Record<string, FeedTensor | PassTensor>,
    fetches: readonly string[],
  ): Promise<Record<string, OutputTensor>>;
  release(): Promise<void>;
}

/** What a browser caller gives onnxruntime-web before the first session (the webview worker). */
export interface WebRuntimeOptions {
  /** The bytes of ort-wasm-simd-threaded.asyncify.wasm (fetched by the page: a worker may not reach the file). */
  wasmBinary?: ArrayBuffer;
  /** Or the URL prefix of the folder that holds it. */
  wasmPaths?: string;
}

let webOptions: WebRuntimeOptions = {};
const loaded = new Map<string, Ort>();
const loadErrors: Partial<Record<BackendName, string>> = {};

/** Sets how onnxruntime-web finds its .wasm in a browser; call before the first session. */
export function configureWebRuntime(options: WebRuntimeOptions): void {
  webOptions = { ...options };
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

/** The platforms whose onnxruntime-node binary a platform package of the extension carries (scripts/package-vsix.mjs). */
export const NATIVE_PLATFORMS = ['linux-x64', 'linux-arm64', 'darwin-arm64', 'win32-x64', 'win32-arm64'] as const;

/** True when onnxruntime-node's binary for this platform is not installed (the extension's universal package, or
 * another platform's, carries none): then native cannot load, whatever the error says. */
function nativeBinaryMissing(platform: string, arch: string): boolean {
  try {
    const path = nodeRequire!('node:path') as { join(...parts: string[]): string; dirname(p: string): string };
    const fs = nodeRequire!('node:fs') as { existsSync(p: string): boolean };
    const dir = path.dirname(nodeRequire!.resolve('onnxruntime-node/package.json'));
    return !fs.existsSync(path.join(dir, 'bin', 'napi-v6', platform, arch, 'onnxruntime_binding.node'));
  } catch {
    return true; // onnxruntime-node itself is not there
  }
}

/** Why the native backend could not be loaded here, as the status bar and the error say it. */
function nativeFailure(e: unknown): string {
  const platform = host.process?.platform ?? '';
  const arch = host.process?.arch ?? '';
  const where = `${platform}-${arch}`;
  if (nativeBinaryMissing(platform, arch))
    return (NATIVE_PLATFORMS as readonly string[]).includes(where)
      ? `No native onnxruntime binary for ${where} in this package (the universal one): install the ${where} package of Attention Lens for native speed; Wasm runs meanwhile.`
      : `No native onnxruntime binary in this package: onnxruntime-node ships none for ${where} (only ${NATIVE_PLATFORMS.join(', ')}), so Wasm runs.`;
  return `The native onnxruntime-node backend could not be loaded on ${where} (${firstLine(e)}). Use the wasm backend.`;
}

/** Why a backend failed to load in this process (after a load tried it), or undefined. */
export function backendLoadError(backend: BackendName): string | undefined {
  return loadErrors[backend];
}

/** Why a backend cannot run in this environment, or undefined when it may. */
function unavailableHere(backend: BackendName): string | undefined {
  if (inNode && backend === 'webgpu')
    return 'WebGPU runs only in the panel (a browser worker with navigator.gpu); the extension host and the CLI have no GPU access. Use native or wasm here.';
  if (!inNode && backend === 'native')
    return 'The native backend (onnxruntime-node) runs only in the extension host or the CLI, not in a browser.';
  return undefined;
}

async function importModule(backend: BackendName, threads: number): Promise<Ort> {
  if (inNode) {
    const key = backend === 'native' ? 'onnxruntime-node' : 'onnxruntime-web';
    const cached = loaded.get(key);
    if (cached) return cached;
    if (backend === 'native') turnOffOnnxruntimeTelemetry();
    // Both packages share onnxruntime-common's API.
    const mod = nodeRequire!(key) as Ort;
    if (backend === 'wasm') {
      mod.env.wasm.numThreads = Math.max(1, threads);
      mod.env.wasm.proxy = false;
    }
    loaded.set(key, mod);
    return mod;
  }
  const cached = loaded.get('web');
  if (cached) return cached;
  // The WebGPU build also carries the Wasm execution provider: one module (and one .wasm) for both.
  const mod = (await import('onnxruntime-web/webgpu')) as unknown as Ort;
  // Wasm threads need SharedArrayBuffer, which only cross-origin-isolated pages have (a webview is not).
  mod.env.wasm.numThreads = host.crossOriginIsolated ? Math.max(1, threads) : 1;
  mod.env.wasm.proxy = false;
  if (webOptions.wasmBinary) mod.env.wasm.wasmBinary = webOptions.wasmBinary;
  else if (webOptions.wasmPaths) mod.env.wasm.wasmPaths = webOptions.wasmPaths;
  mod.env.logLevel = 'error';
  loaded.set('web', mod);
  return mod;
}

/** Loads the onnxruntime module of a backend, or explains why it cannot be loaded. */
export async function loadBackend(backend: BackendName, threads: number): Promise<Ort> {
  if (loadErrors[backend]) throw new LensError('BACKEND_UNAVAILABLE', loadErrors[backend]!);
  const here = unavailableHere(backend);
  if (here) throw new LensError('BACKEND_UNAVAILABLE', here);
  try {
    return await importModule(backend, threads);
  } catch (e) {
    const why =
      backend === 'native'
        ? nativeFailure(e)
        : `The onnxruntime-web (${backend}) backend could not be loaded (${firstLine(e)}).`;
    loadErrors[backend] = why;
    throw new LensError('BACKEND_UNAVAILABLE', why);
  }
}

/** 'auto': in Node, 'native' when it loads, otherwise 'wasm'; in a browser, 'webgpu' where navigator.gpu exists
 * (whether an adapter is there and the model fits is the caller's check), otherwise 'wasm'. */
export async function resolveBackend(requested: BackendName | 'auto', threads: number): Promise<BackendName> {
  if (requested !== 'auto') {
    await loadBackend(requested, threads);
    return requested;
  }
  const preferred: BackendName = inNode ? 'native' : host.navigator?.gpu ? 'webgpu' : 'wasm';
  try {
    await loadBackend(preferred, threads);
    return preferred;
  } catch {
    await loadBackend('wasm', threads);
    return 'wasm';
  }
}

/** The GPUDevice onnxruntime-web's WebGPU provider runs on (browser only; after the first WebGPU session). Typed
 * unknown: the runtime has no DOM/WebGPU types; the webview worker narrows it. */
export async function webgpuDevice(): Promise<unknown> {
  const ort = await loadBackend('webgpu', 1);
  return ort.env.webgpu.device;
}

function sessionOptions(options: SessionOptions): OrtModule.InferenceSession.SessionOptions {
  const threads = Math.max(1, options.threads);
  switch (options.backend) {
    case 'native':
      return {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        enableCpuMemArena: options.memArena !== false,
        // Errors reach the user as LensErrors from run()/create(); onnxruntime's own log lines would only repeat
        // them on stderr (and an expected failure, such as a probe of a fixed-batch import, would look alarming).
        logSeverityLevel: 4,
        ...(options.profilePrefix ? { enableProfiling: true, profileFilePrefix: options.profilePrefix } : {}),
        ...(options.optimizedModelPath ? { optimizedModelFilePath: options.optimizedModelPath } : {}),
        // Idle sessions must not spin: with one session per layer, spinning threads steal the cores
        // (1.5-3x slower, docs/performance.md).
        extra: {
          session: {
            intra_op: { allow_spinning: options.spinning ? '1' : '0' },
            inter_op: { allow_spinning: '0' },
            ...(options.denormalAsZero !== false ? { set_denormal_as_zero: '1' } : {}),
          },
        },
      };
    case 'webgpu':
      // Nodes the WebGPU provider lacks kernels for fall back to the Wasm CPU provider inside the same session.
      return { executionProviders: ['webgpu'], graphOptimizationLevel: 'all', logSeverityLevel: 4 };
    case 'wasm':
      // As native: errors reach the user as LensErrors; onnxruntime's own warnings (an imported export's unused
      // initializers) would be noise on stderr.
      return { executionProviders: ['wasm'], graphOptimizationLevel: 'all', logSeverityLevel: 4 };
  }
}

export async function createSession(model: Uint8Array, options: SessionOptions): Promise<Session> {
  const ort = await loadBackend(options.backend, options.threads);
  let inner: OrtModule.InferenceSession;
  try {
    inner = await ort.InferenceSession.create(model, sessionOptions(options));
  } catch (e) {
    throw new LensError(
      'INFERENCE_FAILED',
      `onnxruntime (${options.backend}) could not create a session: ${firstLine(e)}`,
    );
  }
  return {
    backend: options.backend,
    inputNames: inner.inputNames,
    outputNames: inner.outputNames,
    async run(feeds, fetches) {
      const ortFeeds: Record<string, OrtModule.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(t.type, t.data, t.dims);
      let out: OrtModule.InferenceSession.ReturnType;
      try {
        out = await inner.run(ortFeeds, fetches as string[]);
      } catch (e) {
        throw new LensError(
          'INFERENCE_FAILED',
          `onnxruntime (${options.backend}) failed to run the model: ${firstLine(e)}`,
        );
      }
      const result: Record<string, OutputTensor> = {};
      for (const name of fetches) {
        const t = out[name];
        if (!t) throw new LensError('INFERENCE_FAILED', `the model produced no output named ${name}`);
        result[name] = { type: t.type, dims: t.dims.map(Number), data: t.data as Float32Array };
      }
      return result;
    },
    async release() {
      await inner.release();
    },
  };
}
