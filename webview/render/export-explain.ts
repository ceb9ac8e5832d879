// Lays out the Explain view's explanation for export: the token strip coloured by each method (methods as rows, the
// uniform baseline included), the agreement matrix of one metric, and the faithfulness curves (comprehensiveness and
// sufficiency against k % of the candidate tokens, with AOPC) as two small plots, and the head statistics as small
// multiples (explain-heads.ts: a layers × heads grid per statistic with its own scale and uniform attention marked on
// its legend). One figure for PNG and SVG alike (export-figure.ts); DOM-free.
import type { ExplainResult } from '../../runtime/explain/result';
import { colorLut, diverging, type ColorMapName } from './colormap';
import {
  CAPTION_SIZE,
  INK,
  LABEL_SIZE,
  MASKED,
  MUTED,
  captionItem,
  finishFigure,
  shortLabel,
  textWidth,
  type Figure,
  type FigureItem,
  type Rgb,
} from './export-figure';
import {
  METRIC_LABELS,
  agreementMatrix,
  curvePlot,
  faithfulnessSeries,
  formatValue,
  inkOn,
  num,
  scoreColor,
  scoreScale,
  type AgreementMetric,
  type Box,
  type CurveKind,
} from './explain-data';
import {
  arrange,
  cellBox,
  headStatGrids,
  multipleLayout,
  statColor,
  type HeadStatGrid,
  type MultipleText,
} from './explain-heads';
import { figureToRaster, rasterToPng } from './png';
import { figureToSvg } from './svg';

const MARGIN = 16;
const ROW = 16;
const TOKEN_SIZE = 9;
/** Token strip chunks wrap at about this width (CSS px of cells). */
const STRIP_WIDTH = 960;
const AGREE_W = 46;
const AGREE_H = 20;
const PLOT_W = 300;
const PLOT_H = 170;
const GRID: Rgb = [228, 228, 228];
const SECTION_GAP = 22;

export interface ExplainFigureOptions {
  metric: AgreementMetric;
  colorMap: ColorMapName;
}

const text = (
  x: number,
  y: number,
  s: string,
  role: string,
  opts: Partial<{
    size: number;
    color: Rgb;
    anchor: 'start' | 'middle' | 'end';
    vertical: boolean;
    index: number;
  }> = {},
): FigureItem => ({
  kind: 'text',
  role,
  x,
  y,
  text: s,
  size: opts.size ?? LABEL_SIZE,
  color: opts.color ?? INK,
  anchor: opts.anchor ?? 'start',
  ...(opts.vertical ? { vertical: true } : {}),
  ...(opts.index !== undefined ? { index: opts.index } : {}),
});

const rect = (
  x: number,
  y: number,
  w: number,
  h: number,
  fill: Rgb | null,
  role: string,
  stroke?: Rgb,
): FigureItem => ({
  kind: 'rect',
  role,
  x,
  y,
  w,
  h,
  fill,
  ...(stroke ? { stroke } : {}),
});

/** The value of the target as the caption shows it. */
export function targetValueText(result: ExplainResult): string {
  const v = num(result.target.value);
  return Number.isFinite(v) ? v.toPrecision(4) : '—';
}

/** Token strip: one row per method, wrapped into chunks of tokens; returns the y below it and the width used. */
function tokenStrip(result: ExplainResult, lut: Uint8Array, items: FigureItem[], y: number): [number, number] {
  const methods = result.methods;
  const labelW = Math.max(...methods.map((m) => textWidth(m.label, LABEL_SIZE))) + 10;
  const x0 = MARGIN + labelW;
  const widths = result.tokens.map((t) =>
    Math.round(Math.min(110, Math.max(14, textWidth(shortLabel(t.text), TOKEN_SIZE) + 6))),
  );
  const chunks: number[][] = [];
  let current: number[] = [];
  let used = 0;
  widths.forEach((w, i) => {
    if (current.length && used + w > STRIP_WIDTH) {
      chunks.push(current);
      current = [];
      used = 0;
    }
    current.push(i);
    used += w;
  });
  if (current.length) chunks.push(current);
  const scales = methods.map((m) => scoreScale(m.scores.map(num), result.candidates));
  let right = x0;
  for (const chunk of chunks) {
    methods.forEach((m, r) => {
      const ry = y + r * (ROW + 2);
      items.push(text(x0 - 6, ry + ROW / 2, m.label, 'method-label', { anchor: 'end', color: INK }));
      if (m.scores.length === 0) {
        if (chunk === chunks[0])
          items.push(
            text(x0, ry + ROW / 2, `no scores: ${m.error ?? 'the method failed'}`, 'method-error', { color: MUTED }),
          );
        return;
      }
      let x = x0;
      for (const i of chunk) {
        const s = num(m.scores[i]);
        const fill = scoreColor(s, scales[r], lut);
        const candidate = result.candidates[i];
        items.push(rect(x, ry, widths[i], ROW, fill, 'score', candidate ? undefined : MUTED));
        items.push(
          text(x + widths[i] / 2, ry + ROW / 2, shortLabel(result.tokens[i].text), 'token', {
            size: TOKEN_SIZE,
            color: inkOn(fill),
            anchor: 'middle',
            index: i,
          }),
        );
        x += widths[i];
      }
      right = Math.max(right, x);
    });
    y += methods.length * (ROW + 2) + 8;
  }
  return [y, right];
}

