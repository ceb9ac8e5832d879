// The one flow of every export of the extension — the attention views and the run's data (export.ts), the Explain
// view's explanation and comparison (explain-host.ts): pick the format → ask where (a save dialog in the run's
// folder, titled with what and how large) → write through the one atomic writer (export-write.ts: never a model's
// file, the run's document or a special file; the target intact on failure) → say where it went, with Open and
// Reveal. Arguments given in advance (scripts, tests) answer the questions: a target skips the dialog and names the
// format by its extension. Every failure is one line, in a notification and in the outcome.
import * as vscode from 'vscode';
import * as path from 'node:path';
import { isLensError } from '../runtime/errors';
import type { ByteSink } from '../writers/attention-data';
import { ExportError } from '../figures/figure-kit';
import { defaultExportFolder } from './export-location';
import { documentPathOf, exportProtects, writeExportFile, type ExportSources } from './export-write';

export type ExportOutcome =
  | {
      ok: true;
      uri: string;
      format: string;
      bytes: number;
      width?: number;
      height?: number;
      notes: string[];
      message: string;
    }
  | { ok: false; cancelled?: boolean; message: string };

/** One format the user may pick. */
export interface FormatChoice<F extends string> extends vscode.QuickPickItem {
  format: F;
  /** The save dialog's filter: name → extensions. */
  filter: Record<string, string[]>;
}

/** An export once its format is known (and any further question, such as the PNG scale, answered). */
export interface PreparedExport {
  /** The file name the save dialog proposes. */
  fileName: string;
  /** The save dialog's title (what, and how large). */
  saveTitle: string;
  /** Writes the content; `signal` aborts it (a cancelled progress notification). */
  produce(sink: ByteSink, control: { signal: AbortSignal; onProgress(fraction: number): void }): Promise<void>;
  /** Set for long writes: the title of a cancellable progress notification. */
  progressTitle?: string;
  /** What the saved message says in parentheses, from the bytes written. */
  details(bytes: number): string;
  notes?: string[];
  /** A second file written beside the export once it is complete, through the same atomic writer (the NPY export's
   *  JSON sidecar): its name and text, from the export's file name. */
  companion?(fileName: string): { name: string; text: string };
  /** More files written beside the export, each through the same atomic writer, after it and before its companion
   *  (an encoder–decoder run's NPY per kind: run.decoder.npy, run.cross.npy). */
  extraFiles?(fileName: string): {
    name: string;
    produce(sink: ByteSink, control: { signal: AbortSignal; onProgress(fraction: number): void }): Promise<void>;
  }[];
  width?: number;
  height?: number;
}

export interface ExportRequest<F extends string> {
  choices: FormatChoice<F>[];
  /** The format question's title and placeholder. */
  pickTitle: string;
  pickPlaceholder: string;
  /** Answers given in advance. */
  format?: F;
  target?: vscode.Uri;
  /** What the run read and ran on: where the dialog opens, and what no export may replace. */
  sources: ExportSources & { documentUri: string };
  /** Asks what else the format needs; undefined when the user cancelled. `asked`: the format was just picked. */
  prepare(format: F, asked: boolean): Promise<PreparedExport | undefined>;
}

/** What a run read and ran on, for ExportRequest.sources. */
export function sourcesOf(run: {
  source: { uri: string; modelPath: string };
  facts: { dir: string };
}): ExportRequest<string>['sources'] {
  const doc = run.source.uri ? documentPathOf(vscode.Uri.parse(run.source.uri)) : undefined;
  return {
    documentUri: run.source.uri,
    ...(doc !== undefined ? { documentPath: doc } : {}),
    modelPath: run.source.modelPath,
    ...(run.facts.dir ? { modelDir: run.facts.dir } : {}),
  };
}

const CANCELLED: ExportOutcome = { ok: false, cancelled: true, message: 'Export cancelled.' };

