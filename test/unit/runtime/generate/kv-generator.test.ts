// Generation over the KV cache (runtime/generate/kv-generator.ts, the decode-step graph) against recomputation:
// at every step the greedy token is the arg max of a full forward pass (the single full graph, no cache) on the
// prefix, and the step's attention row is the last row of that full pass on the prefix with the token — on
// stories260K, tiny-gpt2, hf-tiny mistral and gemma2 (sliding window 8, prompts longer than it; gemma2 also
// soft-caps and mixes layer kinds) to 1e-5, stories260K on Wasm too, and SmolLM2-135M's GGUF to 1e-4 (the
// grouped-query models, stories260K and SmolLM2, cache one copy per key/value head). stories260K's continuation of
// "Once upon a time, there was a little girl named Lily." equals the greedy decode of the plain-loops reference
// (test/reference). Also: cancellation between steps, and stop tokens.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSession, type Session } from '../../../../runtime/backend/ort';
import { KvGenerator, type TokenStep } from '../../../../runtime/generate/kv-generator';
import { argmax } from '../../../../runtime/generate/sampling';
import { isLensError } from '../../../../runtime/errors';
import { computeFeeds } from '../../../../runtime/models/feeds';
import { readGgufModel } from '../../../../runtime/models/gguf-source';
import { buildFullGraph, readModel, type ModelSource } from '../../../../runtime/models/read-model';
import type { FeedTensor } from '../../../../runtime/models/plan';
import type { BackendName } from '../../../../runtime/types';
import { loadTokenizer } from '../../../../runtime/tokenizers/index';
import { tokenizerFromGguf } from '../../../../runtime/tokenizers/from-gguf';
import { openGguf } from '../../../../runtime/formats/gguf-file';
import { naiveForward } from '../../../reference/naive-forward';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixtureModel, fixturesDir, hfTinyModel, smolLm2Gguf } from '../../../helpers/fixtures';

const releases: (() => Promise<void>)[] = [];
after(async () => {
  for (const r of releases) await r();
});

/** A full forward pass without a cache: logits [S,V] and each layer's attention [H,S,S]. */
async function fullPass(
  source: ModelSource,
): Promise<(ids: number[]) => Promise<{ logits: Float32Array; attn: Float32Array[] }>> {
  const full = buildFullGraph(source, { attentionOutputs: true });
  const session: Session = await createSession(full.onnx, { backend: 'native', threads: 1 });
  releases.push(() => session.release());
  return async (ids) => {
    const feeds = computeFeeds({ ids: [ids], mask: [ids.map(() => 1)] }, source.config);
    const all: Record<string, FeedTensor> = { ...feeds.embed, ...feeds.layer };
    const inputs: Record<string, FeedTensor> = {};
    for (const n of full.inputNames) inputs[n] = all[n];
    const out = await session.run(inputs, full.outputNames);
    return {
      logits: out.logits.data,
      attn: Array.from({ length: source.config.layers }, (_, l) => out[`attn_${l}`].data),
    };
  };
}

/** Greedy generation checked step by step against the full pass; returns the generated ids. */
async function checkAgainstFull(
  source: ModelSource,
  prompt: number[],
  maxNew: number,
  tol: number,
  backend: BackendName = 'native',
): Promise<number[]> {
  const gen = await KvGenerator.create(source, { backend, threads: 1 });
  releases.push(() => gen.dispose());
  const full = await fullPass(source);
  const { heads: H, vocabSize: V } = gen.facts;
  const P = prompt.length;
  const ids = [...prompt];
  let worst = 0;
  for await (const s of gen.generate(prompt, { maxNew })) {
    if (s.kind === 'prompt') {
      const ref = await full(prompt);
      s.attention.forEach((a, l) => {
        assert.deepEqual([a.heads, a.queryLength, a.keyLength], [H, P, P]);
        for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i] - ref.attn[l][i]));
      });
      continue;
    }
    const t: TokenStep = s;
    const before = await full(ids); // the prefix that wrote token t.index
    const S0 = ids.length;
    assert.equal(
      t.id,
      argmax(before.logits.subarray((S0 - 1) * V, S0 * V)),
      `token ${t.index}: arg max of the full pass`,
    );
    ids.push(t.id);
    assert.equal(t.position, ids.length - 1);
    const ref = await full(ids);
    const S = ids.length;
    t.rows.forEach((row, l) => {
      assert.equal(row.length, H * S, `layer ${l}: [heads, 1, past + 1]`);
      for (let h = 0; h < H; h++)
        for (let j = 0; j < S; j++) {
          const want = ref.attn[l][(h * S + (S - 1)) * S + j]; // [H,S,S], last query row
          worst = Math.max(worst, Math.abs(row[h * S + j] - want));
        }
    });
  }
  assert.equal(ids.length, P + maxNew);
  assert.ok(worst <= tol, `largest difference ${worst} > ${tol}`);
  return ids.slice(P);
}

test('stories260K: cached steps equal recomputation, and the plain-loops reference decodes the same tokens', async () => {
  const dir = fixtureModel('stories260K');
  const source = await readModel(dir);
  const tok = await loadTokenizer(dir);
  const prompt = tok.encode('Once upon a time, there was a little girl named Lily.').map((t) => t.id);
  const maxNew = 12;
  const generated = await checkAgainstFull(source, prompt, maxNew, 1e-5);
  // The independent reference: argmax of the plain-loops forward pass (float64, no ONNX) on each prefix.
  const ids = [...prompt];
  for (let i = 0; i < maxNew; i++) {
    const r = naiveForward(dir, ids);
    const V = r.logits!.length / ids.length;
    ids.push(argmax(r.logits!.subarray((ids.length - 1) * V)));
  }
  assert.deepEqual(generated, ids.slice(prompt.length));
});

