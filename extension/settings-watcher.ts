// Follows the settings while the extension runs: a new colour map reaches every panel, a new idle time the model
// manager; a new model, backend or thread count cancels the runs on the old model (they run again on the new one),
// releases it, and loads the new one when a model was loaded.
import * as vscode from 'vscode';
import { readModelSettings } from './model-manager';
import type { Services } from './services';
import { idleMinutesSetting } from './settings';

export function watchSettings(s: Services): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration(async (e) => {
    if (e.affectsConfiguration('attentionLens.colorMap')) s.panels.postSettings();
    if (e.affectsConfiguration('attentionLens.idleUnloadMinutes'))
      s.models.manager.setIdleMinutes(idleMinutesSetting());
    if (
      e.affectsConfiguration('attentionLens.modelPath') ||
      e.affectsConfiguration('attentionLens.backend') ||
      e.affectsConfiguration('attentionLens.threads')
    ) {
      const models = s.models.manager;
      if (models.matches(readModelSettings())) return;
      const wasLoaded = models.current !== undefined || models.isLoading;
      // Runs on the old model stop cleanly (cancelled, then run again on the new one) before it is released.
      s.panels.cancelAll();
      await models.unload();
      s.status.update();
      if (wasLoaded) void s.models.preload();
    }
  });
}
