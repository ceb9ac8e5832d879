// The model manager's decisions, vscode-free so unit tests check them: the entries of the Select Model list (recent
// models with what was learned when they loaded, cached Hub models, Ollama's and LM Studio's GGUF models, a typed
// Hub id), the default model offered on
// first use, download progress text, and when to release an idle model (idle time, memory pressure: ReleaseSchedule).
import { formatHubId, isUrlLike, parseHubId } from '../runtime/hub/hub-id';
import { partOf, rate } from '../runtime/hub/hub-errors';
import type { LocalModel } from '../runtime/models/local-models';
import { looksLikePath } from '../runtime/models/source-resolver';
import type { ModelFacts } from '../runtime/types';
import { escapeIcons } from './icon-text';

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
  source: 'recent' | 'cached' | 'typed' | 'ollama' | 'lmstudio';
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

/** A typed text as a Hub id choice (a model's page URL as its id), or undefined when it is not one. */
export function typedHubChoice(text: string): ModelChoice | undefined {
  let t = text.trim();
  if (!t || (!isUrlLike(t) && looksLikePath(t))) return undefined;
  try {
    t = formatHubId(parseHubId(t));
  } catch {
    return undefined;
  }
  return { value: t, label: `$(cloud-download) ${escapeIcons(t)}`, description: 'Hugging Face Hub', source: 'typed' };
}

/** `known` with the gaps filled from `extra` (an undefined field never hides a known one). */
export function mergeInfo(known: ModelInfo | undefined, extra: ModelInfo | undefined): ModelInfo | undefined {
  if (!known || !extra) return known ?? extra;
  const out: ModelInfo = { ...extra };
  for (const [k, v] of Object.entries(known) as [keyof ModelInfo, ModelInfo[keyof ModelInfo]][])
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** "Ollama · llama · Q4_K_M · 98 MB", or why it cannot run ("Ollama · not supported: architecture mamba ..."). */
export function describeLocal(m: LocalModel): string {
  const app = m.source === 'ollama' ? 'Ollama' : 'LM Studio';
  const what = m.supported
    ? [m.architecture, m.quantisation, formatBytes(m.bytes)]
    : [`not supported: ${m.note ?? 'unknown format'}`, m.quantisation, formatBytes(m.bytes)];
  return [app, ...what].filter((x) => x).join(' · ');
}

/** Recent models first (the current one marked), then cached Hub models and Ollama's and LM Studio's models not
 * already listed (supported ones first). A recent model that is also cached shows what the cache knows (its size)
 * where the recorded facts say nothing. */
export function modelChoices(
  current: string,
  recent: readonly string[],
  info: Readonly<Record<string, ModelInfo>>,
  cached: readonly { id: string; info: ModelInfo }[],
  local: readonly LocalModel[] = [],
): ModelChoice[] {
  const seen = new Set<string>();
  const out: ModelChoice[] = [];
  const cachedInfo = new Map(cached.map((c) => [c.id, c.info]));
  for (const value of [current, ...recent]) {
    if (!value || seen.has(value)) continue;
    seen.add(value);
    const about = describeInfo(mergeInfo(info[value], cachedInfo.get(value)));
    out.push({
      value,
      label: escapeIcons(displayName(value)),
      description:
        escapeIcons([value === current ? 'current' : undefined, about].filter((x) => x).join(' · ')) || undefined,
      detail: escapeIcons(value),
      source: 'recent',
    });
  }
  for (const c of cached) {
    if (seen.has(c.id)) continue;
    seen.add(c.id);
    out.push({
      value: c.id,
      label: escapeIcons(displayName(c.id)),
      description: escapeIcons(['cached', describeInfo(c.info)].filter((x) => x).join(' · ')),
      detail: escapeIcons(c.id),
      source: 'cached',
    });
  }
  for (const m of [...local.filter((x) => x.supported), ...local.filter((x) => !x.supported)]) {
    if (seen.has(m.id)) continue;
    seen.add(m.id);
    out.push({
      value: m.id,
      label: `${m.source === 'ollama' ? '$(server-process)' : '$(file-binary)'} ${escapeIcons(m.label)}`,
      description: escapeIcons(describeLocal(m)),
      detail: escapeIcons(m.file),
      source: m.source,
    });
  }
  return out;
}

/** "model.safetensors: 12.3 of 90.9 MB at 5.1 MB/s" */
export function downloadMessage(p: {
  file: string;
  bytes: number;
  total: number;
  bytesPerSecond: number;
  waitingFor?: { pid: number };
}): string {
  if (p.waitingFor) return `downloading ${p.file}: waiting for another download of it (process ${p.waitingFor.pid})`;
  const speed = p.bytes < p.total && p.bytesPerSecond > 0 ? ` at ${rate(p.bytesPerSecond)}` : '';
  return `downloading ${p.file}: ${partOf(p.bytes, p.total)}${speed}`;
}

/** The panel's line while a run's model loads: "Loading all-MiniLM-L6-v2… (downloading 12.3 of 91.2 MB)". */
export function loadingLine(name: string, detail?: string): string {
  return `Loading ${name}…${detail ? ` (${detail})` : ''}`;
}

/** "downloading 12.3 of 91.2 MB": every file of the download together. */
export function downloadDetail(p: { overallBytes: number; overallTotal: number }): string {
  return `downloading ${partOf(p.overallBytes, p.overallTotal)}`;
}

/** The idle time before a loaded model is released, in ms; undefined for never (0 or an invalid setting). */
export function idleUnloadMs(minutes: unknown): number | undefined {
  return typeof minutes === 'number' && Number.isFinite(minutes) && minutes > 0 ? minutes * 60_000 : undefined;
}

/** "15 idle minutes", "30 idle seconds" (the release message). */
export function idleText(ms: number): string {
  if (ms >= 60_000) {
    const m = Math.round(ms / 60_000);
    return `${m} idle minute${m === 1 ? '' : 's'}`;
  }
  const s = Math.max(1, Math.round(ms / 1000));
  return `${s} idle second${s === 1 ? '' : 's'}`;
}

/** True when free memory is low enough that an idle model should be released (under 5 % and under 1 GB). */
export function underMemoryPressure(freeBytes: number, totalBytes: number): boolean {
  return totalBytes > 0 && freeBytes / totalBytes < 0.05 && freeBytes < 1e9;
}

/** The timers the release schedule uses (Node's, unref'd, by default; tests pass a fake clock). */
export interface ScheduleTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const nodeTimers: ScheduleTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout | undefined),
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout | undefined),
};

