// Encoder–decoder runs in the grid and the head view, on hand-computed cases: the stacks of an entry list
// (figures/stacks.ts), the grid's three labelled sections (rows moved down by each section's title, row names per
// stack, one hit-test region per section, the titles as text targets), and the head view's encoder–decoder layout
// (a cross layer: target tokens on the left, source tokens on the right, titled so; its strongest line).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AttentionKind, LayerAttention } from '../../../runtime/types';
import { PANEL_OPTIONS, EXPORT_OPTIONS } from '../../../figures/figure-kit';
import { gridFigure } from '../../../figures/grid-figure';
import { headFigure } from '../../../figures/head-figure';
import { MemoryRunMaps } from '../../../figures/run-maps';
import { cellAtPoint, region, type Scene, type TextItem } from '../../../figures/scene';
import { sameStackLayer, stackOf, stackSections } from '../../../figures/stacks';
import { PAPER, type FigureTheme } from '../../../figures/theme';

const HALF: FigureTheme = { ...PAPER, measure: (t, size) => [...t].length * size * 0.5 };
const KINDS: AttentionKind[] = ['encoder', 'encoder', 'decoder', 'decoder', 'cross', 'cross'];
const SOURCE = [{ text: 'the' }, { text: '2021' }, { text: 'eos' }];
const TARGET = [{ text: 'Y' }, { text: 'end' }];

/** 2 + 2 + 2 entries of one head: encoder [3, 3], decoder [2, 2] (causal), cross [2, 3]. */
function marianLike(arrived = 6): MemoryRunMaps {
  const maps = new MemoryRunMaps('m', SOURCE, 6, 1);
  maps.targetTokens = TARGET;
  const data: Record<string, number[]> = {
    encoder: [0.5, 0.25, 0.25, 0.2, 0.6, 0.2, 0.1, 0.1, 0.8],
    decoder: [1, 0, 0.3, 0.7],
    // Target 0 ("Y") looks at source 1 ("2021"); target 1 at source 0.
    cross: [0.1, 0.85, 0.05, 0.6, 0.2, 0.2],
  };
  for (let l = 0; l < arrived; l++) {
    const kind = KINDS[l];
    const q = kind === 'encoder' ? 3 : 2;
    const k = kind === 'decoder' ? 2 : 3;
    const layer: LayerAttention = {
      layer: l,
      stackLayer: l % 2,
      kind,
      heads: 1,
      queryLength: q,
      keyLength: k,
      data: Float32Array.from(data[kind]),
    };
    maps.add(layer);
  }
  return maps;
}

const texts = (s: Scene, role: string) =>
  s.items.filter((it): it is TextItem => it.kind === 'text' && it.role === role).map((t) => [t.text, t.x, t.y]);

test('stacks: the sections of an entry list, an entry by its stack, the same layer of another stack', () => {
  assert.deepEqual(stackSections(KINDS), [
    { kind: 'encoder', title: 'Encoder self-attention (source → source)', first: 0, count: 2 },
    { kind: 'decoder', title: 'Decoder self-attention (target → target, masked)', first: 2, count: 2 },
    { kind: 'cross', title: 'Cross-attention (target → source)', first: 4, count: 2 },
  ]);
  assert.equal(stackSections(['causal', 'causal']), undefined, 'one-stack models have no sections');
  assert.deepEqual(stackOf(KINDS, 5), { kind: 'cross', stackLayer: 1 });
  assert.equal(sameStackLayer(KINDS, 5, 'encoder'), 1);
  assert.equal(sameStackLayer(KINDS, 1, 'cross'), 5);
  assert.equal(sameStackLayer(KINDS, 3, 'decoder'), 3);
  // A decoder with fewer layers than the encoder: the last of its stack.
  assert.equal(sameStackLayer(['encoder', 'encoder', 'encoder', 'decoder', 'cross'], 2, 'cross'), 4);
  assert.equal(sameStackLayer(['causal'], 0, 'cross'), undefined);
});

