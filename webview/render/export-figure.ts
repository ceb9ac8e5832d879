// The figure model of image exports: a view (matrix, model grid, head view) laid out once as primitives — cell
// blocks, rectangles, text, lines — in CSS pixels, then written as SVG (svg.ts, true vectors) or rasterised into a
// PNG (png.ts, at an integer scale). One layout for both formats, for the panel's export and for the CLI alike, so
// that their images agree. DOM-free; imports only runtime types.
import type { LayerAttention } from '../../runtime/types';
import type { ColorMapName } from './colormap';
import type { Rgb } from './raster';

export type { Rgb };
export type HeadChoice = number | 'mean' | 'max';
export type ExportView = 'matrix' | 'grid' | 'head';
export const EXPORT_VIEWS: readonly ExportView[] = ['matrix', 'grid', 'head'];

/** What an image export needs of a run. */
export interface ExportInput {
  /** Shown in the caption (the model's name). */
  modelName: string;
  /** The tokens' vocabulary strings, in order (labels). */
  tokens: readonly { text: string }[];
  /** Indexed by layer; undefined for layers not computed (yet). */
  layers: readonly (LayerAttention | undefined)[];
  /** Query heads per layer. */
  heads: number;
}

export interface ViewSpec {
  view: ExportView;
  layer: number;
  head: HeadChoice;
  colorMap: ColorMapName;
}

/** A user mistake in an export request (bad layer, head, scale...): the message says what to change. */
export class ExportError extends Error {
  override readonly name = 'ExportError';
}

/** A block of square cells, rows × cols, each filled with its own colour. */
export interface CellsItem {
  kind: 'cells';
  /** 'matrix' | 'thumb' | 'legend' (also the SVG class of the group). */
  role: string;
  x: number;
  y: number;
  /** Width of a cell (CSS px, an integer). */
  cell: number;
  /** Height of a cell when it differs from its width (legends). */
  cellH?: number;
  rows: number;
  cols: number;
  /** [rows, cols, 3] RGB. */
  colors: Uint8Array;
  /** [rows, cols] pooled weights (for the SVG data-weight attributes); absent for legends. */
  values?: Float32Array;
  /** [rows, cols]: 1 where every covered entry is masked (causal). */
  masked?: Uint8Array;
  /** Extra SVG attributes of the group (data-layer...). */
  attrs?: Record<string, string>;
}

export interface RectItem {
  kind: 'rect';
  role: string;
  x: number;
  y: number;
  w: number;
  h: number;
  fill: Rgb | null;
  stroke?: Rgb;
}

export interface TextItem {
  kind: 'text';
  /** 'label-row' | 'label-col' | 'label-left' | 'label-right' | 'caption' | 'note' | 'axis' | 'legend'. */
  role: string;
  /** Anchor point: horizontally start/middle/end of the text, vertically its centre (vertical text: its start). */
  x: number;
  y: number;
  text: string;
  size: number;
  color: Rgb;
  anchor: 'start' | 'middle' | 'end';
  /** Rotated -90° (reads bottom to top). */
  vertical?: boolean;
  /** Token index for labels. */
  index?: number;
  /** The full token text when `text` was shortened (SVG: data-token). */
  full?: string;
}

export interface LineItem {
  kind: 'line';
  role: string;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  color: Rgb;
  opacity: number;
  head: number;
  query: number;
  key: number;
}

export type FigureItem = CellsItem | RectItem | TextItem | LineItem;

export interface Figure {
  width: number;
  height: number;
  background: Rgb;
  title: string;
  /** Plain-language notes (downsampling, omitted labels); also written into the SVG <desc>. */
  notes: string[];
  items: FigureItem[];
}

// ----- shared layout helpers -------------------------------------------------------------------------------------

export const INK: Rgb = [30, 30, 30];
export const MUTED: Rgb = [110, 110, 110];
export const WHITE: Rgb = [255, 255, 255];
/** Masked (causal) cells: a light neutral grey, distinct from every colour map's low end. */
export const MASKED: Rgb = [222, 222, 222];
export const LABEL_SIZE = 10;
export const CAPTION_SIZE = 12;
/** Monospace advance as a fraction of the font size (generic monospace fonts and the bitmap font agree on 0.6). */
export const ADVANCE = 0.6;
/** Labels longer than this many characters are cut with an ellipsis. */
export const MAX_LABEL_CHARS = 16;

export function textWidth(text: string, size: number): number {
  return [...text].length * size * ADVANCE;
}

export function shortLabel(text: string): string {
  const chars = [...text];
  return chars.length > MAX_LABEL_CHARS ? chars.slice(0, MAX_LABEL_CHARS - 1).join('') + '…' : text;
}

