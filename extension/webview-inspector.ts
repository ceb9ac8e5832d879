// An Inspector whose model runs in a panel's webview (webview/inference/: onnxruntime-web on WebGPU, or Wasm there),
// behind the same API as the Node worker's: the host tokenizes, sends token ids over the panel's inference channel
// (protocol/inference.ts) and streams back every layer, so the panel, the hover, export and analysis see one kind of
// run whichever side computed it. Batched forward passes (analysis) run on a host copy of the model, loaded on first
// use. vscode-free: the panel is reached through InferencePort.
import type {
  AttentionRun,
  ForwardOptions,
  ForwardRequest,
  ForwardResult,
  Inspector,
  LayerResult,
  LoadProgress,
  RunOptions,
} from '../runtime/inspector/api';
import { openRun, type RunStream } from '../runtime/inspector/attention-run';
import { tokensOfText } from '../runtime/inspector/input';
import { cancelled, LensError } from '../runtime/errors';
import type { Tokenizer } from '../runtime/tokenizers/tokenizer';
import type { ModelFacts, Token } from '../runtime/types';
import type { InferHostMessage, InferWebviewMessage, WebviewBackend } from '../protocol/inference';

/** URLs the webview may fetch (asWebviewUri), for one model folder. */
export interface InferenceUrls {
  modelBase: string;
  workerUrl: string;
  wasmUrl: string;
}

/** What a panel offers in-webview inference. */
export interface InferencePort {
  readonly isDisposed: boolean;
  /** Posts a message of the inference channel. */
  postInference(message: InferHostMessage): void;
  /** Subscribes to the channel; returns the unsubscribe function. */
  onInference(listener: (message: InferWebviewMessage) => void): () => void;
  /** The webview was reloaded, destroyed or closed: whatever ran in it is gone. */
  onInferenceReset(listener: (why: string) => void): () => void;
  /** Lets the webview run a model from `modelDir` (its CSP, localResourceRoots) and gives the URLs it may fetch. */
  prepareInference(modelDir: string): Promise<InferenceUrls>;
}

let nextId = 1;

/** Asks the panel whether its webview has a WebGPU adapter (nothing is loaded). */
export function probeWebGpu(
  port: InferencePort,
  timeoutMs = 10_000,
): Promise<{ adapter: string | null; reason?: string }> {
  const probeId = nextId++;
  return new Promise((resolve) => {
    const done = (r: { adapter: string | null; reason?: string }) => {
      clearTimeout(timer);
      off();
      offReset();
      resolve(r);
    };
    const timer = setTimeout(
      () => done({ adapter: null, reason: 'the panel did not answer the WebGPU probe' }),
      timeoutMs,
    );
    const off = port.onInference((m) => {
      if (m.type === 'inferProbed' && m.probeId === probeId) done({ adapter: m.adapter, reason: m.reason });
    });
    const offReset = port.onInferenceReset((why) => done({ adapter: null, reason: why }));
    port.postInference({ type: 'inferProbe', probeId });
  });
}

export interface WebviewLoadOptions {
  /** The model folder (config.json, safetensors weights, tokenizer files). */
  dir: string;
  name: string;
  tokenizer: Tokenizer | undefined;
  backend: WebviewBackend;
  fallback: 'wasm' | 'fail';
  maxTokens: number;
  signal?: AbortSignal;
  onProgress?: (p: LoadProgress) => void;
  /** Loads the same model on the host (for forward passes); called at most once. */
  hostModel: () => Promise<Inspector>;
}

/** Loads the model in the panel's webview; rejects with the webview's LensError (BACKEND_UNAVAILABLE: no GPU). */
export async function loadInWebview(port: InferencePort, options: WebviewLoadOptions): Promise<WebviewInspector> {
  const t0 = performance.now();
  if (options.signal?.aborted) throw cancelled();
  const urls = await port.prepareInference(options.dir);
  const loadId = nextId++;
  const loaded = await new Promise<Extract<InferWebviewMessage, { type: 'inferLoaded' }>>((resolve, reject) => {
    const cleanup = () => {
      off();
      offReset();
      options.signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      cleanup();
      port.postInference({ type: 'inferDispose' });
      reject(cancelled());
    };
    const off = port.onInference((m) => {
      if (m.type === 'inferProgress' && m.loadId === loadId)
        options.onProgress?.({ phase: m.phase, fraction: m.fraction });
      else if (m.type === 'inferLoaded' && m.loadId === loadId) {
        cleanup();
        resolve(m);
      } else if (m.type === 'inferLoadFailed' && m.loadId === loadId) {
        cleanup();
        reject(new LensError(m.code, m.message));
      }
    });
    const offReset = port.onInferenceReset((why) => {
      cleanup();
      reject(new LensError('INFERENCE_FAILED', `The panel stopped while loading the model (${why}).`));
    });
    options.signal?.addEventListener('abort', onAbort, { once: true });
    port.postInference({
      type: 'inferLoad',
      loadId,
      ...urls,
      backend: options.backend,
      fallback: options.fallback,
      maxTokens: options.maxTokens,
    });
  });
  const facts: ModelFacts = { name: options.name, dir: options.dir, ...loaded.facts };
  return new WebviewInspector(
    port,
    facts,
    loaded.backend,
    loaded.note,
    loaded.adapter,
    performance.now() - t0,
    options,
  );
}

