// The Split pre-tokenizers of real tokenizer.json files (Llama 3, Qwen2.5, Gemma, GPT-4o's o200k, tiktoken's
// possessive cl100k, GPT-2), whose Oniguruma regular expressions are rewritten for JS (oniguruma-to-js.ts), cut a
// few hundred strings exactly where Hugging Face `tokenizers` (Rust, Oniguruma) cuts them, in UTF-16 offsets.
// Fixture: scripts/make-pretokenizer-fixtures.py. Also: constructs whose Oniguruma meaning is not reproduced are
// refused with a line that names them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { isLensError } from '../../../../runtime/errors';
import { NormalizedText } from '../../../../runtime/tokenizers/normalized-text';
import { onigurumaToJs } from '../../../../runtime/tokenizers/oniguruma-to-js';
import { preTokenizerFromJson } from '../../../../runtime/tokenizers/pre-tokenizers';
import { fixturesDir } from '../../../helpers/fixtures';

interface Fixture {
  patterns: {
    name: string;
    pattern: { Regex?: string; String?: string };
    behavior: string;
    cases: { text: string; pieces: [number, number][] }[];
  }[];
}

const fixture = JSON.parse(
  readFileSync(path.join(fixturesDir, 'tokenizers', 'split-patterns.json'), 'utf8'),
) as Fixture;

for (const p of fixture.patterns) {
  test(`${p.name}: the Split pre-tokenizer cuts every fixture string where HF tokenizers does`, () => {
    assert.ok(p.cases.length >= 300);
    const split = preTokenizerFromJson(
      { type: 'Split', pattern: p.pattern, behavior: p.behavior, invert: false },
      'fixture',
    )!;
    for (const c of p.cases) {
      const got = split([NormalizedText.fromOriginal(c.text)]).map((w) => [w.starts[0], w.ends[w.length - 1]]);
      assert.deepEqual(got, c.pieces, `text ${JSON.stringify(c.text)}`);
    }
  });
}

test('the scoped case-insensitive group becomes classes of every simple case variant', () => {
  assert.equal(onigurumaToJs("(?i:'s|'ll)"), "(?:'[Ssſ]|'[Ll][Ll])");
  assert.equal(onigurumaToJs('(?i:k)'), '(?:[Kk\u212a])'); // the Kelvin sign
  // A top-level (?i) reaches the end of the pattern, alternatives included; (?-i) switches it off.
  assert.equal(onigurumaToJs('a(?i)b|c(?-i)d'), 'a[Bb]|[Cc]d');
  const re = new RegExp(onigurumaToJs("(?i:'re)x"), 'u');
  assert.ok(re.test("'REx") && re.test("'rEx") && !re.test("'REX"));
});

test('Oniguruma escapes, anchors, dot and possessive quantifiers keep their Oniguruma meaning', () => {
  const matches = (src: string, text: string) =>
    [...text.matchAll(new RegExp(onigurumaToJs(src), 'gu'))].map((m) => m[0]).filter((m) => m !== '');
  assert.deepEqual(matches('\\s', 'a\u0085b\ufeffc\u00a0d'), ['\u0085', '\u00a0']); // White_Space, not JS \s
  assert.deepEqual(matches('\\d+', '12٣x²'), ['12٣']); // every decimal digit, not the superscript
  assert.deepEqual(matches('\\h+', 'af0Gz'), ['af0']);
  assert.deepEqual(matches('.', 'a\r\u2028\n'), ['a', '\r', '\u2028']); // all but \n
  assert.deepEqual(matches('a$', 'a\nba'), ['a', 'a']); // line anchors (Ruby syntax)
  assert.deepEqual(matches('^b', 'b\nba'), ['b', 'b']);
  assert.deepEqual(matches('a{,2}', 'aaa'), ['aa', 'a']);
  assert.deepEqual(matches('a++a', 'aaa'), []); // possessive: gives nothing back
  assert.deepEqual(matches('(?>a+)b', 'aab'), ['aab']);
  assert.deepEqual(matches('\\p{Han}+', 'ab中文c'), ['中文']); // script names without Script=
});

test('constructs whose Oniguruma meaning is not reproduced are refused with a line that names them', () => {
  const refused = (regex: string, why: RegExp) =>
    assert.throws(
      () => preTokenizerFromJson({ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated' }, 'tok.json'),
      (e: unknown) => {
        assert.ok(isLensError(e) && e.code === 'BAD_TOKENIZER', String(e));
        assert.match(e.message, why);
        assert.ok(!e.message.includes('\n'));
        return true;
      },
    );
  refused('\\w+', /\\w/);
  refused('\\bx', /\\b/);
  refused('(a)\\1', /backreference/);
  refused('[[:alpha:]]', /POSIX/);
  refused('[a-z&&[^e]]', /nested|&&/);
  refused('(?i:ss)', /ß/); // Oniguruma matches "ß" too (a multi-character fold)
  refused('(?x)a b', /\(\?x/);
  refused('(?i:\\p{Lu})', /case-insensitive/);
  refused('a(b', /not closed/);
  refused('\\p{NoSuchProperty}', /NoSuchProperty/);
});
