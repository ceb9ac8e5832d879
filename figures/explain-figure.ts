// The Explain view's explanation as figures: the token strip coloured by each method (methods as rows, the uniform
// baseline included, wrapped to a width), the agreement matrix of one metric, the faithfulness curves (comprehensiveness
// and sufficiency against k % of the candidate tokens, with AOPC) and the head statistics as small multiples (one per
// statistic, head-stats.ts). The panel paints each section in its own canvas under its own heading; the export stacks
// them under a caption (explainFigure). Every cell, curve point and label is a target with its exact value.
import type { ExplainResult } from '../runtime/explain/result';
import { colorLut, diverging, lutRamp, type ColorMapName } from './colormap';
import {
  METRIC_LABELS,
  agreementMatrix,
  curvePlot,
  faithfulnessSeries,
  inkOn,
  methodColor,
  scoreColor,
  scoreScale,
  type AgreementMetric,
  type Box,
  type CurveKind,
} from './explain-scales';
import { LABEL_SIZE, MARGIN, SceneBuilder, caption, captionWidth, notesBlock, type FigureOptions } from './figure-kit';
import {
  arrange,
  cellBox,
  headStatGrids,
  headSweepGrid,
  multipleLayout,
  statColor,
  type HeadStatGrid,
  type MultipleText,
} from './head-stats';
import { faithfulnessAxis, methodMeaning } from './explain-meaning';
import { fitText, formatSig, formatValue, num, shortLabel } from './labels';
import { tokenLabel } from './token-display';
import { place, type Frozen, type Rgb, type Scene } from './scene';
import type { FigureTheme } from './theme';

const ROW = 16;
const TOKEN_SIZE = 9;
const AGREE_W = 46;
const AGREE_H = 20;
const PLOT_W = 300;
const PLOT_H = 170;
const SECTION_GAP = 22;
/** Room left of a plot's box: the y-axis title and the tick labels. */
const PLOT_LEFT = 48;
/** Exports wrap the token strip and the head statistics at this width. */
export const EXPORT_WRAP = 960;

export interface ExplainFigureOptions {
  metric: AgreementMetric;
  colorMap: ColorMapName;
}

/** The value of the target as the caption shows it. */
export function targetValueText(result: ExplainResult): string {
  const v = num(result.target.value);
  return Number.isFinite(v) ? v.toPrecision(4) : '—';
}

/** A section's scene: `draw` lays it out from (x, y) = (0, 0) and returns its size. */
function section(
  theme: FigureTheme,
  title: string,
  draw: (b: SceneBuilder) => { width: number; height: number },
): Scene {
  const b = new SceneBuilder(theme);
  const { width, height } = draw(b);
  return b.scene(width, height, title, []);
}

/** Ink halfway to the background it is drawn on. */
function dimmed(ink: Rgb, background: Rgb): Rgb {
  const mid = (k: 0 | 1 | 2) => Math.round((ink[k] + background[k]) / 2);
  return [mid(0), mid(1), mid(2)];
}

/** The token strip: one row per method (the uniform baseline last), the tokens wrapped into chunks of `wrap` px;
 *  `source`, the input text, lets a partial piece show the characters it covers. */
