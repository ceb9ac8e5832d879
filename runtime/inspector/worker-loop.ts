// The one message loop of both inference workers (the Node worker thread, worker.ts; the panel's in-browser worker,
// webview/inference/worker.ts), parameterised by how the model is obtained: it answers `load` with what the worker's
// loader returns, queues `run`s and `generate`s one at a time behind the load (run-queue.ts), streams each layer the
// moment its stage returns and each generated token the moment its step returns (buffers moved, not copied), and
// answers `dispose` once the request in flight (or the load) has stopped and the sessions are released: only then may
// the caller end the worker (worker-inspector.ts `retire`). No Node imports.
import type { Channel, End, NoEnd } from '../channel/channel';
import type { AbortSignalLike } from '../channel/types';
import { cancelled, LensError } from '../errors';
import type { EngineRunOptions, EngineRunResult } from './engine';
import { RunQueue } from './run-queue';
import { layerEvent, own } from './transfer';
import type { GenerateControl, ServedGenerator } from './served-generator';
import type {
  GenerateDone,
  GenerateRequest,
  InferenceCalls,
  LoadProgressEvent,
  RunEvent,
  RunRequest,
} from './worker-protocol';
import type { PlanFacts } from '../models/plan';
import { KeptRun } from '../attention/kept-run';
import { POOL } from '../models/attention-summaries';
import { KeptRuns, layerOverview, overviewBuffers } from './kept-runs';

/** What a run may do while it computes. */
export interface RunControl {
  /** True once the caller cancelled the run (or the worker is being disposed): stop at the next stage boundary. */
  isCancelled(): boolean;
  /** Sends a layer (or a fallback) to the caller now. */
  emit(event: RunEvent, transfer: ArrayBuffer[]): void;
  /** Long inputs: keeps `run` in the worker under `id` (replacing the run kept before), for attention queries. */
  keep(id: number, run: KeptRun): void;
}

/** A loaded model as the loop serves it. */
export interface ServedModel {
  run(request: RunRequest, control: RunControl): Promise<EngineRunResult>;
  /** Continues token ids with the loaded weights (served-generator.ts), each token emitted as its step returns. */
  generate(request: GenerateRequest, control: GenerateControl): Promise<GenerateDone>;
  release(): Promise<void>;
}

/** How a worker obtains its model. */
export interface ModelLoader<Load, Loaded, M extends ServedModel> {
  load(
    request: Load,
    progress: (p: LoadProgressEvent) => void,
  ): Promise<{ model: M; reply: Loaded; shared?: { isMarked(id: number): boolean } }>;
}

/** An engine (StageEngine, ImportEngine) served as it is: each layer sent as its stage returns. */
export function engineModel(
  engine: {
    readonly facts: PlanFacts;
    run(ids: number[], options: EngineRunOptions): Promise<EngineRunResult>;
    release(): Promise<void>;
  },
  pause: () => Promise<void>,
  generator: ServedGenerator,
): ServedModel {
  return {
    run: (req, control) => {
      const keep = req.keep;
      if (!keep)
        return engine.run(req.ids, {
          withVectors: req.withVectors,
          isCancelled: control.isCancelled,
          pause,
          onLayer: (attention, q, k) => control.emit(...layerEvent(attention, q, k)),
        });
      // Long inputs: the summaries variant; each layer kept here (q, k, summaries) and only its overview sent.
      const kept = new KeptRun(engine.facts, { topK: keep.topK, specials: keep.specials, block: POOL });
      control.keep(keep.id, kept);
      const sent = (layer: number, l: ReturnType<KeptRun['addSummaries']>) => {
        const overview = layerOverview(layer, l);
        control.emit({ type: 'kept', overview }, overviewBuffers(overview));
      };
      return engine.run(req.ids, {
        withVectors: true,
        isCancelled: control.isCancelled,
        pause,
        // An engine without the summaries variant (an imported ONNX graph) streams maps: kept from them and q/k.
        onLayer: (attention, q, k) => {
          if (!q || !k)
            throw new LensError(
              'TOO_LONG',
              `This model gives no query/key vectors, which inputs of ${req.ids.length} tokens need; select less text (at most the maps of about 1 GB).`,
            );
          sent(attention.layer, kept.add(attention, q, k));
        },
        summaries: {
          topK: keep.topK,
          specials: keep.specials,
          onSummaries: (t) => sent(t.layer, kept.addSummaries(t)),
        },
      });
    },
    generate: (req, control) => generator.generate(req, control),
    release: async () => {
      await generator.release();
      await engine.release();
    },
  };
}

