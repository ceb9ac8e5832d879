// The Explain view's requests and answers in both directions: every field of a webview request is checked (shape,
// range, run), and the host's progress, replies and replayed results are checked so that a malformed one cannot
// break the view. Also: the methods the view offers are
// exactly the registry's non-gradient methods.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkPanelEvent,
  checkPanelReply,
  checkPanelRequest,
  validateHostMessage,
  validateWebviewMessage,
  type RunContext,
} from '../../../protocol/validate';
import { EXPLAIN_METHODS, MAX_COMPARE_TEXT_LENGTH, MAX_TARGET_LENGTH } from '../../../protocol/messages';
import { listMethods } from '../../../runtime/analysis/registry';
import { SEQ2SEQ_METHODS } from '../../../runtime/explain/seq2seq-methods';
import { resultToJson } from '../../../runtime/explain/result';
import { fixtureResult } from '../../helpers/explain-fixture';

const ctx: RunContext = { runId: 7, layers: 6, tokens: 9, heads: 12 };
const explain = { runId: 7, target: 'similarity:A cat', methods: ['rollout', 'loo'] };
const compare = { runId: 7, mode: 'heads', layer: 5, a: 0, b: 'mean' };
/** Whether the host accepts the request `name` with payload `m` for the run of `context`. */
const accepts = (name: string, m: unknown, context = ctx) => checkPanelRequest(name, m, context) === undefined;

test('explain requests: valid ones pass with exactly their fields', () => {
  assert.equal(accepts('explain', explain), true);
  for (const target of [
    'next',
    'next: mat',
    'token:3:42',
    'mask',
    'mask:cat',
    'mask@2',
    'similarity:x',
    // An empty reference fits the grammar: the host answers with a message the view shows.
    'similarity:',
  ])
    assert.equal(accepts('explain', { ...explain, target }), true, target);
  const all = EXPLAIN_METHODS.map((m) => m.id);
  assert.equal(accepts('explain', { ...explain, methods: all }), true);
});

test('explain requests: every field is checked', () => {
  const bad: [string, unknown][] = [
    ['another run', { ...explain, runId: 6 }],
    ['runId missing', { ...explain, runId: undefined }],
    ['a request id inside (the channel numbers requests)', { ...explain, requestId: 3 }],
    ['target number', { ...explain, target: 42 }],
    ['target unknown kind', { ...explain, target: 'bogus' }],
    ['target mask@x', { ...explain, target: 'mask@x' }],
    ['target token:1', { ...explain, target: 'token:1' }],
    ['target next:', { ...explain, target: 'next:' }],
    ['target too long', { ...explain, target: 'similarity:' + 'x'.repeat(MAX_TARGET_LENGTH) }],
    ['methods missing', { ...explain, methods: undefined }],
    ['methods empty', { ...explain, methods: [] }],
    ['methods not an array', { ...explain, methods: 'rollout' }],
    ['unknown method', { ...explain, methods: ['rollout', 'gradient-magic'] }],
    ['the baseline is not asked for', { ...explain, methods: ['uniform'] }],
    ['repeated method', { ...explain, methods: ['loo', 'loo'] }],
    ['non-string method', { ...explain, methods: [1] }],
    ['extra field', { ...explain, layer: 2 }],
  ];
  for (const [why, m] of bad) assert.equal(accepts('explain', m), false, why);
  assert.equal(accepts('explain', explain, { runId: undefined, layers: 0, tokens: 0 }), false, 'no run');
  assert.equal(accepts('explain', null), false, 'not an object');
  assert.equal(accepts('explainAll', explain), false, 'unknown request');
});

