// The panel's end of in-webview inference: answers the host's `infer*` requests (protocol/inference.ts) on the panel's
// channel by relaying them to the inference worker's channel (client.ts), and its events and replies back — typed
// arrays as their ArrayBuffers, which VS Code carries to the host without copying them into JSON. The views never
// see this: the host receives the layers and posts them to the panel exactly as for a run it computed itself.
import type { Channel } from '../../runtime/channel/channel';
import type { PanelHostEnd, PanelWebviewEnd } from '../../protocol/panel-channel';
import type { InferRunEvent } from '../../protocol/inference';
import type { RunEvent } from '../../runtime/inspector/worker-protocol';
import { LensError } from '../../runtime/errors';
import { InferenceWorker } from './client';
import { probeAdapter } from './gpu';
import { relayToken } from './relay-token';

const buf = (a: Float32Array) => a.buffer as ArrayBuffer;

/** A worker event as the host's run event, and the buffers it carries. */
function hostEvent(e: RunEvent): [InferRunEvent, ArrayBuffer[]] {
  if (e.type === 'fallback') return [e, []];
  // The panel's worker loads no encoder–decoder model (the Node worker serves them), so it sends no target.
  if (e.type === 'target' || e.type === 'targetStep')
    throw new LensError('UNSUPPORTED_MODEL', 'The panel does not run encoder–decoder models.');
  // The panel's worker never keeps a run (long inputs run in the host): a kept layer here is a bug, said in one line.
  if (e.type === 'kept')
    throw new LensError('INFERENCE_FAILED', 'The panel worker sent a kept layer it was not asked for.');
  const a = e.attention;
  const event: InferRunEvent = {
    type: 'layer',
    layer: a.layer,
    kind: a.kind,
    heads: a.heads,
    queryLength: a.queryLength,
    keyLength: a.keyLength,
    data: buf(a.data),
    ...(e.q && e.k ? { q: buf(e.q), k: buf(e.k) } : {}),
  };
  return [event, [event.data, ...(e.q && e.k ? [buf(e.q), buf(e.k)] : [])]];
}

export function serveInference(channel: Channel<PanelWebviewEnd, PanelHostEnd>): void {
  let worker: InferenceWorker | undefined;
  const current = (): InferenceWorker => {
    if (!worker) throw new LensError('DISPOSED', 'No model is loaded in the panel.');
    return worker;
  };

  channel.handle('inferProbe', async () => {
    const probe = await probeAdapter();
    return probe.ok ? { adapter: probe.name } : { adapter: null, reason: probe.reason };
  });

  channel.handle('inferLoad', async (m, ctx) => {
    worker?.terminate('Another model was loaded in the panel.');
    worker = undefined;
    let started: InferenceWorker;
    try {
      started = await InferenceWorker.start(m.workerUrl);
    } catch (e) {
      throw new LensError(
        'INFERENCE_FAILED',
        `The panel could not start its inference worker: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    worker = started;
    let loaded = false;
    started.onCrash((why) => {
      if (worker !== started) return;
      worker = undefined;
      if (loaded) channel.notify('inferEnded', { reason: why });
    });
    try {
      const reply = await started.load(
        {
          modelBase: m.modelBase,
          wasmUrl: m.wasmUrl,
          backend: m.backend,
          fallback: m.fallback,
          maxTokens: m.maxTokens,
        },
        (p) => ctx.emit(p.fraction !== undefined ? { phase: p.phase, fraction: p.fraction } : { phase: p.phase }),
      );
      loaded = true;
      return {
        facts: reply.facts,
        backend: reply.backend,
        note: reply.note,
        ...(reply.adapter ? { adapter: reply.adapter } : {}),
      };
    } catch (e) {
      if (worker === started) {
        started.terminate();
        worker = undefined;
      }
      if (e instanceof LensError) throw e;
      throw new LensError(
        'INFERENCE_FAILED',
        `The panel could not read the model: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  });

  channel.handle('inferRun', async (m, ctx) => {
    const done = await current().channel.request('run', m, {
      signal: ctx.signal,
      onEvent: (e) => ctx.emit(...hostEvent(e)),
    });
    ctx.transfer(buf(done.lastHidden));
    return { lastHidden: buf(done.lastHidden), stageMs: done.stageMs };
  });

  // Continue on the panel's model: the worker's `generate` (served-generator.ts), each token relayed as it comes.
  channel.handle('inferGenerate', (m, ctx) =>
    current().channel.request('generate', m, { signal: ctx.signal, onEvent: (t) => ctx.emit(...relayToken(t)) }),
  );

  channel.handle('inferLoseDevice', (m) => current().channel.request('loseDevice', m));

  channel.handle('inferDispose', async () => {
    const w = worker;
    worker = undefined;
    if (!w) return {};
    await w.channel.request('dispose', {}).catch(() => undefined);
    w.terminate();
    return {};
  });
}
