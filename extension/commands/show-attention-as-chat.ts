// Attention Lens: Show Attention as Chat Prompt — Show Attention with the selection (or `args.text`) as a user
// message in the model's own chat template, with its generation prompt: what a chat model sees when it answers.
// The template's tokens are marked (dimmer in the views, no document range, not explanation candidates); a model
// without a chat template gets one line saying so (runtime/tokenizers/chat-prompt.ts).
import * as vscode from 'vscode';
import type { RunSummary } from '../api';
import type { Services } from '../services';
import { COMMANDS } from './ids';
import { showAttention } from './show-attention';

export function registerShowAttentionAsChat(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(COMMANDS.showAttentionAsChat, (args?: unknown) => showAsChat(s, args));
}

function showAsChat(s: Services, args: unknown): Promise<RunSummary> {
  // The editor's context menu passes the document's URI: the selection is what runs.
  const given = typeof args === 'object' && args !== null && !(args instanceof vscode.Uri) ? args : {};
  return showAttention(s, { ...given, chat: true });
}
