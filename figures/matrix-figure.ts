// The matrix: one head (or the mean/max over heads) of one layer as a heatmap of [query, key] cells, token labels on
// both axes (every n-th when the cells are too small for all), axis titles (query ↓, key →), a colour bar from 0 to
// the map's maximum, and masked cells (causal, out of a sliding window) flat or hatched as the theme says. A window of
// the map (zoom) is drawn from a tile of the run's maps; more cells than `maxCells` a side are pooled (each cell the
// maximum over the tokens it covers) and then carry no labels. The panel paints it and exports write it.
import { colorLut, lutRamp, type ColorMapName } from './colormap';
import {
  LABEL_SIZE,
  MARGIN,
  SceneBuilder,
  caption,
  captionWidth,
  checkLayerHead,
  tokenText,
  tokenTitle,
  colorBar,
  notesBlock,
  type FigureOptions,
  tokenInk,
} from './figure-kit';
import { maskedPolygons } from './hatch';
import type { Span } from './heads';
import { headText, labelStep, shortLabel } from './labels';
import type { HeadChoice, RunMaps } from './run-maps';
import type { Scene } from './scene';
import type { FigureTheme } from './theme';
import { tileColors } from './tile-colors';
import { argmaxAlignment, axisSides, axisTitles, sideTokens, layerTitle } from './seq2seq-axes';

export interface MatrixState {
  layer: number;
  head: HeadChoice;
  colorMap: ColorMapName;
  /** The rows (queries) and columns (keys) shown; default the whole map. */
  window?: { rows: Span; cols: Span };
  /** Cross-attention layers: outline each row's argmax cell (the alignment path; not drawn on pooled cells). */
  alignment?: boolean;
}

export interface MatrixSize {
  /** Cells are sized so that the larger side fills about this many px… */
  target: number;
  /** …within [minCell, maxCell] px per cell. */
  minCell: number;
  maxCell: number;
  /** Pooling beyond this many cells a side. */
  maxCells: number;
}

/** Exports: about 720 px of cells, 1 to 24 px each. */
export const EXPORT_MATRIX_SIZE: Omit<MatrixSize, 'maxCells'> = { target: 720, minCell: 1, maxCell: 24 };

export interface MatrixGeometry {
  /** The cells' top left, px per cell, cells drawn. */
  x: number;
  y: number;
  cell: number;
  rows: number;
  cols: number;
  /** True when cells cover more than one token (max pooling). */
  pooled: boolean;
  /** The value drawn with the colour map's last colour (the map's maximum). */
  vmax: number;
  /** Every how many tokens a label is drawn (0: none). */
  labelStep: number;
}

/** Token labels need at least this many px between them. */
const LABEL_PITCH = 10;

