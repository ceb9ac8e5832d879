// Attention Lens: Set Hugging Face Token — asks for a read token (masked input) and keeps it in SecretStorage; an
// empty answer removes it.
import * as vscode from 'vscode';
import type { Services } from '../services';
import { COMMANDS } from './ids';

export function registerSetHubToken(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(COMMANDS.setHubToken, () => setHubToken(s));
}

async function setHubToken(s: Services): Promise<void> {
  const value = await vscode.window.showInputBox({
    title: 'Attention Lens: Hugging Face token',
    prompt: 'A read token for gated or private models (kept in VS Code’s secret storage). Empty removes it.',
    password: true,
    ignoreFocusOut: true,
  });
  if (value === undefined) return;
  await s.hubToken.set(value);
  s.log.appendLine(value.trim() ? 'Hugging Face token stored.' : 'Hugging Face token removed.');
}
