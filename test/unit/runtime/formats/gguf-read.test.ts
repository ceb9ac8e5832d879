// The GGUF header reader on files written by an independent writer (test/helpers/gguf-write.ts) and by gguf-py
// (the fixtures): every metadata value type and arrays, alignment, tensor infos and shapes; and the bad-input
// catalogue for GGUF files — each corrupt or unsupported file gives one clear line, before anything is allocated.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { isLensError, type LensErrorCode } from '../../../../runtime/errors';
import { bytesSource, parseGgufHeader } from '../../../../runtime/formats/gguf-read';
import { ggufBytes, tinyLlamaGguf } from '../../../helpers/gguf-write';
import { ggufFixturesDir } from '../../../helpers/fixtures';

const FIXTURES = ggufFixturesDir;

const parse = (b: Uint8Array) => parseGgufHeader('m.gguf', bytesSource(b));

function fails(code: LensErrorCode, pattern: RegExp, fn: () => unknown): void {
  assert.throws(fn, (e) => {
    assert.ok(isLensError(e), String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

test('metadata of every value type, arrays and tensor infos round-trip', () => {
  const b = ggufBytes(
    {
      'a.u32': { u32: 4000000000 },
      'a.i32': { i32: -7 },
      'a.f32': { f32: 0.5 },
      'a.bool': { bool: true },
      'a.str': { str: 'Café 東京 🎉' },
      'a.strs': { strs: ['x', '', 'ÿ'] },
      'a.i32s': { i32s: [1, -2, 3] },
      'a.f32s': { f32s: [0.25, -1] },
    },
    [
      { name: 'w', dims: [32, 3], type: 8, data: new Uint8Array(34 * 3) },
      { name: 'n', dims: [5], type: 0, data: new Uint8Array(20) },
    ],
  );
  const h = parse(b);
  assert.equal(h.version, 3);
  assert.equal(h.metadata.get('a.u32'), 4000000000);
  assert.equal(h.metadata.get('a.i32'), -7);
  assert.equal(h.metadata.get('a.f32'), 0.5);
  assert.equal(h.metadata.get('a.bool'), true);
  assert.equal(h.metadata.get('a.str'), 'Café 東京 🎉');
  assert.deepEqual(h.metadata.get('a.strs'), ['x', '', 'ÿ']);
  assert.deepEqual(h.metadata.get('a.i32s'), [1, -2, 3]);
  assert.deepEqual(h.metadata.get('a.f32s'), [0.25, -1]);
  assert.equal(h.dataStart % 32, 0);
  const [w, n] = h.tensors;
  assert.deepEqual([w.name, w.typeName, w.shape, w.end - w.begin], ['w', 'Q8_0', [3, 32], 102]);
  assert.deepEqual([n.name, n.typeName, n.shape, n.begin - h.dataStart], ['n', 'F32', [5], 128]);
});

test('gguf-py files: SmolLM2-sized metadata arrays, alignment and every tensor inside the file', () => {
  for (const f of ['tiny-llama-kquants.gguf', 'hf-tiny-qwen3.gguf']) {
    const bytes = readFileSync(path.join(FIXTURES, f));
    const h = parse(bytes);
    assert.ok((h.metadata.get('tokenizer.ggml.tokens') as string[]).length > 500);
    for (const t of h.tensors) assert.ok(t.begin >= h.dataStart && t.end <= bytes.length && t.begin % 32 === 0);
  }
});

test('general.alignment is honoured, and must be a power of two', () => {
  const t = [{ name: 'n', dims: [4], type: 0, data: new Uint8Array(16) }];
  // A file written with alignment 32 but declaring 64 puts the data start elsewhere: found as out of the file.
  const ok = parse(ggufBytes({ 'general.alignment': { u32: 32 } }, t));
  assert.equal(ok.alignment, 32);
  fails('CORRUPT_WEIGHTS', /alignment 48/, () => parse(ggufBytes({ 'general.alignment': { u32: 48 } }, t)));
});

test('bad-input catalogue: corrupt and unsupported GGUF files', () => {
  const good = tinyLlamaGguf();
  const patch = (at: number, bytes: number[]) => {
    const b = Buffer.from(good);
    Buffer.from(bytes).copy(b, at);
    return b;
  };
  fails('CORRUPT_WEIGHTS', /not a GGUF file/, () => parse(patch(0, [0x7f, 0x45, 0x4c, 0x46])));
  fails('CORRUPT_WEIGHTS', /too short/, () => parse(good.subarray(0, 10)));
  fails('UNSUPPORTED_MODEL', /version 1/, () => parse(patch(4, [1, 0, 0, 0])));
  fails('UNSUPPORTED_MODEL', /big-endian/, () => parse(patch(4, [0, 0, 0, 3])));
  fails('CORRUPT_WEIGHTS', /version 9/, () => parse(patch(4, [9, 0, 0, 0])));
  fails('CORRUPT_WEIGHTS', /more than the file holds/, () => parse(good.subarray(0, 300)));
  const inInfos = good.indexOf(Buffer.from('output_norm.weight', 'ascii')) + 5;
  fails('CORRUPT_WEIGHTS', /truncated: .* at byte \d+ needs \d+ bytes/, () => parse(good.subarray(0, inInfos)));
  fails('CORRUPT_WEIGHTS', /truncated: tensor output_norm\.weight ends at byte/, () =>
    parse(good.subarray(0, good.length - 40)),
  );
  // A metadata count or an array length far beyond the file is refused before allocating.
  fails('CORRUPT_WEIGHTS', /metadata entries/, () => parse(patch(16, [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])));
  const hugeArray = ggufBytes({ x: { strs: ['a'] } }, []);
  hugeArray.writeBigUInt64LE(1n << 40n, 24 + 8 + 1 + 4 + 4);
  fails('CORRUPT_WEIGHTS', /declares 1099511627776 elements in x/, () => parse(hugeArray));
  const rows = (dims: number[], type: number) =>
    parse(ggufBytes({}, [{ name: 'q', dims, type, data: new Uint8Array(64) }]));
  fails('CORRUPT_WEIGHTS', /Q8_0 tensor q whose rows \(33\)/, () => rows([33, 1], 8));
  fails('CORRUPT_WEIGHTS', /q with 5 dimensions/, () => rows([1, 1, 1, 1, 1], 0));
  const overlap = ggufBytes({}, [
    { name: 'a', dims: [8], type: 0, data: new Uint8Array(32) },
    { name: 'b', dims: [8], type: 0, data: new Uint8Array(32) },
  ]);
  // Point b's offset (the last u64 of its tensor info) at a's data.
  const infoEnd = overlap.indexOf(Buffer.from('b', 'ascii'), 24) + 1 + 4 + 8 + 4;
  overlap.writeBigUInt64LE(0n, infoEnd);
  fails('CORRUPT_WEIGHTS', /overlapping tensors a and b/, () => parse(overlap));
  fails('CORRUPT_WEIGHTS', /twice/, () =>
    parse(
      ggufBytes({}, [
        { name: 'a', dims: [8], type: 0, data: new Uint8Array(32) },
        { name: 'a', dims: [8], type: 0, data: new Uint8Array(32) },
      ]),
    ),
  );
  // A metadata key or tensor name is a short printable name: a corrupt length or bytes that are not text would
  // otherwise reach the messages that quote it (the file's bytes, line breaks included, in a one-line message).
  const name = (key: string, tensor = 'a') =>
    parse(ggufBytes({ [key]: { u32: 1 } }, [{ name: tensor, dims: [8], type: 0, data: new Uint8Array(32) }]));
  fails('CORRUPT_WEIGHTS', /has a metadata key 1 at byte 24 that is not printable text/, () => name('a\nb'));
  fails('CORRUPT_WEIGHTS', /has a metadata key 1 at byte 24 that is not printable text/, () => name('a\u0000b'));
  fails('CORRUPT_WEIGHTS', /has a metadata key 1 of 257 bytes at byte 24 \(at most 256\)/, () => name('k'.repeat(257)));
  fails('CORRUPT_WEIGHTS', /has a tensor name 1 of 64 bytes at byte \d+ \(at most 63\)/, () =>
    name('k', 't'.repeat(64)),
  );
  fails('CORRUPT_WEIGHTS', /has a tensor name 1 at byte \d+ that is not printable text/, () => name('k', 'blk.0\r'));
  // What gguf-py and llama.cpp write stays readable: a 256-byte key, a 63-byte tensor name, non-ASCII text.
  const widest = name('é.'.repeat(64) + 'k'.repeat(64), 't'.repeat(63));
  assert.deepEqual([...widest.metadata.keys()], ['é.'.repeat(64) + 'k'.repeat(64)], 'the 256-byte key is read');
  assert.equal(widest.tensors[0].name, 't'.repeat(63), 'the 63-byte tensor name is read');
  // The key (the length field) is read before its bytes: a length of 2^40 is refused without reading 1 TB.
  const hugeKey = ggufBytes({ k: { u32: 1 } }, []);
  hugeKey.writeBigUInt64LE(1n << 40n, 24);
  fails('CORRUPT_WEIGHTS', /metadata key 1 of 1099511627776 bytes/, () => parse(hugeKey));
});
