// The hover's "Show in panel" link: reveals the panel that shows the run and selects the token there.
import * as vscode from 'vscode';
import { tokenLinkArgs } from '../hover-logic';
import type { Services } from '../services';
import { COMMANDS } from './ids';

export function registerRevealToken(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(COMMANDS.revealToken, (a?: unknown) => {
    const t = tokenLinkArgs(a);
    const found = t && s.runActions.byRunId(t.runId);
    if (!found) return void vscode.window.showWarningMessage('That run is no longer shown in a panel.');
    found.panel.focusToken(t.index);
  });
}
