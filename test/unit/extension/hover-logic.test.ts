// The hover's and the tint's decisions (extension/hover-logic.ts), on hand-computed values: which token is under an
// offset, the weights a token gives and receives for one head and for the mean/max over heads, top-k, tint levels,
// the inline charts, and Markdown escaping (a token can never inject a link, HTML or table cells).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LayerAttention, ModelFacts } from '../../../runtime/types';
import type { TokenInfo } from '../../../protocol/messages';
import {
  bar,
  escapeMarkdown,
  hoverMarkdown,
  keptTokenWeights,
  sparkline,
  staleMarkdown,
  tintLevels,
  tokenAt,
  tokenLinkArgs,
  tokenWeights,
  topK,
} from '../../../extension/hover-logic';
import type { RunSnapshot } from '../../../extension/run-snapshot';

const TOKENS: TokenInfo[] = [
  { text: '<s>', start: null, end: null, special: true },
  { text: '▁Once', start: 0, end: 4, special: false },
  { text: '▁upon', start: 4, end: 9, special: false },
  { text: ',', start: 9, end: 10, special: false },
];

test('tokenAt: the token whose span contains the offset; special tokens and gaps have none', () => {
  assert.equal(tokenAt(TOKENS, 0), 1);
  assert.equal(tokenAt(TOKENS, 3), 1);
  assert.equal(tokenAt(TOKENS, 4), 2);
  assert.equal(tokenAt(TOKENS, 9), 3);
  assert.equal(tokenAt(TOKENS, 10), undefined);
  assert.equal(tokenAt(TOKENS, -1), undefined);
});

// 2 heads × 3 × 3 (causal). Head 0 rows: [1,0,0] [.6,.4,0] [.2,.3,.5]; head 1: [1,0,0] [.2,.8,0] [.6,.1,.3].
const LAYER: LayerAttention = {
  layer: 0,
  kind: 'causal',
  heads: 2,
  queryLength: 3,
  keyLength: 3,
  data: Float32Array.from([1, 0, 0, 0.6, 0.4, 0, 0.2, 0.3, 0.5, 1, 0, 0, 0.2, 0.8, 0, 0.6, 0.1, 0.3]),
};
const round = (a: ArrayLike<number> | undefined) => Array.from(a ?? [], (v) => Math.round(v * 1000) / 1000);

test('tokenWeights: query row (attends to) and key column (attended by), per head and aggregated', () => {
  assert.deepEqual(round(tokenWeights(LAYER, 0, 2).to), [0.2, 0.3, 0.5]);
  assert.deepEqual(round(tokenWeights(LAYER, 1, 0).from), [1, 0.2, 0.6]);
  assert.deepEqual(round(tokenWeights(LAYER, 'mean', 1).to), [0.4, 0.6, 0]);
  assert.deepEqual(round(tokenWeights(LAYER, 'mean', 1).from), [0, 0.6, 0.2]);
  assert.deepEqual(round(tokenWeights(LAYER, 'max', 2).to), [0.6, 0.3, 0.5]);
  assert.deepEqual(round(tokenWeights(LAYER, 'max', 0).from), [1, 0.6, 0.6]);
});

test('topK: strongest first, ties by position, zeros (masked) left out, at most k', () => {
  assert.deepEqual(topK([0.2, 0.5, 0, 0.5, 0.1], 3), [
    { index: 1, weight: 0.5 },
    { index: 3, weight: 0.5 },
    { index: 0, weight: 0.2 },
  ]);
  assert.deepEqual(topK([0, 0, 0]), []);
  assert.equal(topK(Array.from({ length: 20 }, (_, i) => i + 1)).length, 5);
});

test('tintLevels: round(8 · w / max), 0 for zero weights', () => {
  assert.deepEqual(tintLevels([0, 0.1, 0.5, 1, 0.05]), [0, 1, 4, 8, 0]);
  assert.deepEqual(tintLevels([0, 0]), [0, 0]);
});

test('sparkline and bar: block characters scaled to the largest value', () => {
  assert.equal(sparkline([0, 0.5, 1]), '▁▄█');
  assert.equal(sparkline([1, 0, 0, 0, 0, 0, 0, 1], 4), '█▁▁█', 'max-pooled to 4 characters');
  assert.equal(bar(0.5), '████····');
  assert.equal(bar(1), '████████');
  assert.equal(bar(0.0625), '▄·······');
});

