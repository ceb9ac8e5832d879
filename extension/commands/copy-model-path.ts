// Attention Lens: Copy Model Path to Remote Settings — a remote window ignores attentionLens.modelPath in the User
// settings (model-path-logic.ts); this writes the value the run uses to the user target VS Code reads for a machine
// setting in this window (the Remote settings in a remote window). Returns what it did, for the tests.
import * as vscode from 'vscode';
import { readModelSettings } from '../model-manager';
import type { Services } from '../services';
import { COMMANDS } from './ids';

export function registerCopyModelPath(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(COMMANDS.copyModelPath, () => copyModelPath(s));
}

async function copyModelPath(s: Services): Promise<{ ok: boolean; message: string }> {
  const settings = readModelSettings();
  if (!settings.unreadFrom) {
    const message = settings.modelPath
      ? `attentionLens.modelPath (${settings.modelPath}) is already read in this window; nothing to copy.`
      : 'attentionLens.modelPath is not set in your User settings; nothing to copy. Run "Attention Lens: Select Model".';
    void vscode.window.showInformationMessage(message);
    return { ok: false, message };
  }
  try {
    // A machine setting's Global target is the Remote settings in a remote window.
    await vscode.workspace
      .getConfiguration('attentionLens')
      .update('modelPath', settings.modelPath, vscode.ConfigurationTarget.Global);
  } catch (e) {
    const message = `Copying attentionLens.modelPath failed: ${e instanceof Error ? e.message : String(e)}`;
    s.notifier.notify(message, ['openSettings'], 'error');
    return { ok: false, message };
  }
  const message = `attentionLens.modelPath (${settings.modelPath}) was copied to your ${vscode.env.remoteName ? 'Remote' : 'User'} settings.`;
  s.log.appendLine(message);
  s.status.update();
  void vscode.window.showInformationMessage(message);
  return { ok: true, message };
}
