// Model grid: layers × heads thumbnails, each the head's [query, key] heatmap drawn at reduced resolution
// (max-pooled so that a single strong link stays visible). Click or Enter opens the matrix for that head;
// arrow keys move between thumbnails (one tab stop for the whole grid).
import { el, clear, themeColor, cssToRgba } from '../dom';
import { thumbResolution } from '../layout';
import { colorLut } from '../render/colormap';
import { maxValue, rasterize } from '../render/heatmap';
import type { View, ViewContext } from './context';

export class GridView implements View {
  readonly root = el('div', { class: 'view grid-view', attrs: { role: 'tabpanel', 'aria-label': 'Model grid' } });
  private canvases: HTMLCanvasElement[][] = [];
  private dirty = new Set<number>();
  private focus = { layer: 0, head: 0 };

  constructor(private ctx: ViewContext) {
    this.root.addEventListener('keydown', (e) => this.onKey(e));
  }

  runStarted(): void {
    const { facts } = this.ctx.store;
    clear(this.root);
    this.canvases = [];
    this.dirty.clear();
    if (!facts) return;
    const grid = el('div', {
      class: 'grid',
      attrs: { role: 'grid', 'aria-label': 'Attention of every layer and head' },
    });
    grid.style.gridTemplateColumns = `auto repeat(${facts.heads}, var(--thumb-size))`;
    grid.appendChild(el('div', { class: 'grid-corner' }));
    for (let h = 0; h < facts.heads; h++) grid.appendChild(el('div', { class: 'grid-col-label', text: `H${h}` }));
    const res = thumbResolution(this.ctx.store.tokens.length);
    for (let l = 0; l < facts.layers; l++) {
      grid.appendChild(
        el('div', { class: 'grid-row-label', text: `L${l}`, title: `Layer ${l} (${facts.attentionKinds[l]})` }),
      );
      const row: HTMLCanvasElement[] = [];
      for (let h = 0; h < facts.heads; h++) {
        const c = el('canvas', {
          class: 'thumb pending',
          title: `Layer ${l}, head ${h}`,
          attrs: {
            'data-layer': String(l),
            'data-head': String(h),
            tabindex: '-1',
            role: 'gridcell',
            'aria-label': `Layer ${l}, head ${h}`,
          },
        });
        c.width = res;
        c.height = res;
        c.addEventListener('click', () => this.open(l, h));
        row.push(c);
        grid.appendChild(c);
      }
      this.canvases.push(row);
    }
    this.root.appendChild(grid);
    this.focus = { layer: 0, head: 0 };
    this.setTabStop();
  }

  layerArrived(layer: number): void {
    this.dirty.add(layer);
  }

  restyle(): void {
    this.ctx.store.layers.forEach((l, i) => l && this.dirty.add(i));
  }

  selectionChanged(): void {
    const { layer, head } = this.ctx.store;
    for (const [l, row] of this.canvases.entries())
      for (const [h, c] of row.entries())
        c.classList.toggle('selected', l === layer && (head === h || typeof head !== 'number'));
  }

  draw(): void {
    if (this.dirty.size === 0) return;
    const { store } = this.ctx;
    const lut = colorLut(store.colorMap);
    const maskColor = cssToRgba(themeColor('--vscode-editorWidget-background', '#808080'));
    for (const layer of this.dirty) {
      const l = store.layers[layer];
      const row = this.canvases[layer];
      if (!l || !row) continue;
      const n = l.queryLength * l.keyLength;
      const res = row[0]?.width ?? 1;
      const buf = new Uint8ClampedArray(res * res * 4);
      for (let h = 0; h < l.heads && h < row.length; h++) {
        const off = h * n;
        rasterize(
          l.data,
          off,
          l.queryLength,
          l.keyLength,
          res,
          res,
          {
            lut,
            vmax: maxValue(l.data, off, n),
            causal: l.kind === 'causal',
            maskColor,
          },
          buf,
        );
        const g = row[h].getContext('2d');
        if (g) g.putImageData(new ImageData(buf, res, res), 0, 0);
        row[h].classList.remove('pending');
      }
    }
    this.dirty.clear();
  }

  private open(layer: number, head: number): void {
    this.focus = { layer, head };
    this.setTabStop();
    this.ctx.select(layer, head);
    this.ctx.show('matrix');
  }

  private setTabStop(): void {
    for (const [l, row] of this.canvases.entries())
      for (const [h, c] of row.entries()) c.tabIndex = l === this.focus.layer && h === this.focus.head ? 0 : -1;
  }

  private onKey(e: KeyboardEvent): void {
    if (!this.canvases.length) return;
    let { layer, head } = this.focus;
    const L = this.canvases.length;
    const H = this.canvases[0].length;
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
    this.setTabStop();
    this.canvases[layer][head].focus();
    this.ctx.select(layer, head);
  }
}
