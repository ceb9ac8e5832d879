// The panel's Continue without VS Code: stories260K loaded through the real worker runs the prompt, continues it by 6
// tokens, and the run grown token by token in place — on the host (GrowingMaps, as panel.ts) and in the webview's store
// (appendToken, the maps the views draw), each with too little room reserved so that both grow past their capacity —
// equals a full run of prompt + output through the staged plan, every layer [heads, S, S] to 1e-5; the decoding a request asks for (greedy; sampled with the given seed or a drawn one); the generated text's
// ids leave stop tokens out; and the Continue bar's fields become a request or one line saying what to fix.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { load } from '../../../runtime/inspector/load-model';
import type { Inspector, LayerResult } from '../../../runtime/inspector/api';
import {
  decodingOf,
  generatedIds,
  generatedToken,
  restoredInput,
  restoreProblem,
} from '../../../extension/generate-logic';
import { isRunSource } from '../../../protocol/validate';
import { stopTokenIds } from '../../../runtime/generate/stop-tokens';
import { GrowingMaps } from '../../../runtime/generate/grow-maps';
import { Store } from '../../../webview/store';
import { continueRequest } from '../../../webview/views/continue-request';
import { fixtureModel, repoRoot } from '../../helpers/fixtures';

const MODEL = fixtureModel('stories260K');
let inspector: Inspector;
before(async () => {
  inspector = await load(MODEL, { backend: 'native', threads: 1, workerPath: path.join(repoRoot, 'dist/worker.js') });
});
after(async () => {
  await inspector?.dispose();
});

async function layers(ids: number[]): Promise<LayerResult[]> {
  const out: LayerResult[] = [];
  for await (const l of inspector.run(ids)) out.push(l);
  return out;
}

test('a continued run, grown on the host and in the webview store, equals a full run of prompt + output', async () => {
  const text = 'Once upon a time, there was a little girl named Lily.';
  const tokens = inspector.tokenize(text);
  const ids = tokens.map((t) => t.id);
  const prompt = await layers(ids);
  const f = inspector.facts;
  const store = new Store();
  store.reset(
    1,
    tokens.map(({ text: t, start, end, special }) => ({ text: t, start, end, special })),
    f,
    { uri: '', range: [0, 0, 0, text.length], text, modelPath: MODEL, truncate: false },
  );
  for (const l of prompt) store.addLayer({ ...l, data: l.data.slice() });
  store.status = 'done';
  assert.equal(store.canContinue, true);
  const P = ids.length;
  const growing = new GrowingMaps(prompt, 2); // room for 2 of the 6 tokens: the third moves the maps
  store.reserveTokens(4);
  await inspector.generate(ids, {
    maxNew: 6,
    onToken: (t) => {
      growing.append(t.rows);
      ids.push(t.id);
      const token = generatedToken(inspector.tokenizer!.idToToken(t.id) ?? '', false);
      assert.equal(store.appendToken(t.position, token, t.rows), true);
    },
  });
  const S = ids.length;
  assert.equal(S, P + 6);
  assert.equal(store.tokens.length, S);
  assert.equal(store.promptLength, P);
  assert.ok(store.tokens.slice(P).every((t) => t.generated === true));
  const full = await layers(ids);
  const host = growing.dense();
  let worst = 0;
  for (let l = 0; l < f.layers; l++) {
    assert.deepEqual([host[l].queryLength, host[l].keyLength], [S, S]);
    assert.deepEqual(store.maps.shape(l) && [store.maps.shape(l)!.queryLength, store.maps.shape(l)!.keyLength], [S, S]);
    assert.equal(host[l].data.length, full[l].data.length);
    for (let i = 0; i < full[l].data.length; i++) worst = Math.max(worst, Math.abs(host[l].data[i] - full[l].data[i]));
    for (let h = 0; h < f.heads; h++)
      for (let q = 0; q < S; q++)
        for (let k = 0; k < S; k++)
          worst = Math.max(worst, Math.abs(store.maps.value(l, h, q, k) - full[l].data[(h * S + q) * S + k]));
  }
  assert.ok(worst <= 1e-5, `largest difference ${worst}`);
  // A token that does not follow the run (a missed one) is refused rather than misplaced.
  assert.equal(
    store.appendToken(
      S + 1,
      generatedToken('x', false),
      host.map(() => new Float32Array(1)),
    ),
    false,
  );
});

