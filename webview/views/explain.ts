// The Explain view: does what the model attends to explain what it outputs? Two modes.
//   Explain  choose a target that fits the model and the methods, press Explain: the host runs runtime/explain on the
//            run's tokens (explain-results.ts draws the token strip per method, the agreement matrix, the
//            faithfulness curves and the head statistics; a click on a head there opens it in the Matrix view).
//   Compare  two attention maps of one layer and their difference, with JSD (compare.ts).
// Each is a request to the host (its progress streamed, then the result); a newer request of a mode cancels the older
// one, whose answer is then ignored. After a reload the host sends the last results again. Export… asks the host to
// save what the mode shows (PNG/SVG of the same figures, or JSON).
import type {
  AgreementMetric,
  CompareResultMessage,
  ExplainProgress,
  ExplainRequestKind,
  ExplainResultMessage,
} from '../../protocol/messages';
import type { ExplainResult } from '../../runtime/explain/result';
import { isLensError } from '../../runtime/errors';
import { el } from '../dom';
import { button } from '../controls';
import { num } from '../../figures/labels';
import type { View, ViewContext } from './context';
import { ComparePanel } from './compare';
import { ExplainControls } from './explain-controls';
import { ExplainResults } from './explain-results';

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
  /** The request in flight of each mode. */
  private pending: Partial<Record<ExplainRequestKind, AbortController>> = {};
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
      () => ctx.store.source?.text,
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

  /** Explains a given target (the panel's "Why this token?" on a generated token: generated:N) with the ticked
   * methods. */
  explainTarget(target: string): void {
    this.requestExplain(target);
  }

  private requestExplain(target?: string): void {
    const runId = this.ctx.store.runId;
    if (runId === undefined) return this.setError('Run Show Attention on some text first.');
    const chosen = this.controls.request();
    const methods = this.controls.chosenMethods();
    const r =
      target === undefined ? chosen : methods.length ? { target, methods } : { error: 'Choose at least one method.' };
    if ('error' in r) return this.setError(r.error);
    this.setError('');
    const request = this.begin('explain');
    this.setBusy(true, 'Asking the host…');
    this.ctx
      .request(
        'explain',
        { runId, target: r.target, methods: r.methods },
        { signal: request.signal, onEvent: (p) => this.pending.explain === request && this.progress('explain', p) },
      )
      .then(
        (answer) => this.end('explain', request) && this.explained(answer.result),
        (e: unknown) => this.end('explain', request) && this.failed('explain', e),
      );
  }

  private requestCompare(): void {
    const runId = this.ctx.store.runId;
    if (runId === undefined) return this.compare.setError('Run Show Attention on some text first.');
    const m = this.compare.request(runId);
    if ('error' in m) return this.compare.setError(m.error);
    this.compare.setError('');
    const request = this.begin('compare');
    this.compare.setBusy(true, 'Asking the host…');
    this.ctx
      .request('compare', m, {
        signal: request.signal,
        onEvent: (p) => this.pending.compare === request && this.progress('compare', p),
      })
      .then(
        (answer) => this.end('compare', request) && this.compared(answer),
        (e: unknown) => this.end('compare', request) && this.failed('compare', e),
      );
  }

  /** A new request of `kind`: the one in flight, if any, is cancelled. */
  private begin(kind: ExplainRequestKind): AbortController {
    this.pending[kind]?.abort();
    const request = new AbortController();
    this.pending[kind] = request;
    return request;
  }

  /** True when `request` is still the one of `kind` this view waits for (it then no longer is). */
  private end(kind: ExplainRequestKind, request: AbortController): boolean {
    if (this.pending[kind] !== request) return false;
    delete this.pending[kind];
    return true;
  }

  private cancel(kind: ExplainRequestKind): void {
    this.pending[kind]?.abort();
  }

  private export(): void {
    const runId = this.ctx.store.runId;
    if (runId === undefined) return;
    this.ctx.post({ type: 'exportExplain', runId, what: this.mode, metric: this.results.metric });
  }

  private progress(kind: ExplainRequestKind, m: ExplainProgress): void {
    const steps = m.total !== undefined ? ` (${(m.done ?? 0) + 1}/${m.total})` : '';
    if (kind === 'explain') this.setBusy(true, `${m.text}${steps && !m.text.includes(' of ') ? steps : ''}`);
    else this.compare.progress(m);
  }

  private explained(result: ExplainResult): void {
    this.setBusy(false, `Done in ${Math.round(num(result.timings.totalMs))} ms.`);
    this.setError('');
    this.results.show(result);
    this.updateExport();
    this.ctx.invalidate();
  }

  private failed(kind: ExplainRequestKind, e: unknown): void {
    const cancelled = isLensError(e) && e.code === 'CANCELLED';
    const message = e instanceof Error ? e.message : String(e);
    if (kind === 'explain') {
      this.setBusy(false, cancelled ? 'Cancelled.' : '');
      this.setError(cancelled ? '' : message);
    } else {
      this.compare.setBusy(false, cancelled ? 'Cancelled.' : '');
      this.compare.setError(cancelled ? '' : message);
    }
  }

  private compared(m: Omit<CompareResultMessage, 'type'>): void {
    this.compare.show(m);
    this.updateExport();
    this.ctx.invalidate();
  }

  /** A result the host sent again after a reload: shown unless a request of its mode is in flight. */
  replayed(m: ExplainResultMessage | CompareResultMessage): void {
    if (m.runId !== this.ctx.store.runId) return;
    if (m.type === 'explainResult') {
      if (!this.pending.explain) this.explained(m.result);
    } else if (!this.pending.compare) this.compared(m);
  }

  runStarted(): void {
    const { store } = this.ctx;
    for (const request of Object.values(this.pending)) request?.abort();
    this.pending = {};
    this.results.clear();
    this.setError('');
    this.setBusy(false, '');
    if (store.facts) this.controls.reset(store.facts, store.tokens);
    this.layerArrived();
    this.compare.reset();
    this.updateExport();
    this.dirty = true;
  }

  layerArrived(): void {
    // Encoder–decoders: the translation arrives before the decoder layers; its tokens are the target positions.
    const target = this.ctx.store.target;
    if (target) this.controls.setTargetTokens(target.tokens);
  }

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
