// The Explain view's compare mode: attention map a, map b (one colour scale for both) and their difference b − a over
// the aligned tokens (a diverging scale, symmetric around 0), with the Jensen–Shannon divergence of their rows. Each
// map is a panel (comparePanels: the panel paints the three side by side in their own canvases, with their hover
// readout); the export puts them under a caption with both colour bars (compareFigure).
import { colorLut, colorize, colorizeDiverging, diverging, lutRamp, type ColorMapName } from './colormap';
import {
  LABEL_SIZE,
  MARGIN,
  SceneBuilder,
  caption,
  captionWidth,
  colorBar,
  notesBlock,
  type FigureOptions,
} from './figure-kit';
import { maxValue } from './heads';
import { formatValue, shortLabel } from './labels';
import { maxAbs } from './explain-scales';
import { place, type Scene } from './scene';
import type { FigureTheme } from './theme';

/** A comparison as the figure needs it (the protocol's compareResult with its buffers as typed arrays). */
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

/** How large a panel is: its cells fill about `panel` px, `minCell` to `maxCell` px each (labels outside). */
export interface CompareSize {
  panel: number;
  minCell: number;
  maxCell: number;
}

export const EXPORT_COMPARE_SIZE: CompareSize = { panel: 300, minCell: 1, maxCell: 20 };

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

/** One heatmap panel: its title, labels when the cells fit them, the cells; region `id`. */
function panel(
  theme: FigureTheme,
  id: string,
  title: string,
  labels: readonly string[],
  n: number,
  values: Float32Array,
  masked: Uint8Array,
  rgba: Uint8ClampedArray,
  size: CompareSize,
): Scene {
  const b = new SceneBuilder(theme);
  const cell = Math.max(size.minCell, Math.min(size.maxCell, Math.floor(size.panel / Math.max(1, n))));
  const showLabels = cell >= MIN_LABEL_CELL && labels.length === n;
  const fontSize = Math.min(LABEL_SIZE, cell);
  const short = labels.map((t) => shortLabel(t, 12));
  const labelW = showLabels ? Math.max(...short.map((s) => b.width(s, fontSize))) + 6 : 0;
  b.text(0, LABEL_SIZE / 2, title, 'panel-title');
  const x0 = Math.round(labelW);
  const y0 = Math.round(LABEL_SIZE + 8 + labelW);
  if (showLabels)
    short.forEach((text, i) => {
      b.text(x0 - 3, y0 + (i + 0.5) * cell, text, 'label-row', {
        anchor: 'end',
        size: fontSize,
        attrs: { 'data-index': String(i) },
      });
      b.text(x0 + (i + 0.5) * cell, y0 - 3, text, 'label-col', {
        vertical: true,
        size: fontSize,
        attrs: { 'data-index': String(i) },
      });
    });
  b.items.push({
    kind: 'image',
    role: id === 'diff' ? 'difference' : 'matrix',
    x: x0,
    y: y0,
    cellW: cell,
    cellH: cell,
    rows: n,
    cols: n,
    rgba,
    values,
    masked,
  });
  b.regions.push({
    id,
    x: x0,
    y: y0,
    cellW: cell,
    cellH: cell,
    pitchX: cell,
    pitchY: cell,
    rows: n,
    cols: n,
    rowStart: 0,
    colStart: 0,
    rowStep: 1,
    colStep: 1,
  });
  return b.scene(Math.max(x0 + n * cell, b.width(title)), y0 + n * cell, title, []);
}

/** Masked cells of a causal map (key after query). */
function causalMask(n: number, causal: boolean): Uint8Array {
  const m = new Uint8Array(n * n);
  if (causal) for (let r = 0; r < n; r++) for (let c = r + 1; c < n; c++) m[r * n + c] = 1;
  return m;
}

/** The three panels (a, b, b − a) and the scales they share. */
export function comparePanels(
  c: CompareData,
  colorMap: ColorMapName,
  size: CompareSize,
  theme: FigureTheme,
): { a: Scene; b: Scene; diff: Scene; vmax: number; dmax: number } {
  const lut = colorLut(colorMap);
  const na = c.a.tokens.length;
  const nb = c.b.tokens.length;
  const vmax = Math.max(maxValue(c.a.data, 0, na * na), maxValue(c.b.data, 0, nb * nb));
  const dmax = maxAbs(c.diff);
  const side = (s: CompareSide, id: string) => {
    const n = s.tokens.length;
    const masked = causalMask(n, s.causal);
    const rgba = colorize(s.data, masked, lut, vmax, theme.masked);
    const texts = s.tokens.map((t) => t.text);
    return panel(theme, id, `${s.label} (${n} tokens)`, texts, n, s.data, masked, rgba, size);
  };
  const d = colorizeDiverging(c.diff, dmax, theme.masked);
  const aligned = Array.from(c.alignA, (i) => c.a.tokens[i]?.text ?? `#${i}`);
  const diff = panel(
    theme,
    'diff',
    `${c.b.label} − ${c.a.label}: ±${dmax.toPrecision(3)}`,
    aligned,
    c.alignA.length,
    c.diff,
    d.masked,
    d.rgba,
    size,
  );
  return { a: side(c.a, 'a'), b: side(c.b, 'b'), diff, vmax, dmax };
}

/** The comparison as one figure (exports). */
export function compareFigure(
  c: CompareData,
  colorMap: ColorMapName,
  theme: FigureTheme,
  options: FigureOptions,
  size: CompareSize = EXPORT_COMPARE_SIZE,
): Scene {
  const b = new SceneBuilder(theme);
  const title = `${c.modelName} · layer ${c.layer} · ${c.a.label} vs ${c.b.label}`;
  let y = caption(b, title, options, 0);
  const summary = compareSummary(c);
  b.text(MARGIN, y + LABEL_SIZE / 2, summary, 'summary');
  y += LABEL_SIZE + 10;
  const p = comparePanels(c, colorMap, size, theme);
  let x = MARGIN;
  let height = 0;
  for (const s of [p.a, p.b, p.diff]) {
    place(b, s, x, y);
    x += s.width + GAP;
    height = Math.max(height, s.height);
  }
  x -= GAP;
  let by = y + height + 14;
  const bar = colorBar(b, MARGIN, by, lutRamp(colorLut(colorMap), 64), '0', p.vmax.toPrecision(3), 'weight');
  // The difference's scale: 64 steps from −dmax to +dmax.
  const steps = new Uint8ClampedArray(64 * 4);
  for (let i = 0; i < 64; i++) steps.set([...diverging((2 * i) / 63 - 1), 255], i * 4);
  const dx = MARGIN + bar.width + 40;
  const dbar = colorBar(b, dx, by, steps, `−${p.dmax.toPrecision(3)}`, `+${p.dmax.toPrecision(3)}`, 'difference');
  by += 20;
  const notes: string[] = [];
  const m = c.alignA.length;
  if (c.a.causal || c.b.causal) notes.push('Grey cells are masked (causal) or undefined.');
  if (c.mode === 'inputs' && (m !== c.a.tokens.length || m !== c.b.tokens.length))
    notes.push(
      'The difference covers the tokens both inputs share (a longest common subsequence of the token texts); each row is restricted to those keys and renormalised.',
    );
  const [bottom, notesW] = notesBlock(b, notes, by, options);
  const width = Math.max(x, captionWidth(b, title, options), MARGIN + b.width(summary), dx + dbar.width, notesW);
  return b.scene(width + MARGIN, bottom + MARGIN, `Attention Lens: ${title}`, notes);
}
