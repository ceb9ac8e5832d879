// The Explain view's head statistics as small multiples: one layers × heads grid per statistic (entropy, special-token
// share, punctuation share, previous-token score, mean attended distance, JSD from uniform), each with its own colour
// scale from the smallest to the largest value it shows, and the value of uniform attention (the head −1 rows of
// ExplainResult.heads) marked on its legend. The data, the scales and the geometry of one multiple (title, axis
// labels, cells, legend bar, baseline marks), from which explain-figure.ts builds the scene the panel paints and the
// export writes. DOM-free; imports only runtime types.
import type { ExplainResult, HeadRow } from '../runtime/explain/result';
import type { Box } from './explain-scales';
import { LABEL_SIZE } from './figure-kit';
import { formatSig, formatValue, num } from './labels';
import type { Rgb } from './scene';
import { estimateWidth as textWidth } from './text-width';

export type HeadStatKey =
  'entropy' | 'specialShare' | 'punctuationShare' | 'previousToken' | 'meanDistance' | 'jsdUniform';

export interface HeadStatInfo<K extends string = HeadStatKey> {
  key: K;
  /** Short title of the multiple. */
  title: string;
  /** Unit of the values ('' for shares and scores). */
  unit: string;
  /** One line: what is measured. */
  about: string;
}

/** The statistics, in the order the multiples are drawn. */
export const HEAD_STATS: readonly HeadStatInfo<HeadStatKey>[] = [
  { key: 'entropy', title: 'Entropy', unit: 'nats', about: 'mean entropy of the attention rows' },
  {
    key: 'specialShare',
    title: 'Special-token share',
    unit: '',
    about: 'share of attention to special tokens ([CLS], [SEP], BOS...)',
  },
  { key: 'punctuationShare', title: 'Punctuation share', unit: '', about: 'share of attention to punctuation' },
  {
    key: 'previousToken',
    title: 'Previous-token score',
    unit: '',
    about: 'mean attention of a token to the one before it',
  },
  {
    key: 'meanDistance',
    title: 'Mean attended distance',
    unit: 'tokens',
    about: 'mean |query − key| weighted by attention',
  },
  {
    key: 'jsdUniform',
    title: 'JSD from uniform',
    unit: 'bits',
    about: 'mean Jensen–Shannon divergence of the rows from uniform attention',
  },
];

/** The colour scale of one statistic: [lo, hi] maps to the colour map's [0, 1]. */
export interface StatDomain {
  lo: number;
  hi: number;
}

export interface HeadStatGrid {
  /** A head statistic, or 'sweep': agreement with a reference method (headSweepGrid). */
  stat: HeadStatInfo<HeadStatKey | 'sweep'>;
  /** What the legend's marks are (default 'uniform attention'). */
  baselineLabel?: string;
  /** Layer numbers of the rows, top to bottom. */
  layers: number[];
  /** Columns: heads 0 … heads − 1. */
  heads: number;
  /** [layers.length × heads], row-major; NaN where the result has no (finite) value. */
  values: number[];
  /** Per row: the value of uniform attention in that layer (NaN when missing). */
  baselines: number[];
  /** The distinct finite baseline values, ascending (one for most models: every layer sees the same tokens). */
  marks: number[];
  domain: StatDomain;
}

/** Smallest and largest finite value over `values` and `baselines` (so the baseline marks lie on the legend);
 *  [0, 1] when nothing is finite. */
export function statDomain(values: readonly number[], baselines: readonly number[] = []): StatDomain {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of [...values, ...baselines])
    if (Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  return lo <= hi ? { lo, hi } : { lo: 0, hi: 1 };
}

/** Where v lies on the scale, in [0, 1] (clamped); 0.5 when the domain is one value; NaN for NaN. */
export function statPosition(v: number, domain: StatDomain): number {
  if (!Number.isFinite(v)) return NaN;
  if (!(domain.hi > domain.lo)) return 0.5;
  return Math.max(0, Math.min(1, (v - domain.lo) / (domain.hi - domain.lo)));
}

/** The colour of v through a 256-entry RGBA LUT, or null for a missing value. */
export function statColor(v: number, domain: StatDomain, lut: Uint8Array): Rgb | null {
  const t = statPosition(v, domain);
  if (Number.isNaN(t)) return null;
  const j = Math.round(t * 255) * 4;
  return [lut[j], lut[j + 1], lut[j + 2]];
}

/** The distinct finite values, ascending (equal within 1e-9 relative count as one). */
export function distinctValues(values: readonly number[]): number[] {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const out: number[] = [];
  for (const v of sorted) {
    const last = out[out.length - 1];
    if (out.length === 0 || Math.abs(v - last) > 1e-9 * Math.max(1, Math.abs(v))) out.push(v);
  }
  return out;
}

