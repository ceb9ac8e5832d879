// Tests for runtime/formats/safetensors.ts on files written by hand (header + bytes) in a temp folder: F32, F16
// (subnormals, infinities, -0) and BF16 with values worked out by hand from their bit patterns, sharded models,
// and every kind of corruption, which must fail with CORRUPT_WEIGHTS and a message naming the problem.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { memoryWeights, openWeights } from '../../../../runtime/formats/safetensors';
import { decodeInto } from '../../../../runtime/formats/safetensors-bytes';
import { isLensError } from '../../../../runtime/errors';

const made: string[] = [];
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-st-'));
  made.push(dir);
  return dir;
}

/** Writes [u64 LE header length][header JSON][data] to dir/name. */
function writeRaw(dir: string, name: string, header: unknown, data: Uint8Array, headerText?: string): string {
  const json = Buffer.from(headerText ?? JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const file = path.join(dir, name);
  fs.writeFileSync(file, Buffer.concat([len, json, data]));
  return file;
}

const u16 = (values: number[]) => new Uint8Array(new Uint16Array(values).buffer);
const f32 = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);

async function rejectsWith(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isLensError(e), `expected a LensError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

test('F32 tensors are read with their shapes', async () => {
  const dir = tempDir();
  const header = {
    __metadata__: { format: 'pt' },
    a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] },
    b: { dtype: 'F32', shape: [3], data_offsets: [16, 28] },
    empty: { dtype: 'F32', shape: [0, 4], data_offsets: [28, 28] },
  };
  writeRaw(dir, 'model.safetensors', header, f32([1, -2.5, 3.25, 0.1, 7, 8, 9]));
  const w = await openWeights(dir);
  assert.deepEqual(w.names().sort(), ['a', 'b', 'empty']);
  assert.equal(w.has('a'), true);
  assert.equal(w.has('__metadata__'), false);
  assert.deepEqual(w.shape('a'), [2, 2]);
  assert.deepEqual([...w.get('a')], [1, -2.5, 3.25, Math.fround(0.1)]);
  assert.deepEqual([...w.get('b')], [7, 8, 9]);
  assert.equal(w.get('empty').length, 0);
});

test('F16 converts exactly, including subnormals, infinities, -0 and NaN', async () => {
  const dir = tempDir();
  // Bit patterns and their values worked out by hand from the IEEE binary16 layout (1 sign, 5 exponent, 10 mantissa).
  const cases: [number, number][] = [
    [0x3c00, 1],
    [0xc000, -2],
    [0x3555, 0.333251953125], // (1 + 341/1024) · 2^-2
    [0x7bff, 65504], // largest finite
    [0x0001, 2 ** -24], // smallest subnormal
    [0x03ff, 1023 * 2 ** -24], // largest subnormal
    [0x0400, 2 ** -14], // smallest normal
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
    [0x8000, -0],
  ];
  const bits = [...cases.map((c) => c[0]), 0x7e00];
  // The conversion itself, infinities and NaN included.
  const got = new Float32Array(bits.length);
  decodeInto('F16', u16(bits), got);
  cases.forEach(([b, v], i) => assert.ok(Object.is(got[i], v), `0x${b.toString(16)}: expected ${v}, got ${got[i]}`));
  assert.ok(Number.isNaN(got[cases.length]));
  // Read from a file, the finite values come back as converted; a tensor holding ±Inf or NaN is refused by name.
  const finite = cases.filter(([, v]) => Number.isFinite(v));
  writeRaw(
    dir,
    'model.safetensors',
    {
      h: { dtype: 'F16', shape: [finite.length], data_offsets: [0, finite.length * 2] },
      inf: { dtype: 'F16', shape: [bits.length], data_offsets: [finite.length * 2, (finite.length + bits.length) * 2] },
    },
    new Uint8Array([...u16(finite.map((c) => c[0])), ...u16(bits)]),
  );
  const w = await openWeights(dir);
  const read = w.get('h');
  finite.forEach(([b, v], i) => assert.ok(Object.is(read[i], v), `0x${b.toString(16)}: expected ${v}, got ${read[i]}`));
  assert.throws(
    () => w.get('inf'),
    (e: unknown) =>
      isLensError(e) && e.code === 'NON_FINITE' && /^Weight inf holds Infinity \(value 7 of 11\)/.test(e.message),
  );
});

test('BF16 converts exactly', async () => {
  const dir = tempDir();
  // bfloat16 is the top half of a float32: 1 sign, 8 exponent, 7 mantissa bits.
  const cases: [number, number][] = [
    [0x3f80, 1],
    [0xc040, -3],
    [0x3eab, 0.333984375], // (1 + 43/128) · 2^-2
    [0x0001, 2 ** -133], // smallest subnormal: 2^-126 · 2^-7
    [0x7f80, Infinity],
    [0x8000, -0],
  ];
  const got = new Float32Array(cases.length);
  decodeInto('BF16', u16(cases.map((c) => c[0])), got);
  cases.forEach(([b, v], i) => assert.ok(Object.is(got[i], v), `0x${b.toString(16)}: expected ${v}, got ${got[i]}`));
  // From a file: the shape as stored, the finite values as converted (Infinity would be refused at load).
  const finite = [...cases.filter(([, v]) => Number.isFinite(v)), [0x4000, 2] as [number, number]];
  writeRaw(
    dir,
    'model.safetensors',
    { x: { dtype: 'BF16', shape: [2, 3], data_offsets: [0, 12] } },
    u16(finite.map((c) => c[0])),
  );
  const w = await openWeights(dir);
  assert.deepEqual(w.shape('x'), [2, 3]);
  const read = w.get('x');
  finite.forEach(([b, v], i) => assert.ok(Object.is(read[i], v), `0x${b.toString(16)}: expected ${v}, got ${read[i]}`));
});

test('non-float tensors (I64 buffers) are listed but cannot be read as weights', async () => {
  const dir = tempDir();
  writeRaw(
    dir,
    'model.safetensors',
    {
      ids: { dtype: 'I64', shape: [1, 2], data_offsets: [0, 16] },
      w: { dtype: 'F32', shape: [1], data_offsets: [16, 20] },
    },
    new Uint8Array([...new Uint8Array(16), ...f32([4])]),
  );
  const w = await openWeights(dir);
  assert.deepEqual(w.shape('ids'), [1, 2]);
  assert.deepEqual([...w.get('w')], [4]);
  assert.throws(
    () => w.get('ids'),
    (e: unknown) => isLensError(e) && /ids.*I64/.test(e.message),
  );
});

test('sharded weights via model.safetensors.index.json', async () => {
  const dir = tempDir();
  writeRaw(
    dir,
    'model-00001-of-00002.safetensors',
    { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } },
    f32([1, 2]),
  );
  writeRaw(
    dir,
    'model-00002-of-00002.safetensors',
    { b: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } },
    u16([0xc000]),
  );
  fs.writeFileSync(
    path.join(dir, 'model.safetensors.index.json'),
    JSON.stringify({
      metadata: {},
      weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' },
    }),
  );
  const w = await openWeights(dir);
  assert.deepEqual(w.names().sort(), ['a', 'b']);
  assert.deepEqual([...w.get('a')], [1, 2]);
  assert.deepEqual([...w.get('b')], [-2]);
});

test('a shard index naming a tensor its shard lacks, or a missing shard, is reported', async () => {
  const dir = tempDir();
  writeRaw(dir, 's1.safetensors', { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32([1]));
  fs.writeFileSync(
    path.join(dir, 'model.safetensors.index.json'),
    JSON.stringify({ weight_map: { a: 's1.safetensors', z: 's1.safetensors' } }),
  );
  await rejectsWith(openWeights(dir), 'CORRUPT_WEIGHTS', /s1\.safetensors lacks tensor z/);
  fs.writeFileSync(
    path.join(dir, 'model.safetensors.index.json'),
    JSON.stringify({ weight_map: { a: 's2.safetensors' } }),
  );
  await rejectsWith(openWeights(dir), 'NO_WEIGHTS', /s2\.safetensors/);
});

test('no weights: NO_WEIGHTS lists what was looked for and says how to get safetensors from other formats', async () => {
  const dir = tempDir();
  await rejectsWith(
    openWeights(dir),
    'NO_WEIGHTS',
    /model\.safetensors, model\.safetensors\.index\.json, pytorch_model\.bin and pytorch_model\.bin\.index\.json/,
  );
  fs.writeFileSync(path.join(dir, 'tf_model.h5'), 'x');
  await rejectsWith(
    openWeights(dir),
    'NO_WEIGHTS',
    /Found tf_model\.h5: save the model with transformers' save_pretrained/,
  );
  fs.writeFileSync(path.join(dir, 'pytorch_model.bin'), 'x');
  await rejectsWith(openWeights(dir), 'CORRUPT_WEIGHTS', /pytorch_model\.bin is too short to be a PyTorch checkpoint/);
});

test('corrupt files fail with CORRUPT_WEIGHTS naming the file, tensor and problem', async () => {
  const good = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const cases: { name: string; write: (dir: string) => void; pattern: RegExp }[] = [
    {
      name: 'truncated file',
      write: (dir) =>
        writeRaw(
          dir,
          'model.safetensors',
          { ...good, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } },
          f32([1, 2, 3]),
        ),
      pattern:
        /model\.safetensors is truncated: tensor b ends at byte 16 but the data section has 12 bytes — re-download/,
    },
    {
      name: 'overlapping tensors',
      write: (dir) =>
        writeRaw(
          dir,
          'model.safetensors',
          {
            a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
            b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
          },
          f32([1, 2, 3]),
        ),
      pattern: /overlapping tensors a .* and b/,
    },
    {
      name: 'offsets out of bounds',
      write: (dir) =>
        writeRaw(dir, 'model.safetensors', { a: { dtype: 'F32', shape: [2], data_offsets: [100, 108] } }, f32([1, 2])),
      pattern: /tensor a ends at byte 108 but the data section has 8 bytes/,
    },
    {
      name: 'byte length differs from shape × dtype',
      write: (dir) =>
        writeRaw(dir, 'model.safetensors', { a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32([1, 2])),
      pattern: /tensor a of 8 bytes, but its shape \[3\] × F32 needs 12 bytes/,
    },
    {
      name: 'bad JSON header',
      write: (dir) => writeRaw(dir, 'model.safetensors', null, f32([1, 2]), '{"a": {"dtype": "F32",'),
      pattern: /invalid JSON header/,
    },
    {
      name: 'header length larger than the file',
      write: (dir) => {
        const len = Buffer.alloc(8);
        len.writeBigUInt64LE(5000n);
        fs.writeFileSync(path.join(dir, 'model.safetensors'), Buffer.concat([len, Buffer.from('{}')]));
      },
      pattern: /header of 5000 bytes but the file has only 2 bytes/,
    },
    {
      name: 'absurd header length',
      write: (dir) => {
        const len = Buffer.alloc(8);
        len.writeBigUInt64LE(1n << 40n);
        fs.writeFileSync(path.join(dir, 'model.safetensors'), Buffer.concat([len, Buffer.from('{}')]));
      },
      pattern: /header of \d+ bytes \(more than/,
    },
    {
      name: 'unknown dtype',
      write: (dir) =>
        writeRaw(dir, 'model.safetensors', { a: { dtype: 'F99', shape: [2], data_offsets: [0, 8] } }, f32([1, 2])),
      pattern: /tensor a with unknown dtype "F99"/,
    },
    {
      name: 'file shorter than the length prefix',
      write: (dir) => fs.writeFileSync(path.join(dir, 'model.safetensors'), Buffer.from([1, 2, 3])),
      pattern: /too short/,
    },
    {
      name: 'negative offsets',
      write: (dir) =>
        writeRaw(dir, 'model.safetensors', { a: { dtype: 'F32', shape: [2], data_offsets: [-8, 0] } }, f32([1, 2])),
      pattern: /tensor a with invalid data_offsets/,
    },
    {
      name: 'invalid shape',
      write: (dir) =>
        writeRaw(dir, 'model.safetensors', { a: { dtype: 'F32', shape: [2.5], data_offsets: [0, 8] } }, f32([1, 2])),
      pattern: /tensor a with an invalid shape/,
    },
  ];
  for (const c of cases) {
    const dir = tempDir();
    c.write(dir);
    await rejectsWith(openWeights(dir), 'CORRUPT_WEIGHTS', c.pattern).catch((e: Error) => {
      throw new Error(`${c.name}: ${e.message}`);
    });
    await rejectsWith(openWeights(dir), 'CORRUPT_WEIGHTS', /^model\.safetensors /);
  }
});

test('memoryWeights serves in-memory tensors and checks their sizes', () => {
  const w = memoryWeights({ x: { shape: [2, 1], data: Float32Array.of(1, 2) } });
  assert.deepEqual(w.names(), ['x']);
  assert.deepEqual(w.shape('x'), [2, 1]);
  assert.deepEqual([...w.get('x')], [1, 2]);
  assert.equal(w.has('y'), false);
  assert.throws(
    () => memoryWeights({ x: { shape: [3], data: Float32Array.of(1, 2) } }),
    (e: unknown) => isLensError(e) && e.code === 'SHAPE_MISMATCH',
  );
});
