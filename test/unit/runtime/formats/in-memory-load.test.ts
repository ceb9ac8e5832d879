// The webview's load path without a browser: config.json parsed from text, safetensors read from bytes in memory
// (runtime/formats/safetensors-bytes.ts) must give exactly what the Node path reads from the folder — the same
// tensors and the same stage graphs, byte for byte — and sharded or corrupt in-memory files behave like files on disk.
// The graphs are encoded without run-time code generation (onnx-encode.ts, for the webview's CSP): its bytes must be
// protobufjs's (encodeModel) for every message the builder writes and for every field of real stage graphs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../../../runtime/formats/config-normalise';
import { bytesWeights, type WeightFile } from '../../../../runtime/formats/weight-bytes';
import { isLensError } from '../../../../runtime/errors';
import { decodeModel, encodeModel, type ModelMsg } from '../../../../runtime/formats/onnx-schema';
import { encodeModelPlain } from '../../../../runtime/formats/onnx-encode';
import { A, GraphBuilder } from '../../../../runtime/models/graph-builder';
import { buildPlan } from '../../../../runtime/models/builders';
import { readModel } from '../../../../runtime/models/read-model';
import { fixtureModel } from '../../../helpers/fixtures';

const MODELS = [fixtureModel('stories260K'), fixtureModel('tiny-gpt2')];

function need(dir: string): void {
  if (!existsSync(join(dir, 'model.safetensors'))) throw new Error(`test model missing: ${dir}`);
}

function fileOf(name: string, dir: string): WeightFile {
  return { name, bytes: new Uint8Array(readFileSync(join(dir, name))) };
}

/** [u64 LE header length][header JSON][data]. */
function safetensors(header: unknown, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const f32 = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);

for (const dir of MODELS) {
  test(`${dir.split('/').pop()}: bytes in memory give the same tensors and stage graphs as the folder`, async () => {
    need(dir);
    const disk = await readModel(dir);
    const config = parseConfig(readFileSync(join(dir, 'config.json'), 'utf8'));
    const weights = bytesWeights([fileOf('model.safetensors', dir)]);
    assert.deepEqual(config, disk.config);
    assert.deepEqual(weights.names().sort(), disk.weights.names().sort());
    for (const name of weights.names()) {
      assert.deepEqual(weights.shape(name), disk.weights.shape(name), name);
      assert.deepEqual(weights.get(name), disk.weights.get(name), name);
    }
    const fromBytes = buildPlan({ config, weights });
    const fromDisk = buildPlan(disk);
    assert.equal(fromBytes.stages.length, fromDisk.stages.length);
    fromBytes.stages.forEach((s, i) => assert.ok(Buffer.from(s.onnx).equals(Buffer.from(fromDisk.stages[i].onnx))));
  });
}

