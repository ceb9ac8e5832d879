// Matrix: the matrix figure (figures/matrix-figure.ts) of the selected layer and head, fitted to the panel (width and
// height) and centred, with a zoom (− / + / Fit buttons, Ctrl+wheel, + − 0 keys; a drag pans) that asks the figure
// for a window of the map (figures/matrix-zoom.ts: what is drawn is a tile of the run's maps, so 8k tokens cost what
// 500 do). The cell under the mouse shows its value in a tooltip (about 4 significant digits; data-value keeps the
// exact float32); the matrix is focusable and the arrow keys move a highlighted cell whose query, key and value are
// announced (aria-live #matrix-readout); Enter or a click picks its query token. The canvas exposes its cell geometry
// (data-cell-size, data-origin-x, data-origin-y, data-rows, data-cols, data-row-start, data-col-start; CSS px).
import { PendingExact } from '../../figures/kept-run-maps';
import { el } from '../dom';
import { matrixFigure } from '../../figures/matrix-figure';
import { PANEL_OPTIONS } from '../../figures/figure-kit';
import { formatSig } from '../../figures/labels';
import { argmaxAlignment, axisSides, sideTokens } from '../../figures/seq2seq-axes';
import { ZOOM_STEP, clampZoom, fitCell, follow, maxZoom, zoomWindow } from '../../figures/matrix-zoom';
import type { Span } from '../../figures/heads';
import type { Region } from '../../figures/scene';
import { SceneCanvas, type RegionHit } from '../paint/scene-canvas';
import { panelTheme } from '../paint/panel-theme';
import type { View, ViewContext } from './context';

/** Room (px) the figure needs around the cells: row labels and margins across, caption, column labels, colour bar
 *  and notes down. */
const ROOM_X = 150;
const ROOM_Y = 190;

export class MatrixView implements View {
  readonly root = el('div', { class: 'view matrix-view', attrs: { role: 'tabpanel', 'aria-label': 'Matrix' } });
  private caption = el('div', { class: 'matrix-caption' });
  private zoomOut = el('button', { class: 'zoom-button', text: '−', title: 'Zoom out (−)', attrs: { type: 'button' } });
  private zoomIn = el('button', { class: 'zoom-button', text: '+', title: 'Zoom in (+)', attrs: { type: 'button' } });
  private zoomFit = el('button', {
    class: 'zoom-button',
    text: 'Fit',
    title: 'Fit the whole map to the panel (0)',
    attrs: { type: 'button' },
  });
  private zoomText = el('span', { class: 'zoom-text', attrs: { 'aria-live': 'polite' } });
  /** Cross layers: draw the argmax alignment path, and list it (target → source) in a readout. */
  private alignBox = el('input', { attrs: { type: 'checkbox', id: 'matrix-alignment-toggle' } });
  private alignControl = el('label', { class: 'control', text: ' Alignment path' });
  private alignText = el('div', { id: 'matrix-alignment', attrs: { 'aria-live': 'polite' } });
  private readout = el('div', { id: 'matrix-readout', attrs: { 'aria-live': 'polite', role: 'status' } });
  private figure = new SceneCanvas('matrix-canvas', 'Attention matrix');
  private scroll = el('div', { class: 'matrix-scroll' }, this.figure.root);
  private tooltip = el('div', { id: 'matrix-tooltip', attrs: { role: 'tooltip' } });
  private tipTokens = el('div', { class: 'tip-tokens' });
  private tipValue = el('div', { class: 'tip-value' });
  private dirty = true;
  private hovered: { row: number; col: number } | null = null;
  /** The mouse event whose cell's exact value is on its way (a kept run): the tip shows it once drawn. */
  private tipPending: MouseEvent | null = null;
  /** 1: the whole map; z: 1/z of the tokens a side. */
  private zoom = 1;
  /** The tokens shown (rows: queries, cols: keys); null until the first drawing of a run. */
  private window: { rows: Span; cols: Span } | null = null;
  /** The keyboard's cell (query, key). */
  private cursor = { row: 0, col: 0 };
  private cursorShown = false;
  /** A drag that pans a zoomed window: where it started and the window then. */
  private drag: { x: number; y: number; window: { rows: Span; cols: Span } | null; moved: boolean } | null = null;
  private suppressClick = false;

