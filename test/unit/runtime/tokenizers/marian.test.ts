// The Marian tokenizer (source.spm + target.spm + vocab.json, no tokenizer.json) against transformers'
// MarianTokenizer: tiny-marian-dates' ids of reference_attention.json, and on 207 strings the source ids, the target
// ids (text_target=...) and the decoded text, for tiny-marian-dates (one BPE model for both sides) and an
// opus-mt-shaped folder with two different unigram models and a vocab.json that lacks some pieces. Offsets are those
// of sentencepiece (tokenizers-sentencepiece.test.ts). Missing or broken files give one clear line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isLensError } from '../../../../runtime/errors';
import { missingFromSnapshot, pickModelFiles, type HubSibling } from '../../../../runtime/hub/file-selection';
import { loadTokenizer } from '../../../../runtime/tokenizers/index';
import { fixturesDir } from '../../../helpers/fixtures';

const FIX = fixturesDir;
const DATES = path.join(FIX, 'models', 'tiny-marian-dates');
const UNIGRAM = path.join(FIX, 'tokenizers', 'marian-unigram');

interface MarianCase {
  text: string;
  pieces: string[];
  ids: number[];
  target_ids: number[];
  decoded: string;
}
const REF = JSON.parse(
  readFileSync(path.join(FIX, 'tokenizers', 'sentencepiece', 'marian-reference.json'), 'utf8'),
) as {
  folders: Record<string, MarianCase[]>;
};
const SPM = JSON.parse(readFileSync(path.join(FIX, 'tokenizers', 'sentencepiece', 'spm-reference.json'), 'utf8')) as {
  models: Record<string, { cases: { text: string; pieces: string[]; offsets: [number, number][] }[] }>;
};

test('tiny-marian-dates: the source and target ids of reference_attention.json', async () => {
  const ref = JSON.parse(readFileSync(path.join(DATES, 'reference_attention.json'), 'utf8'));
  const tok = await loadTokenizer(DATES);
  assert.equal(tok.kind, 'bpe-sentencepiece');
  const src = tok.encode(ref.source_text);
  assert.equal(ref.source_text, 'the 14th of March, 2021');
  assert.deepEqual(
    src.map((t) => t.id),
    ref.source_ids,
  );
  assert.deepEqual(
    src.map((t) => t.text),
    ref.source_tokens,
  );
  // Offsets by hand: ▁the [0,3) ▁14 [3,6) th [6,8) ▁of [8,11) ▁March [11,17) , [17,18) ▁2021 [18,23), </s> none.
  assert.deepEqual(
    src.map((t) => [t.start, t.end]),
    [
      [0, 3],
      [3, 6],
      [6, 8],
      [8, 11],
      [11, 17],
      [17, 18],
      [18, 23],
      [null, null],
    ],
  );
  assert.ok(src[src.length - 1].special);
  assert.ok(tok.target, 'Marian has a target-side tokenizer');
  const tgt = tok.target.encode(ref.target_text);
  assert.deepEqual(
    tgt.map((t) => t.id),
    ref.target_ids,
  );
  assert.deepEqual(
    tgt.map((t) => t.text),
    ref.target_tokens,
  );
  assert.deepEqual(tok.special, { unk: 1, eos: 0, pad: 399 });
  assert.equal(tok.vocabSize, 400);
  assert.equal(tok.decode(ref.target_ids), ref.target_text);
  assert.deepEqual(
    tok.encode(ref.source_text, { addSpecialTokens: false }).map((t) => t.id),
    ref.source_ids.slice(0, -1),
  );
});

