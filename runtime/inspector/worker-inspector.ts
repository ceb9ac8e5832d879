// An Inspector (runtime/inspector/api.ts) whose model lives in an inference worker thread: starts the worker, waits
// for it to load, then moves runs, forward passes, cancellation and disposal as messages. The calling thread only
// tokenizes; weights, graphs and onnxruntime sessions live in the worker, so an extension host or CLI event loop is
// never blocked by inference.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type {
  AttentionRun,
  ForwardOptions,
  ForwardRequest,
  ForwardResult,
  Inspector,
  LayerResult,
  LoadOptions,
  RunOptions,
} from './api';
import type { BackendName, ModelFacts, Token } from '../types';
import type { Tokenizer } from '../tokenizers/tokenizer';
import { cancelled, LensError } from '../errors';
import { openRun, RunStream } from './attention-run';
import { tokensOfText } from './input';
import { sharedCancelFlags, type CancelFlags } from './cancel-flags';
import type { FromWorker, LoadedMessage, ModelSourceSpec, ToWorker } from './worker-protocol';

export interface WorkerStartOptions extends LoadOptions {
  /** The bundled worker script (default: worker.js beside this bundle). */
  workerPath?: string;
}

/** The default number of inference threads: the cores, at most 4. */
export function defaultThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
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
  const worker = new Worker(workerPath);
  const flags = sharedCancelFlags();
  const loaded = await new Promise<LoadedMessage>((resolve, reject) => {
    const stop = (e: unknown) => {
      cleanup();
      void worker.terminate();
      reject(e);
    };
    const onAbort = () => stop(cancelled());
    const onError = (e: Error) =>
      stop(new LensError('INFERENCE_FAILED', `The inference worker crashed while loading: ${e.message}`));
    const onExit = (code: number) =>
      stop(new LensError('INFERENCE_FAILED', `The inference worker stopped while loading (exit code ${code}).`));
    const onMessage = (msg: FromWorker) => {
      if (msg.type === 'progress') options.onProgress?.({ phase: msg.phase, fraction: msg.fraction });
      else if (msg.type === 'load-failed') stop(new LensError(msg.error.code, msg.error.message));
      else if (msg.type === 'loaded') {
        cleanup();
        resolve(msg);
      }
    };
    const cleanup = () => {
      signal?.removeEventListener('abort', onAbort);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    const req: ToWorker = { type: 'load', source, backend: options.backend ?? 'auto', threads };
    if (flags) req.cancelFlags = flags.buffer;
    worker.postMessage(req);
  });
  const facts: ModelFacts = { ...where, ...loaded.facts };
  const loadMs = performance.now() - t0;
  options.onProgress?.({ phase: 'ready', fraction: 1 });
  const inspector = new WorkerInspector(worker, facts, loaded.backend, loaded.threads, loadMs, tokenizer, flags);
  if (loaded.warnings?.length) inspector.warnings = loaded.warnings;
  return inspector;
}

interface PendingForward {
  resolve: (r: ForwardResult) => void;
  reject: (e: unknown) => void;
}

class WorkerInspector implements Inspector {
  private readonly runs = new Map<number, RunStream>();
  private readonly forwards = new Map<number, PendingForward>();
  private nextId = 0;
  private disposed = false;
  private dead: LensError | undefined;
  private disposedAck: (() => void) | undefined;
  warnings: readonly string[] = [];

  constructor(
    private readonly worker: Worker,
    readonly facts: ModelFacts,
    readonly backend: BackendName,
    readonly threads: number,
    readonly loadMs: number,
    public tokenizer: Tokenizer | undefined,
    private readonly flags: CancelFlags | undefined,
  ) {
    worker.on('message', (msg: FromWorker) => this.onMessage(msg));
    worker.on('error', (e: Error) => this.die(`The inference worker crashed: ${e.message}`));
    worker.on('exit', (code: number) => this.die(`The inference worker stopped unexpectedly (exit code ${code}).`));
    // An idle worker does not keep the process alive (a CLI that forgets dispose() still exits).
    worker.unref();
  }

  tokenize(text: string): Token[] {
    this.check();
    return tokensOfText(text, this.tokenizer, this.facts);
  }

