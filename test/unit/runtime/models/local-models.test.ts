// Models already on the user's machine: fake Ollama (manifests in the real JSON shape, blobs named by their real
// sha256) and LM Studio folders built here, with small GGUF files as the models; listing with name:tag, size,
// quantisation, family and support; OLLAMA_MODELS; resolving ollama:NAME[:TAG] and its errors.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { isLensError } from '../../../../runtime/errors';
import {
  listLmStudio,
  listLocalModels,
  listOllama,
  parseOllamaRef,
  resolveOllama,
} from '../../../../runtime/models/local-models';
import { resolveModel } from '../../../../runtime/models/source-resolver';
import { tinyLlamaGguf } from '../../../helpers/gguf-write';
import { ggufFixturesDir } from '../../../helpers/fixtures';

const FIXTURES = ggufFixturesDir;
const TMP = mkdtempSync(path.join(tmpdir(), 'lens-local-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

/** Installs `bytes` as an Ollama model name:tag under `models`, as `ollama pull` lays it out. */
function ollamaInstall(models: string, name: string, tag: string, bytes: Buffer, namespace = 'library'): string {
  const hex = createHash('sha256').update(bytes).digest('hex');
  mkdirSync(path.join(models, 'blobs'), { recursive: true });
  writeFileSync(path.join(models, 'blobs', `sha256-${hex}`), bytes);
  const config = Buffer.from('{"model_format":"gguf","model_family":"llama"}');
  const configHex = createHash('sha256').update(config).digest('hex');
  writeFileSync(path.join(models, 'blobs', `sha256-${configHex}`), config);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: {
      mediaType: 'application/vnd.docker.container.image.v1+json',
      digest: `sha256:${configHex}`,
      size: config.length,
    },
    layers: [
      { mediaType: 'application/vnd.ollama.image.model', digest: `sha256:${hex}`, size: bytes.length },
      { mediaType: 'application/vnd.ollama.image.template', digest: `sha256:${'1'.repeat(64)}`, size: 10 },
      { mediaType: 'application/vnd.ollama.image.params', digest: `sha256:${'2'.repeat(64)}`, size: 10 },
    ],
  };
  const dir = path.join(models, 'manifests', 'registry.ollama.ai', namespace, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, tag), JSON.stringify(manifest));
  return path.join(models, 'blobs', `sha256-${hex}`);
}

const kquants = readFileSync(path.join(FIXTURES, 'tiny-llama-kquants.gguf'));
const mamba = tinyLlamaGguf({ meta: { 'general.architecture': { str: 'mamba' } } });
const iq2 = tinyLlamaGguf({
  tensors: (ts) =>
    ts.map((t) =>
      t.name === 'blk.0.attn_q.weight' ? { ...t, dims: [256, 1], type: 16, data: new Uint8Array(66) } : t,
    ),
});

const home = path.join(TMP, 'home');
const models = path.join(home, '.ollama', 'models');
const smolBlob = ollamaInstall(models, 'smol', 'q4', kquants);
ollamaInstall(models, 'smol', 'latest', kquants);
ollamaInstall(models, 'mamba', '1b', mamba);
ollamaInstall(models, 'odd', 'iq2', iq2, 'someone');
// A manifest without a model layer (e.g. an adapter-only or a broken pull) is not listed.
mkdirSync(path.join(models, 'manifests', 'registry.ollama.ai', 'library', 'nolayer'), { recursive: true });
writeFileSync(path.join(models, 'manifests', 'registry.ollama.ai', 'library', 'nolayer', 'latest'), '{"layers":[]}');
// Valid JSON that is not an object: not listed either, and no lookup fails on it.
mkdirSync(path.join(models, 'manifests', 'registry.ollama.ai', 'library', 'nullm'), { recursive: true });
writeFileSync(path.join(models, 'manifests', 'registry.ollama.ai', 'library', 'nullm', 'latest'), 'null');

const lms = path.join(home, '.lmstudio', 'models', 'bartowski', 'tiny-GGUF');
mkdirSync(lms, { recursive: true });
copyFileSync(path.join(FIXTURES, 'hf-tiny-llama.gguf'), path.join(lms, 'tiny-llama-F32.gguf'));
writeFileSync(path.join(lms, 'mmproj-tiny-f16.gguf'), mamba);
writeFileSync(path.join(lms, 'README.md'), 'not a model');
const oldLms = path.join(home, '.cache', 'lm-studio', 'models', 'TheBloke', 'old-GGUF');
mkdirSync(oldLms, { recursive: true });
writeFileSync(path.join(oldLms, 'broken.gguf'), Buffer.from('GGUF\x03\x00\x00\x00'));

const env = {} as NodeJS.ProcessEnv;