export function stripFigure(
  result: ExplainResult,
  colorMap: ColorMapName,
  wrap: number,
  theme: FigureTheme,
  source?: string,
): Scene {
  return section(theme, 'Importance per token', (b) => {
    const lut = colorLut(colorMap);
    const methods = result.methods;
    // Whole pixels for every cell (crisp edges in every painter).
    // Each row starts with its method's colour (as its curves in the faithfulness plots), then its label.
    const labelW = Math.ceil(Math.max(0, ...methods.map((m) => b.width(m.label))) + 16);
    const msText = methods.map((m) => `${Math.round(num(m.ms))} ms`);
    const msW = Math.max(0, ...msText.map((t) => b.width(t, TOKEN_SIZE))) + 8;
    const x0 = labelW;
    // Token labels (figures/token-display.ts): from the input's characters where the run's text is known.
    const labels = result.tokens.map((t) => tokenLabel(t, source));
    const meanings = methods.map((m) => methodMeaning(m, result));
    const widths = labels.map((t) => Math.round(Math.min(110, Math.max(14, b.width(shortLabel(t), TOKEN_SIZE) + 6))));
    const room = wrap - labelW - msW; // at least one token a chunk, however narrow
    const chunks: number[][] = [];
    let current: number[] = [];
    let used = 0;
    widths.forEach((w, i) => {
      if (current.length && used + w > room) {
        chunks.push(current);
        current = [];
        used = 0;
      }
      current.push(i);
      used += w;
    });
    if (current.length) chunks.push(current);
    const scales = methods.map((m) => scoreScale(m.scores.map(num), result.candidates));
    // A row whose candidates all score the same (the uniform baseline) ranks nothing: drawn at the bottom of its
    // scale, not at its top (which would read as "every token maximally important").
    const flat = methods.map((m) => constantOver(m.scores.map(num), result.candidates));
    let right = x0;
    let y = 0;
    chunks.forEach((chunk, c) => {
      methods.forEach((m, r) => {
        const ry = y + r * (ROW + 2);
        b.rect(0, ry, 3, ROW, methodColor(m.id, r), 'method-swatch');
        b.text(x0 - 6, ry + ROW / 2, m.label, 'method-label', { anchor: 'end' });
        if (c === 0)
          b.targets.push({
            role: 'strip-method',
            x: x0 - 6 - b.width(m.label),
            y: ry,
            w: b.width(m.label),
            h: ROW,
            text: m.label,
            data: { method: m.id },
          });
        if (m.scores.length === 0) {
          if (c === 0) {
            const why = `no scores: ${m.error ?? 'the method failed'}`;
            b.text(x0, ry + ROW / 2, why, 'method-error', { color: theme.muted });
            right = Math.max(right, x0 + b.width(why));
          }
          return;
        }
        let x = x0;
        for (const i of chunk) {
          const s = num(m.scores[i]);
          const candidate = result.candidates[i];
          // Not a candidate ([CLS], <s>, the target position): grey, its score not drawn as importance.
          const fill = !candidate ? theme.masked : scoreColor(flat[r] ? 0 : s, scales[r], lut);
          const t = labels[i];
          const template = result.tokens[i].template === true;
          // Non-candidates are written in the muted ink on their grey, candidates in the ink their cell needs.
          const ink = candidate ? inkOn(fill) : theme.muted;
          b.rect(x, ry, widths[i], ROW, fill, 'score', candidate ? undefined : theme.frame);
          b.text(x + widths[i] / 2, ry + ROW / 2, shortLabel(t), 'token', {
            size: TOKEN_SIZE,
            // A chat template's tokens: dimmer (the ink halfway to the cell's colour).
            color: template ? dimmed(ink, fill) : ink,
            anchor: 'middle',
            attrs: { 'data-index': String(i), ...(template ? { 'data-template': 'true' } : {}) },
          });
          b.targets.push({
            role: candidate ? 'strip-token' : 'strip-token not-candidate',
            x,
            y: ry,
            w: widths[i],
            h: ROW,
            text: t,
            title: `${i}: ${t}${t !== result.tokens[i].text ? ` (piece ${JSON.stringify(result.tokens[i].text)})` : ''}\n${m.label}: ${Number.isFinite(s) ? formatSig(s) : '—'} — ${meanings[r]}${candidate ? '' : '\n(not a candidate: never perturbed, left out of the tables)'}`,
            data: { method: m.id, index: String(i), score: String(s) },
          });
          x += widths[i];
        }
        right = Math.max(right, x);
        if (c === chunks.length - 1) {
          b.text(x + 6, ry + ROW / 2, msText[r], 'method-ms', { size: TOKEN_SIZE, color: theme.muted });
          right = Math.max(right, x + msW);
        }
      });
      y += methods.length * (ROW + 2) + (c < chunks.length - 1 ? 8 : 0);
    });
    // What each row's numbers are, in words and units (wrapped to the strip's width).
    y += 6;
    methods.forEach((m, r) => {
      const line = `${m.label}: ${meanings[r]}`;
      const fitted = fitText(line, Math.max(200, wrap - 10), TOKEN_SIZE, (t, z) => b.width(t, z));
      b.rect(0, y + 2, 8, 8, methodColor(m.id, r), 'method-swatch');
      b.text(12, y + 6, fitted, 'method-meaning', { size: TOKEN_SIZE, color: theme.muted });
      right = Math.max(right, 12 + b.width(fitted, TOKEN_SIZE));
      y += TOKEN_SIZE + 5;
    });
    return { width: right, height: y };
  });
}

