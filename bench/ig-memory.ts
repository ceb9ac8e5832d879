// `npx tsx bench/ig-memory.ts [--rows N] [--tokens 64] [--runs 3] [--backend native|wasm]`: what Integrated
// Gradients (32 midpoint rows + the baseline, read for its value alone) costs on SmolLM2-135M (Q4_1 GGUF), a deep
// model where the batch size decides how much the backward pass keeps: the time of each IG after a warm one (graph
// built, session created) and the process's peak RSS. One batch size per process (peak RSS only grows): run it once
// with the default rule (gradient-service.ts batchRows) and once per `--rows N` to compare. Printed, never asserted.
import { parseArgs } from 'node:util';
import { readGgufModel } from '../runtime/models/gguf-source';
import { GradientService, batchRows } from '../runtime/grad/gradient-service';
import { midpointAlphas } from '../runtime/analysis/gradient-methods';
import { smolLm2Gguf } from '../test/helpers/fixtures';
import { fmt, summarize } from './stats';

const { values: argv } = parseArgs({
  options: {
    rows: { type: 'string' },
    tokens: { type: 'string' },
    runs: { type: 'string' },
    backend: { type: 'string' },
  },
});
const S = Number(argv.tokens ?? 64);
const RUNS = Number(argv.runs ?? 3);
const backend = (argv.backend ?? 'native') as 'native' | 'wasm';

async function main(): Promise<void> {
  const source = readGgufModel(smolLm2Gguf());
  const rows = argv.rows ? Number(argv.rows) : 0;
  const svc = new GradientService(source, backend, 2, undefined, rows ? { maxRows: rows } : {});
  const ids = Array.from({ length: S }, (_, i) => 100 + i * 7);
  const alphas = [...midpointAlphas(32), 0];
  // log p of a token the model gives a finite probability everywhere on the path.
  const target = { measure: 'log-prob' as const, readout: S - 1, token: 314 };
  const ig = () => svc.compute({ ids, target, alphas, valueOnly: 1, baseline: 'zero' });
  await ig();
  const ms: number[] = [];
  for (let k = 0; k < RUNS; k++) {
    const t0 = performance.now();
    await ig();
    ms.push(performance.now() - t0);
  }
  await svc.release();
  const per = rows || batchRows(alphas.length, S, source.config);
  console.log(
    `SmolLM2-135M Q4_1, ${backend}, ${S} tokens, IG 32 steps in batches of ${per} (${rows ? '--rows' : 'the rule'}): ` +
      `${fmt(summarize(ms), 0)} ms an IG, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`,
  );
}

void main();