for (const [folder, dir, spmModel] of [
  ['tiny-marian-dates', DATES, 'tiny-marian-dates'],
  ['marian-unigram', UNIGRAM, 'unigram-nmt'],
] as const) {
  test(`${folder}: source ids, target ids and decoded text equal MarianTokenizer's on every fixture string`, async () => {
    const tok = await loadTokenizer(dir);
    const spm = new Map(SPM.models[spmModel].cases.map((c) => [c.text, c]));
    const cases = REF.folders[folder];
    assert.ok(cases.length >= 200);
    let compared = 0;
    for (const c of cases) {
      const tokens = tok.encode(c.text);
      const where = `text ${JSON.stringify(c.text)}`;
      assert.deepEqual(
        tokens.map((t) => t.id),
        c.ids,
        where,
      );
      assert.deepEqual(
        tok.target?.encode(c.text).map((t) => t.id),
        c.target_ids,
        where,
      );
      assert.equal(tok.decode(c.ids), c.decoded, where);
      // Pieces: MarianTokenizer's, except that an unknown one is named by its id's vocabulary string.
      assert.deepEqual(
        tokens.slice(0, -1).map((t) => t.text),
        c.pieces.map((p, i) => (c.ids[i] === tok.special.unk ? '<unk>' : p)),
        where,
      );
      // Where Marian's pieces are sentencepiece's (no special token or language code in the text), the offsets are.
      const s = spm.get(c.text);
      if (s && JSON.stringify(s.pieces) === JSON.stringify(c.pieces)) {
        assert.deepEqual(
          tokens.slice(0, -1).map((t) => [t.start, t.end]),
          s.offsets,
          where,
        );
        compared++;
      }
    }
    assert.ok(compared > 150, `${compared} strings with offsets compared`);
  });
}

test('marian-unigram: separate source and target sentencepiece models; unknown pieces and language codes', async () => {
  const tok = await loadTokenizer(UNIGRAM);
  assert.equal(tok.kind, 'unigram');
  const cases = REF.folders['marian-unigram'];
  // The two sides segment differently somewhere, and vocab.json lacks some pieces (→ <unk>, id 1).
  assert.ok(cases.some((c) => JSON.stringify(c.ids) !== JSON.stringify(c.target_ids)));
  assert.ok(cases.some((c) => c.pieces.some((p, i) => c.ids[i] === 1 && p !== '<unk>')));
  // ">>fr<<" is one token (id 2 in this vocab.json) spanning the code; ">>xx<<" is not in it: <unk>.
  const fr = tok.encode('>>fr<< Bonjour');
  assert.deepEqual([fr[0].id, fr[0].start, fr[0].end], [2, 0, 6]);
  assert.equal(fr[1].start, 7);
  const xx = tok.encode('>>xx<< a');
  assert.deepEqual([xx[0].id, xx[0].text, xx[0].start, xx[0].end], [1, '<unk>', 0, 6]);
  // A special token written in the text is that token, with its span.
  const eos = tok.encode('a</s>b');
  assert.deepEqual(
    eos.filter((t) => t.id === 0).map((t) => [t.start, t.end, t.special]),
    [
      [1, 5, false],
      [null, null, true],
    ],
  );
});

function tempDir(copies: [string, string][], files: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lens-marian-'));
  for (const [from, name] of copies) copyFileSync(from, path.join(dir, name));
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
  return dir;
}

