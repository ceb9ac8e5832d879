// Attention Lens: Tint Editor by Attention from Token at Cursor — tints the run's text by how much the token under the
// cursor attends to each token (in the view the panel shows) and selects that token in the panel. A cursor outside
// every run, or on a run the document has changed since, gets one line saying what to do.
import * as vscode from 'vscode';
import type { TintResult } from '../decorations';
import { findRunHit } from '../hover';
import type { Services } from '../services';
import { COMMANDS } from './ids';

export function registerTintAtCursor(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(COMMANDS.tintAtCursor, () => tintAtCursor(s));
}

async function tintAtCursor(s: Services): Promise<TintResult> {
  const editor = vscode.window.activeTextEditor;
  const fail = (message: string): TintResult => {
    void vscode.window.showWarningMessage(message);
    return { ok: false, message };
  };
  if (!editor) return fail('Put the cursor on a token of a range you ran "Show Attention" on.');
  const hit = findRunHit(s.runActions.runs(), editor.document, editor.selection.active);
  if (!hit)
    return fail('The cursor is not on a token of an Attention Lens run: run "Show Attention" on this text first.');
  if (hit.kind === 'stale')
    return fail('The run is out of date: the document changed after it ran. Run "Show Attention" again.');
  const panel = s.runActions.byRunId(hit.run.runId)!.panel;
  const r = await s.runActions.tintToken(panel, hit.index);
  if (!r.ok) return fail(r.message);
  panel.focusToken(hit.index);
  return r;
}
