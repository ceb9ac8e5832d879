// A DOM-free RGB pixel buffer with the few drawing operations exports need: filled rectangles, anti-aliased lines
// with opacity (Xiaolin Wu's algorithm, blended over what is there), and bitmap-font text (horizontal or rotated to
// read bottom-to-top). The PNG exporter rasterises figures into it; the CLI and the extension host share it.
import { GLYPH_ADVANCE, GLYPH_HEIGHT, glyphOf, toFontText } from './export-font';

export type Rgb = readonly [number, number, number];

/** Largest raster an export may allocate (pixels): 8192 × 8192 (192 MiB of RGB). */
export const MAX_RASTER_PIXELS = 8192 * 8192;

export class Raster {
  /** Row-major [height, width, 3] RGB bytes. */
  readonly data: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = [255, 255, 255],
  ) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
      throw new RangeError(`raster size must be positive integers, got ${width} × ${height}`);
    if (width * height > MAX_RASTER_PIXELS)
      throw new RangeError(`raster of ${width} × ${height} pixels exceeds the limit of ${MAX_RASTER_PIXELS}`);
    this.data = new Uint8Array(width * height * 3);
    this.fillRect(0, 0, width, height, background);
  }

  /** The [r, g, b] at (x, y). */
  pixel(x: number, y: number): [number, number, number] {
    const p = (y * this.width + x) * 3;
    return [this.data[p], this.data[p + 1], this.data[p + 2]];
  }

  /** Fills the integer rectangle [x, x + w) × [y, y + h), clipped to the raster. */
  fillRect(x: number, y: number, w: number, h: number, c: Rgb): void {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w));
    const y1 = Math.min(this.height, Math.round(y + h));
    if (x1 <= x0 || y1 <= y0) return;
    const d = this.data;
    for (let yy = y0; yy < y1; yy++) {
      let p = (yy * this.width + x0) * 3;
      for (let xx = x0; xx < x1; xx++, p += 3) {
        d[p] = c[0];
        d[p + 1] = c[1];
        d[p + 2] = c[2];
      }
    }
  }

  /** Blends colour c with opacity a (0..1) into pixel (x, y). */
  blend(x: number, y: number, c: Rgb, a: number): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height || !(a > 0)) return;
    const p = (y * this.width + x) * 3;
    const d = this.data;
    const k = Math.min(1, a);
    d[p] = Math.round(d[p] + (c[0] - d[p]) * k);
    d[p + 1] = Math.round(d[p + 1] + (c[1] - d[p + 1]) * k);
    d[p + 2] = Math.round(d[p + 2] + (c[2] - d[p + 2]) * k);
  }

  /** An anti-aliased 1-pixel line (Xiaolin Wu) of colour c and opacity a, from (x0, y0) to (x1, y1). */
  line(x0: number, y0: number, x1: number, y1: number, c: Rgb, a: number): void {
    const steep = Math.abs(y1 - y0) > Math.abs(x1 - x0);
    if (steep) [x0, y0, x1, y1] = [y0, x0, y1, x1];
    if (x0 > x1) [x0, y0, x1, y1] = [x1, y1, x0, y0];
    const dx = x1 - x0;
    const gradient = dx === 0 ? 1 : (y1 - y0) / dx;
    const plot = (x: number, y: number, cover: number) =>
      steep ? this.blend(y, x, c, a * cover) : this.blend(x, y, c, a * cover);
    const xs = Math.round(x0);
    const xe = Math.round(x1);
    let y = y0 + gradient * (xs - x0);
    for (let x = xs; x <= xe; x++, y += gradient) {
      const yi = Math.floor(y);
      const f = y - yi;
      plot(x, yi, 1 - f);
      plot(x, yi + 1, f);
    }
  }

  /**
   * Draws text with the bitmap font at integer pixel size k (each font pixel is k × k). (x, y) is the anchor:
   * horizontally the start, middle or end of the text; vertically its centre. Vertical text is rotated 90° to read
   * bottom-to-top, anchored at its start (the bottom). Returns the width drawn along the text direction.
   */
  text(
    x: number,
    y: number,
    text: string,
    k: number,
    c: Rgb,
    anchor: 'start' | 'middle' | 'end' = 'start',
    vertical = false,
  ): number {
    const chars = [...toFontText(text)];
    const length = chars.length * GLYPH_ADVANCE * k;
    const shift = anchor === 'start' ? 0 : anchor === 'middle' ? length / 2 : length;
    const top = Math.round(-(GLYPH_HEIGHT * k) / 2);
    const origin = Math.round(vertical ? y + shift : x - shift);
    chars.forEach((ch, i) => {
      const g = glyphOf(ch);
      for (let r = 0; r < 8; r++) {
        const bits = g[r];
        if (!bits) continue;
        for (let col = 0; col < 5; col++) {
          if (!(bits & (1 << (4 - col)))) continue;
          const along = i * GLYPH_ADVANCE * k + col * k;
          const across = top + r * k;
          if (vertical) this.fillRect(Math.round(x) + across, origin - along - k, k, k, c);
          else this.fillRect(origin + along, Math.round(y) + across, k, k, c);
        }
      }
    });
    return length;
  }
}
