// Head view (BertViz-style): the head figure (figures/head-figure.ts) — tokens in two columns (queries left, keys
// right) joined by lines whose opacity is the attention weight, one colour per head — with the head swatches as
// buttons above it. Hovering a token isolates its lines (the figure drawn again with that focus); clicking picks it as
// the query token of the neuron view and highlights it in the editor. Encoder–decoder runs get BertViz's
// encoder–decoder switch (encoder self-attention, decoder self-attention, cross-attention: the entry of that kind at
// the same stack layer, figures/stacks.ts); each column is labelled from its own token list. A run kept for long
// inputs is drawn on a window of tokens around the chosen token (exact weights asked of the host as the matrix asks
// for its tiles), said so above the figure, with buttons that move the window.
import { el, clear } from '../dom';
import { headFigure, windowAround, type HeadGeometry } from '../../figures/head-figure';
import { PANEL_OPTIONS, headColor } from '../../figures/figure-kit';
import { PendingExact } from '../../figures/kept-run-maps';
import type { Scene } from '../../figures/scene';
import { STACK_KINDS, sameStackLayer, stackOf, stackSections, type StackKind } from '../../figures/stacks';
import { KEPT_VIEW_WINDOW } from '../kept-maps';
import { SceneCanvas } from '../paint/scene-canvas';
import { panelTheme } from '../paint/panel-theme';
import type { View, ViewContext } from './context';

const ROW = 20;

const KIND_LABELS: Record<StackKind, { text: string; title: string }> = {
  encoder: { text: 'Encoder self', title: 'Encoder self-attention: source tokens attend to source tokens' },
  decoder: { text: 'Decoder self', title: 'Decoder self-attention (masked): target tokens attend to earlier ones' },
  cross: { text: 'Cross', title: 'Cross-attention: target tokens (left) attend to source tokens (right)' },
};

export class HeadView implements View {
  readonly root = el('div', { class: 'view head-view', attrs: { role: 'tabpanel', 'aria-label': 'Head view' } });
  private legend = el('div', { class: 'head-legend' });
  /** Encoder–decoder runs: which kind of attention (BertViz's encoder–decoder layout). */
  private kinds = el('div', {
    class: 'head-kinds',
    attrs: { role: 'group', 'aria-label': 'Attention kind' },
  });
  /** A kept run: which tokens the window shows, and buttons to move it. */
  private windowBar = el('div', { class: 'head-window' });
  private note = el('p', { class: 'neuron-note head-window-note' });
  private earlier = el('button', {
    class: 'secondary head-window-earlier',
    text: '◀ Earlier',
    title: 'Move the window 64 tokens towards the start',
  });
  private later = el('button', {
    class: 'secondary head-window-later',
    text: 'Later ▶',
    title: 'Move the window 64 tokens towards the end',
  });
  private figure = new SceneCanvas('head-canvas');
  private focus: { side: 'left' | 'right'; index: number } | null = null;
  private dirty = true;
  /** A run started and its token columns are not laid out yet (layerArrived). */
  private layoutAhead = false;

  constructor(private ctx: ViewContext) {
    this.figure.canvas.setAttribute('aria-hidden', 'true');
    this.windowBar.hidden = true;
    this.kinds.hidden = true;
    this.windowBar.append(this.earlier, this.note, this.later);
    this.root.append(this.kinds, this.legend, this.windowBar, this.figure.root);
    const move = (by: number) => {
      const n = this.ctx.store.tokens.length;
      this.ctx.selectQuery(Math.max(0, Math.min(n - 1, this.ctx.store.query + by)));
    };
    this.earlier.addEventListener('click', () => move(-64));
    this.later.addEventListener('click', () => move(64));
    const token = (e: Event) => (e.target as HTMLElement).closest<HTMLElement>('.head-token');
    this.figure.root.addEventListener('mouseover', (e) => {
      const t = token(e);
      if (t) this.setFocus({ side: t.dataset.side === 'right' ? 'right' : 'left', index: Number(t.dataset.index) });
    });
    this.figure.root.addEventListener('mouseleave', () => this.setFocus(null));
    this.figure.root.addEventListener('click', (e) => {
      const t = token(e);
      // Only a source token is a position in the editor's text (a target token has none).
      if (t && t.dataset.axis !== 'target') this.ctx.selectQuery(Number(t.dataset.index));
    });
  }

  runStarted(): void {
    this.focus = null;
    this.buildLegend();
    this.buildKinds();
    this.dirty = true;
    this.layoutAhead = true;
  }