/** One grid per statistic from the result's head table (NaN and null count as missing); [] when it has no heads. */
export function headStatGrids(result: Pick<ExplainResult, 'heads'>): HeadStatGrid[] {
  const rows: readonly HeadRow[] = result.heads ?? [];
  const layers = [...new Set(rows.map((r) => r.layer))].sort((a, b) => a - b);
  const heads = rows.reduce((m, r) => Math.max(m, r.head + 1), 0);
  if (!layers.length || heads === 0) return [];
  const rowOf = new Map(layers.map((l, i) => [l, i]));
  return HEAD_STATS.map((stat) => {
    const values = new Array<number>(layers.length * heads).fill(NaN);
    const baselines = new Array<number>(layers.length).fill(NaN);
    for (const r of rows) {
      const i = rowOf.get(r.layer)!;
      const v = num(r[stat.key]);
      if (r.head < 0) baselines[i] = v;
      else if (Number.isInteger(r.head)) values[i * heads + r.head] = v;
    }
    return {
      stat,
      layers,
      heads,
      values,
      baselines,
      marks: distinctValues(baselines),
      domain: statDomain(values, baselines),
    };
  });
}

/** The value at (row, col) of a grid. */
export function gridValue(grid: HeadStatGrid, row: number, col: number): number {
  return grid.values[row * grid.heads + col];
}

/** A statistic's value as legends show it: 3 decimals below 10, 1 below 100, else none; "—" for NaN. */
export function statText(v: number): string {
  const a = Math.abs(v);
  return formatValue(v, a >= 100 ? 0 : a >= 10 ? 1 : 3);
}

/** What the legend says about the baseline: one value, or the range over layers when they differ. */
export function baselineText(marks: readonly number[], label = 'uniform attention'): string {
  if (!marks.length) return `${label}: —`;
  if (marks.length === 1) return `${label}: ${statText(marks[0])}`;
  return `${label}: ${statText(marks[0])} to ${statText(marks[marks.length - 1])} (per layer)`;
}

/** The head sweep (runtime/explain/head-sweep.ts, or a study's mean of them) as one more multiple: every head's
 *  Kendall τ with the reference method on the fixed scale [−1, 1], the recency baseline's τ marked on the legend. */
export function headSweepGrid(sweep: {
  reference: string;
  layers: readonly number[];
  heads: number;
  values: readonly number[];
  recency: number;
}): HeadStatGrid {
  const baselines = sweep.layers.map(() => num(sweep.recency));
  return {
    stat: {
      key: 'sweep',
      title: `Kendall τ with ${sweep.reference}`,
      unit: '',
      about: `rank agreement of the head's attention with ${sweep.reference} over the candidate tokens`,
    },
    baselineLabel: 'recency',
    layers: [...sweep.layers],
    heads: sweep.heads,
    values: sweep.values.map(num),
    baselines,
    marks: distinctValues(baselines),
    domain: { lo: -1, hi: 1 },
  };
}

// ----- geometry of one multiple (CSS px, relative to its top left) --------------------------------------------------

export const TITLE_SIZE = LABEL_SIZE;
export const AXIS_SIZE = 9;
const MAX_CELL = 14;
const MIN_CELL = 3;
const MAX_GRID = 224;
const TITLE_H = 14;
const COL_LABELS_H = 11;
const BAR_GAP = 9;
const BAR_H = 8;
const MIN_BAR_W = 140;
/** The baseline mark sticks out of the bar by this much above and below. */
const MARK_OUT = 3;

/** Side of a cell: about MAX_GRID px for the larger of the two sides, between 3 and 14 px. */
export function headCellSize(layers: number, heads: number): number {
  const fit = Math.floor(MAX_GRID / Math.max(1, layers, heads));
  return Math.max(MIN_CELL, Math.min(MAX_CELL, fit));
}

/** Every how many rows/columns an axis label fits: the smallest of 1, 2, 5, 10, 20, 50… with step·cell ≥ width + 4. */
export function labelStep(cell: number, labelWidth: number): number {
  for (let p = 1; ; p *= 10) for (const m of [1, 2, 5]) if (m * p * cell >= labelWidth + 4 || p > 1e6) return m * p;
}

export interface MultipleText {
  x: number;
  y: number;
  text: string;
  anchor: 'start' | 'middle' | 'end';
  size: number;
}

export interface MultipleLayout {
  width: number;
  height: number;
  cell: number;
  title: MultipleText;
  /** The cells: rows = layers, columns = heads. */
  grid: Box;
  /** Layer numbers left of the rows (every `labelStep`), head numbers above the columns. */
  rowLabels: MultipleText[];
  colLabels: MultipleText[];
  /** The legend's colour bar: [lo, hi] from left to right. */
  bar: Box;
  /** The baseline marks across the bar. */
  marks: { value: number; x: number; box: Box }[];
  /** lo and hi under the bar's ends, then the baseline's value. */
  legend: MultipleText[];
  /** A small mark before the baseline's value, as on the bar. */
  markKey: Box;
}

/** The x of a value on the legend bar. */
export function barX(bar: Box, v: number, domain: StatDomain): number {
  return bar.x + statPosition(v, domain) * bar.width;
}