/** The agreement matrix of one metric; returns the y below it and the right edge. */
function agreement(result: ExplainResult, metric: AgreementMetric, items: FigureItem[], y: number): [number, number] {
  const a = agreementMatrix(result, metric);
  const title = `Agreement between methods: ${METRIC_LABELS[metric]}${metric === 'topK' ? ` (k = ${a.k})` : ''}, over the candidate tokens`;
  items.push(text(MARGIN, y + LABEL_SIZE / 2, title, 'section'));
  y += LABEL_SIZE + 8;
  const labelW = Math.max(...a.labels.map((l) => textWidth(shortLabel(l), LABEL_SIZE)), 0) + 8;
  const x0 = MARGIN + labelW;
  const top = y + labelW; // vertical column labels above
  a.labels.forEach((l, j) =>
    items.push(
      text(x0 + (j + 0.5) * AGREE_W, top - 4, shortLabel(l), 'label-col', { vertical: true, anchor: 'start' }),
    ),
  );
  a.values.forEach((row, i) => {
    items.push(text(x0 - 4, top + (i + 0.5) * AGREE_H, shortLabel(a.labels[i]), 'label-row', { anchor: 'end' }));
    row.forEach((v, j) => {
      const fill: Rgb = Number.isFinite(v) ? diverging(v) : [240, 240, 240];
      items.push(rect(x0 + j * AGREE_W, top + i * AGREE_H, AGREE_W, AGREE_H, fill, 'agreement', [255, 255, 255]));
      items.push(
        text(x0 + (j + 0.5) * AGREE_W, top + (i + 0.5) * AGREE_H, formatValue(v), 'agreement-value', {
          anchor: 'middle',
          color: inkOn(fill),
        }),
      );
    });
  });
  return [
    top + a.values.length * AGREE_H + 4,
    Math.max(x0 + a.ids.length * AGREE_W, MARGIN + textWidth(title, LABEL_SIZE)),
  ];
}

/** One faithfulness plot (axes, ticks, curves, markers) in `box`. */
function plot(result: ExplainResult, kind: CurveKind, box: Box, items: FigureItem[]): void {
  const p = curvePlot(faithfulnessSeries(result, kind), box);
  const title =
    kind === 'comprehensiveness' ? 'Comprehensiveness (higher: more faithful)' : 'Sufficiency (lower: more faithful)';
  items.push(text(box.x, box.y - 10, title, 'plot-title'));
  for (const t of p.yTicks) {
    items.push(rect(box.x, Math.round(t.y), box.width, 1, t.value === 0 ? MUTED : GRID, 'grid'));
    items.push(text(box.x - 4, t.y, t.label, 'axis', { anchor: 'end', size: 9 }));
  }
  for (const x of p.xs) items.push(text(x.x, box.y + box.height + 9, x.label, 'axis', { anchor: 'middle', size: 9 }));
  items.push(
    text(box.x + box.width / 2, box.y + box.height + 22, 'k: % of the candidate tokens', 'axis', {
      anchor: 'middle',
      size: 9,
      color: MUTED,
    }),
  );
  items.push(rect(box.x, box.y, box.width, box.height, null, 'plot-frame', MUTED));
  p.lines.forEach((l, s) => {
    for (let i = 1; i < l.points.length; i++)
      for (const dy of [0, 0.7])
        items.push({
          kind: 'line',
          role: 'curve',
          x1: l.points[i - 1][0],
          y1: l.points[i - 1][1] + dy,
          x2: l.points[i][0],
          y2: l.points[i][1] + dy,
          color: l.color,
          opacity: 1,
          head: s,
          query: i - 1,
          key: i,
        });
    for (const [x, y] of l.points) items.push(rect(x - 2, y - 2, 4, 4, l.color, 'marker'));
  });
}

