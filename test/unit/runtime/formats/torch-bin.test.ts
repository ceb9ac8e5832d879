// PyTorch checkpoints (runtime/formats/torch-bin.ts, torch-pickle.ts) on files torch.save wrote
// (scripts/make-torch-bin-fixtures.py): both layouts (zip and legacy) give every tensor's values as the fixture's
// formula says — views of one storage (transposed, at an offset), float16, bfloat16, float64, a 0-d tensor, an
// nn.Parameter; integer buffers are listed and refused when read; shards through pytorch_model.bin.index.json;
// tiny-marian-dates saved as a legacy pytorch_model.bin loads through the folder path with every tensor equal to its
// model.safetensors and attention equal to transformers' reference; and pickles that call anything else, unknown
// opcodes, cut or recompressed files fail with one line.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openWeights, readTorchEntries } from '../../../../runtime/formats/safetensors';
import { bytesWeights } from '../../../../runtime/formats/weight-bytes';
import { memorySource, readTorchTensor, torchEntries } from '../../../../runtime/formats/torch-bin';
import { unpickle } from '../../../../runtime/formats/torch-pickle';
import { isLensError } from '../../../../runtime/errors';
import { Seq2SeqRunner, shiftRight } from '../../../../runtime/generate/seq2seq-runner';
import { readSeq2SeqModel } from '../../../../runtime/models/seq2seq-read';
import { resolveFolder } from '../../../../runtime/models/source-resolver';
import { fixturesDir, marianDatesDir } from '../../../helpers/fixtures';

const TORCH = path.join(fixturesDir, 'torch');
const made: string[] = [];
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-torch-'));
  made.push(dir);
  return dir;
}

/** The fixture's values: element i of a storage is ((7 i) mod 31 − 15) / 4. */
const v = (i: number) => (((7 * i) % 31) - 15) / 4;
const values = (n: number, at = (i: number) => i) => Array.from({ length: n }, (_, i) => v(at(i)));

