// A model path the window does not read (vscode-free, so that unit tests check it). In a remote window (code-server,
// SSH, WSL, Codespaces) VS Code ignores the User settings' value of a machine-scoped setting — attentionLens.modelPath
// is machine-overridable — and reads the Remote settings instead; it may apply the User value at first and drop it
// after any unrelated settings change (a colour theme), once it knows the setting's scope. The extension then sees
// no model at all, although the user configured one. The User settings file is the user's own (never a workspace's),
// so its value is used rather than offering a download, the user is told where it belongs, and offered a copy there.
import type { SettingValues } from './trust-logic';
import { settingInFile } from './trust-logic';

export const MODEL_PATH_SETTING = 'attentionLens.modelPath';

/**
 * The model path of the User settings file (its text) when VS Code applies no value of the setting in any scope —
 * it ignored the User value (a remote window); undefined when some scope has a value (even '') or the file has none.
 */
export function unreadModelPath(values: SettingValues<unknown> | undefined, userFileText: string | undefined) {
  if (values?.globalValue !== undefined || values?.workspaceValue !== undefined) return undefined;
  if (values?.workspaceFolderValue !== undefined || userFileText === undefined) return undefined;
  return settingInFile(userFileText, MODEL_PATH_SETTING);
}

/** What the user is told (once per value and session) when a run uses a model path the window does not read. */
export function unreadModelPathLine(name: string, remoteName: string | undefined): string {
  const where = remoteName ? `this remote window (${remoteName})` : 'this window';
  return (
    `attentionLens.modelPath (${name}) is in your User settings, which ${where} ignores for this machine setting ` +
    '(the Settings UI’s Remote tab shows it empty). Attention Lens uses it anyway; Copy to Remote Settings so that ' +
    'VS Code reads it too.'
  );
}

/** The status bar tooltip's note for the same case. */
export const UNREAD_STATUS_NOTE =
  'Read from your User settings, which this remote window ignores for attentionLens.modelPath: ' +
  'run "Attention Lens: Copy Model Path to Remote Settings".';
