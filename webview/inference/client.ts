// The page's side of in-browser inference (the panel's webview, or a test page): starts the inference worker, fetches
// the model's files and onnxruntime's .wasm from URLs the page may read (in the panel: asWebviewUri of the model
// folder and of dist/, allowed by its CSP), and hands the bytes to the worker in a transfer list — no copies, and
// never through the host's postMessage.
import type { WeightFile } from '../../runtime/formats/safetensors-bytes';
import type { FromInference, GpuLimits, ModelBytes, ToInference, WebBackend } from './protocol';

export class FetchError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'FetchError';
  }
}

async function fetchOk(url: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new FetchError(url, 0, `cannot fetch ${url} (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!res.ok) throw new FetchError(url, res.status, `cannot fetch ${url} (HTTP ${res.status})`);
  return res;
}

export async function fetchText(url: string): Promise<string> {
  return (await fetchOk(url)).text();
}

export async function fetchBytes(url: string): Promise<ArrayBuffer> {
  return (await fetchOk(url)).arrayBuffer();
}

/** `base` with exactly one trailing slash. */
function dirUrl(base: string): string {
  return base.endsWith('/') ? base : `${base}/`;
}

/** config.json and the safetensors weights (one file, or the shards of model.safetensors.index.json) of a folder. */
export async function fetchModel(base: string): Promise<ModelBytes> {
  const dir = dirUrl(base);
  const config = await fetchText(`${dir}config.json`);
  try {
    const bytes = new Uint8Array(await fetchBytes(`${dir}model.safetensors`));
    return { config, weights: [{ name: 'model.safetensors', bytes }] };
  } catch (single) {
    let index: string;
    try {
      index = await fetchText(`${dir}model.safetensors.index.json`);
    } catch {
      throw single;
    }
    const map = (JSON.parse(index) as { weight_map?: Record<string, unknown> }).weight_map ?? {};
    const shards = [...new Set(Object.values(map).filter((s): s is string => typeof s === 'string'))];
    const weights: WeightFile[] = await Promise.all(
      shards.map(async (name) => ({ name, bytes: new Uint8Array(await fetchBytes(`${dir}${encodeURI(name)}`)) })),
    );
    return { config, weights, index };
  }
}

/**
 * Starts the worker bundle at `url`. The script is fetched and started from a blob: URL, because a webview's resources
 * live on another origin than the webview itself and a worker must be same-origin (CSP: worker-src blob:).
 */
export async function startWorker(url: string): Promise<Worker> {
  const code = await fetchText(url);
  const blobUrl = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
  const worker = new Worker(blobUrl, { type: 'module', name: 'attention-lens-inference' });
  // The worker has fetched its script once it says anything (or fails).
  const revoke = () => URL.revokeObjectURL(blobUrl);
  worker.addEventListener('message', revoke, { once: true });
  worker.addEventListener('error', revoke, { once: true });
  return worker;
}

export interface LoadInWorkerOptions {
  modelBase: string;
  wasmUrl: string;
  backend: WebBackend;
  fallback: 'wasm' | 'fail';
  maxTokens: number;
  limits?: Partial<GpuLimits>;
}

/** Fetches the model and the .wasm, and sends the worker its `load` (bytes transferred). */
export async function loadInWorker(worker: Worker, options: LoadInWorkerOptions): Promise<void> {
  const [model, wasmBinary] = await Promise.all([fetchModel(options.modelBase), fetchBytes(options.wasmUrl)]);
  const msg: ToInference = {
    type: 'load',
    model,
    wasmBinary,
    backend: options.backend,
    fallback: options.fallback,
    maxTokens: options.maxTokens,
    ...(options.limits ? { limits: options.limits } : {}),
  };
  const transfer = [wasmBinary, ...model.weights.map((w) => w.bytes.buffer as ArrayBuffer)];
  worker.postMessage(msg, transfer);
}

/** Typed posting and listening. */
export function send(worker: Worker, msg: ToInference): void {
  worker.postMessage(msg);
}

export function listen(worker: Worker, handler: (msg: FromInference) => void): () => void {
  const onMessage = (e: MessageEvent<FromInference>) => handler(e.data);
  worker.addEventListener('message', onMessage);
  return () => worker.removeEventListener('message', onMessage);
}
