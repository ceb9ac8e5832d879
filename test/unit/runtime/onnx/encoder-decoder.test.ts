// An encoder-decoder export (optimum's encoder_model.onnx + decoder_model.onnx) imported through the real worker:
// the layers come as encoder self attention, then per decoder block causal self attention and cross attention, and
// every map equals an independent float64 reference of the same weights (test/fixtures/onnx/synthetic.ts). Also the
// single pattern graphs run, and a fused export fails at load with FUSED_ATTENTION.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { isLensError } from '../../../../runtime/errors';
import { load } from '../../../../runtime/inspector/load-model';
import type { LayerResult } from '../../../../runtime/inspector/api';
import {
  decoderGraph,
  encDecWeights,
  encoderGraph,
  patternGraph,
  referenceAttention,
} from '../../../fixtures/onnx/synthetic';
import { repoRoot } from '../../../helpers/fixtures';

const ROOT = repoRoot;
const WORKER = path.join(ROOT, 'dist/worker.js');
const TMP = mkdtempSync(path.join(tmpdir(), 'lens-encdec-'));
/** A WordPiece vocabulary of the synthetic models' 11 ids (vocab.txt: id = line number). */
const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'the', 'cat', 'sat', 'on', 'mat', '.', 'a'];

function folder(name: string, files: Record<string, Uint8Array | string>): string {
  const dir = path.join(TMP, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'vocab.txt'), VOCAB.join('\n') + '\n');
  writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({ model_type: 'toy-seq2seq', vocab_size: 11, d_model: 4 }),
  );
  for (const [f, data] of Object.entries(files)) writeFileSync(path.join(dir, f), data);
  return dir;
}

before(() => execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' }));
after(() => rmSync(TMP, { recursive: true, force: true }));

test('encoder + decoder: self, causal, cross kinds in order; every map equals the float64 reference', async () => {
  const w = encDecWeights(7);
  const dir = folder('seq2seq', { 'encoder_model.onnx': encoderGraph(w), 'decoder_model.onnx': decoderGraph(w) });
  const inspector = await load(dir, { workerPath: WORKER, backend: 'native', threads: 1 });
  try {
    assert.equal(inspector.facts.family, 'onnx');
    assert.equal(inspector.facts.modelType, 'toy-seq2seq');
    assert.deepEqual(inspector.facts.attentionKinds, ['self', 'causal', 'cross', 'causal', 'cross']);
    assert.equal(inspector.facts.heads, 2);
    assert.equal(inspector.facts.hidden, 4);
    const run = inspector.run('the cat sat on a mat.');
    const layers: LayerResult[] = [];
    for await (const l of run) layers.push(l);
    const ids = run.tokens.map((t) => t.id);
    assert.deepEqual(ids, [2, 4, 5, 6, 7, 10, 8, 9, 3]);
    const ref = referenceAttention(w, ids);
    assert.equal(layers.length, ref.length);
    let worst = 0;
    layers.forEach((l, i) => {
      assert.equal(l.heads, 2);
      assert.equal(l.queryLength, ids.length);
      assert.equal(l.keyLength, ids.length);
      for (let h = 0; h < 2; h++)
        for (let q = 0; q < ids.length; q++)
          for (let k = 0; k < ids.length; k++) {
            const got = l.data[(h * ids.length + q) * ids.length + k];
            worst = Math.max(worst, Math.abs(got - ref[i][h][q][k]));
            if (l.kind === 'causal' && k > q) assert.equal(got, 0, `layer ${i} masks key ${k} for query ${q}`);
          }
    });
    assert.ok(worst <= 1e-5, `max |imported - reference| = ${worst}`);
  } finally {
    await inspector.dispose();
  }
});

test('single pattern graphs run: one self-attention layer whose rows sum to 1', async () => {
  for (const pattern of ['plain', 'dropout-cast-where', 'rank3'] as const) {
    const dir = folder(pattern, { 'model.onnx': patternGraph(pattern) });
    const inspector = await load(path.join(dir, 'model.onnx'), { workerPath: WORKER, backend: 'wasm', threads: 1 });
    try {
      assert.deepEqual(inspector.facts.attentionKinds, ['self'], pattern);
      const layers: LayerResult[] = [];
      for await (const l of inspector.run('the cat sat')) layers.push(l);
      const [l] = layers;
      for (let r = 0; r < l.heads * l.queryLength; r++) {
        const sum = l.data.subarray(r * l.keyLength, (r + 1) * l.keyLength).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) < 1e-5, `${pattern} row ${r} sums to ${sum}`);
      }
    } finally {
      await inspector.dispose();
    }
  }
});

test('a decoder without its encoder is refused with what to do', async () => {
  const w = encDecWeights(7);
  const dir = folder('decoder-only', { 'decoder_model.onnx': decoderGraph(w) });
  await assert.rejects(load(dir, { workerPath: WORKER, backend: 'wasm', threads: 1 }), (e: unknown) => {
    assert.ok(isLensError(e));
    assert.equal(e.code, 'UNSUPPORTED_MODEL');
    assert.match(e.message, /encoder_model\.onnx/);
    return true;
  });
});
