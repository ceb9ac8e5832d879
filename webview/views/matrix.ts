// Matrix: the matrix figure (figures/matrix-figure.ts) of the selected layer and head, painted to fit the panel's
// width, with the exact float32 value of the cell under the mouse in a tooltip, that cell outlined and its row and
// column labels highlighted; a click on a cell or a row label picks its query token. The canvas exposes its cell
// geometry (data-cell-size, data-origin-x, data-origin-y, data-rows, data-cols; CSS pixels) for tests.
import { el } from '../dom';
import { matrixFigure } from '../../figures/matrix-figure';
import { PANEL_OPTIONS } from '../../figures/figure-kit';
import { SceneCanvas, type RegionHit } from '../paint/scene-canvas';
import { panelTheme } from '../paint/panel-theme';
import type { View, ViewContext } from './context';

export class MatrixView implements View {
  readonly root = el('div', { class: 'view matrix-view', attrs: { role: 'tabpanel', 'aria-label': 'Matrix' } });
  private caption = el('div', { class: 'matrix-caption', attrs: { 'aria-live': 'polite' } });
  private figure = new SceneCanvas('matrix-canvas', 'Attention matrix');
  private tooltip = el('div', { id: 'matrix-tooltip', attrs: { role: 'tooltip' } });
  private tipTokens = el('div', { class: 'tip-tokens' });
  private tipValue = el('div', { class: 'tip-value' });
  private dirty = true;
  private hovered: { row: number; col: number } | null = null;

  constructor(private ctx: ViewContext) {
    this.tooltip.append(this.tipTokens, this.tipValue);
    this.tooltip.hidden = true;
    const toolbar = el('div', { class: 'matrix-toolbar' }, this.caption);
    this.root.append(toolbar, el('div', { class: 'matrix-scroll' }, this.figure.root), this.tooltip);
    const canvas = this.figure.canvas;
    canvas.addEventListener('mousemove', (e) => this.onHover(e));
    canvas.addEventListener('mouseleave', () => this.hideTip());
    canvas.addEventListener('click', (e) => {
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
    this.dirty = true;
  }

  layerArrived(layer: number): void {
    if (layer === this.ctx.store.layer) this.dirty = true;
  }

  selectionChanged(): void {
    this.dirty = true;
  }

  restyle(): void {
    this.dirty = true;
  }

  draw(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const { store } = this.ctx;
    const headText = typeof store.head === 'number' ? `head ${store.head}` : `${store.head} over heads`;
    const kind = store.facts?.attentionKinds[store.layer] ?? '';
    const ready = store.maps.shape(store.layer) !== undefined;
    this.caption.textContent = `Layer ${store.layer} · ${headText}${kind ? ` · ${kind}` : ''}${ready ? '' : ' · waiting for this layer…'}`;
    if (!ready) {
      this.figure.root.hidden = true;
      return;
    }
    this.figure.root.hidden = false;
    const theme = panelTheme();
    this.figure.setOutlineColor(theme.focus);
    // Fill the panel's width: about 150 px go to the row labels and margins; 3 to 28 px per cell.
    const available = Math.max(200, (this.root.clientWidth || 600) - 150);
    const { scene, geometry } = matrixFigure(
      store.maps,
      { layer: store.layer, head: store.head, colorMap: store.colorMap },
      { target: available, minCell: 3, maxCell: 28, maxCells: Number.MAX_SAFE_INTEGER },
      theme,
      PANEL_OPTIONS,
    );
    this.figure.show(scene);
    const d = this.figure.canvas.dataset;
    d.cellSize = String(geometry.cell);
    d.originX = String(geometry.x);
    d.originY = String(geometry.y);
    d.rows = String(geometry.rows);
    d.cols = String(geometry.cols);
    this.root.classList.toggle('tiny', geometry.labelStep !== 1);
    if (this.hovered) this.highlight(this.hovered, true);
  }

  private onHover(e: MouseEvent): void {
    const c = this.figure.hit(e, 'matrix');
    if (!c) return this.hideTip();
    this.showTip(c, e);
  }

  private showTip(c: RegionHit, e: MouseEvent): void {
    const { store } = this.ctx;
    const s = store.maps.shape(store.layer);
    if (!s) return;
    const row = c.dataRow;
    const col = c.dataCol;
    const value = store.maps.value(store.layer, store.head, row, col);
    const masked = (s.mask.causal && col > row) || (s.mask.window !== null && row - col >= s.mask.window);
    const tokens = store.tokens;
    this.tipTokens.textContent = `${tokens[row]?.text ?? row} → ${tokens[col]?.text ?? col}`;
    this.tipValue.textContent = `${String(value)}${masked ? ' (masked)' : ''}`;
    this.tooltip.dataset.value = String(value);
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
    this.tooltip.hidden = true;
    if (this.hovered) {
      this.highlight(this.hovered, false);
      this.hovered = null;
      this.figure.outline(null);
    }
  }
}
