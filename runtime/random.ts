// One seeded pseudo-random generator for everything that must be reproducible run to run: synthetic weights for
// benchmarks and tests, and the random orders of the explanation baselines.

/** mulberry32: a small, fast, seeded PRNG giving uniforms in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
