// `nice npx tsx bench/ig-profile.ts [--model stories|minilm] [--tokens 64] [--runs 3] [--rows n] [--out /tmp/ig-prof]`:
// onnxruntime's per-node profile of Integrated Gradients' gradient session(s) (32 midpoint rows + the baseline, in the
// batches gradient-service.ts picks, or --rows a batch) beside the one-row plain forward the bench divides by, summed
// by op type: how many session calls, rows per call, where the time goes. Printed, never asserted.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { createSession } from '../runtime/backend/ort';
import { computeFeeds } from '../runtime/models/feeds';
import { buildFullGraph, readModel } from '../runtime/models/read-model';
import type { FeedTensor } from '../runtime/models/plan';
import { batchRows } from '../runtime/grad/gradient-service';
import { GradientRunner, type GradientTarget } from '../runtime/grad/gradients';
import { midpointAlphas } from '../runtime/analysis/gradient-methods';
import { seededIds } from './seeded-ids';

const { values: argv } = parseArgs({
  options: {
    model: { type: 'string' },
    tokens: { type: 'string' },
    runs: { type: 'string' },
    rows: { type: 'string' },
    out: { type: 'string' },
  },
});
const S = Number(argv.tokens ?? 64);
const runs = Number(argv.runs ?? 3);
const OUT_DEFAULT = '/tmp/ig-profile';

interface Event {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string; output_type_shape?: unknown[] };
}

/** Kernel µs by op type from the newest profile file under `prefix`, the first (warm-up) run left out; and the
 * slowest nodes. */
function byOp(prefix: string): {
  ops: Map<string, { us: number; count: number }>;
  total: number;
  nodes: Map<string, { us: number; shape: string }>;
} {
  const dir = path.dirname(prefix);
  const file = fs
    .readdirSync(dir)
    .filter((x) => x.startsWith(path.basename(prefix)) && x.endsWith('.json'))
    .map((x) => path.join(dir, x))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
  const events = JSON.parse(fs.readFileSync(file, 'utf8')) as Event[];
  const ops = new Map<string, { us: number; count: number }>();
  const nodes = new Map<string, { us: number; shape: string }>();
  const firstRun = events.filter((e) => e.name === 'model_run').sort((a, b) => a.ts - b.ts)[0];
  const warmEnd = firstRun ? firstRun.ts + firstRun.dur : 0;
  let total = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < warmEnd) continue;
    const op = e.args?.op_name ?? '?';
    const name = e.name.replace(/_kernel_time$/, '');
    const n = nodes.get(name) ?? { us: 0, shape: `${op} ${JSON.stringify(e.args?.output_type_shape ?? [])}` };
    n.us += e.dur;
    nodes.set(name, n);
    const x = ops.get(op) ?? { us: 0, count: 0 };
    x.us += e.dur;
    x.count++;
    ops.set(op, x);
    total += e.dur;
  }
  return { ops, total, nodes };
}

function print(label: string, p: ReturnType<typeof byOp>, per: number, calls: number): void {
  console.log(`${label}: node kernel time ${(p.total / per / 1000).toFixed(2)} ms per IG/forward, ${calls} calls`);
  for (const [op, x] of [...p.ops].sort((a, b) => b[1].us - a[1].us))
    console.log(
      `  ${op.padEnd(28)} ${(x.us / per / 1000).toFixed(2).padStart(8)} ms  ${((100 * x.us) / p.total).toFixed(1).padStart(5)} %  ${(x.count / per / calls).toFixed(0)} nodes a call`,
    );
  const top = Number(process.env.TOP ?? 0);
  for (const [name, x] of [...p.nodes].sort((a, b) => b[1].us - a[1].us).slice(0, top))
    console.log(`    ${(x.us / per / 1000).toFixed(2).padStart(8)} ms  ${name}  ${x.shape}`);
}

async function main(): Promise<void> {
  const minilm = argv.model === 'minilm';
  const source = await readModel(minilm ? '.cache/models/all-MiniLM-L6-v2' : 'test/fixtures/models/stories260K');
  const c = source.config;
  const ids = seededIds(S, c.vocabSize);
  const target: GradientTarget = minilm
    ? { measure: 'cosine', reference: Array.from({ length: c.hidden }, (_, i) => Math.sin(i + 1)) }
    : { measure: 'log-prob', readout: S - 1, token: 13 };
  // A fresh folder of this run's own inside --out: nothing already there is removed or overwritten.
  fs.mkdirSync(argv.out ?? OUT_DEFAULT, { recursive: true });
  const out = fs.mkdtempSync(path.join(argv.out ?? OUT_DEFAULT, 'run-'));

  const full = buildFullGraph(source, { attentionOutputs: false });
  const forward = await createSession(full.onnx, {
    backend: 'native',
    threads: 2,
    profilePrefix: path.join(out, 'fwd'),
  });
  const f = computeFeeds({ ids: [ids], mask: [ids.map(() => 1)] }, c);
  const all: Record<string, FeedTensor> = { ...f.embed, ...f.layer };
  const feeds: Record<string, FeedTensor> = {};
  for (const name of full.inputNames) feeds[name] = all[name];
  for (let r = 0; r <= runs; r++) await forward.run(feeds, [full.outputNames[0]]);
  await forward.release();

  const alphas = [...midpointAlphas(32), 0];
  const chunk = argv.rows ? Number(argv.rows) : batchRows(alphas.length, S, c);
  const runner = await GradientRunner.create(source, { batch: chunk, seq: S, measure: target.measure }, 'native', 2, {
    profilePrefix: path.join(out, 'ig'),
    optimizedModelPath: path.join(out, 'ig-optimized.onnx'),
  });
  const x = runner.embeddings(ids);
  const E = c.hidden;
  const points = new Float32Array(chunk * S * E).map((_, i) => x[i % (S * E)] * 0.5);
  const calls = Math.ceil(alphas.length / chunk);
  const t: number[] = [];
  for (let r = 0; r <= runs; r++) {
    const t0 = performance.now();
    for (let k = 0; k < calls; k++) await runner.run(ids, points, target);
    t.push(performance.now() - t0);
  }
  await runner.release();
  console.log(
    `${argv.model ?? 'stories'} ${S} tokens: IG ${calls} calls of ${chunk} rows; wall ${t.map((v) => v.toFixed(0)).join(', ')} ms`,
  );
  print('forward (1 row)', byOp(path.join(out, 'fwd')), runs, 1);
  print(`IG (${calls} × ${chunk} rows)`, byOp(path.join(out, 'ig')), runs, calls);
}

void main();