test('compare requests: heads and inputs, every field checked', () => {
  assert.equal(accepts('compare', compare), true);
  const inputs = { ...compare, mode: 'inputs', a: 3, b: 3, text: 'A dog sat.' };
  assert.equal(accepts('compare', inputs), true);
  // An empty second input passes (the host says what is missing).
  assert.equal(accepts('compare', { ...inputs, text: '' }), true);
  assert.equal(accepts('compare', { ...compare, a: 'max', b: 11 }), true);
  const bad: [string, unknown][] = [
    ['another run', { ...compare, runId: 8 }],
    ['a request id inside', { ...compare, requestId: 2 }],
    ['mode', { ...compare, mode: 'layers' }],
    ['layer past the end', { ...compare, layer: 6 }],
    ['layer negative', { ...compare, layer: -1 }],
    ['head a past the end', { ...compare, a: 12 }],
    ['head b unknown', { ...compare, b: 'min' }],
    ['head a fractional', { ...compare, a: 0.5 }],
    ['inputs without text', { ...compare, mode: 'inputs' }],
    ['text not a string', { ...inputs, text: 42 }],
    ['text too long', { ...inputs, text: 'x'.repeat(MAX_COMPARE_TEXT_LENGTH + 1) }],
    ['heads with text', { ...compare, text: 'x' }],
    ['extra field', { ...compare, metric: 'kendall' }],
  ];
  for (const [why, m] of bad) assert.equal(accepts('compare', m), false, why);
});

test('vectors requests name a layer of the current run', () => {
  assert.equal(accepts('vectors', { runId: 7, layer: 5 }), true);
  assert.equal(accepts('vectors', { runId: 7, layer: 6 }), false, 'past the last layer');
  assert.equal(accepts('vectors', { runId: 7 }), false, 'no layer');
  assert.equal(accepts('vectors', { runId: 6, layer: 0 }), false, 'another run');
});

test('exportExplain (a note; cancelling is the channel’s)', () => {
  assert.equal(validateWebviewMessage({ type: 'cancelExplain', runId: 7, requestId: 3 }, ctx).ok, false);
  for (const metric of ['kendall', 'spearman', 'topK'])
    for (const what of ['explain', 'compare'])
      assert.equal(validateWebviewMessage({ type: 'exportExplain', runId: 7, what, metric }, ctx).ok, true);
  assert.equal(
    validateWebviewMessage({ type: 'exportExplain', runId: 7, what: 'grid', metric: 'kendall' }, ctx).ok,
    false,
  );
  assert.equal(
    validateWebviewMessage({ type: 'exportExplain', runId: 7, what: 'explain', metric: 'pearson' }, ctx).ok,
    false,
  );
  assert.equal(
    validateWebviewMessage({ type: 'exportExplain', runId: 5, what: 'explain', metric: 'kendall' }, ctx).ok,
    false,
  );
});

test('host answers: progress, result (as it crosses: NaN as null), the replayed result', () => {
  assert.equal(checkPanelEvent('explain', { text: 'x', done: 0, total: 3 }), undefined);
  assert.equal(checkPanelEvent('compare', { text: 'Running the model on the second input…' }), undefined);
  assert.ok(checkPanelEvent('explain', { done: 0 }), 'no text');
  assert.ok(checkPanelEvent('explain', { text: 'x', done: -1 }), 'negative count');
  assert.ok(checkPanelEvent('vectors', { text: 'x' }), 'vectors stream nothing');
  const wire = JSON.parse(resultToJson(fixtureResult()));
  assert.equal(wire.agreement[2].kendall, null, 'NaN crosses as null');
  assert.equal(checkPanelReply('explain', { runId: 1, result: wire }), undefined);
  assert.equal(validateHostMessage({ type: 'explainResult', runId: 1, result: wire }).ok, true, 'the replay note');
  const broken = (f: (r: ReturnType<typeof fixtureResult>) => void) => {
    const r = fixtureResult();
    f(r);
    const reply = checkPanelReply('explain', { runId: 1, result: r }) === undefined;
    assert.equal(validateHostMessage({ type: 'explainResult', runId: 1, result: r }).ok, reply);
    return reply;
  };
  assert.equal(
    broken(() => undefined),
    true,
  );
  assert.equal(
    broken((r) => (r.methods[0].scores = [1, 2])),
    false,
    'scores shorter than the tokens',
  );
  assert.equal(
    broken((r) => (r.candidates = [true])),
    false,
    'candidates shorter than the tokens',
  );
  assert.equal(
    broken((r) => ((r.notes as unknown[]) = [{ html: '<b>x</b>' }])),
    false,
    'notes that are not strings',
  );
  assert.equal(
    broken((r) => ((r.methods[1].scores as unknown[])[0] = 'x')),
    false,
    'a score that is not a number',
  );
  assert.equal(
    broken((r) => (r.tokens = [])),
    false,
    'no tokens',
  );
  assert.equal(
    broken((r) => ((r.target as { label: unknown }).label = 3)),
    false,
    'target label',
  );
  assert.equal(
    broken((r) => ((r.faithfulness[0].bins[0] as { k: unknown }).k = 'one')),
    false,
    'faithfulness bin',
  );
  assert.equal(
    broken((r) => ((r as { agreement: unknown }).agreement = {})),
    false,
    'agreement not an array',
  );
});