test('escapeMarkdown: punctuation escaped, whitespace visible, empty shown', () => {
  assert.equal(escapeMarkdown('[x](command:evil)'), '\\[x\\]\\(command\\:evil\\)');
  assert.equal(escapeMarkdown('<img src=x>'), '\\<img␣src\\=x\\>');
  assert.equal(escapeMarkdown('a|b`c'), 'a\\|b\\`c');
  assert.equal(escapeMarkdown('\n\t'), '↵⇥');
  assert.equal(escapeMarkdown(''), '∅');
});

function snapshot(view: RunSnapshot['view'], layers: LayerAttention[] = [LAYER]): RunSnapshot {
  const tokens: TokenInfo[] = [TOKENS[0], TOKENS[1], { text: '](command:x)', start: 4, end: 9, special: false }];
  return {
    runId: 3,
    source: { uri: 'file:///a.txt', range: [0, 0, 0, 9], text: 'Once upon', modelPath: '/m', truncate: false },
    facts: { name: 'm', layers: 1, heads: 2 } as ModelFacts,
    tokens,
    ids: [1, 2, 3],
    layers,
    state: 'done',
    mapping: { uri: 'file:///a.txt', document: 1, version: 4, offset: 0, length: 9 },
    view,
  };
}

test('hoverMarkdown: token, view, top tokens both ways with weights, charts, only our links', () => {
  const md = hoverMarkdown({
    run: snapshot({ view: 'matrix', layer: 0, head: 0 }),
    index: 2,
    links: { reveal: 'command:attentionLens.revealToken?x', tint: 'command:attentionLens.tintToken?y' },
  });
  assert.match(md, /token 2 of 3: \*\*\\\]\\\(command\\:x\\\)\*\* \(id 3\)/);
  assert.match(md, /layer 0, head 0 \(causal\), as selected in the panel/);
  const rows = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| attends'));
  // Token 2 attends to: itself 0.5, ▁Once 0.3, <s> 0.2; attended by: itself 0.5 (only query 2 sees key 2).
  assert.match(rows[0], /^\| \\\]\\\(command\\:x\\\) \| 0\.500 `████····` \| {3}\| \\\]\\\(command\\:x\\\) \| 0\.500/);
  assert.match(rows[1], /^\| ␣Once \| 0\.300 /); // labelled as the panel does: ▁ shown as ␣
  assert.match(rows[2], /^\| \\<s\\> \| 0\.200 /);
  assert.equal(rows.length, 3);
  assert.match(md, /attends to: `▃▅█`/);
  const links = [...md.matchAll(/\]\((command:[^)]*)\)/g)].map((m) => m[1]);
  assert.deepEqual(links, ['command:attentionLens.revealToken?x', 'command:attentionLens.tintToken?y']);
});

test('hoverMarkdown: mean over heads, and a layer not computed yet', () => {
  const md = hoverMarkdown({ run: snapshot({ view: 'grid', layer: 0, head: 'mean' }), index: 1 });
  assert.match(md, /layer 0, mean of heads/);
  assert.match(md, /\| ␣Once \| 0\.600 /, 'mean of 0.4 and 0.8');
  const missing = hoverMarkdown({
    run: { ...snapshot({ view: 'grid', layer: 0, head: 0 }, []), state: 'running' },
    index: 1,
  });
  assert.match(missing, /Layer 0 has not been computed yet \(the run is in progress\)/);
});

test('staleMarkdown says in words that the text changed and what to do, with no version numbers', () => {
  const md = staleMarkdown();
  assert.match(md, /The text changed since this run — Show Attention again\\\./);
  assert.doesNotMatch(md, /version|\d/);
});

test('tokenLinkArgs: { runId, index } alone or as the one-element array a command link passes; nothing else', () => {
  assert.deepEqual(tokenLinkArgs({ runId: 3, index: 1 }), { runId: 3, index: 1 });
  assert.deepEqual(tokenLinkArgs([{ runId: 3, index: 0 }]), { runId: 3, index: 0 });
  assert.equal(tokenLinkArgs({ runId: 3 }), undefined);
  assert.equal(tokenLinkArgs({ runId: 1.5, index: 0 }), undefined);
  assert.equal(tokenLinkArgs({ runId: '3', index: 0 }), undefined);
  assert.equal(tokenLinkArgs(null), undefined);
  assert.equal(tokenLinkArgs([]), undefined);
});