test('grid: encoder, decoder and cross sections, titled, rows named per stack, one region each', () => {
  // Only the first three entries have arrived: the kinds come from the facts.
  const { scene, geometry } = gridFigure(
    marianLike(3),
    { layer: 4, head: 0, colorMap: 'viridis', kinds: KINDS },
    { thumb: 48, maxThumbCells: 48 },
    HALF,
    PANEL_OPTIONS,
  );
  // 3 source tokens: 3 cells of 16 px, side 48, pitch 54; x0 = 16 + 'L5' (10) + 8 = 34; head labels' line y0 = 32;
  // each section's title (20 px) above its rows: rows at 32 + l · 54 + (section + 1) · 20.
  assert.deepEqual(geometry.rowY, [52, 106, 180, 234, 308, 362]);
  assert.equal(geometry.drawn, 3);
  assert.deepEqual(texts(scene, 'stack-title'), [
    ['Encoder self-attention (source → source)', 16, 41],
    ['Decoder self-attention (target → target, masked)', 16, 169],
    ['Cross-attention (target → source)', 16, 297],
  ]);
  assert.deepEqual(
    texts(scene, 'axis')
      .filter(([t]) => /^[EDX]\d$/.test(String(t)))
      .map(([t, , y]) => [t, y]),
    [
      ['E0', 52 + 24],
      ['E1', 106 + 24],
      ['D0', 180 + 24],
      ['D1', 234 + 24],
      ['X0', 308 + 24],
      ['X1', 362 + 24],
    ],
  );
  // The thumbnails first (the panel indexes them by layer × heads), then the sections' titles as text.
  const thumbs = scene.targets.filter((t) => t.role === 'thumb');
  assert.deepEqual(
    thumbs.map((t) => [t.data?.layer, t.data?.stack, t.data?.stackLayer, t.y, t.data?.pending ?? '']),
    [
      ['0', 'encoder', '0', 52, ''],
      ['1', 'encoder', '1', 106, ''],
      ['2', 'decoder', '0', 180, ''],
      ['3', 'decoder', '1', 234, '1'],
      ['4', 'cross', '0', 308, '1'],
      ['5', 'cross', '1', 362, '1'],
    ],
  );
  assert.equal(thumbs[4].title, 'Cross-attention (target → source): layer 0 (entry 4), head 0');
  assert.deepEqual(
    scene.targets.slice(6).map((t) => [t.role, t.text, t.data?.stack, t.data?.layers]),
    [
      ['grid-stack', 'Encoder self-attention (source → source)', 'encoder', '2'],
      ['grid-stack', 'Decoder self-attention (target → target, masked)', 'decoder', '2'],
      ['grid-stack', 'Cross-attention (target → source)', 'cross', '2'],
    ],
  );
  // Hit-testing per section: a point in cross layer 1's thumbnail is row 1 of 'thumbs:cross', whose rows start at 4.
  const cross = region(scene, 'thumbs:cross');
  assert.deepEqual([cross.rowStart, cross.rows, cross.y], [4, 2, 308]);
  assert.deepEqual(cellAtPoint(cross, 34 + 5, 362 + 5), { row: 1, col: 0 });
  assert.equal(cellAtPoint(region(scene, 'thumbs:encoder'), 34 + 5, 180 + 5), null, 'below the encoder section');
  // The selection outline sits on the cross layer's row.
  const sel = scene.items.find((it) => it.role === 'selected');
  assert.ok(sel && sel.kind === 'rect' && sel.y === 306);
  // An export says how many layers of each stack, and both token counts.
  const exported = gridFigure(
    marianLike(),
    { layer: 0, head: 0, colorMap: 'viridis' },
    { thumb: 48, maxThumbCells: 48 },
    HALF,
    EXPORT_OPTIONS,
  ).scene;
  assert.match(
    exported.title,
    /model grid: 6 layers \(2 encoder, 2 decoder, 2 cross\) × 1 heads · 3 source \+ 2 target tokens/,
  );
  assert.equal(texts(exported, 'stack-title').length, 3);
});

