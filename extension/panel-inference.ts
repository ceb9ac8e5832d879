// A panel's in-webview inference channel (protocol/inference.ts): the InferencePort the WebviewInspector talks to.
// Before a model runs in the webview, the panel is re-rendered with the inference CSP (protocol/panel-page.ts) and that one
// model folder is added to its localResourceRoots, so the webview fetches the weights itself through asWebviewUri —
// they never travel through postMessage. A reload, hide (the webview is destroyed) or close of the panel ends whatever
// ran in it; the port says so (onInferenceReset) and the inspector using it fails its runs with that reason.
import * as vscode from 'vscode';
import type { InferHostMessage, InferWebviewMessage } from '../protocol/inference';
import { isInferMessage } from '../protocol/inference';
import { validateInferWebviewMessage } from '../protocol/inference-validate';
import type { InferencePort, InferenceUrls } from './webview-inspector';

/** onnxruntime-web's .wasm the inference worker needs (copied into dist/ by scripts/build.mjs). */
const WASM = 'ort-wasm-simd-threaded.asyncify.wasm';
const WORKER = 'webview-inference.js';
const READY_TIMEOUT_MS = 30_000;

export class PanelInference implements InferencePort {
  private readonly listeners = new Set<(m: InferWebviewMessage) => void>();
  private readonly resetListeners = new Set<(why: string) => void>();
  /** The model folder the webview may read (and whose CSP allows inference), once prepared. */
  private allowedDir: string | undefined;
  private pending: InferHostMessage[] = [];
  private readyWaiters: (() => void)[] = [];
  /** Something was loaded in the current webview instance (a reload loses it). */
  private live = false;
  private disposed = false;

  constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    /** Re-renders the panel's HTML, with the inference CSP when asked (reloads the webview). */
    private readonly render: (inference: boolean) => void,
    /** Whether the webview has posted `ready` since it last (re)loaded. */
    private readonly isReady: () => boolean,
    private readonly log: (line: string) => void,
  ) {}

  get isDisposed(): boolean {
    return this.disposed;
  }

  postInference(message: InferHostMessage): void {
    if (this.disposed) return;
    if (!this.isReady()) {
      this.pending.push(message);
      return;
    }
    if (message.type === 'inferLoad') this.live = true;
    this.panel.webview.postMessage(message).then(
      (ok) => {
        if (!ok) this.log(`Panel did not take an '${message.type}' message.`);
      },
      (e: unknown) => this.log(`Posting '${message.type}' failed: ${String(e)}`),
    );
  }

  onInference(listener: (message: InferWebviewMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
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

  /** Handles a webview message of this channel (true), or leaves it to the panel protocol (false). */
  receive(raw: unknown): boolean {
    if (!isInferMessage(raw)) return false;
    const v = validateInferWebviewMessage(raw);
    if (!v.ok) {
      this.log(`Dropped an inference message (${String(raw.type).slice(0, 40)}): ${v.reason}`);
      return true;
    }
    for (const l of [...this.listeners]) l(v.message);
    return true;
  }

  /** The webview (re)started and posted `ready`: what it held before is gone; queued messages go out now. */
  webviewReady(): void {
    this.reset('reloaded');
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    waiters.forEach((w) => w());
    const pending = this.pending;
    this.pending = [];
    pending.forEach((m) => this.postInference(m));
  }

  /** The panel was hidden: its webview is destroyed (no retainContextWhenHidden). */
  hidden(): void {
    this.reset('hidden (VS Code discards a hidden panel’s page)');
  }

  dispose(): void {
    this.reset('closed');
    this.disposed = true;
    this.listeners.clear();
    this.resetListeners.clear();
    this.pending = [];
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    waiters.forEach((w) => w());
  }

  private reset(why: string): void {
    if (!this.live) return;
    this.live = false;
    for (const l of [...this.resetListeners]) l(why);
  }

  private waitReady(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`The panel did not reload within ${READY_TIMEOUT_MS / 1000} s.`)),
        READY_TIMEOUT_MS,
      );
      this.readyWaiters.push(() => {
        clearTimeout(timer);
        if (this.disposed) reject(new Error('The panel was closed.'));
        else resolve();
      });
    });
  }
}
