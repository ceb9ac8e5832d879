// What the whole-graph tap adds to an imported export (runtime/onnx/prepare.ts), on optimum's tiny-marian-dates
// with-past decoders: in an all-float32 graph each Softmax output becomes a graph output as it is (no Cast, a
// kernel and a copy per call), a graph with any other float type keeps the Cast to float32; a pass gets the sum of
// its taps and its hidden state, a step decoder instead one joined output. Run in onnxruntime: the sum equals the
// taps' own sum and the joined output is the taps flattened in tap order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { createSession } from '../../../../runtime/backend/ort';
import { DataType, type GraphMsg } from '../../../../runtime/formats/onnx-schema';
import type { FeedTensor } from '../../../../runtime/models/plan';
import { analyseFile, onlyFloat32, tapWholeGraph } from '../../../../runtime/onnx/prepare';
import { marianDatesCacheDirs } from '../../../helpers/fixtures';

const file = (name: string) => path.join(marianDatesCacheDirs.past, name);
const softmaxOutputs = (g: GraphMsg) => (g.node ?? []).filter((n) => n.opType === 'Softmax').map((n) => n.output[0]);

test('onlyFloat32: an optimum float32 export is; any float16, bfloat16 or double tensor, cast or constant is not', () => {
  const a = analyseFile(file('decoder_model.onnx'), false);
  assert.equal(onlyFloat32(a.onnx.graph), true);
  const base: GraphMsg = {
    node: [{ opType: 'Relu', input: ['x'], output: ['y'] }],
    initializer: [],
    input: [],
    output: [],
  };
  assert.equal(onlyFloat32(base), true);
  const variants: [string, GraphMsg][] = [
    ['a float16 initializer', { ...base, initializer: [{ name: 'w', dataType: DataType.FLOAT16 }] }],
    ['a bfloat16 input', { ...base, input: [{ name: 'x', type: { tensorType: { elemType: DataType.BFLOAT16 } } }] }],
    [
      'a double value_info',
      { ...base, valueInfo: [{ name: 'y', type: { tensorType: { elemType: DataType.DOUBLE } } }] },
    ],
    [
      'a Cast to float16',
      { ...base, node: [{ opType: 'Cast', input: ['x'], output: ['y'], attribute: [{ name: 'to', type: 2, i: 10 }] }] },
    ],
    [
      'a float16 Constant',
      {
        ...base,
        node: [
          {
            opType: 'Constant',
            input: [],
            output: ['c'],
            attribute: [{ name: 'value', type: 4, t: { dataType: 10 } }],
          },
        ],
      },
    ],
    [
      'a subgraph',
      { ...base, node: [{ opType: 'If', input: ['b'], output: ['y'], attribute: [{ name: 'then_branch', type: 5 }] }] },
    ],
  ];
  for (const [what, g] of variants) assert.equal(onlyFloat32(g), false, what);
});

test('a pass exposes its Softmax outputs uncast, their sum and its hidden state; a step its joined taps only', () => {
  const pass = tapWholeGraph(analyseFile(file('decoder_model.onnx'), false));
  const a = analyseFile(file('decoder_model.onnx'), false);
  assert.deepEqual(pass.taps, softmaxOutputs(a.onnx.graph), 'the Softmax outputs themselves, in layer order');
  assert.equal(pass.taps.length, 4);
  assert.ok(pass.sums && pass.hidden, 'a sum and the hidden state');
  assert.equal(pass.joined, undefined);
  const step = tapWholeGraph(analyseFile(file('decoder_with_past_model.onnx'), false, true), true);
  assert.equal(step.taps.length, 4);
  assert.ok(step.joined);
  assert.equal(step.sums, undefined);
  assert.equal(step.hidden, undefined, 'a step decoder’s hidden state is never read');
});

test('a graph with a float16 tensor keeps a Cast to float32 per tap', () => {
  const a = analyseFile(file('decoder_model.onnx'), false);
  a.onnx.graph.valueInfo = [
    ...(a.onnx.graph.valueInfo ?? []),
    { name: 'unused', type: { tensorType: { elemType: 10 } } },
  ];
  const pass = tapWholeGraph(a);
  assert.ok(
    pass.taps.every((t) => t.startsWith('attention_lens_attn_')),
    pass.taps.join(),
  );
});

test('in onnxruntime: the sum is the taps’ own sum; the joined output is the taps flattened in tap order', async () => {
  const int64 = (dims: number[], v: (i: number) => number): FeedTensor => {
    const n = dims.reduce((x, y) => x * y, 1);
    return { type: 'int64', dims, data: BigInt64Array.from({ length: n }, (_, i) => BigInt(v(i))) };
  };
  const S = 5;
  const enc = {
    type: 'float32' as const,
    dims: [1, S, 128],
    data: Float32Array.from({ length: S * 128 }, (_, i) => Math.sin(i)),
  };
  const pass = tapWholeGraph(analyseFile(file('decoder_model.onnx'), false));
  const s1 = await createSession(pass.bytes, { backend: 'native', threads: 1 });
  try {
    const out = await s1.run(
      {
        input_ids: int64([1, 3], (i) => 10 + i),
        encoder_attention_mask: int64([1, S], () => 1),
        encoder_hidden_states: enc,
      },
      [...pass.taps, pass.sums!],
    );
    const want = pass.taps.reduce((s, t) => s + out[t].data.reduce((x, y) => x + y, 0), 0);
    assert.ok(Math.abs(out[pass.sums!].data[0] - want) < 1e-4, `${out[pass.sums!].data[0]} vs ${want}`);
    assert.ok(Math.abs(want - 4 * 4 * 3) < 1e-3, 'every row of every head sums to 1: 4 taps × 4 heads × 3 rows');
  } finally {
    await s1.release();
  }
  const step = tapWholeGraph(analyseFile(file('decoder_with_past_model.onnx'), false, true), true);
  const s2 = await createSession(step.bytes, { backend: 'native', threads: 1 });
  try {
    const feeds: Record<string, FeedTensor> = {
      input_ids: int64([1, 1], () => 7),
      encoder_attention_mask: int64([1, S], () => 1),
    };
    for (const name of s2.inputNames.filter((n) => n.startsWith('past_key_values.'))) {
      const P = name.includes('.encoder.') ? S : 2;
      feeds[name] = {
        type: 'float32',
        dims: [1, 4, P, 32],
        data: Float32Array.from({ length: 4 * P * 32 }, (_, i) => Math.cos(i * 0.3)),
      };
    }
    const out = await s2.run(feeds, [...step.taps, step.joined!]);
    const flat = step.taps.flatMap((t) => [...out[t].data]);
    assert.deepEqual(out[step.joined!].dims, [1, flat.length]);
    assert.deepEqual([...out[step.joined!].data], flat);
  } finally {
    await s2.release();
  }
});
