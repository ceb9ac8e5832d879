// Lays out the Explain view's compare mode for export: attention map a, map b (one colour scale for both) and their
// difference b − a over the aligned tokens (a diverging scale, symmetric around 0), with the Jensen–Shannon divergence
// of their rows in the caption. DOM-free.
import { colorLut, diverging, type ColorMapName } from './colormap';
import {
  CAPTION_SIZE,
  INK,
  LABEL_SIZE,
  MASKED,
  MUTED,
  captionItem,
  colorBar,
  colorCells,
  finishFigure,
  shortLabel,
  textWidth,
  type Figure,
  type FigureItem,
} from './export-figure';
import { formatValue, maxAbs } from './explain-data';
import { maxValue } from './heatmap';

/** A comparison as the renderer needs it (the protocol's compareResult with its buffers as typed arrays). */
export interface CompareData {
  modelName: string;
  mode: 'heads' | 'inputs';
  layer: number;
  a: CompareSide;
  b: CompareSide;
  alignA: ArrayLike<number>;
  alignB: ArrayLike<number>;
  /** [m, m] b − a over the aligned tokens (rows renormalised over the aligned keys). */
  diff: Float32Array;
  rowJsd: Float32Array;
  jsd: number;
  tvd: number;
}

export interface CompareSide {
  label: string;
  tokens: readonly { text: string }[];
  causal: boolean;
  /** [n, n] */
  data: Float32Array;
}

const MARGIN = 16;
const PANEL = 300;
const MAX_CELL = 20;
const MIN_LABEL_CELL = 9;
const GAP = 28;

/** "JSD 0.123 bits, TVD 0.210 (mean over 9 query rows; 9 aligned tokens)". */
export function compareSummary(
  c: Pick<CompareData, 'jsd' | 'tvd' | 'rowJsd' | 'alignA'> & {
    a: { tokens: readonly unknown[] };
    b: { tokens: readonly unknown[] };
  },
): string {
  const rows = Array.from(c.rowJsd).filter(Number.isFinite).length;
  const m = c.alignA.length;
  const aligned =
    m === c.a.tokens.length && m === c.b.tokens.length
      ? `${m} tokens`
      : `${m} aligned tokens of ${c.a.tokens.length} and ${c.b.tokens.length}`;
  return `JSD ${formatValue(c.jsd, 3)} bits, TVD ${formatValue(c.tvd, 3)} (mean over ${rows} query rows; ${aligned})`;
}

/** One heatmap panel (title, labels when they fit, cells) at x; returns its width. */
function panel(
  items: FigureItem[],
  x: number,
  y: number,
  title: string,
  labels: readonly string[],
  n: number,
  values: Float32Array,
  masked: Uint8Array,
  colors: Uint8Array,
  role: string,
): { width: number; height: number } {
  const cell = Math.max(1, Math.min(MAX_CELL, Math.floor(PANEL / Math.max(1, n))));
  const showLabels = cell >= MIN_LABEL_CELL && labels.length === n;
  const size = Math.min(LABEL_SIZE, cell);
  const short = labels.map(shortLabel);
  const labelW = showLabels ? Math.max(...short.map((s) => textWidth(s, size))) + 6 : 0;
  items.push({
    kind: 'text',
    role: 'panel-title',
    x,
    y: y + LABEL_SIZE / 2,
    text: title,
    size: LABEL_SIZE,
    color: INK,
    anchor: 'start',
  });
  const x0 = Math.round(x + labelW);
  const y0 = Math.round(y + LABEL_SIZE + 8 + labelW);
  if (showLabels)
    short.forEach((text, i) => {
      items.push({
        kind: 'text',
        role: 'label-row',
        x: x0 - 3,
        y: y0 + (i + 0.5) * cell,
        text,
        size,
        color: INK,
        anchor: 'end',
        index: i,
      });
      items.push({
        kind: 'text',
        role: 'label-col',
        x: x0 + (i + 0.5) * cell,
        y: y0 - 3,
        text,
        size,
        color: INK,
        anchor: 'start',
        vertical: true,
        index: i,
      });
    });
  items.push({ kind: 'cells', role, x: x0, y: y0, cell, rows: n, cols: n, colors, values, masked });
  return { width: Math.max(x0 - x + n * cell, textWidth(title, LABEL_SIZE)), height: y0 - y + n * cell };
}

/** Colours of a signed map on the diverging scale ±vmax (NaN cells: the masked grey). */
function divergingColors(values: Float32Array, vmax: number): { colors: Uint8Array; masked: Uint8Array } {
  const colors = new Uint8Array(values.length * 3);
  const masked = new Uint8Array(values.length);
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) {
      masked[i] = 1;
      colors.set(MASKED, i * 3);
    } else colors.set(diverging(v / vmax), i * 3);
  });
  return { colors, masked };
}