test('host answers: comparisons carry binary maps of consistent sizes', () => {
  const tokens = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ text: `t${i}`, start: i, end: i + 1, special: false }));
  const f32 = (n: number) => new Float32Array(n).buffer;
  const good = {
    type: 'compareResult',
    runId: 1,
    mode: 'inputs',
    layer: 0,
    a: { label: 'a', tokens: tokens(3), causal: false, data: f32(9) },
    b: { label: 'b', tokens: tokens(2), causal: true, data: f32(4) },
    alignA: new Int32Array(2).buffer,
    alignB: new Int32Array(2).buffer,
    diff: f32(4),
    rowJsd: f32(2),
    jsd: 0.25,
    tvd: null,
  };
  assert.equal(validateHostMessage(good).ok, true);
  const { type: _type, ...answer } = good;
  assert.equal(checkPanelReply('compare', answer), undefined);
  const bad: [string, unknown][] = [
    ['map a size', { ...good, a: { ...good.a, data: f32(8) } }],
    ['map b as an array', { ...good, b: { ...good.b, data: [0, 0, 0, 0] } }],
    ['diff size', { ...good, diff: f32(9) }],
    ['rowJsd size', { ...good, rowJsd: f32(3) }],
    ['alignments differ', { ...good, alignB: new Int32Array(1).buffer }],
    ['more aligned tokens than b has', { ...good, alignA: new Int32Array(3).buffer, alignB: new Int32Array(3).buffer }],
    ['jsd as text', { ...good, jsd: '0.25' }],
    ['mode', { ...good, mode: 'layers' }],
    ['no tokens', { ...good, a: { ...good.a, tokens: [], data: f32(0) } }],
  ];
  for (const [why, m] of bad) {
    assert.equal(validateHostMessage(m).ok, false, why);
    assert.ok(checkPanelReply('compare', m), why);
  }
});

test('the view offers exactly the registry’s methods (gradients included, not the baseline), with their labels', () => {
  const registry = listMethods().filter((m) => m.kind !== 'baseline');
  assert.deepEqual(
    EXPLAIN_METHODS.map((m) => [m.id, m.label, m.kind]),
    registry.map((m) => [m.id, m.label, m.kind]),
  );
});

test('the methods offered on encoder–decoders are runtime/explain/seq2seq-methods.ts’s list', () => {
  assert.deepEqual(
    EXPLAIN_METHODS.filter((m) => m.seq2seq)
      .map((m) => m.id)
      .sort(),
    [...SEQ2SEQ_METHODS].sort(),
  );
  assert.ok(accepts('explain', { ...explain, target: 'contrast:▁2021|#7@target:1', methods: ['cross-rollout'] }));
  assert.ok(accepts('explain', { ...explain, target: 'target:3' }));
  assert.ok(!accepts('explain', { ...explain, target: 'target:0' }));
});
