// Attention Lens: Cancel — stops the model load in progress and every panel's run in flight; says so when there was
// nothing to stop. Returns whether something was cancelled.
//
// The template for a new command: the id in commands/ids.ts (and package.json), one `register<Name>(services)` that
// registers it, the work in a function of its own; pure decisions in a vscode-free module beside it.
import * as vscode from 'vscode';
import type { Services } from '../services';
import { COMMANDS } from './ids';

export function registerCancel(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(COMMANDS.cancel, () => cancel(s));
}

function cancel(s: Services): boolean {
  let any = s.models.manager.cancelLoad();
  any = s.panels.cancelAll() || any;
  if (!any) void vscode.window.showInformationMessage('Attention Lens: nothing to cancel.');
  return any;
}
