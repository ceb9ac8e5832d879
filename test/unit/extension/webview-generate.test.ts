// Continue on a model that runs in the panel (WebGPU or Wasm in the webview): the host's WebviewInspector asks the
// panel `inferGenerate` over the real request/reply channel with the host's real checks, and the panel's end relays
// each token through webview/inference/relay-token.ts as the bridge does. What answers behind it is a real inference
// worker (dist/worker.js: the same worker loop and served generator the browser worker runs). Checked: stories260K
// continues the prompt with the tokens of the plain-loops reference's greedy decode, each relayed row equals the last
// row of a full run on the prefix (≤ 1e-5), Stop cancels between steps, and a row of the wrong size fails the request.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { WebviewInspector, type InferencePort } from '../../../extension/webview-inspector';
import type { InferenceCalls } from '../../../protocol/inference';
import { checkInferRequest } from '../../../protocol/inference-validate';
import { hostChecks, type PanelHostEnd, type PanelWebviewEnd } from '../../../protocol/panel-channel';
import { Channel, type RequestOptions } from '../../../runtime/channel/channel';
import { nodePort } from '../../../runtime/channel/ports';
import { isLensError } from '../../../runtime/errors';
import { argmax } from '../../../runtime/generate/sampling';
import type { GeneratedToken, Inspector, LayerResult } from '../../../runtime/inspector/api';
import { load } from '../../../runtime/inspector/load-model';
import { relayToken } from '../../../webview/inference/relay-token';
import { naiveForward } from '../../reference/naive-forward';
import { fixtureModel, repoRoot } from '../../helpers/fixtures';

const MODEL = fixtureModel('stories260K');
const PROMPT = 'Once upon a time, there was a little girl named Lily.';

let worker: Inspector;
const closers: { close(): void }[] = [];
before(async () => {
  worker = await load(MODEL, { backend: 'wasm', threads: 1, workerPath: path.join(repoRoot, 'dist/worker.js') });
});
after(async () => {
  closers.forEach((c) => c.close());
  await worker?.dispose();
});

/** The panel: answers inferGenerate by relaying the worker's tokens (`corrupt`: drop one value of every row). */
function panelPort(corrupt = false): InferencePort {
  const { port1, port2 } = new MessageChannel();
  closers.push(port1, port2);
  const host = new Channel<PanelHostEnd, PanelWebviewEnd>(nodePort(port1), {
    peer: 'the panel',
    checks: hostChecks(() => ({ runId: undefined, layers: 0, tokens: 0 })),
  });
  const webview = new Channel<PanelWebviewEnd, PanelHostEnd>(nodePort(port2), {
    checks: { request: checkInferRequest },
  });
  webview.handle('inferGenerate', (m, ctx) =>
    worker.generate(m.ids, {
      ...m,
      signal: ctx.signal as AbortSignal,
      onToken: (t) => {
        const sent: GeneratedToken = corrupt ? { ...t, rows: t.rows.map((r) => r.slice(0, r.length - 1)) } : t;
        ctx.emit(...relayToken(sent));
      },
    }),
  );
  return {
    isDisposed: false,
    request: <N extends keyof InferenceCalls>(
      name: N,
      payload: InferenceCalls[N]['request'],
      options?: RequestOptions<InferenceCalls[N]['event']>,
    ) => host.request(name, payload as never, options as never) as Promise<InferenceCalls[N]['reply']>,
    onEnded: () => () => undefined,
    onInferenceReset: () => () => undefined,
    prepareInference: () => Promise.reject(new Error('not used')),
  };
}

function panelInspector(port: InferencePort): WebviewInspector {
  return new WebviewInspector(port, worker.facts, 'wasm', 'Wasm in the panel.', undefined, 0, {
    dir: MODEL,
    name: 'stories260K',
    tokenizer: worker.tokenizer,
    backend: 'wasm',
    fallback: 'wasm',
    maxTokens: 512,
    hostModel: () => Promise.reject(new Error('Continue must not load a host copy')),
  });
}

async function fullRun(ids: number[]): Promise<LayerResult[]> {
  const out: LayerResult[] = [];
  for await (const l of worker.run(ids)) out.push(l);
  return out;
}

test('Continue on a panel-run model: the reference greedy tokens, each row the last row of a full run ≤ 1e-5', async () => {
  const insp = panelInspector(panelPort());
  const prompt = insp.tokenize(PROMPT).map((t) => t.id);
  const maxNew = 8;
  const tokens: GeneratedToken[] = [];
  const done = await insp.generate(prompt, { maxNew, onToken: (t) => tokens.push(t) });
  assert.deepEqual([done.count, done.end], [maxNew, 'length']);
  const ids = [...prompt]; // the independent reference: arg max of the plain-loops forward pass on each prefix
  for (let i = 0; i < maxNew; i++) {
    const r = naiveForward(MODEL, ids);
    const V = r.logits!.length / ids.length;
    ids.push(argmax(r.logits!.subarray((ids.length - 1) * V)));
  }
  assert.deepEqual(
    tokens.map((t) => t.id),
    ids.slice(prompt.length),
  );
  const { heads: H } = insp.facts;
  let worst = 0;
  for (const t of [tokens[0], tokens[maxNew - 1]]) {
    const S = t.position + 1;
    const full = await fullRun(ids.slice(0, S)); // [H,S,S] per layer
    t.rows.forEach((row, l) => {
      assert.equal(row.length, H * S);
      for (let h = 0; h < H; h++)
        for (let k = 0; k < S; k++)
          worst = Math.max(worst, Math.abs(row[h * S + k] - full[l].data[(h * S + S - 1) * S + k]));
    });
  }
  assert.ok(worst <= 1e-5, `largest difference ${worst}`);
  assert.equal(tokens[maxNew - 1].end, 'length');
});

test('Stop on a panel-run model cancels between steps; a row of the wrong size fails the request in one line', async () => {
  const insp = panelInspector(panelPort());
  const prompt = insp.tokenize(PROMPT).map((t) => t.id);
  const controller = new AbortController();
  const seen: number[] = [];
  await assert.rejects(
    insp.generate(prompt, {
      maxNew: 100,
      signal: controller.signal,
      onToken: (t) => {
        seen.push(t.index);
        if (t.index === 1) controller.abort();
      },
    }),
    (e: unknown) => isLensError(e) && e.code === 'CANCELLED',
  );
  assert.ok(seen.length >= 2 && seen.length < 100, `${seen.length} tokens before the stop`);
  const bad = panelInspector(panelPort(true));
  await assert.rejects(
    bad.generate(prompt, { maxNew: 2 }),
    (e: unknown) => isLensError(e) && /malformed event for "inferGenerate": a row has \d+ bytes/.test(e.message),
  );
  await assert.rejects(
    insp.generate(prompt, { maxNew: 0 }),
    (e: unknown) => isLensError(e) && !e.message.includes('\n'),
  );
});