export function headText(head: HeadChoice): string {
  return typeof head === 'number' ? `head ${head}` : `${head} of heads`;
}

/** Checks layer and head against the input; the message says the valid range. */
export function checkSpec(input: ExportInput, spec: ViewSpec): LayerAttention | undefined {
  const layers = input.layers.length;
  if (!Number.isInteger(spec.layer) || spec.layer < 0 || spec.layer >= layers)
    throw new ExportError(`Layer ${spec.layer} does not exist: the model has ${layers} layers (0–${layers - 1}).`);
  const h = spec.head;
  if (typeof h === 'number' && (!Number.isInteger(h) || h < 0 || h >= input.heads))
    throw new ExportError(
      `Head ${h} does not exist: the model has ${input.heads} heads (0–${input.heads - 1}), or use mean or max.`,
    );
  if (spec.view === 'grid') {
    if (!input.layers.some((l) => l)) throw new ExportError('No layer has been computed yet: wait for the run.');
    return undefined;
  }
  const l = input.layers[spec.layer];
  if (!l) throw new ExportError(`Layer ${spec.layer} has not been computed yet: wait for the run to reach it.`);
  return l;
}

/**
 * Pools a [rows, cols] matrix (row-major at data[offset...]) into outRows × outCols cells: each cell is the MAX
 * over the entries it covers (the rule of heatmap.rasterize), masked when every covered entry is (causal: col > row).
 * Cell r covers rows [floor(r·rows/outRows), max(that + 1, floor((r+1)·rows/outRows))).
 */
export function poolMatrix(
  data: Float32Array,
  offset: number,
  rows: number,
  cols: number,
  outRows: number,
  outCols: number,
  causal: boolean,
): { values: Float32Array; masked: Uint8Array } {
  const values = new Float32Array(outRows * outCols);
  const masked = new Uint8Array(outRows * outCols);
  for (let y = 0; y < outRows; y++) {
    const r0 = Math.floor((y * rows) / outRows);
    const r1 = Math.max(r0 + 1, Math.floor(((y + 1) * rows) / outRows));
    for (let x = 0; x < outCols; x++) {
      const c0 = Math.floor((x * cols) / outCols);
      const c1 = Math.max(c0 + 1, Math.floor(((x + 1) * cols) / outCols));
      const i = y * outCols + x;
      if (causal && c0 > r1 - 1) {
        masked[i] = 1;
        continue;
      }
      let m = 0;
      for (let r = r0; r < r1; r++) {
        const base = offset + r * cols;
        const end = causal ? Math.min(c1, r + 1) : c1;
        for (let c = c0; c < end; c++) if (data[base + c] > m) m = data[base + c];
      }
      values[i] = m;
    }
  }
  return { values, masked };
}

/** Colours of pooled values through a 256-entry RGBA LUT, with vmax mapped to the last entry (as the views do). */
export function colorCells(values: Float32Array, masked: Uint8Array, lut: Uint8Array, vmax: number): Uint8Array {
  const out = new Uint8Array(values.length * 3);
  const scale = vmax > 0 ? 255 / vmax : 0;
  for (let i = 0; i < values.length; i++) {
    if (masked[i]) {
      out.set(MASKED, i * 3);
      continue;
    }
    const j = Math.min(255, Math.max(0, Math.round(values[i] * scale))) * 4;
    out[i * 3] = lut[j];
    out[i * 3 + 1] = lut[j + 1];
    out[i * 3 + 2] = lut[j + 2];
  }
  return out;
}

/** A horizontal colour bar (legend): `title  low [bar] high`, 12 px tall, starting at (x, y). */
export function colorBar(
  x: number,
  y: number,
  lut: Uint8Array,
  lowLabel: string,
  highLabel: string,
  title: string,
): { items: FigureItem[]; width: number; height: number } {
  const steps = 64;
  const cell = 3;
  const height = 12;
  const colors = new Uint8Array(steps * 3);
  for (let i = 0; i < steps; i++) {
    const j = Math.round((i / (steps - 1)) * 255) * 4;
    colors.set([lut[j], lut[j + 1], lut[j + 2]], i * 3);
  }
  const mid = y + height / 2;
  const barX = x + textWidth(title, LABEL_SIZE) + 8 + textWidth(lowLabel, LABEL_SIZE) + 6;
  const endX = barX + steps * cell + 6;
  const label = (lx: number, text: string, anchor: TextItem['anchor'], color: Rgb): TextItem => ({
    kind: 'text',
    role: 'legend',
    x: lx,
    y: mid,
    text,
    size: LABEL_SIZE,
    color,
    anchor,
  });
  const items: FigureItem[] = [
    label(x, title, 'start', MUTED),
    label(barX - 6, lowLabel, 'end', INK),
    { kind: 'cells', role: 'legend', x: barX, y, cell, cellH: height, rows: 1, cols: steps, colors },
    { kind: 'rect', role: 'legend-frame', x: barX, y, w: steps * cell, h: height, fill: null, stroke: MUTED },
    label(endX, highLabel, 'start', INK),
  ];
  return { items, width: endX + textWidth(highLabel, LABEL_SIZE) - x, height };
}

