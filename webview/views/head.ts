// Head view (BertViz-style): the head figure (figures/head-figure.ts) — tokens in two columns (queries left, keys
// right) joined by lines whose opacity is the attention weight, one colour per head — with the head swatches as
// buttons above it. Hovering a token isolates its lines (the figure drawn again with that focus); clicking picks it as
// the query token of the neuron view and highlights it in the editor.
import { el, clear } from '../dom';
import { headFigure } from '../../figures/head-figure';
import { PANEL_OPTIONS, headColor } from '../../figures/figure-kit';
import { SceneCanvas } from '../paint/scene-canvas';
import { panelTheme } from '../paint/panel-theme';
import type { View, ViewContext } from './context';

const ROW = 20;

export class HeadView implements View {
  readonly root = el('div', { class: 'view head-view', attrs: { role: 'tabpanel', 'aria-label': 'Head view' } });
  private legend = el('div', { class: 'head-legend' });
  private figure = new SceneCanvas('head-canvas');
  /** Says why a run kept for long inputs shows its tokens without lines. */
  private note = el('p', { class: 'neuron-note' });
  private focus: { side: 'left' | 'right'; index: number } | null = null;
  private dirty = true;

  constructor(private ctx: ViewContext) {
    this.figure.canvas.setAttribute('aria-hidden', 'true');
    this.note.hidden = true;
    this.root.append(this.legend, this.note, this.figure.root);
    const token = (e: Event) => (e.target as HTMLElement).closest<HTMLElement>('.head-token');
    this.figure.root.addEventListener('mouseover', (e) => {
      const t = token(e);
      if (t) this.setFocus({ side: t.dataset.side === 'right' ? 'right' : 'left', index: Number(t.dataset.index) });
    });
    this.figure.root.addEventListener('mouseleave', () => this.setFocus(null));
    this.figure.root.addEventListener('click', (e) => {
      const t = token(e);
      if (t) this.ctx.selectQuery(Number(t.dataset.index));
    });
  }

  runStarted(): void {
    this.focus = null;
    this.buildLegend();
    this.dirty = true;
    // The token columns are known now: lay them out while the model runs (as the token lists used to be built),
    // so that showing this view later only draws the lines.
    this.show(true);
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
      const [r, g, bl] = headColor(h, facts.heads);
      b.style.setProperty('--swatch', `rgb(${r}, ${g}, ${bl})`);
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
    this.figure.root.classList.toggle('focused', f !== null);
    this.dirty = true;
    this.ctx.invalidate();
  }

  draw(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const { store } = this.ctx;
    // A run kept for long inputs: the lines of every token would ask for every row; not drawn yet, and said so.
    this.note.hidden = !store.kept;
    if (store.kept)
      this.note.textContent = `The head view's lines are not drawn for runs of ${store.tokens.length} tokens (kept for long inputs) yet; use the matrix, which zooms to exact values.`;
    this.show(!!store.kept || !store.maps.shape(store.layer));
  }

  /** Paints the figure: the tokens and, once the layer has arrived, their lines. */
  private show(tokensOnly: boolean): void {
    const { store } = this.ctx;
    if (!store.facts || !store.tokens.length) return;
    const { scene, geometry } = headFigure(
      store.maps,
      { layer: store.layer, head: store.head, focus: this.focus, tokensOnly },
      { maxHeight: ROW * Math.max(1, store.tokens.length) },
      panelTheme(),
      PANEL_OPTIONS,
    );
    this.figure.show(scene);
    this.root.dataset.lines = String(geometry.lines);
  }
}