test('stories260K on Wasm: cached steps equal the native full recomputation', async () => {
  const dir = fixtureModel('stories260K');
  const tok = await loadTokenizer(dir);
  const prompt = tok.encode('Once upon a time, there was a little girl named Lily.').map((t) => t.id);
  await checkAgainstFull(await readModel(dir), prompt, 6, 1e-5, 'wasm');
});

test('tiny-gpt2: cached steps equal recomputation', async () => {
  const dir = fixtureModel('tiny-gpt2');
  const tok = await loadTokenizer(dir);
  const prompt = tok.encode('The quick brown fox jumps over').map((t) => t.id);
  await checkAgainstFull(await readModel(dir), prompt, 8, 1e-5);
});

for (const family of ['mistral', 'gemma2'] as const)
  test(`hf-tiny ${family}: a sliding window of 8 over a longer prompt, cached steps equal recomputation`, async () => {
    const dir = hfTinyModel(family);
    const source = await readModel(dir);
    assert.equal(source.config.slidingWindow, 8);
    const tok = await loadTokenizer(dir);
    const prompt = tok
      .encode('A sliding window hides the early words of a long prompt from the later ones.')
      .map((t) => t.id);
    assert.ok(prompt.length > 8, `prompt of ${prompt.length} tokens`);
    await checkAgainstFull(source, prompt, 6, 1e-5);
  });

test('SmolLM2-135M GGUF (Q4_1): cached steps equal recomputation to 1e-4', async () => {
  const file = smolLm2Gguf();
  const tok = tokenizerFromGguf(openGguf(file).meta);
  const prompt = tok.encode('The capital of France is').map((t) => t.id);
  await checkAgainstFull(readGgufModel(file), prompt, 4, 1e-4);
});

test('cancellation between steps: an aborted signal stops the generation before the next step', async () => {
  const dir = fixtureModel('stories260K');
  const gen = await KvGenerator.create(await readModel(dir), { backend: 'native', threads: 1 });
  releases.push(() => gen.dispose());
  const controller = new AbortController();
  const seen: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const s of gen.generate([1, 400, 401], { maxNew: 10, signal: controller.signal }))
        if (s.kind === 'token') {
          seen.push(s.index);
          if (s.index === 1) controller.abort();
        }
    })(),
    (e: unknown) => isLensError(e) && e.code === 'CANCELLED',
  );
  assert.deepEqual(seen, [0, 1]);
});

test('a stop token ends the output: it is generated, given its row, and nothing follows', async () => {
  const dir = fixtureModel('stories260K');
  const source = await readModel(dir);
  const gen = await KvGenerator.create(source, { backend: 'native', threads: 1 });
  releases.push(() => gen.dispose());
  const prompt = [1, 400, 401];
  const greedy: number[] = [];
  for await (const s of gen.generate(prompt, { maxNew: 6 })) if (s.kind === 'token') greedy.push(s.id);
  // Declare the third greedy token a stop token: the run ends there, marked 'stop'.
  const steps: TokenStep[] = [];
  for await (const s of gen.generate(prompt, { maxNew: 6, stopIds: new Set([greedy[2]]) }))
    if (s.kind === 'token') steps.push(s);
  assert.deepEqual(
    steps.map((s) => s.id),
    greedy.slice(0, greedy.indexOf(greedy[2]) + 1),
  );
  assert.equal(steps[steps.length - 1].end, 'stop');
  assert.equal(steps[steps.length - 1].rows[0].length, gen.facts.heads * (steps[steps.length - 1].position + 1));
});

test('Phi-3 LongRoPE across its switch: the whole sequence runs again with the long factors, as transformers does — the same tokens and rows', async () => {
  // test/fixtures/generate/phi3-longrope-generation.json (scripts/make-phi3-longrope-generation-fixture.py):
  // transformers' greedy generate from 12 tokens for 10, original_max_position_embeddings 16; the token fed at
  // position 16 is run with every earlier one (its forward pass has 17 queries there).
  const ref = JSON.parse(
    fs.readFileSync(path.join(fixturesDir, 'generate', 'phi3-longrope-generation.json'), 'utf8'),
  ) as { prompt: number[]; generated: number[]; queries_per_step: number[]; rows: number[][][][] };
  assert.equal(ref.queries_per_step[16 - ref.prompt.length], 17, 'the fixture recomputes at position 16');
  const gen = await KvGenerator.create(await readModel(hfTinyModel('phi3-longrope')), {
    backend: 'native',
    threads: 1,
  });
  releases.push(() => gen.dispose());
  const tokens: TokenStep[] = [];
  for await (const s of gen.generate(ref.prompt, { maxNew: ref.generated.length }))
    if (s.kind === 'token') tokens.push(s);
  assert.deepEqual(
    tokens.map((t) => t.id),
    ref.generated,
  );
  let worst = 0;
  ref.rows.forEach((layers, i) =>
    layers.forEach((heads, l) => {
      const K = heads[0].length;
      assert.equal(tokens[i].rows[l].length, heads.length * K, `token ${i} layer ${l}: [heads, ${K}]`);
      heads.forEach((row, h) =>
        row.forEach((x, k) => (worst = Math.max(worst, Math.abs(tokens[i].rows[l][h * K + k] - x)))),
      );
    }),
  );
  assert.ok(worst <= 1e-5, `rows against transformers: ${worst}`);
});
