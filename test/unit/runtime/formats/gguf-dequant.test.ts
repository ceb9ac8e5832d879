// Every ggml type Attention Lens reads, block by block, against the gguf package's reference dequantizer
// (gguf.quants.dequantize): real blocks from SmolLM2-135M-Instruct.Q4_1.gguf, SmolLM2 weights quantized by
// gguf-py, and random blocks with valid scales — compared bit for bit (test/fixtures/gguf/dequant-blocks.json,
// written by scripts/make-gguf-dequant-fixture.py).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { DEQUANT_TYPES, dequantize } from '../../../../runtime/formats/gguf-dequant';
import { GGML_TYPES } from '../../../../runtime/formats/gguf-read';
import { isLensError } from '../../../../runtime/errors';
import { ggufFixturesDir } from '../../../helpers/fixtures';

interface Case {
  source: string;
  count: number;
  raw: string;
  values: string;
}
const fixture = JSON.parse(readFileSync(path.join(ggufFixturesDir, 'dequant-blocks.json'), 'utf8')) as {
  types: Record<string, { id: number; blockSize: number; typeSize: number; cases: Case[] }>;
};

const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));

test('the fixture covers every type the dequantizer claims, with the block sizes of the reader', () => {
  assert.deepEqual(Object.keys(fixture.types).sort(), [...DEQUANT_TYPES].sort());
  for (const [name, t] of Object.entries(fixture.types)) {
    assert.equal(GGML_TYPES[t.id]?.name, name);
    assert.equal(GGML_TYPES[t.id].blockSize, t.blockSize, name);
    assert.equal(GGML_TYPES[t.id].typeSize, t.typeSize, name);
  }
});

for (const [name, t] of Object.entries(fixture.types)) {
  test(`${name}: bit-identical to gguf.quants.dequantize`, () => {
    for (const c of t.cases) {
      const raw = bytes(c.raw);
      const want = new Uint32Array(bytes(c.values).slice().buffer);
      assert.equal(raw.length, (c.count / t.blockSize) * t.typeSize, `${name} ${c.source}: block bytes`);
      // Unaligned input (a tensor's bytes inside a larger buffer) must work too.
      const shifted = new Uint8Array(raw.length + 3);
      shifted.set(raw, 3);
      for (const input of [raw, shifted.subarray(3)]) {
        const got = new Uint32Array(dequantize(t.id, input, c.count, name).buffer);
        let firstBad = -1;
        for (let i = 0; i < want.length && firstBad < 0; i++) if (got[i] !== want[i]) firstBad = i;
        assert.equal(firstBad, -1, `${name} ${c.source}: element ${firstBad} differs`);
      }
    }
  });
}

test('an unsupported type is one line naming the type and the tensor', () => {
  for (const id of [16, 23, 9, 99]) {
    try {
      dequantize(id, new Uint8Array(1024), 256, 'blk.7.ffn_down.weight');
      assert.fail('no error');
    } catch (e) {
      assert.ok(isLensError(e) && e.code === 'UNSUPPORTED_MODEL');
      assert.match(e.message, /blk\.7\.ffn_down\.weight/);
      assert.match(e.message, new RegExp(GGML_TYPES[id]?.name ?? `type ${id}`));
      assert.ok(!e.message.includes('\n'));
    }
  }
});
