// The record of finished runs behind the test API (vscode-free so that unit tests can check it).
import type { AttentionLensApi, RunSummary } from './api';

export class RunLog implements AttentionLensApi {
  readonly runs: RunSummary[] = [];
  private lastStarted = 0;
  private error: string | undefined;
  private readonly shown: string[] = [];
  private waiters: { after: number; resolve: (r: RunSummary) => void }[] = [];

  /** A new run id (1, 2, 3...). */
  start(): number {
    return ++this.lastStarted;
  }

  finish(summary: RunSummary): void {
    this.runs.push(summary);
    if (summary.state === 'error' && summary.message) this.error = summary.message;
    const ready = this.waiters.filter((w) => summary.runId > w.after);
    this.waiters = this.waiters.filter((w) => summary.runId <= w.after);
    for (const w of ready) w.resolve(summary);
  }

  /** Records an error shown to the user outside a run (e.g. a failed model load from Select Model). */
  noteError(message: string): void {
    this.error = message;
    this.shown.push(message);
  }

  waitForRun(afterRunId?: number): Promise<RunSummary> {
    const after = afterRunId ?? Math.max(0, this.lastStarted - 1);
    const found = this.runs.find((r) => r.runId > after);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ after, resolve }));
  }

  lastError(): string | undefined {
    return this.error;
  }

  /** The API object handed to other extensions/tests (methods bound, runs live). */
  api(): AttentionLensApi {
    return {
      runs: this.runs,
      waitForRun: (a) => this.waitForRun(a),
      lastError: () => this.lastError(),
      messages: () => this.shown,
    };
  }
}
