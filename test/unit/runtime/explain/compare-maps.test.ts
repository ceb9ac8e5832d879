// The compare mode's maths (runtime/explain/compare-maps.ts) and the host-side decisions of the Explain view
// (extension/explain-logic.ts) on hand-made maps with answers worked out by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignTokens, compareMaps, headMap } from '../../../../runtime/explain/compare-maps';
import { LensError } from '../../../../runtime/errors';
import type { LayerAttention, ModelFacts } from '../../../../runtime/types';
import {
  EMPTY_REFERENCE,
  checkExplainRequest,
  compare,
  compareMessage,
  comparisonJson,
  explainFailure,
  progressText,
} from '../../../../extension/explain-logic';
import { validateHostMessage } from '../../../../protocol/validate';

const near = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

/** JSD of (0.5, 0.5) and (1, 0): m = (0.75, 0.25); ½[0.5 ln(0.5/0.75) + 0.5 ln(0.5/0.25)] + ½ ln(1/0.75)
 *  = ½(0.1438410 + 0.2876821) = 0.2157616 nats = 0.3112781 bits. */
const JSD_HALF_VS_ONE = 0.3112781;

test('head maps: one head (a copy), the mean and the max over heads', () => {
  const layer: LayerAttention = {
    layer: 0,
    kind: 'self',
    heads: 2,
    queryLength: 1,
    keyLength: 2,
    data: Float32Array.from([0.2, 0.8, 0.6, 0.4]),
  };
  const h1 = headMap(layer, 1);
  assert.deepEqual(Array.from(h1), [Math.fround(0.6), Math.fround(0.4)]);
  h1[0] = 9;
  assert.equal(layer.data[2], Math.fround(0.6), 'a copy');
  near(headMap(layer, 'mean')[0], 0.4);
  near(headMap(layer, 'mean')[1], 0.6);
  assert.deepEqual(Array.from(headMap(layer, 'max')), [Math.fround(0.6), Math.fround(0.8)]);
  assert.throws(() => headMap(layer, 2), RangeError);
});

test('token alignment: a longest common subsequence of the texts', () => {
  assert.deepEqual(alignTokens(['a', 'b', 'c', 'd'], ['a', 'c', 'd']), [
    [0, 2, 3],
    [0, 1, 2],
  ]);
  assert.deepEqual(alignTokens(['x'], ['y']), [[], []]);
  assert.deepEqual(alignTokens([], ['y']), [[], []]);
  // [CLS] the cat sat [SEP] vs [CLS] a cat was sitting [SEP]: [CLS], cat, [SEP].
  assert.deepEqual(
    alignTokens(['[CLS]', 'the', 'cat', 'sat', '[SEP]'], ['[CLS]', 'a', 'cat', 'was', 'sitting', '[SEP]']),
    [
      [0, 2, 4],
      [0, 2, 5],
    ],
  );
  // Two equal-length LCS candidates: the length is what matters.
  assert.equal(alignTokens(['a', 'b'], ['b', 'a'])[0].length, 1);
});

test('comparing two maps of one input: b − a, JSD in bits and TVD per row, and their means', () => {
  // a = [[1, 0], [0.5, 0.5]], b = [[0, 1], [0.5, 0.5]]: row 0 JSD 1 bit, TVD 1; row 1 identical.
  const c = compareMaps([1, 0, 0.5, 0.5], 2, [0, 1, 0.5, 0.5], 2, [0, 1], [0, 1]);
  assert.deepEqual(Array.from(c.diff), [-1, 1, 0, 0]);
  near(c.rowJsd[0], 1);
  near(c.rowJsd[1], 0);
  near(c.rowTvd[0], 1);
  near(c.jsd, 0.5);
  near(c.tvd, 0.5);
  assert.equal(c.rows, 2);
  const d = compareMaps([0.5, 0.5, 0.5, 0.5], 2, [1, 0, 1, 0], 2, [0, 1], [0, 1]);
  near(d.jsd, JSD_HALF_VS_ONE);
  near(d.tvd, 0.5);
});

test('comparing two inputs: rows restricted to the aligned keys and renormalised', () => {
  // a: tokens x y z; b: tokens x z. Aligned: x (0 ↔ 0), z (2 ↔ 1).
  const a = [0.5, 0.25, 0.25, 0.1, 0.8, 0.1, 0.2, 0.6, 0.2];
  const b = [2 / 3, 1 / 3, 1, 0];
  const [ia, ib] = alignTokens(['x', 'y', 'z'], ['x', 'z']);
  const c = compareMaps(a, 3, b, 2, ia, ib);
  // Row x: a → (0.5, 0.25)/0.75 = (2/3, 1/3) = b's row: no difference.
  near(c.diff[0], 0);
  near(c.diff[1], 0);
  near(c.rowJsd[0], 0);
  // Row z: a → (0.2, 0.2)/0.4 = (0.5, 0.5); b's row (1, 0): diff (0.5, −0.5), JSD 0.3112781 bits.
  near(c.diff[2], 0.5);
  near(c.diff[3], -0.5);
  near(c.rowJsd[1], JSD_HALF_VS_ONE);
  near(c.jsd, JSD_HALF_VS_ONE / 2);
  // A row with no mass on the aligned keys is left out of the means.
  const e = compareMaps([0, 1, 0, 0.5, 0.5, 0, 0, 0, 1], 3, b, 2, [0, 2], [0, 1]);
  assert.ok(Number.isNaN(e.rowJsd[0]) && Number.isNaN(e.diff[0]));
  assert.equal(e.rows, 1);
  // Row x of a is (0, 1, 0): nothing on x or z. Row z of a is (0, 0, 1) → (0, 1) vs b's (1, 0): 1 bit.
  near(e.jsd, 1);
});

