// Keeps one Inspector loaded between runs. The first use (or a change of modelPath/backend/threads) loads it with
// progress in a cancellable notification — for a Hub id first the download, with bytes and speed; concurrent callers
// share one load; cancelling or a settings change while loading aborts the load (the notification always closes,
// even if the runtime were slow to honour the abort). An idle model is released after attentionLens.idleUnloadMinutes
// or when free memory runs low; a run in progress (track()) keeps it loaded. onDidProgress tells the panel waiting on a
// load what it is doing ("downloading 12.3 of 91.2 MB", a phase).
import * as vscode from 'vscode';
import * as os from 'node:os';
import type { Inspector } from '../runtime/inspector/api';
import type { BackendName } from '../runtime/types';
import { cancelled } from '../runtime/errors';
import type { TokenFor } from '../runtime/hub/download';
import { load } from '../runtime/inspector/load-model';
import { userValue } from './trust-logic';
import { checkedValue } from './settings';
import { holdOn } from './model-hold';
import { unreadModelPath } from './model-path-logic';
import { userSettingsFile, userSettingsText } from './user-settings-file';
import {
  displayName,
  downloadDetail,
  downloadMessage,
  idleUnloadMs,
  ReleaseSchedule,
  type ScheduleTimers,
} from './model-choices';

export interface ModelSettings {
  /** A model folder, an .onnx file or a Hugging Face Hub id. */
  modelPath: string;
  backend: BackendName | 'auto';
  threads: number;
  /** attentionLens.hubEndpoint from the user's settings only ('' = HF_ENDPOINT, else https://huggingface.co). */
  hubEndpoint?: string;
  /** Set when modelPath comes from the User settings file, which this (remote) window ignores: its path. */
  unreadFrom?: string;
}

/** What attentionLens.hubEndpoint is called in messages. */
const ENDPOINT_SETTING = 'the attentionLens.hubEndpoint setting';

export interface ModelManagerOptions {
  /** The token a download may send to an endpoint, asked when the Hub is contacted (hub-token.ts); without it
   * HF_TOKEN / the huggingface-cli login file, over https or to this machine only. */
  hubToken?: TokenFor;
  /** Minutes idle before the model is released; 0 = never. */
  idleMinutes?: number;
  /** How often free memory is checked while a model is loaded (ms). */
  memoryCheckMs?: number;
  /** Free and total memory (default os.freemem(), os.totalmem()). */
  memory?: () => { free: number; total: number };
  timers?: ScheduleTimers;
}

export type Loader = typeof load;

const PHASES: Record<string, string> = {
  'reading-config': 'reading config.json',
  'reading-weights': 'reading the weights',
  'building-graphs': 'building the attention graphs',
  'creating-sessions': 'creating inference sessions',
  downloading: 'downloading',
  ready: 'ready',
};

/**
 * The model settings. attentionLens.hubEndpoint is read from the user's settings only (a workspace's endpoint would
 * receive the token), and in Restricted Mode (an untrusted workspace) so is attentionLens.modelPath: a repository the
 * user opens does not choose what is loaded and run until the user trusts it (restricted-mode.ts says what it asked
 * for). A model path the window ignores in the User settings (a remote window) is read from the User settings file
 * (model-path-logic.ts): the run, the status bar and the settings watcher all read this one function.
 */
export function readModelSettings(): ModelSettings {
  const c = vscode.workspace.getConfiguration('attentionLens');
  const backend = checkedValue<string>('backend', c.get<unknown>('backend'));
  const threads = checkedValue<number>('threads', c.get<unknown>('threads'));
  const values = c.inspect<string>('modelPath');
  let modelPath = vscode.workspace.isTrusted
    ? checkedValue<string>('modelPath', c.get<unknown>('modelPath')).trim()
    : userValue(values);
  // A remote window may ignore the User settings' value (model-path-logic.ts): the user's own file still names it.
  const unread = modelPath ? undefined : unreadModelPath(values, userSettingsText());
  if (unread) modelPath = unread;
  return {
    modelPath,
    ...(unread ? { unreadFrom: userSettingsFile() } : {}),
    backend: backend === 'native' || backend === 'wasm' || backend === 'webgpu' ? backend : 'auto',
    threads: Number.isInteger(threads) && threads > 0 ? Math.min(threads, 64) : 0,
    hubEndpoint: userValue(c.inspect<string>('hubEndpoint')),
  };
}

