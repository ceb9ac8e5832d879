// Attention Lens: Show Attention with Target… — for encoder–decoder models (marian, bart, mbart, t5): the selection is the
// source and the user types the target in an input box; the run scores that target with teacher forcing (decoder
// inputs = [decoder start] + target[:-1], as transformers with `labels` and the CLI's --target-text) instead of
// translating, and the panel shows the target's tokens with their log-probabilities. A command with an input box
// rather than a box in the panel: the selection is chosen in the editor, and the source and target then travel
// together in the run's RunSource (replayed by a restored panel), with no new webview message to trust. Empty
// targets, targets past the model's positions and models that are not encoder–decoders get one line each.
import * as vscode from 'vscode';
import type { RunSummary } from '../api';
import { checkTarget } from '../input';
import type { Services } from '../services';
import { COMMANDS } from './ids';
import { showAttention } from './show-attention';

export function registerShowAttentionWithTarget(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(COMMANDS.showAttentionWithTarget, (args?: unknown) => withTarget(s, args));
}

async function withTarget(s: Services, args: unknown): Promise<RunSummary | undefined> {
  const given = typeof args === 'object' && args !== null && !(args instanceof vscode.Uri) ? args : {};
  // The test API and scripts pass the target; people type it.
  if (typeof (given as { target?: unknown }).target === 'string') return showAttention(s, given);
  const target = await vscode.window.showInputBox({
    title: 'Show Attention with Target',
    prompt: 'The target to score with teacher forcing (encoder–decoder models: the translation of the selection)',
    placeHolder: 'e.g. 2021-03-14',
    ignoreFocusOut: true,
    validateInput: (v) => checkTarget(v) ?? null,
  });
  if (target === undefined) return undefined;
  return showAttention(s, { ...given, target });
}
