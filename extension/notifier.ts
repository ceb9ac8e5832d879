// One way to tell the user something went wrong: a one-line error or warning notification with the buttons that help
// (Select Model…, Show Log, Open Settings, Truncate and Run, Set Hugging Face Token…, Copy to Remote Settings), the same line in the Output
// channel, and the test API's lastError(). Every command reports through it, so no failure is silent or a stack trace.
import * as vscode from 'vscode';
import type { ErrorAction } from './input';
import type { RunLog } from './run-log';
import { COMMANDS } from './commands/ids';

export type NotifyAction = ErrorAction | 'truncate' | 'copyModelPath';

const LABELS: Record<NotifyAction, string> = {
  selectModel: 'Select Model…',
  showLog: 'Show Log',
  openSettings: 'Open Settings',
  truncate: 'Truncate and Run',
  setToken: 'Set Hugging Face Token…',
  copyModelPath: 'Copy to Remote Settings',
};

export class Notifier {
  constructor(
    private readonly log: vscode.OutputChannel,
    private readonly runLog: RunLog,
  ) {}

  /** Shows `message` with `actions`; `onTruncate` runs when the user picks Truncate and Run. */
  notify(message: string, actions: NotifyAction[], severity: 'error' | 'warning', onTruncate?: () => void): void {
    this.runLog.noteError(message);
    this.log.appendLine(`${severity === 'error' ? 'Error' : 'Warning'}: ${message}`);
    const items = actions.map((a) => LABELS[a]);
    const show = severity === 'error' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
    void Promise.resolve(show(message, ...items)).then((choice) => {
      const action = actions.find((a) => LABELS[a] === choice);
      if (action === 'selectModel') void vscode.commands.executeCommand(COMMANDS.selectModel);
      else if (action === 'showLog') this.log.show(true);
      else if (action === 'openSettings')
        void vscode.commands.executeCommand('workbench.action.openSettings', 'attentionLens');
      else if (action === 'truncate') onTruncate?.();
      else if (action === 'setToken') void vscode.commands.executeCommand(COMMANDS.setHubToken);
      else if (action === 'copyModelPath') void vscode.commands.executeCommand(COMMANDS.copyModelPath);
    });
  }
}
