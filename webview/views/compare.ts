// The Explain view's compare mode: two attention maps of one layer — head a vs head b of this run, or one head on this
// input vs on a second input the user types — drawn side by side with one colour scale, and their difference b − a
// over the tokens both share (a diverging scale around 0), with the Jensen–Shannon divergence of their rows. The host
// computes the maps (it has the model for the second input); they arrive as float32 ArrayBuffers.
import type { CompareRequest, CompareResultMessage, ExplainProgress, TokenInfo } from '../../protocol/messages';
import { el } from '../dom';
import { button, select, setOptions } from '../controls';
import { compareSummary, comparePanels, type CompareData } from '../../figures/compare-figure';
import { formatSig, formatValue } from '../../figures/labels';
import { pieceLabel } from '../../figures/token-display';
import { SceneCanvas } from '../paint/scene-canvas';
import { panelTheme } from '../paint/panel-theme';
import type { Store } from '../store';
import { textarea } from './explain-controls';

type Head = number | 'mean' | 'max';

/** A comparison as the view keeps it (buffers as typed arrays). */
interface Shown {
  message: Omit<CompareResultMessage, 'type'>;
  a: Float32Array;
  b: Float32Array;
  alignA: Int32Array;
  alignB: Int32Array;
  diff: Float32Array;
  rowJsd: Float32Array;
}

export class ComparePanel {
  readonly kind = select('compare-kind', 'What to compare');
  readonly layer = select('compare-layer', 'Layer');
  readonly headA = select('compare-head-a', 'Head a');
  readonly headB = select('compare-head-b', 'Head b');
  readonly text = textarea('compare-text', 'Second input', 'A second input, e.g. the sentence with one word changed');
  readonly run = button('compare-run', 'Compare');
  readonly cancel = button('compare-cancel', 'Cancel', { secondary: true });
  readonly status = el('span', { id: 'compare-status', class: 'explain-status', attrs: { role: 'status' } });
  readonly error = el('div', { id: 'compare-error', class: 'explain-error', attrs: { role: 'alert' } });
  private headBField = el('label', { class: 'explain-field', text: 'Head b ' }, this.headB);
  private headALabel = el('span', { text: 'Head a ' });
  private textField = el('label', { class: 'explain-field explain-reference', text: 'Second input ' }, this.text);
  private jsd = el('div', { id: 'compare-jsd', class: 'compare-summary' });
  private readout = el('div', { id: 'compare-readout', class: 'compare-readout', text: ' ' });
  private panels: SceneCanvas[];
  private results = el('div', { class: 'compare-results' });
  private shown: Shown | undefined;
  private dirty = false;
  readonly root = el('div', { class: 'compare-pane' });

  constructor(
    private readonly store: Store,
    private readonly onCompare: () => void,
    private readonly onCancel: () => void,
  ) {
    setOptions(
      this.kind,
      [
        { value: 'heads', label: 'Head vs head (this input)' },
        { value: 'inputs', label: 'This input vs a second input (one head)' },
      ],
      'heads',
    );
    this.kind.addEventListener('change', () => this.showFields());
    this.run.addEventListener('click', () => this.onCompare());
    this.cancel.addEventListener('click', () => this.onCancel());
    this.cancel.hidden = true;
    this.panels = ['compare-a', 'compare-b', 'compare-diff'].map((id) => new SceneCanvas(id));
    for (const p of this.panels) {
      this.results.appendChild(el('figure', { class: 'compare-figure' }, p.root));
      p.canvas.addEventListener('mousemove', (e) => this.hover(p, e));
      p.canvas.addEventListener('mouseleave', () => {
        this.readout.textContent = ' ';
        p.outline(null);
      });
    }
    const headAField = el('label', { class: 'explain-field' }, this.headALabel, this.headA);
    this.root.append(
      el(
        'div',
        { class: 'explain-target-row' },
        el('label', { class: 'explain-field', text: 'Compare ' }, this.kind),
        el('label', { class: 'explain-field', text: 'Layer ' }, this.layer),
        headAField,
        this.headBField,
        this.textField,
      ),
      el('div', { class: 'explain-actions' }, this.run, this.cancel, this.status),
      this.error,
      this.jsd,
      this.results,
      this.readout,
    );
    this.error.hidden = true;
    this.results.hidden = true;
    this.showFields();
  }

  get mode(): 'heads' | 'inputs' {
    return this.kind.value === 'inputs' ? 'inputs' : 'heads';
  }

  private showFields(): void {
    const inputs = this.mode === 'inputs';
    this.headBField.hidden = inputs;
    this.textField.hidden = !inputs;
    this.headALabel.textContent = inputs ? 'Head ' : 'Head a ';
  }

  /** A new run: its layers and heads; clears the last comparison. */
  reset(): void {
    const facts = this.store.facts;
    this.shown = undefined;
    this.results.hidden = true;
    this.jsd.textContent = '';
    delete this.jsd.dataset.value;
    this.setError('');
    this.setBusy(false, '');
    if (!facts) return;
    const layers = Array.from({ length: facts.layers }, (_, l) => ({ value: String(l), label: `${l}` }));
    const heads = [
      ...Array.from({ length: facts.heads }, (_, h) => ({ value: String(h), label: `head ${h}` })),
      { value: 'mean', label: 'mean of heads' },
      { value: 'max', label: 'max of heads' },
    ];
    setOptions(this.layer, layers, String(Math.min(this.store.layer, facts.layers - 1)));
    setOptions(this.headA, heads, '0');
    setOptions(this.headB, heads, String(Math.min(1, facts.heads - 1)));
  }

