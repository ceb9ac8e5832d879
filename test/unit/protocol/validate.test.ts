import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkPanelReply,
  validateHostMessage,
  validateWebviewMessage,
  isRunSource,
  type RunContext,
} from '../../../protocol/validate';

const ctx: RunContext = { runId: 7, layers: 5, tokens: 4 };

test('webview messages: valid ones pass with exactly their fields', () => {
  assert.deepEqual(validateWebviewMessage({ type: 'ready' }, ctx), { ok: true, message: { type: 'ready' } });
  assert.deepEqual(validateWebviewMessage({ type: 'selectToken', runId: 7, index: 3 }, ctx), {
    ok: true,
    message: { type: 'selectToken', runId: 7, index: 3 },
  });
  assert.equal(validateWebviewMessage({ type: 'cancel', runId: 7 }, ctx).ok, true);
  assert.equal(validateWebviewMessage({ type: 'log', level: 'warn', message: 'x' }, ctx).ok, true);
});

test('webview messages: wrong shapes, ranges and runs are rejected', () => {
  const bad: unknown[] = [
    null,
    'ready',
    [],
    { type: 'nope' },
    { type: 'ready', extra: 1 },
    { type: 'selectToken', runId: 6, index: 0 }, // another run
    { type: 'selectToken', runId: 7, index: 4 }, // out of range
    { type: 'selectToken', runId: 7, index: -1 },
    { type: 'selectToken', runId: 7, index: 1.5 },
    { type: 'selectToken', runId: '7', index: 0 },
    { type: 'requestVectors', runId: 7, layer: 4 }, // a request now, not a note
    { type: 'cancel' },
    { type: 'log', level: 'debug', message: 'x' },
    { type: 'log', level: 'info', message: 42 },
    { type: 'log', level: 'info', message: 'x'.repeat(4001) },
  ];
  for (const m of bad) assert.equal(validateWebviewMessage(m, ctx).ok, false, JSON.stringify(m)?.slice(0, 80));
  assert.equal(
    validateWebviewMessage({ type: 'cancel', runId: 0 }, { runId: undefined, layers: 0, tokens: 0 }).ok,
    false,
  );
});

test('tabChanged: the tab shown with the Explain view’s mode and metric, with or without a run', () => {
  const m = { type: 'tabChanged', tab: 'explain', mode: 'compare', metric: 'topK' };
  assert.deepEqual(validateWebviewMessage(m, ctx), { ok: true, message: m });
  for (const tab of ['grid', 'head', 'matrix', 'neuron', 'explain'])
    assert.equal(validateWebviewMessage({ ...m, tab }, ctx).ok, true, tab);
  // A panel without a run has tabs too.
  assert.equal(validateWebviewMessage(m, { runId: undefined, layers: 0, tokens: 0 }).ok, true, 'no run');
  const bad: [string, unknown][] = [
    ['unknown tab', { ...m, tab: 'compare' }],
    ['tab missing', { ...m, tab: undefined }],
    ['tab not a string', { ...m, tab: 4 }],
    ['unknown mode', { ...m, mode: 'heads' }],
    ['mode missing', { type: 'tabChanged', tab: 'grid', metric: 'kendall' }],
    ['unknown metric', { ...m, metric: 'pearson' }],
    ['metric missing', { type: 'tabChanged', tab: 'grid', mode: 'explain' }],
    ['extra field (a run id)', { ...m, runId: 7 }],
  ];
  for (const [why, x] of bad) assert.equal(validateWebviewMessage(x, ctx).ok, false, why);
});

test('host messages: notice, with the optional busy flag of a loading model', () => {
  assert.equal(validateHostMessage({ type: 'notice', text: 'No model.' }).ok, true);
  assert.equal(validateHostMessage({ type: 'notice', text: 'Loading <b>x</b>…', busy: true }).ok, true);
  assert.equal(validateHostMessage({ type: 'notice', text: 'x', busy: false }).ok, true);
  assert.equal(validateHostMessage({ type: 'notice', text: 'x', busy: 'yes' }).ok, false);
  assert.equal(validateHostMessage({ type: 'notice', text: 3 }).ok, false);
});

const facts = {
  name: 'm',
  dir: '/m',
  family: 'llama',
  modelType: 'llama',
  layers: 2,
  heads: 2,
  kvHeads: 1,
  headDim: 4,
  hidden: 8,
  vocabSize: 10,
  maxPositions: 16,
  attentionKinds: ['causal', 'causal'],
  hasLmHead: true,
};
const source = { uri: 'file:///a.txt', range: [0, 0, 0, 3], text: 'abc', modelPath: '/m', truncate: false };

test('host messages: layer data size must match heads × query × key float32', () => {
  const layer = { type: 'layer', runId: 1, layer: 0, kind: 'causal', heads: 2, queryLength: 3, keyLength: 3 };
  assert.equal(validateHostMessage({ ...layer, data: new ArrayBuffer(2 * 3 * 3 * 4) }).ok, true);
  assert.equal(validateHostMessage({ ...layer, data: new ArrayBuffer(2 * 3 * 3 * 4 - 4) }).ok, false);
  assert.equal(validateHostMessage({ ...layer, data: new Float32Array(18) }).ok, false);
  assert.equal(validateHostMessage({ ...layer, kind: 'sideways', data: new ArrayBuffer(72) }).ok, false);
});

