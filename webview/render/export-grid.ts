// Lays out the model grid for export: layers × heads thumbnails, each a head's [query, key] heatmap scaled to its own
// maximum (as the panel's grid draws them), pooled to at most `maxThumbCells` cells a side (maximum over the tokens
// each cell covers); the selected layer/head is outlined, layers not computed yet are empty frames.
import { colorLut } from './colormap';
import { maxValue } from './heatmap';
import {
  CAPTION_SIZE,
  LABEL_SIZE,
  MUTED,
  captionItem,
  checkSpec,
  colorBar,
  colorCells,
  finishFigure,
  poolMatrix,
  textWidth,
  type ExportInput,
  type Figure,
  type FigureItem,
  type Rgb,
  type ViewSpec,
} from './export-figure';

/** A thumbnail is about this many CSS px a side (an integer number of px per cell). */
const THUMB = 48;
const GAP = 6;
const MARGIN = 16;
const FOCUS: Rgb = [0, 120, 212];

export interface GridGeometry {
  x: number;
  y: number;
  /** Thumbnail side (px) and pitch (side + gap). */
  side: number;
  pitch: number;
  /** Cells a thumbnail side, and px per cell. */
  res: number;
  cell: number;
}

export function gridFigure(
  input: ExportInput,
  spec: ViewSpec,
  maxThumbCells: number,
): { figure: Figure; geometry: GridGeometry } {
  checkSpec(input, spec);
  const L = input.layers.length;
  const H = input.heads;
  const n = input.tokens.length;
  const res = Math.max(1, Math.min(n, maxThumbCells, THUMB));
  const cell = Math.max(1, Math.floor(THUMB / res));
  const side = res * cell;
  const pitch = side + GAP;
  const lut = colorLut(spec.colorMap);
  const caption = `${input.modelName} · model grid: ${L} layers × ${H} heads · ${n} tokens`;
  const items: FigureItem[] = [captionItem(caption, MARGIN)];
  const x0 = Math.round(MARGIN + textWidth(`L${L - 1}`, LABEL_SIZE) + 8);
  const y0 = MARGIN + CAPTION_SIZE + 10 + LABEL_SIZE + 6;
  for (let h = 0; h < H; h++)
    items.push({
      kind: 'text',
      role: 'axis',
      x: x0 + h * pitch + side / 2,
      y: y0 - 4 - LABEL_SIZE / 2,
      text: `H${h}`,
      size: LABEL_SIZE,
      color: MUTED,
      anchor: 'middle',
    });
  let pending = 0;
  for (let layer = 0; layer < L; layer++) {
    const ty = y0 + layer * pitch;
    items.push({
      kind: 'text',
      role: 'axis',
      x: x0 - 6,
      y: ty + side / 2,
      text: `L${layer}`,
      size: LABEL_SIZE,
      color: MUTED,
      anchor: 'end',
    });
    const l = input.layers[layer];
    for (let h = 0; h < H; h++) {
      const tx = x0 + h * pitch;
      if (!l || h >= l.heads) {
        pending++;
        items.push({ kind: 'rect', role: 'pending', x: tx, y: ty, w: side, h: side, fill: null, stroke: MUTED });
        continue;
      }
      const Q = l.queryLength;
      const K = l.keyLength;
      const off = h * Q * K;
      const rows = Math.min(Q, res);
      const cols = Math.min(K, res);
      const { values, masked } = poolMatrix(l.data, off, Q, K, rows, cols, l.kind === 'causal');
      items.push({
        kind: 'cells',
        role: 'thumb',
        x: tx,
        y: ty,
        cell,
        rows,
        cols,
        colors: colorCells(values, masked, lut, maxValue(l.data, off, Q * K)),
        values,
        masked,
        attrs: { 'data-layer': String(layer), 'data-head': String(h) },
      });
    }
  }
  const selected = (layer: number, h: number) =>
    layer === spec.layer && (typeof spec.head !== 'number' || spec.head === h);
  for (let layer = 0; layer < L; layer++)
    for (let h = 0; h < H; h++)
      if (selected(layer, h))
        items.push({
          kind: 'rect',
          role: 'selected',
          x: x0 + h * pitch - 2,
          y: y0 + layer * pitch - 2,
          w: side + 4,
          h: side + 4,
          fill: null,
          stroke: FOCUS,
        });

  let y = y0 + L * pitch + 10;
  const bar = colorBar(MARGIN, y, lut, '0', 'max', 'weight (each head scaled to its own maximum)');
  items.push(...bar.items);
  y += bar.height + 8;
  const notes: string[] = [];
  if (res < n)
    notes.push(`Each thumbnail shows ${n} tokens as ${res} × ${res} cells (maximum over the tokens covered).`);
  if (pending) notes.push(`${pending} thumbnails are empty: their layers had not been computed.`);
  const width = Math.max(x0 + H * pitch, MARGIN + bar.width, MARGIN + textWidth(caption, CAPTION_SIZE));
  return {
    figure: finishFigure(items, caption, notes, y, width, MARGIN),
    geometry: { x: x0, y: y0, side, pitch, res, cell },
  };
}
