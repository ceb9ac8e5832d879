// `npx tsx bench/raw-profile.ts [--model smollm2|minilm] [--n 512] [--logits] [--out /tmp/prof]`: onnxruntime's
// per-node profile of the raw graph (the whole model, no attention outputs) at n tokens, summed by op type, and the
// optimized graph's op counts (which fusions applied). Where the raw run's time goes, beside torch.profiler's table
// (scripts/bench-pytorch-eager.py --profile). Printed, never asserted.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { createSession } from '../runtime/backend/ort';
import { computeFeeds } from '../runtime/models/feeds';
import { readGgufModel } from '../runtime/models/gguf-source';
import { buildFullGraph, readModel } from '../runtime/models/read-model';
import type { FeedTensor } from '../runtime/models/plan';
import { smolLm2Gguf } from '../test/helpers/fixtures';
import { seededIds } from './seeded-ids';

const { values: argv } = parseArgs({
  options: {
    model: { type: 'string' },
    n: { type: 'string' },
    logits: { type: 'boolean' },
    out: { type: 'string' },
    runs: { type: 'string' },
    spin: { type: 'boolean' },
    ftz: { type: 'boolean' },
  },
});
const n = Number(argv.n ?? 512);
const out = argv.out ?? '/tmp/raw-profile';
const runs = Number(argv.runs ?? 3);

async function main(): Promise<void> {
  const source =
    argv.model === 'minilm' ? await readModel('.cache/models/all-MiniLM-L6-v2') : readGgufModel(smolLm2Gguf());
  const full = buildFullGraph(source, { attentionOutputs: false, logits: argv.logits === true });
  fs.mkdirSync(out, { recursive: true });
  const session = await createSession(full.onnx, {
    backend: 'native',
    threads: 2,
    profilePrefix: path.join(out, 'ort'),
    optimizedModelPath: path.join(out, 'optimized.onnx'),
    spinning: argv.spin === true,
    denormalAsZero: argv.ftz === true,
  });
  const ids = seededIds(n, source.config.vocabSize);
  const f = computeFeeds({ ids: [ids], mask: [ids.map(() => 1)] }, source.config);
  const all: Record<string, FeedTensor> = { ...f.embed, ...f.layer };
  const feeds: Record<string, FeedTensor> = {};
  for (const name of full.inputNames) feeds[name] = all[name];
  const ms: number[] = [];
  for (let r = 0; r < runs + 1; r++) {
    const t0 = performance.now();
    await session.run(feeds, ['last_hidden']);
    ms.push(performance.now() - t0);
  }
  await session.release();
  console.log(`runs (first is warm-up): ${ms.map((x) => x.toFixed(0)).join(', ')} ms`);
  const file = fs
    .readdirSync(out)
    .filter((x) => x.startsWith('ort') && x.endsWith('.json'))
    .map((x) => path.join(out, x))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
  const events = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    cat: string;
    name: string;
    dur: number;
    args?: { op_name?: string };
  }[];
  const byOp = new Map<string, { us: number; count: number }>();
  let total = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const op = e.args?.op_name ?? '?';
    const x = byOp.get(op) ?? { us: 0, count: 0 };
    x.us += e.dur;
    x.count++;
    byOp.set(op, x);
    total += e.dur;
  }
  const timed = runs + 1;
  console.log(`node kernel time per run: ${(total / timed / 1000).toFixed(1)} ms (${file})`);
  for (const [op, x] of [...byOp].sort((a, b) => b[1].us - a[1].us))
    console.log(
      `${op.padEnd(34)} ${(x.us / timed / 1000).toFixed(1).padStart(7)} ms  ${((100 * x.us) / total).toFixed(1).padStart(5)} %  ${x.count / timed} nodes`,
    );
}

void main();
