// The figure functions' geometry on small hand-computed cases (figures/matrix-figure.ts, grid-figure.ts,
// head-figure.ts, hatch.ts, scene.ts). A theme whose every character is half its font size wide makes every width
// countable by hand: 'ccc' at 10 px is 15 px. Expected numbers are worked out in the comments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LayerAttention } from '../../../runtime/types';
import { EXPORT_OPTIONS, PANEL_OPTIONS } from '../../../figures/figure-kit';
import { gridFigure, thumbCells } from '../../../figures/grid-figure';
import { maskedPolygons } from '../../../figures/hatch';
import { headFigure } from '../../../figures/head-figure';
import { matrixFigure } from '../../../figures/matrix-figure';
import { MemoryRunMaps } from '../../../figures/run-maps';
import { cellAtPoint, region, type ImageItem, type Scene, type TextItem } from '../../../figures/scene';
import { PAPER, type FigureTheme } from '../../../figures/theme';

const HALF: FigureTheme = { ...PAPER, measure: (t, size) => [...t].length * size * 0.5 };
const SIZE = { target: 60, minCell: 3, maxCell: 28, maxCells: 256 };

/** 3 tokens a, bb, ccc; one causal layer of one head: rows [1, 0, 0], [0.5, 0.5, 0], [0.2, 0.3, 0.5]. */
function tiny(layers = 1, heads = 1): MemoryRunMaps {
  const one = [1, 0, 0, 0.5, 0.5, 0, 0.2, 0.3, 0.5];
  const layer = (i: number): LayerAttention => ({
    layer: i,
    kind: 'causal',
    heads,
    queryLength: 3,
    keyLength: 3,
    data: Float32Array.from(Array.from({ length: heads }, () => one).flat()),
  });
  const maps = new MemoryRunMaps('tiny', [{ text: 'a' }, { text: 'bb' }, { text: 'ccc' }], layers, heads);
  maps.add(layer(0));
  return maps;
}

const texts = (s: Scene, role: string) =>
  s.items.filter((it): it is TextItem => it.kind === 'text' && it.role === role).map((t) => [t.text, t.x, t.y]);

test('matrix: cells, labels, axis titles, region and colour bar where the arithmetic puts them', () => {
  const { scene, geometry } = matrixFigure(tiny(), { layer: 0, head: 0, colorMap: 'greys' }, SIZE, HALF, PANEL_OPTIONS);
  // cell = floor(60 / 3) = 20; labels every token (20 ≥ 10 px), 10 px font: widest 'ccc' = 15 + 8 = 23 px.
  // 'query ↓' = 7 × 5 = 35 px, so the row-label column is max(23, 35 + 6) = 41: x0 = 16 + 41 = 57.
  // No caption: the axis line at y 16 (centre 21), then y = 16 + 16 = 32; column labels 23 px: y0 = 55.
  assert.deepEqual(geometry, { x: 57, y: 55, cell: 20, rows: 3, cols: 3, pooled: false, vmax: 1, labelStep: 1 });
  assert.deepEqual(texts(scene, 'axis-title'), [
    ['query ↓', 51, 21],
    ['key →', 57, 21],
  ]);
  assert.deepEqual(texts(scene, 'label-row'), [
    ['a', 53, 65],
    ['bb', 53, 85],
    ['ccc', 53, 105],
  ]);
  assert.deepEqual(texts(scene, 'label-col'), [
    ['a', 67, 51],
    ['bb', 87, 51],
    ['ccc', 107, 51],
  ]);
  const cells = scene.items.find((it): it is ImageItem => it.kind === 'image' && it.role === 'matrix')!;
  assert.deepEqual([cells.x, cells.y, cells.cellW, cells.rows, cells.cols], [57, 55, 20, 3, 3]);
  assert.deepEqual([...cells.masked!], [0, 1, 1, 0, 0, 1, 0, 0, 0]);
  // greys: 1 → black, 0.5 → LUT entry 128; masked cells in the theme's masked grey.
  assert.deepEqual([...cells.rgba.subarray(0, 8)], [0, 0, 0, 255, ...PAPER.masked, 255]);
  const r = region(scene, 'matrix');
  assert.deepEqual(cellAtPoint(r, 57 + 45, 55 + 25), { row: 1, col: 2 });
  assert.equal(cellAtPoint(r, 56, 60), null);
  // The bar 14 px below the cells (y 129): 'weight' 30 px + 8, '0' 5 px + 6 → bar at x 65, 64 × 3 px; '1.00' after.
  const bar = scene.items.find((it): it is ImageItem => it.kind === 'image' && it.role === 'legend')!;
  assert.deepEqual([bar.x, bar.y, bar.cols, bar.cellW], [65, 129, 64, 3]);
  assert.deepEqual(texts(scene, 'legend').at(-1), ['1.00', 263, 135]);
  // Height: bar bottom 141 + 8 + margin 16; width: the note after the bar, 293 + 40 × 5 = 493, + margin.
  assert.deepEqual([scene.width, scene.height], [509, 165]);
  // Every label is a target over its text: 'ccc' ends at x 53, 15 px wide, one cell tall.
  const t = scene.targets.find((x) => x.role === 'matrix-label-row' && x.text === 'ccc')!;
  assert.deepEqual([t.x, t.y, t.w, t.h, t.data?.index], [38, 95, 15, 20, '2']);
});