test('sharded weights in memory are found through the index; a missing shard or tensor is named', () => {
  const a = safetensors({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f32([1, 2]));
  const b = safetensors({ y: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, new Uint8Array([0x00, 0x3c]));
  const index = JSON.stringify({ weight_map: { x: 's1.safetensors', y: 's2.safetensors' } });
  const w = bytesWeights(
    [
      { name: 's1.safetensors', bytes: a },
      { name: 's2.safetensors', bytes: b },
    ],
    index,
  );
  assert.deepEqual([...w.get('x')], [1, 2]);
  assert.deepEqual([...w.get('y')], [1]);
  assert.throws(
    () => bytesWeights([{ name: 's1.safetensors', bytes: a }], index),
    (e: unknown) => isLensError(e) && e.code === 'NO_WEIGHTS' && /s2\.safetensors/.test(e.message),
  );
  const wrong = JSON.stringify({ weight_map: { z: 's1.safetensors' } });
  assert.throws(
    () => bytesWeights([{ name: 's1.safetensors', bytes: a }], wrong),
    (e: unknown) => isLensError(e) && e.code === 'CORRUPT_WEIGHTS' && /s1\.safetensors lacks tensor z/.test(e.message),
  );
});

test('tensors at unaligned offsets in a larger buffer are read exactly', () => {
  // The file sits 3 bytes into its buffer, so typed views of F16/BF16/F64 data would be misaligned without a copy.
  const data = new Uint8Array([0x00, 0x3c, 0x80, 0x3f, ...new Uint8Array(new Float64Array([0.25]).buffer)]);
  const file = safetensors(
    {
      h: { dtype: 'F16', shape: [1], data_offsets: [0, 2] },
      b: { dtype: 'BF16', shape: [1], data_offsets: [2, 4] },
      d: { dtype: 'F64', shape: [1], data_offsets: [4, 12] },
      __metadata__: { pad: 'x' },
    },
    data,
  );
  const shifted = new Uint8Array(file.length + 3);
  shifted.set(file, 3);
  const w = bytesWeights([{ name: 'model.safetensors', bytes: shifted.subarray(3) }]);
  assert.deepEqual([...w.get('h')], [1]);
  assert.deepEqual([...w.get('b')], [1]);
  assert.deepEqual([...w.get('d')], [0.25]);
});

test('corrupt bytes fail with CORRUPT_WEIGHTS naming the file', () => {
  const good = safetensors({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f32([1, 2]));
  const cases: [string, Uint8Array, RegExp][] = [
    ['too short', new Uint8Array(4), /too short/],
    ['truncated', good.subarray(0, good.length - 4), /truncated: tensor x/],
    [
      'bad header length',
      (() => {
        const b = good.slice();
        new DataView(b.buffer).setBigUint64(0, 1n << 40n, true);
        return b;
      })(),
      /declares a header/,
    ],
  ];
  for (const [what, bytes, pattern] of cases) {
    assert.throws(
      () => bytesWeights([{ name: 'model.safetensors', bytes }]),
      (e: unknown) =>
        isLensError(e) &&
        e.code === 'CORRUPT_WEIGHTS' &&
        /^model\.safetensors /.test(e.message) &&
        pattern.test(e.message),
      what,
    );
  }
});

test('an invalid config.json text fails with BAD_CONFIG', () => {
  assert.throws(
    () => parseConfig('{ nope', 'config.json'),
    (e: unknown) => isLensError(e) && e.code === 'BAD_CONFIG' && /not valid JSON/.test(e.message),
  );
});

function sameBytes(model: ModelMsg, what: string): void {
  assert.ok(Buffer.from(encodeModelPlain(model)).equals(Buffer.from(encodeModel(model))), what);
}

test('the eval-free ONNX encoder writes the same bytes as protobufjs for everything the builder emits', () => {
  const g = new GraphBuilder('all-kinds');
  const x = g.input('x', 'float32', ['batch', 'seq', 4]);
  const ids = g.input('ids', 'int64', ['batch', 'seq']);
  const w = g.weight('w', new Float32Array([0.5, -1, 2, 3.25, 0, -0, 1e-30, 7]), [4, 2]);
  const c = g.constI64([-1, 0, 2 ** 40], [3], 'c');
  const y = g.op('MatMul', [x, w]);
  const z = g.op('LayerNormalization', [y, g.weight('s', new Float32Array([1, 1]), [2])], {
    axis: A.int(-1),
    epsilon: A.float(1e-12),
    perm: A.ints([0, 2, 1, -3]),
    scales: A.floats([0.1, -2.5]),
    mode: A.string('linear ✓'),
  });
  g.output(z, 'out', 'float32', ['batch', 'seq', 2]);
  g.output(g.op('Gather', [c, ids]), 'ids_out', 'int64', ['batch', 'seq']);
  sameBytes(g.toModel(), 'builder graph');
  sameBytes({ graph: { node: [], initializer: [], input: [], output: [] } }, 'empty graph');
});

for (const dir of MODELS) {
  test(`${dir.split('/').pop()}: every stage graph re-encodes to protobufjs's bytes, defaults included`, async () => {
    need(dir);
    const plan = buildPlan(await readModel(dir));
    for (const stage of plan.stages)
      for (const bytes of [stage.onnx, ...(stage.vectors ? [stage.vectors()] : [])])
        sameBytes(decodeModel(bytes), `${stage.role} ${stage.layer ?? ''}`);
  });
}
