// Attention Lens: Open Saved Run… — opens a run exported as JSON (Export… → JSON) in the panel again, every view drawn
// from the file, without the model (so without hover, neuron view or Explain): a colleague sees what you saw. Also
// what a file dropped onto the panel does (a JSON run, or an NPY export: either file by URI, or both files). The file is checked whole first (saved-run.ts): a bad one gives one line.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeError } from '../input';
import { LensError } from '../../runtime/errors';
import type { AttentionPanel } from '../panel';
import { parseSavedNpyRun, parseSavedRun, type SavedRun } from '../saved-run';
import { NPY_SIDECAR_FORMAT, npySidecarName } from '../../writers/attention-data';
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
  dropped: { uri?: string; text?: string; name?: string; npy?: ArrayBuffer; npyName?: string },
): Promise<OpenOutcome> {
  if (dropped.uri !== undefined) {
    const u = vscode.Uri.parse(dropped.uri, true);
    return openSavedRun(s, u.scheme === 'file' ? u : vscode.Uri.file(u.path), panel);
  }
  const name = dropped.name || 'the dropped file';
  try {
    if (dropped.npy !== undefined) {
      // An NPY export's array, dropped as a file (no URI, so nothing beside it to look for): its sidecar must come
      // with it.
      const npyName = dropped.npyName || 'the dropped .npy';
      if (dropped.text === undefined)
        throw new LensError(
          'BAD_INPUT',
          `${npyName} was dropped without its sidecar ${npySidecarName(npyName)} (the tokens and layout an .npy cannot hold): drop the two files together.`,
        );
      const saved = parseSavedNpyRun(dropped.text, name, new Uint8Array(dropped.npy), npyName);
      return show(s, saved, npyName, panel);
    }
    const text = dropped.text ?? '';
    const arrayFile = sidecarArray(text);
    if (arrayFile !== undefined)
      throw new LensError(
        'BAD_INPUT',
        `${name} is the sidecar of ${path.basename(arrayFile)}, which was not dropped with it: drop the two files together.`,
      );
    return show(s, parseSavedRun(text, name), name, panel);
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
      filters: { 'Attention Lens run (JSON, or NPY with its .npy.json)': ['json', 'npy'] },
    });
    uri = picked?.[0];
    if (!uri) return { ok: false, message: 'No file was chosen.' };
  }
  const name = path.basename(uri.path);
  let lastFailure = '';
  const fail = (message: string): OpenOutcome => {
    s.notifier.notify(message, [], 'error');
    lastFailure = message;
    return { ok: false, message };
  };
  let saved;
  try {
    const bytes = await readWhole(uri, name, fail);
    if (!bytes) return { ok: false, message: lastFailure };
    if (/\.npy$/i.test(name)) {
      // The array; its tokens and layout are in the sidecar beside it (run.npy.json).
      const sideUri = vscode.Uri.joinPath(uri, '..', npySidecarName(name));
      const sideName = path.basename(sideUri.path);
      if (!(await exists(sideUri)))
        return fail(
          `${name} has no sidecar ${sideName} beside it (the tokens and layout an .npy cannot hold): put the two files together, or open a run exported as JSON.`,
        );
      const side = await readWhole(sideUri, sideName, fail);
      if (!side) return { ok: false, message: lastFailure };
      saved = parseSavedNpyRun(utf8(side, sideName), sideName, bytes, name);
    } else {
      const text = utf8(bytes, name);
      const arrayFile = sidecarArray(text);
      if (arrayFile !== undefined) {
        // A sidecar: open its array, which it names (a file beside it, never a path elsewhere).
        const npyUri = vscode.Uri.joinPath(uri, '..', path.basename(arrayFile));
        const npyName = path.basename(npyUri.path);
        if (!(await exists(npyUri)))
          return fail(`${name} is the sidecar of ${npyName}, which is not beside it: put the two files together.`);
        const npy = await readWhole(npyUri, npyName, fail);
        if (!npy) return { ok: false, message: lastFailure };
        saved = parseSavedNpyRun(text, name, npy, npyName);
      } else saved = parseSavedRun(text, name);
    }
  } catch (e) {
    if (e instanceof vscode.FileSystemError) return fail(`${name} cannot be read (${e.code}): ${e.message}`);
    return fail(describeError(e).message);
  }
  if (uri.scheme === 'file') saved.source.savedFile = uri.fsPath;
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

/** The file's bytes, read whole after its size is checked; undefined (after `fail`) for a folder or a file too big. */
async function readWhole(
  uri: vscode.Uri,
  name: string,
  fail: (message: string) => OpenOutcome,
): Promise<Uint8Array | undefined> {
  const stat = await vscode.workspace.fs.stat(uri);
  if (stat.type & vscode.FileType.Directory) {
    fail(`${name} is a folder: open a run exported as JSON, or an .npy with its sidecar.`);
    return undefined;
  }
  if (stat.size > SAVED_RUN_LIMIT) {
    fail(`${name} is ${(stat.size / 2 ** 30).toFixed(1)} GiB; a saved run is read whole: at most 1 GiB.`);
    return undefined;
  }
  return vscode.workspace.fs.readFile(uri);
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

/** UTF-8 text, or a one-line BAD_INPUT error naming the file. */
function utf8(bytes: Uint8Array, name: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new LensError(
      'BAD_INPUT',
      `${name} is not UTF-8 text: open a run exported as JSON, or an .npy with its sidecar (.npy.json) beside it.`,
    );
  }
}

/** The array file a text names when it is an NPY export's sidecar; undefined for anything else. */
function sidecarArray(text: string): string | undefined {
  if (!text.includes(NPY_SIDECAR_FORMAT)) return undefined;
  try {
    const d = JSON.parse(text) as { format?: unknown; array?: { file?: unknown } };
    return d.format === NPY_SIDECAR_FORMAT && typeof d.array?.file === 'string' && d.array.file
      ? d.array.file
      : undefined;
  } catch {
    return undefined;
  }
}