test('matrix: the export caption and source sentence push the cells down; the notes follow the bar', () => {
  const { scene, geometry } = matrixFigure(tiny(), { layer: 0, head: 0, colorMap: 'greys' }, SIZE, HALF, {
    ...EXPORT_OPTIONS,
    source: 'a bb  ccc',
  });
  // Caption 12 px (+4), source 10 px (+4), + 6: the axis line at 52; y0 = 52 + 16 + 23 = 91.
  assert.deepEqual([geometry.x, geometry.y], [57, 91]);
  assert.deepEqual(texts(scene, 'caption'), [['tiny · layer 0 (causal) · head 0 · 3 × 3 tokens', 16, 22]]);
  assert.deepEqual(texts(scene, 'source'), [['“a bb ccc”', 16, 37]]);
  assert.deepEqual(scene.notes, [
    'Hatched cells are masked (a causal layer: a token does not attend to later tokens).',
  ]);
  assert.equal(texts(scene, 'note').length, 1);
});

test('matrix: small cells label every n-th token; many tokens are pooled and lose their labels', () => {
  const n = 40;
  const data = new Float32Array(n * n).fill(1 / n);
  const maps = new MemoryRunMaps(
    'm',
    Array.from({ length: n }, (_, i) => ({ text: `t${i}` })),
    1,
    1,
  );
  maps.add({ layer: 0, kind: 'self', heads: 1, queryLength: n, keyLength: n, data });
  // 120 / 40 = 3 px a cell: labels need 10 px, so one in ceil(10 / 3) = 4.
  const thin = matrixFigure(
    maps,
    { layer: 0, head: 0, colorMap: 'viridis' },
    { ...SIZE, target: 120 },
    HALF,
    EXPORT_OPTIONS,
  );
  assert.equal(thin.geometry.labelStep, 4);
  assert.deepEqual(
    texts(thin.scene, 'label-row').map((t) => t[0]),
    ['t0', 't4', 't8', 't12', 't16', 't20', 't24', 't28', 't32', 't36'],
  );
  assert.match(thin.scene.notes.join(' '), /One token in 4 is labelled \(3 px per token\)/);
  const pooled = matrixFigure(
    maps,
    { layer: 0, head: 0, colorMap: 'viridis' },
    { ...SIZE, maxCells: 16 },
    HALF,
    EXPORT_OPTIONS,
  );
  assert.deepEqual([pooled.geometry.rows, pooled.geometry.pooled, pooled.geometry.labelStep], [16, true, 0]);
  assert.equal(texts(pooled.scene, 'label-row').length, 0);
  assert.match(pooled.scene.notes.join(' '), /40 × 40 tokens drawn as 16 × 16 cells: .* \(up to 3 × 3\)/);
  // A zoomed window: rows 8–11, columns 20–23, one cell per token, the region says which tokens.
  const zoom = matrixFigure(
    maps,
    { layer: 0, head: 0, colorMap: 'viridis', window: { rows: { start: 8, end: 12 }, cols: { start: 20, end: 24 } } },
    SIZE,
    HALF,
    PANEL_OPTIONS,
  );
  const r = region(zoom.scene, 'matrix');
  assert.deepEqual([r.rows, r.cols, r.rowStart, r.colStart, r.rowStep], [4, 4, 8, 20, 1]);
  assert.deepEqual(
    texts(zoom.scene, 'label-col').map((t) => t[0]),
    ['t20', 't21', 't22', 't23'],
  );
});

