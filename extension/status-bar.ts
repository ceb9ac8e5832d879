// The status bar item: the model and the backend it runs on (its tooltip says why, and where the model lives), the
// load in progress, or the layers of the run in progress; a click opens Select Model. The run's layers come from the
// panel's own layer stream (PanelHost.progress, called as each layer note goes to the webview), and the item is
// touched only when its text or tooltip changes: VS Code's extension host sends a status bar item after a 0 ms timer
// that every property set (and show()) restarts, so setting unchanged ones on every layer only delays what it shows.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { Inspector } from '../runtime/inspector/api';
import type { AttentionPanel } from './panel';
import { backendLabel } from './backend-loader';
import { readModelSettings, type ModelManager } from './model-manager';
import { COMMANDS } from './commands/ids';
import { UNREAD_STATUS_NOTE } from './model-path-logic';
import { escapeIcons } from './icon-text';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    'attentionLens.status',
    vscode.StatusBarAlignment.Right,
    100,
  );
  /** The run in progress: its panel and layers received of all. */
  private running: { panel: AttentionPanel; received: number; total: number } | undefined;
  private readonly subscription: vscode.Disposable;
  /** The item's text as each layer note went to a panel (the test API; the last 1000). */
  private readonly sentLog: { runId: number; layer: number; text: string }[] = [];
  private shown = false;

  constructor(
    private readonly models: ModelManager,
    /** Why the loaded model runs where it runs (backend-loader.ts's note). */
    private readonly note: (inspector: Inspector) => string | undefined,
  ) {
    this.item.name = 'Attention Lens';
    this.item.command = COMMANDS.selectModel;
    this.subscription = models.onDidChange(() => this.update());
    this.update();
  }

  /** A panel received `received` of `total` layers; total < 0: its run ended. */
  progress(panel: AttentionPanel, received: number, total: number): void {
    this.running = total < 0 ? (this.running?.panel === panel ? undefined : this.running) : { panel, received, total };
    this.update();
  }

  /** A panel closed: its run no longer shows. */
  panelGone(panel: AttentionPanel): void {
    if (this.running?.panel === panel) this.running = undefined;
    this.update();
  }

  /** A panel handed layer `layer` of run `runId` to its webview: what the item said then. */
  layerSent(runId: number, layer: number): void {
    this.sentLog.push({ runId, layer, text: this.item.text });
    if (this.sentLog.length > 1000) this.sentLog.shift();
  }

  /** The item's text as each layer note went to a panel (the test API). */
  get atLayers(): readonly { runId: number; layer: number; text: string }[] {
    return this.sentLog;
  }

  /** The item's text now (the test API). */
  get text(): string {
    return this.item.text;
  }

  update(): void {
    const s = readModelSettings();
    const models = this.models;
    const item = { text: '', tooltip: '' };
    // What the next run uses (readModelSettings, as the run reads it): the loaded model only when it is that one.
    const current = models.current && models.isLoaded(s) ? models.current : undefined;
    const name = !s.modelPath ? '' : escapeIcons(current?.facts.name ?? path.basename(s.modelPath));
    const unread = s.unreadFrom ? ` ${UNREAD_STATUS_NOTE}` : '';
    if (models.isLoading) {
      item.text = `$(loading~spin) Loading ${models.loadingName !== undefined ? escapeIcons(models.loadingName) : name}…`;
      item.tooltip = 'Attention Lens is loading the model (Attention Lens: Cancel stops it).';
    } else if (this.running) {
      item.text = `$(loading~spin) ${name}: layer ${this.running.received}/${this.running.total}`;
      item.tooltip = 'Attention Lens is running (Attention Lens: Cancel stops it).';
    } else if (name) {
      const m = current;
      const icon = s.unreadFrom ? '$(warning)' : '$(telescope)';
      item.text = m ? `${icon} ${name} · ${backendLabel(m.backend)}` : `${icon} ${name}`;
      const note = m ? this.note(m) : undefined;
      item.tooltip = m
        ? `Attention Lens model: ${m.facts.dir} (${m.facts.modelType}, ${m.facts.layers}×${m.facts.heads}, ${m.backend}, ${m.threads} threads).${note ? ` Runs on ${note}` : ''}${unread} Click to change.`
        : `Attention Lens model: ${s.modelPath} (not loaded yet).${unread} Click to change.`;
    } else {
      item.text = '$(telescope) Attention Lens: select model';
      item.tooltip = 'No model selected. Click to select a model: a folder, an .onnx file or a Hugging Face id.';
    }
    // Only what changed: each property set restarts VS Code's timer before the item is sent (see the header).
    if (this.item.text !== item.text) this.item.text = item.text;
    if (this.item.tooltip !== item.tooltip) this.item.tooltip = item.tooltip;
    if (!this.shown) this.item.show();
    this.shown = true;
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
