// What the two encoder–decoder benches (bench/seq2seq.ts: the project's own graphs; bench/seq2seq-onnx.ts: imported
// optimum exports) share: a teacher-forced pass and greedy steps timed in wall and CPU time, runners interleaved
// (round i starts with runner i mod k, after one warm-up each), and the table cells with ratios to a baseline runner.
import { fmt, summarize } from './stats';

export interface Seq2SeqSample {
  forcedMs: number;
  forcedCpuMs: number;
  perStepMs: number;
  perStepCpuMs: number;
}

/** Every runner `runs` times, interleaved, after one warm-up each on short inputs; the samples per runner's name. */
export async function interleavedSamples<R, S>(
  runners: Record<string, R>,
  runs: number,
  once: (r: R, warmUp: boolean) => Promise<S>,
): Promise<Record<string, S[]>> {
  const names = Object.keys(runners);
  const samples: Record<string, S[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) await once(runners[n], true);
  for (let i = 0; i < runs; i++)
    for (let j = 0; j < names.length; j++) {
      const n = names[(i + j) % names.length];
      samples[n].push(await once(runners[n], false));
    }
  return samples;
}

/** Per runner: teacher-forced ms, its ratio, CPU ms, its ratio, then the same per greedy step (median (min–max)). */
export function ratioCells(samples: Record<string, Seq2SeqSample[]>, baseline: string): Record<string, string[]> {
  const of = (n: string, k: keyof Seq2SeqSample) => summarize(samples[n].map((s) => s[k]));
  const ratio = (n: string, k: keyof Seq2SeqSample) => `${(of(n, k).median / of(baseline, k).median).toFixed(3)}×`;
  const keys: [keyof Seq2SeqSample, number][] = [
    ['forcedMs', 1],
    ['forcedCpuMs', 1],
    ['perStepMs', 2],
    ['perStepCpuMs', 2],
  ];
  return Object.fromEntries(
    Object.keys(samples).map((n) => [n, keys.flatMap(([k, digits]) => [fmt(of(n, k), digits), ratio(n, k)])]),
  );
}