/** Masked cells of a causal map (key after query). */
function causalMask(n: number, causal: boolean): Uint8Array {
  const m = new Uint8Array(n * n);
  if (causal) for (let r = 0; r < n; r++) for (let c = r + 1; c < n; c++) m[r * n + c] = 1;
  return m;
}

/** The comparison as a figure. */
export function compareFigure(c: CompareData, colorMap: ColorMapName): Figure {
  const caption = `${c.modelName} · layer ${c.layer} · ${c.a.label} vs ${c.b.label}`;
  const items: FigureItem[] = [captionItem(caption, MARGIN)];
  const summary = compareSummary(c);
  items.push({
    kind: 'text',
    role: 'summary',
    x: MARGIN,
    y: MARGIN + CAPTION_SIZE + 10,
    text: summary,
    size: LABEL_SIZE,
    color: INK,
    anchor: 'start',
  });
  const y = MARGIN + CAPTION_SIZE + 26;
  const lut = colorLut(colorMap);
  const na = c.a.tokens.length;
  const nb = c.b.tokens.length;
  const m = c.alignA.length;
  const vmax = Math.max(maxValue(c.a.data, 0, na * na), maxValue(c.b.data, 0, nb * nb));
  const dmax = maxAbs(c.diff);
  let x = MARGIN;
  let height = 0;
  for (const side of [c.a, c.b]) {
    const n = side.tokens.length;
    const masked = causalMask(n, side.causal);
    const colors = colorCells(side.data, masked, lut, vmax);
    const p = panel(
      items,
      x,
      y,
      side.label,
      side.tokens.map((t) => t.text),
      n,
      side.data,
      masked,
      colors,
      'matrix',
    );
    x += p.width + GAP;
    height = Math.max(height, p.height);
  }
  const d = divergingColors(c.diff, dmax);
  const alignedLabels = Array.from(c.alignA, (i) => c.a.tokens[i]?.text ?? `#${i}`);
  const p = panel(
    items,
    x,
    y,
    `${c.b.label} − ${c.a.label}`,
    alignedLabels,
    m,
    c.diff,
    d.masked,
    d.colors,
    'difference',
  );
  x += p.width;
  height = Math.max(height, p.height);
  let by = y + height + 14;
  const bar = colorBar(MARGIN, by, lut, '0', vmax.toPrecision(3), 'weight');
  items.push(...bar.items);
  // The difference's scale: 64 steps from −dmax to +dmax.
  const steps = 64;
  const dx = MARGIN + bar.width + 40;
  const colors = new Uint8Array(steps * 3);
  for (let i = 0; i < steps; i++) colors.set(diverging((2 * i) / (steps - 1) - 1), i * 3);
  const lowText = `−${dmax.toPrecision(3)}`;
  items.push({
    kind: 'text',
    role: 'legend',
    x: dx,
    y: by + 6,
    text: 'difference',
    size: LABEL_SIZE,
    color: MUTED,
    anchor: 'start',
  });
  const barX = dx + textWidth('difference', LABEL_SIZE) + 8 + textWidth(lowText, LABEL_SIZE) + 6;
  items.push({
    kind: 'text',
    role: 'legend',
    x: barX - 6,
    y: by + 6,
    text: lowText,
    size: LABEL_SIZE,
    color: INK,
    anchor: 'end',
  });
  items.push({ kind: 'cells', role: 'legend', x: barX, y: by, cell: 3, cellH: 12, rows: 1, cols: steps, colors });
  items.push({ kind: 'rect', role: 'legend-frame', x: barX, y: by, w: steps * 3, h: 12, fill: null, stroke: MUTED });
  const highText = `+${dmax.toPrecision(3)}`;
  items.push({
    kind: 'text',
    role: 'legend',
    x: barX + steps * 3 + 6,
    y: by + 6,
    text: highText,
    size: LABEL_SIZE,
    color: INK,
    anchor: 'start',
  });
  by += 20;
  const notes: string[] = [];
  if (c.a.causal || c.b.causal) notes.push('Grey cells are masked (causal) or undefined.');
  if (c.mode === 'inputs' && (m !== na || m !== nb))
    notes.push(
      'The difference covers the tokens both inputs share (a longest common subsequence of the token texts); each row is restricted to those keys and renormalised.',
    );
  const width = Math.max(
    x,
    MARGIN + textWidth(caption, CAPTION_SIZE),
    MARGIN + textWidth(summary, LABEL_SIZE),
    barX + steps * 3 + 60,
  );
  return finishFigure(items, caption, notes, by, width, MARGIN);
}
