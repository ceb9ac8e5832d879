// The Explain view's explanation: the token strip coloured by each method (methods as rows, the uniform baseline
// last), the agreement matrix between methods (Kendall τ, Spearman ρ or top-k overlap, selectable), and the
// faithfulness curves (comprehensiveness and sufficiency against k % of the candidate tokens, with AOPC) as SVG, and
// the head statistics as small multiples (explain-heads.ts).
// Token texts only reach the DOM through textContent; colours are set through the CSSOM (the panel's CSP allows no
// inline style attributes). Exposes data-* values for tests (data-score, data-value, polyline points).
import type { ExplainResult } from '../../runtime/explain/result';
import { el, clear } from '../dom';
import { select, setOptions } from '../controls';
import { colorLut, diverging, type ColorMapName } from '../render/colormap';
import {
  METRIC_LABELS,
  agreementMatrix,
  curvePlot,
  faithfulnessSeries,
  formatValue,
  inkOn,
  methodColor,
  num,
  scoreColor,
  scoreScale,
  type AgreementMetric,
  type CurveKind,
} from '../render/explain-data';
import type { Rgb } from '../render/raster';
import { HeadStatsPanel } from './explain-heads';

const SVG = 'http://www.w3.org/2000/svg';
const css = (c: Rgb) => `rgb(${c[0]}, ${c[1]}, ${c[2]})`;

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

const PLOT_W = 300;
const PLOT_H = 170;

export class ExplainResults {
  readonly root = el('div', { class: 'explain-results' });
  readonly metricSelect = select('agreement-metric', 'Agreement metric');
  private summary = el('div', { id: 'explain-summary', class: 'explain-summary' });
  /** The result's notes (runtime/explain/notes.ts): AOPC's definition, bins with one k, unbounded targets... */
  private notes = el('ul', { id: 'explain-notes', class: 'explain-notes' });
  private strip = el('table', { id: 'explain-strip', class: 'explain-strip' });
  private agreement = el('table', { id: 'agreement-table', class: 'agreement-table' });
  private plot = svg('svg', { id: 'faithfulness-plot', class: 'faithfulness-plot', role: 'img' });
  private legend = el('div', { id: 'faithfulness-legend', class: 'faithfulness-legend' });
  private agreementSection: HTMLElement;
  private faithSection: HTMLElement;
  private heads: HeadStatsPanel;
  private result: ExplainResult | undefined;
  metric: AgreementMetric = 'kendall';

  /** `openHead`: show a head in the Matrix view (a click on a head statistic's cell). */
  constructor(
    private readonly colorMap: () => ColorMapName,
    openHead: (layer: number, head: number) => void = () => undefined,
  ) {
    this.heads = new HeadStatsPanel(colorMap, openHead);
    setOptions(
      this.metricSelect,
      (Object.keys(METRIC_LABELS) as AgreementMetric[]).map((m) => ({ value: m, label: METRIC_LABELS[m] })),
      this.metric,
    );
    this.metricSelect.addEventListener('change', () => {
      this.metric = this.metricSelect.value as AgreementMetric;
      this.drawAgreement();
    });
    this.agreementSection = el(
      'section',
      { class: 'explain-section' },
      el('h3', { text: 'Agreement between methods ' }, this.metricSelect),
      el('div', { class: 'explain-strip-scroll' }, this.agreement),
    );
    this.faithSection = el(
      'section',
      { class: 'explain-section' },
      el('h3', { text: 'Faithfulness: re-running the model with the top k % of each ranking removed or kept' }),
      this.plot,
      this.legend,
    );
    this.root.append(
      this.summary,
      this.notes,
      el(
        'section',
        { class: 'explain-section' },
        el('h3', { text: 'Importance per token' }),
        el('div', { class: 'explain-strip-scroll' }, this.strip),
        el('div', {
          class: 'explain-note',
          text: 'Each row is coloured relative to its own largest |score| over the candidate tokens (rows with negative scores: blue − / red +). Dashed cells are not candidates (special tokens, the target position).',
        }),
      ),
      this.agreementSection,
      this.faithSection,
      this.heads.root,
    );
    this.root.hidden = true;
  }

