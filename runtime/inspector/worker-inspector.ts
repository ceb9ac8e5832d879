// An Inspector (runtime/inspector/api.ts) whose model lives in an inference worker thread: starts the worker, asks it
// to load, then sends runs, forward passes and disposal as requests of the worker channel (worker-protocol.ts over
// runtime/channel). The calling thread only tokenizes; weights, graphs and onnxruntime sessions live in the worker,
// so an extension host or CLI event loop is never blocked by inference. A cancel reaches a busy worker through shared
// memory (cancel-flags.ts), marked by request id before the cancel message is posted.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type {
  AttentionRun,
  ForwardOptions,
  ForwardRequest,
  ForwardResult,
  GenerateDone,
  GenerateOptions,
  Inspector,
  LayerResult,
  LoadOptions,
  RunOptions,
} from './api';
import type { BackendName, ModelFacts, Token } from '../types';
import type { GradientReply, GradientRequest } from '../grad/gradient-service';
import type { Seq2SeqGradientReply, Seq2SeqGradientRequest } from '../grad/seq2seq-gradients';
import type { Seq2SeqMixingReply, Seq2SeqMixingRequest } from './seq2seq-mixing-service';
import type { Tokenizer } from '../tokenizers/tokenizer';
import { Channel, type NoEnd } from '../channel/channel';
import { nodePort } from '../channel/ports';
import { cancelled, LensError } from '../errors';
import { checkCanGenerate } from '../generate/can-generate';
import { checkMaxNew } from '../generate/kv-generator';
import { checkSampling } from '../generate/sampling';
import { openRun } from './attention-run';
import { sourceTokenizer, tokensOfText } from './input';
import { sharedCancelFlags } from './cancel-flags';
import { turnOffOnnxruntimeTelemetry } from '../backend/telemetry-off';
import type { ModelSourceSpec, NodeLoadRequest, NodeWorkerEnd } from './worker-protocol';

export interface WorkerStartOptions extends LoadOptions {
  /** The bundled worker script (default: worker.js beside this bundle). */
  workerPath?: string;
}

/** The default number of inference threads: the cores, at most 4. */
export function defaultThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** How long dispose() waits for the worker to stop and release its sessions; a worker still busy then (a stage or a
 * session creation longer than this) ends in the background once its native call has returned. */
const DISPOSE_WAIT_MS = 5000;

/**
 * Ends an inference worker safely. onnxruntime-node runs a session (and creates one) synchronously on the worker's
 * thread: a worker.terminate() that lands while such a call is in flight aborts the whole process when the call
 * returns into the terminating thread ("terminate called after throwing an instance of 'Napi::Error'", SIGABRT: the
 * extension host dies with it). So the worker is first asked to stop: a run stops at its next stage boundary, a load
 * at its next phase or session, its sessions are released (worker-loop.ts `dispose`), and only a worker that has
 * answered — idle, with no native call in flight — or that has already exited is terminated.
 */
function retire(worker: Worker, channel: Channel<NoEnd, NodeWorkerEnd>, dead: LensError): Promise<void> {
  return channel
    .request('dispose', {})
    .catch(() => undefined) // it failed, or the worker exited (the channel closed): either way nothing runs there
    .then(() => {
      channel.close(dead);
      return worker.terminate();
    })
    .then(() => undefined);
}

