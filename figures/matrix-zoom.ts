// The matrix's zoom, as what is drawn: at zoom 1 the whole map fits the panel; at zoom z a window of 1/z of the
// tokens a side, around a centre token, fills the same room. The window is what the matrix figure asks RunMaps for
// (a tile pooled to the cells that fit), so the cost of a drawing depends on the panel, not on the input's length:
// the same control serves 13 tokens and 8k. Pure.
import type { Span } from './heads';

/** Zoom steps: each press of + or − (or a wheel notch) multiplies or divides by this. */
export const ZOOM_STEP = 1.5;
/** A zoomed window keeps at least this many tokens a side. */
export const MIN_WINDOW = 4;

/** The largest useful zoom for `total` tokens a side (1 when the input is already that small). */
export function maxZoom(total: number): number {
  return Math.max(1, total / MIN_WINDOW);
}

export function clampZoom(zoom: number, total: number): number {
  return Math.min(maxZoom(total), Math.max(1, Number.isFinite(zoom) ? zoom : 1));
}

/** The tokens [start, end) of one side shown at `zoom`, centred on token `center` as far as the ends allow. */
export function zoomWindow(total: number, zoom: number, center: number): Span {
  const size = Math.max(1, Math.min(total, Math.round(total / clampZoom(zoom, total))));
  const start = Math.max(0, Math.min(total - size, Math.round(center + 0.5 - size / 2)));
  return { start, end: start + size };
}

/** The window moved as little as possible so that `index` lies in it (keyboard navigation in a zoomed matrix). */
export function follow(window: Span, index: number, total: number): Span {
  const size = window.end - window.start;
  let start = window.start;
  if (index < start) start = index;
  else if (index >= window.end) start = index - size + 1;
  start = Math.max(0, Math.min(total - size, start));
  return { start, end: start + size };
}

/** The cell side (px) that fits `rows` × `cols` cells into a `width` × `height` px room: whole px within
 *  [minCell, maxCell]. */
export function fitCell(rows: number, cols: number, width: number, height: number, minCell = 1, maxCell = 40): number {
  const fit = Math.floor(Math.min(width / Math.max(1, cols), height / Math.max(1, rows)));
  return Math.max(minCell, Math.min(maxCell, fit));
}