/** Lays out one multiple. */
export function multipleLayout(grid: HeadStatGrid): MultipleLayout {
  const rows = grid.layers.length;
  const cols = grid.heads;
  const cell = headCellSize(rows, cols);
  const rowLabelW = Math.max(...grid.layers.map((l) => textWidth(String(l), AXIS_SIZE)));
  const colLabelW = textWidth(String(cols - 1), AXIS_SIZE);
  const left = Math.ceil(rowLabelW) + 5;
  const g: Box = { x: left, y: TITLE_H + COL_LABELS_H, width: cols * cell, height: rows * cell };
  const rowStep = labelStep(cell, AXIS_SIZE - 2);
  const colStep = labelStep(cell, colLabelW);
  const rowLabels: MultipleText[] = [];
  for (let r = 0; r < rows; r += rowStep)
    rowLabels.push({
      x: g.x - 4,
      y: g.y + (r + 0.5) * cell,
      text: String(grid.layers[r]),
      anchor: 'end',
      size: AXIS_SIZE,
    });
  const colLabels: MultipleText[] = [];
  for (let c = 0; c < cols; c += colStep)
    colLabels.push({ x: g.x + (c + 0.5) * cell, y: g.y - 6, text: String(c), anchor: 'middle', size: AXIS_SIZE });
  const bar: Box = {
    x: g.x,
    y: g.y + g.height + BAR_GAP + MARK_OUT,
    width: Math.max(g.width, MIN_BAR_W),
    height: BAR_H,
  };
  const marks = grid.marks.map((value) => {
    const x = barX(bar, value, grid.domain);
    return { value, x, box: { x: x - 1, y: bar.y - MARK_OUT, width: 2, height: bar.height + 2 * MARK_OUT } };
  });
  const ticksY = bar.y + bar.height + MARK_OUT + 7;
  const baselineY = ticksY + 12;
  const base = baselineText(grid.marks, grid.baselineLabel);
  const legend: MultipleText[] = [
    { x: bar.x, y: ticksY, text: statText(grid.domain.lo), anchor: 'start', size: AXIS_SIZE },
    { x: bar.x + bar.width, y: ticksY, text: statText(grid.domain.hi), anchor: 'end', size: AXIS_SIZE },
    { x: bar.x + 6, y: baselineY, text: base, anchor: 'start', size: AXIS_SIZE },
  ];
  const title = grid.stat.unit ? `${grid.stat.title} (${grid.stat.unit})` : grid.stat.title;
  const width = Math.ceil(
    Math.max(
      g.x + g.width,
      bar.x + bar.width,
      textWidth(title, TITLE_SIZE),
      legend[2].x + textWidth(legend[2].text, AXIS_SIZE),
    ),
  );
  return {
    width,
    height: Math.ceil(baselineY + 7),
    cell,
    title: { x: 0, y: TITLE_H / 2 - 1, text: title, anchor: 'start', size: TITLE_SIZE },
    grid: g,
    rowLabels,
    colLabels,
    bar,
    marks,
    legend,
    markKey: { x: bar.x, y: baselineY - 4, width: 2, height: 8 },
  };
}

/** The cell of (row, col): its box in the multiple. */
export function cellBox(layout: MultipleLayout, row: number, col: number): Box {
  const c = layout.cell;
  return { x: layout.grid.x + col * c, y: layout.grid.y + row * c, width: c, height: c };
}

/** The cell under (x, y) (relative to the multiple), or null outside the grid. */
export function cellAtPoint(layout: MultipleLayout, x: number, y: number): { row: number; col: number } | null {
  const g = layout.grid;
  if (x < g.x || y < g.y || x >= g.x + g.width || y >= g.y + g.height) return null;
  return { row: Math.floor((y - g.y) / layout.cell), col: Math.floor((x - g.x) / layout.cell) };
}

/** Places boxes of the given sizes left to right, wrapping before `maxWidth`, `gap` apart; top-left corners. */
export function arrange(
  sizes: readonly { width: number; height: number }[],
  maxWidth: number,
  gap: number,
): { x: number; y: number }[] {
  const out: { x: number; y: number }[] = [];
  let x = 0;
  let y = 0;
  let rowH = 0;
  for (const s of sizes) {
    if (x > 0 && x + s.width > maxWidth) {
      x = 0;
      y += rowH + gap;
      rowH = 0;
    }
    out.push({ x, y });
    x += s.width + gap;
    rowH = Math.max(rowH, s.height);
  }
  return out;
}

/** The hover readout of one cell: layer, head, the value (about 4 significant digits) and uniform attention's in that
 *  layer. */
export function readoutText(grid: HeadStatGrid, row: number, col: number): string {
  const v = gridValue(grid, row, col);
  const unit = grid.stat.unit ? ` ${grid.stat.unit}` : '';
  const base = grid.baselines[row];
  const value = Number.isFinite(v) ? `${formatSig(v)}${unit}` : '— (undefined for this layer)';
  const uniform = Number.isFinite(base) ? `${formatSig(base)}${unit}` : '—';
  return `Layer ${grid.layers[row]}, head ${col} · ${grid.stat.title}: ${value} (uniform attention: ${uniform})`;
}
