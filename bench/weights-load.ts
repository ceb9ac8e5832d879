// `npx tsx bench/weights-load.ts [--runs 15] [--pair SAFETENSORS_DIR,BIN_DIR]`: opening a model's weights and reading
// every float tensor as float32, from model.safetensors and from the same tensors as pytorch_model.bin
// (runtime/formats/torch-bin.ts), interleaved; median and range, and the ratio of medians. Default pair:
// tiny-marian-dates and its legacy-layout .bin fixture (test/fixtures/torch/tiny-marian-dates.bin, copied beside the
// model's other files in a temporary folder). Printed, never asserted.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { openWeights } from '../runtime/formats/safetensors';
import { fixturesDir, marianDatesDir } from '../test/helpers/fixtures';
import { fmt, summarize, table, timed } from './stats';

const { values: argv } = parseArgs({ options: { runs: { type: 'string' }, pair: { type: 'string' } } });
const runs = Number(argv.runs ?? 15);

async function readAll(dir: string): Promise<number> {
  const w = await openWeights(dir);
  let n = 0;
  for (const name of w.names()) if (!/position_ids$/.test(name)) n += w.get(name).length;
  return n;
}

async function main(): Promise<void> {
  let tmp: string | undefined;
  let pair: [string, string];
  if (argv.pair) pair = argv.pair.split(',') as [string, string];
  else {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-bench-bin-'));
    for (const f of fs.readdirSync(marianDatesDir))
      if (f !== 'model.safetensors') fs.copyFileSync(path.join(marianDatesDir, f), path.join(tmp, f));
    fs.copyFileSync(path.join(fixturesDir, 'torch', 'tiny-marian-dates.bin'), path.join(tmp, 'pytorch_model.bin'));
    pair = [marianDatesDir, tmp];
  }
  try {
    const [a, b] = [await readAll(pair[0]), await readAll(pair[1])];
    if (a !== b) throw new Error(`the two folders hold ${a} and ${b} floats`);
    const ms: number[][] = [[], []];
    for (let r = 0; r < runs; r++)
      for (let i = 0; i < 2; i++) {
        const k = (r + i) % 2;
        ms[k].push((await timed(() => readAll(pair[k])))[0]);
      }
    const [st, bin] = ms.map(summarize);
    console.log(`${a} floats, ${runs} runs each, interleaved`);
    console.log(
      table(
        ['weights', 'open + read all, ms', '× safetensors'],
        [
          ['model.safetensors', fmt(st, 1), '1.00'],
          ['pytorch_model.bin', fmt(bin, 1), (bin.median / st.median).toFixed(2)],
        ],
      ),
    );
  } finally {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

void main();
