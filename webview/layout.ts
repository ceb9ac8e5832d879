// Layout maths of the views (DOM-free so that unit tests can check it).

/** Side of a matrix cell in CSS pixels: fill `available` pixels, between `min` and `max`. */
export function matrixCellSize(n: number, available: number, min = 3, max = 28): number {
  if (n <= 0) return max;
  return Math.max(min, Math.min(max, Math.floor(available / n)));
}

/** The cell under (x, y) (CSS pixels relative to the canvas), or null outside the matrix. */
export function cellAt(
  x: number,
  y: number,
  originX: number,
  originY: number,
  cellSize: number,
  rows: number,
  cols: number,
): { row: number; col: number } | null {
  const col = Math.floor((x - originX) / cellSize);
  const row = Math.floor((y - originY) / cellSize);
  if (row < 0 || col < 0 || row >= rows || col >= cols) return null;
  return { row, col };
}

/** Thumbnail raster resolution: the token count, reduced to at most `max` pixels a side. */
export function thumbResolution(n: number, max = 48): number {
  return Math.max(1, Math.min(n, max));
}

/** How a model turns q·k into a score: the factor (1/√d unless the model says otherwise) and gemma2's soft-cap. */
export interface ScoreRule {
  scale?: number;
  softcap?: number;
}

/** The neuron view's numbers for one query token: q·k, the score (q·k/√d, or the model's scale and soft-cap) and
 * the softmax over keys (masked keys excluded). */
export function neuronScores(
  q: Float32Array,
  keys: Float32Array[],
  headDim: number,
  masked: (keyIndex: number) => boolean,
  rule: ScoreRule = {},
): { dot: number[]; scaled: number[]; softmax: number[] } {
  const dot = keys.map((k) => {
    let s = 0;
    for (let i = 0; i < headDim; i++) s += q[i] * k[i];
    return s;
  });
  const scale = rule.scale ?? 1 / Math.sqrt(headDim);
  const cap = rule.softcap;
  const scaled = dot.map((d) => (cap ? cap * Math.tanh((d * scale) / cap) : d * scale));
  let m = -Infinity;
  scaled.forEach((s, j) => {
    if (!masked(j) && s > m) m = s;
  });
  const e = scaled.map((s, j) => (masked(j) ? 0 : Math.exp(s - m)));
  const z = e.reduce((a, b) => a + b, 0);
  return { dot, scaled, softmax: e.map((v) => (z > 0 ? v / z : 0)) };
}

/** Index of the head colour for head h (distinct hues, cycling after 12). */
export function headHue(h: number, heads: number): number {
  const n = Math.max(1, Math.min(heads, 12));
  return Math.round(((h % n) * 360) / n);
}
