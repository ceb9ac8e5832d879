// How the next token is chosen from a step's logits: greedy (the arg max, lowest id on a tie), or sampled at a
// temperature from the smallest set of most likely tokens whose probability reaches top_p (nucleus sampling), drawn
// with the one seeded PRNG (runtime/random.ts) so that a run with the same seed gives the same tokens.
import { LensError } from '../errors';
import { mulberry32 } from '../random';

export interface SamplingOptions {
  /** 0 (or absent): greedy. */
  temperature?: number;
  /** In (0, 1]; 1 keeps every token. */
  topP?: number;
  /** The PRNG seed of a sampled run (reported so that it can be repeated). */
  seed?: number;
}

/** Checks sampling options; every mistake is one line. */
export function checkSampling(o: SamplingOptions): void {
  if (o.temperature !== undefined && !(Number.isFinite(o.temperature) && o.temperature >= 0))
    throw new LensError('BAD_INPUT', `The temperature must be a number ≥ 0 (0 is greedy), not ${o.temperature}.`);
  if (o.topP !== undefined && !(Number.isFinite(o.topP) && o.topP > 0 && o.topP <= 1))
    throw new LensError('BAD_INPUT', `top-p must be in (0, 1] (1 keeps every token), not ${o.topP}.`);
  if (o.seed !== undefined && !(Number.isInteger(o.seed) && o.seed >= 0 && o.seed <= 0xffffffff))
    throw new LensError('BAD_INPUT', `The seed must be a whole number from 0 to 4294967295, not ${o.seed}.`);
}

/** Index of the largest value (the first of equal ones). */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/** A chooser of next tokens: greedy when the temperature is 0 or absent, else seeded nucleus sampling. */
export function tokenChooser(o: SamplingOptions): (logits: Float32Array) => number {
  checkSampling(o);
  const temperature = o.temperature ?? 0;
  if (temperature === 0) return argmax;
  const topP = o.topP ?? 1;
  const random = mulberry32(o.seed ?? 0);
  return (logits) => nucleusSample(logits, temperature, topP, random());
}

/** The token that uniform `u` in [0, 1) picks from softmax(logits / temperature) cut to its top-p nucleus: tokens
 * in order of probability (lower id first on a tie), kept while the mass before them is below topP. */
export function nucleusSample(logits: Float32Array, temperature: number, topP: number, u: number): number {
  let max = -Infinity;
  for (const x of logits) if (x > max) max = x;
  const p = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += p[i] = Math.exp((logits[i] - max) / temperature);
  const order = Array.from(p.keys()).sort((a, b) => p[b] - p[a] || a - b);
  const kept: number[] = [];
  let mass = 0;
  for (const i of order) {
    if (mass >= topP * sum) break;
    kept.push(i);
    mass += p[i];
  }
  let r = u * mass;
  for (const i of kept) {
    r -= p[i];
    if (r < 0) return i;
  }
  return kept[kept.length - 1];
}
