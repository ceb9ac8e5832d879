// Generation through the inference worker (dist/worker.js) with the model it already loaded for runs: stories260K
// continues "Once upon a time, there was a little girl named Lily." with the tokens of the plain-loops reference's
// greedy decode (test/reference, float64, no ONNX), each streamed token's rows equal the last row of a full run
// (the staged plan, not the step graph) on the prefix with that token, a cancel stops it between steps and the worker
// serves runs after it, stop tokens end it, a seed repeats a sampled run, and bad settings are one-line errors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { load } from '../../../../runtime/inspector/load-model';
import type { GeneratedToken, Inspector, LayerResult } from '../../../../runtime/inspector/api';
import { isLensError } from '../../../../runtime/errors';
import { argmax } from '../../../../runtime/generate/sampling';
import { naiveForward } from '../../../reference/naive-forward';
import { fixtureModel, repoRoot } from '../../../helpers/fixtures';

const MODEL = fixtureModel('stories260K');
const WORKER = path.join(repoRoot, 'dist/worker.js');
const PROMPT = 'Once upon a time, there was a little girl named Lily.';

let inspector: Inspector;
before(async () => {
  inspector = await load(MODEL, { backend: 'native', threads: 1, workerPath: WORKER });
});
after(async () => {
  await inspector?.dispose();
});

async function layers(ids: number[]): Promise<LayerResult[]> {
  const out: LayerResult[] = [];
  for await (const l of inspector.run(ids)) out.push(l);
  return out;
}

test('the worker continues the prompt with the reference greedy tokens, each row the last row of a full run', async () => {
  // A run first, as the panel does: generation then uses the same loaded model.
  const prompt = inspector.tokenize(PROMPT).map((t) => t.id);
  await layers(prompt);
  const maxNew = 10;
  const tokens: GeneratedToken[] = [];
  const done = await inspector.generate(prompt, { maxNew, onToken: (t) => tokens.push(t) });
  assert.equal(done.count, maxNew);
  assert.equal(done.end, 'length');
  assert.deepEqual(
    tokens.map((t) => t.index),
    Array.from({ length: maxNew }, (_, i) => i),
  );
  // The independent reference: arg max of the plain-loops forward pass on each prefix.
  const ids = [...prompt];
  for (let i = 0; i < maxNew; i++) {
    const r = naiveForward(MODEL, ids);
    const V = r.logits!.length / ids.length;
    ids.push(argmax(r.logits!.subarray((ids.length - 1) * V)));
  }
  assert.deepEqual(
    tokens.map((t) => t.id),
    ids.slice(prompt.length),
  );
  const { heads: H, layers: L } = inspector.facts;
  let worst = 0;
  for (const t of [tokens[0], tokens[4], tokens[maxNew - 1]]) {
    const S = t.position + 1;
    assert.equal(t.position, prompt.length + t.index);
    assert.equal(t.rows.length, L);
    const full = await layers(ids.slice(0, S)); // [H,S,S] per layer
    t.rows.forEach((row, l) => {
      assert.equal(row.length, H * S, 'a row is [heads, past + 1]');
      for (let h = 0; h < H; h++)
        for (let k = 0; k < S; k++)
          worst = Math.max(worst, Math.abs(row[h * S + k] - full[l].data[(h * S + S - 1) * S + k]));
    });
  }
  assert.ok(worst <= 1e-5, `largest difference ${worst}`);
  assert.equal(tokens[maxNew - 1].end, 'length');
});

test('Stop: an aborted generation stops between steps with CANCELLED, and the worker serves a run after it', async () => {
  const prompt = inspector.tokenize(PROMPT).map((t) => t.id);
  const controller = new AbortController();
  const seen: number[] = [];
  await assert.rejects(
    inspector.generate(prompt, {
      maxNew: 200,
      signal: controller.signal,
      onToken: (t) => {
        seen.push(t.index);
        if (t.index === 1) controller.abort();
      },
    }),
    (e: unknown) => isLensError(e) && e.code === 'CANCELLED',
  );
  assert.ok(seen.length >= 2 && seen.length < 200, `${seen.length} tokens before the stop`);
  const after = await layers(prompt);
  assert.equal(after.length, inspector.facts.layers);
});

test('a stop token ends the output (generated, with its rows) and tokens-only generation sends no rows', async () => {
  const prompt = inspector.tokenize(PROMPT).map((t) => t.id);
  const greedy: GeneratedToken[] = [];
  await inspector.generate(prompt, { maxNew: 5, rows: false, onToken: (t) => greedy.push(t) });
  assert.ok(greedy.every((t) => t.rows.length === 0));
  const stop = greedy[2].id;
  const steps: GeneratedToken[] = [];
  const done = await inspector.generate(prompt, { maxNew: 5, stopIds: [stop], onToken: (t) => steps.push(t) });
  assert.equal(done.end, 'stop');
  assert.equal(steps[steps.length - 1].id, stop);
  assert.equal(steps[steps.length - 1].end, 'stop');
  assert.equal(steps.length, greedy.findIndex((t) => t.id === stop) + 1);
  assert.equal(steps[steps.length - 1].rows.length, inspector.facts.layers);
});

test('sampling with a seed repeats; bad counts and settings are one-line errors before the worker is asked', async () => {
  const prompt = inspector.tokenize(PROMPT).map((t) => t.id);
  const sample = async () => {
    const ids: number[] = [];
    await inspector.generate(prompt, {
      maxNew: 6,
      temperature: 0.9,
      topP: 0.9,
      seed: 7,
      rows: false,
      onToken: (t) => ids.push(t.id),
    });
    return ids;
  };
  assert.deepEqual(await sample(), await sample());
  const code = (c: string) => (e: unknown) => isLensError(e) && e.code === c;
  await assert.rejects(inspector.generate(prompt, { maxNew: 0 }), code('BAD_INPUT'));
  await assert.rejects(inspector.generate(prompt, { maxNew: 4, topP: 2, temperature: 1 }), code('BAD_INPUT'));
  await assert.rejects(inspector.generate([], { maxNew: 4 }), code('EMPTY_TEXT'));
  await assert.rejects(inspector.generate(prompt, { maxNew: inspector.facts.maxPositions }), code('TOO_LONG'));
});
