// Where a model runs, by the attentionLens.backend setting — the model manager's loader:
//   native | wasm  in the extension host (a worker thread), as before;
//   webgpu         in the panel's webview on the GPU (onnxruntime-web's WebGPU provider), Wasm there without one;
//   auto           WebGPU in the panel when its webview has an adapter and the model fits its limits, otherwise native
//                  in the host, otherwise Wasm in the host.
// Each load records a one-line note of which backend runs and why the others do not (the status bar shows it).
// vscode-free: the panel is reached through InferencePort.
import type { Inspector } from '../runtime/inspector/api';
import { resolveWithProgress, type InspectorLoadOptions } from '../runtime/inspector/load-model';
import { loadTokenizer } from '../runtime/tokenizers/index';
import { isLensError } from '../runtime/errors';
import { isSeq2SeqFolder } from '../runtime/models/seq2seq-read';
import type { BackendName } from '../runtime/types';
import { loadInWebview, probeWebGpu, WebviewInspector, type InferencePort } from './webview-inspector';

export type Loader = (model: string, options?: InspectorLoadOptions) => Promise<Inspector>;

export interface BackendLoaderDeps {
  /** Loads on the host (runtime/inspector/load-model.ts load). */
  hostLoad: Loader;
  /** The panel to run an in-webview model in; undefined when there is none to use. */
  port(): InferencePort | undefined;
  /** Longest input the user may run (sizes the GPU fit check). */
  maxTokens(): number;
  /** A load finished: which backend runs it and why. */
  loaded(inspector: Inspector, note: string): void;
}

/** True when the setting may run the model in the panel's webview. */
export function runsInWebview(backend: BackendName | 'auto'): boolean {
  return backend === 'webgpu' || backend === 'auto';
}

const LABEL: Record<BackendName, string> = { native: 'native', wasm: 'Wasm', webgpu: 'WebGPU' };

export function backendLabel(backend: BackendName): string {
  return LABEL[backend];
}

export function backendLoader(deps: BackendLoaderDeps): Loader {
  return async (model, options = {}) => {
    const requested = options.backend ?? 'auto';
    const onHost = async (why: string): Promise<Inspector> => {
      const insp = await deps.hostLoad(model, {
        maxTokens: deps.maxTokens(),
        ...options,
        backend: requested === 'wasm' ? 'wasm' : 'auto',
      });
      const fallback = insp.fallbackReason ? ` ${insp.fallbackReason}` : '';
      deps.loaded(insp, `${LABEL[insp.backend]} in the extension host: ${why}${fallback}`);
      return insp;
    };
    if (!runsInWebview(requested)) return onHost('as the settings ask.');
    const port = deps.port();
    if (!port) return onHost('no panel is open to run WebGPU in.');
    const resolved = await resolveWithProgress(model, options);
    if (resolved.kind !== 'folder')
      return onHost(
        `WebGPU runs Hugging Face folders with safetensors weights; this is ${resolved.kind === 'gguf' ? 'a GGUF file' : 'an ONNX export'}.`,
      );
    // The panel's worker has no encoder–decoder engine: translation models run in the host (native, else Wasm).
    if (isSeq2SeqFolder(resolved.dir))
      return onHost("the panel's WebGPU worker does not run encoder–decoder models (marian, bart, mbart, t5).");
    if (requested === 'auto') {
      const probe = await probeWebGpu(port);
      if (!probe.adapter) return onHost(`WebGPU not used: ${probe.reason ?? 'no adapter'}.`);
    }
    const tokenizer = await loadTokenizer(resolved.dir);
    let insp: WebviewInspector;
    try {
      insp = await loadInWebview(port, {
        dir: resolved.dir,
        name: resolved.name,
        tokenizer,
        backend: 'webgpu',
        fallback: requested === 'auto' ? 'fail' : 'wasm',
        maxTokens: deps.maxTokens(),
        signal: options.signal,
        onProgress: options.onProgress,
        hostModel: () => deps.hostLoad(resolved.dir, { backend: 'auto', threads: options.threads }),
      });
    } catch (e) {
      // auto: a GPU that is missing, too small or fails to create sessions → the host, saying why.
      if (requested === 'auto' && isLensError(e) && e.code === 'BACKEND_UNAVAILABLE') return onHost(e.message);
      throw e;
    }
    if (insp.backend === 'webgpu') {
      const why = requested === 'auto' ? '; auto prefers the GPU to native and Wasm in the host' : '';
      insp.note = `WebGPU in the panel on ${insp.adapter ?? 'the GPU'}${why}.`;
    }
    deps.loaded(insp, insp.note);
    return insp;
  };
}
