// The calling thread's side of one run: an AttentionRun whose async iterator yields layers in order as the worker
// posts them, buffers them while the consumer is slower, and settles exactly once (done, failed or cancelled).
import type { AttentionRun, KeptAttention, LayerResult, RunOptions, RunTargetResult } from './api';
import type { KeepRequest, RunTarget, TargetStepPayload } from './worker-protocol';
import type { ModelFacts, RunTimings, Token } from '../types';
import type { Tokenizer } from '../tokenizers/tokenizer';
import { cancelled, LensError } from '../errors';
import { limitLength, tokensOfIds, sourceTokenizer, tokensOfText } from './input';
import { KEPT_TOP_K, keepsRun } from './long-runs';
import { KeptAttentionClient, type AskAttention } from './kept-attention';
import { prepareTarget, targetResult, type PreparedTarget } from './run-target';

type Waiter = { resolve: (r: IteratorResult<LayerResult>) => void; reject: (e: unknown) => void };

export class RunStream implements AttentionRun {
  private readonly buffered: LayerResult[] = [];
  private waiter: Waiter | undefined;
  private finished = false;
  private error: unknown;
  private firstLayerAt: number | undefined;
  private timingsValue: RunTimings | undefined;
  private hidden: Float32Array | undefined;
  /** Set for a kept run (long inputs). */
  kept?: KeptAttention;
  private targetValue: RunTargetResult | undefined;

  constructor(
    readonly id: number,
    readonly tokens: Token[],
    readonly truncatedFrom: number | undefined,
    private readonly startedAt: number,
    private readonly tokenizeMs: number,
    /** Called once when the run settles (done, failed or cancelled). */
    private readonly onSettle: (run: RunStream) => void,
    /** Cancels the run (stops the request, then fails the run with CANCELLED). */
    private readonly cancel: () => void,
  ) {}

  /** True once the run has finished, failed or been cancelled. */
  get settled(): boolean {
    return this.finished || this.error !== undefined;
  }

  timings(): RunTimings | undefined {
    return this.timingsValue;
  }

  lastHidden(): Float32Array | undefined {
    return this.hidden;
  }

  target(): RunTargetResult | undefined {
    return this.targetValue;
  }

  // ---- fed by the inspector

  setTarget(target: RunTargetResult): void {
    if (!this.settled) this.targetValue = target;
  }

  pushLayer(layer: LayerResult): void {
    if (this.settled) return;
    this.firstLayerAt ??= performance.now();
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ value: layer, done: false });
    } else {
      this.buffered.push(layer);
    }
  }

  finish(lastHidden: Float32Array, stageMs: number[]): void {
    if (this.settled) return;
    const now = performance.now();
    this.hidden = lastHidden;
    this.timingsValue = {
      tokenizeMs: this.tokenizeMs,
      firstLayerMs: (this.firstLayerAt ?? now) - this.startedAt,
      totalMs: now - this.startedAt,
      stageMs,
    };
    this.finished = true;
    this.onSettle(this);
    if (this.waiter && this.buffered.length === 0) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ value: undefined, done: true });
    }
  }

  /** Fails the run; buffered layers are dropped (a cancelled or failed run yields nothing more). */
  fail(error: unknown): void {
    if (this.settled) return;
    this.error = error;
    this.buffered.length = 0;
    this.onSettle(this);
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.reject(error);
    }
  }

  // ---- consumed by the caller

  [Symbol.asyncIterator](): AsyncIterator<LayerResult> {
    return {
      next: () => this.next(),
      return: async () => {
        // The consumer stopped early (break, throw): the worker need not finish the run.
        if (!this.settled) this.cancel();
        return { value: undefined, done: true };
      },
    };
  }

  private next(): Promise<IteratorResult<LayerResult>> {
    if (this.error !== undefined) return Promise.reject(this.error);
    const layer = this.buffered.shift();
    if (layer) return Promise.resolve({ value: layer, done: false });
    if (this.finished) return Promise.resolve({ value: undefined, done: true });
    if (this.waiter)
      return Promise.reject(new LensError('BAD_INPUT', 'A run can only be iterated by one consumer at a time.'));
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }
}