export async function runExport<F extends string>(
  request: ExportRequest<F>,
  log: (line: string) => void,
): Promise<ExportOutcome> {
  const fail = (message: string, severity: 'warning' | 'error'): ExportOutcome => {
    log(`Export: ${message}`);
    void (severity === 'error' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage)(message);
    return { ok: false, message };
  };
  try {
    // 1. The format.
    let format = request.format;
    if (!format && request.target) {
      const ext = path.extname(request.target.path).slice(1).toLowerCase();
      format = request.choices.find((c) => c.format === ext)?.format;
    }
    const asked = !format;
    if (!format) {
      // ignoreFocusOut, here and in the scale picks: focus that returns late to the panel whose button opened this
      // pick (or as this one closes, to the next) would close it, cancelling the export without a word.
      const pick = await vscode.window.showQuickPick(request.choices, {
        title: request.pickTitle,
        placeHolder: request.pickPlaceholder,
        ignoreFocusOut: true,
      });
      if (!pick) return CANCELLED;
      format = pick.format;
    }
    const prepared = await request.prepare(format, asked);
    if (!prepared) return CANCELLED;

    // 2. Where.
    const target =
      request.target ??
      (await vscode.window.showSaveDialog({
        defaultUri: vscode.Uri.joinPath(defaultExportFolder(request.sources.documentUri), prepared.fileName),
        filters: request.choices.find((c) => c.format === format)!.filter,
        title: prepared.saveTitle,
        saveLabel: 'Export',
      }));
    if (!target) return CANCELLED;
    if (target.scheme !== 'file')
      return fail(
        `Cannot write ${target.toString()}: exports are saved to files on the machine the extension runs on. Choose a folder there; nothing was written.`,
        'error',
      );

    // 3. The one atomic writer.
    const protect = exportProtects(request.sources);
    const dir = path.dirname(target.fsPath);
    const extras = prepared.extraFiles?.(path.basename(target.fsPath)) ?? [];
    const write = (control: { signal: AbortSignal; onProgress(f: number): void }) =>
      writeExportFile(target.fsPath, protect, (sink) => prepared.produce(sink, control)).then(async (main) => {
        let total = main;
        for (const x of extras)
          total += await writeExportFile(path.join(dir, x.name), protect, (sink) => x.produce(sink, control));
        return total;
      });
    const bytes = prepared.progressTitle
      ? await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: prepared.progressTitle, cancellable: true },
          (progress, token) => {
            const abort = new AbortController();
            token.onCancellationRequested(() => abort.abort());
            let last = 0;
            return write({
              signal: abort.signal,
              onProgress: (f) => {
                progress.report({ increment: (f - last) * 100 });
                last = f;
              },
            });
          },
        )
      : await write({ signal: new AbortController().signal, onProgress: () => undefined });

    // 3b. Its companion, beside it (the same writer; a failure leaves the export and says so in one line).
    const file = path.basename(target.fsPath);
    const companion = prepared.companion?.(file);
    if (companion) {
      const bytesOf = new TextEncoder().encode(companion.text);
      await writeExportFile(path.join(path.dirname(target.fsPath), companion.name), protect, async (sink) => {
        await sink.write(bytesOf);
      });
    }

    // 4. Say where it went.
    const notes = [
      ...(extras.length ? [`Beside it: ${extras.map((x) => x.name).join(', ')}.`] : []),
      ...(companion ? [`Its tokens and layout: ${companion.name}.`] : []),
      ...(prepared.notes ?? []),
    ];
    const message = `Saved ${file} (${prepared.details(bytes)}).${notes.length ? ' ' + notes.join(' ') : ''}`;
    log(`Export: ${message} → ${target.fsPath}`);
    void vscode.window.showInformationMessage(message, 'Open', 'Reveal').then((choice) => {
      if (choice === 'Open') void vscode.commands.executeCommand('vscode.open', target);
      else if (choice === 'Reveal') void reveal(target);
    });
    const size = {
      ...(prepared.width !== undefined ? { width: prepared.width } : {}),
      ...(prepared.height !== undefined ? { height: prepared.height } : {}),
    };
    return { ok: true, uri: target.toString(), format, bytes, ...size, notes, message };
  } catch (e) {
    if ((e as Error).name === 'AbortError' || (isLensError(e) && e.code === 'CANCELLED')) return CANCELLED;
    if (e instanceof ExportError) return fail(e.message, 'warning');
    if (isLensError(e)) return fail(e.message, 'error');
    log(`Export failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return fail(`The export failed: ${(e as Error).message ?? String(e)}`, 'error');
  }
}

/** Shows the file in the operating system's file manager, or in the Explorer where there is none (a browser). */
async function reveal(target: vscode.Uri): Promise<void> {
  try {
    await vscode.commands.executeCommand('revealFileInOS', target);
  } catch {
    await vscode.commands.executeCommand('revealInExplorer', target);
  }
}
