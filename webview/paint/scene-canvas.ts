// A scene in the panel: the canvas it is painted on (at the device pixel ratio), an overlay canvas for what changes
// on every mouse move (the hovered cell's outline) so that hovering never repaints the scene, and a layer of
// transparent elements over the scene's targets — their text (for screen readers, selection and tests), focus,
// clicks and tooltips — placed where the figure put them. The views add interaction; nothing here lays anything out.
// A scene taller than BAND_MAX (the head view of a long input) is painted in a band of three window heights around
// what is visible, moved as the page scrolls: no canvas larger than the screen needs, however long the input.
// A table's header bands (scene.frozen: column labels above, row labels left) are painted again on canvases of their
// own over it, moved as anything scrolls so that they stay in view while the table's cells do.
import { cellAtPoint, cellBox, frozenShift, type Region, type Scene, type Target } from '../../figures/scene';
import type { Rgb } from '../../figures/scene';
import { el } from '../dom';
import { paintScene } from './paint-scene';

export interface RegionHit {
  region: Region;
  /** The cell in the region (row, col) and the data row/column it stands for. */
  row: number;
  col: number;
  dataRow: number;
  dataCol: number;
}

/** Scenes up to this tall are painted whole; taller ones in a band around what is visible. */
const BAND_MAX = 4096;

/** The canvases painted in a band, and the tables with header bands, moved when anything scrolls (one listener). */
const banded = new Set<SceneCanvas>();
const withHeaders = new Set<SceneCanvas>();
let scrollFrame = 0;
const onScroll = () => {
  if (scrollFrame) return;
  scrollFrame = requestAnimationFrame(() => {
    scrollFrame = 0;
    for (const c of banded) c.follow();
    for (const c of withHeaders) c.keepHeaders();
  });
};
window.addEventListener('scroll', onScroll, { capture: true, passive: true });
window.addEventListener('resize', onScroll, { passive: true });

/** Where the page's own sticky parts (the toolbar) end: a table's header band stays below it. */
let pageTop: () => number = () => 0;
export function setPageTop(top: () => number): void {
  pageTop = top;
}

/** A table's header band: a canvas over the scene painted with the band's part of it. */
type HeaderBand = 'top' | 'left' | 'corner';

export class SceneCanvas {
  readonly root: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  /** Made on the first outline: views that never outline a cell (the head view) keep one canvas, not two. */
  private overlay: HTMLCanvasElement | undefined;
  private layer = el('div', { class: 'scene-targets' });
  private targetEls: HTMLElement[] = [];
  /** What each target element shows now (to write only what a redraw changes). */
  private placed: (Target | undefined)[] = [];
  private current: Scene | undefined;
  private hovered: { region: string; row: number; col: number } | null = null;
  /** The rows of the scene painted on the canvas (CSS px): all of it, or a band around what is visible. */
  private band = { top: 0, height: 0 };
  /** A table's header bands (scene.frozen), painted over it and moved to stay in view (keepHeaders). */
  private headers: Partial<Record<HeaderBand, HTMLCanvasElement>> = {};
  private shownAgain: ResizeObserver | undefined;

  constructor(id?: string, label?: string) {
    this.canvas = el('canvas', { class: 'scene-canvas', ...(id ? { id } : {}) });
    if (label) {
      this.canvas.setAttribute('role', 'img');
      this.canvas.setAttribute('aria-label', label);
    }
    this.root = el('div', { class: 'scene' }, this.canvas, this.layer);
  }

  get scene(): Scene | undefined {
    return this.current;
  }

  /** The target elements, in the scene's order. */
  get targets(): readonly HTMLElement[] {
    return this.targetEls;
  }

  /** Paints `scene` and places its targets (elements are reused, so focus and hover survive a redraw). */
  show(scene: Scene): void {
    this.current = scene;
    this.root.style.width = `${scene.width}px`;
    this.root.style.height = `${scene.height}px`;
    if (scene.height > BAND_MAX) banded.add(this);
    else banded.delete(this);
    this.band = this.wantedBand(scene);
    this.paint(scene);
    this.placeTargets(scene.targets);
    this.drawOverlay();
    this.paintHeaders(scene);
  }

  /** The header band canvases (top, left, corner) of a table scene; none for other scenes. */
  get headerBands(): readonly HTMLCanvasElement[] {
    return Object.values(this.headers);
  }

