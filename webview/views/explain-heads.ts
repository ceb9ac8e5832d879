// The Explain view's head statistics: small multiples, one per statistic (entropy, special-token share, punctuation
// share, previous-token score, mean attended distance, JSD from uniform), each a layers × heads grid with its own
// colour scale and uniform attention's value marked on its legend — the figures of figures/explain-figure.ts
// (headStatFigure), each painted in its own canvas. Hovering a cell (or moving with the arrow keys) outlines that head
// in every multiple and reads out the exact value; clicking it (or Enter) opens the head in the Matrix view. Exposes
// data-* values for tests (data-layers, data-heads, data-cell, data-grid-x/y on each canvas; data-layer, data-head,
// data-stat, data-value on the readout).
import type { ExplainResult } from '../../runtime/explain/result';
import { el, clear } from '../dom';
import type { ColorMapName } from '../../figures/colormap';
import { headStatFigure } from '../../figures/explain-figure';
import { gridValue, headStatGrids, readoutText, type HeadStatGrid } from '../../figures/head-stats';
import { cellAtPoint, region, type Region } from '../../figures/scene';
import { SceneCanvas } from '../paint/scene-canvas';
import { panelTheme } from '../paint/panel-theme';

interface Multiple {
  grid: HeadStatGrid;
  region: Region;
  view: SceneCanvas;
}

export class HeadStatsPanel {
  readonly root: HTMLElement;
  private container = el('div', { id: 'head-stats', class: 'head-stats' });
  private readout = el('div', {
    id: 'head-stats-readout',
    class: 'head-stats-readout',
    text: ' ',
    attrs: { role: 'status' },
  });
  private multiples: Multiple[] = [];
  private hovered: { row: number; col: number } | undefined;

  /** `open`: show that head in the Matrix view. */
  constructor(
    private readonly colorMap: () => ColorMapName,
    private readonly open: (layer: number, head: number) => void,
  ) {
    this.root = el(
      'section',
      { class: 'explain-section head-stats-section' },
      el('h3', { text: 'Head statistics' }),
      el('div', {
        class: 'explain-note',
        text:
          'One grid per statistic: rows are layers, columns heads. Each grid has its own colour scale, from its ' +
          'smallest to its largest value; the mark on its legend is the value of uniform attention. Hover a cell ' +
          'for its value, click it to open the head in the Matrix view.',
      }),
      this.container,
      this.readout,
    );
    this.root.hidden = true;
  }

  clear(): void {
    clear(this.container);
    this.multiples = [];
    this.hovered = undefined;
    this.setReadout(undefined);
    this.root.hidden = true;
  }

  /** Draws the statistics of a result (again: a new result, the colour map or the theme changed). */
  show(result: ExplainResult): void {
    const grids = headStatGrids(result);
    const keep = this.hovered;
    clear(this.container);
    this.multiples = [];
    this.root.hidden = grids.length === 0;
    if (!grids.length) return this.setReadout(undefined);
    const theme = panelTheme();
    for (const grid of grids) {
      const scene = headStatFigure(grid, this.colorMap(), theme);
      const r = region(scene, `head-stat:${grid.stat.key}`);
      const view = new SceneCanvas(
        `head-stat-${grid.stat.key}`,
        `${grid.stat.title}: ${grid.stat.about}, per layer and head`,
      );
      view.setOutlineColor(theme.focus);
      view.show(scene);
      const canvas = view.canvas;
      canvas.classList.add('head-stat-canvas');
      canvas.tabIndex = 0;
      const d = canvas.dataset;
      d.stat = grid.stat.key;
      d.layers = String(grid.layers.length);
      d.heads = String(grid.heads);
      d.cell = String(r.cellW);
      d.gridX = String(r.x);
      d.gridY = String(r.y);
      d.lo = String(grid.domain.lo);
      d.hi = String(grid.domain.hi);
      d.baseline = grid.marks.map(String).join(' ');
      const m: Multiple = { grid, region: r, view };
      const at = (e: MouseEvent) => {
        const b = canvas.getBoundingClientRect();
        return cellAtPoint(r, e.clientX - b.left, e.clientY - b.top);
      };
      canvas.addEventListener('mousemove', (e) => this.hover(m, at(e)));
      canvas.addEventListener('mouseleave', () => this.setHovered(undefined));
      canvas.addEventListener('click', (e) => {
        const c = at(e);
        if (c) this.open(m.grid.layers[c.row], c.col);
      });
      canvas.addEventListener('keydown', (e) => this.onKey(m, e));
      canvas.addEventListener('focus', () => this.setHovered(this.hovered ?? { row: 0, col: 0 }, m));
      this.multiples.push(m);
      this.container.appendChild(
        el('figure', { class: 'head-stat', attrs: { 'data-stat': grid.stat.key } }, view.root),
      );
    }
    // Redrawn (a new colour map or theme): the same head stays outlined, the readout on the same statistic.
    const fits = keep && keep.row < grids[0].layers.length && keep.col < grids[0].heads;
    const shown = this.multiples.find((m) => m.grid.stat.key === this.readout.dataset.stat) ?? this.multiples[0];
    this.setHovered(fits ? keep : undefined, shown);
  }

  private hover(m: Multiple, c: { row: number; col: number } | null): void {
    if (!c) return this.setHovered(undefined);
    if (this.hovered?.row !== c.row || this.hovered?.col !== c.col || this.readout.dataset.stat !== m.grid.stat.key)
      this.setHovered(c, m);
  }

  private onKey(m: Multiple, e: KeyboardEvent): void {
    const rows = m.grid.layers.length;
    const cols = m.grid.heads;
    let { row, col } = this.hovered ?? { row: 0, col: 0 };
    switch (e.key) {
      case 'ArrowLeft':
        col = Math.max(0, col - 1);
        break;
      case 'ArrowRight':
        col = Math.min(cols - 1, col + 1);
        break;
      case 'ArrowUp':
        row = Math.max(0, row - 1);
        break;
      case 'ArrowDown':
        row = Math.min(rows - 1, row + 1);
        break;
      case 'Enter':
      case ' ':
        e.preventDefault();
        this.open(m.grid.layers[row], col);
        return;
      default:
        return;
    }
    e.preventDefault();
    this.setHovered({ row, col }, m);
  }

  /** Outlines the head in every multiple and reads out its value in `m`'s statistic. */
  private setHovered(c: { row: number; col: number } | undefined, m?: Multiple): void {
    this.hovered = c;
    for (const x of this.multiples) x.view.outline(c ? { region: x.region.id, ...c } : null);
    this.setReadout(c && m ? { m, ...c } : undefined);
  }

  private setReadout(h: { m: Multiple; row: number; col: number } | undefined): void {
    const d = this.readout.dataset;
    if (!h) {
      this.readout.textContent = ' ';
      for (const k of ['stat', 'layer', 'head', 'value', 'baseline']) delete d[k];
      return;
    }
    const { grid } = h.m;
    this.readout.textContent = readoutText(grid, h.row, h.col);
    d.stat = grid.stat.key;
    d.layer = String(grid.layers[h.row]);
    d.head = String(h.col);
    d.value = String(gridValue(grid, h.row, h.col));
    d.baseline = String(grid.baselines[h.row]);
  }
}