/** What a load is doing, for the panel waiting on it: `detail` is "downloading 12.3 of 91.2 MB" or a phase. */
export interface LoadProgress {
  /** modelKey() of the settings being loaded. */
  key: string;
  name: string;
  detail: string;
}

/** Identifies a load: the model, the backend and the threads. */
export function modelKey(s: ModelSettings): string {
  return keyOf(s);
}

function keyOf(s: ModelSettings): string {
  return JSON.stringify([s.modelPath, s.backend, s.threads]);
}

/** True when both settings load the same model the same way (model, backend, threads). */
export function sameModel(a: ModelSettings, b: ModelSettings): boolean {
  return keyOf(a) === keyOf(b);
}

export class ModelManager implements vscode.Disposable {
  private inspector: Inspector | undefined;
  private key = '';
  private loading: { key: string; name: string; promise: Promise<Inspector>; abort: AbortController } | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the model starts/stops loading, loads, or is unloaded. */
  readonly onDidChange = this.changed.event;
  private readonly progressed = new vscode.EventEmitter<LoadProgress>();
  /** Fires as a load downloads and goes through its phases. */
  readonly onDidProgress = this.progressed.event;

  private readonly schedule: ReleaseSchedule;

  constructor(
    private readonly log: vscode.OutputChannel,
    private readonly loader: Loader = load,
    private readonly options: ModelManagerOptions = {},
  ) {
    this.schedule = new ReleaseSchedule({
      idleMs: idleUnloadMs(options.idleMinutes ?? 15),
      memoryCheckMs: options.memoryCheckMs,
      memory: options.memory ?? (() => ({ free: os.freemem(), total: os.totalmem() })),
      timers: options.timers,
      release: (why) => void this.release(why),
    });
  }

  /** Changes the idle time (attentionLens.idleUnloadMinutes); 0 = never release. */
  setIdleMinutes(minutes: number): void {
    this.schedule.setIdleMs(idleUnloadMs(minutes));
  }

  /** Keeps the model loaded while `work` runs (a run, an analysis), then restarts the idle timer. */
  track<T>(work: Promise<T>): Promise<T> {
    return holdOn(this.schedule)(() => work);
  }

  /** Releases an idle model (idle timer, memory pressure); a model in use is kept. */
  private async release(why: string): Promise<void> {
    if (!this.inspector || this.schedule.inUse || this.loading) return;
    this.log.appendLine(`Releasing ${this.inspector.facts.name} ${why}; it loads again on the next run.`);
    await this.unload();
  }

  get current(): Inspector | undefined {
    return this.inspector;
  }
  get isLoading(): boolean {
    return this.loading !== undefined;
  }
  get loadingName(): string | undefined {
    return this.loading?.name;
  }

  /** The loaded model for the current settings, loading it if needed. Rejects with LensError (CANCELLED too). */
  async get(settings: ModelSettings = readModelSettings()): Promise<Inspector> {
    const key = keyOf(settings);
    if (this.inspector && this.key === key) {
      this.schedule.touch();
      return this.inspector;
    }
    if (this.loading?.key === key) return this.loading.promise;
    await this.unload();
    // Another caller may have started this load while the old model was being disposed: share it.
    if (this.inspector && this.key === key) return this.inspector;
    if (this.loading?.key === key && !this.loading.abort.signal.aborted) return this.loading.promise;
    return this.startLoad(settings, key);
  }

  /** True when the model these settings name is loaded (a run needs no load). */
  isLoaded(settings: ModelSettings): boolean {
    return this.inspector !== undefined && this.key === keyOf(settings);
  }

  /** True when the loaded model, or the one loading, is the one these settings name. */
  matches(settings: ModelSettings): boolean {
    const key = keyOf(settings);
    return (this.inspector !== undefined && this.key === key) || this.loading?.key === key;
  }

  /** Aborts a load in progress (the Cancel command). Returns true when there was one. */
  cancelLoad(): boolean {
    if (!this.loading) return false;
    this.loading.abort.abort();
    return true;
  }