  constructor(private ctx: ViewContext) {
    this.tooltip.append(this.tipTokens, this.tipValue);
    this.tooltip.hidden = true;
    const zoom = el('span', { class: 'zoom-controls', attrs: { role: 'group', 'aria-label': 'Zoom' } });
    zoom.append(this.zoomOut, this.zoomText, this.zoomIn, this.zoomFit);
    this.alignControl.prepend(this.alignBox);
    this.alignControl.hidden = true;
    this.alignText.hidden = true;
    this.alignBox.addEventListener('change', () => {
      this.dirty = true;
      this.ctx.invalidate();
    });
    const toolbar = el('div', { class: 'matrix-toolbar' }, this.caption, zoom, this.alignControl);
    this.scroll.tabIndex = 0;
    this.scroll.setAttribute('role', 'application');
    this.scroll.setAttribute('aria-roledescription', 'attention matrix');
    this.scroll.setAttribute(
      'aria-label',
      'Attention matrix: arrow keys move the cell (query row, key column), Home/End and Page Up/Down jump, ' +
        'Enter picks the query token, + and − zoom, 0 fits',
    );
    this.root.append(toolbar, this.alignText, this.readout, this.scroll, this.tooltip);
    this.zoomIn.addEventListener('click', () => this.setZoom(this.zoom * ZOOM_STEP));
    this.zoomOut.addEventListener('click', () => this.setZoom(this.zoom / ZOOM_STEP));
    this.zoomFit.addEventListener('click', () => this.setZoom(1));
    this.scroll.addEventListener('keydown', (e) => this.onKey(e));
    this.scroll.addEventListener('focus', () => {
      this.cursorShown = true;
      this.showCursor();
    });
    this.scroll.addEventListener('blur', () => {
      this.cursorShown = false;
      this.figure.outline(null);
    });
    const canvas = this.figure.canvas;
    canvas.addEventListener('mousemove', (e) => this.onHover(e));
    canvas.addEventListener('mouseleave', () => this.hideTip());
    canvas.addEventListener(
      'wheel',
      (e) => {
        if (!e.ctrlKey && !e.metaKey) return;
        e.preventDefault();
        const c = this.figure.hit(e, 'matrix');
        if (c) this.cursor = { row: c.dataRow, col: c.dataCol };
        this.setZoom(this.zoom * (e.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP), c ? this.cursor : undefined);
      },
      { passive: false },
    );
    // Dragging a zoomed matrix pans its window (a drag of less than a few px is a click).
    canvas.addEventListener('pointerdown', (e) => {
      if (this.zoom === 1 || e.button !== 0) return;
      this.drag = { x: e.clientX, y: e.clientY, window: this.window, moved: false };
      canvas.setPointerCapture(e.pointerId);
    });
    canvas.addEventListener('pointermove', (e) => this.onDrag(e));
    canvas.addEventListener('pointerup', () => {
      if (this.drag?.moved) this.suppressClick = true;
      this.drag = null;
    });
    canvas.addEventListener('click', (e) => {
      if (this.suppressClick) {
        this.suppressClick = false;
        return;
      }
      const c = this.figure.hit(e, 'matrix');
      if (c) this.ctx.selectQuery(c.dataRow);
    });
    this.figure.root.addEventListener('click', (e) => {
      const t = (e.target as HTMLElement).closest<HTMLElement>('.matrix-label-row');
      if (t?.dataset.index !== undefined) this.ctx.selectQuery(Number(t.dataset.index));
    });
  }

  runStarted(): void {
    this.hideTip();
    this.zoom = 1;
    this.window = null;
    this.cursor = { row: 0, col: 0 };
    this.readout.textContent = '';
    this.dirty = true;
  }

  layerArrived(layer: number): void {
    if (layer === this.ctx.store.layer) this.dirty = true;
  }

  exactArrived(layer: number): void {
    if (layer !== this.ctx.store.layer) return;
    if (this.drewPending) this.dirty = true;
    // The exact value under a still mouse: shown now (the matrix drawn is unchanged, so is the cell under it).
    const pending = this.tipPending;
    const c = pending && !this.dirty ? this.figure.hit(pending, 'matrix') : null;
    if (pending && c) this.showTip(c, pending);
  }

  /** The last draw had tiles waiting for exact values (drawn from the overview until they arrive). */
  private drewPending = false;

  selectionChanged(): void {
    this.dirty = true;
  }

  restyle(): void {
    this.dirty = true;
  }

  /** The map's sides (queries, keys), or null while the layer has not arrived. */
  private sides(): { Q: number; K: number } | null {
    const s = this.ctx.store.maps.shape(this.ctx.store.layer);
    return s ? { Q: s.queryLength, K: s.keyLength } : null;
  }

