// An Inspector whose model runs in a panel's webview (webview/inference/: onnxruntime-web on WebGPU, or Wasm there),
// behind the same API as the Node worker's: the host tokenizes, sends token ids as the panel's inference requests
// (protocol/inference.ts) and streams back every layer, so the panel, the hover, export and analysis see one kind of
// run whichever side computed it; Continue (generate) runs there too. Batched forward passes (analysis) run on a host
// copy of the model, loaded on first use. vscode-free: the panel is reached through InferencePort.
import type {
  AttentionRun,
  ForwardOptions,
  ForwardRequest,
  ForwardResult,
  GenerateDone,
  GenerateOptions,
  Inspector,
  LayerResult,
  LoadProgress,
  RunOptions,
} from '../runtime/inspector/api';
import { openRun, type RunStream } from '../runtime/inspector/attention-run';
import { sourceTokenizer, tokensOfText } from '../runtime/inspector/input';
import { checkCanGenerate } from '../runtime/generate/can-generate';
import { checkMaxNew } from '../runtime/generate/kv-generator';
import { checkSampling } from '../runtime/generate/sampling';
import { cancelled, isLensError, LensError } from '../runtime/errors';
import type { RequestOptions } from '../runtime/channel/channel';
import type { Tokenizer } from '../runtime/tokenizers/tokenizer';
import type { ModelFacts, Token } from '../runtime/types';
import type { InferenceCalls, InferLoaded, WebviewBackend } from '../protocol/inference';

/** URLs the webview may fetch (asWebviewUri), for one model folder. */
export interface InferenceUrls {
  modelBase: string;
  workerUrl: string;
  wasmUrl: string;
}

/** What a panel offers in-webview inference. */
export interface InferencePort {
  readonly isDisposed: boolean;
  /** Asks the panel's webview (once it is ready); rejects with its LensError, or CANCELLED once the signal aborts. */
  request<N extends keyof InferenceCalls>(
    name: N,
    payload: InferenceCalls[N]['request'],
    options?: RequestOptions<InferenceCalls[N]['event']>,
  ): Promise<InferenceCalls[N]['reply']>;
  /** The webview's inference worker crashed after it loaded: why. */
  onEnded(listener: (reason: string) => void): () => void;
  /** The webview was reloaded, destroyed or closed: whatever ran in it is gone. */
  onInferenceReset(listener: (why: string) => void): () => void;
  /** Lets the webview run a model from `modelDir` (its CSP, localResourceRoots) and gives the URLs it may fetch. */
  prepareInference(modelDir: string): Promise<InferenceUrls>;
}

let nextId = 1;