/** Distinct head hues (as the head view draws them): h·360/n degrees, n = min(heads, 12). */
/** A figure's caption: its first line, at the top left inside the margin. */
export function captionItem(text: string, margin: number): TextItem {
  return {
    kind: 'text',
    role: 'caption',
    x: margin,
    y: margin + CAPTION_SIZE / 2,
    text,
    size: CAPTION_SIZE,
    color: INK,
    anchor: 'start',
  };
}

/** Ends a figure: the notes, one a line from `y` down, then the frame around everything (at least `width` wide). */
export function finishFigure(
  items: FigureItem[],
  caption: string,
  notes: string[],
  y: number,
  width: number,
  margin: number,
): Figure {
  for (const text of notes) {
    y += LABEL_SIZE;
    items.push({ kind: 'text', role: 'note', x: margin, y, text, size: LABEL_SIZE, color: MUTED, anchor: 'start' });
    width = Math.max(width, margin + textWidth(text, LABEL_SIZE));
    y += 4;
  }
  return {
    width: Math.ceil(width + margin),
    height: Math.ceil(y + margin),
    background: WHITE,
    title: `Attention Lens: ${caption}`,
    notes,
    items,
  };
}

export function headColor(h: number, heads: number): Rgb {
  const n = Math.max(1, Math.min(heads, 12));
  return hslToRgb(Math.round(((h % n) * 360) / n), 0.7, 0.5);
}

/** CSS hsl() to 0..255 RGB. */
export function hslToRgb(hue: number, s: number, l: number): Rgb {
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const hp = (((hue % 360) + 360) % 360) / 60;
  const x = c * (1 - Math.abs((hp % 2) - 1));
  const [r, g, b] =
    hp < 1 ? [c, x, 0] : hp < 2 ? [x, c, 0] : hp < 3 ? [0, c, x] : hp < 4 ? [0, x, c] : hp < 5 ? [x, 0, c] : [c, 0, x];
  const m = l - c / 2;
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)];
}

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);
/** 10^k for k in [-45, 38] (float32's range), as doubles. */
const POW10_ANY = Array.from({ length: 84 }, (_, i) => (i >= 45 ? 10 ** (i - 45) : 1 / 10 ** (45 - i)));

/** The shortest decimal (6 to 9 significant digits) that reads back as the same float32, in the notation of
 *  String(number): 0.1 rather than 0.10000000149011612, 1.5e-7 below 1e-6. Integer arithmetic on the digits (several
 *  times faster than toPrecision, which matters for gigabyte CSV/JSON exports); toPrecision for the rare rest. */
export function f32String(x: number): string {
  const f = Math.fround(x);
  if (f === 0) return '0';
  if (!Number.isFinite(f)) return String(f);
  if (f < 0) return '-' + f32String(-f);
  let e = Math.floor(Math.log10(f));
  if (e < -45 || e > 38) return String(f);
  if (POW10_ANY[e + 45] > f) e--;
  else if (e < 38 && POW10_ANY[e + 46] <= f) e++;
  for (let d = 6; d <= 9; d++) {
    const s = d - 1 - e;
    if (s > 22 || s < -22) break;
    // m = the d significant digits of f, rounded; valid if they read back as f.
    let m = s >= 0 ? Math.round(f * POW10[s]) : Math.round(f / POW10[-s]);
    if (Math.fround(s >= 0 ? m / POW10[s] : m * POW10[-s]) !== f) continue;
    let exp = e;
    if (m >= POW10[d]) {
      m /= 10;
      exp++;
    }
    while (m % 10 === 0) m /= 10;
    const digits = String(m);
    const n = digits.length;
    if (exp >= 21 || exp < -6)
      return digits[0] + (n > 1 ? '.' + digits.slice(1) : '') + 'e' + (exp > 0 ? '+' : '') + exp;
    if (exp < 0) return '0.' + '0'.repeat(-exp - 1) + digits;
    return exp + 1 >= n ? digits + '0'.repeat(exp + 1 - n) : digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
  }
  for (let d = 1; d < 9; d++) {
    const v = Number(f.toPrecision(d));
    if (Math.fround(v) === f) return String(v);
  }
  return String(Number(f.toPrecision(9)));
}
