// The run queue of an inference worker (the Node worker thread and the in-browser worker): requests run one at a
// time, in arrival order, once the model has loaded. A request is cancelled by its signal (the channel aborts it when
// the caller cancels) or by shared memory the calling thread writes (seen without a turn of this thread's event loop);
// a cancelled request that has not started never runs, a running one stops at its next stage boundary. No Node
// imports: the webview's worker uses it too.
import { cancelled } from '../errors';
import type { AbortSignalLike } from '../channel/types';

export class RunQueue {
  /** The end of the last request queued (never rejects). */
  private tail: Promise<unknown> = Promise.resolve();
  /** Incremented by stop(): every request queued before it counts as cancelled. */
  private epoch = 0;

  constructor(
    /** The load in progress, if any: requests wait for it. */
    private readonly loading: () => Promise<unknown> | undefined,
  ) {}

  /** Cancel marks the calling thread writes into shared memory, by request id. */
  shared: { isMarked(id: number): boolean } | undefined;

  /**
   * Runs `work` after every request queued before it (and after the load); `isCancelled` says when to stop. Rejects
   * with CANCELLED, without running `work`, when the request is cancelled before its turn.
   */
  run<T>(id: number, signal: AbortSignalLike, work: (isCancelled: () => boolean) => Promise<T>): Promise<T> {
    const epoch = this.epoch;
    const isCancelled = () => signal.aborted || epoch !== this.epoch || this.shared?.isMarked(id) === true;
    const result = this.tail.then(async () => {
      await this.loading()?.catch(() => undefined);
      if (isCancelled()) throw cancelled();
      return work(isCancelled);
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Cancels every queued request and the running one; resolves once it has stopped (and any load has ended). */
  async stop(): Promise<void> {
    this.epoch++;
    await this.loading()?.catch(() => undefined);
    await this.tail;
  }
}
