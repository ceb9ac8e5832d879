// The Explain view's explanation: the sections of figures/explain-figure.ts, each painted under its heading — the
// token strip coloured by each method (methods as rows, the uniform baseline last, wrapped to the panel's width), the
// agreement matrix between methods (Kendall τ, Spearman ρ or top-k overlap, selectable), the faithfulness curves
// (comprehensiveness and sufficiency against k % of the candidate tokens, with AOPC) — and the head statistics as
// small multiples (explain-heads.ts). Every cell and point is a target element with its exact value (data-score,
// data-value...) and a tooltip; token texts reach the DOM only as text.
import type { ExplainResult } from '../../runtime/explain/result';
import { el, clear } from '../dom';
import { select, setOptions } from '../controls';
import type { ColorMapName } from '../../figures/colormap';
import { agreementFigure, faithfulnessFigure, headSweepFigure, stripFigure } from '../../figures/explain-figure';
import { headSweepGrid } from '../../figures/head-stats';
import {
  METRIC_LABELS,
  agreementMatrix,
  baselineAgreement,
  baselineAgreementText,
  type AgreementMetric,
} from '../../figures/explain-scales';
import { num } from '../../figures/labels';
import { SceneCanvas } from '../paint/scene-canvas';
import { panelTheme } from '../paint/panel-theme';
import { HeadStatsPanel } from './explain-heads';
import { wordLevelResult, type WordAggregation } from '../../runtime/explain/words';

export class ExplainResults {
  readonly root = el('div', { class: 'explain-results' });
  readonly metricSelect = select('agreement-metric', 'Agreement metric');
  /** Tokens, or words with each word's token scores summed or maxed (runtime/explain/words.ts). */
  readonly wordsSelect = select('explain-words', 'Tokens or words');
  words: 'tokens' | WordAggregation = 'tokens';
  private summary = el('div', { id: 'explain-summary', class: 'explain-summary' });
  /** The result's notes (runtime/explain/notes.ts): AOPC's definition, bins with one k, unbounded targets... */
  private notes = el('ul', { id: 'explain-notes', class: 'explain-notes' });
  private strip = new SceneCanvas('explain-strip-canvas', 'Importance per token, one row per method');
  private agreement = new SceneCanvas('agreement-canvas', 'Agreement between methods');
  private plot = new SceneCanvas(
    'faithfulness-canvas',
    'Comprehensiveness and sufficiency against k % of the candidate tokens',
  );
  /** Each method against the recency and random baselines, the random one with its 2.5–97.5 % range over seeds. */
  private baselines = el('ul', { id: 'agreement-baselines', class: 'explain-notes' });
  private agreementSection: HTMLElement;
  /** Which heads agree with the reference method (leave-one-out): Kendall τ per layer and head. */
  private sweep = new SceneCanvas('head-sweep-canvas', 'Kendall τ of each head’s attention with the reference method');
  private sweepTitle = el('h3', { text: '' });
  private sweepSection: HTMLElement;
  private faithSection: HTMLElement;
  private heads: HeadStatsPanel;
  private result: ExplainResult | undefined;
  metric: AgreementMetric = 'kendall';

