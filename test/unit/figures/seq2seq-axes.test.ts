// Encoder–decoder axes (figures/seq2seq-axes.ts): which token list labels which axis, and the argmax alignment path
// of a cross-attention map, on hand-computed cases; the matrix labels a cross layer target rows × source columns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LayerAttention } from '../../../runtime/types';
import { EXPORT_OPTIONS, PANEL_OPTIONS } from '../../../figures/figure-kit';
import { EXPORT_GRID_SIZE, gridFigure } from '../../../figures/grid-figure';
import { matrixFigure } from '../../../figures/matrix-figure';
import { MemoryRunMaps } from '../../../figures/run-maps';
import {
  argmaxAlignment,
  axisSides,
  axisTitles,
  layerLabel,
  layerTitle,
  sideTokens,
} from '../../../figures/seq2seq-axes';
import type { Scene, TextItem } from '../../../figures/scene';
import { PAPER, type FigureTheme } from '../../../figures/theme';

const HALF: FigureTheme = { ...PAPER, measure: (t, size) => [...t].length * size * 0.5 };
const SIZE = { target: 60, minCell: 3, maxCell: 28, maxCells: 256 };
const texts = (s: Scene, role: string) =>
  s.items.filter((it): it is TextItem => it.kind === 'text' && it.role === role).map((t) => t.text);

/** Source "x y z" (3 tokens); target "P Q" (2 tokens). Layer 0 encoder [2 heads, 3, 3] (uniform), layer 1 cross
 * [2 heads, 2, 3]: head 0 rows [0.1, 0.2, 0.7], [0.6, 0.3, 0.1]; head 1 rows [0.5, 0.4, 0.1], [0.2, 0.2, 0.6]. */
function run(): MemoryRunMaps {
  const maps = new MemoryRunMaps('m', [{ text: 'x' }, { text: 'y' }, { text: 'z' }], 2, 2);
  const enc: LayerAttention = {
    layer: 0,
    kind: 'encoder',
    heads: 2,
    queryLength: 3,
    keyLength: 3,
    data: new Float32Array(18).fill(1 / 3),
  };
  const cross: LayerAttention = {
    layer: 1,
    kind: 'cross',
    heads: 2,
    queryLength: 2,
    keyLength: 3,
    data: Float32Array.from([0.1, 0.2, 0.7, 0.6, 0.3, 0.1, 0.5, 0.4, 0.1, 0.2, 0.2, 0.6]),
  };
  maps.add(enc);
  maps.add(cross);
  maps.targetTokens = [{ text: 'P' }, { text: 'Q' }];
  return maps;
}

test('seq2seq axes: cross is target × source, decoder target × decoder input, encoder source × source', () => {
  assert.deepEqual(axisSides('cross'), { rows: 'target', cols: 'source' });
  assert.deepEqual(axisSides('decoder'), { rows: 'target', cols: 'decoder-input' });
  assert.deepEqual(axisTitles('decoder'), { rows: 'target (query)', cols: 'decoder input (key)' });
  assert.deepEqual(axisSides('encoder'), { rows: 'source', cols: 'source' });
  assert.deepEqual(axisSides('causal'), { rows: 'source', cols: 'source' });
  assert.deepEqual(axisTitles('cross'), { rows: 'target (query)', cols: 'source (key)' });
  assert.deepEqual(axisTitles('self'), { rows: 'query', cols: 'key' });
  const maps = run();
  assert.deepEqual(
    sideTokens(maps, 'target').map((t) => t.text),
    ['P', 'Q'],
  );
  assert.deepEqual(sideTokens(new MemoryRunMaps('m', [], 1, 1), 'target'), []);
  // The decoder's inputs: as given, or (a translation still streaming) the target shifted right behind the start.
  assert.deepEqual(
    sideTokens(maps, 'decoder-input').map((t) => t.text),
    ['⟨start⟩', 'P'],
  );
  maps.decoderInputTokens = [{ text: '<pad>' }, { text: 'P' }];
  assert.deepEqual(
    sideTokens(maps, 'decoder-input').map((t) => t.text),
    ['<pad>', 'P'],
  );
  assert.deepEqual(sideTokens(new MemoryRunMaps('m', [], 1, 1), 'decoder-input'), []);
});

test('seq2seq axes: the argmax alignment path per head and over the mean of heads', () => {
  const maps = run();
  // head 0: row 0 → z (0.7), row 1 → x (0.6); head 1: row 0 → x (0.5), row 1 → z (0.6).
  assert.deepEqual(argmaxAlignment(maps, 1, 0), [2, 0]);
  assert.deepEqual(argmaxAlignment(maps, 1, 1), [0, 2]);
  // mean: row 0 [0.3, 0.3, 0.4] → z; row 1 [0.4, 0.25, 0.35] → x.
  assert.deepEqual(argmaxAlignment(maps, 1, 'mean'), [2, 0]);
  // A layer not arrived yet has no path.
  assert.equal(argmaxAlignment(new MemoryRunMaps('m', [], 1, 1), 0, 0), undefined);
});

