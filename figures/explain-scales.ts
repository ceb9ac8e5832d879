// The Explain view's numbers turned into what is drawn (explain-figure.ts): colours of importance scores, the
// agreement matrix between methods, tick marks, and the faithfulness curves laid out in a plot box. DOM-free;
// imports only runtime types.
import type { ExplainResult } from '../runtime/explain/result';
import { diverging } from './colormap';
import { formatValue, num } from './labels';
import type { Rgb } from './scene';

export type AgreementMetric = 'kendall' | 'spearman' | 'topK';
export const METRIC_LABELS: Record<AgreementMetric, string> = {
  kendall: 'Kendall τ',
  spearman: 'Spearman ρ',
  topK: 'top-k overlap',
};

/** The id of the uniform-attention baseline row (runtime/explain/baseline.ts). */
export const BASELINE = 'uniform';

/** Method colours (Tableau 10 without its grey, which the baseline has). */
const PALETTE: Rgb[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [188, 189, 34],
  [23, 190, 207],
];
export const BASELINE_COLOR: Rgb = [127, 127, 127];

/** The colour of the method at `index` of the result's methods (the baseline: grey). */
export function methodColor(id: string, index: number): Rgb {
  return id === BASELINE ? BASELINE_COLOR : PALETTE[index % PALETTE.length];
}

/** How one method's scores map to colours: relative to the largest |score| over the candidate tokens, on a diverging
 *  scale (blue < 0 < red) when some candidate's score is negative, else on the colour map from 0. */
export interface ScoreScale {
  signed: boolean;
  max: number;
}

export function scoreScale(scores: readonly number[], candidates: readonly boolean[]): ScoreScale {
  let max = 0;
  let signed = false;
  scores.forEach((s, i) => {
    if (!candidates[i] || !Number.isFinite(s)) return;
    if (s < 0) signed = true;
    max = Math.max(max, Math.abs(s));
  });
  return { signed, max };
}

/** Where a score lies on its scale: [0, 1], or [-1, 1] when signed; clamped (a non-candidate may pass the
 *  candidates' maximum); 0 for NaN or an all-zero method. */
export function scorePosition(s: number, scale: ScoreScale): number {
  if (!Number.isFinite(s) || !(scale.max > 0)) return 0;
  const t = s / scale.max;
  return scale.signed ? Math.max(-1, Math.min(1, t)) : Math.max(0, Math.min(1, t));
}

/** The colour of a score: the colour map's (256-entry RGBA `lut`), or the diverging scale's when signed. */
export function scoreColor(s: number, scale: ScoreScale, lut: Uint8Array): Rgb {
  const t = scorePosition(s, scale);
  if (scale.signed) return diverging(t);
  const j = Math.round(t * 255) * 4;
  return [lut[j], lut[j + 1], lut[j + 2]];
}