/** The faithfulness plots and their legend (with AOPC); returns the y below and the right edge. */
function faithfulness(result: ExplainResult, items: FigureItem[], y: number): [number, number] {
  const title = `Faithfulness (ERASER, by re-running the model): f(x) = ${targetValueText(result)}; baseline: random orders`;
  items.push(text(MARGIN, y + LABEL_SIZE / 2, title, 'section'));
  y += LABEL_SIZE + 26;
  const left = MARGIN + 34;
  const boxes: [CurveKind, Box][] = [
    ['comprehensiveness', { x: left, y, width: PLOT_W, height: PLOT_H }],
    ['sufficiency', { x: left + PLOT_W + 70, y, width: PLOT_W, height: PLOT_H }],
  ];
  for (const [kind, box] of boxes) plot(result, kind, box, items);
  y += PLOT_H + 34;
  const comp = faithfulnessSeries(result, 'comprehensiveness');
  const suff = faithfulnessSeries(result, 'sufficiency');
  let right = left + 2 * PLOT_W + 70;
  comp.forEach((s, i) => {
    items.push(rect(MARGIN, y + 2, 14, 6, s.color, 'legend-swatch'));
    const line = `${s.label}: AOPC comprehensiveness ${formatValue(s.aopc, 3)}, sufficiency ${formatValue(suff[i]?.aopc ?? NaN, 3)}`;
    items.push(text(MARGIN + 20, y + 5, line, 'legend'));
    right = Math.max(right, MARGIN + 20 + textWidth(line, LABEL_SIZE));
    y += 14;
  });
  return [y, right];
}

/** Per-head statistics as small multiples, wrapped at STRIP_WIDTH; returns the y below and the right edge. */
function headStats(grids: HeadStatGrid[], lut: Uint8Array, items: FigureItem[], y: number): [number, number] {
  const title =
    'Head statistics: rows are layers, columns heads; each grid has its own colour scale, the mark on its legend is uniform attention';
  items.push(text(MARGIN, y + LABEL_SIZE / 2, title, 'section'));
  y += LABEL_SIZE + 10;
  const layouts = grids.map(multipleLayout);
  const places = arrange(layouts, STRIP_WIDTH, 26);
  let right = MARGIN + textWidth(title, LABEL_SIZE);
  let bottom = y;
  grids.forEach((grid, n) => {
    const lay = layouts[n];
    const ox = MARGIN + places[n].x;
    const oy = y + places[n].y;
    const put = (t: MultipleText, role: string, color: Rgb = INK) =>
      items.push(text(ox + t.x, oy + t.y, t.text, role, { anchor: t.anchor, size: t.size, color }));
    put(lay.title, 'head-stat-title');
    for (const t of lay.rowLabels) put(t, 'axis', MUTED);
    for (const t of lay.colLabels) put(t, 'axis', MUTED);
    const rows = grid.layers.length;
    const cols = grid.heads;
    const colors = new Uint8Array(rows * cols * 3);
    const masked = new Uint8Array(rows * cols);
    grid.values.forEach((v, i) => {
      const c = statColor(v, grid.domain, lut);
      if (!c) masked[i] = 1;
      colors.set(c ?? MASKED, i * 3);
    });
    const g = cellBox(lay, 0, 0);
    items.push({
      kind: 'cells',
      role: 'head-stat',
      x: ox + g.x,
      y: oy + g.y,
      cell: lay.cell,
      rows,
      cols,
      colors,
      values: Float32Array.from(grid.values),
      masked,
      attrs: { 'data-stat': grid.stat.key, 'data-lo': String(grid.domain.lo), 'data-hi': String(grid.domain.hi) },
    });
    // The legend: the colour map from lo to hi, one cell per px, and the baseline marks across it.
    const steps = Math.max(2, Math.round(lay.bar.width));
    const bar = new Uint8Array(steps * 3);
    for (let i = 0; i < steps; i++) {
      const j = Math.round((i / (steps - 1)) * 255) * 4;
      bar.set([lut[j], lut[j + 1], lut[j + 2]], i * 3);
    }
    const b = lay.bar;
    items.push({
      kind: 'cells',
      role: 'legend',
      x: ox + b.x,
      y: oy + b.y,
      cell: 1,
      cellH: b.height,
      rows: 1,
      cols: steps,
      colors: bar,
    });
    items.push(rect(ox + b.x, oy + b.y, steps, b.height, null, 'legend-frame', MUTED));
    for (const m of lay.marks)
      items.push(rect(ox + m.box.x, oy + m.box.y, m.box.width, m.box.height, INK, 'baseline-mark'));
    items.push(
      rect(ox + lay.markKey.x, oy + lay.markKey.y, lay.markKey.width, lay.markKey.height, INK, 'baseline-key'),
    );
    lay.legend.forEach((t, i) => put(t, i < 2 ? 'legend' : 'baseline', i < 2 ? INK : MUTED));
    right = Math.max(right, ox + lay.width);
    bottom = Math.max(bottom, oy + lay.height);
  });
  return [bottom, right];
}