  layerArrived(layer: number): void {
    if (layer === this.ctx.store.layer) this.dirty = true;
    // The token columns laid out while the model runs (as the token lists used to be built), so that showing this
    // view later only draws the lines: at the first layer, off the run's start (runStarted already says whether the
    // run is kept: its window's 258 labels, or every token's).
    if (this.layoutAhead) {
      this.layoutAhead = false;
      if (this.root.hidden) this.show(true);
    }
  }

  selectionChanged(): void {
    this.buildLegend();
    this.updateKinds();
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

  /** The encoder / decoder / cross switch of an encoder–decoder run (hidden for one-stack models). */
  private buildKinds(): void {
    clear(this.kinds);
    const kinds = this.ctx.store.facts?.attentionKinds ?? [];
    const sections = stackSections(kinds);
    this.kinds.hidden = !sections;
    if (!sections) return;
    this.kinds.appendChild(el('span', { class: 'head-legend-label', text: 'Attention:' }));
    for (const kind of STACK_KINDS) {
      if (!sections.some((s) => s.kind === kind)) continue;
      const b = el('button', {
        class: 'head-kind secondary',
        text: KIND_LABELS[kind].text,
        title: KIND_LABELS[kind].title,
        attrs: { 'data-kind': kind, 'aria-pressed': 'false' },
      });
      b.addEventListener('click', () => {
        const layer = sameStackLayer(this.ctx.store.facts?.attentionKinds ?? [], this.ctx.store.layer, kind);
        if (layer !== undefined) this.ctx.select(layer, this.ctx.store.head);
      });
      this.kinds.appendChild(b);
    }
    this.updateKinds();
  }

  private updateKinds(): void {
    const at = stackOf(this.ctx.store.facts?.attentionKinds ?? [], this.ctx.store.layer);
    for (const b of this.kinds.querySelectorAll<HTMLElement>('.head-kind'))
      b.setAttribute('aria-pressed', String(b.dataset.kind === at?.kind));
    if (at) this.kinds.dataset.stackLayer = String(at.stackLayer);
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
    this.show(!this.ctx.store.maps.shape(this.ctx.store.layer));
  }

  /** Paints the figure: the tokens and, once the layer has arrived, their lines. */
  private show(tokensOnly: boolean): void {
    const { store } = this.ctx;
    if (!store.facts || !store.tokens.length) return;
    const n = store.tokens.length;
    // A kept run: a window around the chosen token, its exact weights asked of the host.
    const win = store.kept ? windowAround(store.query, n, KEPT_VIEW_WINDOW) : null;
    this.windowBar.hidden = !win;
    if (win) {
      const label = store.tokens[store.query]?.label ?? String(store.query);
      this.note.textContent =
        `Showing tokens ${win.start}–${win.end - 1} of ${n} around ‹${label}› (token ${store.query}): ` +
        `a long input's head view shows a window; its lines are exact weights between these tokens. ` +
        `Click a token to centre the window on it.`;
      this.earlier.disabled = win.start === 0;
      this.later.disabled = win.end === n;
    }
    const draw = (lines: boolean) =>
      headFigure(
        store.maps,
        {
          layer: store.layer,
          head: store.head,
          focus: this.focus,
          tokensOnly: !lines,
          window: win,
        },
        { maxHeight: ROW * Math.max(1, win ? win.end - win.start : n) },
        panelTheme(),
        PANEL_OPTIONS,
      );
    let drawn: { scene: Scene; geometry: HeadGeometry };
    let pending = false;
    try {
      drawn = draw(!tokensOnly);
    } catch (e) {
      if (!(e instanceof PendingExact)) throw e;
      // The window's exact weights are on their way (the view redraws when they arrive): its tokens meanwhile.
      pending = true;
      drawn = draw(false);
    }
    // A kept run is known from runStarted (store.kept), so its window is laid out from the start: never 2 × n targets
    // built for 8,192 tokens and dropped again at the first layer.
    this.figure.show(drawn.scene);
    const { geometry } = drawn;
    this.root.dataset.lines = String(geometry.lines);
    this.root.dataset.pending = String(pending);
    if (win) {
      this.root.dataset.windowStart = String(win.start);
      this.root.dataset.windowEnd = String(win.end);
    } else {
      delete this.root.dataset.windowStart;
      delete this.root.dataset.windowEnd;
    }
    // The strongest line drawn (tests read it; with a focused token, that token's strongest link).
    const s = geometry.strongest;
    if (s && !tokensOnly && !pending)
      this.root.dataset.strongest = JSON.stringify({ head: s[0], query: s[1], key: s[2], weight: s[3] });
    else delete this.root.dataset.strongest;
  }
}