test('host messages and replies: runStarted, vectors, settings', () => {
  const tokens = [{ text: '<img src=x onerror=alert(1)>', start: 0, end: 3, special: false }];
  assert.equal(validateHostMessage({ type: 'runStarted', runId: 1, tokens, facts, source, kept: false }).ok, true);
  assert.equal(
    validateHostMessage({
      type: 'runStarted',
      runId: 1,
      tokens,
      facts: { ...facts, attentionKinds: [] },
      source,
      kept: false,
    }).ok,
    false,
  );
  assert.equal(
    validateHostMessage({ type: 'runStarted', runId: 1, tokens: [{ text: 1 }], facts, source, kept: false }).ok,
    false,
  );
  // Optional attention facts (sliding windows, score scale, soft-cap): well-formed or refused.
  const started = (extra: object) =>
    validateHostMessage({ type: 'runStarted', runId: 1, tokens, facts: { ...facts, ...extra }, source, kept: false })
      .ok;
  assert.equal(started({ slidingWindows: [8, null], attentionScale: 0.2, attentionSoftcap: 50 }), true);
  assert.equal(started({ slidingWindows: [8] }), false);
  assert.equal(started({ slidingWindows: [0, null] }), false);
  assert.equal(started({ attentionScale: -1 }), false);
  assert.equal(started({ attentionSoftcap: 'x' }), false);
  // Whether the run is kept for long inputs: said at its start (every view lays out for a window), true or false only.
  const keeps = (kept: unknown) => validateHostMessage({ type: 'runStarted', runId: 1, tokens, facts, source, kept });
  assert.equal(keeps(true).ok, true);
  assert.equal(keeps(false).ok, true);
  for (const bad of [undefined, null, 1, 0, 'true', 'kept', {}, [true]]) {
    const r = keeps(bad);
    assert.equal(r.ok, false, `kept: ${JSON.stringify(bad)}`);
    assert.match(r.ok ? '' : r.reason, /kept/);
  }
  const v = { runId: 1, layer: 0, heads: 2, kvHeads: 1, queryLength: 3, keyLength: 3, headDim: 4 };
  const vectors = (m: object) => checkPanelReply('vectors', m);
  assert.equal(vectors({ ...v, q: new ArrayBuffer(2 * 3 * 4 * 4), k: new ArrayBuffer(1 * 3 * 4 * 4) }), undefined);
  assert.equal(vectors({ ...v, q: new ArrayBuffer(2 * 3 * 4 * 4), k: new ArrayBuffer(2 * 3 * 4 * 4) }), 'k size');
  assert.equal(vectors({ ...v, q: null, k: null, reason: 'none' }), undefined);
  assert.equal(validateHostMessage({ type: 'vectors', ...v, q: null, k: null }).ok, false, 'a reply, not a note');
  assert.equal(validateHostMessage({ type: 'settings', colorMap: 'magma' }).ok, true);
  assert.equal(validateHostMessage({ type: 'settings', colorMap: 'jet' }).ok, false);
});

test('isRunSource checks restored panel state', () => {
  assert.equal(isRunSource(source), true);
  assert.equal(isRunSource({ ...source, range: [0, 0, 0] }), false);
  assert.equal(isRunSource({ ...source, range: [0, -1, 0, 0] }), false);
  assert.equal(isRunSource({ ...source, truncate: 'no' }), false);
  assert.equal(isRunSource({ ...source, target: '2021-03-14' }), true);
  assert.equal(isRunSource({ ...source, target: ' ' }), false, 'an empty target');
  assert.equal(isRunSource({ ...source, target: 3 }), false);
  assert.equal(isRunSource(undefined), false);
});

