// The Explain view: does what the model attends to explain what it outputs? Two modes.
//   Explain  choose a target that fits the model and the methods, press Explain: the host runs runtime/explain on the
//            run's tokens (explain-results.ts draws the token strip per method, the agreement matrix, the
//            faithfulness curves and the head statistics; a click on a head there opens it in the Matrix view).
//   Compare  two attention maps of one layer and their difference, with JSD (compare.ts).
// Requests carry a requestId; answers to any other request (an older one, another run) are ignored. Export… asks the
// host to save what the mode shows (PNG/SVG of the same figures, or JSON).
import type {
  AgreementMetric,
  CompareResultMessage,
  ExplainErrorMessage,
  ExplainProgressMessage,
  ExplainRequestKind,
  ExplainResultMessage,
} from '../../protocol/messages';
import type { ExplainResult } from '../../runtime/explain/result';
import { el } from '../dom';
import { button } from '../controls';
import { num } from '../../figures/labels';
import type { View, ViewContext } from './context';
import { ComparePanel } from './compare';
import { ExplainControls } from './explain-controls';
import { ExplainResults } from './explain-results';

/** Request ids start from the clock, so that a reloaded webview never reuses the id of a result the host replays. */
let nextRequestId = Date.now() % 1_000_000_000;

export class ExplainView implements View {
  readonly root = el('div', { class: 'view explain-view', attrs: { role: 'tabpanel', 'aria-label': 'Explain' } });
  private mode: ExplainRequestKind = 'explain';
  private modeButtons = new Map<ExplainRequestKind, HTMLButtonElement>();
  private controls = new ExplainControls(() => this.setError(''));
  private results: ExplainResults;
  private compare: ComparePanel;
  private explainPane = el('div', { class: 'explain-pane' });
  private runButton = button('explain-run', 'Explain');
  private cancelButton = button('explain-cancel', 'Cancel', { secondary: true });
  private exportButton = button('explain-export', 'Export…', {
    secondary: true,
    title: 'Export the explanation or the comparison as PNG, SVG or JSON',
  });
  private status = el('span', { id: 'explain-status', class: 'explain-status', attrs: { role: 'status' } });
  private error = el('div', { id: 'explain-error', class: 'explain-error', attrs: { role: 'alert' } });
  private pending: Partial<Record<ExplainRequestKind, number>> = {};
  private dirty = true;
  private constructed = false;

  /** `shownChanged`: the mode or the agreement metric changed (main.ts tells the host, for the palette's Export…). */
  constructor(
    private readonly ctx: ViewContext,
    private readonly shownChanged: () => void = () => undefined,
  ) {
    this.results = new ExplainResults(
      () => ctx.store.colorMap,
      (layer, head) => {
        ctx.select(layer, head);
        ctx.show('matrix');
      },
    );
    this.results.metricSelect.addEventListener('change', () => this.shownChanged());
    this.compare = new ComparePanel(
      ctx.store,
      () => this.requestCompare(),
      () => this.cancel('compare'),
    );
    const modes = el('div', { class: 'explain-modes', attrs: { role: 'tablist', 'aria-label': 'Explain mode' } });
    for (const [mode, label] of [
      ['explain', 'Explain a target'],
      ['compare', 'Compare heads or inputs'],
    ] as const) {
      const b = el('button', {
        class: 'tab explain-mode',
        text: label,
        attrs: { type: 'button', role: 'tab', 'data-explain-mode': mode },
      });
      b.addEventListener('click', () => this.setMode(mode));
      this.modeButtons.set(mode, b);
      modes.appendChild(b);
    }
    this.runButton.addEventListener('click', () => this.requestExplain());
    this.cancelButton.addEventListener('click', () => this.cancel('explain'));
    this.cancelButton.hidden = true;
    this.exportButton.addEventListener('click', () => this.export());
    this.error.hidden = true;
    this.explainPane.append(
      this.controls.root,
      el('div', { class: 'explain-actions' }, this.runButton, this.cancelButton, this.status),
      this.error,
      this.results.root,
    );
    this.root.append(
      el('div', { class: 'explain-header' }, modes, this.exportButton),
      this.explainPane,
      this.compare.root,
    );
    this.setMode('explain');
    this.constructed = true;
  }

  private setMode(mode: ExplainRequestKind): void {
    this.mode = mode;
    this.explainPane.hidden = mode !== 'explain';
    this.compare.root.hidden = mode !== 'compare';
    for (const [m, b] of this.modeButtons) {
      b.classList.toggle('active', m === mode);
      b.setAttribute('aria-selected', String(m === mode));
    }
    this.updateExport();
    this.dirty = true;
    this.ctx.invalidate();
    if (this.constructed) this.shownChanged();
  }