  run(input: string | number[], options: RunOptions = {}): AttentionRun {
    this.check();
    const id = ++this.nextId;
    return openRun(id, input, options, this, {
      start: (stream, ids, withVectors) => {
        this.runs.set(id, stream);
        this.worker.ref();
        this.post({ type: 'run', runId: id, ids, withVectors });
      },
      cancel: () => this.cancel(id),
      settled: () => {
        this.runs.delete(id);
        if (this.runs.size === 0 && this.forwards.size === 0) this.worker.unref();
      },
    });
  }

  forward(request: ForwardRequest, options: ForwardOptions = {}): Promise<ForwardResult> {
    this.check();
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(cancelled());
    const id = ++this.nextId;
    return new Promise<ForwardResult>((resolve, reject) => {
      const onAbort = () => {
        this.cancel(id);
        settle();
        reject(cancelled());
      };
      const settle = () => {
        signal?.removeEventListener('abort', onAbort);
        this.forwards.delete(id);
        if (this.runs.size === 0 && this.forwards.size === 0) this.worker.unref();
      };
      this.forwards.set(id, {
        resolve: (r) => {
          settle();
          resolve(r);
        },
        reject: (e) => {
          settle();
          reject(e);
        },
      });
      this.worker.ref();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.post({
        type: 'forward',
        runId: id,
        batch: { ids: request.batch.ids.map((r) => [...r]), mask: request.batch.mask.map((r) => [...r]) },
        read:
          request.read.kind === 'logits' || request.read.kind === 'hidden'
            ? { kind: request.read.kind, positions: [...request.read.positions] }
            : request.read,
        attention: request.attention === true,
        norms: request.norms === true ? true : Array.isArray(request.norms) ? [...request.norms] : false,
      });
    });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const id of [...this.runs.keys(), ...this.forwards.keys()]) this.flags?.mark(id);
    for (const run of [...this.runs.values()])
      run.fail(new LensError('DISPOSED', 'The model was unloaded during the run.'));
    for (const f of [...this.forwards.values()])
      f.reject(new LensError('DISPOSED', 'The model was unloaded during the forward pass.'));
    if (!this.dead) {
      // Let the worker release its sessions, then end it (at most a few seconds' wait).
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5000);
        this.disposedAck = () => {
          clearTimeout(timer);
          resolve();
        };
        this.post({ type: 'dispose' });
      });
    }
    await this.worker.terminate();
  }

  private check(): void {
    if (this.disposed) throw new LensError('DISPOSED', `${this.facts.name} was unloaded; load the model again.`);
    if (this.dead) throw this.dead;
  }

  /** Stops a run or forward pass at its next stage boundary (the shared mark), or drops it from the queue. */
  private cancel(runId: number): void {
    this.flags?.mark(runId);
    this.post({ type: 'cancel', runId });
  }

  private post(msg: ToWorker): void {
    if (!this.dead) this.worker.postMessage(msg);
  }

  private die(why: string): void {
    if (this.dead) return;
    this.disposedAck?.();
    if (this.disposed) {
      this.dead = new LensError('DISPOSED', `${this.facts.name} was unloaded; load the model again.`);
      return;
    }
    this.dead = new LensError('INFERENCE_FAILED', `${why} Load the model again.`);
    for (const run of [...this.runs.values()]) run.fail(this.dead);
    for (const f of [...this.forwards.values()]) f.reject(this.dead);
  }

  private onMessage(msg: FromWorker): void {
    switch (msg.type) {
      case 'layer': {
        const layer: LayerResult = { ...msg.attention };
        if (msg.q) layer.q = msg.q;
        if (msg.k) layer.k = msg.k;
        this.runs.get(msg.runId)?.pushLayer(layer);
        break;
      }
      case 'done':
        this.runs.get(msg.runId)?.finish(msg.lastHidden, msg.stageMs);
        break;
      case 'forward-done': {
        const result: ForwardResult = {
          rows: msg.rows,
          seq: msg.seq,
          head: msg.head,
          width: msg.width,
          stageMs: msg.stageMs,
        };
        if (msg.attention) result.attention = msg.attention;
        if (msg.grams) result.grams = msg.grams.map((g) => g ?? undefined);
        this.forwards.get(msg.runId)?.resolve(result);
        break;
      }
      case 'run-failed':
        this.runs.get(msg.runId)?.fail(new LensError(msg.error.code, msg.error.message));
        this.forwards.get(msg.runId)?.reject(new LensError(msg.error.code, msg.error.message));
        break;
      case 'disposed':
        this.disposedAck?.();
        break;
      default:
        break;
    }
  }
}
