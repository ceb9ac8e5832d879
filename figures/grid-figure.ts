// The model grid: layers × heads thumbnails, each a head's [query, key] map pooled to at most `maxThumbCells` cells a
// side (the maximum over the tokens a cell covers, so a single strong link stays visible) and scaled to its own
// maximum; the selected layer/head outlined; layers not computed yet drawn as empty frames. One target per thumbnail
// (the panel's click, focus and keyboard), one region over all of them. Encoder–decoder runs draw their entries in
// three labelled sections (figures/stacks.ts: encoder self-attention, decoder self-attention, cross-attention), each
// row named by its layer within its stack, one region per section.
import { colorLut, lutRamp, type ColorMapName } from './colormap';
import {
  ExportError,
  LABEL_SIZE,
  MARGIN,
  SceneBuilder,
  caption,
  promptLengthOf,
  captionWidth,
  checkLayerHead,
  colorBar,
  notesBlock,
  type FigureOptions,
} from './figure-kit';
import { overview, type HeadChoice, type RunMaps } from './run-maps';
import type { Scene } from './scene';
import { stackSections, type StackKind } from './stacks';
import type { AttentionKind } from '../runtime/types';
import type { FigureTheme } from './theme';
import { tileColors } from './tile-colors';

export interface GridState {
  /** The selected layer and head (outlined; mean/max outline the layer's every head). */
  layer: number;
  head: HeadChoice;
  colorMap: ColorMapName;
  /** Each entry's kind (the model facts), known before its layer arrives; otherwise read from the arrived layers. */
  kinds?: readonly AttentionKind[];
}

export interface GridSize {
  /** A thumbnail is about this many px a side (an integer number of px per cell). */
  thumb: number;
  /** Cells a thumbnail side at most. */
  maxThumbCells: number;
}

export const EXPORT_GRID_SIZE: GridSize = { thumb: 48, maxThumbCells: 48 };

export interface GridGeometry {
  x: number;
  y: number;
  /** Thumbnail side (px) and pitch (side + gap). */
  side: number;
  pitch: number;
  /** Cells a thumbnail side, and px per cell. */
  res: number;
  cell: number;
  /** Thumbnails drawn (their layer has arrived). */
  drawn: number;
  /** y of each layer's row of thumbnails (encoder–decoder sections move rows down by their titles). */
  rowY: number[];
}

const GAP = 6;
/** Height of an encoder–decoder section's title above its rows. */
export const SECTION_TITLE = LABEL_SIZE + 10;