/** The agreement matrix of one metric: methods × methods, each cell its value on the diverging scale [−1, 1]. */
export function agreementFigure(result: ExplainResult, metric: AgreementMetric, theme: FigureTheme): Scene {
  let frozen: Frozen = { top: 0, left: 0 };
  const scene = section(theme, 'Agreement between methods', (b) => {
    const a = agreementMatrix(result, metric);
    const labelW = Math.ceil(Math.max(0, ...a.labels.map((l) => b.width(shortLabel(l)))) + 8);
    const x0 = labelW;
    const top = labelW; // vertical column labels above
    frozen = { top, left: x0 };
    a.labels.forEach((l, j) =>
      b.text(x0 + (j + 0.5) * AGREE_W, top - 4, shortLabel(l), 'label-col', { vertical: true }),
    );
    a.values.forEach((row, i) => {
      b.text(x0 - 4, top + (i + 0.5) * AGREE_H, shortLabel(a.labels[i]), 'label-row', { anchor: 'end' });
      row.forEach((v, j) => {
        const fill: Rgb = Number.isFinite(v) ? diverging(v) : theme.masked;
        const x = x0 + j * AGREE_W;
        const y = top + i * AGREE_H;
        b.rect(x, y, AGREE_W, AGREE_H, fill, 'agreement', theme.background);
        b.text(x + AGREE_W / 2, y + AGREE_H / 2, formatValue(v), 'agreement-value', {
          anchor: 'middle',
          color: inkOn(fill),
        });
        b.targets.push({
          role: 'agree-cell',
          x,
          y,
          w: AGREE_W,
          h: AGREE_H,
          text: formatValue(v),
          title: `${a.labels[i]} vs ${a.labels[j]}: ${METRIC_LABELS[metric]} ${Number.isFinite(v) ? v : 'undefined (constant scores)'}`,
          data: { a: a.ids[i], b: a.ids[j], value: String(v) },
        });
      });
    });
    return { width: x0 + a.ids.length * AGREE_W, height: top + a.values.length * AGREE_H };
  });
  // The column labels above the cells and the row labels left of them stay in view when the table scrolls.
  return { ...scene, frozen };
}

const CURVE_TITLES: Record<CurveKind, [string, string]> = {
  comprehensiveness: ['Comprehensiveness (higher: more faithful)', 'f(x) − f(x without the top k %)'],
  sufficiency: ['Sufficiency (lower: more faithful)', 'f(x) − f(the top k % alone)'],
};

/** One faithfulness plot (title, y-axis meaning, ticks, curves, markers) in `box`. */
function plot(b: SceneBuilder, result: ExplainResult, kind: CurveKind, box: Box): void {
  const theme = b.theme;
  const p = curvePlot(faithfulnessSeries(result, kind), box);
  const [title, yMeaning] = CURVE_TITLES[kind];
  b.text(box.x - PLOT_LEFT, box.y - 24, title, 'plot-title');
  b.text(box.x - PLOT_LEFT, box.y - 10, `y: ${yMeaning}`, 'axis-title', { size: 9, color: theme.muted });
  // The y axis's title beside its ticks: what is plotted and its unit.
  b.text(box.x - PLOT_LEFT + 10, box.y + box.height / 2, faithfulnessAxis(result), 'axis-title', {
    size: 9,
    color: theme.muted,
    vertical: true,
    anchor: 'middle',
  });
  for (const t of p.yTicks) {
    b.rect(box.x, Math.round(t.y), box.width, 1, t.value === 0 ? theme.frame : theme.rule, 'grid');
    b.text(box.x - 4, t.y, t.label, 'axis', { anchor: 'end', size: 9 });
  }
  for (const x of p.xs) b.text(x.x, box.y + box.height + 9, x.label, 'axis', { anchor: 'middle', size: 9 });
  b.text(box.x + box.width / 2, box.y + box.height + 22, 'k: % of the candidate tokens', 'axis-title', {
    anchor: 'middle',
    size: 9,
    color: theme.muted,
  });
  b.rect(box.x, box.y, box.width, box.height, null, 'plot-frame', theme.frame);
  for (const l of p.lines) {
    b.items.push({
      kind: 'polyline',
      role: 'curve',
      points: l.points,
      color: l.color,
      width: 1.5,
      attrs: { 'data-method': l.id, 'data-kind': kind, 'data-aopc': String(l.aopc) },
    });
    const series = faithfulnessSeries(result, kind).find((s) => s.id === l.id)!;
    const finite = series.points.filter((q) => Number.isFinite(q.value) && p.xs.some((x) => x.percent === q.percent));
    l.points.forEach(([x, y], i) => {
      b.items.push({ kind: 'circle', role: 'marker', cx: x, cy: y, r: 2.5, fill: l.color });
      const pt = finite[i];
      b.targets.push({
        role: 'curve-point',
        x: x - 4,
        y: y - 4,
        w: 8,
        h: 8,
        title: `${l.label}, ${kind} at ${pt.percent}%: ${pt.value}`,
        label: `${l.label}, ${kind} at ${pt.percent}%`,
        data: { method: l.id, kind, percent: String(pt.percent), value: String(pt.value) },
      });
    });
  }
}

