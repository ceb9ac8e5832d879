// `npx tsx bench/gradient-lengths.ts [--runs N]`: what padding inputs to a graph length (gradient-service.ts
// graphLength: the next multiple of 8) saves when successive inputs have different lengths, as a study's sentences or
// a user's successive selections do: gradient × input and Integrated Gradients (32 steps + the baseline row) on eight
// inputs of 9 to 30 tokens, in a fresh GradientService per run (graphs and sessions built as the inputs need them),
// padded against one graph per exact length, runs alternating; all-MiniLM-L6-v2 (cosine target, bidirectional: the
// padded graphs keep their padding bias) and stories260K (log-probability of the next token, causal), native, 2
// threads. Also the same input repeated (9 tokens, graph of 16 against 9: the padding's cost when nothing is shared).
// Prints median (min–max) ms per run, graphs built, and the ratio to exact lengths. Printed, never asserted.
import { parseArgs } from 'node:util';
import { midpointAlphas } from '../runtime/analysis/gradient-methods';
import { GradientService } from '../runtime/grad/gradient-service';
import type { GradientTarget } from '../runtime/grad/gradients';
import { readModel } from '../runtime/models/read-model';
import type { ModelSource } from '../runtime/models/source';
import { fixtureModel, miniLmDir } from '../test/helpers/fixtures';
import { fmt, summarize, table } from './stats';

const { values: argv } = parseArgs({ options: { runs: { type: 'string' } } });
const LENGTHS = [9, 12, 14, 17, 20, 23, 27, 30];

async function oneRun(
  source: ModelSource,
  exactLengths: boolean,
  lengths: number[],
  target: (len: number) => GradientTarget,
  id: (i: number) => number,
): Promise<{ ms: number; built: number }> {
  const service = new GradientService(source, 'native', 2, undefined, { exactLengths });
  const t0 = performance.now();
  try {
    for (const len of lengths) {
      const ids = Array.from({ length: len }, (_, i) => id(i));
      await service.compute({ ids, target: target(len) }); // gradient × input
      await service.compute({ ids, target: target(len), alphas: [...midpointAlphas(32), 0], valueOnly: 1 }); // IG
    }
    return { ms: performance.now() - t0, built: service.graphsBuilt };
  } finally {
    await service.release();
  }
}

async function main(): Promise<void> {
  const runs = Number(argv.runs ?? 5);
  const models: [string, ModelSource, (len: number) => GradientTarget, (i: number) => number][] = [
    [
      'all-MiniLM-L6-v2',
      await readModel(miniLmDir()),
      () => ({ measure: 'cosine', reference: Array.from({ length: 384 }, (_, i) => Math.cos(i)) }),
      (i) => 1000 + ((i * 37) % 2000),
    ],
    [
      'stories260K',
      await readModel(fixtureModel('stories260K')),
      (len) => ({ measure: 'log-prob', readout: len - 1, token: 3 }),
      (i) => 10 + ((i * 37) % 400),
    ],
  ];
  const rows: string[][] = [];
  for (const [name, source, target, id] of models)
    for (const [what, lengths] of [
      ['8 inputs, 9–30 tokens', LENGTHS],
      ['one 9-token input, 4 times', [9, 9, 9, 9]],
    ] as const) {
      const ms: number[][] = [[], []];
      const built = [0, 0];
      for (let r = 0; r < runs; r++)
        for (const [k, exact] of [false, true].entries()) {
          const out = await oneRun(source, exact, [...lengths], target, id);
          ms[k].push(out.ms);
          built[k] = out.built;
        }
      const s = ms.map(summarize);
      rows.push([name, what, 'padded to ×8', fmt(s[0]), String(built[0]), (s[0].median / s[1].median).toFixed(2)]);
      rows.push([name, what, 'exact lengths', fmt(s[1]), String(built[1]), '1.00']);
    }
  console.log(`gradient × input + IG (32 steps) per input, fresh service per run; ms: median (min–max) of ${runs}.\n`);
  console.log(table(['model', 'inputs', 'graphs', 'ms per run', 'built', 'ratio'], rows));
}

void main();
