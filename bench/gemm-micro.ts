// `nice npx tsx bench/gemm-micro.ts [--rounds 4] [--iters 20] [--samples 5] [--layout t|plain]`: issue 15 asked whether
// PyTorch's GEMMs are faster than onnxruntime's on this CPU (PyTorch eager beat raw onnxruntime on our graph at 512
// tokens while its profile showed half its time outside mm/bmm). SmolLM2's GEMM shapes at 512 tokens — q/o
// [512,576]×[576,576], gate/up [512,576]×[576,1536], down [512,1536]×[1536,576], the scores [9,512,64]×[9,64,512] —
// each as a one-node graph (MatMul; the weight an initializer, as onnxruntime prepacks it; the scores' both operands
// fed), 2 threads, timed in this process, alternating round by round with scripts/gemm-torch.py (F.linear / matmul,
// 2 threads, MKL SGEMM in float32: `MKL_VERBOSE=1` shows it) in a child process. Median and range over rounds of
// each round's median per call, GFLOP/s from wall time, CPU time per call, the load. Printed, never asserted.
// --layout t: the weight as our graphs wrote it before issue 15's torch512 work (an [out, in] initializer through a
// Transpose node that onnxruntime folds at session creation), to check that folding leaves the same kernel.
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createSession, type Session } from '../runtime/backend/ort';
import { A, GraphBuilder } from '../runtime/models/graph-builder';
import type { FeedTensor } from '../runtime/models/plan';
import { summarize, table } from './stats';

const { values: argv } = parseArgs({
  options: {
    rounds: { type: 'string' },
    iters: { type: 'string' },
    samples: { type: 'string' },
    layout: { type: 'string' },
    python: { type: 'string' },
  },
});
const rounds = Number(argv.rounds ?? 4);
const iters = Number(argv.iters ?? 20);
const samples = Number(argv.samples ?? 5);
const python = argv.python ?? '/work/.venv-ref/bin/python';
/** [M, K, N] (x [M,K] · W [K,N], W an initializer) or [batch, M, K, N] (both fed). */
const SHAPES: number[][] = [
  [512, 576, 576],
  [512, 576, 1536],
  [512, 1536, 576],
  [9, 512, 64, 512],
];

function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

interface Case {
  shape: number[];
  flops: number;
  session: Session;
  feeds: Record<string, FeedTensor>;
}

async function makeCase(shape: number[]): Promise<Case> {
  const g = new GraphBuilder('gemm');
  if (shape.length === 3) {
    const [m, k, n] = shape;
    g.input('x', 'float32', [m, k]);
    const w =
      argv.layout === 't'
        ? g.op('Transpose', [g.weight('w', random(n * k, 2), [n, k])], { perm: A.ints([1, 0]) }) // [K,N]
        : g.weight('w', random(k * n, 2), [k, n]); // [K,N]
    g.output(g.op('MatMul', ['x', w]), 'y', 'float32', [m, n]); // [M,N]
    const session = await createSession(g.toBytes(), { backend: 'native', threads: 2 });
    return {
      shape,
      flops: 2 * m * k * n,
      session,
      feeds: { x: { type: 'float32', dims: [m, k], data: random(m * k, 1) } },
    };
  }
  const [b, m, k, n] = shape;
  g.input('x', 'float32', [b, m, k]);
  g.input('y', 'float32', [b, k, n]);
  g.output(g.op('MatMul', ['x', 'y']), 'z', 'float32', [b, m, n]); // [b,M,N]
  const session = await createSession(g.toBytes(), { backend: 'native', threads: 2 });
  return {
    shape,
    flops: 2 * b * m * k * n,
    session,
    feeds: {
      x: { type: 'float32', dims: [b, m, k], data: random(b * m * k, 1) },
      y: { type: 'float32', dims: [b, k, n], data: random(b * k * n, 3) },
    },
  };
}

async function timeOrt(c: Case): Promise<{ wall: number; cpu: number }> {
  const out = c.session.outputNames[0];
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let s = 0; s < samples; s++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) await c.session.run(c.feeds, [out]);
    wall.push((performance.now() - t0) / iters);
    const u = process.cpuUsage(c0);
    cpu.push((u.user + u.system) / 1000 / iters);
  }
  return { wall: summarize(wall).median, cpu: summarize(cpu).median };
}

function timeTorch(): { wall_ms: number; cpu_ms: number }[] {
  const out = execFileSync(
    'nice',
    [
      python,
      'scripts/gemm-torch.py',
      '--shapes',
      JSON.stringify(SHAPES),
      '--iters',
      `${iters}`,
      '--samples',
      `${samples}`,
    ],
    { encoding: 'utf8' },
  );
  return out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { wall_ms: number; cpu_ms: number });
}

async function main(): Promise<void> {
  const cases = [];
  for (const s of SHAPES) {
    const c = await makeCase(s);
    await c.session.run(c.feeds, [c.session.outputNames[0]]); // warm-up
    cases.push(c);
  }
  const ort = cases.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
  const torch = cases.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
  const loads = [loadavg()[0]];
  for (let r = 0; r < rounds; r++) {
    // Alternate which goes first, so a load change within a round does not favour one side.
    const torchFirst = r % 2 === 1;
    const t = torchFirst ? timeTorch() : [];
    for (let i = 0; i < cases.length; i++) {
      const x = await timeOrt(cases[i]);
      ort[i].wall.push(x.wall);
      ort[i].cpu.push(x.cpu);
    }
    const tt = torchFirst ? t : timeTorch();
    tt.forEach((x, i) => {
      torch[i].wall.push(x.wall_ms);
      torch[i].cpu.push(x.cpu_ms);
    });
    loads.push(loadavg()[0]);
  }
  const gf = (flops: number, ms: number) => (flops / ms / 1e6).toFixed(0);
  const ms = (xs: number[]) => {
    const s = summarize(xs);
    return `${s.median.toFixed(2)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
  };
  console.log(
    `GEMM micro-benchmark, 2 threads, float32, ${rounds} alternating rounds × ${samples} samples × ${iters} calls; ` +
      `onnxruntime weight layout ${argv.layout === 't' ? '[out,in] + Transpose' : '[in,out]'}; load ${loads.map((l) => l.toFixed(1)).join(' → ')}`,
  );
  console.log(
    table(
      [
        'shape',
        'ort wall ms',
        'torch wall ms',
        'ort GFLOP/s',
        'torch GFLOP/s',
        'ort CPU ms',
        'torch CPU ms',
        'ort ÷ torch CPU',
      ],
      cases.map((c, i) => [
        c.shape.join('×'),
        ms(ort[i].wall),
        ms(torch[i].wall),
        gf(c.flops, summarize(ort[i].wall).median),
        gf(c.flops, summarize(torch[i].wall).median),
        ms(ort[i].cpu),
        ms(torch[i].cpu),
        (summarize(ort[i].cpu).median / summarize(torch[i].cpu).median).toFixed(2),
      ]),
    ),
  );
  for (const c of cases) await c.session.release();
}

void main();