  private setZoom(zoom: number, around?: { row: number; col: number }): void {
    const n = this.sides();
    if (!n) return;
    this.zoom = clampZoom(zoom, Math.max(n.Q, n.K));
    const c = around ?? this.centre();
    this.window = {
      rows: zoomWindow(n.Q, this.zoom, c.row),
      cols: zoomWindow(n.K, this.zoom, c.col),
    };
    this.dirty = true;
    this.ctx.invalidate();
  }

  private centre(): { row: number; col: number } {
    if (this.cursorShown) return this.cursor;
    const w = this.window;
    return w
      ? { row: (w.rows.start + w.rows.end - 1) / 2, col: (w.cols.start + w.cols.end - 1) / 2 }
      : { row: 0, col: 0 };
  }

  draw(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const { store } = this.ctx;
    const headText = typeof store.head === 'number' ? `head ${store.head}` : `${store.head} over heads`;
    const kind = store.facts?.attentionKinds[store.layer] ?? '';
    const n = this.sides();
    this.showAlignment(kind === 'cross' && n !== undefined);
    this.caption.textContent = `Layer ${store.layer} · ${headText}${kind ? ` · ${kind}` : ''}${n ? '' : ' · waiting for this layer…'}`;
    if (!n) {
      this.figure.root.hidden = true;
      return;
    }
    this.figure.root.hidden = false;
    const theme = panelTheme();
    this.figure.setOutlineColor(theme.focus);
    // A window that no longer fits the map (a layer of another length): back to the whole map.
    const w = this.window;
    if (!w || w.rows.end > n.Q || w.cols.end > n.K || this.zoom === 1)
      this.window = { rows: { start: 0, end: n.Q }, cols: { start: 0, end: n.K } };
    const win = this.window!;
    // Fit the panel: its width, and the height below the toolbar (the whole map visible at zoom 1).
    const width = Math.max(160, (this.root.clientWidth || 600) - ROOM_X);
    const top = this.scroll.getBoundingClientRect().top + window.scrollY;
    const height = Math.max(160, (window.innerHeight || 700) - Math.max(0, top) - ROOM_Y);
    const room = Math.floor(Math.min(width, height));
    const rows = Math.min(win.rows.end - win.rows.start, room);
    const cols = Math.min(win.cols.end - win.cols.start, room);
    const cell = fitCell(rows, cols, width, height, 1, 40);
    // Zoomed: as many tokens as whole cells fill the room (the window grows about its centre to the panel's shape).
    if (this.zoom > 1 && rows === win.rows.end - win.rows.start && cols === win.cols.end - win.cols.start) {
      const grow = (span: Span, total: number, px: number) =>
        zoomWindow(
          total,
          total / Math.max(span.end - span.start, Math.floor(px / cell)),
          (span.start + span.end - 1) / 2,
        );
      // No side beyond `room` cells: the figure pools beyond that.
      const px = (side: number) => Math.min(side, room * cell);
      this.window = { rows: grow(win.rows, n.Q, px(height)), cols: grow(win.cols, n.K, px(width)) };
    }
    const shown = this.window!;
    const fallbacks = store.kept?.maps.fallbacks ?? 0;
    const { scene, geometry } = matrixFigure(
      store.maps,
      {
        layer: store.layer,
        head: store.head,
        colorMap: store.colorMap,
        window: shown,
        alignment: this.alignBox.checked,
      },
      { target: cell, minCell: cell, maxCell: cell, maxCells: room },
      theme,
      PANEL_OPTIONS,
    );
    this.drewPending = (store.kept?.maps.fallbacks ?? 0) !== fallbacks;
    this.figure.show(scene);
    const d = this.figure.canvas.dataset;
    d.cellSize = String(geometry.cell);
    d.originX = String(geometry.x);
    d.originY = String(geometry.y);
    d.rows = String(geometry.rows);
    d.cols = String(geometry.cols);
    d.rowStart = String(shown.rows.start);
    d.colStart = String(shown.cols.start);
    d.labelStep = String(geometry.labelStep);
    const full = this.zoom === 1;
    const span = (x: Span) => x.end - x.start;
    this.zoomText.textContent = full
      ? 'whole map'
      : `queries ${shown.rows.start}–${shown.rows.end - 1}, keys ${shown.cols.start}–${shown.cols.end - 1}`;
    this.zoomText.title = full ? '' : `${span(shown.rows)} × ${span(shown.cols)} of ${n.Q} × ${n.K} tokens`;
    this.zoomOut.disabled = this.zoomFit.disabled = full;
    this.zoomIn.disabled = this.zoom >= maxZoom(Math.max(n.Q, n.K));
    if (this.hovered) this.highlight(this.hovered, true);
    if (this.cursorShown) this.showCursor();
    this.ctx.matrixWindow(full ? null : shown);
    // The exact value under a still mouse has arrived (the view redraws on arrival): show it without a new move.
    const pending = this.tipPending;
    if (pending) {
      const c = this.figure.hit(pending, 'matrix');
      if (c) this.showTip(c, pending);
    }
  }

