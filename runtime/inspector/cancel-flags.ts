// Cancellation that reaches a busy inference worker without it yielding. onnxruntime-node blocks the worker's
// thread for each stage, so a 'cancel' message is only seen if the worker turns its event loop between stages
// (setImmediate), which costs 0.5–1 ms per stage on a 2-core machine — more than the whole attention output of a
// small model. Instead the calling thread marks the run in shared memory and the worker reads the mark between
// stages. Where SharedArrayBuffer is missing (a webview, not cross-origin isolated) the worker keeps yielding.

/** Slots for run ids; two live runs 64 ids apart never coexist (runs execute one at a time, in order). */
const SLOTS = 64;

export class CancelFlags {
  private readonly slots: Int32Array; // [SLOTS]: the id of the last run cancelled in each slot

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT)) {
    if (buffer.byteLength < SLOTS * Int32Array.BYTES_PER_ELEMENT)
      throw new RangeError(`CancelFlags needs ${SLOTS * Int32Array.BYTES_PER_ELEMENT} bytes.`);
    this.slots = new Int32Array(buffer, 0, SLOTS);
  }

  /** Marks run `runId` (a positive integer) as cancelled. */
  mark(runId: number): void {
    Atomics.store(this.slots, runId % SLOTS, runId);
  }

  /** True once `mark(runId)` has been called, on any thread that shares the buffer. */
  isMarked(runId: number): boolean {
    return Atomics.load(this.slots, runId % SLOTS) === runId;
  }
}

/** Flags over a fresh shared buffer, or undefined where SharedArrayBuffer does not exist. */
export function sharedCancelFlags(): CancelFlags | undefined {
  return typeof SharedArrayBuffer === 'function' ? new CancelFlags() : undefined;
}
