// `--model` accepts a folder, an .onnx file or a Hub id: the CLI (node dist/cli.js) downloads owner/name from a local
// Hub-shaped server (HF_ENDPOINT) into a temporary HF_HUB_CACHE, then serves it from the cache with HF_HUB_OFFLINE=1;
// an .onnx file runs; fused and missing models fail with one line. Also the resolver's decisions and the cache
// listing the model picker shows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeModel, ModelProto, type ModelMsg } from '../../../../runtime/formats/onnx-schema';
import { buildFullGraph, readModel } from '../../../../runtime/models/read-model';
import {
  listCachedHubModels,
  looksLikePath,
  resolveModel,
  summarizeFolder,
} from '../../../../runtime/models/source-resolver';
import { type HubServer, repoFromFolder, startHubServer } from '../../../helpers/hub-server';
import { fixtureModel, repoRoot } from '../../../helpers/fixtures';
import { patternGraph } from '../../../fixtures/onnx/synthetic';

const ROOT = repoRoot;
const CLI = path.join(ROOT, 'dist/cli.js');
const TMP = mkdtempSync(path.join(tmpdir(), 'lens-source-'));
const REPO = 'lens-test/stories260K';
let hub: HubServer;

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI without blocking this process's event loop (the Hub server answers from it). */
function cli(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, HF_TOKEN: '', HF_HUB_OFFLINE: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill(), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function expectUserError(r: CliResult, ...patterns: RegExp[]): void {
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  for (const p of patterns) assert.match(lines[0], p);
}

before(async () => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
  hub = await startHubServer({ [REPO]: repoFromFolder(REPO, fixtureModel('stories260K')) });
});
after(async () => {
  await hub?.close();
  rmSync(TMP, { recursive: true, force: true });
});

describe('the CLI with a Hub id', () => {
  const cache = path.join(TMP, 'hub-cache');

  test('downloads owner/name from HF_ENDPOINT into HF_HUB_CACHE and runs it, with progress on stderr', async () => {
    const r = await cli({ HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache }, 'run', '--model', REPO, '--text', 'Once upon');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^model\s+stories260K \(llama, model_type llama\)/m);
    assert.match(r.stdout, /^L4 H7 /m);
    assert.match(r.stderr, /downloading model\.safetensors: 1\.0 of 1\.0 MB/);
    const listed = listCachedHubModels(cache);
    assert.deepEqual(
      listed.map((m) => m.id),
      [REPO],
    );
    assert.ok(listed[0].bytes > 1_000_000);
    assert.ok(hub.fileRequests().length >= 3);
  });

  test('then serves it from the cache: offline, and without touching the server', async () => {
    const before = hub.requests.length;
    const r = await cli(
      { HF_ENDPOINT: 'http://127.0.0.1:9', HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' },
      'run',
      '--model',
      REPO,
      '--text',
      'Once upon',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'nothing downloaded');
    assert.equal(hub.requests.length, before);
  });

  test('offline without a cached copy, and an unknown id: one line each', async () => {
    const empty = path.join(TMP, 'empty-cache');
    expectUserError(
      await cli({ HF_HUB_CACHE: empty, HF_HUB_OFFLINE: '1' }, 'run', '--model', REPO, '--text', 'hi'),
      /cannot be used offline/,
    );
    expectUserError(
      await cli({ HF_ENDPOINT: hub.url, HF_HUB_CACHE: empty }, 'run', '--model', 'nobody/nothing', '--text', 'hi'),
      /no folder .*nobody\/nothing/i,
      /no model nobody\/nothing/i,
    );
  });
});

describe('the CLI with .onnx files', () => {
  test('an exported .onnx file runs like its folder', async () => {
    const from = fixtureModel('stories260K');
    const dir = path.join(TMP, 'stories-onnx');
    mkdirSync(dir);
    writeFileSync(
      path.join(dir, 'exported.onnx'),
      buildFullGraph(await readModel(from), { attentionOutputs: false }).onnx,
    );
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'])
      writeFileSync(path.join(dir, f), readFileSync(path.join(from, f)));
    const r = await cli({}, 'run', '--model', path.join(dir, 'exported.onnx'), '--text', 'Once upon');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^model\s+stories-onnx \(onnx, model_type llama\)/m);
    assert.match(r.stdout, /^attention\s+causal$/m);
  });

  test('a fused export fails with FUSED_ATTENTION’s one line naming the operator', async () => {
    const dir = path.join(TMP, 'fused');
    mkdirSync(dir);
    const model = ModelProto.toObject(ModelProto.decode(patternGraph('fused')), {
      longs: Number,
      arrays: true,
      bytes: Uint8Array,
    }) as ModelMsg;
    for (const n of model.graph!.node) if (n.opType === 'Attention') n.domain = 'com.microsoft';
    writeFileSync(path.join(dir, 'model.onnx'), encodeModel(model));
    writeFileSync(path.join(dir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'hi'].join('\n'));
    expectUserError(
      await cli({}, 'run', '--model', path.join(dir, 'model.onnx'), '--text', 'hi'),
      /com\.microsoft\.Attention/,
      /without attention fusion/,
    );
  });
});

describe('resolving what --model names', () => {
  test('paths are never taken for Hub ids; owner/name is', () => {
    for (const p of ['/abs/x', './x', '../x', '~/x', 'C:\\x', 'a/b/c', 'model.onnx', 'single'])
      assert.ok(looksLikePath(p), p);
    for (const id of ['owner/name', 'sentence-transformers/all-MiniLM-L6-v2', 'a/b@main', 'a/b@refs/pr/1'])
      assert.ok(!looksLikePath(id), id);
  });

  test('a missing folder, a file that is not .onnx, and an empty name are clear errors', async () => {
    await assert.rejects(resolveModel(path.join(TMP, 'nope')), /does not exist/);
    await assert.rejects(
      resolveModel(path.join(fixtureModel('stories260K'), 'config.json')),
      /not a folder nor an \.onnx or \.gguf file/,
    );
    await assert.rejects(resolveModel('  '), /No model given/);
  });

  test('a Hub id offline and not cached does not touch the network', async () => {
    await assert.rejects(
      resolveModel(REPO, { hub: { offline: true, cacheDir: path.join(TMP, 'none') } }),
      (e: Error & { code?: string }) => e.code === 'HUB_OFFLINE',
    );
  });

  test('summarizeFolder reads model_type, layers × heads and the weights size from the folder', () => {
    const s = summarizeFolder(fixtureModel('stories260K'));
    assert.deepEqual(
      { modelType: s.modelType, layers: s.layers, heads: s.heads },
      { modelType: 'llama', layers: 5, heads: 8 },
    );
    assert.equal(s.bytes, 1044992);
  });
});