test('hatch: the masked runs of each row as staircase polygons', () => {
  // 3 × 3 causal (runs at the ends of rows 0 and 1), cells 20 px at (57, 55).
  const polys = maskedPolygons(Uint8Array.from([0, 1, 1, 0, 0, 1, 0, 0, 0]), 3, 3, 57, 55, 20, 20);
  assert.equal(polys.length, 1);
  assert.deepEqual(polys[0].slice(0, 6), [
    [77, 55],
    [77, 75],
    [97, 75],
    [97, 95],
    [117, 95],
    [117, 115],
  ]);
  // A window masks the start of rows: a second polygon from the left edge, one cell wide on row 2 only (its right
  // edge, from the bottom up, starts at x 1 for row 2).
  const both = maskedPolygons(Uint8Array.from([0, 1, 1, 0, 0, 1, 1, 0, 0]), 3, 3, 0, 0, 1, 1);
  assert.equal(both.length, 2);
  assert.deepEqual(both[1].slice(6, 8), [
    [1, 3],
    [1, 2],
  ]);
  const themed = matrixFigure(
    tiny(),
    { layer: 0, head: 0, colorMap: 'greys' },
    SIZE,
    { ...HALF, hatch: [1, 2, 3] },
    PANEL_OPTIONS,
  );
  assert.equal(themed.scene.items.filter((it) => it.kind === 'hatch').length, 1, 'the panel theme hatches');
});

test('grid: thumbnails at a pitch, pending layers framed, the selection outlined, one target each', () => {
  const maps = tiny(2, 2); // layer 1 not computed
  const { scene, geometry } = gridFigure(
    maps,
    { layer: 0, head: 1, colorMap: 'viridis' },
    { thumb: 48, maxThumbCells: 48 },
    HALF,
    PANEL_OPTIONS,
  );
  // 3 tokens: 3 cells a side of floor(48 / 3) = 16 px; side 48, pitch 54. 'L1' is 10 px: x0 = 16 + 10 + 8 = 34;
  // the head labels' line: y0 = 16 + 10 + 6 = 32.
  assert.deepEqual(geometry, { x: 34, y: 32, side: 48, pitch: 54, res: 3, cell: 16, drawn: 2, rowY: [32, 86] });
  const thumbs = scene.items.filter((it): it is ImageItem => it.kind === 'image' && it.role === 'thumb');
  assert.deepEqual(
    thumbs.map((t) => [t.x, t.y]),
    [
      [34, 32],
      [88, 32],
    ],
  );
  assert.equal(scene.items.filter((it) => it.role === 'pending').length, 2);
  const sel = scene.items.filter((it) => it.role === 'selected');
  assert.deepEqual(
    sel.map((it) => (it.kind === 'rect' ? [it.x, it.y, it.w, it.h] : [])),
    [[86, 30, 52, 52]],
  );
  assert.deepEqual(
    scene.targets.map((t) => [t.data?.layer, t.data?.head, t.data?.pending ?? '', t.x, t.y]),
    [
      ['0', '0', '', 34, 32],
      ['0', '1', '', 88, 32],
      ['1', '0', '1', 34, 86],
      ['1', '1', '1', 88, 86],
    ],
  );
  assert.deepEqual(cellAtPoint(region(scene, 'thumbs'), 88 + 47, 86), { row: 1, col: 1 });
  assert.equal(cellAtPoint(region(scene, 'thumbs'), 34 + 50, 40), null, 'the gap between thumbnails');
});

