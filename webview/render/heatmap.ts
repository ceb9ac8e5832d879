// Heatmap rasters and head aggregation: pure functions on float32 attention, producing RGBA pixel buffers that a
// canvas (ImageData), a PNG encoder or the CLI can use. DOM-free.

/** Mean or max over heads of a [heads, rows, cols] tensor → [rows, cols]. */
export function aggregateHeads(
  data: Float32Array,
  heads: number,
  rows: number,
  cols: number,
  mode: 'mean' | 'max',
): Float32Array {
  const n = rows * cols;
  const out = new Float32Array(n);
  if (heads <= 0) return out;
  out.set(data.subarray(0, n));
  for (let h = 1; h < heads; h++) {
    const base = h * n;
    if (mode === 'max') {
      for (let i = 0; i < n; i++) {
        const v = data[base + i];
        if (v > out[i]) out[i] = v;
      }
    } else {
      for (let i = 0; i < n; i++) out[i] += data[base + i];
    }
  }
  if (mode === 'mean') for (let i = 0; i < n; i++) out[i] /= heads;
  return out;
}

/** Largest value of data[offset, offset + length), at least `floor` (so an all-zero map does not divide by 0). */
export function maxValue(data: Float32Array, offset: number, length: number, floor = 1e-12): number {
  let m = floor;
  for (let i = offset, end = offset + length; i < end; i++) if (data[i] > m) m = data[i];
  return m;
}

export interface RasterOptions {
  /** 256-entry RGBA lookup table (colorLut). */
  lut: Uint8Array;
  /** The value drawn with the last colour of the table (values are divided by it and clamped). */
  vmax: number;
  /** Draw cells above the diagonal (col > row) with maskColor instead of their value (causal layers). */
  causal?: boolean;
  /** RGBA of masked cells. */
  maskColor?: [number, number, number, number];
}

/**
 * Rasterises the matrix [rows, cols] stored row-major at data[offset...] into an outW × outH RGBA buffer.
 * Each output pixel shows the MAX over the source cells it covers (so a single strong link stays visible in a
 * thumbnail); with outW = cols and outH = rows it is one pixel per cell. A pixel is masked only when every cell it
 * covers is masked.
 */
export function rasterize(
  data: Float32Array,
  offset: number,
  rows: number,
  cols: number,
  outW: number,
  outH: number,
  options: RasterOptions,
  out: Uint8ClampedArray<ArrayBuffer> = new Uint8ClampedArray(outW * outH * 4),
): Uint8ClampedArray<ArrayBuffer> {
  const { lut, vmax, causal = false, maskColor = [128, 128, 128, 255] } = options;
  const scale = vmax > 0 ? 255 / vmax : 0;
  for (let y = 0; y < outH; y++) {
    const r0 = Math.floor((y * rows) / outH);
    const r1 = Math.max(r0 + 1, Math.floor(((y + 1) * rows) / outH));
    for (let x = 0; x < outW; x++) {
      const c0 = Math.floor((x * cols) / outW);
      const c1 = Math.max(c0 + 1, Math.floor(((x + 1) * cols) / outW));
      const p = (y * outW + x) * 4;
      // Every covered cell is masked when the smallest column exceeds the largest row.
      if (causal && c0 > r1 - 1) {
        out[p] = maskColor[0];
        out[p + 1] = maskColor[1];
        out[p + 2] = maskColor[2];
        out[p + 3] = maskColor[3];
        continue;
      }
      let m = 0;
      for (let r = r0; r < r1; r++) {
        const rowBase = offset + r * cols;
        const cEnd = causal ? Math.min(c1, r + 1) : c1;
        for (let c = c0; c < cEnd; c++) {
          const v = data[rowBase + c];
          if (v > m) m = v;
        }
      }
      const idx = Math.min(255, Math.max(0, Math.round(m * scale))) * 4;
      out[p] = lut[idx];
      out[p + 1] = lut[idx + 1];
      out[p + 2] = lut[idx + 2];
      out[p + 3] = lut[idx + 3];
    }
  }
  return out;
}
