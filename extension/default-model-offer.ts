// First use with no model configured: Show Attention offers to download the default model (all-MiniLM-L6-v2), once.
// Any answer, closing the notification included, is remembered; Select Model lists the default model anyway.
import * as vscode from 'vscode';
import { DEFAULT_MODEL, DEFAULT_MODEL_MB, displayName } from './model-choices';
import type { RecentModels } from './recent-models';
import { COMMANDS } from './commands/ids';

/** Set once the user answered the first-use offer of the default model. */
const DEFAULT_ASKED_KEY = 'attentionLens.defaultModelOffered';

/** Asks once; returns the default model when accepted (it is then the configured model). */
export async function offerDefaultModel(
  state: vscode.Memento,
  recent: RecentModels,
  log: vscode.OutputChannel,
): Promise<string | undefined> {
  if (state.get<boolean>(DEFAULT_ASKED_KEY, false)) return undefined;
  const download = `Download ${displayName(DEFAULT_MODEL)}`;
  const choice = await vscode.window.showInformationMessage(
    `Attention Lens needs a model. Download ${DEFAULT_MODEL} (a 6-layer × 12-head BERT, ${DEFAULT_MODEL_MB} MB) from ` +
      'the Hugging Face Hub now, or select one you have?',
    download,
    'Select Model…',
    'Not Now',
  );
  await state.update(DEFAULT_ASKED_KEY, true);
  if (choice !== download) {
    log.appendLine(`The default model was not downloaded (${choice ?? 'the question was closed'}).`);
    if (choice === 'Select Model…') void vscode.commands.executeCommand(COMMANDS.selectModel);
    return undefined;
  }
  await recent.choose(DEFAULT_MODEL);
  return DEFAULT_MODEL;
}