  private onDrag(e: PointerEvent): void {
    const d = this.drag;
    const n = this.sides();
    const cell = Number(this.figure.canvas.dataset.cellSize);
    if (!d?.window || !n || !(cell > 0)) return;
    const dx = e.clientX - d.x;
    const dy = e.clientY - d.y;
    if (!d.moved && Math.hypot(dx, dy) < 4) return;
    d.moved = true;
    this.hideTip();
    const shift = (span: Span, px: number, total: number, step: number): Span => {
      const size = span.end - span.start;
      const start = Math.max(0, Math.min(total - size, span.start - Math.round((px / cell) * step)));
      return { start, end: start + size };
    };
    const r = this.region();
    this.window = {
      rows: shift(d.window.rows, dy, n.Q, r?.rowStep ?? 1),
      cols: shift(d.window.cols, dx, n.K, r?.colStep ?? 1),
    };
    this.dirty = true;
    this.ctx.invalidate();
  }

  private region(): Region | undefined {
    return this.figure.scene?.regions.find((r) => r.id === 'matrix');
  }

  private onKey(e: KeyboardEvent): void {
    const n = this.sides();
    if (!n) return;
    let { row, col } = this.cursor;
    const page = Math.max(1, Math.round((this.window ? this.window.rows.end - this.window.rows.start : n.Q) / 4));
    switch (e.key) {
      case 'ArrowUp':
        row--;
        break;
      case 'ArrowDown':
        row++;
        break;
      case 'ArrowLeft':
        col--;
        break;
      case 'ArrowRight':
        col++;
        break;
      case 'Home':
        if (e.ctrlKey) row = 0;
        col = 0;
        break;
      case 'End':
        if (e.ctrlKey) row = n.Q - 1;
        col = n.K - 1;
        break;
      case 'PageUp':
        row -= page;
        break;
      case 'PageDown':
        row += page;
        break;
      case 'Enter':
      case ' ':
        e.preventDefault();
        this.ctx.selectQuery(row);
        return;
      case '+':
      case '=':
        e.preventDefault();
        this.setZoom(this.zoom * ZOOM_STEP, this.cursor);
        return;
      case '-':
      case '_':
        e.preventDefault();
        this.setZoom(this.zoom / ZOOM_STEP, this.cursor);
        return;
      case '0':
        e.preventDefault();
        this.setZoom(1);
        return;
      default:
        return;
    }
    e.preventDefault();
    this.cursor = { row: Math.max(0, Math.min(n.Q - 1, row)), col: Math.max(0, Math.min(n.K - 1, col)) };
    this.cursorShown = true;
    // A zoomed window follows the cell.
    const w = this.window;
    if (w && this.zoom > 1) {
      const next = { rows: follow(w.rows, this.cursor.row, n.Q), cols: follow(w.cols, this.cursor.col, n.K) };
      if (next.rows.start !== w.rows.start || next.cols.start !== w.cols.start) {
        this.window = next;
        this.dirty = true;
        this.ctx.invalidate();
      }
    }
    this.showCursor();
  }

  /** Outlines the keyboard's cell and announces its query, key and value. */
  private showCursor(): void {
    const { store } = this.ctx;
    const s = store.maps.shape(store.layer);
    const r = this.region();
    if (!s || !r) return;
    const { row, col } = this.cursor;
    if (row >= s.queryLength || col >= s.keyLength) this.cursor = { row: 0, col: 0 };
    const cr = Math.floor((this.cursor.row - r.rowStart) / r.rowStep);
    const cc = Math.floor((this.cursor.col - r.colStart) / r.colStep);
    if (cr >= 0 && cr < r.rows && cc >= 0 && cc < r.cols) this.figure.outline({ region: 'matrix', row: cr, col: cc });
    const value = exactOrPending(() => store.maps.value(store.layer, store.head, this.cursor.row, this.cursor.col));
    if (value === undefined) {
      this.readout.textContent = `Query ${this.cursor.row} → key ${this.cursor.col}: computing…`;
      return;
    }
    const text = `Query ${this.cursor.row} ${this.token(this.cursor.row)} → key ${this.cursor.col} ${this.token(this.cursor.col)}: ${this.valueText(value, this.cursor.row, this.cursor.col)}`;
    this.readout.textContent = text;
    this.readout.dataset.row = String(this.cursor.row);
    this.readout.dataset.col = String(this.cursor.col);
    this.readout.dataset.value = String(value);
  }