test('Ollama models: name:tag, blob, size, architecture, quantisation and support from the GGUF header', () => {
  const list = listOllama(env, home);
  assert.deepEqual(
    list.map((m) => m.label),
    ['mamba:1b', 'smol:latest', 'smol:q4', 'someone/odd:iq2'],
  );
  const smol = list.find((m) => m.label === 'smol:q4')!;
  assert.deepEqual(
    [smol.id, smol.file, smol.bytes, smol.architecture, smol.quantisation, smol.supported],
    ['ollama:smol:q4', smolBlob, kquants.length, 'llama', 'Q4_K_M', true],
  );
  const m = list.find((x) => x.label === 'mamba:1b')!;
  assert.deepEqual([m.architecture, m.supported, m.note], ['mamba', false, 'architecture mamba is not supported']);
  const odd = list.find((x) => x.label === 'someone/odd:iq2')!;
  assert.deepEqual([odd.supported, odd.note], [false, 'tensor type IQ2_XXS is not supported']);
  assert.equal(odd.quantisation, 'F32'); // no general.file_type: the most common tensor type
});

test('OLLAMA_MODELS overrides the folder', () => {
  const other = path.join(TMP, 'elsewhere');
  ollamaInstall(other, 'moved', 'x', kquants);
  assert.deepEqual(
    listOllama({ OLLAMA_MODELS: other }, home).map((m) => m.label),
    ['moved:x'],
  );
  assert.equal(resolveOllama('ollama:moved:x', { OLLAMA_MODELS: other }, home).startsWith(other), true);
});

test('LM Studio: PUBLISHER/REPO/*.gguf in both folders, projector files and non-GGUF files left out', () => {
  const list = listLmStudio(home);
  assert.deepEqual(
    list.map((m) => [m.label, m.supported]),
    [
      ['bartowski/tiny-GGUF/tiny-llama-F32.gguf', true],
      ['TheBloke/old-GGUF/broken.gguf', false],
    ],
  );
  assert.equal(list[0].id, path.join(lms, 'tiny-llama-F32.gguf'));
  assert.equal(list[0].quantisation, 'F32');
  assert.match(list[1].note ?? '', /broken\.gguf/);
  assert.equal(listLocalModels(env, home).length, 6);
});

test('ollama:NAME[:TAG] resolves to the blob; the tag defaults to latest; errors are one actionable line', () => {
  assert.equal(resolveOllama('ollama:smol:q4', env, home), smolBlob);
  assert.equal(resolveOllama('ollama:smol', env, home), smolBlob);
  assert.deepEqual(parseOllamaRef('ollama:someone/odd:iq2'), {
    registry: 'registry.ollama.ai',
    namespace: 'someone',
    name: 'odd',
    tag: 'iq2',
  });
  const lens = (code: string, re: RegExp) => (e: unknown) =>
    isLensError(e) && e.code === code && re.test(e.message) && !e.message.includes('\n');
  assert.throws(
    () => resolveOllama('ollama:llama3.2:1b', env, home),
    lens('MODEL_NOT_FOUND', /no model llama3\.2:1b .*installed: mamba:1b, smol:latest.*ollama pull llama3\.2:1b/),
  );
  assert.throws(() => resolveOllama('ollama:nolayer', env, home), lens('MODEL_NOT_FOUND', /no model layer/));
  assert.throws(() => resolveOllama('ollama:a b', env, home), lens('BAD_INPUT', /not an Ollama model name/));
  assert.throws(() => resolveOllama('ollama:nullm', env, home), lens('MODEL_NOT_FOUND', /not a JSON object/));
  // a missing tag's message lists what is installed, past the null manifest
  assert.throws(() => resolveOllama('ollama:smol:7b', env, home), lens('MODEL_NOT_FOUND', /installed: .*smol:q4/));
  // names never leave the manifests folder
  for (const name of ['ollama:../../x', 'ollama:a/../b', 'ollama:smol:..', 'ollama:.'])
    assert.throws(() => resolveOllama(name, env, home), lens('BAD_INPUT', /not an Ollama model name/), name);
  // a model of another registry is named with it, as `ollama pull` needs it
  assert.throws(
    () => resolveOllama('ollama:hf.co/bartowski/SmolLM2-GGUF', env, home),
    lens(
      'MODEL_NOT_FOUND',
      /no model hf\.co\/bartowski\/SmolLM2-GGUF:latest .*ollama pull hf\.co\/bartowski\/SmolLM2-GGUF:latest/,
    ),
  );
  // the prefix in any case, as resolveModel takes it
  assert.equal(resolveOllama('OLLAMA:smol:q4', env, home), smolBlob);
});

test('resolveModel takes .gguf paths and ollama: names', async () => {
  const file = path.join(lms, 'tiny-llama-F32.gguf');
  assert.deepEqual(await resolveModel(file), {
    kind: 'gguf',
    file,
    dir: lms,
    name: 'tiny-llama-F32',
  });
  const saved = process.env.OLLAMA_MODELS;
  process.env.OLLAMA_MODELS = models;
  try {
    const r = await resolveModel('ollama:smol:q4');
    assert.deepEqual(r, { kind: 'gguf', file: smolBlob, dir: path.dirname(smolBlob), name: 'smol:q4' });
  } finally {
    if (saved === undefined) delete process.env.OLLAMA_MODELS;
    else process.env.OLLAMA_MODELS = saved;
  }
  await assert.rejects(
    resolveModel(path.join(TMP, 'missing.gguf')),
    (e) => isLensError(e) && e.code === 'MODEL_NOT_FOUND',
  );
});