export function matrixFigure(
  maps: RunMaps,
  state: MatrixState,
  size: MatrixSize,
  theme: FigureTheme,
  options: FigureOptions,
): { scene: Scene; geometry: MatrixGeometry } {
  checkLayerHead(maps, state.layer, state.head);
  const s = maps.shape(state.layer)!;
  const Q = s.queryLength;
  const K = s.keyLength;
  const rowSpan = state.window?.rows ?? { start: 0, end: Q };
  const colSpan = state.window?.cols ?? { start: 0, end: K };
  const nr = rowSpan.end - rowSpan.start;
  const nc = colSpan.end - colSpan.start;
  const rows = Math.min(nr, size.maxCells);
  const cols = Math.min(nc, size.maxCells);
  const pooled = rows < nr || cols < nc;
  const cell = Math.max(size.minCell, Math.min(size.maxCell, Math.floor(size.target / Math.max(rows, cols))));
  const vmax = maps.maximum(state.layer, state.head);
  const tile = maps.tile(state.layer, state.head, rowSpan, colSpan, rows, cols);
  const lut = colorLut(state.colorMap);
  const b = new SceneBuilder(theme);

  // Labels: every `step`-th token, so that they are at least LABEL_PITCH px apart; none for pooled cells.
  const step = pooled ? 0 : labelStep(cell, LABEL_PITCH);
  const size$ = Math.min(LABEL_SIZE, Math.max(7, cell * step - 1));
  const rowIdx: number[] = [];
  const colIdx: number[] = [];
  if (step)
    for (let i = 0; i < Math.max(rows, cols); i += step) {
      if (i < rows) rowIdx.push(rowSpan.start + i);
      if (i < cols) colIdx.push(colSpan.start + i);
    }
  // Rows and columns are labelled from their own token lists (encoder–decoder: source or target).
  const sides = axisSides(s.kind);
  const rowA = { tokens: sideTokens(maps, sides.rows), len: Q };
  const colA = { tokens: sideTokens(maps, sides.cols), len: K };
  type Axis = typeof rowA;
  const label = (i: number, a: Axis) => shortLabel(tokenText(a, i, a.len));
  // A chat template's tokens are drawn dimmer, generated ones in the focus ink (data-template, data-generated).
  const labelStyle = (i: number, a: Axis) => {
    const c = tokenInk(a, i, a.len, theme).color;
    return c ? { color: c } : {};
  };
  const templateAttr = (i: number, a: Axis) => tokenInk(a, i, a.len, theme).attrs;
  const templateData = (i: number, a: Axis): Record<string, string> => {
    const x = tokenInk(a, i, a.len, theme).attrs;
    return {
      ...(x['data-template'] ? { template: 'true' } : {}),
      ...(x['data-generated'] ? { generated: 'true' } : {}),
    };
  };
  const widest = (idx: number[], a: Axis) =>
    idx.length ? Math.max(...idx.map((i) => b.width(label(i, a), size$))) + 8 : 0;
  const rowLabelW = widest(rowIdx, rowA);
  const colLabelH = widest(colIdx, colA);
  const titles = axisTitles(s.kind);
  const rowTitle = `${titles.rows} ↓`;
  const colTitle = `${titles.cols} →`;

  const title = `${maps.modelName} · ${layerTitle(maps, state.layer)} · ${headText(state.head)} · ${Q} × ${K} tokens`;
  const axisW = b.width(rowTitle);
  const contentW = Math.max(rowLabelW, axisW + 6) + cols * cell;
  let y = caption(b, title, options, contentW);
  const x0 = Math.round(MARGIN + Math.max(rowLabelW, axisW + 6));
  // Axis titles on one line above the column labels: "query ↓" over the row labels, "key →" over the columns.
  b.text(x0 - 6, y + LABEL_SIZE / 2, rowTitle, 'axis-title', { anchor: 'end', color: theme.muted });
  b.text(x0, y + LABEL_SIZE / 2, colTitle, 'axis-title', { color: theme.muted });
  y += LABEL_SIZE + 6;
  const y0 = Math.round(y + colLabelH);

  const pitch = cell * step;
  for (const i of rowIdx) {
    const r = i - rowSpan.start;
    const full = tokenText(rowA, i, Q);
    const text = label(i, rowA);
    const cy = y0 + (r + 0.5) * cell;
    b.text(x0 - 4, cy, text, 'label-row', {
      anchor: 'end',
      size: size$,
      ...labelStyle(i, rowA),
      attrs: { 'data-index': String(i), ...(text !== full ? { 'data-token': full } : {}), ...templateAttr(i, rowA) },
    });
    const w = b.width(text, size$);
    b.targets.push({
      role: 'matrix-label-row',
      x: x0 - 4 - w,
      y: cy - pitch / 2,
      w,
      h: pitch,
      text: full,
      title: tokenTitle(rowA, i, Q),
      data: { index: String(i), ...templateData(i, rowA) },
    });
  }
  for (const i of colIdx) {
    const c = i - colSpan.start;
    const full = tokenText(colA, i, K);
    const text = label(i, colA);
    const cx = x0 + (c + 0.5) * cell;
    b.text(cx, y0 - 4, text, 'label-col', {
      vertical: true,
      size: size$,
      ...labelStyle(i, colA),
      attrs: { 'data-index': String(i), ...(text !== full ? { 'data-token': full } : {}), ...templateAttr(i, colA) },
    });
    const h = b.width(text, size$);
    b.targets.push({
      role: 'matrix-label-col',
      x: cx - pitch / 2,
      y: y0 - 4 - h,
      w: pitch,
      h,
      text: full,
      title: tokenTitle(colA, i, K),
      data: { index: String(i), ...templateData(i, colA) },
    });
  }

  b.items.push({
    kind: 'image',
    role: 'matrix',
    x: x0,
    y: y0,
    cellW: cell,
    cellH: cell,
    rows,
    cols,
    rgba: tileColors(tile, state.colorMap, vmax, theme.masked),
    values: tile.values,
    masked: tile.masked,
    attrs: {
      'data-layer': String(state.layer),
      'data-head': String(state.head),
      'data-query-tokens': String(Q),
      'data-key-tokens': String(K),
      'data-vmax': String(vmax),
    },
  });
  if (theme.hatch)
    for (const points of maskedPolygons(tile.masked, rows, cols, x0, y0, cell, cell))
      b.items.push({
        kind: 'hatch',
        role: 'masked',
        points,
        background: theme.masked,
        color: theme.hatch,
        opacity: 0.45,
        spacing: 6,
      });
  // The argmax alignment path: one outlined cell per target row (rows and columns shown one token a cell).
  const path =
    state.alignment && s.kind === 'cross' && !pooled ? argmaxAlignment(maps, state.layer, state.head) : undefined;
  if (path)
    for (let r = rowSpan.start; r < rowSpan.end; r++) {
      const c = path[r];
      if (c < colSpan.start || c >= colSpan.end) continue;
      b.rect(
        x0 + (c - colSpan.start) * cell,
        y0 + (r - rowSpan.start) * cell,
        cell,
        cell,
        null,
        'alignment',
        theme.focus,
      );
    }
  b.regions.push({
    id: 'matrix',
    x: x0,
    y: y0,
    cellW: cell,
    cellH: cell,
    pitchX: cell,
    pitchY: cell,
    rows,
    cols,
    rowStart: rowSpan.start,
    colStart: colSpan.start,
    rowStep: nr / rows,
    colStep: nc / cols,
  });

  y = y0 + rows * cell + 14;
  const bar = colorBar(b, MARGIN, y, lutRamp(lut, 64), '0', vmax.toPrecision(3), 'weight');
  const scaled = "colours run from 0 to this map's maximum";
  b.text(MARGIN + bar.width + 10, y + bar.height / 2, scaled, 'legend-note', { color: theme.muted });
  y += bar.height + 8;
  const notes: string[] = [];
  if (s.mask.causal) notes.push('Hatched cells are masked (a causal layer: a token does not attend to later tokens).');
  if (s.mask.window !== null)
    notes.push(`Hatched cells are masked: this layer attends to the last ${s.mask.window} tokens only.`);
  if (pooled)
    notes.push(
      `${nr} × ${nc} tokens drawn as ${rows} × ${cols} cells: each cell is the maximum over the tokens it covers` +
        ` (up to ${Math.ceil(nr / rows)} × ${Math.ceil(nc / cols)}); token labels omitted.`,
    );
  else if (step > 1) notes.push(`One token in ${step} is labelled (${cell} px per token).`);
  const [bottom, notesW] = notesBlock(b, notes, y, options);
  const width = Math.max(
    x0 + cols * cell,
    MARGIN + bar.width + 10 + b.width(scaled),
    captionWidth(b, title, options),
    notesW,
  );
  const scene = b.scene(width + MARGIN, bottom + MARGIN, `Attention Lens: ${title}`, notes);
  return { scene, geometry: { x: x0, y: y0, cell, rows, cols, pooled, vmax, labelStep: step } };
}