/** The explanation as a figure. */
export function explainFigure(result: ExplainResult, options: ExplainFigureOptions): Figure {
  const lut = colorLut(options.colorMap);
  const caption = `${result.model.name} · ${result.target.label} = ${targetValueText(result)}`;
  const items: FigureItem[] = [captionItem(caption, MARGIN)];
  let y = MARGIN + CAPTION_SIZE + 12;
  const head = `Importance per token (${result.tokens.length} tokens, perturbation: ${result.perturbation}); one row per method`;
  items.push(text(MARGIN, y + LABEL_SIZE / 2, head, 'section'));
  y += LABEL_SIZE + 8;
  let width = MARGIN + Math.max(textWidth(caption, CAPTION_SIZE), textWidth(head, LABEL_SIZE));
  let right: number;
  [y, right] = tokenStrip(result, lut, items, y);
  width = Math.max(width, right);
  y += SECTION_GAP - 8;
  if (result.agreement.length) {
    [y, right] = agreement(result, options.metric, items, y);
    width = Math.max(width, right);
    y += SECTION_GAP;
  }
  if (result.faithfulness.length) {
    [y, right] = faithfulness(result, items, y);
    width = Math.max(width, right);
  }
  const grids = headStatGrids(result);
  if (grids.length) {
    y += SECTION_GAP;
    [y, right] = headStats(grids, lut, items, y);
    width = Math.max(width, right);
    y += 6;
  }
  const notes = [
    'Each row is coloured relative to its own largest |score| over the candidate tokens; rows with negative scores go from blue (−) through white to red (+).',
    'Framed cells are not candidates (special tokens, the target position): perturbations never remove them and the tables leave them out.',
  ];
  if (grids.length)
    notes.push(
      'Head statistics: each grid is coloured from its smallest to its largest value (uniform attention included); grey cells have no value.',
    );
  return finishFigure(items, caption, notes, y, width, MARGIN);
}

const PNG_TEXT: Record<string, string> = {
  τ: 'tau',
  ρ: 'rho',
  '−': '-',
  '‖': '||',
  α: 'a',
  '±': '+/-',
  '×': 'x',
  '–': '-',
};

/** Text for the PNG bitmap font: Greek letters, the minus sign and norms in ASCII. */
export function pngText(s: string): string {
  return s.replace(/[τρ−‖α±×–]/g, (c) => PNG_TEXT[c]);
}

/** PNG (at `scale`) or SVG bytes of an Explain figure, with its size (device px for PNG). */
export function figureImage(
  figure: Figure,
  format: 'png' | 'svg',
  scale = 1,
): { bytes: Uint8Array; width: number; height: number } {
  if (format === 'svg')
    return { bytes: new TextEncoder().encode(figureToSvg(figure)), width: figure.width, height: figure.height };
  // The PNG's bitmap font is ASCII: spell out the few symbols these figures use (SVG keeps them).
  const ascii: Figure = {
    ...figure,
    items: figure.items.map((it) => (it.kind === 'text' ? { ...it, text: pngText(it.text) } : it)),
  };
  const raster = figureToRaster(ascii, scale);
  return { bytes: rasterToPng(raster, figure.title, figure.notes), width: raster.width, height: raster.height };
}