  /** `openHead`: show a head in the Matrix view (a click on a head statistic's cell). */
  constructor(
    private readonly colorMap: () => ColorMapName,
    openHead: (layer: number, head: number) => void = () => undefined,
    /** The run's input text (token labels show the characters a partial piece covers). */
    private readonly sourceText: () => string | undefined = () => undefined,
  ) {
    this.heads = new HeadStatsPanel(colorMap, openHead);
    this.strip.root.id = 'explain-strip';
    this.agreement.root.id = 'agreement-table';
    this.plot.root.id = 'faithfulness-plot';
    setOptions(
      this.metricSelect,
      (Object.keys(METRIC_LABELS) as AgreementMetric[]).map((m) => ({ value: m, label: METRIC_LABELS[m] })),
      this.metric,
    );
    setOptions(
      this.wordsSelect,
      [
        { value: 'tokens', label: 'tokens' },
        { value: 'sum', label: 'words (sum of tokens)' },
        { value: 'max', label: 'words (max of tokens)' },
      ],
      this.words,
    );
    this.wordsSelect.addEventListener('change', () => {
      this.words = this.wordsSelect.value as 'tokens' | WordAggregation;
      this.draw();
    });
    this.metricSelect.addEventListener('change', () => {
      this.metric = this.metricSelect.value as AgreementMetric;
      this.drawAgreement();
    });
    this.agreementSection = el(
      'section',
      { class: 'explain-section' },
      el('h3', { text: 'Agreement between methods ' }, this.metricSelect),
      el('div', { class: 'explain-strip-scroll' }, this.agreement.root),
      el('div', {
        class: 'explain-note',
        text: 'Against rankings with no model in them: recency (later tokens first) and random orders (mean [2.5 %, 97.5 %] over 100 seeded orders).',
      }),
      this.baselines,
    );
    this.sweep.root.id = 'head-sweep';
    this.sweepSection = el(
      'section',
      { class: 'explain-section' },
      this.sweepTitle,
      el('div', { class: 'explain-strip-scroll' }, this.sweep.root),
    );
    this.faithSection = el(
      'section',
      { class: 'explain-section' },
      el('h3', { text: 'Faithfulness: re-running the model with the top k % of each ranking removed or kept' }),
      el('div', { class: 'explain-strip-scroll' }, this.plot.root),
    );
    this.root.append(
      this.summary,
      this.notes,
      el(
        'section',
        { class: 'explain-section' },
        el('h3', { text: 'Importance per ' }, this.wordsSelect),
        el('div', { class: 'explain-strip-scroll' }, this.strip.root),
        el('div', {
          class: 'explain-note',
          text: 'Each row is coloured relative to its own largest |score| over the candidate tokens (rows with negative scores: blue − / red +). Framed cells are not candidates (special tokens, the target position).',
        }),
      ),
      this.agreementSection,
      this.sweepSection,
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

  /** Redraws everything (a new result, the colour map, the theme or the panel's width changed). */
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
    const width = Math.max(360, (this.root.clientWidth || 960) - 16);
    const shown = this.words === 'tokens' ? r : wordLevelResult(r, this.words, this.sourceText());
    this.strip.root.dataset.words = this.words;
    this.strip.show(stripFigure(shown, this.colorMap(), width, panelTheme(), this.sourceText()));
    this.drawAgreement();
    this.sweepSection.hidden = !r.headSweep;
    if (r.headSweep) {
      this.sweepTitle.textContent = `Which heads agree with ${r.headSweep.reference}? (Kendall τ per layer and head; the legend marks recency)`;
      this.sweep.show(headSweepFigure(headSweepGrid(r.headSweep), this.colorMap(), panelTheme()));
    }
    this.faithSection.hidden = r.faithfulness.length === 0;
    if (r.faithfulness.length) this.plot.show(faithfulnessFigure(r, panelTheme()));
    this.heads.show(r);
  }

  private drawAgreement(): void {
    const r = this.result;
    if (!r) return;
    this.agreementSection.hidden = r.agreement.length === 0;
    this.agreement.show(agreementFigure(r, this.metric, panelTheme()));
    const note = this.metric === 'topK' ? ` k = ${agreementMatrix(r, this.metric).k}.` : '';
    this.agreement.root.dataset.metric = this.metric;
    this.agreement.root.title = `Over the candidate tokens; the baseline row is the mean over random orders (chance level).${note}`;
    clear(this.baselines);
    for (const b of baselineAgreement(r, this.metric)) {
      const label = r.methods.find((m) => m.id === b.id)?.label ?? b.id;
      const li = el('li', { class: 'explain-note', text: baselineAgreementText(b, label) });
      li.dataset.method = b.id;
      li.dataset.recency = String(b.recency);
      li.dataset.random = String(b.random);
      this.baselines.appendChild(li);
    }
    this.baselines.hidden = this.baselines.childElementCount === 0;
  }
}