const FAILED: Record<string, string> = {
  load: 'The model could not be loaded',
  run: 'The run failed',
  generate: 'Generating failed',
  forward: 'The forward pass failed',
};

/** A worker's unexpected error as the caller gets it: one line that says what failed (the channel's `unexpected`). */
export function workerFailure(error: unknown, name: string): LensError {
  const why = (error instanceof Error ? error.message : String(error)).split('\n')[0];
  return new LensError('INFERENCE_FAILED', `${FAILED[name] ?? `"${name}" failed`}: ${why}`);
}

export interface WorkerEnd<Load, Loaded> extends End {
  calls: InferenceCalls<Load, Loaded>;
}

/** Serves load, run and dispose on `channel`; the worker adds its own requests with `queued()` and `model()`. */
export class WorkerLoop<Load, Loaded, M extends ServedModel> {
  readonly queue: RunQueue;
  private loading: Promise<unknown> | undefined;
  private current: M | undefined;
  /** The kept run of long inputs (one at a time). */
  readonly kept = new KeptRuns();
  /** Set by `dispose`: a load in progress stops at its next phase or session. */
  private disposing = false;

  constructor(channel: Channel<WorkerEnd<Load, Loaded>, NoEnd>, loader: ModelLoader<Load, Loaded, M>) {
    this.queue = new RunQueue(() => this.loading);
    channel.handle('load', (request, ctx) => {
      // A cancelled load (or one the caller disposes) stops at its next phase or session: the caller ends this worker
      // only once the load has stopped, never while a native session creation is in flight (worker-inspector.ts).
      const progress = (p: LoadProgressEvent) => {
        if (ctx.signal.aborted || this.disposing) throw cancelled();
        ctx.emit(p);
      };
      const loading = (async () => {
        const { model, reply, shared } = await loader.load(request, progress);
        if (ctx.signal.aborted || this.disposing) {
          await model.release();
          throw cancelled();
        }
        this.current = model;
        this.queue.shared = shared;
        return reply;
      })();
      this.loading = loading;
      return loading;
    });
    channel.handle('run', (request, ctx) =>
      this.queued(ctx, async (model, isCancelled) => {
        const control: RunControl = {
          isCancelled,
          emit: (event, transfer) => ctx.emit(event, transfer),
          keep: (id, run) => this.kept.keep(id, run),
        };
        let result: EngineRunResult;
        try {
          result = await model.run(request, control);
        } catch (e) {
          // A failed or cancelled long run keeps nothing.
          if (request.keep) this.kept.drop(request.keep.id);
          throw e;
        }
        const lastHidden = own(result.lastHidden);
        ctx.transfer(lastHidden.buffer as ArrayBuffer);
        return { lastHidden, stageMs: result.stageMs };
      }),
    );
    channel.handle('generate', (request, ctx) =>
      this.queued(ctx, (model, isCancelled) =>
        model.generate(request, { isCancelled, emit: (token, transfer) => ctx.emit(token, transfer) }),
      ),
    );
    // Answered at once, outside the run queue: a value costs O(headDim), a window what it covers. A rollout row (up
    // to a minute) reads the request's cancel mark in shared memory, which the caller's Cancel writes.
    channel.handle('attention', (query, ctx) => {
      const answer = this.kept.answer(query, () => ctx.signal.aborted || this.queue.shared?.isMarked(ctx.id) === true);
      ctx.transfer(answer.values.buffer as ArrayBuffer);
      if (answer.q && answer.k) ctx.transfer(answer.q.buffer as ArrayBuffer, answer.k.buffer as ArrayBuffer);
      return answer;
    });
    channel.handle('dispose', async () => {
      this.disposing = true;
      this.kept.drop();
      // Sessions are released only after the run in flight has stopped at its next stage boundary.
      await this.queue.stop();
      const model = this.current;
      this.current = undefined;
      await model?.release();
      return {};
    });
  }

  /** The loaded model, or undefined (not loaded, or disposed). */
  model(): M | undefined {
    return this.current;
  }

  /** Runs `work` on the model in the queue, in turn with every run; cancelled by the request's signal. */
  queued<T>(
    ctx: { id: number; signal: AbortSignalLike },
    work: (model: M, isCancelled: () => boolean) => Promise<T>,
  ): Promise<T> {
    return this.queue.run(ctx.id, ctx.signal, (isCancelled) => {
      const model = this.current;
      if (!model) throw new LensError('DISPOSED', 'No model is loaded.');
      return work(model, isCancelled);
    });
  }
}
