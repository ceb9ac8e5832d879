// The page's side of in-browser inference (the panel's webview, or a test page): starts the inference worker and its
// channel (protocol.ts), fetches the model's files and onnxruntime's .wasm from URLs the page may read (in the panel:
// asWebviewUri of the model folder and of dist/, allowed by its CSP), and hands the bytes to the worker in a transfer
// list — no copies, and never through the host's postMessage.
import { Channel, type NoEnd } from '../../runtime/channel/channel';
import { webPort } from '../../runtime/channel/ports';
import { LensError } from '../../runtime/errors';
import type { WeightFile } from '../../runtime/formats/weight-bytes';
import type { LoadProgressEvent } from '../../runtime/inspector/worker-protocol';
import type { GpuLimits, ModelBytes, WebBackend, WebLoaded, WebWorkerEnd } from './protocol';

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

/** config.json and the weights of a folder: model.safetensors or the shards of model.safetensors.index.json, else
 * pytorch_model.bin or the shards of pytorch_model.bin.index.json (the first that is there). */
export async function fetchModel(base: string): Promise<ModelBytes> {
  const dir = dirUrl(base);
  const config = await fetchText(`${dir}config.json`);
  let first: unknown;
  for (const [single, indexName] of [
    ['model.safetensors', 'model.safetensors.index.json'],
    ['pytorch_model.bin', 'pytorch_model.bin.index.json'],
  ]) {
    try {
      const bytes = new Uint8Array(await fetchBytes(`${dir}${single}`));
      return { config, weights: [{ name: single, bytes }] };
    } catch (e) {
      first ??= e;
    }
    let index: string;
    try {
      index = await fetchText(`${dir}${indexName}`);
    } catch {
      continue;
    }
    const map = (JSON.parse(index) as { weight_map?: Record<string, unknown> }).weight_map ?? {};
    const shards = [...new Set(Object.values(map).filter((s): s is string => typeof s === 'string'))];
    const weights: WeightFile[] = await Promise.all(
      shards.map(async (name) => ({ name, bytes: new Uint8Array(await fetchBytes(`${dir}${encodeURI(name)}`)) })),
    );
    return { config, weights, index };
  }
  throw first;
}

/**
 * Starts the worker bundle at `url`. The script is fetched and started from a blob: URL, because a webview's resources
 * live on another origin than the webview itself and a worker must be same-origin (CSP: worker-src blob:).
 */
async function startWorker(url: string): Promise<Worker> {
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

/** A started inference worker and the channel to it. */
export class InferenceWorker {
  readonly channel: Channel<NoEnd, WebWorkerEnd>;
  private crashListeners = new Set<(why: string) => void>();

  private constructor(private readonly worker: Worker) {
    this.channel = new Channel<NoEnd, WebWorkerEnd>(webPort(worker));
    worker.addEventListener('error', (e) => {
      const where = e.filename ? ` at ${e.filename}:${e.lineno}:${e.colno}` : '';
      const why = `the panel's inference worker crashed (${e.message || 'unknown error'}${where})`;
      this.channel.close(new LensError('INFERENCE_FAILED', `${why[0].toUpperCase()}${why.slice(1)}.`));
      for (const l of [...this.crashListeners]) l(why);
    });
  }

  /** Starts the worker bundle at `url` (see startWorker). */
  static async start(url: string): Promise<InferenceWorker> {
    return new InferenceWorker(await startWorker(url));
  }

  /** The worker crashed (an uncaught error): what is in flight fails; `listener` hears why. */
  onCrash(listener: (why: string) => void): () => void {
    this.crashListeners.add(listener);
    return () => this.crashListeners.delete(listener);
  }

  /** Fetches the model and the .wasm and asks the worker to load them (bytes moved, not copied). */
  async load(options: LoadInWorkerOptions, onProgress?: (p: LoadProgressEvent) => void): Promise<WebLoaded> {
    const [model, wasmBinary] = await Promise.all([fetchModel(options.modelBase), fetchBytes(options.wasmUrl)]);
    const transfer = [wasmBinary, ...model.weights.map((w) => w.bytes.buffer as ArrayBuffer)];
    return this.channel.request(
      'load',
      {
        model,
        wasmBinary,
        backend: options.backend,
        fallback: options.fallback,
        maxTokens: options.maxTokens,
        ...(options.limits ? { limits: options.limits } : {}),
      },
      { transfer, onEvent: onProgress },
    );
  }

  /** Ends the worker at once; whatever is in flight fails with `why`. */
  terminate(why = "The panel's inference worker was stopped."): void {
    this.channel.close(new LensError('DISPOSED', why));
    this.worker.terminate();
  }
}