  get current(): ExplainResult | undefined {
    return this.result;
  }

  clear(): void {
    this.result = undefined;
    this.heads.clear();
    this.root.hidden = true;
  }

  show(result: ExplainResult): void {
    this.result = result;
    this.root.hidden = false;
    this.heads.clear();
    this.draw();
  }

  /** Redraws everything (a new result, the colour map or the theme changed). */
  draw(): void {
    const r = this.result;
    if (!r) return;
    const value = num(r.target.value);
    this.summary.textContent =
      `${r.target.label} = ${Number.isFinite(value) ? value.toPrecision(4) : '—'} · ${r.tokens.length} tokens, ` +
      `${r.candidates.filter(Boolean).length} candidates · ${r.timings.rows} perturbed rows in ${r.timings.batches} ` +
      `batches · ${Math.round(num(r.timings.totalMs))} ms`;
    clear(this.notes);
    for (const n of r.notes ?? []) this.notes.appendChild(el('li', { class: 'explain-note', text: n }));
    this.notes.hidden = this.notes.childElementCount === 0;
    this.drawStrip(r);
    this.drawAgreement();
    this.drawFaithfulness(r);
    this.heads.show(r);
  }

  private drawStrip(r: ExplainResult): void {
    clear(this.strip);
    const lut = colorLut(this.colorMap());
    const body = el('tbody');
    r.methods.forEach((m, index) => {
      const tr = el('tr', { attrs: { 'data-method': m.id } });
      const th = el('th', { text: m.label, attrs: { scope: 'row' } });
      th.style.borderLeftColor = css(methodColor(m.id, index));
      tr.appendChild(th);
      if (m.scores.length === 0) {
        tr.appendChild(
          el('td', {
            class: 'strip-error',
            text: `no scores: ${m.error ?? 'the method failed'}`,
            attrs: { colspan: String(r.tokens.length) },
          }),
        );
      } else {
        const scores = m.scores.map(num);
        const scale = scoreScale(scores, r.candidates);
        r.tokens.forEach((t, i) => {
          const fill = scoreColor(scores[i], scale, lut);
          const td = el('td', {
            class: r.candidates[i] ? 'strip-token' : 'strip-token not-candidate',
            text: t.text,
            title: `${i}: ${t.text}\n${m.label}: ${Number.isFinite(scores[i]) ? scores[i] : '—'}${r.candidates[i] ? '' : '\n(not a candidate)'}`,
            attrs: { 'data-index': String(i), 'data-score': String(scores[i]) },
          });
          td.style.backgroundColor = css(fill);
          td.style.color = css(inkOn(fill));
          tr.appendChild(td);
        });
      }
      tr.appendChild(el('td', { class: 'strip-ms', text: `${Math.round(num(m.ms))} ms` }));
      body.appendChild(tr);
    });
    this.strip.appendChild(body);
  }