test('explain requests: empty references, bad targets and ONNX norm methods are told before any pass', () => {
  const facts = { name: 'm', family: 'bert', attentionKinds: ['self'], hasLmHead: false } as unknown as ModelFacts;
  assert.equal(checkExplainRequest(facts, 'similarity:', ['rollout']), EMPTY_REFERENCE);
  assert.equal(checkExplainRequest(facts, 'similarity:  \n', ['rollout']), EMPTY_REFERENCE);
  assert.match(checkExplainRequest(facts, 'token:0:5', ['rollout']) ?? '', /POS must be at least 1/);
  assert.equal(checkExplainRequest(facts, 'similarity:a cat', []), 'Choose at least one method.');
  assert.equal(checkExplainRequest(facts, 'similarity:a cat', ['rollout', 'norm']), undefined);
  const onnx = { ...facts, family: 'onnx' } as ModelFacts;
  const why = checkExplainRequest(onnx, 'similarity:a cat', ['rollout', 'norm', 'norm-rollout']) ?? '';
  assert.match(why, /Norm ‖αf\(x\)‖ and Norm rollout need the value vectors/);
  assert.match(why, /ONNX/);
  assert.equal(checkExplainRequest(onnx, 'similarity:a cat', ['rollout', 'loo']), undefined);
});

test('failures read as one line: cancelled, released model, runtime messages, unexpected errors', () => {
  assert.deepEqual(explainFailure(new LensError('CANCELLED', 'x'), 'explain'), {
    message: 'The explanation was cancelled.',
    cancelled: true,
  });
  assert.deepEqual(explainFailure(new LensError('CANCELLED', 'x'), 'compare'), {
    message: 'The comparison was cancelled.',
    cancelled: true,
  });
  const released = explainFailure(new LensError('DISPOSED', 'gone'), 'explain');
  assert.equal(released.cancelled, false);
  assert.match(released.message, /Show Attention again/);
  const bad = 'The target "next" needs a causal language model; m is an encoder without a head: use similarity:TEXT.';
  assert.deepEqual(explainFailure(new LensError('BAD_INPUT', bad), 'explain'), { message: bad, cancelled: false });
  const boom = new Error('boom\n    at somewhere (file.ts:1:1)');
  assert.deepEqual(explainFailure(boom, 'compare'), {
    message: 'Attention Lens failed unexpectedly: boom',
    cancelled: false,
  });
});

test('progress lines', () => {
  assert.equal(progressText({ phase: 'main-pass' }), 'Running the model on the input…');
  assert.equal(progressText({ phase: 'method', method: 'loo', done: 1, total: 4 }), 'Method 2 of 4: Leave-one-out…');
  assert.equal(
    progressText({ phase: 'method', method: 'uniform', done: 3, total: 4 }),
    'Method 4 of 4: Uniform attention (baseline)…',
  );
  assert.match(progressText({ phase: 'faithfulness' }), /^Faithfulness/);
});

test('comparison message: float32/int32 ArrayBuffers of the right sizes that the webview accepts', () => {
  const tokens = ['x', 'y', 'z'].map((text) => ({ text, start: 0, end: 1, special: false }));
  const id = (n: number) => Float32Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0));
  const heads = compare(
    'heads',
    1,
    { label: 'head 0', tokens, causal: false, map: id(3) },
    { label: 'head 1', tokens, causal: false, map: id(3) },
  );
  assert.deepEqual(Array.from(heads.alignA), [0, 1, 2]);
  assert.equal(heads.jsd, 0);
  const m = compareMessage(4, heads);
  assert.equal(validateHostMessage(m).ok, true);
  assert.ok(m.a.data instanceof ArrayBuffer && m.diff instanceof ArrayBuffer && m.alignA instanceof ArrayBuffer);
  assert.equal(m.a.data.byteLength, 9 * 4);
  assert.equal(m.diff.byteLength, 9 * 4);
  assert.equal(m.rowJsd.byteLength, 3 * 4);
  assert.equal(m.jsd, 0);
  // Two inputs with different tokens: x z aligned.
  const other = ['x', 'z'].map((text) => ({ text, start: 0, end: 1, special: false }));
  const inputs = compare(
    'inputs',
    1,
    { label: 'this input', tokens, causal: false, map: id(3) },
    { label: 'second input', tokens: other, causal: false, map: Float32Array.from([0.5, 0.5, 0.5, 0.5]) },
  );
  assert.deepEqual(
    [Array.from(inputs.alignA), Array.from(inputs.alignB)],
    [
      [0, 2],
      [0, 1],
    ],
  );
  near(inputs.jsd, JSD_HALF_VS_ONE);
  const mi = compareMessage(4, inputs);
  assert.equal(validateHostMessage(mi).ok, true);
  assert.equal(mi.diff.byteLength, 2 * 2 * 4);
  // No comparable row: JSD is null (JSON-safe), still a valid message.
  const none = compare(
    'inputs',
    0,
    { label: 'a', tokens, causal: false, map: new Float32Array(9) },
    { label: 'b', tokens, causal: false, map: new Float32Array(9) },
  );
  const mn = compareMessage(4, none);
  assert.equal(mn.jsd, null);
  assert.equal(validateHostMessage(mn).ok, true);
  const json = comparisonJson(inputs, 'tiny') as { aligned: number[][]; difference: (number | null)[][]; jsd: number };
  assert.deepEqual(json.aligned, [
    [0, 0],
    [2, 1],
  ]);
  assert.equal(json.difference.length, 2);
  near(json.jsd, JSD_HALF_VS_ONE);
  const nullJson = comparisonJson(none, 'tiny') as { jsd: null; difference: (number | null)[][] };
  assert.equal(nullJson.jsd, null);
  assert.equal(nullJson.difference[0][0], null);
});