/** The two faithfulness plots side by side and their legend (one line per method with its AOPC). */
export function faithfulnessFigure(result: ExplainResult, theme: FigureTheme): Scene {
  return section(theme, 'Faithfulness', (b) => {
    const left = PLOT_LEFT;
    const top = 30;
    const boxes: [CurveKind, Box][] = [
      ['comprehensiveness', { x: left, y: top, width: PLOT_W, height: PLOT_H }],
      ['sufficiency', { x: left + PLOT_W + 70, y: top, width: PLOT_W, height: PLOT_H }],
    ];
    for (const [kind, box] of boxes) plot(b, result, kind, box);
    let y = top + PLOT_H + 34;
    const comp = faithfulnessSeries(result, 'comprehensiveness');
    const suff = faithfulnessSeries(result, 'sufficiency');
    let right = left + 2 * PLOT_W + 70;
    comp.forEach((s, i) => {
      b.rect(0, y + 2, 14, 6, s.color, 'legend-swatch');
      const line = `${s.label}: AOPC (ERASER) comprehensiveness ${formatValue(s.aopc, 3)}, sufficiency ${formatValue(suff[i]?.aopc ?? NaN, 3)}`;
      b.text(20, y + 5, line, 'legend', { attrs: { 'data-method': s.id } });
      right = Math.max(right, 20 + b.width(line));
      y += 14;
    });
    return { width: right, height: y };
  });
}

/** The head sweep's multiple (headSweepGrid): a head statistic's figure whose cells, title and hit region are the
 *  sweep's own (role head-sweep, region head-sweep), so that the head statistics stay six. */
export function headSweepFigure(grid: HeadStatGrid, colorMap: ColorMapName, theme: FigureTheme): Scene {
  const scene = headStatFigure(grid, colorMap, theme);
  const role = (r: string) => (r === 'head-stat' ? 'head-sweep' : r === 'head-stat-title' ? 'head-sweep-title' : r);
  return {
    ...scene,
    items: scene.items.map((it) => ({ ...it, role: role(it.role) })),
    regions: scene.regions.map((r) => (r.id === 'head-stat:sweep' ? { ...r, id: 'head-sweep' } : r)),
  };
}

/** One head statistic's multiple: title, axis labels, the layers × heads cells, the legend with the baseline marks. */
export function headStatFigure(grid: HeadStatGrid, colorMap: ColorMapName, theme: FigureTheme): Scene {
  return section(theme, grid.stat.title, (b) => {
    const lut = colorLut(colorMap);
    const lay = multipleLayout(grid);
    const put = (t: MultipleText, role: string, color: Rgb = theme.ink) =>
      b.text(t.x, t.y, t.text, role, { anchor: t.anchor, size: t.size, color });
    put(lay.title, 'head-stat-title');
    for (const t of lay.rowLabels) put(t, 'axis', theme.muted);
    for (const t of lay.colLabels) put(t, 'axis', theme.muted);
    const rows = grid.layers.length;
    const cols = grid.heads;
    const rgba = new Uint8ClampedArray(rows * cols * 4);
    const masked = new Uint8Array(rows * cols);
    grid.values.forEach((v, i) => {
      const c = statColor(v, grid.domain, lut);
      if (!c) masked[i] = 1;
      const fill = c ?? theme.masked;
      rgba.set([fill[0], fill[1], fill[2], 255], i * 4);
    });
    const g = cellBox(lay, 0, 0);
    b.items.push({
      kind: 'image',
      role: 'head-stat',
      x: g.x,
      y: g.y,
      cellW: lay.cell,
      cellH: lay.cell,
      rows,
      cols,
      rgba,
      values: Float32Array.from(grid.values),
      masked,
      attrs: { 'data-stat': grid.stat.key, 'data-lo': String(grid.domain.lo), 'data-hi': String(grid.domain.hi) },
    });
    b.regions.push({
      id: `head-stat:${grid.stat.key}`,
      x: g.x,
      y: g.y,
      cellW: lay.cell,
      cellH: lay.cell,
      pitchX: lay.cell,
      pitchY: lay.cell,
      rows,
      cols,
      rowStart: 0,
      colStart: 0,
      rowStep: 1,
      colStep: 1,
    });
    // The legend: the colour map from lo to hi, one cell per px, and the baseline marks across it.
    const steps = Math.max(2, Math.round(lay.bar.width));
    const bar = lay.bar;
    b.items.push({
      kind: 'image',
      role: 'legend',
      x: bar.x,
      y: bar.y,
      cellW: 1,
      cellH: bar.height,
      rows: 1,
      cols: steps,
      rgba: lutRamp(lut, steps),
    });
    b.rect(bar.x, bar.y, steps, bar.height, null, 'legend-frame', theme.frame);
    for (const m of lay.marks) {
      b.rect(m.box.x - 1, m.box.y, m.box.width + 2, m.box.height, theme.background, 'baseline-edge');
      b.rect(m.box.x, m.box.y, m.box.width, m.box.height, theme.ink, 'baseline-mark');
    }
    b.rect(lay.markKey.x, lay.markKey.y, lay.markKey.width, lay.markKey.height, theme.ink, 'baseline-key');
    lay.legend.forEach((t, i) => put(t, i < 2 ? 'legend' : 'baseline', i < 2 ? theme.ink : theme.muted));
    return { width: lay.width, height: lay.height };
  });
}