/** Resolves after `ms` without keeping the process alive. */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Starts the worker and waits until it has loaded `source`. */
export async function startWorker(
  source: ModelSourceSpec,
  where: Pick<ModelFacts, 'name' | 'dir'>,
  options: WorkerStartOptions,
  tokenizer: Tokenizer | undefined,
): Promise<WorkerInspector> {
  const t0 = performance.now();
  const signal = options.signal;
  if (signal?.aborted) throw cancelled();
  const workerPath = path.resolve(options.workerPath ?? path.join(__dirname, 'worker.js'));
  if (!existsSync(workerPath)) {
    throw new LensError(
      'INFERENCE_FAILED',
      `The inference worker ${workerPath} is missing; build it with \`npm run build\`.`,
    );
  }
  const threads = Math.max(1, Math.floor(options.threads ?? defaultThreads()));
  turnOffOnnxruntimeTelemetry(); // here: the worker's own process.env never reaches the native library
  const worker = new Worker(workerPath);
  const flags = sharedCancelFlags();
  const channel = new Channel<NoEnd, NodeWorkerEnd>(nodePort(worker), { onCancel: (id) => flags?.mark(id) });
  let loaded = false;
  // Until the inspector takes over: a crash or an exit fails the load.
  const onError = (e: Error) =>
    channel.close(new LensError('INFERENCE_FAILED', `The inference worker crashed while loading: ${e.message}`));
  const onExit = (code: number) =>
    channel.close(new LensError('INFERENCE_FAILED', `The inference worker stopped while loading (exit code ${code}).`));
  worker.on('error', onError);
  worker.on('exit', onExit);
  const request: NodeLoadRequest = { source, backend: options.backend ?? 'auto', threads };
  if (flags) request.cancelFlags = flags.buffer;
  try {
    const reply = await channel.request('load', request, {
      signal,
      onEvent: (p) => options.onProgress?.({ phase: p.phase, fraction: p.fraction }),
    });
    loaded = true;
    const facts: ModelFacts = { ...where, ...reply.facts };
    options.onProgress?.({ phase: 'ready', fraction: 1 });
    const inspector = new WorkerInspector(
      worker,
      channel,
      facts,
      reply.backend,
      reply.threads,
      performance.now() - t0,
      tokenizer,
    );
    if (reply.warnings?.length) inspector.warnings = reply.warnings;
    if (reply.fallbackReason) inspector.fallbackReason = reply.fallbackReason;
    return inspector;
  } finally {
    if (loaded) {
      worker.off('error', onError);
      worker.off('exit', onExit);
    } else {
      // A cancelled or failed load: the worker may be creating a session right now; it ends once it has stopped (its
      // exit listeners stay, so a worker that dies meanwhile still closes the channel and is not waited on).
      void retire(worker, channel, new LensError('DISPOSED', 'The load was cancelled.'));
    }
  }
}

/** The inspectors whose workers are alive, for disposeAll. */
const live = new Set<WorkerInspector>();

/** Unloads every model of this process, each worker ended safely (retire): what a CLI does before it exits on an
 *  interrupt, so that no worker is terminated inside a native call. */
export async function disposeAll(waitMs?: number): Promise<void> {
  await Promise.all([...live].map((i) => i.dispose(waitMs)));
}

class WorkerInspector implements Inspector {
  private nextId = 0;
  /** Requests in flight (runs and forward passes): the worker keeps the process alive only while there are some. */
  private busy = 0;
  private disposed = false;
  private dead: LensError | undefined;
  warnings: readonly string[] = [];
  fallbackReason: string | undefined;

  constructor(
    private readonly worker: Worker,
    private readonly channel: Channel<NoEnd, NodeWorkerEnd>,
    readonly facts: ModelFacts,
    readonly backend: BackendName,
    readonly threads: number,
    readonly loadMs: number,
    public tokenizer: Tokenizer | undefined,
  ) {
    worker.on('error', (e: Error) => this.die(`The inference worker crashed: ${e.message}`));
    worker.on('exit', (code: number) => this.die(`The inference worker stopped unexpectedly (exit code ${code}).`));
    // An idle worker does not keep the process alive (a CLI that forgets dispose() still exits).
    worker.unref();
    live.add(this);
  }

  tokenize(text: string, options: { chat?: boolean; sourceLanguage?: string } = {}): Token[] {
    this.check();
    const tokenizer = sourceTokenizer(this.tokenizer, this.facts, options.sourceLanguage);
    return tokensOfText(text, tokenizer, this.facts, options.chat === true);
  }

