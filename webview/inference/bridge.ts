// The panel's end of in-webview inference: turns the host's `infer*` messages (protocol/inference.ts) into work for
// the inference worker and the worker's answers into `infer*` messages back. The views never see this channel: the
// host receives the layers and posts them to the panel exactly as for a run it computed itself.
import type { InferHostMessage, InferWebviewMessage } from '../../protocol/inference';
import { validateInferHostMessage } from '../../protocol/inference-validate';
import { listen, loadInWorker, send, startWorker } from './client';
import { probeAdapter } from './gpu';
import type { FromInference } from './protocol';

export class InferenceBridge {
  private worker: Worker | undefined;

  constructor(
    private readonly post: (m: InferWebviewMessage) => void,
    private readonly log: (level: 'info' | 'warn' | 'error', message: string) => void,
  ) {}

  /** Handles `raw` when it belongs to the inference channel; false for any other message. */
  handle(raw: unknown): boolean {
    const type = typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined;
    if (typeof type !== 'string' || !type.startsWith('infer')) return false;
    const v = validateInferHostMessage(raw);
    if (!v.ok) this.log('warn', `webview dropped an inference message: ${v.reason}`);
    else void this.dispatch(v.message).catch((e: unknown) => this.log('error', `inference: ${String(e)}`));
    return true;
  }

  private async dispatch(m: InferHostMessage): Promise<void> {
    switch (m.type) {
      case 'inferProbe': {
        const probe = await probeAdapter();
        this.post(
          probe.ok
            ? { type: 'inferProbed', probeId: m.probeId, adapter: probe.name }
            : { type: 'inferProbed', probeId: m.probeId, adapter: null, reason: probe.reason },
        );
        return;
      }
      case 'inferLoad':
        return this.load(m);
      case 'inferRun':
        return this.send({ type: 'run', runId: m.runId, ids: m.ids, withVectors: m.withVectors });
      case 'inferCancel':
        return this.send({ type: 'cancel', runId: m.runId });
      case 'inferLoseDevice':
        return this.send(
          m.afterLayer === undefined ? { type: 'lose-device' } : { type: 'lose-device', afterLayer: m.afterLayer },
        );
      case 'inferDispose':
        if (this.worker) this.send({ type: 'dispose' });
        else this.post({ type: 'inferEnded' });
        return;
    }
  }

  private send(msg: Parameters<typeof send>[1]): void {
    if (this.worker) send(this.worker, msg);
  }

  private async load(m: Extract<InferHostMessage, { type: 'inferLoad' }>): Promise<void> {
    this.worker?.terminate();
    this.worker = undefined;
    const failed = (message: string) =>
      this.post({ type: 'inferLoadFailed', loadId: m.loadId, code: 'INFERENCE_FAILED', message });
    let worker: Worker;
    try {
      worker = await startWorker(m.workerUrl);
    } catch (e) {
      return failed(`The panel could not start its inference worker: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.worker = worker;
    let loaded = false;
    worker.addEventListener('error', (e) => {
      const why = `the panel's inference worker crashed (${e.message || 'unknown error'})`;
      if (this.worker !== worker) return;
      this.worker = undefined;
      if (loaded) this.post({ type: 'inferEnded', reason: why });
      else failed(why);
    });
    listen(worker, (msg) => {
      if (this.worker !== worker) return;
      if (msg.type === 'loaded') loaded = true;
      this.forward(msg, m.loadId);
      if (msg.type === 'disposed') {
        worker.terminate();
        this.worker = undefined;
      }
    });
    try {
      await loadInWorker(worker, {
        modelBase: m.modelBase,
        wasmUrl: m.wasmUrl,
        backend: m.backend,
        fallback: m.fallback,
        maxTokens: m.maxTokens,
      });
    } catch (e) {
      worker.terminate();
      if (this.worker === worker) this.worker = undefined;
      failed(`The panel could not read the model: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** A worker message as the host's `infer*` message (typed arrays as their ArrayBuffers). */
  private forward(msg: FromInference, loadId: number): void {
    const buf = (a: Float32Array) => a.buffer as ArrayBuffer;
    switch (msg.type) {
      case 'progress':
        this.post({
          type: 'inferProgress',
          loadId,
          phase: msg.phase,
          ...(msg.fraction !== undefined ? { fraction: msg.fraction } : {}),
        });
        return;
      case 'loaded':
        this.post({
          type: 'inferLoaded',
          loadId,
          facts: msg.facts,
          backend: msg.backend,
          note: msg.note,
          ...(msg.adapter ? { adapter: msg.adapter } : {}),
        });
        return;
      case 'load-failed':
        this.post({ type: 'inferLoadFailed', loadId, code: msg.error.code, message: msg.error.message });
        return;
      case 'layer': {
        const a = msg.attention;
        this.post({
          type: 'inferLayer',
          runId: msg.runId,
          layer: a.layer,
          kind: a.kind,
          heads: a.heads,
          queryLength: a.queryLength,
          keyLength: a.keyLength,
          data: buf(a.data),
          ...(msg.q && msg.k ? { q: buf(msg.q), k: buf(msg.k) } : {}),
        });
        return;
      }
      case 'done':
        this.post({ type: 'inferDone', runId: msg.runId, lastHidden: buf(msg.lastHidden), stageMs: msg.stageMs });
        return;
      case 'run-failed':
        this.post({ type: 'inferFailed', runId: msg.runId, code: msg.error.code, message: msg.error.message });
        return;
      case 'fallback':
        this.post({
          type: 'inferFallback',
          ...(msg.runId !== undefined ? { runId: msg.runId } : {}),
          reason: msg.reason,
        });
        return;
      case 'disposed':
        this.post({ type: 'inferEnded' });
        return;
    }
  }
}
