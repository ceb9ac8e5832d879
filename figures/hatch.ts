// Outlines of the masked cells of a heatmap as staircase polygons (the causal upper triangle, the keys out of a
// sliding window), so that a painter can hatch them. Masked cells form at most a run at the start and a run at the
// end of each row (a window masks the first keys, causality the last). DOM-free.

type Point = readonly [number, number];

/**
 * The polygons covering the masked cells of a rows × cols grid (cell w × h at x, y), from `masked` [rows, cols].
 * One for the runs that end each row, one for the runs that start it; rows without a run pinch to zero width.
 */
export function maskedPolygons(
  masked: Uint8Array,
  rows: number,
  cols: number,
  x: number,
  y: number,
  w: number,
  h: number,
): Point[][] {
  const tail: number[] = []; // first column of the masked run ending each row (cols: none)
  const head: number[] = []; // end of the masked run starting each row (0: none)
  let anyTail = false;
  let anyHead = false;
  for (let r = 0; r < rows; r++) {
    let t = cols;
    while (t > 0 && masked[r * cols + t - 1]) t--;
    let s = 0;
    while (s < t && masked[r * cols + s]) s++;
    tail.push(t);
    head.push(s);
    if (t < cols) anyTail = true;
    if (s > 0) anyHead = true;
  }
  const out: Point[][] = [];
  const staircase = (left: (r: number) => number, right: (r: number) => number): Point[] => {
    const pts: Point[] = [];
    for (let r = 0; r < rows; r++) pts.push([x + left(r) * w, y + r * h], [x + left(r) * w, y + (r + 1) * h]);
    for (let r = rows - 1; r >= 0; r--) pts.push([x + right(r) * w, y + (r + 1) * h], [x + right(r) * w, y + r * h]);
    return pts;
  };
  if (anyTail)
    out.push(
      staircase(
        (r) => tail[r],
        () => cols,
      ),
    );
  if (anyHead)
    out.push(
      staircase(
        () => 0,
        (r) => head[r],
      ),
    );
  return out;
}