  /** The request to send, or what the user must fix first. */
  request(runId: number): CompareRequest | { error: string } {
    const parseHead = (v: string): Head => (v === 'mean' || v === 'max' ? v : Number(v));
    const layer = Number(this.layer.value);
    if (!Number.isInteger(layer)) return { error: 'Choose a layer.' };
    const a = parseHead(this.headA.value);
    if (this.mode === 'inputs') {
      if (this.text.value.trim() === '') return { error: 'Type a second input to compare this one with.' };
      return { runId, mode: 'inputs', layer, a, b: a, text: this.text.value };
    }
    return { runId, mode: 'heads', layer, a, b: parseHead(this.headB.value) };
  }

  setBusy(busy: boolean, text: string): void {
    this.run.disabled = busy;
    this.cancel.hidden = !busy;
    this.status.textContent = text;
  }

  setError(message: string): void {
    this.error.textContent = message;
    this.error.hidden = message === '';
  }

  progress(m: ExplainProgress): void {
    this.setBusy(true, m.text);
  }

  show(m: Omit<CompareResultMessage, 'type'>): void {
    this.shown = {
      message: m,
      a: new Float32Array(m.a.data),
      b: new Float32Array(m.b.data),
      alignA: new Int32Array(m.alignA),
      alignB: new Int32Array(m.alignB),
      diff: new Float32Array(m.diff),
      rowJsd: new Float32Array(m.rowJsd),
    };
    this.setBusy(
      false,
      m.truncatedFrom !== undefined ? `The second input was cut to ${m.b.tokens.length} tokens.` : '',
    );
    this.setError('');
    const jsd = m.jsd ?? NaN;
    this.jsd.textContent = compareSummary({
      jsd,
      tvd: m.tvd ?? NaN,
      rowJsd: this.shown.rowJsd,
      alignA: this.shown.alignA,
      a: m.a,
      b: m.b,
    });
    this.jsd.dataset.value = String(jsd);
    this.results.hidden = false;
    this.dirty = true;
  }

  get current(): Omit<CompareResultMessage, 'type'> | undefined {
    return this.shown?.message;
  }

  restyle(): void {
    this.dirty = true;
  }

  draw(): void {
    const s = this.shown;
    if (!this.dirty || !s) return;
    this.dirty = false;
    const theme = panelTheme();
    // Three panels side by side: about a third of the width each, less the labels.
    const panel = Math.max(160, ((this.root.clientWidth || 900) - 60) / 3 - 90);
    const p = comparePanels(this.data(s), this.store.colorMap, { panel, minCell: 2, maxCell: 24 }, theme);
    [p.a, p.b, p.diff].forEach((scene, i) => {
      this.panels[i].setOutlineColor(theme.focus);
      this.panels[i].show(scene);
    });
  }

  /** The comparison as the figure takes it. */
  private data(s: Shown): CompareData {
    const m = s.message;
    return {
      modelName: '',
      mode: m.mode,
      layer: m.layer,
      a: { label: m.a.label, tokens: m.a.tokens, causal: m.a.causal, data: s.a },
      b: { label: m.b.label, tokens: m.b.tokens, causal: m.b.causal, data: s.b },
      alignA: s.alignA,
      alignB: s.alignB,
      diff: s.diff,
      rowJsd: s.rowJsd,
      jsd: m.jsd ?? NaN,
      tvd: m.tvd ?? NaN,
    };
  }

  /** The cell under the mouse: its tokens and the values of a, b and b − a there. */
  private hover(p: SceneCanvas, e: MouseEvent): void {
    const s = this.shown;
    if (!s) return;
    const c = p.hit(e);
    if (!c) return p.outline(null);
    p.outline({ region: c.region.id, row: c.row, col: c.col });
    const m = s.message;
    const na = m.a.tokens.length;
    const nb = m.b.tokens.length;
    const tok = (tokens: TokenInfo[], i: number) => (tokens[i] ? pieceLabel(tokens[i].text) : `#${i}`);
    let text: string;
    if (p === this.panels[0])
      text = `a: ${tok(m.a.tokens, c.row)} → ${tok(m.a.tokens, c.col)} = ${formatSig(s.a[c.row * na + c.col])}`;
    else if (p === this.panels[1])
      text = `b: ${tok(m.b.tokens, c.row)} → ${tok(m.b.tokens, c.col)} = ${formatSig(s.b[c.row * nb + c.col])}`;
    else {
      const k = s.alignA.length;
      text =
        `${tok(m.a.tokens, s.alignA[c.row])} → ${tok(m.a.tokens, s.alignA[c.col])}: b − a = ` +
        `${formatValue(s.diff[c.row * k + c.col], 4)}; row JSD ${formatValue(s.rowJsd[c.row], 4)} bits`;
    }
    this.readout.textContent = text;
  }
}