  /** Disposes the loaded model (settings changed); a load in progress is aborted. */
  async unload(): Promise<void> {
    this.cancelLoad();
    const old = this.inspector;
    this.inspector = undefined;
    this.key = '';
    this.schedule.unloaded();
    if (old) {
      this.log.appendLine(`Unloading ${old.facts.name}.`);
      this.changed.fire();
      await old.dispose().catch((e: unknown) => this.log.appendLine(`Unloading failed: ${String(e)}`));
    }
  }

  private startLoad(s: ModelSettings, key: string): Promise<Inspector> {
    const abort = new AbortController();
    const name = displayName(s.modelPath);
    const t0 = Date.now();
    this.log.appendLine(`Loading ${s.modelPath} (backend ${s.backend}, threads ${s.threads || 'auto'})…`);
    const promise = Promise.resolve(
      vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Attention Lens: loading ${name}`, cancellable: true },
        async (progress, token) => {
          const sub = token.onCancellationRequested(() => abort.abort());
          let done = 0;
          const aborted = new Promise<never>((_, reject) => {
            if (abort.signal.aborted) reject(cancelled());
            abort.signal.addEventListener('abort', () => reject(cancelled()), { once: true });
          });
          let downloaded = 0;
          const loading = this.loader(s.modelPath, {
            backend: s.backend,
            threads: s.threads > 0 ? s.threads : undefined,
            signal: abort.signal,
            // The token is asked for only when the Hub is contacted, and never reaches the log: resolveHubModel
            // redacts it from every message.
            hub: {
              endpoint: s.hubEndpoint || undefined,
              endpointName: ENDPOINT_SETTING,
              ...(this.options.hubToken ? { token: this.options.hubToken } : {}),
            },
            onDownload: (p) => {
              const fraction = p.overallTotal > 0 ? p.overallBytes / p.overallTotal : 0;
              const increment = fraction * 100 > downloaded ? fraction * 100 - downloaded : undefined;
              if (increment !== undefined) downloaded += increment;
              progress.report({ message: downloadMessage(p), increment });
              this.progressed.fire({ key, name, detail: downloadDetail(p) });
            },
            onProgress: (p) => {
              if (p.phase === 'downloading') return;
              if (downloaded > 0 && done === 0) {
                // The download filled the bar; from here the load's phases update only the message.
                done = downloaded;
              }
              const fraction =
                typeof p.fraction === 'number' && p.fraction >= 0 && p.fraction <= 1 ? p.fraction : undefined;
              const increment = fraction !== undefined && fraction * 100 > done ? fraction * 100 - done : undefined;
              if (increment !== undefined) done += increment;
              progress.report({ message: PHASES[p.phase] ?? p.phase, increment });
              if (p.phase !== 'ready') this.progressed.fire({ key, name, detail: PHASES[p.phase] ?? p.phase });
            },
          });
          // A load that finishes after it was abandoned must not leak its worker.
          loading.then(
            (insp) => {
              if (abort.signal.aborted) void insp.dispose();
            },
            () => undefined,
          );
          try {
            return await Promise.race([loading, aborted]);
          } finally {
            sub.dispose();
          }
        },
      ),
    ).then(
      (insp) => {
        if (this.loading?.promise === promise) this.loading = undefined;
        if (abort.signal.aborted) {
          // Cancelled or superseded (another model was chosen) just as it finished: never keep it.
          void insp.dispose().catch(() => undefined);
          this.changed.fire();
          throw cancelled();
        }
        this.inspector = insp;
        this.key = key;
        this.log.appendLine(
          `Loaded ${insp.facts.name}: ${insp.facts.modelType}, ${insp.facts.layers} layers × ${insp.facts.heads} heads, backend ${insp.backend}, ${insp.threads} threads, ${Math.round(insp.loadMs || Date.now() - t0)} ms.`,
        );
        this.changed.fire();
        this.schedule.loaded();
        return insp;
      },
      (e: unknown) => {
        if (this.loading?.promise === promise) this.loading = undefined;
        this.changed.fire();
        throw e;
      },
    );
    this.loading = { key, name, promise, abort };
    this.changed.fire();
    return promise;
  }

  dispose(): void {
    void this.unload();
    this.changed.dispose();
    this.progressed.dispose();
  }
}