/** Asks the panel whether its webview has a WebGPU adapter (nothing is loaded). */
export async function probeWebGpu(
  port: InferencePort,
  timeoutMs = 10_000,
): Promise<{ adapter: string | null; reason?: string }> {
  try {
    return await port.request('inferProbe', {}, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const timedOut = isLensError(e) && e.code === 'CANCELLED';
    return { adapter: null, reason: timedOut ? 'the panel did not answer the WebGPU probe' : errorText(e) };
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
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
  let loaded: InferLoaded;
  let resetWhy: string | undefined;
  const offReset = port.onInferenceReset((why) => (resetWhy = why));
  try {
    loaded = await port.request(
      'inferLoad',
      { ...urls, backend: options.backend, fallback: options.fallback, maxTokens: options.maxTokens },
      { signal: options.signal, onEvent: (p) => options.onProgress?.({ phase: p.phase, fraction: p.fraction }) },
    );
  } catch (e) {
    if (resetWhy !== undefined && !(isLensError(e) && e.code === 'CANCELLED'))
      throw new LensError('INFERENCE_FAILED', `The panel stopped while loading the model (${resetWhy}).`);
    throw e;
  } finally {
    offReset();
  }
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
  /** Runs that may still be in flight (failed when the model goes away). */
  private readonly runs = new Set<RunStream>();
  private dead: LensError | undefined;
  private disposed = false;
  private host: Promise<Inspector> | undefined;
  private readonly listeners = new Set<(e: WebviewEvent) => void>();
  private readonly unsubscribe: (() => void)[];

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
      port.onEnded((reason) => this.die(`The panel's inference worker stopped (${reason}); run again to reload it.`)),
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

  tokenize(text: string, options: { chat?: boolean; sourceLanguage?: string } = {}): Token[] {
    this.check();
    const tokenizer = sourceTokenizer(this.tokenizer, this.facts, options.sourceLanguage);
    return tokensOfText(text, tokenizer, this.facts, options.chat === true);
  }

  run(input: string | number[], options: RunOptions = {}): AttentionRun {
    this.check();
    for (const r of this.runs) if (r.settled) this.runs.delete(r);
    const stream = openRun(nextId++, input, options, this, {
      run: async (ids, withVectors, signal, onLayer) => {
        const done = await this.port.request(
          'inferRun',
          { ids, withVectors },
          {
            signal,
            onEvent: (e) => {
              if (e.type === 'fallback') return this.fellBack(e.reason);
              const layer: LayerResult = {
                layer: e.layer,
                kind: e.kind,
                heads: e.heads,
                queryLength: e.queryLength,
                keyLength: e.keyLength,
                data: new Float32Array(e.data), // [heads, query, key]
              };
              if (e.q && e.k) {
                layer.q = new Float32Array(e.q); // [heads, query, headDim]
                layer.k = new Float32Array(e.k); // [heads, key, headDim]
              }
              onLayer(layer);
            },
          },
        );
        return { lastHidden: new Float32Array(done.lastHidden), stageMs: done.stageMs };
      },
    });
    this.runs.add(stream);
    return stream;
  }

  /** Batched passes run on a host copy of the model (loaded on first use): analysis needs no GPU round trips. A load
   *  that failed (cancelled, out of memory) is forgotten, so that the next analysis tries again. */
  async forward(request: ForwardRequest, options?: ForwardOptions): Promise<ForwardResult> {
    this.check();
    if (!this.host) {
      const loading = this.options.hostModel();
      this.host = loading;
      loading.catch(() => {
        if (this.host === loading) this.host = undefined;
      });
    }
    return (await this.host).forward(request, options);
  }

  /** Generation runs where the run ran: the panel's worker continues the ids on its own model (WebGPU or Wasm) and
   * streams each token with its rows ([heads, position + 1] per layer), checked against the model's heads. */
  async generate(ids: number[], options: GenerateOptions): Promise<GenerateDone> {
    this.check();
    checkCanGenerate(this.facts);
    if (ids.length === 0) throw new LensError('EMPTY_TEXT', 'There is nothing to continue: the prompt has no tokens.');
    checkMaxNew(options.maxNew, ids.length, this.facts);
    checkSampling(options);
    const { heads, layers } = this.facts;
    const done = this.port.request(
      'inferGenerate',
      {
        ids: [...ids],
        maxNew: options.maxNew,
        ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
        ...(options.topP !== undefined ? { topP: options.topP } : {}),
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
        stopIds: [...(options.stopIds ?? [])],
        rows: options.rows !== false,
      },
      {
        signal: options.signal,
        onEvent: (e) => {
          const keys = e.position + 1;
          if (options.rows !== false && e.rows.length !== layers)
            throw new LensError('INFERENCE_FAILED', `The panel sent ${e.rows.length} rows for ${layers} layers.`);
          const rows = e.rows.map((r) => new Float32Array(r)); // [heads, position + 1]
          const bad = rows.findIndex((r) => r.length !== heads * keys);
          if (bad >= 0)
            throw new LensError(
              'INFERENCE_FAILED',
              `The panel sent a row of ${rows[bad].length} values for layer ${bad}, not ${heads} heads × ${keys} keys.`,
            );
          options.onToken?.({
            index: e.index,
            id: e.id,
            position: e.position,
            rows,
            ...(e.end ? { end: e.end } : {}),
          });
        },
      },
    );
    return done;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.failRuns(new LensError('DISPOSED', 'The model was unloaded during the run.'));
    if (!this.dead && !this.port.isDisposed) {
      // Let the webview release its sessions and end its worker (at most a few seconds' wait).
      await this.port.request('inferDispose', {}, { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
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

  private failRuns(error: LensError): void {
    for (const run of [...this.runs]) run.fail(error);
    this.runs.clear();
  }

  /** The GPU went away: this run completes on Wasm in the panel, and so do later ones. */
  private fellBack(reason: string): void {
    this.currentBackend = 'wasm';
    this.note = `Wasm in the panel: ${reason}.`;
    this.emit({ kind: 'fallback', reason });
  }

  private die(why: string): void {
    if (this.dead || this.disposed) return;
    this.dead = new LensError('INFERENCE_FAILED', why);
    this.failRuns(this.dead);
    this.emit({ kind: 'ended', reason: why });
  }
}