/** How a run reaches whatever computes it (the Node worker, the panel's in-browser worker). */
export interface RunChannel {
  /**
   * Sends the run (its token ids; the q/k vectors wanted): resolves with its end, after `onLayer` got every layer in
   * order; rejects when it fails, or with CANCELLED once `signal` aborts.
   */
  run(
    ids: number[],
    withVectors: boolean | number[],
    signal: AbortSignal,
    onLayer: (layer: LayerResult) => void,
    seq2seq?: {
      target: RunTarget;
      onTarget: (ids: number[], logprobs: number[], end: 'stop' | 'length' | undefined, beams?: number) => void;
      onStep?: (step: TargetStepPayload) => void;
    },
    keep?: KeepRequest,
  ): Promise<{ lastHidden: Float32Array; stageMs: number[] }>;
  /** Exact attention of the kept run (long inputs); absent where runs cannot be kept (then 'kept' is refused). */
  attention?: AskAttention;
}

/** Starts a run on the calling thread: tokenises the input, limits its length, and returns its stream, cancelled by
 * options.signal or by leaving the iteration early. */
export function openRun(
  runId: number,
  input: string | number[],
  options: RunOptions,
  model: { facts: ModelFacts; tokenizer: Tokenizer | undefined },
  channel: RunChannel,
): RunStream {
  const t0 = performance.now();
  const source = sourceTokenizer(model.tokenizer, model.facts, options.sourceLanguage);
  const all =
    typeof input === 'string'
      ? tokensOfText(input, source, model.facts, options.chat === true)
      : tokensOfIds(input, model.facts, model.tokenizer);
  const prepared = limitLength(all, model.facts, options);
  const target: PreparedTarget | undefined = prepareTarget(options, model.facts, model.tokenizer);
  const tokenizeMs = performance.now() - t0;
  const signal = options.signal;
  const abort = new AbortController();
  /** A kept run's exact attention (long inputs), set below once the run is known to be kept. */
  let client: KeptAttentionClient | undefined;
  const onAbort = () => cancel();
  const cancel = () => {
    if (stream.settled) return;
    client?.stop();
    abort.abort();
    stream.fail(cancelled());
  };
  const stream = new RunStream(
    runId,
    prepared.tokens,
    prepared.truncatedFrom,
    t0,
    tokenizeMs,
    () => {
      signal?.removeEventListener('abort', onAbort);
      // A run failed from outside (its model went away) stops its request too; after a reply this does nothing.
      abort.abort();
    },
    cancel,
  );
  if (signal?.aborted) {
    stream.fail(cancelled());
    return stream;
  }
  if (target?.given)
    stream.setTarget(
      targetResult(
        target,
        target.given.map((t) => t.id),
        [],
        undefined,
        model,
      ),
    );
  signal?.addEventListener('abort', onAbort, { once: true });
  const withVectors =
    options.withVectors === true ? true : Array.isArray(options.withVectors) ? [...options.withVectors] : false;
  const n = prepared.tokens.length;
  let keep: KeepRequest | undefined;
  if (keepsRun(options.long ?? 'maps', model.facts, n)) {
    if (!channel.attention) {
      stream.fail(
        new LensError(
          'TOO_LONG',
          `Inputs of ${n} tokens are kept where the model runs, which this backend cannot do yet; run them on native or Wasm, or select less text.`,
        ),
      );
      return stream;
    }
    const specials = prepared.tokens.flatMap((t, i) => (t.special ? [i] : []));
    keep = { id: runId, topK: KEPT_TOP_K, specials };
    client = new KeptAttentionClient(runId, n, channel.attention);
    stream.kept = client;
  }
  channel
    .run(
      prepared.tokens.map((t) => t.id),
      withVectors,
      abort.signal,
      (layer) => {
        if (layer.overview) client?.add(layer.overview);
        stream.pushLayer(layer);
      },
      target && {
        target: target.request,
        onTarget: (ids, logprobs, end, beams) =>
          stream.setTarget(targetResult(target, ids, logprobs, end, model, beams)),
        ...(options.onTargetStep
          ? {
              onStep: (s: TargetStepPayload) => {
                if (stream.settled) return;
                const [token] = tokensOfIds([s.id], model.facts, model.tokenizer?.target ?? model.tokenizer);
                options.onTargetStep?.({
                  index: s.index,
                  token,
                  logprob: s.logprob,
                  selfRows: s.selfRows,
                  crossRows: s.crossRows,
                });
              },
            }
          : {}),
      },
      keep,
    )
    .then(
      (end) => stream.finish(end.lastHidden, end.stageMs),
      (e: unknown) => {
        client?.stop();
        stream.fail(e);
      },
    );
  return stream;
}
