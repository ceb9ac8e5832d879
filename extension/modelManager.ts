// Keeps one Inspector loaded between runs. The first use (or a change of modelPath/backend/threads) loads it with
// progress in a cancellable notification; concurrent callers share one load; cancelling or a settings change while
// loading aborts the load (the notification always closes, even if the runtime were slow to honour the abort).
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { Inspector } from '../runtime/inspector/api';
import type { BackendName } from '../runtime/types';
import { cancelled } from '../runtime/errors';
import { load } from '../runtime/inspector/index';

export interface ModelSettings {
  modelPath: string;
  backend: BackendName | 'auto';
  threads: number;
}

export type Loader = typeof load;

const PHASES: Record<string, string> = {
  'reading-config': 'reading config.json',
  'reading-weights': 'reading the weights',
  'building-graphs': 'building the attention graphs',
  'creating-sessions': 'creating inference sessions',
  ready: 'ready',
};

export function readModelSettings(): ModelSettings {
  const c = vscode.workspace.getConfiguration('attentionLens');
  const backend = c.get<string>('backend', 'auto');
  const threads = c.get<number>('threads', 0);
  return {
    modelPath: (c.get<string>('modelPath', '') ?? '').trim(),
    backend: backend === 'native' || backend === 'wasm' ? backend : 'auto',
    threads: Number.isInteger(threads) && threads > 0 ? Math.min(threads, 64) : 0,
  };
}

function keyOf(s: ModelSettings): string {
  return JSON.stringify([s.modelPath, s.backend, s.threads]);
}

export class ModelManager implements vscode.Disposable {
  private inspector: Inspector | undefined;
  private key = '';
  private loading: { key: string; name: string; promise: Promise<Inspector>; abort: AbortController } | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the model starts/stops loading, loads, or is unloaded. */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly log: vscode.OutputChannel,
    private readonly loader: Loader = load,
  ) {}

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
    if (this.inspector && this.key === key) return this.inspector;
    if (this.loading?.key === key) return this.loading.promise;
    await this.unload();
    return this.startLoad(settings, key);
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
    if (old) {
      this.log.appendLine(`Unloading ${old.facts.name}.`);
      this.changed.fire();
      await old.dispose().catch((e: unknown) => this.log.appendLine(`Unloading failed: ${String(e)}`));
    }
  }

  private startLoad(s: ModelSettings, key: string): Promise<Inspector> {
    const abort = new AbortController();
    const name = path.basename(s.modelPath);
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
          const loading = this.loader(s.modelPath, {
            backend: s.backend,
            threads: s.threads > 0 ? s.threads : undefined,
            signal: abort.signal,
            onProgress: (p) => {
              const fraction =
                typeof p.fraction === 'number' && p.fraction >= 0 && p.fraction <= 1 ? p.fraction : undefined;
              const increment = fraction !== undefined && fraction * 100 > done ? fraction * 100 - done : undefined;
              if (increment !== undefined) done += increment;
              progress.report({ message: PHASES[p.phase] ?? p.phase, increment });
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
        this.inspector = insp;
        this.key = key;
        this.log.appendLine(
          `Loaded ${insp.facts.name}: ${insp.facts.modelType}, ${insp.facts.layers} layers × ${insp.facts.heads} heads, backend ${insp.backend}, ${insp.threads} threads, ${Math.round(insp.loadMs || Date.now() - t0)} ms.`,
        );
        this.changed.fire();
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
  }
}