  /** Paints a table's header bands (scene.frozen: the column labels above, the row labels left) on canvases of their
   *  own over the scene; a scene without them (or painted in a band: too tall) has none. */
  private paintHeaders(scene: Scene): void {
    const f = scene.height <= BAND_MAX ? scene.frozen : undefined;
    const want: [HeaderBand, number, number][] = f
      ? [
          ['top', scene.width, f.top],
          ['left', f.left, scene.height],
          ['corner', f.left, f.top],
        ]
      : [];
    for (const k of Object.keys(this.headers) as HeaderBand[])
      if (!want.some(([w]) => w === k)) {
        this.headers[k]!.remove();
        delete this.headers[k];
      }
    if (!f) {
      withHeaders.delete(this);
      return;
    }
    withHeaders.add(this);
    // Shown again (its tab, its section) after the page scrolled: placed again, with no scroll to say so.
    if (!this.shownAgain && typeof ResizeObserver !== 'undefined') {
      this.shownAgain = new ResizeObserver(() => this.keepHeaders());
      this.shownAgain.observe(this.root);
    }
    const dpr = window.devicePixelRatio || 1;
    for (const [k, w, h] of want) {
      let c = this.headers[k];
      if (!c) {
        c = el('canvas', { class: `scene-header scene-header-${k}`, attrs: { 'aria-hidden': 'true' } });
        this.root.appendChild(c);
        this.headers[k] = c;
      }
      c.width = Math.max(1, Math.round(w * dpr));
      c.height = Math.max(1, Math.round(h * dpr));
      c.style.width = `${w}px`;
      c.style.height = `${h}px`;
      const g = c.getContext('2d', { alpha: false });
      if (!g) continue;
      // The scene from its top left, cut by the canvas to the band (the background first hides what scrolls under).
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      paintScene(g, scene, { rows: { top: 0, bottom: h } });
    }
    this.keepHeaders();
  }

  /** Moves the header bands to the top and left of what is visible of the table (below the page's toolbar, inside
   *  any box that scrolls it), within the table (figures/scene.ts frozenShift). */
  keepHeaders(): void {
    const scene = this.current;
    if (!scene?.frozen || !this.root.isConnected || this.root.offsetParent === null) return;
    const r = this.root.getBoundingClientRect();
    let top = pageTop();
    let left = 0;
    for (let e = this.root.parentElement; e && e !== document.body; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
      const b = e.getBoundingClientRect();
      top = Math.max(top, b.top + e.clientTop);
      left = Math.max(left, b.left + e.clientLeft);
    }
    const { dx, dy } = frozenShift(scene, scene.frozen, { x: left - r.left, y: top - r.top });
    const move = (k: HeaderBand, x: number, y: number) => {
      const c = this.headers[k];
      if (!c) return;
      c.style.transform = x || y ? `translate(${x}px, ${y}px)` : '';
      // A rule along the band's edge while cells scroll under it.
      c.classList.toggle('scrolled-under', (k !== 'left' && y > 0) || (k !== 'top' && x > 0));
    };
    move('top', 0, dy);
    move('left', dx, 0);
    move('corner', dx, dy);
    this.root.dataset.headerShift = `${dx},${dy}`;
  }

  /** After a scroll: paints the band again when what is visible has left it. */
  follow(): void {
    const scene = this.current;
    if (!scene || !this.root.isConnected || this.root.offsetParent === null) return;
    const { top, bottom } = this.visible();
    if (top >= this.band.top && bottom <= this.band.top + this.band.height) return;
    this.band = this.wantedBand(scene);
    this.paint(scene);
    this.drawOverlay();
  }

  /** The scene's rows in the window (CSS px from the scene's top). */
  private visible(): { top: number; bottom: number } {
    const r = this.root.getBoundingClientRect();
    const h = window.innerHeight || 800;
    return { top: Math.max(0, -r.top), bottom: Math.max(0, h - r.top) };
  }

  private wantedBand(scene: Scene): { top: number; height: number } {
    if (scene.height <= BAND_MAX) return { top: 0, height: scene.height };
    const h = window.innerHeight || 800;
    const top = Math.max(0, Math.min(scene.height - 3 * h, Math.floor(this.visible().top - h)));
    return { top, height: Math.min(scene.height - top, 3 * h) };
  }