export interface ReleaseScheduleOptions {
  /** Releases the model; `why` completes "Releasing NAME …". */
  release(why: string): void;
  /** Free and total system memory in bytes (os.freemem(), os.totalmem()). */
  memory(): { free: number; total: number };
  /** Idle time before a release (idleUnloadMs); undefined = never. */
  idleMs?: number;
  /** How often memory is checked while a model is loaded (default 30 s). */
  memoryCheckMs?: number;
  timers?: ScheduleTimers;
}

/**
 * When a loaded model is released: after `idleMs` without use, or at a periodic memory check that finds the system
 * under memory pressure — never while work is in progress (begin()/end()), and only while a model is loaded.
 */
export class ReleaseSchedule {
  private isLoaded = false;
  private busy = 0;
  private idleTimer: unknown;
  private memoryTimer: unknown;
  private idleMs: number | undefined;
  private readonly timers: ScheduleTimers;

  constructor(private readonly options: ReleaseScheduleOptions) {
    this.idleMs = options.idleMs;
    this.timers = options.timers ?? nodeTimers;
  }

  get inUse(): boolean {
    return this.busy > 0;
  }

  /** A model is now loaded: watch memory and start the idle time. */
  loaded(): void {
    this.isLoaded = true;
    this.timers.clearInterval(this.memoryTimer);
    this.memoryTimer = this.timers.setInterval(() => this.checkMemory(), this.options.memoryCheckMs ?? 30_000);
    this.touch();
  }

  /** The model is gone: no timers left. */
  unloaded(): void {
    this.isLoaded = false;
    this.timers.clearTimeout(this.idleTimer);
    this.timers.clearInterval(this.memoryTimer);
    this.idleTimer = this.memoryTimer = undefined;
  }

  setIdleMs(ms: number | undefined): void {
    this.idleMs = ms;
    this.touch();
  }

  /** Work on the model starts: it is not released until end(). */
  begin(): void {
    this.busy++;
    this.timers.clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  /** Work ends: the idle time starts again once nothing is in progress. */
  end(): void {
    this.busy = Math.max(0, this.busy - 1);
    this.touch();
  }

  /** A use (the model was asked for): restarts the idle time. */
  touch(): void {
    this.timers.clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (!this.isLoaded || this.busy > 0 || this.idleMs === undefined) return;
    const ms = this.idleMs;
    this.idleTimer = this.timers.setTimeout(() => {
      this.idleTimer = undefined;
      if (this.isLoaded && this.busy === 0) this.options.release(`after ${idleText(ms)}`);
    }, ms);
  }

  /** Checks memory now; releases an idle loaded model under pressure. Returns true when it asked for a release. */
  checkMemory(): boolean {
    if (!this.isLoaded || this.busy > 0) return false;
    const { free, total } = this.options.memory();
    if (!underMemoryPressure(free, total)) return false;
    this.options.release(
      `because free memory is low (${Math.round(free / 1e6)} MB of ${Math.round(total / 1e6)} MB free)`,
    );
    return true;
  }
}
