// The Select Model quick pick: recent models and the Hugging Face cache's models with family, layers × heads and
// size, then Ollama's and LM Studio's GGUF models (name:tag, quantisation, size, supported or not); typing
// owner/name offers that Hub id (downloaded on first use); "Browse…" opens a model folder or an .onnx/.gguf file. Returns what goes into attentionLens.modelPath, or undefined when the user backs out.
import * as vscode from 'vscode';
import { hubCacheDir } from '../runtime/hub/cache-layout';
import { SUPPORTED_MODEL_TYPES } from '../runtime/formats/config-normalise';
import { listLocalModels, type LocalModel } from '../runtime/models/local-models';
import { listCachedHubModels, summarizeFolder } from '../runtime/models/source-resolver';
import { DEFAULT_MODEL, DEFAULT_MODEL_MB, modelChoices, typedHubChoice, type ModelInfo } from './model-choices';

export interface PickerInput {
  current: string;
  recent: readonly string[];
  /** What was learned about recent models when they loaded. */
  info: Readonly<Record<string, ModelInfo>>;
}

type Item = vscode.QuickPickItem & { value?: string; browse?: 'folder' | 'onnx' };

function cachedModels(): { id: string; info: ModelInfo }[] {
  try {
    return listCachedHubModels(hubCacheDir()).map((m) => {
      const summary = summarizeFolder(m.dir);
      const family = summary.modelType ? SUPPORTED_MODEL_TYPES[summary.modelType] : undefined;
      return { id: m.id, info: { ...summary, ...(family ? { family } : {}), bytes: m.bytes } };
    });
  } catch {
    return [];
  }
}

function localModels(): LocalModel[] {
  try {
    return listLocalModels();
  } catch {
    return [];
  }
}

async function browse(kind: 'folder' | 'onnx'): Promise<string | undefined> {
  const uris = await vscode.window.showOpenDialog({
    canSelectFolders: kind === 'folder',
    canSelectFiles: kind === 'onnx',
    canSelectMany: false,
    filters: kind === 'onnx' ? { 'ONNX and GGUF models': ['onnx', 'gguf'] } : undefined,
    openLabel: 'Use This Model',
    title: kind === 'folder' ? 'Select a model folder' : 'Select an ONNX or GGUF model file',
  });
  return uris?.[0]?.fsPath;
}

export async function pickModel(input: PickerInput): Promise<string | undefined> {
  const choices = modelChoices(input.current, input.recent, input.info, cachedModels(), localModels());
  const fixed: Item[] = choices.map((c) => ({
    label: c.label,
    description: c.description,
    detail: c.detail,
    value: c.value,
  }));
  if (!choices.some((c) => c.value === DEFAULT_MODEL)) {
    fixed.push({
      label: `$(cloud-download) ${DEFAULT_MODEL}`,
      description: `Hugging Face Hub · bert · 6 × 12 · ${DEFAULT_MODEL_MB} MB`,
      value: DEFAULT_MODEL,
    });
  }
  fixed.push(
    { label: '', kind: vscode.QuickPickItemKind.Separator },
    { label: '$(folder-opened) Browse for a model folder…', alwaysShow: true, browse: 'folder' },
    { label: '$(file-binary) Browse for an .onnx or .gguf file…', alwaysShow: true, browse: 'onnx' },
  );
  const qp = vscode.window.createQuickPick<Item>();
  qp.title = 'Attention Lens: Select Model';
  qp.placeholder = 'A recent, cached, Ollama or LM Studio model, a Hugging Face id (owner/name[@revision]), or Browse…';
  qp.items = fixed;
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  const picked = await new Promise<Item | undefined>((resolve) => {
    qp.onDidChangeValue((text) => {
      const typed = typedHubChoice(text);
      const exists = typed && fixed.some((i) => i.value === typed.value);
      qp.items =
        typed && !exists
          ? [{ label: typed.label, description: typed.description, value: typed.value, alwaysShow: true }, ...fixed]
          : fixed;
    });
    qp.onDidAccept(() => resolve(qp.selectedItems[0]));
    qp.onDidHide(() => resolve(undefined));
    qp.show();
  });
  qp.dispose();
  if (!picked) return undefined;
  if (picked.browse) return browse(picked.browse);
  return picked.value;
}
