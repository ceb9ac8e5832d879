// `npx tsx bench/finite-check.ts [--model DIR] [--runs N]`: what the NaN / ±Infinity check of every weight at load
// costs (runtime/finite.ts, called by the safetensors store for each tensor it reads). In one process, interleaved:
// the model's load as the worker does it (config, every tensor read and checked, graphs built), and the check alone
// over the same tensors; prints median (min–max) ms and the check's share of the load.
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { firstNonFinite } from '../runtime/finite';
import { buildPlan, readModel } from '../runtime/models/read-model';
import { fmt, summarize, table } from './stats';

const { values: argv } = parseArgs({ options: { model: { type: 'string' }, runs: { type: 'string' } } });
const dir = path.resolve(argv.model ?? '.cache/models/all-MiniLM-L6-v2');
const runs = Number(argv.runs ?? 15);

async function main(): Promise<void> {
  const load: number[] = [];
  const check: number[] = [];
  let values = 0;
  for (let i = 0; i < runs + 2; i++) {
    const t0 = performance.now();
    const source = await readModel(dir);
    buildPlan(source); // reads (and checks) every tensor into the stage graphs
    const t1 = performance.now();
    const tensors = source.weights
      .names()
      .filter((n) => !n.endsWith('position_ids')) // int64 buffers, never read as weights
      .map((n) => source.weights.get(n));
    values = tensors.reduce((s, t) => s + t.length, 0);
    const t2 = performance.now();
    let bad = 0;
    for (const t of tensors) bad += firstNonFinite(t) >= 0 ? 1 : 0;
    const t3 = performance.now();
    if (bad) throw new Error(`${bad} tensors hold non-finite values`);
    if (i < 2) continue; // warm-up
    load.push(t1 - t0);
    check.push(t3 - t2);
  }
  const l = summarize(load);
  const c = summarize(check);
  console.log(`${path.basename(dir)}: ${(values / 1e6).toFixed(1)} M weights, ${runs} runs, median (min–max)`);
  console.log(
    table(
      ['what', 'ms', 'share of load'],
      [
        ['load: config, read + check, graphs', fmt(l, 1), '1.00'],
        ['the check alone', fmt(c, 1), (c.median / l.median).toFixed(3)],
      ],
    ),
  );
}

void main();
