// The one entry point for image exports, used by the panel's export (extension host) and `attention-lens export`
// (CLI): the view's figure (figures/view-figure.ts) written as SVG or rasterised to PNG, so both write the same bytes
// for the same run and view. sceneImage writes any other figure (Explain, compare) the same way.
import type { RunMaps } from '../figures/run-maps';
import type { Scene } from '../figures/scene';
import { sceneToSvg } from '../figures/svg';
import { pngSize, viewFigure, type Geometry, type ImageFormat, type ViewSpec } from '../figures/view-figure';
import { sceneToPng, type RasterOptions } from './png';

export interface ImageResult {
  format: ImageFormat;
  bytes: Uint8Array;
  /** Device pixels for PNG; SVG user units. */
  width: number;
  height: number;
  scale: number;
  notes: string[];
  scene: Scene;
  /** The view's geometry in CSS px (matrix origin and cell size, grid pitch, head rows...). */
  geometry: Geometry;
}

/** A scene as PNG (at `scale`) or SVG bytes, with its size (device px for PNG). */
export async function sceneImage(
  scene: Scene,
  format: ImageFormat,
  scale = 1,
  options: RasterOptions = {},
): Promise<{ bytes: Uint8Array; width: number; height: number }> {
  if (format === 'svg')
    return { bytes: new TextEncoder().encode(sceneToSvg(scene)), width: scene.width, height: scene.height };
  const bytes = await sceneToPng(scene, scale, options);
  return { bytes, ...pngSize(scene, scale) };
}

/** Renders a view of a run as PNG (at `scale`) or SVG bytes. Throws ExportError for a bad request. */
export async function exportImage(
  maps: RunMaps,
  spec: ViewSpec,
  options: { format: ImageFormat; scale?: number; source?: string } & RasterOptions,
): Promise<ImageResult> {
  const scale = options.format === 'png' ? (options.scale ?? 1) : 1;
  const { scene, geometry } = viewFigure(maps, spec, options.format, scale, options.source);
  const image = await sceneImage(scene, options.format, scale, options);
  return { format: options.format, ...image, scale, notes: scene.notes, scene, geometry };
}

/** "1,234 × 567 px, 1.2 MB" (SVG: "… units"). */
export function describeImage(r: { format: ImageFormat; width: number; height: number; bytes: Uint8Array }): string {
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
