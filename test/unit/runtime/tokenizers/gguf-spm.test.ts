// A sentencepiece-style GGUF tokenizer (runtime/tokenizers/from-gguf.ts) as llama.cpp tokenizes with add_space_prefix:
// "▁" before the text whatever it starts with, and again after every special token. Reference: transformers'
// tokenizer of the same file (scripts/make-gguf-tokenizer-reference.py; for hf-tiny-phi3.gguf it converts the file to
// that rule), ids and UTF-16 offsets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { openGguf } from '../../../../runtime/formats/gguf-file';
import { tokenizerFromGguf } from '../../../../runtime/tokenizers/from-gguf';
import { ggufFixturesDir } from '../../../helpers/fixtures';

interface Reference {
  files: Record<string, { text: string; ids: number[]; offsets: ([number, number] | null)[] }[]>;
}
const reference = JSON.parse(readFileSync(path.join(ggufFixturesDir, 'tokenizer-reference.json'), 'utf8')) as Reference;

for (const [file, cases] of Object.entries(reference.files)) {
  test(`${file}: leading whitespace and special tokens in the text as transformers (and llama.cpp) tokenize them`, () => {
    const tok = tokenizerFromGguf(openGguf(path.join(ggufFixturesDir, file)).meta);
    for (const c of cases) {
      const tokens = tok.encode(c.text);
      assert.deepEqual(
        tokens.map((t) => t.id),
        c.ids,
        `ids of ${JSON.stringify(c.text)}`,
      );
      // Post-processor tokens (the leading <s>) have no span; special tokens written in the text have theirs.
      const spans = tokens.map((t, i) => (c.offsets[i] === null ? null : [t.start, t.end]));
      assert.deepEqual(spans, c.offsets, `offsets of ${JSON.stringify(c.text)}`);
    }
  });
}
