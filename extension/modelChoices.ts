// The model manager's decisions, vscode-free so unit tests check them: the entries of the Select Model list (recent
// models with what was learned when they loaded, cached Hub models, a typed Hub id), the default model offered on
// first use, download progress text, and when to release an idle model (idle time, memory pressure).
import { parseHubId } from '../runtime/hub/hub-id';
import { looksLikePath } from '../runtime/models/source-resolver';
import type { ModelFacts } from '../runtime/types';

/** The model fetched on first use when none is configured (asked once): a 6 × 12 BERT, 91 MB. */
export const DEFAULT_MODEL = 'sentence-transformers/all-MiniLM-L6-v2';
export const DEFAULT_MODEL_MB = 91;

/** What a list entry shows about a model: learned at load time, or read from its config.json. */
export interface ModelInfo {
  family?: string;
  modelType?: string;
  layers?: number;
  heads?: number;
  bytes?: number;
}

export interface ModelChoice {
  /** What goes into attentionLens.modelPath: a folder, an .onnx file or a Hub id. */
  value: string;
  label: string;
  description?: string;
  detail?: string;
  source: 'recent' | 'cached' | 'typed';
}

/** Facts worth remembering for the list, from a loaded model. */
export function infoOfFacts(f: ModelFacts, bytes?: number): ModelInfo {
  return { family: f.family, modelType: f.modelType, layers: f.layers, heads: f.heads, bytes };
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(0)} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

/** "bert · 6 × 12 · 91 MB" (what is known of it). */
export function describeInfo(info: ModelInfo | undefined): string {
  if (!info) return '';
  const kind = info.family && info.family !== info.modelType ? `${info.modelType} (${info.family})` : info.modelType;
  const parts = [
    kind,
    info.layers && info.heads ? `${info.layers} × ${info.heads}` : undefined,
    info.bytes ? formatBytes(info.bytes) : undefined,
  ];
  return parts.filter((p) => p).join(' · ');
}

/** The display name of a model reference: a Hub id's name, a folder's or file's base name. */
export function displayName(value: string): string {
  const clean = value.replace(/[\\/]+$/, '');
  const at = clean.lastIndexOf('@');
  const base = (at > 0 && !looksLikePath(clean) ? clean.slice(0, at) : clean).split(/[\\/]/).pop() ?? clean;
  return base || value;
}

/** A typed text as a Hub id choice, or undefined when it is not one. */
export function typedHubChoice(text: string): ModelChoice | undefined {
  const t = text.trim();
  if (!t || looksLikePath(t)) return undefined;
  try {
    parseHubId(t);
  } catch {
    return undefined;
  }
  return { value: t, label: `$(cloud-download) ${t}`, description: 'Hugging Face Hub', source: 'typed' };
}

/** Recent models first (the current one marked), then cached Hub models not already listed. */
export function modelChoices(
  current: string,
  recent: readonly string[],
  info: Readonly<Record<string, ModelInfo>>,
  cached: readonly { id: string; info: ModelInfo }[],
): ModelChoice[] {
  const seen = new Set<string>();
  const out: ModelChoice[] = [];
  for (const value of [current, ...recent]) {
    if (!value || seen.has(value)) continue;
    seen.add(value);
    const about = describeInfo(info[value]);
    out.push({
      value,
      label: displayName(value),
      description: [value === current ? 'current' : undefined, about].filter((x) => x).join(' · ') || undefined,
      detail: value,
      source: 'recent',
    });
  }
  for (const c of cached) {
    if (seen.has(c.id)) continue;
    seen.add(c.id);
    out.push({
      value: c.id,
      label: displayName(c.id),
      description: ['cached', describeInfo(c.info)].filter((x) => x).join(' · '),
      detail: c.id,
      source: 'cached',
    });
  }
  return out;
}

/** "model.safetensors: 12.3 of 90.9 MB at 5.1 MB/s" */
export function downloadMessage(p: { file: string; bytes: number; total: number; bytesPerSecond: number }): string {
  const mb = (n: number) => (n / 1e6).toFixed(1);
  return `downloading ${p.file}: ${mb(p.bytes)} of ${mb(p.total)} MB at ${mb(p.bytesPerSecond)} MB/s`;
}

/** The idle time before a loaded model is released, in ms; undefined for never (0 or an invalid setting). */
export function idleUnloadMs(minutes: unknown): number | undefined {
  return typeof minutes === 'number' && Number.isFinite(minutes) && minutes > 0 ? minutes * 60_000 : undefined;
}

/** True when free memory is low enough that an idle model should be released (under 5 % and under 1 GB). */
export function underMemoryPressure(freeBytes: number, totalBytes: number): boolean {
  return totalBytes > 0 && freeBytes / totalBytes < 0.05 && freeBytes < 1e9;
}
