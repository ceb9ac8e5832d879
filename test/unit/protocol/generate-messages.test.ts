// The panel's Continue in both directions: the webview's generate request (count, sampling settings, run), its
// generatedText note, the host's streamed tokens (a token and one float32 row per layer) and its reply are checked
// field by field; generated:N is an Explain target; and a generated token's flag passes in a run's tokens.
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
import { MAX_CONTINUE_TOKENS } from '../../../protocol/messages';

const ctx: RunContext = { runId: 7, layers: 2, tokens: 5, heads: 2 };
const accepts = (m: unknown) => checkPanelRequest('generate', m, ctx) === undefined;

test('generate requests: greedy and sampled ones pass; every bad field is refused with a reason', () => {
  assert.equal(accepts({ runId: 7, maxNew: 32 }), true);
  assert.equal(accepts({ runId: 7, maxNew: 1, temperature: 0.8, topP: 0.95, seed: 42 }), true);
  assert.equal(accepts({ runId: 7, maxNew: MAX_CONTINUE_TOKENS, temperature: 1, topP: 1, seed: 0xffffffff }), true);
  for (const [m, why] of [
    [{ runId: 8, maxNew: 4 }, /not the panel's current run/],
    [{ runId: 7, maxNew: 0 }, /maxNew/],
    [{ runId: 7, maxNew: MAX_CONTINUE_TOKENS + 1 }, /maxNew/],
    [{ runId: 7, maxNew: 2.5 }, /maxNew/],
    [{ runId: 7, maxNew: 4, temperature: -1 }, /temperature/],
    [{ runId: 7, maxNew: 4, temperature: Infinity }, /temperature/],
    [{ runId: 7, maxNew: 4, topP: 0 }, /topP/],
    [{ runId: 7, maxNew: 4, topP: 1.5 }, /topP/],
    [{ runId: 7, maxNew: 4, seed: -1 }, /seed/],
    [{ runId: 7, maxNew: 4, seed: 2 ** 32 }, /seed/],
    [{ runId: 7, maxNew: 4, prompt: 'x' }, /unexpected field 'prompt'/],
  ] as const)
    assert.match(checkPanelRequest('generate', m, ctx) ?? '', why, JSON.stringify(m));
  assert.match(checkPanelRequest('generate', { runId: 7, maxNew: 4 }, { ...ctx, runId: undefined }) ?? '', /no run/);
});

test('generatedText notes: insert or copy, for the current run only', () => {
  assert.equal(validateWebviewMessage({ type: 'generatedText', runId: 7, action: 'insert' }, ctx).ok, true);
  assert.equal(validateWebviewMessage({ type: 'generatedText', runId: 7, action: 'copy' }, ctx).ok, true);
  assert.equal(validateWebviewMessage({ type: 'generatedText', runId: 7, action: 'paste' }, ctx).ok, false);
  assert.equal(validateWebviewMessage({ type: 'generatedText', runId: 6, action: 'copy' }, ctx).ok, false);
  assert.equal(validateWebviewMessage({ type: 'generatedText', runId: 7, action: 'copy', text: 'x' }, ctx).ok, false);
});

test("the host's streamed tokens: a token and per layer a float32 row [heads, position + 1]", () => {
  const token = { text: '▁cat', start: null, end: null, special: false, generated: true };
  const rows = [new ArrayBuffer(2 * 6 * 4), new ArrayBuffer(2 * 6 * 4)];
  assert.equal(checkPanelEvent('generate', { runId: 7, position: 5, token, rows }), undefined);
  assert.match(checkPanelEvent('generate', { runId: 7, position: 5, token, rows: [new ArrayBuffer(10)] }) ?? '', /row/);
  assert.match(checkPanelEvent('generate', { runId: 7, position: 5, token, rows: [] }) ?? '', /rows/);
  assert.match(checkPanelEvent('generate', { runId: 7, position: 0, token, rows }) ?? '', /position/);
  assert.match(
    checkPanelEvent('generate', { runId: 7, position: 5, token: { ...token, generated: 'yes' }, rows }) ?? '',
    /token/,
  );
});

test("the host's reply: count, why it ended, how it decoded, and the source with the output's ids", () => {
  const source = {
    uri: '',
    range: [0, 0, 0, 5],
    text: 'A dog',
    modelPath: '/m',
    truncate: false,
    generated: [5, 9, 2],
  };
  const reply = { runId: 7, count: 3, end: 'stop', decoding: { kind: 'greedy' }, text: ' a cat', source };
  assert.equal(checkPanelReply('generate', reply), undefined);
  assert.equal(
    checkPanelReply('generate', {
      ...reply,
      end: 'stopped',
      decoding: { kind: 'sample', temperature: 0.8, topP: 0.9, seed: 5 },
    }),
    undefined,
  );
  assert.match(checkPanelReply('generate', { ...reply, end: 'done' }) ?? '', /end/);
  assert.match(
    checkPanelReply('generate', { ...reply, decoding: { kind: 'sample', temperature: 1 } }) ?? '',
    /decoding/,
  );
  assert.match(checkPanelReply('generate', { ...reply, text: 3 }) ?? '', /text/);
  assert.match(checkPanelReply('generate', { ...reply, source: undefined }) ?? '', /source/);
  assert.match(checkPanelReply('generate', { ...reply, source: { ...source, generated: [1, -2] } }) ?? '', /source/);
});

test('generated:N is an Explain target; a run may carry generated tokens', () => {
  const explain = { runId: 7, target: 'generated:2', methods: ['loo'] };
  assert.equal(checkPanelRequest('explain', explain, ctx), undefined);
  assert.equal(checkPanelRequest('explain', { ...explain, target: 'prob:generated:1' }, ctx), undefined);
  assert.match(checkPanelRequest('explain', { ...explain, target: 'generated:x' }, ctx) ?? '', /generated:N/);
  const started = {
    type: 'runStarted',
    runId: 1,
    tokens: [
      { text: 'a', start: 0, end: 1, special: false },
      { text: 'b', start: null, end: null, special: false, generated: true },
    ],
    facts: {
      name: 'm',
      dir: '',
      family: 'llama',
      modelType: 'llama',
      layers: 1,
      heads: 1,
      kvHeads: 1,
      headDim: 2,
      hidden: 2,
      vocabSize: 10,
      maxPositions: 16,
      attentionKinds: ['causal'],
      hasLmHead: true,
    },
    source: { uri: '', range: [0, 0, 0, 1], text: 'a', modelPath: '', truncate: false },
    kept: false,
  };
  const v = validateHostMessage(started);
  assert.equal(v.ok, true, v.ok ? '' : v.reason);
  const bad = validateHostMessage({ ...started, tokens: [{ ...started.tokens[1], generated: 1 }] });
  assert.equal(bad.ok, false);
});
