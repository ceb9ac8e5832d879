// The token ids the long-input and raw-graph benches feed: the same seeded sequence in every bench (a linear
// congruential generator from 12345), so their rows run on the same ids, never the special ids 0–2.
export function seededIds(n: number, vocab: number): number[] {
  let s = 12345;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return 3 + (s % (vocab - 3));
  });
}
