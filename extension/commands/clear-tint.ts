// Attention Lens: Clear Attention Tint — removes the editor tint and its legend.
import * as vscode from 'vscode';
import type { Services } from '../services';
import { COMMANDS } from './ids';

export function registerClearTint(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(COMMANDS.clearTint, () => s.runActions.tint.clear());
}
