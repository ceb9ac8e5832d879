// Matrix: one head (or the mean/max over heads) of one layer as a heatmap with token labels on both axes (query
// rows, key columns), the exact float32 value on hover, and the masked cells hatched: the causal upper triangle, and
// the keys outside a sliding-window layer's window.
// The canvas exposes its cell geometry (data-cell-size, data-origin-x, data-origin-y, CSS pixels) for tests.
import { el, clear, themeColor } from '../dom';
import { cellAt, matrixCellSize } from '../layout';
import { colorLut } from '../render/colormap';
import { maxValue, rasterize } from '../render/heatmap';
import type { Matrix } from '../store';
import type { View, ViewContext } from './context';

export class MatrixView implements View {
  readonly root = el('div', { class: 'view matrix-view', attrs: { role: 'tabpanel', 'aria-label': 'Matrix' } });
  private caption = el('div', { class: 'matrix-caption' });
  private legend = el('canvas', { class: 'legend' });
  private legendMax = el('span', { class: 'legend-max' });
  private layout = el('div', { class: 'matrix-layout' });
  private colLabels = el('div', { class: 'matrix-cols' });
  private rowLabels = el('div', { class: 'matrix-rows' });
  private canvas = el('canvas', { id: 'matrix-canvas', attrs: { 'aria-label': 'Attention matrix' } });
  /** The hovered cell's outline, on its own canvas: hovering redraws only this, never the matrix or its labels. */
  private overlay = el('canvas', { class: 'matrix-overlay', attrs: { 'aria-hidden': 'true' } });
  private tooltip = el('div', { id: 'matrix-tooltip', attrs: { role: 'tooltip' } });
  private tipTokens = el('div', { class: 'tip-tokens' });
  private tipValue = el('div', { class: 'tip-value' });
  private raster = document.createElement('canvas');
  private dirty = true;
  private cell = 10;
  private current: Matrix | undefined;
  private hovered: { row: number; col: number } | null = null;
  /** What the cached raster shows; re-rasterised only when this changes (hover redraws reuse it). */
  private rasterKey = '';
  private rasterData: Float32Array | undefined;

  constructor(private ctx: ViewContext) {
    this.legend.width = 128;
    this.legend.height = 10;
    const toolbar = el(
      'div',
      { class: 'matrix-toolbar' },
      this.caption,
      el('span', { class: 'legend-min', text: '0' }),
      this.legend,
      this.legendMax,
    );
    const wrap = el('div', { class: 'matrix-canvas-wrap' }, this.canvas, this.overlay);
    this.layout.append(el('div', { class: 'matrix-corner' }), this.colLabels, this.rowLabels, wrap);
    this.tooltip.append(this.tipTokens, this.tipValue);
    this.tooltip.hidden = true;
    this.root.append(toolbar, el('div', { class: 'matrix-scroll' }, this.layout), this.tooltip);
    this.canvas.addEventListener('mousemove', (e) => this.onHover(e));
    this.canvas.addEventListener('mouseleave', () => this.hideTip());
    this.canvas.addEventListener('click', (e) => {
      const c = this.cellOf(e);
      if (c) this.ctx.selectQuery(c.row);
    });
  }

  runStarted(): void {
    const tokens = this.ctx.store.tokens;
    clear(this.colLabels);
    clear(this.rowLabels);
    tokens.forEach((t, i) => {
      this.colLabels.appendChild(el('span', { class: 'matrix-label-col', text: t.text, title: `${i}: ${t.text}` }));
      const row = el('span', { class: 'matrix-label-row', text: t.text, title: `${i}: ${t.text}` });
      row.addEventListener('click', () => this.ctx.selectQuery(i));
      this.rowLabels.appendChild(row);
    });
    this.current = undefined;
    this.hideTip();
    this.dirty = true;
  }

  layerArrived(layer: number): void {
    if (layer === this.ctx.store.layer) this.dirty = true;
  }

  selectionChanged(): void {
    this.dirty = true;
  }

  restyle(): void {
    this.rasterKey = '';
    this.dirty = true;
  }