  private paint(scene: Scene): void {
    const dpr = window.devicePixelRatio || 1;
    this.size(this.canvas, scene);
    if (this.overlay) this.size(this.overlay, scene);
    // Opaque: the scene paints its own background (cheaper to allocate and to composite).
    const g = this.canvas.getContext('2d', { alpha: false });
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, -this.band.top * dpr);
    paintScene(g, scene, { rows: { top: this.band.top, bottom: this.band.top + this.band.height } });
  }

  /** Sizes a canvas to the scene's painted band at the device pixel ratio (resized only when it changes: that clears
   *  it), and places it at the band's top. */
  private size(c: HTMLCanvasElement, scene: Scene): void {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(scene.width * dpr));
    const h = Math.max(1, Math.round(this.band.height * dpr));
    if (c.width !== w) c.width = w;
    if (c.height !== h) c.height = h;
    c.style.width = `${scene.width}px`;
    c.style.height = `${this.band.height}px`;
    c.style.top = `${this.band.top}px`;
  }

  private placeTargets(targets: readonly Target[]): void {
    if (this.targetEls.length > targets.length) {
      // The surplus (the last ones, one run of the layer's children) in one removal: one by one, a kept run's head
      // view dropping its 16,384 labels for a window's 258 took seconds.
      const cut = document.createRange();
      cut.setStartBefore(this.targetEls[targets.length]);
      cut.setEndAfter(this.targetEls[this.targetEls.length - 1]);
      cut.deleteContents();
      this.targetEls.length = targets.length;
      this.placed.length = targets.length;
    }
    const added = document.createDocumentFragment();
    targets.forEach((t, i) => {
      let e = this.targetEls[i];
      if (!e) {
        e = el('span');
        added.appendChild(e);
        this.targetEls.push(e);
        this.placed.push(undefined);
      }
      const was = this.placed[i];
      this.placed[i] = t;
      // Only what changed is written: a redraw (a hover in the head view) touches a few of a thousand targets.
      if (was?.role !== t.role) {
        // A different kind of target: start from a clean element (classes and attributes the view added go too).
        for (const a of [...e.attributes]) if (a.name !== 'style') e.removeAttribute(a.name);
        e.className = `target ${t.role}`;
      }
      if (was?.role !== t.role || was.text !== t.text) e.textContent = t.text ?? '';
      if (was?.role !== t.role || was.title !== t.title) {
        if (t.title !== undefined) e.title = t.title;
        else e.removeAttribute('title');
      }
      if (t.label !== undefined && (was?.role !== t.role || was.label !== t.label))
        e.setAttribute('aria-label', t.label);
      if (was?.role !== t.role || !sameData(was.data, t.data)) {
        for (const k of Object.keys(e.dataset)) if (!t.data || !(k in t.data)) delete e.dataset[k];
        for (const [k, v] of Object.entries(t.data ?? {})) e.dataset[k] = v;
      }
      if (!was || was.x !== t.x || was.y !== t.y || was.w !== t.w || was.h !== t.h)
        e.style.cssText =
          `left:${t.x}px;top:${t.y}px;width:${Math.max(1, t.w)}px;height:${Math.max(1, t.h)}px;` +
          `font-size:${Math.max(1, Math.min(t.h, 12) - 1)}px`;
    });
    if (added.childNodes.length) this.layer.appendChild(added);
  }

  /** The region cell under a mouse event on the canvas (CSS px from its top left), or null. */
  hit(e: MouseEvent, id?: string): RegionHit | null {
    const scene = this.current;
    if (!scene) return null;
    const rect = this.root.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top;
    for (const region of scene.regions) {
      if (id !== undefined && region.id !== id) continue;
      const c = cellAtPoint(region, x, y);
      if (c)
        return {
          region,
          ...c,
          dataRow: region.rowStart + Math.floor(c.row * region.rowStep),
          dataCol: region.colStart + Math.floor(c.col * region.colStep),
        };
    }
    return null;
  }

  /** Outlines one cell of a region on the overlay (null clears it). */
  outline(cell: { region: string; row: number; col: number } | null): void {
    const same =
      cell &&
      this.hovered &&
      cell.region === this.hovered.region &&
      cell.row === this.hovered.row &&
      cell.col === this.hovered.col;
    if (same || (!cell && !this.hovered)) return;
    this.hovered = cell;
    this.drawOverlay();
  }

  private outlineColor: Rgb = [0, 120, 212];

  setOutlineColor(c: Rgb): void {
    this.outlineColor = c;
  }

  private drawOverlay(): void {
    if (!this.overlay) {
      if (!this.hovered || !this.current) return;
      this.overlay = el('canvas', { class: 'scene-overlay', attrs: { 'aria-hidden': 'true' } });
      this.canvas.after(this.overlay);
      this.size(this.overlay, this.current);
    }
    const g = this.overlay.getContext('2d');
    if (!g) return;
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.clearRect(0, 0, this.overlay.width, this.overlay.height);
    const scene = this.current;
    const h = this.hovered;
    const region = h && scene?.regions.find((r) => r.id === h.region);
    if (!h || !region || h.row >= region.rows || h.col >= region.cols) return;
    const dpr = this.overlay.width / Math.max(1, scene!.width);
    g.setTransform(dpr, 0, 0, dpr, 0, -this.band.top * dpr);
    const b = cellBox(region, h.row, h.col);
    const c = this.outlineColor;
    g.strokeStyle = `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
    const wide = b.w >= 6;
    g.lineWidth = wide ? 2 : 1;
    if (wide) g.strokeRect(b.x + 1, b.y + 1, b.w - 2, b.h - 2);
    else g.strokeRect(b.x - 0.5, b.y - 0.5, b.w + 1, b.h + 1);
  }
}

function sameData(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  const kb = Object.keys(b ?? {});
  return ka.length === kb.length && ka.every((k) => a![k] === b?.[k]);
}
