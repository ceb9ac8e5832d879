// The one entry point for image exports, used by the panel's export (extension host) and by `attention-lens export`
// (CLI), so both write the same bytes for the same run and view. Size rules (documented in the images' notes):
//   matrix  PNG: at most 4096 device px of cells a side (4096/scale cells; beyond, max pooling); SVG: at most 256 cells
//           a side (65,536 <rect>s).
//   grid    thumbnails of at most 48 cells a side; SVG: fewer when layers × heads × cells² would pass 120,000 rects.
//   head    rows shrink so that the figure stays under 16,384 device px tall; labels need 10 px rows.
import { ExportError, type ExportInput, type Figure, type ViewSpec } from './export-figure';
import { gridFigure, type GridGeometry } from './export-grid';
import { headFigure, type HeadGeometry } from './export-head';
import { matrixFigure, type MatrixGeometry } from './export-matrix';
import { figureToRaster, rasterToPng } from './png';
import { figureToSvg } from './svg';

export type ImageFormat = 'png' | 'svg';
export type Geometry = MatrixGeometry | GridGeometry | HeadGeometry;
export const PNG_MAX_MATRIX_PX = 4096;
export const SVG_MAX_MATRIX_CELLS = 256;
export const SVG_MAX_GRID_RECTS = 120_000;
export const MAX_HEAD_PX = 16384;

export interface ImageResult {
  format: ImageFormat;
  bytes: Uint8Array;
  /** Device pixels for PNG; SVG user units. */
  width: number;
  height: number;
  scale: number;
  notes: string[];
  figure: Figure;
  /** The view's geometry in CSS px (matrix origin and cell size, grid pitch, head rows...). */
  geometry: Geometry;
}

/** The figure of a view, with the size limits of the format. */
export function buildFigure(
  input: ExportInput,
  spec: ViewSpec,
  format: ImageFormat,
  scale = 1,
): { figure: Figure; geometry: Geometry } {
  switch (spec.view) {
    case 'matrix':
      return matrixFigure(input, spec, format === 'png' ? Math.floor(PNG_MAX_MATRIX_PX / scale) : SVG_MAX_MATRIX_CELLS);
    case 'grid': {
      const thumbs = Math.max(1, input.layers.length * input.heads);
      const svgCells = Math.max(4, Math.floor(Math.sqrt(SVG_MAX_GRID_RECTS / thumbs)));
      return gridFigure(input, spec, format === 'png' ? 48 : Math.min(48, svgCells));
    }
    case 'head':
      return headFigure(input, spec, format === 'png' ? MAX_HEAD_PX / scale : MAX_HEAD_PX);
    default:
      throw new ExportError(`Unknown view "${String(spec.view)}": use matrix, grid or head.`);
  }
}

/** Renders a view of a run as PNG (at `scale`) or SVG bytes. Throws ExportError for a bad request. */
export function exportImage(
  input: ExportInput,
  spec: ViewSpec,
  options: { format: ImageFormat; scale?: number },
): ImageResult {
  const scale = options.format === 'png' ? (options.scale ?? 1) : 1;
  const { figure, geometry } = buildFigure(input, spec, options.format, scale);
  if (options.format === 'svg') {
    const bytes = new TextEncoder().encode(figureToSvg(figure));
    return {
      format: 'svg',
      bytes,
      width: figure.width,
      height: figure.height,
      scale,
      notes: figure.notes,
      figure,
      geometry,
    };
  }
  const raster = figureToRaster(figure, scale);
  const bytes = rasterToPng(raster, figure.title, figure.notes);
  return {
    format: 'png',
    bytes,
    width: raster.width,
    height: raster.height,
    scale,
    notes: figure.notes,
    figure,
    geometry,
  };
}

/** "1,234 × 567 px, 1.2 MB" (SVG: "… units, N elements"). */
export function describeImage(r: ImageResult): string {
  const unit = r.format === 'png' ? 'px' : 'units';
  return `${r.width} × ${r.height} ${unit}, ${formatBytes(r.bytes.length)}`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}