function expectCode(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isLensError(e), `a LensError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

for (const layout of ['zip', 'legacy']) {
  test(`synthetic-${layout}.bin: names, dtypes, shapes and values of every tensor, views included`, () => {
    const name = `synthetic-${layout}.bin`;
    const src = memorySource(name, fs.readFileSync(path.join(TORCH, name)));
    const entries = new Map(torchEntries(src).map((e) => [e.name, e]));
    assert.deepEqual([...entries.keys()], ['w', 't', 's', 'h', 'b', 'd', 'pos', 'scalar', 'p']);
    const get = (name: string) => Array.from(readTorchTensor(src, entries.get(name)!));
    const meta = (name: string) => [entries.get(name)!.dtype, entries.get(name)!.shape];
    assert.deepEqual(meta('w'), ['F32', [4, 6]]);
    assert.deepEqual(get('w'), values(24));
    // w.T: element (r, c) is w's (c, r), storage index c·6 + r.
    assert.deepEqual(meta('t'), ['F32', [6, 4]]);
    assert.deepEqual(
      get('t'),
      values(24, (i) => (i % 4) * 6 + Math.floor(i / 4)),
    );
    assert.equal(entries.get('t')!.contiguous, false);
    // w[1:3]: rows 1 and 2, from storage element 6.
    assert.deepEqual(meta('s'), ['F32', [2, 6]]);
    assert.deepEqual(
      get('s'),
      values(12, (i) => 6 + i),
    );
    assert.deepEqual(meta('h'), ['F16', [5]]);
    assert.deepEqual(get('h'), values(5));
    assert.deepEqual(meta('b'), ['BF16', [3, 2]]);
    assert.deepEqual(get('b'), values(6));
    assert.deepEqual(meta('d'), ['F64', [2]]);
    assert.deepEqual(get('d'), values(2));
    assert.deepEqual(meta('scalar'), ['F32', []]);
    assert.deepEqual(get('scalar'), [2.5]);
    assert.deepEqual(meta('p'), ['F32', [2, 2]]);
    assert.deepEqual(get('p'), values(4));
    assert.deepEqual(meta('pos'), ['I64', [3]]);
    expectCode(() => get('pos'), 'UNSUPPORTED_MODEL', /Tensor pos in synthetic-.*\.bin has dtype I64/);
  });
}

test('shards: pytorch_model.bin.index.json and its shards, from files and in memory (the webview)', async () => {
  const dir = path.join(TORCH, 'sharded');
  const names = fs.readdirSync(dir).filter((f) => f.endsWith('.bin'));
  const index = fs.readFileSync(path.join(dir, 'pytorch_model.bin.index.json'), 'utf8');
  const inMemory = bytesWeights(
    names.map((name) => ({ name, bytes: new Uint8Array(fs.readFileSync(path.join(dir, name))) })),
    index,
  );
  for (const w of [await openWeights(dir), inMemory]) {
    assert.deepEqual(w.names().sort(), ['b', 'h', 'w']);
    assert.deepEqual(Array.from(w.get('w')), values(24));
    assert.deepEqual(Array.from(w.get('b')), values(6));
    assert.deepEqual(w.shape('b'), [3, 2]);
  }
  const single = bytesWeights([
    { name: 'pytorch_model.bin', bytes: fs.readFileSync(path.join(TORCH, 'synthetic-zip.bin')) },
  ]);
  assert.deepEqual(
    Array.from(single.get('t')),
    values(24, (i) => (i % 4) * 6 + Math.floor(i / 4)),
  );
});

/** tiny-marian-dates with pytorch_model.bin (the legacy layout of PyTorch before 1.6) instead of model.safetensors. */
function marianBinFolder(): string {
  const dir = tempDir();
  for (const f of fs.readdirSync(marianDatesDir))
    if (f !== 'model.safetensors') fs.copyFileSync(path.join(marianDatesDir, f), path.join(dir, f));
  fs.copyFileSync(path.join(TORCH, 'tiny-marian-dates.bin'), path.join(dir, 'pytorch_model.bin'));
  return dir;
}

test('tiny-marian-dates as pytorch_model.bin: every tensor equals model.safetensors, and the folder opens as a family', async () => {
  const dir = marianBinFolder();
  assert.equal(resolveFolder(dir).kind, 'folder');
  const fromBin = await openWeights(dir);
  const fromSafetensors = await openWeights(marianDatesDir);
  assert.deepEqual(fromBin.names().sort(), fromSafetensors.names().sort());
  for (const name of fromSafetensors.names()) {
    assert.deepEqual(fromBin.shape(name), fromSafetensors.shape(name), name);
    assert.deepEqual(fromBin.get(name), fromSafetensors.get(name), name);
  }
});

test('tiny-marian-dates as pytorch_model.bin: attention of all three kinds equals transformers (native)', async () => {
  type Maps = number[][][][];
  const ref = JSON.parse(fs.readFileSync(path.join(marianDatesDir, 'reference_attention.json'), 'utf8')) as {
    source_ids: number[];
    target_ids: number[];
    encoder_attentions: Maps;
    decoder_attentions: Maps;
    cross_attentions: Maps;
  };
  const r = await Seq2SeqRunner.create(await readSeq2SeqModel(marianBinFolder()), { backend: 'native', threads: 1 });
  try {
    const enc = await r.encode(ref.source_ids);
    const out = await r.teacherForce(enc, shiftRight(ref.target_ids, r.source.config.decoderStartTokenId));
    const pairs = [
      [enc.attention, ref.encoder_attentions],
      [out.self, ref.decoder_attentions],
      [out.cross, ref.cross_attentions],
    ] as const;
    for (const [got, want] of pairs) {
      assert.equal(got.length, want.length);
      got.forEach((a, l) => {
        const flat = want[l].flat(2);
        assert.equal(a.data.length, flat.length);
        let worst = 0;
        flat.forEach((x, i) => (worst = Math.max(worst, Math.abs(a.data[i] - x))));
        assert.ok(worst <= 1e-5, `${a.kind} layer ${l}: ${worst}`);
      });
    }
  } finally {
    await r.release();
  }
});

test('a pickle that calls anything but the state dict’s few names is refused by name, never run', () => {
  // PROTO 2, GLOBAL posix.system, the string "ls", TUPLE1, REDUCE, STOP: pickle's "os.system('ls')", by hand.
  const bytes = Buffer.concat([
    Buffer.from([0x80, 0x02]),
    Buffer.from('cposix\nsystem\n', 'latin1'),
    Buffer.from([0x58, 2, 0, 0, 0]),
    Buffer.from('ls', 'latin1'),
    Buffer.from([0x85, 0x52, 0x2e]),
  ]);
  expectCode(
    () => unpickle(bytes, 'evil.bin'),
    'CORRUPT_WEIGHTS',
    /evil\.bin .*it calls posix\.system.*nothing was run/,
  );
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'pytorch_model.bin'), bytes);
  expectCode(() => readTorchEntries(path.join(dir, 'pytorch_model.bin')), 'CORRUPT_WEIGHTS', /calls posix\.system/);
});

test('bad checkpoints: one line each', () => {
  const dir = tempDir();
  const write = (name: string, bytes: Uint8Array) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    return file;
  };
  const zip = fs.readFileSync(path.join(TORCH, 'synthetic-zip.bin'));
  const legacy = fs.readFileSync(path.join(TORCH, 'synthetic-legacy.bin'));
  const cases: [string, Uint8Array, string, RegExp][] = [
    ['cut-zip.bin', zip.subarray(0, zip.length >> 1), 'CORRUPT_WEIGHTS', /is a zip archive without its directory/],
    ['cut-legacy.bin', legacy.subarray(0, legacy.length - 10), 'CORRUPT_WEIGHTS', /is truncated/],
    ['cut-pickle.bin', legacy.subarray(0, 40), 'CORRUPT_WEIGHTS', /truncated inside its pickle/],
    ['text.bin', Buffer.from('hello world'), 'CORRUPT_WEIGHTS', /neither a zip archive nor a pickle/],
    ['opcode.bin', Buffer.from([0x80, 0x02, 0xff, 0x2e]), 'CORRUPT_WEIGHTS', /pickle opcode 0xff at byte 2/],
    // PROTO 2, EMPTY_DICT, "a" → 1, SETITEM, STOP: a pickle, but not torch.save's magic number first.
    [
      'no-magic.bin',
      Buffer.from([0x80, 2, 0x7d, 0x58, 1, 0, 0, 0, 0x61, 0x4b, 1, 0x73, 0x2e]),
      'CORRUPT_WEIGHTS',
      /not a PyTorch checkpoint \(no magic number\)/,
    ],
  ];
  for (const [name, bytes, code, pattern] of cases)
    expectCode(() => readTorchEntries(write(name, bytes)), code, pattern);
  expectCode(
    () => readTorchEntries(path.join(TORCH, 'synthetic-deflated.bin')),
    'UNSUPPORTED_MODEL',
    /stores synthetic-zip\/\S+ compressed \(zip method 8\)/,
  );
});