/** The whole explanation as one figure (exports): caption, then each section under its title. */
export function explainFigure(
  result: ExplainResult,
  options: ExplainFigureOptions,
  theme: FigureTheme,
  figure: FigureOptions,
): Scene {
  const b = new SceneBuilder(theme);
  const title = `${result.model.name} · ${result.target.label} = ${targetValueText(result)}`;
  let y = caption(b, title, figure, EXPORT_WRAP);
  let width = captionWidth(b, title, figure);
  const add = (heading: string, scene: Scene, gap = 8) => {
    if (figure.titles) {
      b.text(MARGIN, y + LABEL_SIZE / 2, heading, 'section');
      width = Math.max(width, MARGIN + b.width(heading));
      y += LABEL_SIZE + gap;
    }
    place(b, scene, MARGIN, y);
    width = Math.max(width, MARGIN + scene.width);
    y += scene.height + SECTION_GAP;
  };
  add(
    `Importance per token (${result.tokens.length} tokens, perturbation: ${result.perturbation}); one row per method`,
    stripFigure(result, options.colorMap, EXPORT_WRAP, theme),
  );
  if (result.agreement.length) {
    const a = agreementMatrix(result, options.metric);
    add(
      `Agreement between methods: ${METRIC_LABELS[options.metric]}${options.metric === 'topK' ? ` (k = ${a.k})` : ''}, over the candidate tokens`,
      agreementFigure(result, options.metric, theme),
    );
  }
  if (result.faithfulness.length)
    add(
      `Faithfulness (ERASER, by re-running the model): f(x) = ${targetValueText(result)}; baseline: random orders`,
      faithfulnessFigure(result, theme),
      4,
    );
  if (result.headSweep)
    add(
      `Which heads agree with ${result.headSweep.reference}? Kendall τ of each head's attention with it over the candidate tokens; the legend marks the recency baseline`,
      headSweepFigure(headSweepGrid(result.headSweep), options.colorMap, theme),
      10,
    );
  const grids = headStatGrids(result);
  if (grids.length) {
    const scenes = grids.map((g) => headStatFigure(g, options.colorMap, theme));
    const places = arrange(scenes, EXPORT_WRAP, 26);
    const heading =
      'Head statistics: rows are layers, columns heads; each grid has its own colour scale, the mark on its legend is uniform attention';
    const all = new SceneBuilder(theme);
    let w = 0;
    let h = 0;
    scenes.forEach((s, i) => {
      place(all, s, places[i].x, places[i].y);
      w = Math.max(w, places[i].x + s.width);
      h = Math.max(h, places[i].y + s.height);
    });
    add(heading, all.scene(w, h, '', []), 10);
  }
  const notes = [
    'Each row is coloured relative to its own largest |score| over the candidate tokens; rows with negative scores go from blue (−) through white to red (+).',
    'Framed cells are not candidates (special tokens, the target position): perturbations never remove them and the tables leave them out.',
  ];
  if (grids.length)
    notes.push(
      'Head statistics: each grid is coloured from its smallest to its largest value (uniform attention included); grey cells have no value.',
    );
  const [bottom, notesW] = notesBlock(b, notes, y - SECTION_GAP + 6, figure);
  width = Math.max(width, notesW);
  return b.scene(width + MARGIN, bottom + MARGIN, `Attention Lens: ${title}`, notes);
}

/** True when every finite score of a candidate is the same (and there are at least two): the row ranks nothing. */
function constantOver(scores: readonly number[], candidates: readonly boolean[]): boolean {
  let first: number | undefined;
  let count = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!candidates[i] || !Number.isFinite(scores[i])) continue;
    count++;
    if (first === undefined) first = scores[i];
    else if (Math.abs(scores[i] - first) > 1e-9 * Math.max(1, Math.abs(first))) return false;
  }
  return count > 1;
}
