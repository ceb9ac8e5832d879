// The long-input messages of the panel's channel: the host's keptLayer note (overview of every head, no map) and the
// webview's keptWindow request and its reply — each checked for its run, its bounds and its sizes, since a webview is
// untrusted and a window is sized by what it asks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPanelReply, checkPanelRequest, validateHostMessage, type RunContext } from '../../../protocol/validate';
import { MAX_KEPT_WINDOW } from '../../../protocol/messages';

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
