// Writes an export to the file the user chose through the one atomic writer the CLI uses too
// (runtime/files/output-target.ts plans it, output-file.ts writes it): never over one of the model's own files or the
// document the run read, never a folder or special file; bytes go to a temporary file beside the target, renamed into
// place when complete, so that a failure or a cancel leaves whatever was there as it was and nothing else is removed.
// vscode-free, so that unit tests check it on real files.
import * as path from 'node:path';
import { inputFile, modelFiles } from '../runtime/files/model-files';
import { OutputFile } from '../runtime/files/output-file';
import { planOutput, type ProtectedPath } from '../runtime/files/output-target';
import type { ByteSink } from '../writers/attention-data';

/** What an export of a run must never replace. */
export interface ExportSources {
  /** The document the run read (a file path; undefined for unsaved documents and text given directly). */
  documentPath?: string;
  /** The model as the user named it (folder, file or Hub id) and the folder it was loaded from. */
  modelPath?: string;
  modelDir?: string;
}

/** The URI schemes whose fsPath is the file on this machine behind the document: a file, and a notebook cell (its
 *  fsPath is the notebook's .ipynb). */
const FILE_BACKED_SCHEMES: readonly string[] = ['file', 'vscode-notebook-cell'];

/** The file behind the run's document (ExportSources.documentPath), or undefined when there is none on this machine
 *  (an unsaved document, an untitled notebook's cell, another scheme). `uri` is a vscode.Uri or its parts. */
export function documentPathOf(uri: { scheme: string; fsPath: string }): string | undefined {
  return FILE_BACKED_SCHEMES.includes(uri.scheme) && path.isAbsolute(uri.fsPath) ? uri.fsPath : undefined;
}

/** The files an export of a run may not replace: the model's own (as named and as loaded) and the run's document. */
export function exportProtects(sources: ExportSources): ProtectedPath[] {
  const out: ProtectedPath[] = [];
  if (sources.modelPath) out.push(...modelFiles(sources.modelPath));
  if (sources.modelDir && sources.modelDir !== sources.modelPath) out.push(...modelFiles(sources.modelDir));
  if (sources.documentPath) out.push({ ...inputFile(sources.documentPath, ''), role: 'the document the run read' });
  return out;
}

/**
 * Runs `produce` into the file `target`; returns the bytes written. Refuses a protected or special target before any
 * work, and throws a one-line LensError (BAD_INPUT) when the write fails — the target then keeps what it had.
 */
export async function writeExportFile(
  target: string,
  protect: readonly ProtectedPath[],
  produce: (sink: ByteSink) => Promise<void>,
): Promise<number> {
  const file = await OutputFile.open(planOutput(target, protect, ''));
  try {
    await produce(file);
    await file.commit();
  } catch (e) {
    file.abort();
    throw e;
  }
  return file.bytes;
}
