// Attention Lens: Select Model — the model picker (recent and cached models with what they are, a Hugging Face id, or
// Browse… for a folder or an .onnx file); with a string argument (tests, other extensions) that model directly. The
// choice becomes attentionLens.modelPath and is loaded at once; a run in flight on the old model is cancelled by the
// settings change and runs again on the new one (show-attention.ts).
import * as vscode from 'vscode';
import { pickModel } from '../model-picker';
import { readModelSettings } from '../model-manager';
import type { Services } from '../services';
import { COMMANDS } from './ids';

export function registerSelectModel(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(COMMANDS.selectModel, (arg?: unknown) => selectModel(s, arg));
}

async function selectModel(s: Services, arg?: unknown): Promise<string | undefined> {
  if (typeof arg === 'string' && arg.trim()) {
    await s.recent.choose(arg.trim());
    await s.models.preload();
    return arg.trim();
  }
  const chosen = await pickModel({
    current: readModelSettings().modelPath,
    recent: s.recent.recent(),
    info: s.recent.info(),
  });
  if (!chosen) return undefined;
  await s.recent.choose(chosen);
  void s.models.preload();
  return chosen;
}