  private drawAgreement(): void {
    const r = this.result;
    clear(this.agreement);
    if (!r) return;
    this.agreementSection.hidden = r.agreement.length === 0;
    const a = agreementMatrix(r, this.metric);
    const head = el('tr', {}, el('th'));
    a.labels.forEach((l) => head.appendChild(el('th', { text: l, attrs: { scope: 'col' } })));
    const body = el('tbody');
    a.values.forEach((row, i) => {
      const tr = el(
        'tr',
        { attrs: { 'data-method': a.ids[i] } },
        el('th', { text: a.labels[i], attrs: { scope: 'row' } }),
      );
      row.forEach((v, j) => {
        const td = el('td', {
          class: 'agree-cell',
          text: formatValue(v),
          title: `${a.labels[i]} vs ${a.labels[j]}: ${METRIC_LABELS[this.metric]} ${Number.isFinite(v) ? v : 'undefined (constant scores)'}`,
          attrs: { 'data-value': String(v), 'data-a': a.ids[i], 'data-b': a.ids[j] },
        });
        if (Number.isFinite(v)) {
          // The diverging scale over [−1, 1], as export-explain.ts draws it.
          const fill = diverging(v);
          td.style.backgroundColor = css(fill);
          td.style.color = css(inkOn(fill));
        }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    this.agreement.append(el('thead', {}, head), body);
    const note = this.metric === 'topK' ? ` k = ${a.k}.` : '';
    this.agreement.dataset.metric = this.metric;
    this.agreement.title = `Over the candidate tokens; the baseline row is the mean over random orders (chance level).${note}`;
  }

  private drawFaithfulness(r: ExplainResult): void {
    clear(this.plot);
    clear(this.legend);
    this.faithSection.hidden = r.faithfulness.length === 0;
    if (!r.faithfulness.length) return;
    const left = 44;
    const top = 24;
    const gap = 70;
    const width = left + 2 * PLOT_W + gap + 10;
    const height = top + PLOT_H + 40;
    this.plot.setAttribute('viewBox', `0 0 ${width} ${height}`);
    this.plot.setAttribute('width', String(width));
    this.plot.setAttribute('height', String(height));
    this.plot.setAttribute('aria-label', 'Comprehensiveness and sufficiency against k % of the candidate tokens');
    const kinds: CurveKind[] = ['comprehensiveness', 'sufficiency'];
    kinds.forEach((kind, n) => {
      const box = { x: left + n * (PLOT_W + gap), y: top, width: PLOT_W, height: PLOT_H };
      const p = curvePlot(faithfulnessSeries(r, kind), box);
      const g = svg('g', { class: `plot plot-${kind}`, 'data-kind': kind });
      g.appendChild(
        svg(
          'text',
          { x: box.x, y: box.y - 8, class: 'plot-title' },
          kind === 'comprehensiveness'
            ? 'Comprehensiveness (higher: more faithful)'
            : 'Sufficiency (lower: more faithful)',
        ),
      );
      for (const t of p.yTicks) {
        g.appendChild(
          svg('line', { x1: box.x, x2: box.x + box.width, y1: t.y, y2: t.y, class: t.value === 0 ? 'zero' : 'grid' }),
        );
        g.appendChild(svg('text', { x: box.x - 5, y: t.y + 3, class: 'tick', 'text-anchor': 'end' }, t.label));
      }
      for (const x of p.xs)
        g.appendChild(
          svg('text', { x: x.x, y: box.y + box.height + 14, class: 'tick', 'text-anchor': 'middle' }, x.label),
        );
      g.appendChild(
        svg(
          'text',
          { x: box.x + box.width / 2, y: box.y + box.height + 30, class: 'axis-label', 'text-anchor': 'middle' },
          'k: % of the candidate tokens',
        ),
      );
      g.appendChild(svg('rect', { x: box.x, y: box.y, width: box.width, height: box.height, class: 'frame' }));
      for (const l of p.lines) {
        const color = css(l.color);
        const points = l.points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
        g.appendChild(
          svg('polyline', { points, class: 'curve', stroke: color, 'data-method': l.id, 'data-aopc': String(l.aopc) }),
        );
        for (const [x, y] of l.points) g.appendChild(svg('circle', { cx: x, cy: y, r: 2.5, fill: color }));
      }
      this.plot.appendChild(g);
    });
    const comp = faithfulnessSeries(r, 'comprehensiveness');
    const suff = faithfulnessSeries(r, 'sufficiency');
    comp.forEach((s, i) => {
      const swatch = el('span', { class: 'swatch' });
      swatch.style.backgroundColor = css(s.color);
      this.legend.appendChild(
        el(
          'div',
          { class: 'legend-row', attrs: { 'data-method': s.id } },
          swatch,
          el('span', {
            text: `${s.label}: AOPC (ERASER) comprehensiveness ${formatValue(s.aopc, 3)}, sufficiency ${formatValue(suff[i]?.aopc ?? NaN, 3)}`,
          }),
        ),
      );
    });
  }
}
