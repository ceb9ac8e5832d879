// Small GGUF models written in llama.cpp's layout by gguf-py (test/fixtures/gguf/*.gguf, scripts/make-gguf-fixtures.py)
// against Hugging Face references (reference.json): the config.json values their metadata must map to, token ids
// from transformers' GGUF tokenizer, and every layer's attention on native and Wasm —
//   tiny-llama-kquants  random llama in 13 ggml types (K-quants included), sentencepiece tokenizer without merges;
//   hf-tiny-llama       hf-tiny/llama converted (permuted q/k, Llama 3 rope scaling as a rope_freqs tensor);
//   hf-tiny-qwen3       hf-tiny/qwen3 converted (Q8_0 projections, q/k norms);
//   hf-tiny-phi3        hf-tiny/phi3 converted (fused attn_qkv and gate/up in ffn_up; sentencepiece with merges);
//   hf-tiny-olmo2       hf-tiny/olmo2 converted (q/k norms over the projection, norms after attention and MLP);
//   hf-tiny-gemma2/3    norms stored as 1 + w, soft-capping, sliding windows, q/k norms, linear-scaled global RoPE
//                       (query scale and layer pattern as llama.cpp reads a GGUF file, see the script).
// A family the normaliser does not support yet must fail with its one "not supported" line instead.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { normaliseConfig } from '../../../../runtime/formats/config-normalise';
import { openGguf } from '../../../../runtime/formats/gguf-file';
import { isLensError } from '../../../../runtime/errors';
import type { Inspector, LayerResult } from '../../../../runtime/inspector/api';
import { load } from '../../../../runtime/inspector/load-model';
import { rawConfigOf, readGgufModel } from '../../../../runtime/models/gguf-source';
import { tokenizerFromGguf } from '../../../../runtime/tokenizers/from-gguf';
import { ggufFixturesDir, repoRoot } from '../../../helpers/fixtures';

const ROOT = repoRoot;
const DIR = ggufFixturesDir;
const WORKER = path.join(ROOT, 'dist/worker.js');

interface Fixture {
  config: Record<string, unknown>;
  text: string;
  input_ids: number[];
  shape: [number, number, number, number];
  attention: string;
}
/** Quantised weights make sharper, less well-conditioned attention: 1e-4 as for SmolLM2; float32 weights 1e-5. */
const TOLERANCE: Record<string, number> = {
  'tiny-llama-kquants.gguf': 1e-4,
  'hf-tiny-llama.gguf': 1e-5,
  'hf-tiny-qwen3.gguf': 1e-4,
  'hf-tiny-phi3.gguf': 1e-5,
  'hf-tiny-olmo2.gguf': 1e-5,
  'hf-tiny-gemma2.gguf': 1e-4,
  'hf-tiny-gemma3.gguf': 1e-4,
};
const ref = JSON.parse(readFileSync(path.join(DIR, 'reference.json'), 'utf8')) as {
  fixtures: Record<string, Fixture>;
};

before(() => execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' }));

/** True when this branch's family normaliser runs the config (else: its UNSUPPORTED_MODEL error). */
function supported(file: string): true | Error {
  try {
    normaliseConfig(rawConfigOf(openGguf(file)), 'x');
    return true;
  } catch (e) {
    return e as Error;
  }
}

for (const [name, fx] of Object.entries(ref.fixtures)) {
  const file = path.join(DIR, name);
  describe(name, () => {
    test('the metadata maps to the config.json values of the model', () => {
      const raw = rawConfigOf(openGguf(file));
      for (const [k, v] of Object.entries(fx.config)) assert.deepEqual(raw[k], v, `${k}`);
    });

    test("the tokenizer gives transformers' ids", () => {
      const tok = tokenizerFromGguf(openGguf(file).meta);
      assert.deepEqual(
        tok.encode(fx.text).map((t) => t.id),
        fx.input_ids,
      );
    });

    const ok = supported(file);
    if (ok !== true) {
      test("an architecture without a family yet fails with the normaliser's one line", () => {
        assert.ok(isLensError(ok) && ok.code === 'UNSUPPORTED_MODEL', String(ok));
        assert.match(ok.message, /not supported/);
        assert.throws(
          () => readGgufModel(file),
          (e) => isLensError(e) && e.code === 'UNSUPPORTED_MODEL',
        );
      });
      return;
    }
    const want = new Float32Array(Buffer.from(fx.attention, 'base64').buffer.slice(0));
    for (const backend of ['native', 'wasm'] as const) {
      describe(backend, () => {
        let inspector: Inspector;
        before(async () => {
          inspector = await load(file, { backend, threads: 2, workerPath: WORKER });
        });
        after(() => inspector?.dispose());
        test(`every layer and head matches the reference to ${TOLERANCE[name]}`, async () => {
          const [L, H, S] = fx.shape;
          const layers: LayerResult[] = [];
          for await (const l of inspector.run(fx.input_ids)) layers.push(l);
          assert.equal(layers.length, L);
          let worst = 0;
          for (const l of layers) {
            assert.equal(l.heads, H);
            const base = l.layer * H * S * S;
            for (let i = 0; i < H * S * S; i++) worst = Math.max(worst, Math.abs(l.data[i] - want[base + i]));
          }
          assert.ok(worst <= TOLERANCE[name], `max |difference| ${worst}`);
        });
      });
    }
  });
}
