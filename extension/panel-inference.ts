// A panel's in-webview inference (protocol/inference.ts): the InferencePort a WebviewInspector talks to, over the
// panel's channel. Before a model runs in the webview, the panel is re-rendered with the inference CSP
// (protocol/panel-page.ts) and that one model folder is added to its localResourceRoots, so the webview fetches the
// weights itself through asWebviewUri — they never travel through postMessage. Requests wait until the webview is
// ready. A reload, hide (the webview is destroyed) or close of the panel ends whatever ran in it; the port says so
// (onInferenceReset) and the inspector using it fails its runs with that reason.
import * as vscode from 'vscode';
import type { InferenceCalls } from '../protocol/inference';
import type { PanelHostEnd, PanelWebviewEnd } from '../protocol/panel-channel';
import type { AbortSignalLike, Channel, RequestOptions } from '../runtime/channel/channel';
import { cancelled, LensError } from '../runtime/errors';
import type { InferencePort, InferenceUrls } from './webview-inspector';

/** onnxruntime-web's .wasm the inference worker needs (copied into dist/ by scripts/build.mjs). */
const WASM = 'ort-wasm-simd-threaded.asyncify.wasm';
const WORKER = 'webview-inference.js';
const READY_TIMEOUT_MS = 30_000;

export class PanelInference implements InferencePort {
  private readonly resetListeners = new Set<(why: string) => void>();
  /** The model folder the webview may read (and whose CSP allows inference), once prepared. */
  private allowedDir: string | undefined;
  private readyWaiters: (() => void)[] = [];
  /** Something was loaded in the current webview instance (a reload loses it). */
  private live = false;
  private disposed = false;

  constructor(
    private readonly channel: Channel<PanelHostEnd, PanelWebviewEnd>,
    private readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    /** Re-renders the panel's HTML, with the inference CSP when asked (reloads the webview). */
    private readonly render: (inference: boolean) => void,
    /** Whether the webview has posted `ready` since it last (re)loaded. */
    private readonly isReady: () => boolean,
  ) {}

  get isDisposed(): boolean {
    return this.disposed;
  }

  async request<N extends keyof InferenceCalls>(
    name: N,
    payload: InferenceCalls[N]['request'],
    options: RequestOptions<InferenceCalls[N]['event']> = {},
  ): Promise<InferenceCalls[N]['reply']> {
    if (!this.isReady()) await this.waitReady(options.signal);
    if (this.disposed) throw new LensError('INFERENCE_FAILED', 'The panel was closed.');
    if (name === 'inferLoad') this.live = true;
    return this.channel.request(name, payload as never, options as never) as Promise<InferenceCalls[N]['reply']>;
  }

  onEnded(listener: (reason: string) => void): () => void {
    return this.channel.on('inferEnded', (p) => listener(p.reason));
  }

  onInferenceReset(listener: (why: string) => void): () => void {
    this.resetListeners.add(listener);
    return () => this.resetListeners.delete(listener);
  }

  async prepareInference(modelDir: string): Promise<InferenceUrls> {
    if (this.disposed) throw new Error('The panel was closed.');
    const webview = this.panel.webview;
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const model = vscode.Uri.file(modelDir);
    if (this.allowedDir !== modelDir) {
      this.allowedDir = modelDir;
      webview.options = { ...webview.options, localResourceRoots: [dist, model] };
      this.reset('reloaded for another model');
      this.render(true);
    }
    if (!this.isReady()) await this.waitReady();
    const base = webview.asWebviewUri(model).toString();
    return {
      modelBase: base.endsWith('/') ? base : `${base}/`,
      workerUrl: webview.asWebviewUri(vscode.Uri.joinPath(dist, WORKER)).toString(),
      wasmUrl: webview.asWebviewUri(vscode.Uri.joinPath(dist, WASM)).toString(),
    };
  }

  /** The webview (re)started and posted `ready`: what it held before is gone; waiting requests go out now. */
  webviewReady(): void {
    this.reset('reloaded');
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    waiters.forEach((w) => w());
  }

  /** The panel was hidden: its webview is destroyed (no retainContextWhenHidden). */
  hidden(): void {
    this.reset('hidden (VS Code discards a hidden panel’s page)');
  }

  dispose(): void {
    this.reset('closed');
    this.disposed = true;
    this.resetListeners.clear();
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    waiters.forEach((w) => w());
  }

  private reset(why: string): void {
    if (!this.live) return;
    this.live = false;
    for (const l of [...this.resetListeners]) l(why);
  }

  private waitReady(signal?: AbortSignalLike): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(cancelled());
      const onAbort = () => {
        clearTimeout(timer);
        this.readyWaiters = this.readyWaiters.filter((w) => w !== waiter);
        reject(cancelled());
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        this.readyWaiters = this.readyWaiters.filter((w) => w !== waiter);
        reject(new LensError('INFERENCE_FAILED', `The panel did not reload within ${READY_TIMEOUT_MS / 1000} s.`));
      }, READY_TIMEOUT_MS);
      const waiter = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (this.disposed) reject(new LensError('INFERENCE_FAILED', 'The panel was closed.'));
        else resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.readyWaiters.push(waiter);
    });
  }
}
