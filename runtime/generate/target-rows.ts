// An encoder–decoder translation's maps from its steps' rows: each greedy step gives its query's decoder
// self-attention row [heads, t + 1] and cross-attention row [heads, S]; stacked they are the [heads, T, T] (causal,
// zeros after the diagonal) and [heads, T, S] maps a teacher-forced pass on the output gives. Used where the steps
// arrive: the worker's engine (the finished translation) and the panel's store (the translation as it streams).
// Pure; Node and browsers.

/** [H, keys(t)] rows of T steps → [H, T, K]; row t has keys(t) entries and zeros after them. */
export function stackRows(
  rows: readonly Float32Array[],
  heads: number,
  keys: (t: number) => number,
  K: number,
): Float32Array {
  const T = rows.length;
  const out = new Float32Array(heads * T * K); // [H,T,K]
  rows.forEach((row, t) => {
    const n = keys(t);
    for (let h = 0; h < heads; h++) out.set(row.subarray(h * n, (h + 1) * n), (h * T + t) * K);
  });
  return out;
}
