// The long-input messages of the panel's channel: the host's keptLayer note (overview of every head, no map) and the
// webview's keptWindow request and its reply — each checked for its run, its bounds and its sizes, since a webview is
// untrusted and a window is sized by what it asks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPanelReply, checkPanelRequest, validateHostMessage, type RunContext } from '../../../protocol/validate';
import { MAX_KEPT_WINDOW, MAX_VECTOR_KEYS } from '../../../protocol/messages';

const ctx: RunContext = { runId: 3, layers: 30, tokens: 4000, heads: 9 };

test('keptLayer: an overview of [heads, res, res] float32 per statistic, the mask rule and sizes', () => {
  const note = (over: Record<string, unknown> = {}) => ({
    type: 'keptLayer',
    runId: 3,
    layer: 2,
    kind: 'causal',
    heads: 9,
    length: 4000,
    causal: true,
    window: null,
    res: 63,
    block: 64,
    blockMax: new ArrayBuffer(9 * 63 * 63 * 4),
    blockMean: new ArrayBuffer(9 * 63 * 63 * 4),
    ...over,
  });
  assert.equal(validateHostMessage(note()).ok, true);
  assert.equal(validateHostMessage(note({ window: 4096 })).ok, true);
  for (const bad of [
    { blockMax: new ArrayBuffer(10) },
    { blockMean: [1, 2] },
    { heads: 0 },
    { window: 0 },
    { causal: 'yes' },
    { kind: 'sideways' },
    { layer: -1 },
  ])
    assert.equal(validateHostMessage(note(bad)).ok, false, JSON.stringify(Object.keys(bad)));
});

test('keptWindow: the current run, a head and spans inside it, at most MAX_KEPT_WINDOW entries', () => {
  const req = (over: Record<string, unknown> = {}) => ({
    runId: 3,
    layer: 29,
    head: 8,
    rows: { start: 3900, end: 4000 },
    cols: { start: 0, end: 200 },
    ...over,
  });
  assert.equal(checkPanelRequest('keptWindow', req(), ctx), undefined);
  assert.match(checkPanelRequest('keptWindow', req({ runId: 2 }), ctx)!, /not the panel's current run/);
  assert.match(checkPanelRequest('keptWindow', req({ layer: 30 }), ctx)!, /layer must be an integer in \[0, 30\)/);
  assert.match(checkPanelRequest('keptWindow', req({ head: 'mean' }), ctx)!, /head must be an integer in \[0, 9\)/);
  assert.match(checkPanelRequest('keptWindow', req({ rows: { start: 0, end: 4001 } }), ctx)!, /spans inside/);
  assert.match(checkPanelRequest('keptWindow', req({ cols: { start: 5, end: 5 } }), ctx)!, /spans inside/);
  assert.match(checkPanelRequest('keptWindow', req({ cols: { start: 0, end: 1, x: 1 } }), ctx)!, /spans inside/);
  assert.match(checkPanelRequest('keptWindow', req({ extra: 1 }), ctx)!, /unexpected field 'extra'/);
  const big = { rows: { start: 0, end: 4000 }, cols: { start: 0, end: 4000 } };
  assert.ok(4000 * 4000 > MAX_KEPT_WINDOW);
  assert.match(checkPanelRequest('keptWindow', req(big), ctx)!, /entries is more than/);
  // The reply: the request echoed with float32 [rows, cols].
  const reply = { ...req(), data: new ArrayBuffer(100 * 200 * 4) };
  assert.equal(checkPanelReply('keptWindow', reply), undefined);
  assert.match(checkPanelReply('keptWindow', { ...reply, data: new ArrayBuffer(8) })!, /data must be 80000 bytes/);
});

test("vectors on a kept run's window: one query token and keys inside the run, at most MAX_VECTOR_KEYS; the reply's lse per head", () => {
  const req = (window?: unknown) => ({ runId: 3, layer: 4, ...(window === undefined ? {} : { window }) });
  const keys = { start: 3871, end: 4000 };
  assert.equal(checkPanelRequest('vectors', req(), ctx), undefined, 'a run with maps asks for the layer');
  assert.equal(checkPanelRequest('vectors', req({ query: 3935, keys }), ctx), undefined);
  assert.match(checkPanelRequest('vectors', req({ query: 4000, keys }), ctx)!, /window.query must be an integer/);
  assert.match(checkPanelRequest('vectors', req({ query: 1, keys: { start: 10, end: 4001 } }), ctx)!, /window.keys/);
  assert.match(checkPanelRequest('vectors', req({ query: 1, keys, extra: 1 }), ctx)!, /window must be/);
  assert.match(checkPanelRequest('vectors', req('all'), ctx)!, /window must be/);
  const wide = { runId: 3, layers: 30, tokens: 8192, heads: 9 };
  assert.ok(8192 > MAX_VECTOR_KEYS);
  assert.match(
    checkPanelRequest('vectors', req({ query: 1, keys: { start: 0, end: 8192 } }), wide)!,
    /at most 4096 keys/,
  );
  // The reply: q of the one query [heads, 1, D], k of the window [kvHeads, keys, D], a finite lse per head.
  const reply = (over: Record<string, unknown> = {}) => ({
    runId: 3,
    layer: 4,
    heads: 9,
    kvHeads: 3,
    queryLength: 1,
    keyLength: 129,
    headDim: 64,
    q: new ArrayBuffer(9 * 64 * 4),
    k: new ArrayBuffer(3 * 129 * 64 * 4),
    window: { query: 3935, keyStart: 3871, lse: Array(9).fill(2.5) },
    ...over,
  });
  assert.equal(checkPanelReply('vectors', reply()), undefined);
  assert.equal(checkPanelReply('vectors', reply({ window: { query: 3935, keyStart: 3871, lse: [1] } })), 'window lse');
  assert.equal(
    checkPanelReply('vectors', reply({ window: { query: 1, keyStart: 0, lse: Array(9).fill(NaN) } })),
    'window lse',
  );
  assert.equal(
    checkPanelReply('vectors', reply({ queryLength: 2, q: new ArrayBuffer(2 * 9 * 64 * 4) })),
    'a window has one query',
  );
});