test('a panel restored with its output: prompt + output as one pass, the output marked, the maps as Continue grew them', async () => {
  const text = 'Once upon a time, there was a little girl named Lily.';
  const prompt = inspector.tokenize(text);
  const ids = prompt.map((t) => t.id);
  const growing = new GrowingMaps(await layers(ids), 5);
  const continued: number[] = [];
  await inspector.generate(ids, {
    maxNew: 5,
    onToken: (t) => {
      growing.append(t.rows);
      continued.push(t.id);
    },
  });
  // What the webview keeps for a reload, and what the host then runs.
  const source = {
    uri: '',
    range: [0, 0, 0, text.length],
    text,
    modelPath: MODEL,
    truncate: false,
    generated: continued,
  };
  assert.ok(isRunSource(source));
  const tokenizer = inspector.tokenizer!;
  const r = restoredInput(
    inspector.tokenize(source.text),
    source.generated,
    (id) => tokenizer.idToToken(id),
    stopTokenIds(tokenizer),
  );
  assert.equal(r.promptLength, prompt.length);
  assert.deepEqual(r.ids, [...ids, ...continued]);
  assert.deepEqual(
    r.tokens.map((t) => [t.text, t.start, t.generated === true]),
    [...prompt.map((t) => [t.text, t.start, false]), ...continued.map((id) => [tokenizer.idToToken(id), null, true])],
  );
  const restored = await layers(r.ids); // one full pass
  const grown = growing.dense();
  let worst = 0;
  restored.forEach((l, i) => {
    assert.equal(l.data.length, grown[i].data.length);
    for (let j = 0; j < l.data.length; j++) worst = Math.max(worst, Math.abs(l.data[j] - grown[i].data[j]));
  });
  assert.ok(worst <= 1e-5, `largest difference ${worst}`);
  // A source whose output is not ids is refused (the panel then says how to start).
  for (const generated of [[-1], [1.5], ['x'], 'abc'])
    assert.equal(isRunSource({ ...source, generated }), false, JSON.stringify(generated));
});

test('a restored output that no longer fits says why in one line (the prompt then runs alone)', () => {
  const facts = { maxPositions: 512, vocabSize: 100, name: 'tiny' };
  assert.equal(restoreProblem(10, [1, 2, 3], 512, facts), undefined);
  assert.equal(restoreProblem(10, [1, 2, 3], 12, facts), 'prompt + output are 13 tokens, over the limit of 12');
  assert.equal(restoreProblem(510, [1, 2, 3], 4096, facts), 'prompt + output are 513 tokens, over the 512 tiny takes');
  assert.equal(restoreProblem(10, [1, 200], 512, facts), "token id 200 is outside tiny's vocabulary");
});

test('decoding: greedy without a temperature; sampling keeps a given seed or draws one', () => {
  assert.deepEqual(
    decodingOf({}, () => 9),
    { kind: 'greedy' },
  );
  assert.deepEqual(
    decodingOf({ temperature: 0 }, () => 9),
    { kind: 'greedy' },
  );
  assert.deepEqual(
    decodingOf({ temperature: 0.7, seed: 3 }, () => 9),
    {
      kind: 'sample',
      temperature: 0.7,
      topP: 1,
      seed: 3,
    },
  );
  assert.deepEqual(
    decodingOf({ temperature: 0.7, topP: 0.9 }, () => 9),
    {
      kind: 'sample',
      temperature: 0.7,
      topP: 0.9,
      seed: 9,
    },
  );
  assert.deepEqual(generatedIds([1, 2, 3, 4, 5], 2, new Set([5])), [3, 4]);
});

test("the Continue bar's fields: a request, or one line that says what to fix", () => {
  const f = { count: '32', decoding: 'greedy', temperature: '0.8', topP: '0.95', seed: '' };
  assert.deepEqual(continueRequest(4, f), { runId: 4, maxNew: 32 });
  assert.deepEqual(continueRequest(4, { ...f, decoding: 'sample' }), {
    runId: 4,
    maxNew: 32,
    temperature: 0.8,
    topP: 0.95,
  });
  assert.deepEqual(continueRequest(4, { ...f, decoding: 'sample', seed: '17' }), {
    runId: 4,
    maxNew: 32,
    temperature: 0.8,
    topP: 0.95,
    seed: 17,
  });
  for (const [bad, why] of [
    [{ count: '0' }, /Tokens/],
    [{ count: 'ten' }, /Tokens/],
    [{ decoding: 'sample', temperature: '0' }, /Temperature/],
    [{ decoding: 'sample', topP: '2' }, /Top-p/],
    [{ decoding: 'sample', seed: '-4' }, /Seed/],
  ] as const) {
    const r = continueRequest(4, { ...f, ...bad });
    assert.ok('error' in r && why.test(r.error), JSON.stringify(r));
  }
});
