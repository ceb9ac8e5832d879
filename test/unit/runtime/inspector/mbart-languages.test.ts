// Translating between chosen languages with mBART and mBART-50, through the real worker: the run options
// sourceLanguage / targetLanguage against transformers (test/fixtures/generate/mbart-languages.json, made by
// scripts/make-mbart-language-fixture.py: hf-tiny/mbart's random weights beside transformers' own MBart50Tokenizer and
// MBartTokenizer of test/fixtures/tokenizers/mbart). For two language pairs: the source ids (tok.src_lang), the greedy
// and 3-beam translations (mBART-50: generate(forced_bos_token_id=code), the code its first token; mBART:
// generate(decoder_start_token_id=code)), and a given target's labels (tgt_lang), decoder inputs and
// log-probabilities; the same for optimum's ONNX export of that mBART-50 (tiny-mbart50-onnx-past, with a key/value
// cache: its greedy steps and beams over the cache). A code the tokenizer lacks, or a language on a model without
// codes, is one BAD_INPUT line.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { load } from '../../../../runtime/inspector/load-model';
import type { Inspector } from '../../../../runtime/inspector/api';
import { isLensError } from '../../../../runtime/errors';
import { fixturesDir, hfTinyModel, marianDatesDir, repoRoot } from '../../../helpers/fixtures';
import { allLayers } from '../../../helpers/layer-results';

interface LanguageCase {
  tokenizer: 'mbart-50' | 'mbart-cc25';
  src_lang: string;
  tgt_lang: string;
  text: string;
  source_ids: number[];
  decoder_start: number;
  greedy: number[];
  beams3: number[];
  target_text: string;
  labels: number[];
  decoder_input_ids: number[];
  label_logprobs: number[];
}
const fixture = JSON.parse(fs.readFileSync(path.join(fixturesDir, 'generate', 'mbart-languages.json'), 'utf8')) as {
  max_new: number;
  cases: LanguageCase[];
};
const WORKER = path.join(repoRoot, 'dist/worker.js');
const work = fs.mkdtempSync(path.join(tmpdir(), 'lens-mbart-languages-'));
const models = new Map<string, Inspector>();

before(async () => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'pipe' });
  for (const tokenizer of ['mbart-50', 'mbart-cc25']) {
    // hf-tiny/mbart's weights with transformers' own mBART tokenizer, as the fixture script put them together.
    const dir = path.join(work, tokenizer);
    fs.mkdirSync(dir);
    for (const f of ['config.json', 'generation_config.json', 'model.safetensors'])
      fs.copyFileSync(path.join(hfTinyModel('mbart'), f), path.join(dir, f));
    for (const f of ['tokenizer.json', 'tokenizer_config.json'])
      fs.copyFileSync(path.join(fixturesDir, 'tokenizers', 'mbart', tokenizer, f), path.join(dir, f));
    models.set(tokenizer, await load(dir, { backend: 'native', threads: 1, workerPath: WORKER }));
  }
  // optimum's export of the same mBART-50 (scripts/make-mbart50-onnx.py), with a key/value cache.
  models.set(
    'mbart-50 onnx',
    await load(path.join(fixturesDir, 'models', 'tiny-mbart50-onnx-past'), {
      backend: 'native',
      threads: 1,
      workerPath: WORKER,
    }),
  );
});
after(async () => {
  for (const m of models.values()) await m.dispose();
  fs.rmSync(work, { recursive: true, force: true });
});

test('the fixture: each pair translates differently, and mBART-50 generates the code first', () => {
  assert.equal(fixture.cases.length, 8);
  for (const tokenizer of ['mbart-50', 'mbart-cc25'] as const) {
    const ours = fixture.cases.filter((c) => c.tokenizer === tokenizer);
    assert.notDeepEqual(ours[0].greedy, ours[ours.length - 1].greedy, `${tokenizer}: the language changes the tokens`);
  }
});

const runs = [
  ...fixture.cases.map((c) => ({ c, model: c.tokenizer as string })),
  ...fixture.cases.filter((c) => c.tokenizer === 'mbart-50').map((c) => ({ c, model: 'mbart-50 onnx' })),
];
for (const { c, model } of runs)
  test(`${model} ${c.src_lang} → ${c.tgt_lang} ${JSON.stringify(c.text)}: source ids, greedy and beam translations, and a target text equal transformers'`, async () => {
    const m = models.get(model)!;
    const languages = { sourceLanguage: c.src_lang, targetLanguage: c.tgt_lang };
    const greedy = m.run(c.text, { ...languages, translate: { maxNew: fixture.max_new } });
    await allLayers(greedy);
    assert.deepEqual(
      greedy.tokens.map((t) => t.id),
      c.source_ids,
    );
    const t = greedy.target()!;
    assert.deepEqual(
      t.tokens.map((x) => x.id),
      c.greedy,
    );
    assert.equal(t.decoderInput[0].id, c.decoder_start);
    if (c.tokenizer === 'mbart-50') assert.equal(t.tokens[0].text, c.tgt_lang, 'the first token is the code');
    else assert.equal(t.decoderInput[0].text, c.tgt_lang, 'the decoder starts with the code');

    const beams = m.run(c.text, { ...languages, beams: 3, translate: { maxNew: fixture.max_new } });
    await allLayers(beams);
    assert.deepEqual(
      beams.target()!.tokens.map((x) => x.id),
      c.beams3,
    );

    const forced = m.run(c.text, { ...languages, target: c.target_text });
    await allLayers(forced);
    const f = forced.target()!;
    assert.deepEqual(
      f.tokens.map((x) => x.id),
      c.labels,
    );
    assert.deepEqual(
      f.decoderInput.map((x) => x.id),
      c.decoder_input_ids,
    );
    f.logprobs.forEach((lp, i) =>
      assert.ok(Math.abs(lp - c.label_logprobs[i]) <= 1e-4, `log p of label ${i}: ${lp} vs ${c.label_logprobs[i]}`),
    );
  });

test('a code the tokenizer lacks, and a language on a model without codes, are one BAD_INPUT line each', async () => {
  const m = models.get('mbart-50')!;
  const bad = (pattern: RegExp) => (e: unknown) => isLensError(e) && e.code === 'BAD_INPUT' && pattern.test(e.message);
  assert.throws(
    () => m.run('Hello world', { targetLanguage: 'fr_FR' }),
    bad(/^"fr_FR" is not one of this model's 52 language codes \(ar_AR, cs_CZ, de_DE, /),
  );
  assert.throws(() => m.run('Hello world', { sourceLanguage: 'english' }), bad(/"english" is not one of/));
  assert.throws(() => m.tokenize('Hello world', { sourceLanguage: 'english' }), bad(/"english" is not one of/));
  const marian = await load(marianDatesDir, { backend: 'native', threads: 1, workerPath: WORKER });
  try {
    assert.throws(
      () => marian.run('May 3, 1999', { targetLanguage: 'de_DE' }),
      bad(/has no language codes, so it takes no target language: that is for mBART and mBART-50 models/),
    );
    assert.throws(() => marian.run('May 3, 1999', { sourceLanguage: 'en_XX' }), bad(/takes no source language/));
  } finally {
    await marian.dispose();
  }
});
