// A run the host says is kept for long inputs (runStarted.kept, issue 15): the webview's store holds it as kept from
// its start, before any layer, so the views lay out for a window from the start — the head view's tokens of
// KEPT_VIEW_WINDOW, not 8,192 tokens in both columns built and dropped again at the first layer — and the first
// layer joins that run instead of replacing it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../../webview/store';
import { KEPT_VIEW_WINDOW } from '../../../webview/kept-maps';
import { headFigure, windowAround } from '../../../figures/head-figure';
import { PANEL_OPTIONS } from '../../../figures/figure-kit';
import { PAPER } from '../../../figures/theme';
import type { KeptLayerMessage } from '../../../protocol/messages';
import type { ModelFactsLike } from '../../../webview/types';

const N = 8192;
const LAYERS = 2;
const HEADS = 2;
const facts = {
  name: 'synthetic',
  dir: '',
  family: 'llama',
  modelType: 'llama',
  layers: LAYERS,
  heads: HEADS,
  kvHeads: HEADS,
  headDim: 4,
  hidden: 8,
  vocabSize: 10,
  maxPositions: N,
  attentionKinds: ['causal', 'causal'],
  hasLmHead: true,
} as ModelFactsLike;
const tokens = Array.from({ length: N }, (_, i) => ({ text: `t${i}`, start: null, end: null, special: false }));
const source = {
  uri: '',
  range: [0, 0, 0, 0] as [number, number, number, number],
  text: '',
  modelPath: '',
  truncate: false,
};

function keptStore(): { store: Store; asked: () => number } {
  let asked = 0;
  const store = new Store({
    ask: async () => {
      asked++;
      throw new Error('no exact window is asked before a layer arrives');
    },
    arrived: () => undefined,
    failed: (e) => assert.fail(String(e)),
  });
  return { store, asked: () => asked };
}

/** The head view's figure before the first layer, as webview/views/head.ts draws it (tokens only; a kept run's
 * window around the chosen token). */
function headAtStart(store: Store) {
  const win = store.kept ? windowAround(store.query, store.tokens.length, KEPT_VIEW_WINDOW) : null;
  return headFigure(
    store.maps,
    { layer: store.layer, head: store.head, focus: null, tokensOnly: true, window: win },
    { maxHeight: 20 * (win ? win.end - win.start : store.tokens.length) },
    PAPER,
    PANEL_OPTIONS,
  ).scene;
}

test('a run started as kept is kept before its first layer: the head view lays out its window only', () => {
  const { store, asked } = keptStore();
  store.query = 4000;
  store.reset(1, tokens, facts, source, undefined, true);
  assert.ok(store.kept, 'kept from runStarted');
  assert.equal(store.maps, store.kept.maps);
  assert.equal(store.maps.shape(0), undefined); // no layer yet
  assert.equal(store.received, 0);
  const scene = headAtStart(store);
  // Each column labels the window's tokens: 2 × KEPT_VIEW_WINDOW targets, not 2 × 8,192.
  const win = windowAround(4000, N, KEPT_VIEW_WINDOW);
  assert.equal(win.end - win.start, KEPT_VIEW_WINDOW);
  assert.equal(scene.targets.length, 2 * KEPT_VIEW_WINDOW);
  assert.equal(asked(), 0);

  // The same run started as not kept (the host's `kept: false`): every token in both columns.
  const { store: dense } = keptStore();
  dense.reset(1, tokens, facts, source, undefined, false);
  assert.equal(dense.kept, undefined);
  assert.equal(headAtStart(dense).targets.length, 2 * N);
});

test("a kept run's first layer joins the run kept at its start; a next run that is not kept drops it", () => {
  const { store } = keptStore();
  store.reset(1, tokens, facts, source, undefined, true);
  const kept = store.kept;
  const res = 4;
  const cells = HEADS * res * res;
  const layer: KeptLayerMessage = {
    type: 'keptLayer',
    runId: 1,
    layer: 0,
    kind: 'causal',
    heads: HEADS,
    length: N,
    causal: true,
    window: null,
    res,
    block: N / res,
    blockMax: new Float32Array(cells).fill(0.5).buffer,
    blockMean: new Float32Array(cells).fill(0.1).buffer,
  };
  store.addKeptLayer(layer);
  assert.equal(store.kept, kept, 'the same kept run');
  assert.equal(store.received, 1);
  assert.deepEqual(store.maps.shape(0), {
    kind: 'causal',
    heads: HEADS,
    queryLength: N,
    keyLength: N,
    mask: { causal: true, window: null },
  });
  store.reset(2, tokens.slice(0, 10), facts, source, undefined, false);
  assert.equal(store.kept, undefined);
  assert.equal(store.maps.shape(0), undefined);
});

test('without a way to ask the host for exact values (no kept hooks) a run is never held as kept', () => {
  const store = new Store();
  store.reset(1, tokens, facts, source, undefined, true);
  assert.equal(store.kept, undefined);
});