/** Something the user should hear about: the GPU went away (runs continue on Wasm), or the panel's model is gone. */
export type WebviewEvent = { kind: 'fallback'; reason: string } | { kind: 'ended'; reason: string };

export class WebviewInspector implements Inspector {
  readonly threads = 1;
  private readonly runs = new Map<number, RunStream>();
  private dead: LensError | undefined;
  private disposed = false;
  private host: Promise<Inspector> | undefined;
  private readonly listeners = new Set<(e: WebviewEvent) => void>();
  private readonly unsubscribe: (() => void)[];
  private endedAck: (() => void) | undefined;

  constructor(
    private readonly port: InferencePort,
    readonly facts: ModelFacts,
    private currentBackend: WebviewBackend,
    /** Why this backend runs, for the status bar. */
    public note: string,
    readonly adapter: string | undefined,
    readonly loadMs: number,
    private readonly options: WebviewLoadOptions,
  ) {
    this.unsubscribe = [
      port.onInference((m) => this.receive(m)),
      port.onInferenceReset((why) => this.die(`The panel that ran ${facts.name} was ${why}; run again to reload it.`)),
    ];
  }

  get backend(): WebviewBackend {
    return this.currentBackend;
  }
  get tokenizer(): Tokenizer | undefined {
    return this.options.tokenizer;
  }
  /** True once the panel's model is gone (the panel closed or reloaded, the worker crashed). */
  get isDead(): boolean {
    return this.dead !== undefined;
  }

  onEvent(listener: (e: WebviewEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  tokenize(text: string): Token[] {
    this.check();
    return tokensOfText(text, this.tokenizer, this.facts);
  }

  run(input: string | number[], options: RunOptions = {}): AttentionRun {
    this.check();
    const runId = nextId++;
    return openRun(runId, input, options, this, {
      start: (stream, ids, withVectors) => {
        this.runs.set(runId, stream);
        this.port.postInference({ type: 'inferRun', runId, ids, withVectors });
      },
      cancel: () => this.port.postInference({ type: 'inferCancel', runId }),
      settled: () => this.runs.delete(runId),
    });
  }

  /** Batched passes run on a host copy of the model (loaded on first use): analysis needs no GPU round trips. */
  async forward(request: ForwardRequest, options?: ForwardOptions): Promise<ForwardResult> {
    this.check();
    this.host ??= this.options.hostModel();
    return (await this.host).forward(request, options);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const run of [...this.runs.values()])
      run.fail(new LensError('DISPOSED', 'The model was unloaded during the run.'));
    if (!this.dead && !this.port.isDisposed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 3000);
        this.endedAck = () => {
          clearTimeout(timer);
          resolve();
        };
        this.port.postInference({ type: 'inferDispose' });
      });
    }
    this.unsubscribe.forEach((f) => f());
    const host = this.host;
    this.host = undefined;
    if (host) await host.then((h) => h.dispose()).catch(() => undefined);
  }

  private check(): void {
    if (this.disposed) throw new LensError('DISPOSED', `${this.facts.name} was unloaded; load the model again.`);
    if (this.dead) throw this.dead;
  }

  private emit(e: WebviewEvent): void {
    for (const l of [...this.listeners]) l(e);
  }

  private die(why: string): void {
    if (this.dead || this.disposed) return;
    this.dead = new LensError('INFERENCE_FAILED', why);
    for (const run of [...this.runs.values()]) run.fail(this.dead);
    this.emit({ kind: 'ended', reason: why });
  }

  private receive(m: InferWebviewMessage): void {
    switch (m.type) {
      case 'inferLayer': {
        const run = this.runs.get(m.runId);
        if (!run) return;
        const layer: LayerResult = {
          layer: m.layer,
          kind: m.kind,
          heads: m.heads,
          queryLength: m.queryLength,
          keyLength: m.keyLength,
          data: new Float32Array(m.data), // [heads, query, key]
        };
        if (m.q && m.k) {
          layer.q = new Float32Array(m.q); // [heads, query, headDim]
          layer.k = new Float32Array(m.k); // [heads, key, headDim]
        }
        run.pushLayer(layer);
        return;
      }
      case 'inferDone':
        this.runs.get(m.runId)?.finish(new Float32Array(m.lastHidden), m.stageMs);
        return;
      case 'inferFailed':
        this.runs.get(m.runId)?.fail(new LensError(m.code, m.message));
        return;
      case 'inferFallback':
        this.currentBackend = 'wasm';
        this.note = `Wasm in the panel: ${m.reason}.`;
        this.emit({ kind: 'fallback', reason: m.reason });
        return;
      case 'inferEnded':
        if (this.disposed) this.endedAck?.();
        else
          this.die(`The panel's inference worker stopped${m.reason ? ` (${m.reason})` : ''}; run again to reload it.`);
        return;
      default:
        return;
    }
  }
}
