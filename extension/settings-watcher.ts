// Follows the settings while the extension runs: a new colour map reaches every panel, a new idle time the model
// manager; a new model, backend or thread count cancels the runs on the old model (they run again on the new one),
// releases it, and loads the new one when a model was loaded; so does trusting the workspace (its own model setting
// then applies).
import * as vscode from 'vscode';
import { readModelSettings } from './model-manager';
import type { Services } from './services';
import { idleMinutesSetting } from './settings';

export function watchSettings(s: Services): vscode.Disposable {
  /** The model settings may name another model now: runs on the old one stop, it is released, the new one loads. */
  const modelMayHaveChanged = async () => {
    const models = s.models.manager;
    if (models.matches(readModelSettings())) return;
    const wasLoaded = models.current !== undefined || models.isLoading;
    // Runs on the old model stop cleanly (cancelled, then run again on the new one) before it is released.
    s.panels.cancelAll();
    await models.unload();
    s.status.update();
    if (wasLoaded) void s.models.preload();
  };
  return vscode.Disposable.from(
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      // Any change may drop or restore a model path the window reads (a remote window re-reading User settings
      // drops a machine setting from them): the status bar says what the next run will use.
      s.status.update();
      if (e.affectsConfiguration('attentionLens.colorMap')) s.panels.postSettings();
      if (e.affectsConfiguration('attentionLens.idleUnloadMinutes'))
        s.models.manager.setIdleMinutes(idleMinutesSetting());
      if (
        e.affectsConfiguration('attentionLens.modelPath') ||
        e.affectsConfiguration('attentionLens.backend') ||
        e.affectsConfiguration('attentionLens.threads')
      )
        await modelMayHaveChanged();
    }),
    // Trusting the workspace lets its own attentionLens.modelPath apply (Restricted Mode used the user's).
    vscode.workspace.onDidGrantWorkspaceTrust(() => void modelMayHaveChanged()),
  );
}
