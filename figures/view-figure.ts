// The exported figure of an attention view (matrix, model grid, head view): the view's figure function with the
// export's theme (PAPER), caption (model, layer, head, the source sentence) and size limits per format:
//   matrix  PNG: at most 4096 device px of cells a side (4096/scale cells; beyond, max pooling); SVG: at most 256 cells
//           a side (65,536 <rect>s).
//   grid    thumbnails of at most 48 cells a side; SVG: fewer when layers × heads × cells² would pass 120,000 rects.
//   head    rows shrink so that the figure stays under 16,384 device px tall; labels need 10 px rows; a window of
//           tokens (a run kept for long inputs: the panel's ±64 around the chosen token) drawn as the panel draws it.
// The panel's export (extension host) and `attention-lens export` (CLI) both call this, so they write the same image.
import type { ColorMapName } from './colormap';
import { EXPORT_OPTIONS, ExportError } from './figure-kit';
import { EXPORT_GRID_SIZE, gridFigure, type GridGeometry } from './grid-figure';
import { headFigure, type HeadGeometry } from './head-figure';
import { EXPORT_MATRIX_SIZE, matrixFigure, type MatrixGeometry } from './matrix-figure';
import type { HeadChoice, RunMaps } from './run-maps';
import type { Scene } from './scene';
import type { Span } from './heads';
import { PAPER } from './theme';

export type ImageFormat = 'png' | 'svg';
export type ExportView = 'matrix' | 'grid' | 'head';
export const EXPORT_VIEWS: readonly ExportView[] = ['matrix', 'grid', 'head'];
export const PNG_SCALES: readonly number[] = [1, 2, 3, 4];
export const PNG_MAX_MATRIX_PX = 4096;
export const SVG_MAX_MATRIX_CELLS = 256;
export const SVG_MAX_GRID_RECTS = 120_000;
export const MAX_HEAD_PX = 16384;

export interface ViewSpec {
  view: ExportView;
  layer: number;
  head: HeadChoice;
  colorMap: ColorMapName;
  /** The matrix: the rows (queries) and columns (keys) shown, default the whole map (the panel's zoomed window).
   *  The head view: the tokens shown on both sides (rows = cols; a run kept for long inputs shows a window). */
  window?: { rows: Span; cols: Span };
}

export type Geometry = MatrixGeometry | GridGeometry | HeadGeometry;

export function checkScale(scale: number): void {
  if (!PNG_SCALES.includes(scale)) throw new ExportError(`Scale must be 1, 2, 3 or 4 (got ${scale}).`);
}

/** The figure of a view for an export in `format` (PNG at `scale`), captioned with `source` when given. */
export function viewFigure(
  maps: RunMaps,
  spec: ViewSpec,
  format: ImageFormat,
  scale = 1,
  source?: string,
): { scene: Scene; geometry: Geometry } {
  if (format === 'png') checkScale(scale);
  const options = { ...EXPORT_OPTIONS, ...(source ? { source } : {}) };
  const state = { layer: spec.layer, head: spec.head, colorMap: spec.colorMap };
  switch (spec.view) {
    case 'matrix': {
      const maxCells = format === 'png' ? Math.floor(PNG_MAX_MATRIX_PX / scale) : SVG_MAX_MATRIX_CELLS;
      const matrixState = spec.window ? { ...state, window: spec.window } : state;
      return matrixFigure(maps, matrixState, { ...EXPORT_MATRIX_SIZE, maxCells }, PAPER, options);
    }
    case 'grid': {
      const thumbs = Math.max(1, maps.layerCount * maps.headCount);
      const svgCells = Math.max(4, Math.floor(Math.sqrt(SVG_MAX_GRID_RECTS / thumbs)));
      const maxThumbCells = format === 'png' ? 48 : Math.min(48, svgCells);
      return gridFigure(maps, state, { ...EXPORT_GRID_SIZE, maxThumbCells }, PAPER, options);
    }
    case 'head': {
      const w = spec.window;
      if (w && (w.rows.start !== w.cols.start || w.rows.end !== w.cols.end))
        throw new ExportError(
          `The head view shows the same tokens on both sides: its window's rows ${w.rows.start}–${w.rows.end - 1} and columns ${w.cols.start}–${w.cols.end - 1} must be equal.`,
        );
      return headFigure(
        maps,
        w ? { ...state, window: w.rows } : state,
        { maxHeight: format === 'png' ? MAX_HEAD_PX / scale : MAX_HEAD_PX },
        PAPER,
        options,
      );
    }
    default:
      throw new ExportError(`Unknown view "${String(spec.view)}": use matrix, grid or head.`);
  }
}

/** The device-pixel size of a scene as PNG at `scale`. */
export function pngSize(scene: Scene, scale: number): { width: number; height: number } {
  return { width: Math.ceil(scene.width * scale), height: Math.ceil(scene.height * scale) };
}