test('grid: a one-stack model keeps its plain layer rows and one region', () => {
  const maps = new MemoryRunMaps('m', SOURCE, 2, 1);
  for (let l = 0; l < 2; l++)
    maps.add({ layer: l, kind: 'self', heads: 1, queryLength: 3, keyLength: 3, data: new Float32Array(9).fill(1 / 3) });
  const { scene, geometry } = gridFigure(
    maps,
    { layer: 0, head: 0, colorMap: 'viridis' },
    { thumb: 48, maxThumbCells: 48 },
    HALF,
    PANEL_OPTIONS,
  );
  assert.deepEqual(geometry.rowY, [32, 86]);
  assert.deepEqual(
    scene.regions.map((r) => r.id),
    ['thumbs'],
  );
  assert.equal(texts(scene, 'stack-title').length, 0);
  assert.ok(scene.targets.every((t) => t.role === 'thumb' && t.data?.stack === undefined));
});

test('head view, encoder–decoder layout: a cross layer draws target tokens left, source tokens right', () => {
  const maps = marianLike();
  const { scene, geometry } = headFigure(maps, { layer: 4, head: 0 }, { maxHeight: 60 }, HALF, EXPORT_OPTIONS);
  assert.match(scene.title, /layer 4: cross-attention 0 · head 0 · 2 × 3 tokens/);
  assert.deepEqual(
    texts(scene, 'axis-title').map(([t]) => t),
    ['target (query)', 'source (key)'],
  );
  assert.deepEqual(
    texts(scene, 'label-left').map(([t]) => t),
    ['Y', 'end'],
  );
  assert.deepEqual(
    texts(scene, 'label-right').map(([t]) => t),
    ['the', '2021', 'eos'],
  );
  // Lines for weights ≥ max(0.01, 1/3): Y → 2021 (0.85) and end → the (0.6); Y → 2021 is the strongest.
  const lines = scene.items.filter((it) => it.kind === 'line' && it.role === 'link');
  assert.deepEqual(
    lines.map((l) => (l.kind === 'line' ? [l.attrs?.['data-query'], l.attrs?.['data-key'], l.y1, l.y2] : [])),
    [
      ['0', '1', geometry.top, geometry.top + geometry.row],
      ['1', '0', geometry.top + geometry.row, geometry.top],
    ],
  );
  assert.equal(geometry.strongest?.[1], 0);
  assert.equal(geometry.strongest?.[2], 1);
  assert.equal(geometry.strongest?.[3], Math.fround(0.85));
  // The panel's targets say which token list each column is.
  const left = scene.targets.filter((t) => t.data?.side === 'left').map((t) => [t.text, t.data?.axis]);
  assert.deepEqual(left, [
    ['Y', 'target'],
    ['end', 'target'],
  ]);
  // Focused on the target token "end": its lines only, down to 0.001, the strongest to "the".
  const f = headFigure(
    maps,
    { layer: 4, head: 0, focus: { side: 'left', index: 1 } },
    { maxHeight: 60 },
    HALF,
    PANEL_OPTIONS,
  );
  assert.equal(f.geometry.lines, 3);
  assert.deepEqual(f.geometry.strongest, [0, 1, 0, Math.fround(0.6)]);
  // Encoder and decoder self-attention: source × source, and target × the decoder's inputs (key j is what the
  // decoder read at j: the start token, then the target one behind).
  const enc = headFigure(maps, { layer: 1, head: 0 }, { maxHeight: 60 }, HALF, PANEL_OPTIONS).scene;
  assert.deepEqual(
    texts(enc, 'label-left').map(([t]) => t),
    ['the', '2021', 'eos'],
  );
  const dec = headFigure(maps, { layer: 2, head: 0 }, { maxHeight: 60 }, HALF, PANEL_OPTIONS).scene;
  assert.deepEqual(
    texts(dec, 'label-left').map(([t]) => t),
    ['Y', 'end'],
  );
  assert.deepEqual(
    texts(dec, 'label-right').map(([t]) => t),
    ['⟨start⟩', 'Y'],
  );
  assert.deepEqual(
    texts(dec, 'axis-title').map(([t]) => t),
    ['target (query)', 'decoder input (key)'],
  );
  maps.decoderInputTokens = [
    { text: '</s>', label: '</s>' },
    { text: 'Y', label: 'Y' },
  ];
  const given = headFigure(maps, { layer: 2, head: 0 }, { maxHeight: 60 }, HALF, PANEL_OPTIONS).scene;
  assert.deepEqual(
    texts(given, 'label-right').map(([t]) => t),
    ['</s>', 'Y'],
  );
});