  private token(i: number): string {
    const t = this.ctx.store.tokens[i];
    return t ? `“${t.label}”` : '';
  }

  private valueText(value: number, row: number, col: number): string {
    const s = this.ctx.store.maps.shape(this.ctx.store.layer);
    const masked = !!s && ((s.mask.causal && col > row) || (s.mask.window !== null && row - col >= s.mask.window));
    return `${formatSig(value)}${masked ? ' (masked)' : ''}`;
  }

  private onHover(e: MouseEvent): void {
    const c = this.figure.hit(e, 'matrix');
    if (!c) return this.hideTip();
    this.showTip(c, e);
  }

  /** The alignment switch shows on cross layers; checked, the readout lists each target token's argmax source token
   * (data-alignment: the source index per target row). */
  private showAlignment(cross: boolean): void {
    const { store } = this.ctx;
    this.alignControl.hidden = !cross;
    const path = cross && this.alignBox.checked ? argmaxAlignment(store.maps, store.layer, store.head) : undefined;
    this.alignText.hidden = !path;
    if (!path) {
      this.alignText.textContent = '';
      delete this.alignText.dataset.alignment;
      return;
    }
    const target = sideTokens(store.maps, 'target');
    const source = store.maps.tokens;
    this.alignText.dataset.alignment = JSON.stringify(path);
    this.alignText.textContent =
      'Alignment: ' + path.map((c, r) => `${target[r]?.label ?? r} → ${source[c]?.label ?? c}`).join(', ');
  }

  private showTip(c: RegionHit, e: MouseEvent): void {
    const { store } = this.ctx;
    if (!store.maps.shape(store.layer)) return;
    const row = c.dataRow;
    const col = c.dataCol;
    // A kept run (long inputs): the exact value is asked of the host; the tip shows it once it has arrived.
    const value = exactOrPending(() => store.maps.value(store.layer, store.head, row, col));
    // Until it arrives the tip names the cell and says so (no value of another cell stays shown); the view redraws
    // on arrival and draw() shows it (tipPending).
    this.tipPending = value === undefined ? e : null;
    // Encoder–decoder layers: rows and columns from the source or the target (figures/seq2seq-axes.ts).
    const sides = axisSides(store.facts?.attentionKinds[store.layer] ?? 'self');
    const rowTokens = sideTokens(store.maps, sides.rows);
    const colTokens = sideTokens(store.maps, sides.cols);
    this.tipTokens.textContent = `${rowTokens[row]?.label ?? row} → ${colTokens[col]?.label ?? col}`;
    this.tipValue.textContent = `query ${row}, key ${col}: ${value === undefined ? 'computing…' : this.valueText(value, row, col)}`;
    if (value === undefined) delete this.tooltip.dataset.value;
    else this.tooltip.dataset.value = String(value);
    this.tooltip.dataset.row = String(row);
    this.tooltip.dataset.col = String(col);
    this.tooltip.hidden = false;
    this.tooltip.style.left = `${Math.min(e.clientX + 14, window.innerWidth - 220)}px`;
    this.tooltip.style.top = `${e.clientY + 14}px`;
    if (!this.hovered || this.hovered.row !== row || this.hovered.col !== col) {
      this.highlight(this.hovered, false);
      this.hovered = { row, col };
      this.highlight(this.hovered, true);
      this.figure.outline({ region: 'matrix', row: c.row, col: c.col });
    }
  }

  /** Highlights the hovered cell's row and column labels (when they are drawn). */
  private highlight(c: { row: number; col: number } | null, on: boolean): void {
    if (!c) return;
    for (const t of this.figure.targets) {
      const i = Number(t.dataset.index);
      const mine = t.classList.contains('matrix-label-row') ? i === c.row : i === c.col;
      if (mine || !on) t.classList.toggle('hover', on && mine);
    }
  }

  private hideTip(): void {
    this.tipPending = null;
    this.tooltip.hidden = true;
    if (this.hovered) {
      this.highlight(this.hovered, false);
      this.hovered = null;
      this.figure.outline(null);
      if (this.cursorShown) this.showCursor();
    }
  }
}

/** A value now, or undefined while a kept run's exact value is on its way (the view redraws when it arrives). */
function exactOrPending(read: () => number): number | undefined {
  try {
    return read();
  } catch (e) {
    if (e instanceof PendingExact) return undefined;
    throw e;
  }
}
