// What Restricted Mode (a workspace the user has not trusted) keeps from the workspace: its attentionLens.modelPath
// is not loaded (package.json lists it in restrictedConfigurations, and readModelSettings reads the user's value
// there). VS Code then hides the workspace's value from the extension altogether, so to tell the user why their
// workspace's model did not run, its settings files are read here (the folders' .vscode/settings.json and the
// .code-workspace file) — read only, never run.
import * as vscode from 'vscode';
import { settingInFile } from './trust-logic';

const MODEL_SETTING = 'attentionLens.modelPath';

/** In Restricted Mode, the model the workspace's settings name (and that is not used); undefined otherwise. */
export async function restrictedModelPath(): Promise<string | undefined> {
  if (vscode.workspace.isTrusted) return undefined;
  const files: { uri: vscode.Uri; nested: boolean }[] = [];
  const workspaceFile = vscode.workspace.workspaceFile;
  if (workspaceFile && workspaceFile.scheme !== 'untitled') files.push({ uri: workspaceFile, nested: true });
  for (const folder of vscode.workspace.workspaceFolders ?? [])
    files.push({ uri: vscode.Uri.joinPath(folder.uri, '.vscode', 'settings.json'), nested: false });
  for (const f of files) {
    let text: string;
    try {
      text = new TextDecoder().decode(await vscode.workspace.fs.readFile(f.uri));
    } catch {
      continue;
    }
    const value = settingInFile(text, MODEL_SETTING, f.nested);
    if (value) return value;
  }
  return undefined;
}