test('head view: token rows, line ends, the lines above the threshold, and a focused token', () => {
  const maps = tiny();
  const { scene, geometry } = headFigure(maps, { layer: 0, head: 0 }, { maxHeight: 60 }, HALF, PANEL_OPTIONS);
  // Rows of min(20, 60 / 3) = 20 px; left labels 15 + 8 = 23 px wide, the title 'query' 25 + 4: left = 16 + 29 = 45,
  // right = 45 + 180;
  // the column titles' line (16 px) at the top, then row 0's centre at 16 + 16 + 10. Lines for weights
  // ≥ max(0.01, 1/3): (0,0) 1, (1,0) .5, (1,1) .5, (2,2) .5.
  assert.deepEqual(geometry, {
    left: 45,
    right: 225,
    top: 42,
    row: 20,
    lines: 4,
    cutoff: 1 / 3,
    first: 0,
    strongest: [0, 0, 0, 1],
  });
  assert.deepEqual(texts(scene, 'axis-title'), [
    ['query', 41, 21],
    ['key', 229, 21],
  ]);
  const lines = scene.items.filter((it) => it.kind === 'line');
  assert.deepEqual(
    lines.map((l) =>
      l.kind === 'line' ? [l.attrs?.['data-query'], l.attrs?.['data-key'], l.y1, l.y2, l.opacity] : [],
    ),
    [
      ['0', '0', 42, 42, 1],
      ['1', '0', 62, 42, 0.5],
      ['1', '1', 62, 62, 0.5],
      ['2', '2', 82, 82, 0.5],
    ],
  );
  assert.deepEqual(texts(scene, 'label-left'), [
    ['a', 41, 42],
    ['bb', 41, 62],
    ['ccc', 41, 82],
  ]);
  // Focus on query 2: its lines down to 0.001 (0.2, 0.3, 0.5), the other labels muted.
  const f = headFigure(
    maps,
    { layer: 0, head: 0, focus: { side: 'left', index: 2 } },
    { maxHeight: 60 },
    HALF,
    PANEL_OPTIONS,
  );
  assert.equal(f.geometry.lines, 3);
  const left = f.scene.items.filter((it): it is TextItem => it.kind === 'text' && it.role === 'label-left');
  assert.deepEqual(
    left.map((t) => t.color),
    [PAPER.muted, PAPER.muted, PAPER.ink],
  );
  assert.ok(f.scene.targets.some((t) => t.role === 'head-token head-token-left active' && t.data?.index === '2'));
});

test('grid: cells a thumbnail side fill it in whole px (pooled one px larger when one px a token leaves it empty)', () => {
  assert.equal(thumbCells(13, 136), 13); // 13 × 10 = 130 px of 136
  assert.equal(thumbCells(74, 136), 68); // 74 × 1 = 74 px would leave half empty: 68 cells × 2 px
  assert.equal(thumbCells(451, 136), 136); // more tokens than px: one px a cell, pooled
  assert.equal(thumbCells(40, 44), 40); // 40 of 44 px
  assert.equal(thumbCells(30, 44), 22); // 30 px of 44 is 68 %: 22 cells × 2 px
});

test("a chat template's tokens: labels drawn in the muted ink and marked data-template, in the matrix and head view", () => {
  const one = [1, 0, 0, 0.5, 0.5, 0, 0.2, 0.3, 0.5];
  // "<s>" and "</s>" written by a template around the user's "bb".
  const maps = new MemoryRunMaps(
    'tiny',
    [{ text: '<s>', template: true }, { text: 'bb' }, { text: '</s>', template: true }],
    1,
    1,
  );
  maps.add({ layer: 0, kind: 'causal', heads: 1, queryLength: 3, keyLength: 3, data: Float32Array.from(one) });
  const styled = (s: Scene, role: string) =>
    s.items
      .filter((it): it is TextItem => it.kind === 'text' && it.role === role)
      .map((t) => [t.text, t.color, t.attrs?.['data-template'] ?? null]);
  const want = [
    ['<s>', PAPER.muted, 'true'],
    ['bb', PAPER.ink, null],
    ['</s>', PAPER.muted, 'true'],
  ];
  const matrix = matrixFigure(maps, { layer: 0, head: 0, colorMap: 'greys' }, SIZE, HALF, PANEL_OPTIONS).scene;
  assert.deepEqual(styled(matrix, 'label-row'), want);
  assert.deepEqual(styled(matrix, 'label-col'), want);
  const head = headFigure(maps, { layer: 0, head: 0 }, { maxHeight: 60 }, HALF, PANEL_OPTIONS).scene;
  assert.deepEqual(styled(head, 'label-left'), want);
  assert.deepEqual(styled(head, 'label-right'), want);
  // The panel's elements over the labels carry it too (data-template), for tests and styles.
  const marks = (s: Scene, role: string) =>
    s.targets.filter((t) => t.role === role).map((t) => t.data?.template ?? null);
  assert.deepEqual(marks(matrix, 'matrix-label-row'), ['true', null, 'true']);
  assert.deepEqual(marks(head, 'head-token head-token-left'), ['true', null, 'true']);
});
