// Rasterises a figure at an integer scale (1 CSS px = `scale` device px) and encodes it as an 8-bit RGB PNG
// (fast-png: pure JavaScript, no DOM, no native code). Cells are whole device pixels, so a cell's pixels carry exactly
// its colour-map colour; text uses the bitmap font of export-font.ts, lines are anti-aliased and blended.
import { encode } from 'fast-png';
import { ExportError, type Figure, type FigureItem } from './export-figure';
import { MAX_RASTER_PIXELS, Raster } from './raster';

export const PNG_SCALES: readonly number[] = [1, 2, 3, 4];

function draw(r: Raster, it: FigureItem, s: number): void {
  switch (it.kind) {
    case 'cells': {
      const w = it.cell * s;
      const h = (it.cellH ?? it.cell) * s;
      const x0 = Math.round(it.x * s);
      const y0 = Math.round(it.y * s);
      for (let row = 0; row < it.rows; row++)
        for (let col = 0; col < it.cols; col++) {
          const i = (row * it.cols + col) * 3;
          r.fillRect(x0 + col * w, y0 + row * h, w, h, [it.colors[i], it.colors[i + 1], it.colors[i + 2]]);
        }
      return;
    }
    case 'rect': {
      const x = Math.round(it.x * s);
      const y = Math.round(it.y * s);
      const w = Math.round(it.w * s);
      const h = Math.round(it.h * s);
      if (it.fill) r.fillRect(x, y, w, h, it.fill);
      if (it.stroke) {
        r.fillRect(x, y, w, s, it.stroke);
        r.fillRect(x, y + h - s, w, s, it.stroke);
        r.fillRect(x, y, s, h, it.stroke);
        r.fillRect(x + w - s, y, s, h, it.stroke);
      }
      return;
    }
    case 'text':
      r.text(
        it.x * s,
        it.y * s,
        it.text,
        Math.max(1, Math.round((it.size * s) / 10)),
        it.color,
        it.anchor,
        it.vertical,
      );
      return;
    case 'line':
      r.line(it.x1 * s, it.y1 * s, it.x2 * s, it.y2 * s, it.color, it.opacity);
      return;
  }
}

/** The device-pixel size of a figure at `scale`. */
export function pngSize(f: Figure, scale: number): { width: number; height: number } {
  return { width: Math.ceil(f.width * scale), height: Math.ceil(f.height * scale) };
}

export function figureToRaster(f: Figure, scale: number): Raster {
  if (!PNG_SCALES.includes(scale)) throw new ExportError(`Scale must be 1, 2, 3 or 4 (got ${scale}).`);
  const { width, height } = pngSize(f, scale);
  if (width * height > MAX_RASTER_PIXELS)
    throw new ExportError(
      `The image would be ${width} × ${height} pixels, more than the limit of ${MAX_RASTER_PIXELS / 1048576} megapixels: choose a smaller scale or export SVG.`,
    );
  const r = new Raster(width, height, f.background);
  for (const it of f.items) if (it.kind !== 'line') draw(r, it, scale);
  for (const it of f.items) if (it.kind === 'line') draw(r, it, scale);
  return r;
}

/** PNG bytes of a raster (RGB, 8 bits, with the title and notes as tEXt chunks). */
export function rasterToPng(r: Raster, title: string, notes: string[]): Uint8Array {
  const latin1 = (s: string) => s.replace(/[^\x20-\x7e\xa0-\xff]/g, '?');
  const text: Record<string, string> = { Title: latin1(title), Software: 'Attention Lens' };
  if (notes.length) text.Comment = latin1(notes.join(' '));
  return encode({ width: r.width, height: r.height, data: r.data, channels: 3, depth: 8, text });
}