export function gridFigure(
  maps: RunMaps,
  state: GridState,
  size: GridSize,
  theme: FigureTheme,
  options: FigureOptions,
): { scene: Scene; geometry: GridGeometry } {
  checkLayerHead(maps, state.layer, state.head, false);
  const L = maps.layerCount;
  const H = maps.headCount;
  const n = maps.tokens.length;
  let computed = false;
  for (let l = 0; l < L; l++) if (maps.shape(l)) computed = true;
  if (!computed && options.caption) throw new ExportError('No layer has been computed yet: wait for the run.');
  const res = Math.max(1, Math.min(n, size.maxThumbCells, size.thumb));
  const cell = Math.max(1, Math.floor(size.thumb / res));
  const side = res * cell;
  const pitch = side + GAP;
  const lut = colorLut(state.colorMap);
  const b = new SceneBuilder(theme);
  const P = promptLengthOf(maps);
  // Encoder–decoder entries: three titled sections, how many of each kind in the title, rows labelled E0, D0, X0.
  const kinds = Array.from({ length: L }, (_, l) => state.kinds?.[l] ?? maps.shape(l)?.kind);
  const sections = stackSections(kinds);
  const T = maps.targetTokens?.length;
  const tokensText = sections && T ? `${n} source + ${T} target tokens` : `${n} tokens`;
  const byKind = sections ? ` (${sections.map((s) => `${s.count} ${s.kind}`).join(', ')})` : '';
  const title =
    `${maps.modelName} · model grid: ${L} layers${byKind} × ${H} heads · ${tokensText}` +
    (P !== undefined ? ` (${P} prompt + ${n - P} generated)` : '');
  let y = caption(b, title, options, MARGIN + H * pitch);
  // Row tops: one pitch per layer, and each encoder–decoder section's title above its first row.
  const sectionOf = (layer: number) => sections?.findIndex((s) => layer >= s.first && layer < s.first + s.count) ?? -1;
  const y0 = y + LABEL_SIZE + 6;
  const rowY = Array.from({ length: L }, (_, l) => {
    const i = sectionOf(l);
    return y0 + l * pitch + (sections ? (i >= 0 ? i + 1 : sections.length) * SECTION_TITLE : 0);
  });
  const PREFIX: Record<StackKind, string> = { encoder: 'E', decoder: 'D', cross: 'X' };
  const rowName = (layer: number) => {
    const i = sectionOf(layer);
    return i >= 0 ? `${PREFIX[sections![i].kind]}${layer - sections![i].first}` : `L${layer}`;
  };
  const x0 = Math.round(MARGIN + Math.max(0, ...Array.from({ length: L }, (_, l) => b.width(rowName(l)))) + 8);
  const thumbName = (layer: number, h: number) => {
    const i = sectionOf(layer);
    if (i < 0) return `Layer ${layer}, head ${h}`;
    const s = sections![i];
    return `${s.title}: layer ${layer - s.first} (entry ${layer}), head ${h}`;
  };
  for (let h = 0; h < H; h++)
    b.text(x0 + h * pitch + side / 2, y0 - 4 - LABEL_SIZE / 2, `H${h}`, 'axis', {
      anchor: 'middle',
      color: theme.muted,
    });
  let pending = 0;
  let drawn = 0;
  for (const sec of sections ?? [])
    b.text(MARGIN, rowY[sec.first] - SECTION_TITLE / 2 - 1, sec.title, 'stack-title', { color: theme.ink });
  for (let layer = 0; layer < L; layer++) {
    const ty = rowY[layer];
    b.text(x0 - 6, ty + side / 2, rowName(layer), 'axis', { anchor: 'end', color: theme.muted });
    const s = maps.shape(layer);
    const sec = sections?.[sectionOf(layer)];
    for (let h = 0; h < H; h++) {
      const tx = x0 + h * pitch;
      const ready = s !== undefined && h < s.heads;
      b.targets.push({
        role: 'thumb',
        x: tx,
        y: ty,
        w: side,
        h: side,
        title: thumbName(layer, h),
        label: thumbName(layer, h),
        data: {
          layer: String(layer),
          head: String(h),
          ...(sec ? { stack: sec.kind, stackLayer: String(layer - sec.first) } : {}),
          ...(ready ? {} : { pending: '1' }),
        },
      });
      if (!ready) {
        pending++;
        b.rect(tx, ty, side, side, null, 'pending', theme.frame);
        continue;
      }
      drawn++;
      const tile = overview(maps, layer, h, res);
      b.items.push({
        kind: 'image',
        role: 'thumb',
        x: tx,
        y: ty,
        cellW: cell,
        cellH: cell,
        rows: tile.rows,
        cols: tile.cols,
        rgba: tileColors(tile, state.colorMap, maps.maximum(layer, h), theme.masked),
        values: tile.values,
        masked: tile.masked,
        attrs: { 'data-layer': String(layer), 'data-head': String(h) },
      });
      // Where the generated tokens start: a rule across the thumbnail above the first generated query row.
      if (P !== undefined && P > 0) {
        const at = ty + Math.round((P / n) * tile.rows) * cell;
        b.items.push({
          kind: 'line',
          role: 'generated-start',
          x1: tx,
          y1: at,
          x2: tx + side,
          y2: at,
          color: theme.focus,
          opacity: 1,
          width: 1,
        });
      }
    }
  }
  // One hit-test grid over the thumbnails; encoder–decoders one per section ('thumbs:encoder', ...).
  for (const part of sections ?? [{ kind: undefined, first: 0, count: L, title: '' }])
    b.regions.push({
      id: part.kind ? `thumbs:${part.kind}` : 'thumbs',
      x: x0,
      y: rowY[part.first],
      cellW: side,
      cellH: side,
      pitchX: pitch,
      pitchY: pitch,
      rows: part.count,
      cols: H,
      rowStart: part.first,
      colStart: 0,
      rowStep: 1,
      colStep: 1,
    });
  // The sections' titles as text (screen readers, tests), after the thumbnails (the panel indexes those by layer).
  for (const sec of sections ?? [])
    b.targets.push({
      role: 'grid-stack',
      x: MARGIN,
      y: rowY[sec.first] - SECTION_TITLE,
      w: b.width(sec.title),
      h: SECTION_TITLE,
      text: sec.title,
      data: { stack: sec.kind, layers: String(sec.count), first: String(sec.first) },
    });
  for (let h = 0; h < H; h++)
    if (typeof state.head !== 'number' || state.head === h)
      b.items.push({
        kind: 'rect',
        role: 'selected',
        x: x0 + h * pitch - 2,
        y: rowY[state.layer] - 2,
        w: side + 4,
        h: side + 4,
        fill: null,
        stroke: theme.focus,
        strokeWidth: 2,
      });

  y = (L ? rowY[L - 1] + pitch : y0) + 10;
  const bar = colorBar(b, MARGIN, y, lutRamp(lut, 64), '0', 'max', 'weight (each head scaled to its own maximum)');
  y += bar.height + 8;
  const notes: string[] = [];
  if (res < n)
    notes.push(`Each thumbnail shows ${n} tokens as ${res} × ${res} cells (maximum over the tokens covered).`);
  if (pending) notes.push(`${pending} thumbnails are empty: their layers had not been computed.`);
  if (P !== undefined)
    notes.push(`The rows below the blue rule are the ${n - P} tokens the model generated after the ${P}-token prompt.`);
  const [bottom, notesW] = notesBlock(b, notes, y, options);
  const sectionW = Math.max(0, ...(sections ?? []).map((s) => MARGIN + b.width(s.title)));
  const width = Math.max(x0 + H * pitch - GAP, MARGIN + bar.width, captionWidth(b, title, options), notesW, sectionW);
  return {
    scene: b.scene(width + MARGIN, bottom + MARGIN, `Attention Lens: ${title}`, notes),
    geometry: { x: x0, y: y0, side, pitch, res, cell, drawn, rowY },
  };
}

/** Cells a thumbnail side for `n` tokens in `thumb` px: whole px per cell, so a thumbnail is cells × px. Every token
 *  its cell when that fills most of the thumbnail (13 tokens × 10 px in 136); otherwise cells one px larger, each
 *  the maximum over the tokens it covers (74 tokens in 136 px: 68 cells of 2 px, not 74 of 1 px). */
export function thumbCells(n: number, thumb: number): number {
  if (n >= thumb) return thumb;
  const px = Math.floor(thumb / n);
  if (px * n >= 0.85 * thumb) return n;
  return Math.max(1, Math.floor(thumb / (px + 1)));
}