async function rejects(p: Promise<unknown>, code: string, ...mentions: string[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isLensError(e), `a LensError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.ok(!e.message.includes('\n'), 'one line');
    for (const m of mentions) assert.ok(e.message.includes(m), `"${e.message}" mentions ${m}`);
    return true;
  });
}

test('a Marian folder with missing or broken files gives one clear line naming the file', async () => {
  const f = (n: string): [string, string] => [path.join(DATES, n), n];
  const cases: [string, [string, string][], Record<string, string>, string, string[]][] = [
    ['no target.spm', [f('source.spm'), f('vocab.json')], {}, 'NO_TOKENIZER', ['target.spm']],
    ['no vocab.json', [f('source.spm'), f('target.spm')], {}, 'NO_TOKENIZER', ['vocab.json']],
    [
      'vocab.json without <unk>',
      [f('source.spm'), f('target.spm')],
      { 'vocab.json': '{"</s>": 0, "▁a": 1}' },
      'BAD_TOKENIZER',
      ['vocab.json', '<unk>'],
    ],
    ['vocab.json not JSON', [f('source.spm'), f('target.spm')], { 'vocab.json': '{' }, 'BAD_TOKENIZER', ['vocab.json']],
    [
      'source.spm not a model',
      [f('target.spm'), f('vocab.json')],
      { 'source.spm': 'hello, this is text' },
      'BAD_TOKENIZER',
      ['source.spm'],
    ],
    [
      'separate vocabularies without target_vocab.json',
      [f('source.spm'), f('target.spm'), f('vocab.json')],
      { 'tokenizer_config.json': '{"separate_vocabs": true}' },
      'NO_TOKENIZER',
      ['target_vocab.json'],
    ],
  ];
  for (const [what, copies, files, code, mentions] of cases) {
    const dir = tempDir(copies, files);
    try {
      await rejects(loadTokenizer(dir), code, ...mentions);
    } catch (e) {
      throw new Error(`${what}: ${(e as Error).message}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('separate vocabularies: target text is mapped through target_vocab.json', async () => {
  // target_vocab.json with its own ids: the target side uses them, the source side keeps vocab.json's.
  const vocab = JSON.parse(readFileSync(path.join(DATES, 'vocab.json'), 'utf8')) as Record<string, number>;
  const shifted = Object.fromEntries(Object.entries(vocab).map(([k, v]) => [k, v + 1000]));
  const dir = tempDir(
    [
      [path.join(DATES, 'source.spm'), 'source.spm'],
      [path.join(DATES, 'target.spm'), 'target.spm'],
      [path.join(DATES, 'vocab.json'), 'vocab.json'],
    ],
    { 'target_vocab.json': JSON.stringify(shifted), 'tokenizer_config.json': '{"separate_vocabs": true}' },
  );
  try {
    const tok = await loadTokenizer(dir);
    assert.deepEqual(
      tok.encode('2021-03-14').map((t) => t.id),
      [166, 2, 12, 2, 42, 0],
    );
    assert.deepEqual(
      tok.target?.encode('2021-03-14').map((t) => t.id),
      [1166, 1002, 1012, 1002, 1042, 1000],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the Hub: an opus-mt repository (no tokenizer.json) downloads its sentencepiece files and vocab.json', async () => {
  const listing = (...names: string[]): HubSibling[] =>
    names.map((rfilename, i) => ({ rfilename, size: 100 + i, blobId: String(i).padStart(40, 'b') }));
  // What Helsinki-NLP/opus-mt-en-de lists.
  const repo = listing(
    '.gitattributes',
    'README.md',
    'config.json',
    'generation_config.json',
    'metadata.json',
    'model.safetensors',
    'pytorch_model.bin',
    'rust_model.ot',
    'source.spm',
    'target.spm',
    'tf_model.h5',
    'tokenizer_config.json',
    'vocab.json',
  );
  const names = pickModelFiles('Helsinki-NLP/opus-mt-en-de', repo).files.map((f) => f.name);
  assert.deepEqual(names.sort(), [
    'config.json',
    'generation_config.json',
    'model.safetensors',
    'source.spm',
    'target.spm',
    'tokenizer_config.json',
    'vocab.json',
  ]);
  assert.equal(await missingFromSnapshot(DATES), undefined, 'a complete Marian folder lacks nothing');
  const dir = tempDir([
    [path.join(DATES, 'config.json'), 'config.json'],
    [path.join(DATES, 'model.safetensors'), 'model.safetensors'],
    [path.join(DATES, 'source.spm'), 'source.spm'],
    [path.join(DATES, 'vocab.json'), 'vocab.json'],
  ]);
  try {
    assert.equal(await missingFromSnapshot(dir), 'a tokenizer');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
