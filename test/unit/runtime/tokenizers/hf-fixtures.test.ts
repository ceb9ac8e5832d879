// Our tokenizers against Hugging Face `tokenizers` (Python), an independent implementation: exact ids and UTF-16
// offsets on a few hundred varied strings per tokenizer kind. Fixtures: scripts/make-tokenizer-fixtures.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadTokenizer } from '../../../../runtime/tokenizers/index';
import { fixtureModel, fixturesDir, miniLmTokenizerDir } from '../../../helpers/fixtures';

interface Fixture {
  source: string;
  cases: { text: string; ids: number[]; offsets: ([number, number] | null)[] }[];
}

const SETS: [string, string][] = [
  ['minilm', miniLmTokenizerDir],
  ['gpt2', fixtureModel('tiny-gpt2')],
  ['stories260k', fixtureModel('stories260K')],
];

for (const [name, dir] of SETS) {
  test(`${name}: ids and offsets match HF tokenizers on every fixture string`, async () => {
    const fixture = JSON.parse(readFileSync(path.join(fixturesDir, 'tokenizers', `${name}.json`), 'utf8')) as Fixture;
    assert.ok(fixture.cases.length >= 200, 'the fixture holds a few hundred strings');
    const tok = await loadTokenizer(dir);
    for (const c of fixture.cases) {
      const tokens = tok.encode(c.text);
      const got = {
        ids: tokens.map((t) => t.id),
        offsets: tokens.map((t) => (t.start === null || t.end === null ? null : [t.start, t.end])),
      };
      assert.deepEqual(got, { ids: c.ids, offsets: c.offsets }, `text ${JSON.stringify(c.text)}`);
      for (let i = 0; i < tokens.length; i++) assert.equal(tokens[i].special, c.offsets[i] === null);
    }
  });
}