  draw(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const { store } = this.ctx;
    const n = store.tokens.length;
    const headText = typeof store.head === 'number' ? `head ${store.head}` : `${store.head} over heads`;
    const kind = store.facts?.attentionKinds[store.layer] ?? '';
    const m = store.matrix(store.layer, store.head);
    this.current = m;
    this.caption.textContent = `Layer ${store.layer} · ${headText}${kind ? ` · ${kind}` : ''}${m ? '' : ' · waiting for this layer…'}`;
    // Geometry: fill the available width, within [3, 28] px per cell.
    const labelWidth = this.rowLabels.getBoundingClientRect().width || 80;
    const available = Math.max(200, (this.root.clientWidth || 600) - labelWidth - 24);
    this.cell = matrixCellSize(n, available);
    this.layout.style.setProperty('--cell', `${this.cell}px`);
    this.layout.classList.toggle('tiny', this.cell < 9);
    const rows = m?.rows ?? n;
    const cols = m?.cols ?? n;
    const w = cols * this.cell;
    const h = rows * this.cell;
    const dpr = window.devicePixelRatio || 1;
    const cw = Math.max(1, Math.round(w * dpr));
    const ch = Math.max(1, Math.round(h * dpr));
    for (const c of [this.canvas, this.overlay]) {
      if (c.width !== cw) c.width = cw;
      if (c.height !== ch) c.height = ch;
      c.style.width = `${w}px`;
      c.style.height = `${h}px`;
    }
    this.canvas.dataset.cellSize = String(this.cell);
    this.canvas.dataset.originX = '0';
    this.canvas.dataset.originY = '0';
    this.canvas.dataset.rows = String(rows);
    this.canvas.dataset.cols = String(cols);
    const g = this.canvas.getContext('2d');
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const lut = colorLut(store.colorMap);
    const vmax = m ? maxValue(m.data, m.offset, rows * cols) : 1;
    this.drawLegend(lut, vmax);
    if (!m) return;
    const mask = themeColor('--vscode-editor-background', '#1e1e1e');
    const key = `${store.runId}:${store.layer}:${store.head}:${store.colorMap}:${m.data.length}:${m.offset}`;
    if (key !== this.rasterKey || m.data !== this.rasterData) {
      this.raster.width = cols;
      this.raster.height = rows;
      const rg = this.raster.getContext('2d');
      if (!rg) return;
      const px = rasterize(m.data, m.offset, rows, cols, cols, rows, {
        lut,
        vmax,
        causal: m.causal,
        maskColor: [0, 0, 0, 0],
      });
      rg.putImageData(new ImageData(px, cols, rows), 0, 0);
      this.rasterKey = key;
      this.rasterData = m.data;
    }
    g.imageSmoothingEnabled = false;
    g.drawImage(this.raster, 0, 0, w, h);
    if (m.causal && rows > 1) this.hatch(g, rows, cols, mask, (c) => this.upperPath(g, rows, cols, c));
    const win = this.windowOf(store.layer);
    if (win !== null && rows > win) this.hatch(g, rows, cols, mask, (c) => this.windowPath(g, rows, win, c));
    this.drawOverlay();
  }

  /** Clears the overlay and outlines the hovered cell (cheap: no layout, no labels, no matrix redraw). */
  private drawOverlay(): void {
    const g = this.overlay.getContext('2d');
    if (!g) return;
    const dpr = window.devicePixelRatio || 1;
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.clearRect(0, 0, this.overlay.width, this.overlay.height);
    if (!this.hovered) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.outline(g, this.hovered.row, this.hovered.col);
  }

  /** The sliding window of a layer (keys further back than it are masked), or null. */
  private windowOf(layer: number): number | null {
    return this.ctx.store.facts?.slidingWindows?.[layer] ?? null;
  }

  /** Outlines the cells above the diagonal (col > row). */
  private upperPath(g: CanvasRenderingContext2D, rows: number, cols: number, c: number): void {
    g.moveTo(c, 0);
    g.lineTo(cols * c, 0);
    g.lineTo(cols * c, Math.min(rows, cols - 1) * c);
    for (let r = Math.min(rows, cols - 1) - 1; r >= 0; r--) {
      g.lineTo((r + 1) * c, (r + 1) * c);
      g.lineTo((r + 1) * c, r * c);
    }
  }

