// Box plots with every value drawn as a point, as standalone SVG text: the study command's picture of how a metric
// is spread across the examples of a dataset (one row per method pair or method). No DOM, no dependencies.
import { spread } from '../runtime/explain/summary';
import { formatValue } from '../figures/labels';

export interface PlotRow {
  label: string;
  values: readonly number[];
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  /** Axis range; default the data's range (padded). */
  min?: number;
  max?: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** "Nice" tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

/** Deterministic jitter in [-1, 1] for point i (so the same data draws the same picture). */
const jitter = (i: number) => (((i * 2654435761) >>> 0) / 2 ** 32) * 2 - 1;

export function boxPlotSvg(rows: readonly PlotRow[], o: PlotOptions): string {
  const rowH = 28;
  const labelW = 9 + 7 * Math.max(8, ...rows.map((r) => r.label.length));
  const plotW = 420;
  const top = 40;
  const width = labelW + plotW + 30;
  const height = top + rows.length * rowH + 50;
  const all = rows.flatMap((r) => r.values.filter(Number.isFinite));
  let lo = o.min ?? (all.length ? Math.min(...all) : 0);
  let hi = o.max ?? (all.length ? Math.max(...all) : 1);
  if (!(hi > lo)) [lo, hi] = [lo - 0.5, hi + 0.5];
  if (o.min === undefined || o.max === undefined) {
    const pad = (hi - lo) * 0.05;
    if (o.min === undefined) lo -= pad;
    if (o.max === undefined) hi += pad;
  }
  const x = (v: number) => labelW + ((v - lo) / (hi - lo)) * plotW;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(o.title)}</text>`,
  ];
  const axisY = top + rows.length * rowH + 6;
  for (const t of ticks(lo, hi)) {
    const tx = x(t).toFixed(1);
    parts.push(`<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${axisY}" stroke="#ddd"/>`);
    parts.push(`<text x="${tx}" y="${axisY + 16}" text-anchor="middle" fill="#444">${esc(String(t))}</text>`);
  }
  parts.push(
    `<text x="${labelW + plotW / 2}" y="${axisY + 36}" text-anchor="middle" fill="#222">${esc(o.xLabel)}</text>`,
  );
  rows.forEach((r, i) => {
    const cy = top + i * rowH + rowH / 2;
    parts.push(`<text x="${labelW - 8}" y="${cy + 4}" text-anchor="end">${esc(r.label)}</text>`);
    const s = spread(r.values);
    if (s.n === 0) {
      parts.push(`<text x="${labelW + 4}" y="${cy + 4}" fill="#999">no values</text>`);
      return;
    }
    const f = (v: number) => x(v).toFixed(1);
    parts.push(`<line x1="${f(s.min)}" y1="${cy}" x2="${f(s.max)}" y2="${cy}" stroke="#555"/>`);
    parts.push(
      `<rect x="${f(s.q1)}" y="${cy - 8}" width="${Math.max(1, x(s.q3) - x(s.q1)).toFixed(1)}" height="16" fill="#cfe0f3" stroke="#3a6ea5"/>`,
    );
    parts.push(
      `<line x1="${f(s.median)}" y1="${cy - 8}" x2="${f(s.median)}" y2="${cy + 8}" stroke="#123" stroke-width="2"/>`,
    );
    parts.push(`<circle cx="${f(s.mean)}" cy="${cy}" r="3" fill="none" stroke="#c33"/>`);
    s.values.forEach((v, k) =>
      parts.push(
        `<circle cx="${f(v)}" cy="${(cy + jitter(k) * 5).toFixed(1)}" r="1.8" fill="#3a6ea5" fill-opacity="0.55"/>`,
      ),
    );
    const note = s.missing ? ` (${s.missing} undefined)` : '';
    parts.push(
      `<title>${esc(`${r.label}: n ${s.n}${note}, mean ${formatValue(s.mean, 3)}, median ${formatValue(s.median, 3)}`)}</title>`,
    );
  });
  parts.push(
    `<text x="${width - 10}" y="${height - 8}" text-anchor="end" fill="#777" font-size="10">box: quartiles; bar: median; whiskers: min–max; red ring: mean; dots: examples</text>`,
  );
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
