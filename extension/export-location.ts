// Where a save dialog for an export opens and what it proposes as a file name, for every export of the extension
// (the attention views and data in export.ts, the Explain view in explain-host.ts): the workspace folder of the run's
// document, else that document's folder, else the first workspace folder or the home folder; the model's name made
// safe for a file name.
import * as vscode from 'vscode';
import * as os from 'node:os';
import * as path from 'node:path';

/** The folder a save dialog opens in for a run of the document `sourceUri` (undefined: no document). */
export function defaultExportFolder(sourceUri: string | undefined): vscode.Uri {
  if (sourceUri) {
    const doc = vscode.Uri.parse(sourceUri);
    const folder = vscode.workspace.getWorkspaceFolder(doc);
    if (folder) return folder.uri;
    if (doc.scheme === 'file') return vscode.Uri.file(path.dirname(doc.fsPath));
  }
  return vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
}

/** `s` (a model name) as part of a file name: runs of other characters than letters, digits, - _ . become _. */
export function safeFileName(s: string): string {
  return s.replace(/[^-\w.]+/g, '_').slice(0, 60) || 'model';
}
