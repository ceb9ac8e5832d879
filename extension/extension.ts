// Attention Lens: the VS Code extension host. activate() only builds the parts and registers them — the Output
// channel, notifications, the status bar, the panels, the loaded model, the hover and tint, every command (one module
// each in commands/), the panel serializer and the settings watcher — and returns the test API.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AttentionLensApi } from './api';
import { registerCopyModelPath } from './commands/copy-model-path';
import { openDroppedRun, registerOpenSavedRun } from './commands/open-saved-run';
import { registerCancel } from './commands/cancel';
import { registerClearTint } from './commands/clear-tint';
import { registerExport } from './commands/export';
import { registerLoseGpuDevice } from './commands/lose-gpu-device';
import { registerRevealToken } from './commands/reveal-token';
import { registerSelectModel } from './commands/select-model';
import { registerSetHubToken } from './commands/set-hub-token';
import { registerShowAttention } from './commands/show-attention';
import { registerShowAttentionAsChat } from './commands/show-attention-as-chat';
import { registerShowAttentionWithTarget } from './commands/show-attention-with-target';
import { registerTintAtCursor } from './commands/tint-at-cursor';
import { registerTintToken } from './commands/tint-token';
import { registerHover } from './hover';
import { HubToken } from './hub-token';
import { ModelService } from './model-service';
import { Notifier } from './notifier';
import { registerPanelSerializer } from './panel-serializer';
import { Panels } from './panels';
import { RecentModels } from './recent-models';
import { RunActions } from './run-actions';
import { RunLog } from './run-log';
import type { Services } from './services';
import { watchSettings } from './settings-watcher';
import { StatusBar } from './status-bar';
import { recordedChannel } from './output-log';
import { testApi } from './test-api';
import { setUserSettingsFile } from './user-settings-file';

export function activate(context: vscode.ExtensionContext): AttentionLensApi {
  const log = recordedChannel(vscode.window.createOutputChannel('Attention Lens'));
  // A remote window ignores a machine setting in the User settings: where to look for a model path it dropped
  // (code-server keeps the User settings beside the global storage, on this machine).
  if (vscode.env.remoteName && context.globalStorageUri.scheme === 'file') {
    const file = path.join(context.globalStorageUri.fsPath, '..', '..', 'settings.json');
    setUserSettingsFile(file);
    log.appendLine(
      `Remote window (${vscode.env.remoteName}): the User settings file checked for the model path: ${file}`,
    );
  }
  const runLog = new RunLog();
  const notifier = new Notifier(log, runLog);
  const hubToken = new HubToken(context.secrets, context.globalState, log);
  // The panels, the model and the status bar tell each other what changed through these closures.
  const panels: Panels = new Panels(context.extensionUri, log, {
    progress: (panel, received, total) => status.progress(panel, received, total),
    layerSent: (panel, runId, layer) => status.layerSent(runId, layer),
    selectToken: (panel, index) => runActions.selectToken(panel, index),
    runChanged: (panel) => runActions.runChanged(panel),
    viewChanged: (panel) => runActions.viewChanged(panel),
    exportRequested: (panel) => runActions.exportRequested(panel),
    openDropped: (panel, dropped) => void openDroppedRun(s, panel, dropped),
    // Explain, Compare, Continue and the panel's other requests keep the model loaded as a run does.
    hold: (work) => models.manager.track(work()),
    disposed: (panel) => {
      runActions.panelDisposed(panel);
      status.panelGone(panel);
    },
  });
  const models = new ModelService(log, panels, notifier, hubToken.forEndpoint, () => status.update());
  const status = new StatusBar(models.manager, (m) => models.note(m));
  const runActions = new RunActions(panels, log);
  const recent = new RecentModels(context.globalState);
  const s: Services = { context, log, runLog, notifier, status, panels, models, recent, hubToken, runActions };

  context.subscriptions.push(
    log,
    models,
    status,
    runActions,
    recent.rememberLoaded(models.manager),
    registerHover(() => runActions.runs()),
    registerShowAttention(s),
    registerShowAttentionAsChat(s),
    registerShowAttentionWithTarget(s),
    registerSelectModel(s),
    registerCancel(s),
    registerSetHubToken(s),
    registerCopyModelPath(s),
    registerOpenSavedRun(s),
    registerExport(s),
    registerTintAtCursor(s),
    registerClearTint(s),
    registerRevealToken(s),
    registerTintToken(s),
    registerLoseGpuDevice(s),
    registerPanelSerializer(s),
    watchSettings(s),
    vscode.workspace.onDidChangeTextDocument((e) => panels.documentChanged(e)),
    { dispose: () => panels.cancelAll() },
  );
  log.appendLine('Attention Lens activated.');
  return testApi(s);
}

export function deactivate(): void {
  // Everything is in context.subscriptions (the model manager disposes the Inspector and its worker).
}
