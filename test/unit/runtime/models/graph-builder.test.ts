// Tests for runtime/models/graph-builder.ts: graphs it writes decode back through the ONNX schema, run on both
// backends with hand-computed results, constants never collide with named tensors, and weightOnce shares one
// initializer per graph.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSession } from '../../../../runtime/backend/ort';
import { decodeModel } from '../../../../runtime/formats/onnx-schema';
import { A, GraphBuilder, OPSET } from '../../../../runtime/models/graph-builder';

function softmaxGraph(): GraphBuilder {
  const g = new GraphBuilder('t');
  const x = g.input('x', 'float32', ['batch', 2]);
  const w = g.weight('w', Float32Array.of(1, 0, 0, 2), [2, 2]);
  let y = g.op('MatMul', [x, w]); // [batch, 2]
  y = g.op('Add', [y, g.constF([0, Math.log(3)], [2], 'b')]);
  g.output(g.op('Softmax', [y], { axis: A.int(-1) }), 'p', 'float32', ['batch', 2]);
  return g;
}

test('a built graph decodes with its opset, inputs, outputs and initializers', () => {
  const m = decodeModel(softmaxGraph().toBytes());
  assert.equal(Number(m.opsetImport![0].version), OPSET);
  assert.deepEqual(
    m.graph!.input.map((i) => i.name),
    ['x'],
  );
  assert.deepEqual(
    m.graph!.output.map((o) => o.name),
    ['p'],
  );
  const inits = m.graph!.initializer.map((t) => t.name!).sort();
  assert.equal(inits.length, 2);
  assert.match(inits[0], /^b_\d+$/);
  assert.equal(inits[1], 'w');
  assert.ok(m.graph!.node.some((n) => n.opType === 'Softmax'));
});

for (const backend of ['native', 'wasm'] as const) {
  test(`a built graph runs with hand-computed results (${backend})`, async () => {
    const s = await createSession(softmaxGraph().toBytes(), { backend, threads: 1 });
    // x = [0, 0] → logits [0, ln 3] → softmax [1/4, 3/4]; x = [ln 2, 0] → [ln 2, ln 3] → [2/5, 3/5].
    const out = await s.run({ x: { type: 'float32', dims: [2, 2], data: Float32Array.of(0, 0, Math.log(2), 0) } }, [
      'p',
    ]);
    await s.release();
    assert.deepEqual(out.p.dims, [2, 2]);
    [0.25, 0.75, 0.4, 0.6].forEach((v, i) => assert.ok(Math.abs(out.p.data[i] - v) <= 1e-6, `${i}: ${out.p.data[i]}`));
  });
}

test('native sessions flush denormal floats to zero by default (a causal Softmax stays off the slow path)', async () => {
  const g = new GraphBuilder('ftz');
  const x = g.input('x', 'float32', [3]);
  g.output(g.op('Mul', [x, g.constF([0.5], [], 'half')]), 'y', 'float32', [3]);
  const s = await createSession(g.toBytes(), { backend: 'native', threads: 1 });
  // 2e-38 / 2 = 1e-38 is below float32's smallest normal (1.18e-38): flushed to 0; 4e-38 / 2 and 1 / 2 are normal.
  const out = await s.run({ x: { type: 'float32', dims: [3], data: Float32Array.of(2e-38, 4e-38, 1) } }, ['y']);
  await s.release();
  assert.equal(out.y.data[0], 0);
  assert.equal(out.y.data[1], Math.fround(2e-38));
  assert.equal(out.y.data[2], 0.5);
});

test('constants get fresh names that never collide, even with the same hint', () => {
  const g = new GraphBuilder('c');
  const a = g.constF([1], [], 'eps');
  const b = g.constF([1], [], 'eps');
  const i = g.constI64([1, 2]);
  assert.notEqual(a, b);
  assert.ok(g.hasTensor(a) && g.hasTensor(b) && g.hasTensor(i));
  assert.throws(() => g.weight(a, Float32Array.of(1), [1]), /used twice/);
});

test('weightOnce adds an initializer once and does not read the data again', () => {
  const g = new GraphBuilder('w');
  let reads = 0;
  const data = () => {
    reads++;
    return Float32Array.of(1, 2);
  };
  assert.equal(g.weightOnce('e', data, [2]), 'e');
  assert.equal(g.weightOnce('e', data, [2]), 'e');
  assert.equal(reads, 1);
  assert.equal(decodeModel(g.toBytes()).graph!.initializer.length, 1);
  assert.throws(() => g.weight('bad', Float32Array.of(1, 2, 3), [2]), /3 values/);
});