test('openDropped: a .json or .npy file: or vscode-remote: URI, or a file’s text and name, or an .npy’s bytes; nothing else', () => {
  const none = { runId: undefined, layers: 0, tokens: 0 };
  const uri = { type: 'openDropped', uri: 'file:///home/me/run.json' };
  assert.deepEqual(validateWebviewMessage(uri, none), { ok: true, message: uri });
  const remote = { type: 'openDropped', uri: 'vscode-remote://host/home/me/run.JSON' };
  assert.deepEqual(validateWebviewMessage(remote, none), { ok: true, message: remote });
  const text = { type: 'openDropped', text: '{}', name: 'run.json' };
  assert.deepEqual(validateWebviewMessage(text, ctx), { ok: true, message: text });
  // An NPY export: its URI (the host finds the sidecar beside it), or the dropped array with or without its sidecar.
  const npyUri = { type: 'openDropped', uri: 'vscode-remote://host/home/me/run.npy' };
  assert.deepEqual(validateWebviewMessage(npyUri, none), { ok: true, message: npyUri });
  const pair = { type: 'openDropped', text: '{}', name: 'run.npy.json', npy: new ArrayBuffer(8), npyName: 'run.npy' };
  assert.deepEqual(validateWebviewMessage(pair, none), { ok: true, message: pair });
  const alone = { type: 'openDropped', npy: new ArrayBuffer(8), npyName: 'run.NPY' };
  assert.deepEqual(validateWebviewMessage(alone, none), { ok: true, message: alone });
  for (const m of [
    { type: 'openDropped' },
    { type: 'openDropped', uri: 'file:///a.json', text: '{}' },
    { type: 'openDropped', uri: 'https://example.com/run.json' },
    { type: 'openDropped', uri: 'file:///etc/passwd' },
    { type: 'openDropped', uri: 'command:x?a.json' },
    { type: 'openDropped', uri: `file:///${'a'.repeat(9000)}.json` },
    { type: 'openDropped', text: 3 },
    { type: 'openDropped', text: '{}', name: 'x'.repeat(300) },
    { type: 'openDropped', text: '{}', extra: 1 },
    { type: 'openDropped', uri: 'file:///a.npy.txt' },
    { type: 'openDropped', uri: 'file:///a.npy', npy: new ArrayBuffer(8), npyName: 'a.npy' },
    { type: 'openDropped', npy: new ArrayBuffer(8) },
    { type: 'openDropped', text: '{}', npyName: 'a.npy' },
    { type: 'openDropped', npy: new Uint8Array(8), npyName: 'a.npy' },
    { type: 'openDropped', npy: [1, 2], npyName: 'a.npy' },
    { type: 'openDropped', npy: new ArrayBuffer(8), npyName: 'a.json' },
    { type: 'openDropped', npy: new ArrayBuffer(8), npyName: `${'a'.repeat(300)}.npy` },
  ])
    assert.equal(validateWebviewMessage(m, none).ok, false, JSON.stringify(m).slice(0, 80));
});

test('host messages: an encoder–decoder target is well-formed or refused', () => {
  const t = (text: string, start: number | null) => ({
    text,
    start,
    end: start === null ? null : start + 1,
    special: start === null,
  });
  const target = {
    type: 'target',
    runId: 3,
    tokens: [t('▁2021', 0), t('</s>', null)],
    decoderInput: [t('<pad>', null), t('▁2021', 0)],
    mode: 'translated',
    end: 'stop',
    text: '2021',
    logprobs: [-0.05, -0.09],
  };
  assert.equal(validateHostMessage(target).ok, true);
  assert.equal(validateHostMessage({ ...target, beams: 4 }).ok, true);
  assert.equal(validateHostMessage({ ...target, beams: 0 }).ok, false);
  assert.equal(
    validateHostMessage({ ...target, mode: 'teacher-forced', beams: 4 }).ok,
    false,
    'beams of a given target',
  );
  assert.equal(validateHostMessage({ ...target, logprobs: [-0.05] }).ok, false, 'one log p per token');
  assert.equal(validateHostMessage({ ...target, logprobs: undefined }).ok, false);
  assert.equal(validateHostMessage({ ...target, logprobs: ['x', 1] }).ok, false);
  assert.equal(validateHostMessage({ ...target, end: undefined, mode: 'teacher-forced' }).ok, true);
  assert.equal(validateHostMessage({ ...target, decoderInput: target.decoderInput.slice(1) }).ok, false);
  assert.equal(validateHostMessage({ ...target, mode: 'beam' }).ok, false);
  assert.equal(validateHostMessage({ ...target, end: 'eos' }).ok, false);
  assert.equal(validateHostMessage({ ...target, tokens: [{ text: 1 }] }).ok, false);
  assert.equal(validateHostMessage({ ...target, text: null }).ok, false);
  // A streamed greedy step: rows per decoder layer, self [heads, index + 1] and cross [heads, S] float32.
  const step = {
    type: 'targetStep',
    runId: 3,
    index: 1,
    token: t('-', 4),
    logprob: -0.09,
    text: '2021-',
    selfRows: [new ArrayBuffer(4 * 2 * 4), new ArrayBuffer(4 * 2 * 4)],
    crossRows: [new ArrayBuffer(4 * 9 * 4), new ArrayBuffer(4 * 9 * 4)],
  };
  assert.equal(validateHostMessage(step).ok, true);
  assert.equal(validateHostMessage({ ...step, index: -1 }).ok, false);
  assert.equal(validateHostMessage({ ...step, selfRows: [new ArrayBuffer(12)], crossRows: step.crossRows }).ok, false);
  assert.equal(validateHostMessage({ ...step, selfRows: [new ArrayBuffer(4 * 3 * 4)] }).ok, false, 'layers');
  assert.equal(
    validateHostMessage({ ...step, selfRows: [new ArrayBuffer(3 * 4), new ArrayBuffer(3 * 4)] }).ok,
    false,
    'not [heads, index + 1]',
  );
  assert.equal(validateHostMessage({ ...step, crossRows: [[1, 2], [3]] }).ok, false);
  assert.equal(validateHostMessage({ ...step, token: { text: 2 } }).ok, false);
  assert.equal(validateHostMessage({ ...step, text: undefined }).ok, false);
});
