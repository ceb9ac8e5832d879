// `nice npx tsx bench/raw-variants.ts [--model smollm2|minilm] [--n 512] [--runs 5] [--variants base,ftz,...]
// [--onnx old.onnx]`:
// the raw graph (the whole model as one session, no attention outputs) under session and graph variants, interleaved
// run by run in one process (the machine is shared: A/B in the same minutes), median and range of wall and CPU time
// and the load average. What issue 15's "raw at 512 tokens vs PyTorch" measured. --onnx adds a variant: a full graph
// written by an earlier commit (buildFullGraph's bytes, the same inputs), run with this commit's session defaults, so
// a graph change is A/B'd in one process. Printed, never asserted.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createSession, type Session, type SessionOptions } from '../runtime/backend/ort';
import { computeFeeds } from '../runtime/models/feeds';
import { readGgufModel } from '../runtime/models/gguf-source';
import { buildFullGraph, readModel } from '../runtime/models/read-model';
import type { FeedTensor } from '../runtime/models/plan';
import { smolLm2Gguf } from '../test/helpers/fixtures';
import { fmt, summarize, table } from './stats';
import { seededIds } from './seeded-ids';

const { values: argv } = parseArgs({
  options: {
    model: { type: 'string' },
    n: { type: 'string' },
    runs: { type: 'string' },
    variants: { type: 'string' },
    onnx: { type: 'string' },
  },
});
const n = Number(argv.n ?? 512);
const runs = Number(argv.runs ?? 5);

interface Variant {
  logits: boolean;
  session: Partial<SessionOptions>;
}
/** base: the settings before issue 15's 512-token work (no spinning, denormals kept), no logits; the others change one thing or two. */
const VARIANTS: Record<string, Variant> = {
  base: { logits: false, session: { denormalAsZero: false } },
  logits: { logits: true, session: { denormalAsZero: false } },
  ftz: { logits: false, session: { denormalAsZero: true } },
  now: { logits: false, session: {} },
  spin: { logits: false, session: { denormalAsZero: false, spinning: true } },
  'ftz+spin': { logits: false, session: { denormalAsZero: true, spinning: true } },
  'logits+ftz': { logits: true, session: { denormalAsZero: true } },
};
const names = (argv.variants ?? 'base,ftz,spin,ftz+spin,logits').split(',');

async function main(): Promise<void> {
  const source =
    argv.model === 'minilm' ? await readModel('.cache/models/all-MiniLM-L6-v2') : readGgufModel(smolLm2Gguf());
  const ids =
    argv.model === 'minilm'
      ? [101, ...seededIds(n - 2, 30000).map((x) => 1000 + (x % 29000)), 102]
      : seededIds(n, source.config.vocabSize);
  const f = computeFeeds({ ids: [ids], mask: [ids.map(() => 1)] }, source.config);
  const all: Record<string, FeedTensor> = { ...f.embed, ...f.layer };
  const sessions: { name: string; s: Session; feeds: Record<string, FeedTensor>; ms: number[]; cpu: number[] }[] = [];
  for (const name of [...names, ...(argv.onnx ? ['--onnx'] : [])]) {
    const v = name === '--onnx' ? { logits: false, session: {} } : VARIANTS[name];
    if (!v) throw new Error(`unknown variant ${name}: ${Object.keys(VARIANTS).join(', ')}`);
    const full = buildFullGraph(source, { attentionOutputs: false, logits: v.logits });
    const bytes = name === '--onnx' ? new Uint8Array(readFileSync(argv.onnx!)) : full.onnx;
    const s = await createSession(bytes, { backend: 'native', threads: 2, ...v.session });
    const feeds: Record<string, FeedTensor> = {};
    for (const i of full.inputNames) feeds[i] = all[i];
    await s.run(feeds, ['last_hidden']); // warm-up
    sessions.push({ name, s, feeds, ms: [], cpu: [] });
  }
  const load0 = loadavg()[0];
  for (let r = 0; r < runs; r++)
    for (const x of sessions) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await x.s.run(x.feeds, ['last_hidden']);
      x.ms.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      x.cpu.push((c.user + c.system) / 1000);
    }
  const base = summarize(sessions[0].ms).median;
  console.log(
    `${argv.model ?? 'smollm2'} ${n} tokens, native, 2 threads, ${runs} interleaved runs, load ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)}`,
  );
  console.log(
    table(
      ['variant', 'wall ms', `÷ ${sessions[0].name}`, 'CPU ms'],
      sessions.map((x) => [
        x.name,
        fmt(summarize(x.ms)),
        (summarize(x.ms).median / base).toFixed(2),
        fmt(summarize(x.cpu)),
      ]),
    ),
  );
  for (const x of sessions) await x.s.release();
}

void main();
