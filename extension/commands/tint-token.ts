// The hover's "Tint" link: tints the editor by how much the hovered token attends to each token of its run.
import * as vscode from 'vscode';
import type { TintResult } from '../decorations';
import { tokenLinkArgs } from '../hover-logic';
import type { Services } from '../services';
import { COMMANDS } from './ids';

export function registerTintToken(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(COMMANDS.tintToken, async (a?: unknown): Promise<TintResult | undefined> => {
    const t = tokenLinkArgs(a);
    const found = t && s.runActions.byRunId(t.runId);
    if (!found) return void vscode.window.showWarningMessage('That run is no longer shown in a panel.');
    const r = await s.runActions.tintToken(found.panel, t.index);
    if (!r.ok) void vscode.window.showWarningMessage(r.message);
    return r;
  });
}
