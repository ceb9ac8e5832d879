// The extension's one loaded model: the ModelManager (model-manager.ts) with the loader that decides where a model
// runs (backend-loader.ts: the extension host, or the panel's webview), the note of why it runs there (the status bar's
// tooltip), what happens when an in-webview model loses its GPU or its panel, and preloading after the model setting
// changed. A model that runs in a webview needs a panel: a run that loads one opens the panel it will show in.
import * as vscode from 'vscode';
import type { Inspector } from '../runtime/inspector/api';
import type { TokenFor } from '../runtime/hub/download';
import { load } from '../runtime/inspector/load-model';
import { backendLoader, runsInWebview } from './backend-loader';
import { describeError } from './input';
import { ModelManager, readModelSettings, type ModelSettings } from './model-manager';
import type { Notifier } from './notifier';
import type { Panels } from './panels';
import { maxTokensSetting, idleMinutesSetting } from './settings';
import { WebviewInspector } from './webview-inspector';

export class ModelService implements vscode.Disposable {
  readonly manager: ModelManager;
  private readonly notes = new WeakMap<Inspector, string>();
  /** Show Attention calls loading the model for a run (they may open the panel an in-webview model runs in). */
  private loadingForRun = 0;

  constructor(
    private readonly log: vscode.OutputChannel,
    private readonly panels: Panels,
    private readonly notifier: Notifier,
    /** The token a download may send to an endpoint (hub-token.ts). */
    hubToken: TokenFor,
    /** The backend note changed (a GPU fallback) or the model was unloaded: the status bar shows it. */
    private readonly changed: () => void,
  ) {
    const loader = backendLoader({
      hostLoad: load,
      port: () => (panels.live() ?? (this.loadingForRun > 0 ? panels.forRun() : undefined))?.inference,
      maxTokens: maxTokensSetting,
      loaded: (insp, note) => {
        this.notes.set(insp, note);
        log.appendLine(`Backend for ${insp.facts.name}: ${note}`);
        if (insp instanceof WebviewInspector) this.watchWebview(insp);
      },
    });
    this.manager = new ModelManager(log, loader, { hubToken, idleMinutes: idleMinutesSetting() });
  }

  /** Why `inspector` runs where it runs. */
  note(inspector: Inspector): string | undefined {
    return this.notes.get(inspector);
  }

  /** The model for a run of Show Attention (an in-webview model may open the panel the run will show in). */
  async forRun(settings: ModelSettings): Promise<Inspector> {
    this.loadingForRun++;
    try {
      return await this.manager.get(settings);
    } finally {
      this.loadingForRun--;
    }
  }

  /** Loads the configured model now, reporting problems (after Select Model or a settings change). */
  async preload(): Promise<void> {
    const s = readModelSettings();
    if (!s.modelPath) return;
    // webgpu/auto load into a panel: without one open, the first run loads the model (and opens the panel).
    if (runsInWebview(s.backend) && !this.panels.live()) return;
    try {
      await this.manager.get(s);
    } catch (e) {
      const err = describeError(e);
      if (err.cancelled) return;
      this.log.appendLine(`Loading ${s.modelPath} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      this.notifier.notify(err.message, err.actions.length ? err.actions : ['selectModel', 'showLog'], 'error');
    }
  }

  /** The GPU went away (runs go on with Wasm in the panel), or the panel's model ended (unload it). */
  private watchWebview(insp: WebviewInspector): void {
    insp.onEvent((e) => {
      if (e.kind === 'fallback') {
        this.notes.set(insp, insp.note);
        this.notifier.notify(
          `${e.reason[0].toUpperCase()}${e.reason.slice(1)}; Attention Lens runs the model on Wasm in the panel now.`,
          ['showLog'],
          'warning',
        );
        this.changed();
      } else {
        this.log.appendLine(e.reason);
        if (this.manager.current === insp) void this.manager.unload().then(() => this.changed());
      }
    });
  }

  dispose(): void {
    this.manager.dispose();
  }
}
