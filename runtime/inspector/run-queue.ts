// The run queue of an inference worker (the Node worker thread and the in-browser worker): requests run one at a
// time, in arrival order, once the model has loaded; a cancel drops a queued request or marks the active one, which
// stops at its next stage boundary. No Node imports: the webview's worker uses it too.

export class RunQueue<R extends { runId: number }> {
  private readonly queue: R[] = [];
  private active: number | undefined;
  private readonly cancelled = new Set<number>();
  private pumping = false;
  private pumpDone: Promise<void> | undefined;

  constructor(
    /** Runs one request; the queue waits for it before the next. */
    private readonly execute: (req: R) => Promise<void>,
    /** The load in progress, if any: requests wait for it. */
    private readonly loading: () => Promise<void> | undefined,
  ) {}

  /** Cancel marks the calling thread writes into shared memory (seen without a turn of this thread's loop). */
  shared: { isMarked(runId: number): boolean } | undefined;

  push(req: R): void {
    this.queue.push(req);
    if (!this.pumping) this.pumpDone = this.pump();
  }

  cancel(runId: number): void {
    const i = this.queue.findIndex((r) => r.runId === runId);
    if (i >= 0) this.queue.splice(i, 1);
    else if (this.active === runId) this.cancelled.add(runId);
  }

  isCancelled(runId: number): boolean {
    return this.cancelled.has(runId) || this.shared?.isMarked(runId) === true;
  }

  /** Drops the queued requests, cancels the active one and resolves once it has stopped (and any load has ended). */
  async stop(): Promise<void> {
    this.queue.length = 0;
    if (this.active !== undefined) this.cancelled.add(this.active);
    await this.loading()?.catch(() => undefined);
    await this.pumpDone?.catch(() => undefined);
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      const loading = this.loading();
      if (loading) await loading;
      for (let req = this.queue.shift(); req; req = this.queue.shift()) {
        this.active = req.runId;
        await this.execute(req);
        this.cancelled.delete(req.runId);
        this.active = undefined;
      }
    } finally {
      this.pumping = false;
    }
  }
}
