// mBART tokenizer folders (test/fixtures/tokenizers/mbart/, saved by transformers' own MBartTokenizer and
// MBart50Tokenizer: scripts/make-mbart-tokenizer-fixtures.py) give transformers' ids: a source with the source
// language's code (mBART: last, after </s>; mBART-50: first) and a target — the labels of teacher forcing — with the
// target language's (tokenizer_config.json's tgt_lang); a tgt_lang that is not a token is refused in one line.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadTokenizer } from '../../../../runtime/tokenizers/index';
import { isLensError } from '../../../../runtime/errors';
import { fixturesDir } from '../../../helpers/fixtures';

const DIR = path.join(fixturesDir, 'tokenizers', 'mbart');
const REF = JSON.parse(fs.readFileSync(path.join(DIR, 'reference.json'), 'utf8')) as {
  folders: Record<
    string,
    {
      cases: { text: string; source_ids: number[]; target_ids: number[] }[];
      languages: { src_lang: string; tgt_lang: string; text: string; source_ids: number[]; target_ids: number[] }[];
    }
  >;
};
const made: string[] = [];
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

for (const [name, folder] of Object.entries(REF.folders)) {
  test(`${name}: source and target ids equal transformers' (the target language's code on the target side)`, async () => {
    const tok = await loadTokenizer(path.join(DIR, name));
    assert.ok(tok.target, 'a target tokenizer');
    for (const c of folder.cases) {
      assert.deepEqual(
        tok.encode(c.text).map((t) => t.id),
        c.source_ids,
        c.text,
      );
      assert.deepEqual(
        tok.target.encode(c.text).map((t) => t.id),
        c.target_ids,
        c.text,
      );
      assert.notDeepEqual(c.source_ids, c.target_ids);
    }
  });
}

for (const [name, folder] of Object.entries(REF.folders))
  test(`${name}: any of its languages reads a source and a target as transformers' src_lang / tgt_lang do`, async () => {
    const tok = await loadTokenizer(path.join(DIR, name));
    const languages = tok.languages!;
    assert.equal(languages.kind, name === 'mbart-50' ? 'mbart50' : 'mbart');
    assert.equal(languages.codes.size, name === 'mbart-50' ? 52 : 25);
    assert.equal(languages.codes.get('en_XX'), tok.tokenToId('en_XX'));
    assert.equal(folder.languages.length, 6);
    for (const c of folder.languages) {
      const what = `${c.src_lang} → ${c.tgt_lang}: ${c.text}`;
      assert.deepEqual(
        languages
          .withLanguage(c.src_lang)
          .encode(c.text)
          .map((t) => t.id),
        c.source_ids,
        what,
      );
      assert.deepEqual(
        languages
          .withLanguage(c.tgt_lang)
          .encode(c.text)
          .map((t) => t.id),
        c.target_ids,
        what,
      );
    }
    // The source side is unchanged by asking for another language.
    assert.deepEqual(
      tok.encode(folder.cases[0].text).map((t) => t.id),
      folder.cases[0].source_ids,
    );
    assert.throws(
      () => languages.withLanguage('xx_YY'),
      (e: unknown) =>
        isLensError(e) &&
        e.code === 'BAD_INPUT' &&
        /^"xx_YY" is not one of this model's \d+ language codes \(ar_AR, cs_CZ, /.test(e.message),
    );
  });

test('a tgt_lang the tokenizer does not have is refused by name; without one the target reads as the source', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-mbart-'));
  made.push(dir);
  fs.copyFileSync(path.join(DIR, 'mbart-cc25', 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
  const config = JSON.parse(fs.readFileSync(path.join(DIR, 'mbart-cc25', 'tokenizer_config.json'), 'utf8'));
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ ...config, tgt_lang: 'xx_YY' }));
  await assert.rejects(loadTokenizer(dir), (e: unknown) => {
    assert.ok(isLensError(e));
    assert.match(e.message, /tgt_lang "xx_YY" is not one of its tokens/);
    return true;
  });
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ ...config, tgt_lang: null }));
  const tok = await loadTokenizer(dir);
  assert.equal(tok.target, undefined);
  const c = REF.folders['mbart-cc25'].cases[0];
  assert.deepEqual(
    tok.encode(c.text).map((t) => t.id),
    c.source_ids,
  );
});
