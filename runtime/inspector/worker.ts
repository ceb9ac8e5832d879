// The inference worker thread: reads the model, builds its stage graphs, creates the sessions, and runs queued
// requests one at a time, posting each layer's attention the moment its stage finishes. onnxruntime blocks the
// thread it runs on, so it lives here and the calling thread (extension host, CLI) stays responsive.
import { parentPort } from 'node:worker_threads';
import { resolveBackend } from '../backend/ort';
import { isLensError } from '../errors';
import { buildPlan, readModel } from '../models/read-model';
import { readGgufModel } from '../models/gguf-source';
import { syntheticBert } from '../models/synthetic';
import { layerCountWarning } from '../models/weight-layers';
import { StageEngine } from './engine';
import { ImportEngine } from '../onnx/import-engine';
import { RunQueue } from './run-queue';
import { CancelFlags } from './cancel-flags';
import { layerMessage, own } from './transfer';
import type {
  ForwardDoneMessage,
  ForwardRequestMessage,
  FromWorker,
  LoadRequest,
  RunRequest,
  ToWorker,
  WireError,
} from './worker-protocol';

const port = parentPort;
if (!port) throw new Error('runtime/inspector/worker.ts must run in a worker thread.');

let engine: StageEngine | ImportEngine | undefined;
let loading: Promise<void> | undefined;
const runs = new RunQueue<RunRequest | ForwardRequestMessage>(
  (req) => (req.type === 'forward' ? forwardOne(req) : runOne(req)),
  () => loading,
);

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

function toWire(e: unknown, fallback: string): WireError {
  if (isLensError(e)) return { code: e.code, message: e.message };
  const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
  return { code: 'INFERENCE_FAILED', message: `${fallback}: ${why}` };
}

/** A typed array whose whole buffer can be transferred (copies only when it is a view into a larger buffer). */
async function load(req: LoadRequest): Promise<void> {
  if (req.cancelFlags) runs.shared = new CancelFlags(req.cancelFlags);
  try {
    const backend = await resolveBackend(req.backend, req.threads);
    const t0 = performance.now();
    if ('onnx' in req.source) {
      const imported = await ImportEngine.create(req.source.onnx, backend, req.threads, (phase, fraction) =>
        post({ type: 'progress', phase, fraction }),
      );
      engine = imported;
      const ms = performance.now() - t0;
      post({
        type: 'loaded',
        facts: imported.facts,
        backend,
        threads: req.threads,
        timings: { readMs: 0, planMs: 0, sessionsMs: ms },
      });
      return;
    }
    post({ type: 'progress', phase: 'reading-weights' });
    const source =
      'dir' in req.source
        ? await readModel(req.source.dir)
        : 'gguf' in req.source
          ? readGgufModel(req.source.gguf)
          : syntheticBert(req.source.synthetic);
    const t1 = performance.now();
    const warning = 'dir' in req.source ? layerCountWarning(source) : undefined;
    post({ type: 'progress', phase: 'building-graphs' });
    const plan = buildPlan(source);
    const t2 = performance.now();
    post({ type: 'progress', phase: 'creating-sessions', fraction: 0 });
    engine = await StageEngine.create(plan, backend, req.threads, (done, total) =>
      post({ type: 'progress', phase: 'creating-sessions', fraction: done / total }),
    );
    const t3 = performance.now();
    post({
      type: 'loaded',
      facts: engine.facts,
      backend,
      threads: req.threads,
      timings: { readMs: t1 - t0, planMs: t2 - t1, sessionsMs: t3 - t2 },
      ...(warning ? { warnings: [warning] } : {}),
    });
  } catch (e) {
    post({ type: 'load-failed', error: toWire(e, 'The model could not be loaded') });
  }
}

/** Between stages: with shared cancel flags nothing (a turn of the event loop costs ~1 ms per stage); without
 * them, one turn so that a 'cancel' message can arrive. */
const pause = () => (runs.shared ? Promise.resolve() : new Promise<void>((resolve) => setImmediate(resolve)));

async function runOne(req: RunRequest): Promise<void> {
  if (!engine) {
    post({ type: 'run-failed', runId: req.runId, error: { code: 'DISPOSED', message: 'No model is loaded.' } });
    return;
  }
  try {
    const result = await engine.run(req.ids, {
      withVectors: req.withVectors,
      isCancelled: () => runs.isCancelled(req.runId),
      pause,
      onLayer: (attention, q, k) => {
        post(...layerMessage(req.runId, attention, q, k));
      },
    });
    const lastHidden = own(result.lastHidden);
    post({ type: 'done', runId: req.runId, lastHidden, stageMs: result.stageMs }, [lastHidden.buffer as ArrayBuffer]);
  } catch (e) {
    // A cancelled run was already settled on the calling thread; the message is ignored there.
    post({ type: 'run-failed', runId: req.runId, error: toWire(e, 'The run failed') });
  }
}

/** A batched forward pass: one message back with the head outputs (and attention / norms when asked). */
async function forwardOne(req: ForwardRequestMessage): Promise<void> {
  if (!engine) {
    post({ type: 'run-failed', runId: req.runId, error: { code: 'DISPOSED', message: 'No model is loaded.' } });
    return;
  }
  try {
    const r = await engine.forward(req.batch, {
      read: req.read,
      attention: req.attention,
      norms: req.norms,
      isCancelled: () => runs.isCancelled(req.runId),
      pause,
    });
    const transfer: ArrayBuffer[] = [];
    const send = (a: Float32Array) => {
      const owned = own(a);
      transfer.push(owned.buffer as ArrayBuffer);
      return owned;
    };
    const msg: ForwardDoneMessage = {
      type: 'forward-done',
      runId: req.runId,
      rows: r.rows,
      seq: r.seq,
      head: send(r.head),
      width: r.width,
      stageMs: r.stageMs,
    };
    if (r.attention) msg.attention = r.attention.map(send);
    if (r.grams) msg.grams = r.grams.map((g) => (g ? send(g) : null));
    post(msg, transfer);
  } catch (e) {
    post({ type: 'run-failed', runId: req.runId, error: toWire(e, 'The forward pass failed') });
  }
}

async function dispose(): Promise<void> {
  // Sessions are released only after the active run has stopped at its next stage boundary.
  await runs.stop();
  const e: StageEngine | ImportEngine | undefined = engine;
  engine = undefined;
  await e?.release();
  post({ type: 'disposed' });
}

port.on('message', (msg: ToWorker) => {
  switch (msg.type) {
    case 'load':
      loading = load(msg);
      break;
    case 'run':
    case 'forward':
      runs.push(msg);
      break;
    case 'cancel':
      runs.cancel(msg.runId);
      break;
    case 'dispose':
      void dispose();
      break;
  }
});
