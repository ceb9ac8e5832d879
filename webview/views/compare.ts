// The Explain view's compare mode: two attention maps of one layer — head a vs head b of this run, or one head on this
// input vs on a second input the user types — drawn side by side with one colour scale, and their difference b − a
// over the tokens both share (a diverging scale around 0), with the Jensen–Shannon divergence of their rows. The host
// computes the maps (it has the model for the second input); they arrive as float32 ArrayBuffers.
import type { CompareRequest, CompareResultMessage, ExplainProgress, TokenInfo } from '../../protocol/messages';
import { el, cssToRgba, themeColor } from '../dom';
import { button, select, setOptions } from '../controls';
import { cellAt, matrixCellSize } from '../layout';
import { colorLut } from '../render/colormap';
import { maxValue, rasterize } from '../render/heatmap';
import { divergingPixels, formatValue, maxAbs } from '../render/explain-data';
import { compareSummary } from '../render/export-compare';
import type { Store } from '../store';
import { textarea } from './explain-controls';

type Head = number | 'mean' | 'max';

interface Panel {
  title: HTMLElement;
  canvas: HTMLCanvasElement;
  raster: HTMLCanvasElement;
}

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
  private panels: Panel[];
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
    this.panels = ['compare-a', 'compare-b', 'compare-diff'].map((id) => ({
      title: el('div', { class: 'compare-title' }),
      canvas: el('canvas', { id, class: 'compare-canvas' }),
      raster: document.createElement('canvas'),
    }));
    for (const p of this.panels) {
      this.results.appendChild(el('figure', { class: 'compare-figure' }, p.title, p.canvas));
      p.canvas.addEventListener('mousemove', (e) => this.hover(p, e));
      p.canvas.addEventListener('mouseleave', () => (this.readout.textContent = ' '));
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
    const m = s.message;
    const na = m.a.tokens.length;
    const nb = m.b.tokens.length;
    const k = s.alignA.length;
    const available = Math.max(240, (this.root.clientWidth || 900) - 60) / 3;
    const lut = colorLut(this.store.colorMap);
    const vmax = Math.max(maxValue(s.a, 0, na * na), maxValue(s.b, 0, nb * nb));
    const masked = cssToRgba(themeColor('--vscode-disabledForeground', '#808080'));
    const dmax = maxAbs(s.diff);
    const aligned = Array.from(s.alignA, (i) => m.a.tokens[i]?.text ?? `#${i}`);
    const sides: [Panel, string, string[], () => Uint8ClampedArray<ArrayBuffer>][] = [
      [
        this.panels[0],
        `${m.a.label} (${na} tokens)`,
        m.a.tokens.map((t) => t.text),
        () => rasterize(s.a, 0, na, na, na, na, { lut, vmax, causal: m.a.causal, maskColor: masked }),
      ],
      [
        this.panels[1],
        `${m.b.label} (${nb} tokens)`,
        m.b.tokens.map((t) => t.text),
        () => rasterize(s.b, 0, nb, nb, nb, nb, { lut, vmax, causal: m.b.causal, maskColor: masked }),
      ],
      [
        this.panels[2],
        `${m.b.label} − ${m.a.label}: ±${dmax.toPrecision(3)}`,
        aligned,
        () => divergingPixels(s.diff, k, k, dmax, masked),
      ],
    ];
    const ink = themeColor('--vscode-foreground', '#cccccc');
    const font = themeColor('--vscode-editor-font-family', 'monospace');
    for (const [p, title, labels, pixels] of sides) {
      p.title.textContent = title;
      const n = labels.length;
      const dpr = window.devicePixelRatio || 1;
      const g = p.canvas.getContext('2d');
      if (!g || n === 0) continue;
      // Token labels (drawn as text with fillText) left of the rows and above the columns, when the cells fit them.
      let cell = matrixCellSize(n, available, 2, 24);
      const size = Math.min(11, cell - 2);
      const short = labels.map((t) => ([...t].length > 12 ? [...t].slice(0, 11).join('') + '…' : t));
      g.font = `${size}px ${font}`;
      const labelW = size >= 7 ? Math.ceil(Math.max(...short.map((t) => g.measureText(t).width))) + 6 : 0;
      if (labelW) cell = matrixCellSize(n, available - labelW, 2, 24);
      const w = Math.max(1, n * cell);
      p.canvas.width = Math.max(1, Math.round((labelW + w) * dpr));
      p.canvas.height = Math.max(1, Math.round((labelW + w) * dpr));
      p.canvas.style.width = p.canvas.style.height = `${labelW + w}px`;
      p.canvas.dataset.cellSize = String(cell);
      p.canvas.dataset.origin = String(labelW);
      p.canvas.dataset.n = String(n);
      p.raster.width = p.raster.height = n;
      p.raster.getContext('2d')?.putImageData(new ImageData(pixels(), n, n), 0, 0);
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      g.imageSmoothingEnabled = false;
      g.clearRect(0, 0, labelW + w, labelW + w);
      g.drawImage(p.raster, labelW, labelW, w, w);
      if (!labelW) continue;
      g.font = `${size}px ${font}`;
      g.fillStyle = ink;
      g.textBaseline = 'middle';
      g.textAlign = 'right';
      short.forEach((t, i) => g.fillText(t, labelW - 3, labelW + (i + 0.5) * cell));
      g.save();
      g.rotate(-Math.PI / 2);
      g.textAlign = 'left';
      short.forEach((t, i) => g.fillText(t, -(labelW - 3), labelW + (i + 0.5) * cell));
      g.restore();
    }
  }

  /** The cell under the mouse: its tokens and the values of a, b and b − a there. */
  private hover(p: Panel, e: MouseEvent): void {
    const s = this.shown;
    if (!s) return;
    const cell = Number(p.canvas.dataset.cellSize);
    const n = Number(p.canvas.dataset.n);
    const origin = Number(p.canvas.dataset.origin);
    const c = cellAt(e.offsetX, e.offsetY, origin, origin, cell, n, n);
    if (!c) return;
    const m = s.message;
    const na = m.a.tokens.length;
    const nb = m.b.tokens.length;
    const tok = (tokens: TokenInfo[], i: number) => tokens[i]?.text ?? `#${i}`;
    let text: string;
    if (p === this.panels[0])
      text = `a: ${tok(m.a.tokens, c.row)} → ${tok(m.a.tokens, c.col)} = ${s.a[c.row * na + c.col]}`;
    else if (p === this.panels[1])
      text = `b: ${tok(m.b.tokens, c.row)} → ${tok(m.b.tokens, c.col)} = ${s.b[c.row * nb + c.col]}`;
    else {
      const k = s.alignA.length;
      text =
        `${tok(m.a.tokens, s.alignA[c.row])} → ${tok(m.a.tokens, s.alignA[c.col])}: b − a = ` +
        `${formatValue(s.diff[c.row * k + c.col], 4)}; row JSD ${formatValue(s.rowJsd[c.row], 4)} bits`;
    }
    this.readout.textContent = text;
  }
}
