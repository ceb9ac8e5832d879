// The scene: what a figure function returns and every painter draws — the panel's canvas (webview/paint), SVG
// (figures/svg.ts) and PNG (writers/, SVG rasterised by resvg). Plain data in CSS pixels: cell images, rectangles,
// lines, polylines, circles, text and hatched regions, plus what the panel needs for interaction without laying
// anything out again: hit-test grids (regions) and hit areas with their DOM meaning (targets). DOM-free.

export type Rgb = readonly [number, number, number];

/** A block of rows × cols equal cells, each one colour (a heatmap, a thumbnail, a legend bar). */
export interface ImageItem {
  kind: 'image';
  /** Also the SVG class of the group ('matrix', 'thumb', 'legend', 'head-stat'...). */
  role: string;
  x: number;
  y: number;
  cellW: number;
  cellH: number;
  rows: number;
  cols: number;
  /** [rows, cols, 4] RGBA (alpha 255). */
  rgba: Uint8ClampedArray;
  /** [rows, cols] the values drawn (SVG data-weight attributes); absent for legends. */
  values?: Float32Array;
  /** [rows, cols]: 1 where the cell is masked (no value). */
  masked?: Uint8Array;
  /** Extra SVG attributes of the group (data-layer...). */
  attrs?: Record<string, string>;
}

export interface RectItem {
  kind: 'rect';
  role: string;
  x: number;
  y: number;
  w: number;
  h: number;
  fill: Rgb | null;
  stroke?: Rgb;
  /** Stroke width in CSS px (default 1), drawn inside the rectangle. */
  strokeWidth?: number;
}

export interface LineItem {
  kind: 'line';
  role: string;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  color: Rgb;
  opacity: number;
  width?: number;
  /** SVG data-* attributes (the head view's head, query, key). */
  attrs?: Record<string, string>;
}

export interface PolylineItem {
  kind: 'polyline';
  role: string;
  points: readonly (readonly [number, number])[];
  color: Rgb;
  width: number;
  attrs?: Record<string, string>;
}

export interface CircleItem {
  kind: 'circle';
  role: string;
  cx: number;
  cy: number;
  r: number;
  fill: Rgb;
}

export interface TextItem {
  kind: 'text';
  /** 'label-row' | 'label-col' | 'caption' | 'note' | 'axis' | 'legend' | ... (the SVG class). */
  role: string;
  /** Anchor point: horizontally start/middle/end of the text, vertically its centre. */
  x: number;
  y: number;
  text: string;
  size: number;
  color: Rgb;
  anchor: 'start' | 'middle' | 'end';
  /** Rotated −90° about (x, y): reads bottom to top. */
  vertical?: boolean;
  /** SVG data-* attributes (data-index, data-token for a shortened label). */
  attrs?: Record<string, string>;
}

/** A polygon filled with `background` and crossed by diagonal lines (masked cells in the panel). */
export interface HatchItem {
  kind: 'hatch';
  role: string;
  points: readonly (readonly [number, number])[];
  background: Rgb;
  color: Rgb;
  opacity: number;
  spacing: number;
}

export type SceneItem = ImageItem | RectItem | LineItem | PolylineItem | CircleItem | TextItem | HatchItem;

/**
 * A grid of hit cells: cell (r, c) covers [x + c·pitchX, + cellW) × [y + r·pitchY, + cellH) and stands for data
 * row rowStart + r·rowStep, column colStart + c·colStep (a pooled cell covers rowStep × colStep entries).
 */
export interface Region {
  /** 'matrix', 'thumbs', 'a', 'b', 'diff', 'head-stat:entropy'... */
  id: string;
  x: number;
  y: number;
  cellW: number;
  cellH: number;
  pitchX: number;
  pitchY: number;
  rows: number;
  cols: number;
  rowStart: number;
  colStart: number;
  rowStep: number;
  colStep: number;
}