/** Dark or light ink for text on a background (WCAG relative luminance above or below 0.35). */
export function inkOn(background: Rgb): Rgb {
  const lin = (c: number) => {
    const v = c / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const l = 0.2126 * lin(background[0]) + 0.7152 * lin(background[1]) + 0.0722 * lin(background[2]);
  return l > 0.35 ? [20, 20, 20] : [250, 250, 250];
}

export interface AgreementMatrix {
  /** Methods that gave scores, in the result's order (the baseline last). */
  ids: string[];
  labels: string[];
  /** [ids, ids]: the metric between every pair; 1 on the diagonal; NaN where undefined. */
  values: number[][];
  /** k of the top-k overlap. */
  k: number;
}

/** The symmetric matrix of one agreement metric between the methods of a result. */
export function agreementMatrix(result: ExplainResult, metric: AgreementMetric): AgreementMatrix {
  const methods = result.methods.filter((m) => m.scores.length > 0);
  const ids = methods.map((m) => m.id);
  const values = ids.map((_, i) => ids.map((_, j) => (i === j ? 1 : NaN)));
  let k = 0;
  for (const row of result.agreement) {
    const i = ids.indexOf(row.a);
    const j = ids.indexOf(row.b);
    if (i < 0 || j < 0) continue;
    values[i][j] = values[j][i] = num(row[metric]);
    k = row.k;
  }
  return { ids, labels: methods.map((m) => m.label), values, k };
}

/** One method's agreement with the recency and random baselines (runtime/explain/baseline.ts) in one metric: the
 *  random baseline as its mean over seeded orders and the 2.5–97.5 % range of those orders (NaN when absent). */
export interface BaselineAgreement {
  id: string;
  recency: number;
  random: number;
  lo: number;
  hi: number;
}

export function baselineAgreement(result: ExplainResult, metric: AgreementMetric): BaselineAgreement[] {
  const out: BaselineAgreement[] = [];
  for (const m of result.methods) {
    const recency = result.agreement.find((r) => r.a === m.id && r.b === 'recency');
    const random = result.agreement.find((r) => r.a === m.id && r.b === 'random');
    if (!recency && !random) continue;
    out.push({
      id: m.id,
      recency: num(recency?.[metric]),
      random: num(random?.[metric]),
      lo: num(random?.spread?.[metric].lo),
      hi: num(random?.spread?.[metric].hi),
    });
  }
  return out;
}

/** The line the Explain view shows for a method's baselines: "loo: recency 0.62 · random 0.01 [−0.4, 0.42]". */
export function baselineAgreementText(b: BaselineAgreement, label: string): string {
  return `${label}: recency ${formatValue(b.recency)} · random ${formatValue(b.random)} [${formatValue(b.lo)}, ${formatValue(b.hi)}]`;
}

/** Round tick values covering [lo, hi]: steps of 1, 2 or 5 × 10^k, about `count` of them (the end ticks enclose the
 *  range). A degenerate range is widened to ±0.5 around its value ([0, 1] for 0). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (lo > hi) [lo, hi] = [hi, lo];
  if (lo === hi) {
    if (lo === 0) return niceTicks(0, 1, count);
    lo -= 0.5;
    hi += 0.5;
  }
  const raw = (hi - lo) / Math.max(1, count - 1);
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  const step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/** A tick's text with as many decimals as the step between ticks needs. */
export function tickLabel(v: number, ticks: readonly number[]): string {
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : 1;
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  return formatValue(v, decimals);
}

export type CurveKind = 'comprehensiveness' | 'sufficiency';

export interface CurveSeries {
  id: string;
  label: string;
  color: Rgb;
  /** Area over the perturbation curve of this kind. */
  aopc: number;
  /** One point per faithfulness bin: k as % of the candidate tokens, and the value there. */
  points: { percent: number; value: number }[];
}

/** The faithfulness curves of one kind, one series per method (the baseline included), in the result's order. */
export function faithfulnessSeries(result: ExplainResult, kind: CurveKind): CurveSeries[] {
  return result.faithfulness.map((f) => {
    const index = result.methods.findIndex((m) => m.id === f.method);
    return {
      id: f.method,
      label: result.methods[index]?.label ?? f.method,
      color: methodColor(f.method, Math.max(0, index)),
      aopc: num(kind === 'comprehensiveness' ? f.aopcComprehensiveness : f.aopcSufficiency),
      points: f.bins.map((b) => ({ percent: num(b.percent), value: num(b[kind]) })),
    };
  });
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface CurvePlot {
  box: Box;
  /** One x position per bin (bins are spaced evenly: 1, 5, 10, 20, 50 % are categories, not a linear axis). */
  xs: { x: number; percent: number; label: string }[];
  yTicks: { y: number; value: number; label: string }[];
  yMin: number;
  yMax: number;
  /** Per series, its points in box coordinates (bins whose value is not finite are left out). */
  lines: { id: string; label: string; color: Rgb; aopc: number; points: [number, number][] }[];
}

/** Lays out curves in a plot box: even x spacing of the bins, y from niceTicks over every value and 0. */
export function curvePlot(series: readonly CurveSeries[], box: Box): CurvePlot {
  const percents = [...new Set(series.flatMap((s) => s.points.map((p) => p.percent)))]
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  let lo = 0;
  let hi = 0;
  for (const s of series)
    for (const p of s.points)
      if (Number.isFinite(p.value)) {
        lo = Math.min(lo, p.value);
        hi = Math.max(hi, p.value);
      }
  const ticks = niceTicks(lo, hi, 5);
  const yMin = ticks[0];
  const yMax = ticks[ticks.length - 1];
  const yOf = (v: number) => box.y + (box.height * (yMax - v)) / (yMax - yMin);
  const xOf = (i: number) => box.x + ((i + 0.5) * box.width) / Math.max(1, percents.length);
  return {
    box,
    xs: percents.map((percent, i) => ({ x: xOf(i), percent, label: `${percent}%` })),
    yTicks: ticks.map((value) => ({ y: yOf(value), value, label: tickLabel(value, ticks) })),
    yMin,
    yMax,
    lines: series.map((s) => ({
      id: s.id,
      label: s.label,
      color: s.color,
      aopc: s.aopc,
      points: s.points
        .filter((p) => Number.isFinite(p.value) && percents.includes(p.percent))
        .map((p) => [xOf(percents.indexOf(p.percent)), yOf(p.value)] as [number, number]),
    })),
  };
}

/** Largest |v| over the finite values of `data` (at least `floor`), for a symmetric diverging scale. */
export function maxAbs(data: ArrayLike<number>, floor = 1e-12): number {
  let m = floor;
  for (let i = 0; i < data.length; i++) {
    const v = Math.abs(data[i]);
    if (v > m) m = v;
  }
  return m;
}