  run(input: string | number[], options: RunOptions = {}): AttentionRun {
    this.check();
    return openRun(++this.nextId, input, options, this, {
      run: (ids, withVectors, signal, onLayer, seq2seq, keep) =>
        this.track(
          this.channel.request(
            'run',
            { ids, withVectors, ...(seq2seq ? { target: seq2seq.target } : {}), ...(keep ? { keep } : {}) },
            {
              signal,
              onEvent: (e) => {
                if (e.type === 'target') seq2seq?.onTarget(e.ids, e.logprobs, e.end, e.beams);
                if (e.type === 'targetStep') seq2seq?.onStep?.(e.step);
                if (e.type === 'kept') {
                  const o = e.overview;
                  onLayer({
                    layer: o.layer,
                    kind: this.facts.attentionKinds[o.layer] ?? 'self',
                    heads: o.heads.length,
                    queryLength: o.length,
                    keyLength: o.length,
                    data: new Float32Array(0), // the map stays in the worker
                    overview: o,
                  });
                  return;
                }
                if (e.type !== 'layer') return;
                const layer: LayerResult = { ...e.attention };
                if (e.q) layer.q = e.q;
                if (e.k) layer.k = e.k;
                onLayer(layer);
              },
            },
          ),
        ),
      attention: (query, signal) => {
        this.check();
        return this.track(this.channel.request('attention', query, signal ? { signal } : {}));
      },
    });
  }

  async forward(request: ForwardRequest, options: ForwardOptions = {}): Promise<ForwardResult> {
    this.check();
    const done = await this.track(
      this.channel.request(
        'forward',
        {
          batch: { ids: request.batch.ids.map((r) => [...r]), mask: request.batch.mask.map((r) => [...r]) },
          read:
            request.read.kind === 'logits' || request.read.kind === 'hidden'
              ? { kind: request.read.kind, positions: [...request.read.positions] }
              : request.read.kind === 'target-logprobs'
                ? {
                    kind: 'target-logprobs',
                    decoderInput: [...request.read.decoderInput],
                    picks: [...request.read.picks],
                  }
                : request.read,
          attention: request.attention === true,
          norms: request.norms === true ? true : Array.isArray(request.norms) ? [...request.norms] : false,
          ...(request.mixing ? { mixing: request.mixing } : {}),
          ...(request.valueKeep ? { valueKeep: request.valueKeep } : {}),
        },
        { signal: options.signal },
      ),
    );
    const result: ForwardResult = {
      rows: done.rows,
      seq: done.seq,
      head: done.head,
      width: done.width,
      stageMs: done.stageMs,
    };
    if (done.attention) result.attention = done.attention;
    if (done.grams) result.grams = done.grams.map((g) => g ?? undefined);
    if (done.mixing) result.mixing = done.mixing;
    return result;
  }

  async generate(ids: number[], options: GenerateOptions): Promise<GenerateDone> {
    this.check();
    checkCanGenerate(this.facts);
    if (ids.length === 0) throw new LensError('EMPTY_TEXT', 'There is nothing to continue: the prompt has no tokens.');
    checkMaxNew(options.maxNew, ids.length, this.facts);
    checkSampling(options);
    return this.track(
      this.channel.request(
        'generate',
        {
          ids: [...ids],
          maxNew: options.maxNew,
          ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
          ...(options.topP !== undefined ? { topP: options.topP } : {}),
          ...(options.seed !== undefined ? { seed: options.seed } : {}),
          stopIds: [...(options.stopIds ?? [])],
          rows: options.rows !== false,
        },
        { signal: options.signal, onEvent: (token) => options.onToken?.(token) },
      ),
    );
  }