test('seq2seq axes: the matrix of a cross layer labels target rows and source columns', () => {
  const maps = run();
  const { scene, geometry } = matrixFigure(maps, { layer: 1, head: 0, colorMap: 'greys' }, SIZE, HALF, PANEL_OPTIONS);
  assert.equal(geometry.rows, 2);
  assert.equal(geometry.cols, 3);
  assert.deepEqual(texts(scene, 'label-row'), ['P', 'Q']);
  assert.deepEqual(texts(scene, 'label-col'), ['x', 'y', 'z']);
  assert.deepEqual(texts(scene, 'axis-title'), ['target (query) ↓', 'source (key) →']);
  const enc = matrixFigure(maps, { layer: 0, head: 0, colorMap: 'greys' }, SIZE, HALF, PANEL_OPTIONS).scene;
  assert.deepEqual(texts(enc, 'label-row'), ['x', 'y', 'z']);
  // A square cross map (2 target × 2 source) still takes its columns from the source.
  const sq = new MemoryRunMaps('m', [{ text: 'x' }, { text: 'y' }], 1, 1);
  sq.add({ layer: 0, kind: 'cross', heads: 1, queryLength: 2, keyLength: 2, data: Float32Array.from([1, 0, 0, 1]) });
  sq.targetTokens = [{ text: 'P' }, { text: 'Q' }];
  const s2 = matrixFigure(sq, { layer: 0, head: 0, colorMap: 'greys' }, SIZE, HALF, PANEL_OPTIONS).scene;
  assert.deepEqual(texts(s2, 'label-row'), ['P', 'Q']);
  assert.deepEqual(texts(s2, 'label-col'), ['x', 'y']);
});

test('seq2seq axes: the matrix outlines the argmax alignment path of a cross layer when asked', () => {
  const maps = run();
  const state = { layer: 1, head: 0, colorMap: 'greys' as const };
  const { scene, geometry } = matrixFigure(maps, { ...state, alignment: true }, SIZE, HALF, PANEL_OPTIONS);
  const boxes = scene.items.filter((it) => it.kind === 'rect' && it.role === 'alignment');
  // head 0: row 0 → column 2, row 1 → column 0.
  const c = geometry.cell;
  assert.deepEqual(
    boxes.map((it) => (it.kind === 'rect' ? [it.x, it.y, it.w, it.h] : [])),
    [
      [geometry.x + 2 * c, geometry.y, c, c],
      [geometry.x, geometry.y + c, c, c],
    ],
  );
  const off = matrixFigure(maps, state, SIZE, HALF, PANEL_OPTIONS).scene;
  assert.equal(off.items.filter((it) => it.kind === 'rect' && it.role === 'alignment').length, 0);
  // An encoder layer has no alignment path.
  const enc = matrixFigure(maps, { ...state, layer: 0, alignment: true }, SIZE, HALF, PANEL_OPTIONS).scene;
  assert.equal(enc.items.filter((it) => it.kind === 'rect' && it.role === 'alignment').length, 0);
});

test('seq2seq exports carry the kind: layer titles, grid labels and the grid title name each kind', () => {
  const maps = run();
  assert.equal(layerTitle(maps, 0), 'layer 0: encoder self-attention 0');
  assert.equal(layerTitle(maps, 1), 'layer 1: cross-attention 0');
  assert.equal(layerLabel(maps, 0), 'E0');
  assert.equal(layerLabel(maps, 1), 'X0');
  const one = new MemoryRunMaps('m', [{ text: 'a' }], 1, 1);
  one.add({ layer: 0, kind: 'causal', heads: 1, queryLength: 1, keyLength: 1, data: Float32Array.of(1) });
  assert.equal(layerTitle(one, 0), 'layer 0 (causal)');
  assert.equal(layerLabel(one, 0), 'L0');
  const m = matrixFigure(maps, { layer: 1, head: 1, colorMap: 'viridis' }, SIZE, HALF, EXPORT_OPTIONS).scene;
  assert.ok(texts(m, 'caption').some((t) => t.startsWith('m · layer 1: cross-attention 0 · head 1 · 2 × 3 tokens')));
  const g = gridFigure(
    maps,
    { layer: 0, head: 0, colorMap: 'viridis' },
    { ...EXPORT_GRID_SIZE, maxThumbCells: 8 },
    HALF,
    EXPORT_OPTIONS,
  ).scene;
  assert.ok(texts(g, 'caption').some((t) => t.startsWith('m · model grid: 2 layers (1 encoder, 1 cross) × 2 heads')));
  assert.deepEqual(
    texts(g, 'axis').filter((t) => /^[EDX]\d$/.test(t)),
    ['E0', 'X0'],
  );
});
