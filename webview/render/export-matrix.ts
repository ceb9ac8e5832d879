// Lays out the matrix view for export: one head (or the mean/max over heads) of one layer as a heatmap of
// [query, key] cells with token labels on both axes, a caption, and a colour bar from 0 to the matrix's maximum (the
// panel's scaling). Long inputs are pooled into at most `maxCells` cells a side, each the maximum over the tokens it
// covers; labels are drawn only when every cell is one token and large enough to read.
import { colorLut } from './colormap';
import { aggregateHeads, maxValue } from './heatmap';
import {
  CAPTION_SIZE,
  INK,
  LABEL_SIZE,
  captionItem,
  checkSpec,
  colorBar,
  colorCells,
  finishFigure,
  headText,
  poolMatrix,
  shortLabel,
  textWidth,
  type ExportInput,
  type Figure,
  type FigureItem,
  type ViewSpec,
} from './export-figure';

/** Matrix cells are sized to fill about this many CSS px, between 1 and MAX_CELL px each. */
const TARGET = 720;
const MAX_CELL = 24;
/** Token labels need at least this many CSS px per cell. */
const MIN_LABEL_CELL = 9;
const MARGIN = 16;

export interface MatrixGeometry {
  x: number;
  y: number;
  cell: number;
  rows: number;
  cols: number;
  /** True when cells cover more than one token (max pooling). */
  pooled: boolean;
  vmax: number;
}

/** The [query, key] matrix of the spec as a figure; `maxCells` limits the cells a side (pooling beyond). */
export function matrixFigure(
  input: ExportInput,
  spec: ViewSpec,
  maxCells: number,
): { figure: Figure; geometry: MatrixGeometry } {
  const l = checkSpec(input, spec)!;
  const Q = l.queryLength;
  const K = l.keyLength;
  // [Q, K] of the chosen head, or the aggregate over heads.
  let data = l.data;
  let offset = 0;
  if (typeof spec.head === 'number') offset = spec.head * Q * K;
  else data = aggregateHeads(l.data, l.heads, Q, K, spec.head);
  const vmax = maxValue(data, offset, Q * K);
  const causal = l.kind === 'causal';
  const rows = Math.min(Q, maxCells);
  const cols = Math.min(K, maxCells);
  const pooled = rows < Q || cols < K;
  const cell = Math.max(1, Math.min(MAX_CELL, Math.floor(TARGET / Math.max(rows, cols))));
  const { values, masked } = poolMatrix(data, offset, Q, K, rows, cols, causal);
  const lut = colorLut(spec.colorMap);
  const colors = colorCells(values, masked, lut, vmax);

  const tokenText = (i: number, length: number) => (length === input.tokens.length ? input.tokens[i].text : `#${i}`);
  const tokenLabel = (i: number, length: number) => shortLabel(tokenText(i, length));
  const labels = !pooled && cell >= MIN_LABEL_CELL;
  const rowLabels = labels ? Array.from({ length: Q }, (_, i) => tokenLabel(i, Q)) : [];
  const colLabels = labels ? Array.from({ length: K }, (_, i) => tokenLabel(i, K)) : [];
  const size = Math.min(LABEL_SIZE, cell);
  const labelW = (ls: string[]) => (ls.length ? Math.max(...ls.map((s) => textWidth(s, size))) + 8 : 0);

  const caption = `${input.modelName} · layer ${spec.layer} (${l.kind}) · ${headText(spec.head)} · ${Q} × ${K} tokens`;
  const items: FigureItem[] = [captionItem(caption, MARGIN)];
  const x0 = Math.round(MARGIN + labelW(rowLabels));
  const y0 = Math.round(MARGIN + CAPTION_SIZE + 10 + labelW(colLabels));
  rowLabels.forEach((text, i) =>
    items.push({
      kind: 'text',
      role: 'label-row',
      x: x0 - 4,
      y: y0 + (i + 0.5) * cell,
      text,
      size,
      color: INK,
      anchor: 'end',
      index: i,
      ...(text !== tokenText(i, Q) ? { full: tokenText(i, Q) } : {}),
    }),
  );
  colLabels.forEach((text, i) =>
    items.push({
      kind: 'text',
      role: 'label-col',
      x: x0 + (i + 0.5) * cell,
      y: y0 - 4,
      text,
      size,
      color: INK,
      anchor: 'start',
      vertical: true,
      index: i,
      ...(text !== tokenText(i, K) ? { full: tokenText(i, K) } : {}),
    }),
  );
  items.push({
    kind: 'cells',
    role: 'matrix',
    x: x0,
    y: y0,
    cell,
    rows,
    cols,
    colors,
    values,
    masked,
    attrs: {
      'data-layer': String(spec.layer),
      'data-head': String(spec.head),
      'data-query-tokens': String(Q),
      'data-key-tokens': String(K),
      'data-vmax': String(vmax),
    },
  });

  let y = y0 + rows * cell + 14;
  const bar = colorBar(MARGIN, y, lut, '0', vmax.toPrecision(3), 'weight');
  items.push(...bar.items);
  y += bar.height + 8;
  const notes: string[] = [];
  if (causal) notes.push('Grey cells are masked (a causal layer: a token does not attend to later tokens).');
  if (pooled)
    notes.push(
      `${Q} × ${K} tokens drawn as ${rows} × ${cols} cells: each cell is the maximum over the tokens it covers` +
        ` (up to ${Math.ceil(Q / rows)} × ${Math.ceil(K / cols)}); token labels omitted.`,
    );
  else if (!labels) notes.push(`Token labels omitted: ${cell} px per token is too small to read them.`);
  const width = Math.max(x0 + cols * cell, MARGIN + bar.width, MARGIN + textWidth(caption, CAPTION_SIZE));
  const figure = finishFigure(items, caption, notes, y, width, MARGIN);
  return { figure, geometry: { x: x0, y: y0, cell, rows, cols, pooled, vmax } };
}
