// Peak memory of loading a model, as the worker loads it (read weights → build stage graphs → create sessions), in a
// fresh process per measurement: the lazy plan (each stage's graph built when its session is created, then dropped)
// against the old eager one (every stage's serialized graph built first, held while the sessions are created), in
// the same run, alternating. Prints the peak RSS median and range, the ratio, and the peak against the model's file
// size and its weights as float32.
//
// With --held: the memory a loaded model keeps (not the peak): the RSS after a garbage collection once the stage
// sessions exist, with the weights the worker read still referenced (as the worker keeps them for the generation
// step graph and the gradient graphs, built on first use) or dropped, and after the step graph's session is built
// (what a Continue adds), in fresh processes.
//
//   npx tsx bench/load-memory.ts [--runs N] [--held] MODEL...     (MODEL: a folder with model.safetensors, or a .gguf file)
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { resolveBackend } from '../runtime/backend/ort';
import { StageEngine } from '../runtime/inspector/engine';
import { KvGenerator } from '../runtime/generate/kv-generator';
import { readGgufModel } from '../runtime/models/gguf-source';
import { buildPlan, readModel, type ModelSource } from '../runtime/models/read-model';
import type { GraphPlan } from '../runtime/models/plan';
import { fmt, summarize, table } from './stats';

const { values: argv, positionals } = parseArgs({
  options: { runs: { type: 'string' }, child: { type: 'string' }, held: { type: 'boolean' } },
  allowPositionals: true,
});

async function source(model: string): Promise<ModelSource> {
  return /\.gguf$/i.test(model) ? readGgufModel(model) : readModel(model);
}

/** One load in this process; prints {"rss": peak bytes, "ms": load time, "weights": fp32 bytes} as JSON. */
async function child(mode: string, model: string): Promise<void> {
  const backend = await resolveBackend('native', 2);
  const t0 = performance.now();
  const src = await source(model);
  let plan: GraphPlan = buildPlan(src);
  if (mode === 'eager') {
    // The plan as it was before stages were built lazily: every stage's bytes exist before the first session.
    const stages = plan.stages.map((s) => ({ ...s, onnx: s.onnx }));
    plan = { ...plan, stages };
  }
  const engine = await StageEngine.create(plan, backend, 2);
  const ms = performance.now() - t0;
  let weights = 0;
  for (const n of src.weights.names()) weights += src.weights.shape(n).reduce((a, b) => a * b, 1) * 4;
  const rss = process.resourceUsage().maxRSS * 1024;
  await engine.release();
  process.stdout.write(JSON.stringify({ rss, ms, weights }) + '\n');
}

function fileBytes(model: string): number {
  if (/\.gguf$/i.test(model)) return statSync(model).size;
  return statSync(path.join(model, 'model.safetensors')).size;
}

/** RSS after a full collection (the child runs with --expose-gc). */
function settledRss(): number {
  for (let i = 0; i < 3; i++) (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

/** --held: the RSS the loaded model keeps. `weights` says whether the source stays referenced; `step` adds the
 * generation step graph's session (KvGenerator, which references the source itself). */
async function heldChild(mode: string, model: string): Promise<void> {
  const backend = await resolveBackend('native', 2);
  let src: ModelSource | undefined = await source(model);
  const engine = await StageEngine.create(buildPlan(src), backend, 2);
  let step: KvGenerator | undefined;
  if (mode === 'step') step = await KvGenerator.create(src, { backend, threads: 2 });
  if (mode === 'dropped') src = undefined;
  const rss = settledRss();
  process.stdout.write(JSON.stringify({ rss, held: src !== undefined, step: step !== undefined }) + '\n');
  await step?.dispose();
  await engine.release();
}

async function heldMain(runs: number): Promise<void> {
  const modes = ['dropped', 'held', 'step'];
  const rows: string[][] = [];
  for (const model of positionals) {
    const samples: Record<string, number[]> = { dropped: [], held: [], step: [] };
    for (let i = 0; i < runs; i++)
      for (const mode of i % 2 === 0 ? modes : [...modes].reverse()) {
        const out = execFileSync(
          process.execPath,
          ['--expose-gc', '--import', 'tsx', __filename, '--child', `held:${mode}`, model],
          { encoding: 'utf8' },
        );
        samples[mode].push((JSON.parse(out.trim().split('\n').pop()!) as { rss: number }).rss / 1e6);
      }
    const [dropped, held, step] = modes.map((m) => summarize(samples[m]));
    rows.push([
      path.basename(model),
      fmt(dropped),
      fmt(held),
      (held.median - dropped.median).toFixed(0),
      fmt(step),
      (step.median - held.median).toFixed(0),
    ]);
  }
  console.log(
    `RSS kept after loading (native, 2 threads, after gc), MB, median (min–max) over ${runs} fresh processes each: the stage sessions with the weights dropped, with them referenced (as the worker holds them), and with the step graph's session built too.`,
  );
  console.log(
    table(['model', 'weights dropped', 'weights held', 'held − dropped', '+ step session', 'step − held'], rows),
  );
}

async function main(): Promise<void> {
  if (argv.child?.startsWith('held:')) return heldChild(argv.child.slice(5), positionals[0]);
  if (argv.child) return child(argv.child, positionals[0]);
  if (argv.held) return heldMain(argv.runs ? Number(argv.runs) : 3);
  const runs = argv.runs ? Number(argv.runs) : 3;
  const rows: string[][] = [];
  for (const model of positionals) {
    const samples: Record<string, { rss: number; ms: number; weights: number }[]> = { lazy: [], eager: [] };
    for (let i = 0; i < runs; i++)
      for (const mode of i % 2 === 0 ? ['lazy', 'eager'] : ['eager', 'lazy']) {
        const out = execFileSync(process.execPath, ['--import', 'tsx', __filename, '--child', mode, model], {
          encoding: 'utf8',
        });
        samples[mode].push(JSON.parse(out.trim().split('\n').pop()!) as { rss: number; ms: number; weights: number });
      }
    const mb = (b: number) => b / 1e6;
    const file = fileBytes(model);
    const weights = samples.lazy[0].weights;
    const lazy = summarize(samples.lazy.map((s) => mb(s.rss)));
    const eager = summarize(samples.eager.map((s) => mb(s.rss)));
    rows.push([
      path.basename(model),
      (file / 1e6).toFixed(0),
      (weights / 1e6).toFixed(0),
      fmt(lazy),
      fmt(eager),
      (lazy.median / eager.median).toFixed(2),
      (lazy.median / mb(file)).toFixed(2),
      (lazy.median / mb(weights)).toFixed(2),
      fmt(summarize(samples.lazy.map((s) => s.ms / 1000)), 2),
    ]);
  }
  console.log(
    `Peak RSS of loading (native, 2 threads), MB, median (min–max) over ${runs} fresh processes each; lazy = stage graphs built one at a time (now), eager = all built first (before).`,
  );
  console.log(
    table(
      ['model', 'file MB', 'fp32 MB', 'lazy peak', 'eager peak', 'lazy/eager', 'peak/file', 'peak/fp32', 'load s'],
      rows,
    ),
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
