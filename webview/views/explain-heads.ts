// The Explain view's head statistics: small multiples, one canvas per statistic (entropy, special-token share,
// punctuation share, previous-token score, mean attended distance, JSD from uniform), each a layers × heads grid with
// its own colour scale and uniform attention's value marked on its legend (geometry and scales from
// webview/render/explain-heads.ts, which the image export uses too). Hovering a cell (or moving with the arrow keys)
// outlines that head in every multiple and reads out the exact value; clicking it (or Enter) opens the head in the
// Matrix view. Labels are drawn with fillText, the readout set through textContent. Exposes data-* values for tests
// (data-layers, data-heads, data-cell, data-grid-x/y on each canvas; data-layer, data-head, data-stat, data-value on
// the readout).
import type { ExplainResult } from '../../runtime/explain/result';
import { el, clear, cssToRgba, themeColor } from '../dom';
import type { ColorMapName } from '../render/colormap';
import { colorLut } from '../render/colormap';
import {
  cellAtPoint,
  cellBox,
  gridValue,
  headStatGrids,
  multipleLayout,
  readoutText,
  statColor,
  type HeadStatGrid,
  type MultipleLayout,
  type MultipleText,
} from '../render/explain-heads';

interface Multiple {
  grid: HeadStatGrid;
  layout: MultipleLayout;
  canvas: HTMLCanvasElement;
  /** The multiple without the outline, at device resolution. */
  base: HTMLCanvasElement;
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
    const lut = colorLut(this.colorMap());
    const theme = {
      ink: themeColor('--vscode-foreground', '#cccccc'),
      muted: themeColor('--vscode-descriptionForeground', '#999999'),
      background: themeColor('--vscode-editor-background', '#1e1e1e'),
      missing: cssToRgba(themeColor('--vscode-disabledForeground', '#808080')),
      font: themeColor('--vscode-editor-font-family', 'monospace'),
    };
    const dpr = window.devicePixelRatio || 1;
    for (const grid of grids) {
      const layout = multipleLayout(grid);
      const canvas = el('canvas', {
        id: `head-stat-${grid.stat.key}`,
        class: 'head-stat-canvas',
        attrs: {
          role: 'img',
          tabindex: '0',
          'aria-label': `${grid.stat.title}: ${grid.stat.about}, per layer and head`,
          'data-stat': grid.stat.key,
          'data-layers': String(grid.layers.length),
          'data-heads': String(grid.heads),
          'data-cell': String(layout.cell),
          'data-grid-x': String(layout.grid.x),
          'data-grid-y': String(layout.grid.y),
          'data-lo': String(grid.domain.lo),
          'data-hi': String(grid.domain.hi),
          'data-baseline': grid.marks.map(String).join(' '),
        },
      });
      canvas.width = Math.max(1, Math.round(layout.width * dpr));
      canvas.height = Math.max(1, Math.round(layout.height * dpr));
      canvas.style.width = `${layout.width}px`;
      canvas.style.height = `${layout.height}px`;
      const base = document.createElement('canvas');
      base.width = canvas.width;
      base.height = canvas.height;
      const g = base.getContext('2d');
      if (g) {
        g.setTransform(dpr, 0, 0, dpr, 0, 0);
        drawMultiple(g, grid, layout, lut, theme);
      }
      const m: Multiple = { grid, layout, canvas, base };
      canvas.addEventListener('mousemove', (e) => this.hover(m, e.offsetX, e.offsetY));
      canvas.addEventListener('mouseleave', () => this.setHovered(undefined));
      canvas.addEventListener('click', (e) => {
        const c = cellAtPoint(m.layout, e.offsetX, e.offsetY);
        if (c) this.open(m.grid.layers[c.row], c.col);
      });
      canvas.addEventListener('keydown', (e) => this.onKey(m, e));
      canvas.addEventListener('focus', () => this.setHovered(this.hovered ?? { row: 0, col: 0 }, m));
      this.multiples.push(m);
      this.container.appendChild(el('figure', { class: 'head-stat', attrs: { 'data-stat': grid.stat.key } }, canvas));
    }
    // Redrawn (a new colour map or theme): the same head stays outlined, the readout on the same statistic.
    const fits = keep && keep.row < grids[0].layers.length && keep.col < grids[0].heads;
    const shown = this.multiples.find((m) => m.grid.stat.key === this.readout.dataset.stat) ?? this.multiples[0];
    this.setHovered(fits ? keep : undefined, shown);
  }

  private hover(m: Multiple, x: number, y: number): void {
    const c = cellAtPoint(m.layout, x, y);
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
    const outline = themeColor('--vscode-focusBorder', '#007fd4');
    for (const x of this.multiples) {
      const g = x.canvas.getContext('2d');
      if (!g) continue;
      g.setTransform(1, 0, 0, 1, 0, 0);
      g.clearRect(0, 0, x.canvas.width, x.canvas.height);
      g.drawImage(x.base, 0, 0);
      if (!c) continue;
      const dpr = x.canvas.width / Math.max(1, x.layout.width);
      const b = cellBox(x.layout, c.row, c.col);
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      g.strokeStyle = outline;
      g.lineWidth = x === m ? 2 : 1;
      g.strokeRect(b.x - 0.5, b.y - 0.5, b.width + 1, b.height + 1);
    }
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

/** One multiple: title, axis labels, the cells, the legend bar with the baseline marks, and the legend's text. */
function drawMultiple(
  g: CanvasRenderingContext2D,
  grid: HeadStatGrid,
  lay: MultipleLayout,
  lut: Uint8Array,
  theme: { ink: string; muted: string; background: string; missing: [number, number, number, number]; font: string },
): void {
  const rgb = (c: readonly number[]) => `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
  const write = (t: MultipleText, color: string, bold = false) => {
    g.font = `${bold ? '600 ' : ''}${t.size}px ${theme.font}`;
    g.fillStyle = color;
    g.textAlign = t.anchor === 'middle' ? 'center' : t.anchor === 'end' ? 'right' : 'left';
    g.textBaseline = 'middle';
    g.fillText(t.text, t.x, t.y);
  };
  write(lay.title, theme.ink, true);
  for (const t of [...lay.rowLabels, ...lay.colLabels]) write(t, theme.muted);
  const missing = `rgba(${theme.missing[0]}, ${theme.missing[1]}, ${theme.missing[2]}, 0.35)`;
  for (let r = 0; r < grid.layers.length; r++)
    for (let c = 0; c < grid.heads; c++) {
      const b = cellBox(lay, r, c);
      const color = statColor(gridValue(grid, r, c), grid.domain, lut);
      g.fillStyle = color ? rgb(color) : missing;
      g.fillRect(b.x, b.y, b.width, b.height);
    }
  const bar = lay.bar;
  const gradient = g.createLinearGradient(bar.x, 0, bar.x + bar.width, 0);
  for (let i = 0; i <= 16; i++) {
    const j = Math.round((i / 16) * 255) * 4;
    gradient.addColorStop(i / 16, rgb([lut[j], lut[j + 1], lut[j + 2]]));
  }
  g.fillStyle = gradient;
  g.fillRect(bar.x, bar.y, bar.width, bar.height);
  // The baseline marks in the ink colour, edged with the background so that they show on any colour of the bar.
  for (const m of lay.marks) {
    g.fillStyle = theme.background;
    g.fillRect(m.box.x - 1, m.box.y, m.box.width + 2, m.box.height);
    g.fillStyle = theme.ink;
    g.fillRect(m.box.x, m.box.y, m.box.width, m.box.height);
  }
  g.fillStyle = theme.ink;
  g.fillRect(lay.markKey.x, lay.markKey.y, lay.markKey.width, lay.markKey.height);
  lay.legend.forEach((t, i) => write(t, i < 2 ? theme.ink : theme.muted));
}