test('hover on a source token with a cross layer selected: which target tokens attend to it', () => {
  // Cross [1 head, 2 target, 3 source]: rows [0.1, 0.2, 0.7], [0.6, 0.3, 0.1]. Source token 2 (the key) is attended
  // by target P with 0.7 and by Q with 0.1; a cross layer has no "attends to" for a source token.
  const cross: LayerAttention = {
    layer: 0,
    kind: 'cross',
    heads: 1,
    queryLength: 2,
    keyLength: 3,
    data: Float32Array.from([0.1, 0.2, 0.7, 0.6, 0.3, 0.1]),
  };
  const run: RunSnapshot = {
    ...snapshot({ view: 'matrix', layer: 0, head: 0 }, [cross]),
    targetTokens: [
      { text: 'P', start: null, end: null, special: false },
      { text: 'Q', start: null, end: null, special: false },
    ],
  };
  const md = hoverMarkdown({ run, index: 2 });
  assert.match(md, /attended by \(target\)/);
  const rows = md.split('\n').filter((x) => x.startsWith('| ') && !x.startsWith('| attends'));
  assert.match(rows[0], /^\|\s+\|\s+\|\s+\|\s+P \| 0\.70/);
  assert.match(rows[1], /^\|\s+\|\s+\|\s+\|\s+Q \| 0\.10/);
  assert.doesNotMatch(md, /attends to: `/);
  // A decoder (target × target) layer says what to pick instead.
  const dec = { ...cross, kind: 'decoder' as const, keyLength: 2, data: Float32Array.from([1, 0, 0.5, 0.5]) };
  assert.match(hoverMarkdown({ run: { ...run, layers: [dec] }, index: 1 }), /choose an encoder or cross layer/);
});

test('keptTokenWeights: a kept run’s rows and columns asked per head equal tokenWeights on the same map; the hover reads them', async () => {
  const at = (h: number, i: number, j: number) => LAYER.data[(h * 3 + i) * 3 + j];
  const asked: string[] = [];
  // What the worker answers for a kept run of the same map (hand-computed above).
  const kept = {
    length: 3,
    layer: () => undefined,
    value: async (_l: number, h: number, i: number, j: number) => at(h, i, j),
    row: async (_l: number, h: number, i: number) => (
      asked.push(`row ${h} ${i}`),
      Float32Array.from([0, 1, 2], (j) => at(h, i, j))
    ),
    column: async (_l: number, h: number, j: number) => (
      asked.push(`col ${h} ${j}`),
      Float32Array.from([0, 1, 2], (i) => at(h, i, j))
    ),
    window: async () => new Float32Array(0),
    vectors: async () => ({ q: new Float32Array(0), k: new Float32Array(0), lse: new Float64Array(0) }),
    rollout: async () => new Float64Array(0),
  };
  for (const head of [0, 1, 'mean', 'max'] as const)
    for (const index of [0, 1, 2]) {
      const w = await keptTokenWeights(kept, 2, 0, head, index);
      const d = tokenWeights(LAYER, head, index);
      assert.deepEqual(round(w.to), round(d.to), `${head} ${index} to`);
      assert.deepEqual(round(w.from), round(d.from), `${head} ${index} from`);
    }
  asked.length = 0;
  await keptTokenWeights(kept, 2, 0, 1, 2);
  assert.deepEqual(asked, ['row 1 2', 'col 1 2'], 'one head: its row and column only');
  // The hover of a kept run (no maps in the snapshot) reads the weights it is given.
  const run = {
    ...snapshot({ view: 'grid', layer: 0, head: 'mean' }, []),
    facts: { attentionKinds: ['causal'] } as unknown as ModelFacts,
  };
  const md = hoverMarkdown({ run, index: 1, kept: await keptTokenWeights(kept, 2, 0, 'mean', 1) });
  assert.match(md, /\| ␣Once \| 0\.600 /, 'mean of 0.4 and 0.8');
});
