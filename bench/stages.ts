// `npx tsx bench/stages.ts [--model DIR] [--tokens N] [--runs N]`: what cutting a model into stages costs, in this
// process and without the worker, so only the session calls differ. Runs the whole model as one onnxruntime session
// (the raw baseline), one session per layer, and the default plan's stages (a narrow model: layer 0, then the rest),
// interleaved, and prints median (min–max) ms and the ratio to raw. The figures behind family.ts layerGroups.
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { StageEngine } from '../runtime/inspector/engine';
import { defaultThreads } from '../runtime/inspector/load-model';
import { buildPlan, readModel } from '../runtime/models/read-model';
import { RawModel } from './raw';
import { fmt, summarize, table } from './stats';

const { values: argv } = parseArgs({
  options: { model: { type: 'string' }, tokens: { type: 'string' }, runs: { type: 'string' } },
});
const dir = path.resolve(argv.model ?? '.cache/models/all-MiniLM-L6-v2');
const tokens = Number(argv.tokens ?? 128);
const runs = Number(argv.runs ?? 30);
const threads = defaultThreads();

async function main(): Promise<void> {
  const source = await readModel(dir);
  const L = source.config.layers;
  const ids = Array.from({ length: tokens }, (_, i) => 1000 + (((i * 7919) % 20000) % source.config.vocabSize));
  const raw = await RawModel.create(source, 'native', threads);
  const perLayer = Array.from({ length: L }, (_, l) => [l]);
  const plans = {
    'one session per layer': await StageEngine.create(buildPlan(source, { groups: perLayer }), 'native', threads),
    'default plan': await StageEngine.create(buildPlan(source), 'native', threads),
  };
  const times: Record<string, number[]> = { raw: [] };
  for (const name of Object.keys(plans)) times[name] = [];
  const once = async (name: string) => {
    if (name === 'raw') return times.raw.push(await raw.run(ids));
    const t0 = performance.now();
    await plans[name as keyof typeof plans].run(ids, { withVectors: false, onLayer: () => undefined });
    times[name].push(performance.now() - t0);
  };
  const names = Object.keys(times);
  for (let i = 0; i < 3; i++) for (const n of names) await once(n); // warm-up
  for (const n of names) times[n].length = 0;
  // Interleaved, rotating which goes first.
  for (let i = 0; i < runs; i++) for (let j = 0; j < names.length; j++) await once(names[(i + j) % names.length]);
  const rawMedian = summarize(times.raw).median;
  const stages = (name: string) =>
    name === 'raw' ? 1 : name === 'default plan' ? buildPlan(source).stages.length - 1 : L;
  console.log(
    `\n${path.basename(dir)} (${L} layers × ${source.config.hidden}), ${tokens} tokens, native, ${threads} threads, ` +
      `${runs} interleaved runs, in-process (no worker)`,
  );
  console.log(
    table(
      ['graphs', 'session calls', 'ms', 'ratio to raw'],
      names.map((n) => [
        n,
        String(stages(n)),
        fmt(summarize(times[n]), 2),
        (summarize(times[n]).median / rawMedian).toFixed(3),
      ]),
    ),
  );
  if (source.config.family !== 'bert')
    console.log('note: the raw graph also computes the LM head on every position; compare with an encoder (bert).');
  await raw.release();
  for (const e of Object.values(plans)) await e.release();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