  /** Outlines the cells outside a sliding window (col <= row - window). */
  private windowPath(g: CanvasRenderingContext2D, rows: number, window: number, c: number): void {
    g.moveTo(0, window * c);
    for (let r = window; r < rows; r++) {
      g.lineTo((r - window + 1) * c, r * c);
      g.lineTo((r - window + 1) * c, (r + 1) * c);
    }
    g.lineTo(0, rows * c);
  }

  /** Hatches masked cells (those `path` outlines): neutral background plus diagonal lines. */
  private hatch(
    g: CanvasRenderingContext2D,
    rows: number,
    cols: number,
    background: string,
    path: (cell: number) => void,
  ): void {
    const c = this.cell;
    g.save();
    g.beginPath();
    path(c);
    g.closePath();
    g.fillStyle = background;
    g.fill();
    g.clip();
    g.strokeStyle = themeColor('--vscode-disabledForeground', '#888888');
    g.globalAlpha = 0.45;
    g.lineWidth = 1;
    g.beginPath();
    const size = Math.max(rows, cols) * c;
    for (let d = -size; d < size; d += 6) {
      g.moveTo(d, 0);
      g.lineTo(d + size, size);
    }
    g.stroke();
    g.restore();
  }

  private outline(g: CanvasRenderingContext2D, row: number, col: number): void {
    g.save();
    g.strokeStyle = themeColor('--vscode-focusBorder', '#0078d4');
    g.lineWidth = 2;
    g.strokeRect(col * this.cell + 1, row * this.cell + 1, this.cell - 2, this.cell - 2);
    g.restore();
  }

  private drawLegend(lut: Uint8Array, vmax: number): void {
    const g = this.legend.getContext('2d');
    if (g) {
      const img = new ImageData(this.legend.width, this.legend.height);
      for (let x = 0; x < img.width; x++) {
        const i = Math.round((x / (img.width - 1)) * 255) * 4;
        for (let y = 0; y < img.height; y++) img.data.set(lut.subarray(i, i + 4), (y * img.width + x) * 4);
      }
      g.putImageData(img, 0, 0);
    }
    this.legendMax.textContent = vmax.toPrecision(3);
  }

  private cellOf(e: MouseEvent): { row: number; col: number } | null {
    const m = this.current;
    if (!m) return null;
    return cellAt(e.offsetX, e.offsetY, 0, 0, this.cell, m.rows, m.cols);
  }

  private onHover(e: MouseEvent): void {
    const m = this.current;
    const c = this.cellOf(e);
    if (!m || !c) return this.hideTip();
    const value = m.data[m.offset + c.row * m.cols + c.col];
    const tokens = this.ctx.store.tokens;
    const win = this.windowOf(this.ctx.store.layer);
    const masked = (m.causal && c.col > c.row) || (win !== null && c.row - c.col >= win);
    this.tipTokens.textContent = `${tokens[c.row]?.text ?? c.row} → ${tokens[c.col]?.text ?? c.col}`;
    this.tipValue.textContent = `${String(value)}${masked ? ' (masked)' : ''}`;
    this.tooltip.dataset.value = String(value);
    this.tooltip.dataset.row = String(c.row);
    this.tooltip.dataset.col = String(c.col);
    this.tooltip.hidden = false;
    this.tooltip.style.left = `${Math.min(e.clientX + 14, window.innerWidth - 220)}px`;
    this.tooltip.style.top = `${e.clientY + 14}px`;
    if (!this.hovered || this.hovered.row !== c.row || this.hovered.col !== c.col) {
      this.highlight(this.hovered, false);
      this.hovered = c;
      this.highlight(c, true);
      this.drawOverlay();
    }
  }

  private highlight(c: { row: number; col: number } | null, on: boolean): void {
    if (!c) return;
    this.rowLabels.children[c.row]?.classList.toggle('hover', on);
    this.colLabels.children[c.col]?.classList.toggle('hover', on);
  }

  private hideTip(): void {
    this.tooltip.hidden = true;
    if (this.hovered) {
      this.highlight(this.hovered, false);
      this.hovered = null;
      this.drawOverlay();
    }
  }
}
