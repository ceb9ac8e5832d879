// Restores the panels VS Code reopens after a reload: each runs again, quietly, the input it showed (its webview
// state keeps the run's source); a run opened from a file opens that file again; a panel without either says how
// to start.
import * as vscode from 'vscode';
import { isRunSource } from '../protocol/validate';
import { openSavedRun } from './commands/open-saved-run';
import { showAttention } from './commands/show-attention';
import { VIEW_TYPE } from './panel';
import type { Services } from './services';

/** Longest text a restored panel runs again (characters). */
const MAX_RESTORED_TEXT = 1_000_000;

export function registerPanelSerializer(s: Services): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
    async deserializeWebviewPanel(webviewPanel: vscode.WebviewPanel, state: unknown) {
      const panel = s.panels.restore(webviewPanel);
      const source = typeof state === 'object' && state !== null ? (state as { source?: unknown }).source : undefined;
      if (isRunSource(source) && source.savedFile !== undefined) {
        // A run opened from a file: open that file again (read and checked as Open Saved Run does).
        void openSavedRun(s, vscode.Uri.file(source.savedFile), panel).then((o) => o.ok || panel.notice(o.message));
      } else if (isRunSource(source) && source.text.length > 0 && source.text.length <= MAX_RESTORED_TEXT) {
        void showAttention(s, undefined, { source, panel, quiet: true });
      } else {
        panel.notice('Select some text and run "Attention Lens: Show Attention".');
      }
    },
  });
}
