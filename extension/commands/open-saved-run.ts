// Attention Lens: Open Saved Run… — opens a run exported as JSON (Export… → JSON) in the panel again, every view drawn
// from the file, without the model (so without hover, neuron view or Explain): a colleague sees what you saw. Also
// what a file dropped onto the panel does. The file is checked whole first (saved-run.ts): a bad one gives one line.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeError } from '../input';
import type { AttentionPanel } from '../panel';
import { parseSavedRun, type SavedRun } from '../saved-run';
import type { Services } from '../services';
import { toUri } from '../export';
import { COMMANDS } from './ids';

/** The largest saved run read (it is read whole, then held as float32). */
export const SAVED_RUN_LIMIT = 1 << 30;

export interface OpenOutcome {
  ok: boolean;
  message: string;
  runId?: number;
}

export function registerOpenSavedRun(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(COMMANDS.openSavedRun, (arg?: unknown) => openSavedRun(s, arg));
}

/** A file dropped onto `panel` (the webview's checked `openDropped`): its URI (a vscode-remote: one names a path on
 * this machine, where the extension runs), or its text when the drop gave no URI. */
export async function openDroppedRun(
  s: Services,
  panel: AttentionPanel,
  dropped: { uri?: string; text?: string; name?: string },
): Promise<OpenOutcome> {
  if (dropped.uri !== undefined) {
    const u = vscode.Uri.parse(dropped.uri, true);
    return openSavedRun(s, u.scheme === 'file' ? u : vscode.Uri.file(u.path), panel);
  }
  const name = dropped.name || 'the dropped file';
  try {
    return show(s, parseSavedRun(dropped.text ?? '', name), name, panel);
  } catch (e) {
    const message = describeError(e).message;
    s.notifier.notify(message, [], 'error');
    return { ok: false, message };
  }
}

/** Opens `arg` (a URI or a path; without it, a file picked in the open dialog) in `panel` or the panel a run goes to. */
export async function openSavedRun(s: Services, arg?: unknown, panel?: AttentionPanel): Promise<OpenOutcome> {
  let uri: vscode.Uri | undefined;
  if (arg instanceof vscode.Uri || (typeof arg === 'string' && arg)) uri = toUri(arg);
  else {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel: 'Open Run',
      filters: { 'Attention Lens run (JSON)': ['json'] },
    });
    uri = picked?.[0];
    if (!uri) return { ok: false, message: 'No file was chosen.' };
  }
  const name = path.basename(uri.path);
  const fail = (message: string): OpenOutcome => {
    s.notifier.notify(message, [], 'error');
    return { ok: false, message };
  };
  let saved;
  try {
    const stat = await vscode.workspace.fs.stat(uri);
    if (stat.type & vscode.FileType.Directory) return fail(`${name} is a folder: open a run exported as JSON.`);
    if (stat.size > SAVED_RUN_LIMIT)
      return fail(`${name} is ${(stat.size / 2 ** 30).toFixed(1)} GiB; a saved run is read whole: at most 1 GiB.`);
    const bytes = await vscode.workspace.fs.readFile(uri);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return fail(`${name} is not UTF-8 text: open a run exported as JSON (an .npy file holds no tokens).`);
    }
    saved = parseSavedRun(text, name);
  } catch (e) {
    if (e instanceof vscode.FileSystemError) return fail(`${name} cannot be read (${e.code}): ${e.message}`);
    return fail(describeError(e).message);
  }
  return show(s, saved, name, panel);
}

function show(s: Services, saved: SavedRun, name: string, panel?: AttentionPanel): OpenOutcome {
  const target = panel && !panel.isDisposed ? panel : s.panels.forRun();
  const runId = s.runLog.start();
  target.showSaved(saved, runId, name);
  s.runLog.finish({
    runId,
    state: 'done',
    layers: saved.layers.map((l) => l.layer),
    heads: saved.facts.heads,
    tokens: saved.tokens.map(({ text, start, end }) => ({ text, start, end })),
  });
  const message = `Opened ${name} (${saved.facts.name}, ${saved.tokens.length} tokens, ${saved.layers.length} layers).`;
  s.log.appendLine(message);
  return { ok: true, message, runId };
}