/** A hit area with a DOM meaning: the panel puts a transparent element there (text layer, focus, click, tooltip). */
export interface Target {
  /** The element's class ('matrix-label-row', 'thumb', 'strip-token', 'agree-cell', ...). */
  role: string;
  x: number;
  y: number;
  w: number;
  h: number;
  /** Its text (read by screen readers, selectable); absent for cells. */
  text?: string;
  /** Tooltip. */
  title?: string;
  /** aria-label for elements without text. */
  label?: string;
  /** data-* attributes (index, layer, head, method, score...), named as `dataset` names them (camelCase: stackLayer is
   *  data-stack-layer; a hyphen would throw in the panel). */
  data?: Record<string, string>;
}

export interface Scene {
  width: number;
  height: number;
  /** Painted first over the whole scene. */
  background: Rgb;
  /** CSS font stack of every text item. */
  fontFamily: string;
  /** SVG <title>, PNG Title. */
  title: string;
  /** Plain-language notes (SVG <desc>, PNG Comment); also drawn when the figure has a caption. */
  notes: string[];
  items: SceneItem[];
  regions: Region[];
  targets: Target[];
  /** A table's headers: the rows above `top` (column labels) and the columns left of `left` (row labels), which the
   *  panel keeps in view while the table scrolls (frozenShift); an export draws the scene as it is. */
  frozen?: Frozen;
}

/** The header bands of a table scene (CSS px from its top left): column labels above `top`, row labels left of
 *  `left`; no cell of the table lies in either. */
export interface Frozen {
  top: number;
  left: number;
}

/**
 * How far the panel moves a table's header bands so that they stay in view: `view` is where the visible area starts,
 * in the scene's px (negative while the scene's top or left edge is in view). The column-label band moves down by
 * `dy` as the table scrolls up past its top, until it meets the table's last row; the row-label band moves right by
 * `dx` likewise; their corner moves by both.
 */
export function frozenShift(
  size: { width: number; height: number },
  frozen: Frozen,
  view: { x: number; y: number },
): { dx: number; dy: number } {
  const clamp = (v: number, hi: number) => Math.max(0, Math.min(Math.max(0, hi), v));
  return { dx: clamp(view.x, size.width - frozen.left), dy: clamp(view.y, size.height - frozen.top) };
}

/** The region with this id; throws when the scene has none (a figure function's bug). */
export function region(scene: Scene, id: string): Region {
  const r = scene.regions.find((x) => x.id === id);
  if (!r) throw new Error(`the scene has no region "${id}"`);
  return r;
}

/** The cell of a region under (x, y), or null outside its cells (gaps between pitched cells included). */
export function cellAtPoint(r: Region, x: number, y: number): { row: number; col: number } | null {
  const dx = x - r.x;
  const dy = y - r.y;
  if (dx < 0 || dy < 0) return null;
  const col = Math.floor(dx / r.pitchX);
  const row = Math.floor(dy / r.pitchY);
  if (row >= r.rows || col >= r.cols) return null;
  if (dx - col * r.pitchX >= r.cellW || dy - row * r.pitchY >= r.cellH) return null;
  return { row, col };
}

/** The box of cell (row, col) of a region. */
export function cellBox(r: Region, row: number, col: number): { x: number; y: number; w: number; h: number } {
  return { x: r.x + col * r.pitchX, y: r.y + row * r.pitchY, w: r.cellW, h: r.cellH };
}

/** Moves every item, region and target of `scene` by (dx, dy) into `into` (composing figures). */
export function place(into: Pick<Scene, 'items' | 'regions' | 'targets'>, scene: Scene, dx: number, dy: number): void {
  for (const it of scene.items) into.items.push(shift(it, dx, dy));
  for (const r of scene.regions) into.regions.push({ ...r, x: r.x + dx, y: r.y + dy });
  for (const t of scene.targets) into.targets.push({ ...t, x: t.x + dx, y: t.y + dy });
}

function shift(it: SceneItem, dx: number, dy: number): SceneItem {
  switch (it.kind) {
    case 'line':
      return { ...it, x1: it.x1 + dx, y1: it.y1 + dy, x2: it.x2 + dx, y2: it.y2 + dy };
    case 'polyline':
    case 'hatch':
      return { ...it, points: it.points.map(([x, y]) => [x + dx, y + dy] as const) };
    case 'circle':
      return { ...it, cx: it.cx + dx, cy: it.cy + dy };
    default:
      return { ...it, x: it.x + dx, y: it.y + dy };
  }
}
