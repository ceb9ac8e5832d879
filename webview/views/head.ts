// Head view (BertViz-style): the tokens in two columns (queries left, keys right) joined by lines whose opacity is
// the attention weight, one colour per head. Hovering a token isolates its lines; clicking picks it as the query
// token of the neuron view and highlights it in the editor.
import { el, clear } from '../dom';
import { headHue } from '../layout';
import type { View, ViewContext } from './context';

const ROW = 20;
const WIDTH = 180;
const MAX_LINES = 3000;
const HIST = 1024;

export class HeadView implements View {
  readonly root = el('div', { class: 'view head-view', attrs: { role: 'tabpanel', 'aria-label': 'Head view' } });
  private legend = el('div', { class: 'head-legend' });
  private left = el('div', { class: 'head-col head-col-left' });
  private right = el('div', { class: 'head-col head-col-right' });
  private canvas = el('canvas', { class: 'head-lines', attrs: { 'aria-hidden': 'true' } });
  private focus: { side: 'left' | 'right'; index: number } | null = null;
  private dirty = true;

  constructor(private ctx: ViewContext) {
    const columns = el('div', { class: 'head-columns' }, this.left, this.canvas, this.right);
    columns.addEventListener('mouseleave', () => this.setFocus(null));
    this.root.append(this.legend, columns);
  }

  runStarted(): void {
    clear(this.left);
    clear(this.right);
    this.focus = null;
    this.ctx.store.tokens.forEach((t, i) => {
      const a = el('div', { class: 'head-token head-token-left', text: t.text, title: `${i}: ${t.text}` });
      const b = el('div', { class: 'head-token head-token-right', text: t.text, title: `${i}: ${t.text}` });
      a.addEventListener('mouseenter', () => this.setFocus({ side: 'left', index: i }));
      b.addEventListener('mouseenter', () => this.setFocus({ side: 'right', index: i }));
      a.addEventListener('click', () => this.ctx.selectQuery(i));
      b.addEventListener('click', () => this.ctx.selectQuery(i));
      this.left.appendChild(a);
      this.right.appendChild(b);
    });
    this.buildLegend();
    this.dirty = true;
  }

  layerArrived(layer: number): void {
    if (layer === this.ctx.store.layer) this.dirty = true;
  }

  selectionChanged(): void {
    this.buildLegend();
    this.dirty = true;
  }

  restyle(): void {
    this.dirty = true;
  }

  private buildLegend(): void {
    const { facts, head } = this.ctx.store;
    clear(this.legend);
    if (!facts) return;
    this.legend.appendChild(el('span', { class: 'head-legend-label', text: 'Heads:' }));
    for (let h = 0; h < facts.heads; h++) {
      const b = el('button', {
        class: 'head-swatch',
        text: String(h),
        title: `Show head ${h} only`,
        attrs: { 'aria-pressed': String(head === h || typeof head !== 'number') },
      });
      b.style.setProperty('--swatch', `hsl(${headHue(h, facts.heads)}, 70%, 50%)`);
      b.addEventListener('click', () => this.ctx.select(this.ctx.store.layer, h));
      this.legend.appendChild(b);
    }
    const all = el('button', { class: 'head-swatch-all', text: 'all', title: 'Show every head (mean)' });
    all.addEventListener('click', () => this.ctx.select(this.ctx.store.layer, 'mean'));
    this.legend.appendChild(all);
  }

  private setFocus(f: { side: 'left' | 'right'; index: number } | null): void {
    if (f?.side === this.focus?.side && f?.index === this.focus?.index) return;
    this.focus = f;
    this.left.classList.toggle('focused', f !== null);
    this.right.classList.toggle('focused', f !== null);
    Array.from(this.left.children).forEach((c, i) => c.classList.toggle('active', f?.side === 'left' && f.index === i));
    Array.from(this.right.children).forEach((c, i) =>
      c.classList.toggle('active', f?.side === 'right' && f.index === i),
    );
    this.dirty = true;
    this.ctx.invalidate();
  }

  draw(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const { store } = this.ctx;
    const l = store.layers[store.layer];
    const n = store.tokens.length;
    const dpr = window.devicePixelRatio || 1;
    const h = Math.max(1, n * ROW);
    if (this.canvas.width !== WIDTH * dpr || this.canvas.height !== h * dpr) {
      this.canvas.width = WIDTH * dpr;
      this.canvas.height = h * dpr;
      this.canvas.style.width = `${WIDTH}px`;
      this.canvas.style.height = `${h}px`;
    }
    const g = this.canvas.getContext('2d');
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, WIDTH, h);
    if (!l) return;
    const heads = typeof store.head === 'number' ? [store.head] : Array.from({ length: l.heads }, (_, i) => i);
    const Q = l.queryLength;
    const K = l.keyLength;
    const f = this.focus;
    const threshold = f ? 0.001 : Math.max(0.01, 1 / Math.max(1, K));
    g.lineWidth = 1;
    // Lines are drawn one stroke each (one path of thousands of crossing lines makes the rasteriser quadratic),
    // and at most MAX_LINES of them: the strongest, found with a histogram of the weights (linear time).
    const qs = f?.side === 'left' ? [f.index] : Array.from({ length: Q }, (_, i) => i);
    const kFrom = f?.side === 'right' ? f.index : 0;
    const kTo = f?.side === 'right' ? f.index + 1 : K;
    const hist = new Uint32Array(HIST);
    let count = 0;
    for (const head of heads)
      for (const q of qs) {
        const row = head * Q * K + q * K;
        for (let k = kFrom; k < kTo; k++) {
          const w = l.data[row + k];
          if (w >= threshold) {
            hist[Math.min(HIST - 1, Math.floor(w * HIST))]++;
            count++;
          }
        }
      }
    let cutoff = threshold;
    if (count > MAX_LINES) {
      let acc = 0;
      let b = HIST - 1;
      for (; b > 0; b--) {
        acc += hist[b];
        if (acc >= MAX_LINES) break;
      }
      cutoff = Math.max(threshold, b / HIST);
    }
    this.root.dataset.lines = String(Math.min(count, MAX_LINES));
    for (const head of heads) {
      g.strokeStyle = `hsl(${headHue(head, l.heads)}, 70%, 50%)`;
      for (const q of qs) {
        const y0 = q * ROW + ROW / 2;
        const row = head * Q * K + q * K;
        for (let k = kFrom; k < kTo; k++) {
          const w = l.data[row + k];
          if (!(w >= cutoff)) continue;
          g.globalAlpha = Math.min(1, w);
          g.beginPath();
          g.moveTo(0, y0);
          g.lineTo(WIDTH, k * ROW + ROW / 2);
          g.stroke();
        }
      }
    }
    g.globalAlpha = 1;
  }
}