  /** The mode shown and the agreement metric (what the view's Export… would save). */
  get shown(): { mode: ExplainRequestKind; metric: AgreementMetric } {
    return { mode: this.mode, metric: this.results.metric };
  }

  private updateExport(): void {
    this.exportButton.disabled = this.mode === 'explain' ? !this.results.current : !this.compare.current;
  }

  private setError(message: string): void {
    this.error.textContent = message;
    this.error.hidden = message === '';
  }

  private setBusy(busy: boolean, text: string): void {
    this.runButton.disabled = busy;
    this.cancelButton.hidden = !busy;
    this.status.textContent = text;
  }

  private requestExplain(): void {
    const runId = this.ctx.store.runId;
    if (runId === undefined) return this.setError('Run Show Attention on some text first.');
    const r = this.controls.request();
    if ('error' in r) return this.setError(r.error);
    this.setError('');
    const requestId = nextRequestId++;
    this.pending.explain = requestId;
    this.setBusy(true, 'Asking the host…');
    this.ctx.post({ type: 'explain', runId, requestId, target: r.target, methods: r.methods });
  }

  private requestCompare(): void {
    const runId = this.ctx.store.runId;
    if (runId === undefined) return this.compare.setError('Run Show Attention on some text first.');
    const requestId = nextRequestId;
    const m = this.compare.request(runId, requestId);
    if ('error' in m) return this.compare.setError(m.error);
    nextRequestId++;
    this.compare.setError('');
    this.pending.compare = requestId;
    this.compare.setBusy(true, 'Asking the host…');
    this.ctx.post(m);
  }

  private cancel(kind: ExplainRequestKind): void {
    const requestId = this.pending[kind];
    const runId = this.ctx.store.runId;
    if (requestId === undefined || runId === undefined) return;
    this.ctx.post({ type: 'cancelExplain', runId, requestId });
  }

  private export(): void {
    const runId = this.ctx.store.runId;
    if (runId === undefined) return;
    this.ctx.post({ type: 'exportExplain', runId, what: this.mode, metric: this.results.metric });
  }

  /** True for an answer this view waits for (or, with nothing pending, a result the host replays). */
  private wanted(kind: ExplainRequestKind, runId: number, requestId: number, final: boolean): boolean {
    if (runId !== this.ctx.store.runId) return false;
    const pending = this.pending[kind];
    return pending === undefined ? final : pending === requestId;
  }

  progress(m: ExplainProgressMessage): void {
    if (!this.wanted(m.kind, m.runId, m.requestId, false)) return;
    const steps = m.total !== undefined ? ` (${(m.done ?? 0) + 1}/${m.total})` : '';
    if (m.kind === 'explain') this.setBusy(true, `${m.text}${steps && !m.text.includes(' of ') ? steps : ''}`);
    else this.compare.progress(m);
  }

  explained(m: ExplainResultMessage): void {
    if (!this.wanted('explain', m.runId, m.requestId, true)) return;
    delete this.pending.explain;
    const result = m.result as ExplainResult;
    this.setBusy(false, `Done in ${Math.round(num(result.timings.totalMs))} ms.`);
    this.setError('');
    this.results.show(result);
    this.updateExport();
  }

  failed(m: ExplainErrorMessage): void {
    if (!this.wanted(m.kind, m.runId, m.requestId, false)) return;
    delete this.pending[m.kind];
    if (m.kind === 'explain') {
      this.setBusy(false, m.cancelled ? 'Cancelled.' : '');
      this.setError(m.cancelled ? '' : m.message);
    } else {
      this.compare.setBusy(false, m.cancelled ? 'Cancelled.' : '');
      this.compare.setError(m.cancelled ? '' : m.message);
    }
  }

  compared(m: CompareResultMessage): void {
    if (!this.wanted('compare', m.runId, m.requestId, true)) return;
    delete this.pending.compare;
    this.compare.show(m);
    this.updateExport();
    this.ctx.invalidate();
  }

  runStarted(): void {
    const { store } = this.ctx;
    this.pending = {};
    this.results.clear();
    this.setError('');
    this.setBusy(false, '');
    if (store.facts) this.controls.reset(store.facts, store.tokens);
    this.compare.reset();
    this.updateExport();
    this.dirty = true;
  }

  layerArrived(): void {}

  selectionChanged(): void {}

  restyle(): void {
    this.dirty = true;
    this.compare.restyle();
  }

  draw(): void {
    if (this.dirty) {
      this.dirty = false;
      if (this.mode === 'explain') this.results.draw();
    }
    if (this.mode === 'compare') this.compare.draw();
  }
}
