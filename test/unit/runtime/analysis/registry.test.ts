// Checks the importance-method registry: the built-in attention methods (raw attention by head/mean/max, rollout,
// flow, renormalised per output node) agree with their pure functions and hand values, registration rules hold, and needs are enforced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  computeImportance,
  getMethod,
  listMethods,
  missingNeeds,
  registerMethod,
  type ImportanceContext,
} from '../../../../runtime/analysis/registry';
import { flowScores } from '../../../../runtime/analysis/flow';
import { layersFromArrays, rolloutScores } from '../../../../runtime/analysis/rollout';

// Two layers, two heads, three tokens. Layer 1 (the last): head 0 row 2 = [.2, .3, .5], head 1 row 2 = [.6, .4, 0].
const third = [1 / 3, 1 / 3, 1 / 3];
const layer0 = [...third, ...third, ...third, ...third, ...third, ...third];
const layer1 = [
  ...[1, 0, 0, 0.5, 0.5, 0, 0.2, 0.3, 0.5], // head 0
  ...[1, 0, 0, 0.1, 0.9, 0, 0.6, 0.4, 0], // head 1
];
const attention = layersFromArrays([Float32Array.from(layer0), Float32Array.from(layer1)], 2, 3, 'causal');
const ctx: ImportanceContext = { seq: 3, target: 2, attention };

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `[${i}] ${a[i]} vs ${b[i]}`);
};

test('the built-in attention methods are registered', () => {
  assert.deepEqual(
    listMethods('attention').map((m) => m.id),
    ['raw-attention', 'rollout', 'flow', 'cross-attention', 'cross-rollout'],
  );
  assert.equal(getMethod('rollout')?.kind, 'attention');
  assert.equal(getMethod('nope'), undefined);
});

test('raw attention: one head, the head mean and the head max of the target row (last layer by default)', async () => {
  close(await computeImportance('raw-attention', { ...ctx, head: 0 }), [0.2, 0.3, 0.5]);
  close(await computeImportance('raw-attention', ctx), [0.4, 0.35, 0.25]);
  close(await computeImportance('raw-attention', { ...ctx, head: 'max' }), [0.6, 0.4, 0.5]);
  close(await computeImportance('raw-attention', { ...ctx, layer: 0, head: 1 }), third);
  await assert.rejects(computeImportance('raw-attention', { ...ctx, head: 2 }), RangeError);
  await assert.rejects(computeImportance('raw-attention', { ...ctx, layer: 2 }), RangeError);
});

test('rollout and flow through the registry equal the pure functions', async () => {
  close(await computeImportance('rollout', ctx), rolloutScores(attention, 2), 0);
  const flow = flowScores(attention, 2);
  const flowSum = flow.reduce((a, b) => a + b, 0);
  close(
    await computeImportance('flow', ctx),
    Array.from(flow, (f) => f / flowSum),
    1e-15,
  ); // per output node
  close(
    await computeImportance('rollout', { ...ctx, headReduce: 'max', startLayer: 1 }),
    rolloutScores(attention, 2, { heads: 'max', startLayer: 1 }),
    0,
  );
});

test('needs are checked before compute; a wrong seq is refused', async () => {
  await assert.rejects(computeImportance('rollout', { seq: 3, target: 2 }), /needs attention/);
  await assert.rejects(computeImportance('rollout', { ...ctx, seq: 4 }), RangeError);
  await assert.rejects(computeImportance('missing', ctx), /no importance method/);
});

test('later kinds slot in: a perturbation method (leave-one-out) registered from outside', async () => {
  registerMethod({
    id: 'test-leave-one-out',
    label: 'Leave one out',
    kind: 'perturbation',
    needs: { evaluate: true },
    async compute(c) {
      const all = new Array<boolean>(c.seq).fill(true);
      const full = await c.evaluate!(all);
      const out = new Float64Array(c.seq);
      for (let j = 0; j < c.seq; j++) out[j] = full - (await c.evaluate!(all.map((_, i) => i !== j)));
      return out;
    },
  });
  const method = getMethod('test-leave-one-out')!;
  assert.deepEqual(missingNeeds(method, ctx), ['evaluate']);
  const weights = [0.5, 2, 1];
  const evaluate = async (keep: boolean[]) => weights.reduce((s, w, i) => s + (keep[i] ? w : 0), 0);
  close(await computeImportance('test-leave-one-out', { ...ctx, evaluate }), weights, 0);
  assert.deepEqual(
    listMethods('perturbation').map((m) => m.id),
    ['loo', 'occlusion', 'test-leave-one-out'],
  );
  assert.throws(() => registerMethod(method), /already exists/);
  registerMethod({ ...method, label: 'LOO' }, { replace: true });
  assert.equal(getMethod('test-leave-one-out')?.label, 'LOO');
  assert.throws(() => registerMethod({ ...method, id: 'Bad Id' }), RangeError);
});

test('a method returning the wrong length is caught', async () => {
  registerMethod({
    id: 'test-short',
    label: 'Short',
    kind: 'norm',
    needs: {},
    compute: async () => new Float64Array(1),
  });
  await assert.rejects(computeImportance('test-short', ctx), /returned 1 scores for 3/);
});

test('encoder–decoders: raw cross-attention and the encoder–decoder rollout on a hand-computed case', async () => {
  // Encoder A = [[1, 0], [0.5, 0.5]] → Ã = [[1, 0], [0.25, 0.75]]; decoder self-attention [[1]]; cross [[0.2, 0.8]].
  // D = 0.5, X = 0.5 · [0.2, 0.8] = [0.1, 0.4]; scores = X · R_enc = [0.1 + 0.4 · 0.25, 0.4 · 0.75] = [0.2, 0.3].
  const layer = (kind: 'encoder' | 'decoder' | 'cross', q: number, k: number, data: number[]) => ({
    layer: 0,
    kind,
    heads: 1,
    queryLength: q,
    keyLength: k,
    data: Float32Array.from(data),
  });
  const seq2seq = {
    encoder: [layer('encoder', 2, 2, [1, 0, 0.5, 0.5])],
    decoder: [layer('decoder', 1, 1, [1])],
    cross: [layer('cross', 1, 2, [0.2, 0.8])],
    rows: [1],
  };
  close(await computeImportance('cross-rollout', { seq: 2, target: 0, seq2seq }), [0.2, 0.3]);
  close(await computeImportance('cross-attention', { seq: 2, target: 0, seq2seq }), [0.2, 0.8]);
});
