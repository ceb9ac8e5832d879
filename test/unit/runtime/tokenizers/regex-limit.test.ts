// A tokenizer file's own regular expressions run with a time limit (runtime/tokenizers/regex-thread.ts): a pattern
// that backtracks exponentially — (a+)+$ on 34 letters and a "!" takes hours in a backtracking engine — ends the
// tokenization in one line naming the file, the step and the pattern, instead of hanging the calling thread (in VS
// Code, the extension host). The same tokenizer keeps working on texts where the pattern is quick, and real patterns
// give the same tokens as HF's tokenizers (the references of hf-tiny/llama, whose Split pre-tokenizer is Llama 3's).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { isLensError } from '../../../../runtime/errors';
import { loadTokenizer } from '../../../../runtime/tokenizers/index';
import { setRegexTimeLimit } from '../../../../runtime/tokenizers/regex-thread';
import { fixtureModel } from '../../../helpers/fixtures';

// The product's limit is 5 s (the CLI's bad-input catalogue meets it); here 2 s, the same mechanism.
const LIMIT_MS = 2_000;
let TMP = '';
let productLimit = 0;
before(() => {
  TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-regex-limit-'));
  productLimit = setRegexTimeLimit(LIMIT_MS);
});
after(() => {
  setRegexTimeLimit(productLimit);
  fs.rmSync(TMP, { recursive: true, force: true });
});

/** A copy of stories260K's tokenizer with `change` applied to its tokenizer.json. */
function tokenizerDir(name: string, change: (json: Record<string, unknown>) => void): string {
  const dir = path.join(TMP, name);
  fs.mkdirSync(dir);
  const src = fixtureModel('stories260K');
  for (const f of ['tokenizer_config.json', 'special_tokens_map.json'])
    fs.copyFileSync(path.join(src, f), path.join(dir, f));
  const json = JSON.parse(fs.readFileSync(path.join(src, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  change(json);
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
  return dir;
}

const CATASTROPHIC = { Regex: '(a+)+$' };
const SLOW_TEXT = 'a'.repeat(34) + '!';

test('a normalizer pattern that backtracks without end: one line naming it, in bounded time; then quick texts work', async () => {
  const plain = await loadTokenizer(fixtureModel('stories260K'));
  const dir = tokenizerDir('normalizer', (json) => {
    const n = json.normalizer as { normalizers: unknown[] };
    n.normalizers.unshift({ type: 'Replace', pattern: CATASTROPHIC, content: '' });
  });
  const tok = await loadTokenizer(dir);
  const t0 = Date.now();
  assert.throws(
    () => tok.encode(SLOW_TEXT),
    (e) => {
      assert.ok(isLensError(e), `a LensError, not ${String(e)}`);
      assert.equal(e.code, 'BAD_TOKENIZER');
      assert.equal(
        e.message,
        `${path.join(dir, 'tokenizer.json')}: the normalizer's regular expression "(a+)+$" takes more than ` +
          `${LIMIT_MS / 1000} s on a text of 35 characters (it backtracks exponentially on such texts), so ` +
          'the tokenizer cannot be used: fix the pattern in the file, or pick another model.',
      );
      return true;
    },
  );
  const waited = Date.now() - t0;
  // Not a timing assertion on speed: without the limit this call does not return for hours.
  assert.ok(waited < LIMIT_MS + 20_000, `the call returned after ${waited} ms`);
  // The helper thread was ended mid-match; the next text starts a fresh one. "(a+)+$" removes nothing here.
  const text = 'Once upon a time, there was a little girl named Lily.';
  assert.deepEqual(
    tok.encode(text).map((t) => [t.id, t.start, t.end]),
    plain.encode(text).map((t) => [t.id, t.start, t.end]),
    'the same tokens as the unchanged tokenizer',
  );
  // And on what the pattern does match quickly: trailing a's removed, as String.replace would.
  assert.deepEqual(
    tok.encode('a banana').map((t) => t.id),
    plain.encode('a banan').map((t) => t.id),
    'the trailing "a" removed',
  );
});

test('a pre-tokenizer and a decoder pattern are limited the same way, named as such', async () => {
  const pre = await loadTokenizer(
    tokenizerDir('pre', (json) => {
      json.pre_tokenizer = { type: 'Split', pattern: CATASTROPHIC, behavior: 'Isolated', invert: false };
    }),
  );
  assert.throws(() => pre.encode(SLOW_TEXT), /: the pre-tokenizer's regular expression "\(a\+\)\+\$" takes more than/);
  const dec = await loadTokenizer(
    tokenizerDir('decoder', (json) => {
      const d = json.decoder as { decoders: unknown[] };
      d.decoders.push({ type: 'Replace', pattern: CATASTROPHIC, content: '' });
    }),
  );
  const ids = dec.encode(SLOW_TEXT).map((t) => t.id);
  assert.throws(() => dec.decode(ids), /: the decoder's regular expression "\(a\+\)\+\$" takes more than/);
});

test("a decoder Replace's content is literal, as in HF (no $& or $1 substitution)", async () => {
  const dec = await loadTokenizer(
    tokenizerDir('dollar', (json) => {
      const d = json.decoder as { decoders: unknown[] };
      d.decoders.push({ type: 'Replace', pattern: { Regex: 'ti(me)' }, content: '[$&$1]' });
    }),
  );
  assert.equal(dec.decode(dec.encode('Once upon a time').map((t) => t.id)), 'Once upon a [$&$1]');
});
