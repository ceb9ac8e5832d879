// Model grid: the grid figure (figures/grid-figure.ts) — layers × heads thumbnails, each max-pooled so that a single
// strong link stays visible, as large as the panel allows and centred — redrawn as layers arrive and on resize. Each thumbnail's target is a grid cell: click or Enter opens
// the matrix for that head; arrow keys move between thumbnails (one tab stop for the whole grid).
import { el } from '../dom';
import { SECTION_TITLE, gridFigure, thumbCells } from '../../figures/grid-figure';
import { PANEL_OPTIONS } from '../../figures/figure-kit';
import { SceneCanvas } from '../paint/scene-canvas';
import { panelTheme } from '../paint/panel-theme';
import type { View, ViewContext } from './context';

/** Thumbnails grow with the panel within [MIN_THUMB, MAX_THUMB] CSS px a side. */
const MIN_THUMB = 28;
const MAX_THUMB = 200;
/** Room (px) the figure needs besides the thumbnails: layer labels and margins across; head labels, the colour bar
 *  and the notes down. */
const ROOM_X = 70;
const ROOM_Y = 150;
/** Between thumbnails (figures/grid-figure.ts). */
const GAP = 6;

export class GridView implements View {
  readonly root = el('div', { class: 'view grid-view', attrs: { role: 'tabpanel', 'aria-label': 'Model grid' } });
  private figure = new SceneCanvas('grid-canvas');
  private dirty = true;
  private focus = { layer: 0, head: 0 };

  constructor(private ctx: ViewContext) {
    this.figure.root.setAttribute('role', 'grid');
    this.figure.root.setAttribute('aria-label', 'Attention of every layer and head');
    this.figure.canvas.setAttribute('aria-hidden', 'true');
    this.root.appendChild(this.figure.root);
    this.root.addEventListener('keydown', (e) => this.onKey(e));
    this.figure.root.addEventListener('click', (e) => {
      const t = (e.target as HTMLElement).closest<HTMLElement>('.thumb');
      if (t) this.open(Number(t.dataset.layer), Number(t.dataset.head));
    });
  }

  runStarted(): void {
    this.focus = { layer: 0, head: 0 };
    this.dirty = true;
  }

  layerArrived(): void {
    this.dirty = true;
  }

  exactArrived(): void {
    if (this.drewPending) this.dirty = true;
  }

  /** The last draw had tiles waiting for exact values (a kept run: thumbnails come from the overview, so rarely). */
  private drewPending = false;

  restyle(): void {
    this.dirty = true;
  }

  selectionChanged(): void {
    this.dirty = true;
  }

  draw(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const { store } = this.ctx;
    if (!store.facts) return;
    // Fill the panel: the largest thumbnail that fits every layer and head in its width and the height below the
    // toolbar; at least MIN_THUMB (then the grid scrolls).
    const width = (this.root.clientWidth || 600) - ROOM_X;
    const top = Math.max(0, this.root.getBoundingClientRect().top + window.scrollY);
    // Encoder–decoders: a title above each of the three sections.
    const titles = store.facts.encoderDecoder ? 3 * SECTION_TITLE : 0;
    const height = (window.innerHeight || 700) - top - ROOM_Y - titles;
    const fit = Math.min(width / store.facts.heads, height / store.facts.layers) - GAP;
    const thumb = Math.max(MIN_THUMB, Math.min(MAX_THUMB, Math.floor(fit)));
    const fallbacks = store.kept?.maps.fallbacks ?? 0;
    const { scene } = gridFigure(
      store.maps,
      { layer: store.layer, head: store.head, colorMap: store.colorMap, kinds: store.facts.attentionKinds },
      { thumb, maxThumbCells: thumbCells(store.tokens.length, thumb) },
      panelTheme(),
      PANEL_OPTIONS,
    );
    this.drewPending = (store.kept?.maps.fallbacks ?? 0) !== fallbacks;
    this.figure.show(scene);
    const { layer, head } = store;
    // The thumbnails (encoder–decoder section titles follow them and stay plain text).
    for (const t of this.figure.targets) {
      if (!t.classList.contains('thumb')) continue;
      const l = Number(t.dataset.layer);
      const h = Number(t.dataset.head);
      t.setAttribute('role', 'gridcell');
      t.classList.toggle('pending', t.dataset.pending === '1');
      t.classList.toggle('selected', l === layer && (head === h || typeof head !== 'number'));
      t.tabIndex = l === this.focus.layer && h === this.focus.head ? 0 : -1;
    }
  }

  private thumb(layer: number, head: number): HTMLElement | undefined {
    const H = this.ctx.store.facts?.heads ?? 0;
    return this.figure.targets[layer * H + head];
  }

  private open(layer: number, head: number): void {
    this.focus = { layer, head };
    this.ctx.select(layer, head);
    this.ctx.show('matrix');
  }

  private onKey(e: KeyboardEvent): void {
    const facts = this.ctx.store.facts;
    if (!facts) return;
    let { layer, head } = this.focus;
    const L = facts.layers;
    const H = facts.heads;
    switch (e.key) {
      case 'ArrowLeft':
        head = Math.max(0, head - 1);
        break;
      case 'ArrowRight':
        head = Math.min(H - 1, head + 1);
        break;
      case 'ArrowUp':
        layer = Math.max(0, layer - 1);
        break;
      case 'ArrowDown':
        layer = Math.min(L - 1, layer + 1);
        break;
      case 'Home':
        head = 0;
        break;
      case 'End':
        head = H - 1;
        break;
      case 'Enter':
      case ' ':
        e.preventDefault();
        this.open(layer, head);
        return;
      default:
        return;
    }
    e.preventDefault();
    this.focus = { layer, head };
    for (const t of this.figure.targets) if (t.classList.contains('thumb')) t.tabIndex = -1;
    const t = this.thumb(layer, head);
    if (t) {
      t.tabIndex = 0;
      t.focus();
    }
    this.ctx.select(layer, head);
  }
}
