// An imported encoder–decoder's attention that holds NaN stops the run with one line naming the layer and head,
// although neither path scans the maps of a healthy run in JS any more: the teacher-forced pass trusts the graph's
// own sum of its taps (prepare.ts: finite exactly when every probability is) and scans only when that sum is not
// finite; a cached step checks its joined taps in one pass and splits them by layer only to say where. The NaN is
// put into tiny-marian-dates-onnx-past's query bias of decoder layer 1 (its first value: head 0), in the step
// decoder's cross-attention or in the first decoder's self-attention; native and Wasm.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isLensError } from '../../../../runtime/errors';
import { ImportEngine } from '../../../../runtime/onnx/import-engine';
import { findOnnxInFolder } from '../../../../runtime/onnx/locate';
import { putNaNInitializer } from '../../../helpers/broken-models';
import { marianDatesCacheDirs, marianDatesDir } from '../../../helpers/fixtures';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-seq2seq-finite-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));
const ref = JSON.parse(fs.readFileSync(path.join(marianDatesDir, 'reference_attention.json'), 'utf8')) as {
  source_ids: number[];
  decoder_input_ids: number[];
};

/** A copy of the with-past export whose `file` has NaN in decoder layer 1's `attention` query bias. */
function poisoned(name: string, file: string, attention: 'self_attn' | 'encoder_attn'): string {
  const dir = path.join(TMP, name);
  fs.cpSync(marianDatesCacheDirs.past, dir, { recursive: true });
  putNaNInitializer(path.join(dir, file), `model.decoder.layers.1.${attention}.q_proj.bias`);
  return dir;
}

const nonFinite = (pattern: RegExp) => (e: unknown) => {
  assert.ok(isLensError(e) && e.code === 'NON_FINITE', String(e));
  assert.match(e.message, pattern);
  return true;
};

for (const backend of ['native', 'wasm'] as const) {
  test(`${backend}: NaN cross-attention in a cached step stops it, naming cross layer 1, head 0`, async () => {
    const dir = poisoned(`step-${backend}`, 'decoder_with_past_model.onnx', 'encoder_attn');
    const engine = await ImportEngine.create(findOnnxInFolder(dir)!, backend, 1);
    try {
      const enc = await engine.encode(ref.source_ids);
      const first = await engine.decode(enc, ref.decoder_input_ids.slice(0, 1), undefined, true);
      for (const a of [...first.self, ...first.cross])
        assert.ok(a.data.every(Number.isFinite), 'the first pass is fine');
      await assert.rejects(
        engine.step(enc, first.cache!, ref.decoder_input_ids[1], 1),
        nonFinite(/^Layer 1, head 0 gave NaN attention \(query 0, key 0\)/),
      );
    } finally {
      await engine.release();
    }
  });

  test(`${backend}: NaN self-attention in a teacher-forced pass stops it, naming the layer and head 0`, async () => {
    const dir = poisoned(`forced-${backend}`, 'decoder_model.onnx', 'self_attn');
    const engine = await ImportEngine.create(findOnnxInFolder(dir)!, backend, 1);
    try {
      const enc = await engine.encode(ref.source_ids);
      assert.ok(
        enc.layers.every((a) => a.data.every(Number.isFinite)),
        'the encoder is fine',
      );
      // Taps in graph order: 2 encoder layers, then decoder layer 0's self and cross, then layer 1's self (entry 4).
      await assert.rejects(
        engine.decode(enc, ref.decoder_input_ids),
        nonFinite(/^Layer 4, head 0 gave NaN attention \(query 0, key 0\)/),
      );
    } finally {
      await engine.release();
    }
  });
}