  async gradients(request: GradientRequest, options: ForwardOptions = {}): Promise<GradientReply> {
    this.check();
    const payload: GradientRequest = {
      ids: [...request.ids],
      target: {
        ...request.target,
        ...(request.target.reference ? { reference: Array.from(request.target.reference) } : {}),
      },
    };
    if (request.alphas) payload.alphas = [...request.alphas];
    if (request.valueOnly) payload.valueOnly = request.valueOnly;
    if (request.baseline) payload.baseline = request.baseline;
    if (request.padId !== undefined) payload.padId = request.padId;
    if (request.keep) payload.keep = [...request.keep];
    if (request.attention) payload.attention = true;
    if (request.rules) payload.rules = request.rules;
    return this.track(this.channel.request('gradients', payload, { signal: options.signal }));
  }

  async seq2seqGradients(request: Seq2SeqGradientRequest, options: ForwardOptions = {}): Promise<Seq2SeqGradientReply> {
    this.check();
    const payload: Seq2SeqGradientRequest = {
      sourceIds: [...request.sourceIds],
      decoderInputIds: [...request.decoderInputIds],
      target: { ...request.target, labels: [...request.target.labels] },
    };
    if (request.alphas) payload.alphas = [...request.alphas];
    if (request.valueOnly) payload.valueOnly = request.valueOnly;
    if (request.baseline) payload.baseline = request.baseline;
    if (request.padId !== undefined) payload.padId = request.padId;
    if (request.keep) payload.keep = [...request.keep];
    if (request.attention) payload.attention = true;
    if (request.rules) payload.rules = request.rules;
    return this.track(this.channel.request('seq2seq-gradients', payload, { signal: options.signal }));
  }

  async seq2seqMixing(request: Seq2SeqMixingRequest, options: ForwardOptions = {}): Promise<Seq2SeqMixingReply> {
    this.check();
    const payload: Seq2SeqMixingRequest = {
      sourceIds: [...request.sourceIds],
      decoderInputIds: [...request.decoderInputIds],
      method: request.method,
    };
    if (request.layer !== undefined) payload.layer = request.layer;
    return this.track(this.channel.request('seq2seq-mixing', payload, { signal: options.signal }));
  }

  /** `waitMs`: how long to wait for the worker to stop (tests shorten it to end a process under a running call). */
  async dispose(waitMs = DISPOSE_WAIT_MS): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    live.delete(this);
    // Every request in flight stops at its next stage boundary (the shared mark) and fails now.
    this.channel.cancelAll(new LensError('DISPOSED', 'The model was unloaded while it was running.'));
    const unloaded = new LensError('DISPOSED', `${this.facts.name} was unloaded; load the model again.`);
    if (this.dead) {
      // It has exited already: nothing runs there.
      this.channel.close(this.dead);
      await this.worker.terminate();
      return;
    }
    // The worker stops and releases its sessions, then ends (retire): never terminated mid native call. The caller
    // waits a few seconds at most; the worker stays referenced until it has ended, however long its call takes, so
    // that a process (a CLI) never exits under it: Node would terminate it inside the call and abort the process.
    const ended = retire(this.worker, this.channel, unloaded).then(() => {
      this.dead ??= unloaded;
    });
    void this.track(ended).catch(() => undefined);
    await Promise.race([ended, delay(waitMs)]);
  }

  private check(): void {
    if (this.disposed) throw new LensError('DISPOSED', `${this.facts.name} was unloaded; load the model again.`);
    if (this.dead) throw this.dead;
  }

  /** Keeps the worker referenced while `request` is in flight. */
  private track<T>(request: Promise<T>): Promise<T> {
    if (this.busy++ === 0) this.worker.ref();
    return request.finally(() => {
      if (--this.busy === 0) this.worker.unref();
    });
  }

  private die(why: string): void {
    if (this.dead) return;
    this.dead = this.disposed
      ? new LensError('DISPOSED', `${this.facts.name} was unloaded; load the model again.`)
      : new LensError('INFERENCE_FAILED', `${why} Load the model again.`);
    this.channel.close(this.dead);
  }
}
