// Loading tokenizers from a model folder: the vocab.txt and vocab.json + merges.txt fallbacks give the same
// tokens as tokenizer.json, and missing or malformed files give NO_TOKENIZER / BAD_TOKENIZER with a clear message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadTokenizer, tokenizerFromJson } from '../../../../runtime/tokenizers/index';
import { isLensError } from '../../../../runtime/errors';
import { fixtureModel, fixturesDir, miniLmTokenizerDir } from '../../../helpers/fixtures';

function tempDir(files: Record<string, string>, copies: string[] = [], from = ''): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lens-tok-'));
  for (const f of copies) copyFileSync(path.join(from, f), path.join(dir, f));
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
  return dir;
}

function fixtureTexts(name: string): string[] {
  const f = JSON.parse(readFileSync(path.join(fixturesDir, 'tokenizers', `${name}.json`), 'utf8'));
  return (f.cases as { text: string }[]).map((c) => c.text);
}

async function rejectsWith(p: Promise<unknown>, code: string, ...mentions: string[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isLensError(e), `a LensError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.ok(!e.message.includes('\n'), 'one-line message');
    for (const m of mentions) assert.ok(e.message.includes(m), `message "${e.message}" mentions ${m}`);
    return true;
  });
}

function throwsWith(fn: () => unknown, code: string, ...mentions: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isLensError(e), `a LensError, got ${String(e)}`);
    assert.equal(e.code, code);
    for (const m of mentions) assert.ok(e.message.includes(m), `message "${e.message}" mentions ${m}`);
    return true;
  });
}

test('vocab.txt fallback gives the same tokens as tokenizer.json (MiniLM)', async () => {
  const src = miniLmTokenizerDir;
  const dir = tempDir({}, ['vocab.txt', 'tokenizer_config.json'], src);
  try {
    const a = await loadTokenizer(src);
    const b = await loadTokenizer(dir);
    assert.equal(b.kind, 'wordpiece');
    assert.deepEqual(b.special, a.special);
    for (const text of fixtureTexts('minilm')) assert.deepEqual(b.encode(text), a.encode(text), JSON.stringify(text));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('vocab.txt with do_lower_case false keeps case; without a config it lowercases', async () => {
  const src = miniLmTokenizerDir;
  const cased = tempDir({ 'tokenizer_config.json': '{"do_lower_case": false}' }, ['vocab.txt'], src);
  const bare = tempDir({}, ['vocab.txt'], src);
  try {
    const texts = (dir: string): Promise<string[]> =>
      loadTokenizer(dir).then((t) => t.encode('Hello').map((x) => x.text));
    // "Hello" is not in the uncased vocabulary, so cased tokenization falls back to [UNK].
    assert.deepEqual(await texts(cased), ['[CLS]', '[UNK]', '[SEP]']);
    assert.deepEqual(await texts(bare), ['[CLS]', 'hello', '[SEP]']);
  } finally {
    rmSync(cased, { recursive: true, force: true });
    rmSync(bare, { recursive: true, force: true });
  }
});

test('vocab.json + merges.txt fallback gives the same tokens as tokenizer.json (GPT-2)', async () => {
  const src = fixtureModel('tiny-gpt2');
  const dir = tempDir({}, ['vocab.json', 'merges.txt', 'tokenizer_config.json'], src);
  try {
    const a = await loadTokenizer(src);
    const b = await loadTokenizer(dir);
    assert.equal(b.kind, 'bpe-bytelevel');
    assert.equal(b.vocabSize, a.vocabSize);
    for (const text of fixtureTexts('gpt2')) assert.deepEqual(b.encode(text), a.encode(text), JSON.stringify(text));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a folder without tokenizer files is NO_TOKENIZER naming the files looked for', async () => {
  const dir = tempDir({ 'config.json': '{}' });
  try {
    await rejectsWith(loadTokenizer(dir), 'NO_TOKENIZER', 'tokenizer.json', 'vocab.txt', 'vocab.json', 'merges.txt');
    // vocab.json alone is not enough.
    writeFileSync(path.join(dir, 'vocab.json'), '{"a": 0}');
    await rejectsWith(loadTokenizer(dir), 'NO_TOKENIZER', 'merges.txt');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('malformed files are BAD_TOKENIZER naming the file and the problem', async () => {
  const cases: [Record<string, string>, string[]][] = [
    [{ 'tokenizer.json': '{"model": ' }, ['tokenizer.json', 'not valid JSON']],
    [{ 'tokenizer.json': '[1, 2]' }, ['tokenizer.json', 'not a JSON object']],
    [{ 'tokenizer.json': '{"model": {"type": "BPE", "vocab": {"a": 0}}}' }, ['tokenizer.json', 'merges']],
    [{ 'tokenizer.json': '{"model": {"type": "WordPiece", "vocab": {"a": "x"}}}' }, ['tokenizer.json', '"a"']],
    [{ 'tokenizer_config.json': 'nope', 'vocab.txt': '[UNK]\n' }, ['tokenizer_config.json']],
    [{ 'vocab.txt': 'a\nb\n' }, ['vocab.txt', '[UNK]']],
    [{ 'vocab.json': '{"a": 0, "b": 1}', 'merges.txt': '#version: 0.2\na b\n' }, ['merges.txt', 'a b']],
    [{ 'vocab.json': '{"a": 0}', 'merges.txt': 'a b c\n' }, ['merges.txt', 'line 1']],
    [{ 'vocab.json': '["a"]', 'merges.txt': '' }, ['vocab.json']],
  ];
  for (const [files, mentions] of cases) {
    const dir = tempDir(files);
    try {
      await rejectsWith(loadTokenizer(dir), 'BAD_TOKENIZER', ...mentions);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('unsupported types are BAD_TOKENIZER naming the type', () => {
  const base = { model: { type: 'WordPiece', vocab: { '[UNK]': 0, a: 1 }, unk_token: '[UNK]' } };
  throwsWith(() => tokenizerFromJson({ model: { type: 'Unigram', vocab: [] } }), 'BAD_TOKENIZER', 'Unigram', 'empty');
  throwsWith(() => tokenizerFromJson({ model: { type: 'WordLevel', vocab: {} } }), 'BAD_TOKENIZER', 'WordLevel');
  throwsWith(() => tokenizerFromJson({ ...base, normalizer: { type: 'Precompiled' } }), 'BAD_TOKENIZER', 'Precompiled');
  throwsWith(
    () => tokenizerFromJson({ ...base, pre_tokenizer: { type: 'UnicodeScripts' } }),
    'BAD_TOKENIZER',
    'UnicodeScripts',
  );
  throwsWith(() => tokenizerFromJson({ ...base, post_processor: { type: 'Mystery' } }), 'BAD_TOKENIZER', 'Mystery');
  throwsWith(() => tokenizerFromJson('hello'), 'BAD_TOKENIZER', 'tokenizer.json');
  // A minimal valid description works.
  const tok = tokenizerFromJson({ ...base, pre_tokenizer: { type: 'WhitespaceSplit' } });
  assert.deepEqual(
    tok.encode('a  a b').map((t) => [t.id, t.start, t.end]),
    [
      [1, 0, 1],
      [1, 3, 4],
      [0, 5, 6],
    ],
  );
});

test('Metaspace pre-tokenizer variant of sentencepiece BPE', () => {
  // A tiny Llama-style tokenizer without the Prepend/Replace normalizer: Metaspace does the same job.
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '▁': 2, a: 3, b: 4, '▁a': 5, '▁b': 6, '▁ab': 7 };
  const tok = tokenizerFromJson({
    model: { type: 'BPE', vocab, merges: ['▁ a', '▁a b', '▁ b'], unk_token: '<unk>', fuse_unk: true },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: true },
    added_tokens: [{ id: 1, content: '<s>', special: true, normalized: false }],
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: true },
  });
  // "ab b  a" → ▁ab | ▁b | ▁ | ▁a ; unknown "xy" fuses into one <unk>.
  assert.deepEqual(
    tok.encode('ab b  a').map((t) => [t.text, t.start, t.end]),
    [
      ['<s>', null, null],
      ['▁ab', 0, 2],
      ['▁b', 2, 4],
      ['▁', 4, 5],
      ['▁a', 5, 7],
    ],
  );
  assert.deepEqual(
    tok.encode('axy', { addSpecialTokens: false }).map((t) => [t.text, t.start, t.end]),
    [
      ['▁a', 0, 1],
      ['<unk>', 1, 3],
    ],
  );
  assert.equal(tok.decode(tok.encode('ab b').map((t) => t.id)), 'ab b');
});
