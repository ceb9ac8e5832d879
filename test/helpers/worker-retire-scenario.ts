// Run in a child process by test/unit/runtime/inspector/worker-retire.test.ts (a process that aborts must not take
// the test runner with it). Through the real inference worker (dist/worker.js, native onnxruntime) it
//   1. cancels 12 loads of stories260K at moments spread over its graph building and session creation (a worker
//      ended then is, more often than not, inside a native onnxruntime call),
//   2. disposes SmolLM2 while a 500-token run streams (after 1 and 15 of its 30 layers),
//   3. cancels a load of SmolLM2 half-way through its sessions and at once loads it again,
//   4. loads SmolLM2 once more and runs to the end,
//   5. disposes SmolLM2 in a 500-token run without waiting for its worker (dispose's wait cut to 0 ms: what a stage
//      longer than the 5 s wait does) and ends the process at once, while the worker is still inside a run call.
// Each step prints one JSON line ({ step, ... }); the process ends with `{"step":"end"}` and exit code 0 — unless a
// worker was terminated while onnxruntime was inside a native call, which aborts the whole process
// ("terminate called after throwing an instance of 'Napi::Error'", SIGABRT), as it did the extension host.
import * as path from 'node:path';
import { load } from '../../runtime/inspector/load-model';
import type { Inspector } from '../../runtime/inspector/api';
import { isLensError } from '../../runtime/errors';
import { mulberry32 } from '../../runtime/random';
import { fixtureModel, repoRoot, smolLm2Gguf } from './fixtures';

const workerPath = process.argv[2] ?? path.join(repoRoot, 'dist/worker.js');
const say = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const code = (e: unknown) => (isLensError(e) ? e.code : `not a LensError: ${String(e)}`);

/** A token sequence of `n` ids: BOS, then ids cycling through the vocabulary's first 500. */
function ids(n: number): number[] {
  return [1, ...Array.from({ length: n - 1 }, (_, i) => 3 + ((i * 37) % 500))];
}

/** Loads SmolLM2; aborts the load once `fraction` of its sessions exist (undefined: never). */
async function loadSmol(fraction?: number): Promise<{ inspector?: Inspector; error?: unknown; at?: number }> {
  const abort = new AbortController();
  let at: number | undefined;
  try {
    const inspector = await load(smolLm2Gguf(), {
      workerPath,
      threads: 2,
      signal: abort.signal,
      onProgress: (p) => {
        if (fraction === undefined || abort.signal.aborted || p.phase !== 'creating-sessions') return;
        if ((p.fraction ?? 0) >= fraction) {
          at = p.fraction;
          abort.abort();
        }
      },
    });
    return { inspector, at };
  } catch (error) {
    return { error, at };
  }
}

async function main(): Promise<void> {
  // 1. Loads cancelled while the worker builds graphs and creates sessions: 0–150 ms after 'building-graphs'.
  const rand = mulberry32(7);
  const outcomes: Record<string, number> = {};
  for (let i = 0; i < 12; i++) {
    const abort = new AbortController();
    const after = rand() * 150;
    let outcome: string;
    try {
      const inspector = await load(fixtureModel('stories260K'), {
        workerPath,
        threads: 2,
        signal: abort.signal,
        onProgress: (p) => {
          if (p.phase === 'building-graphs') setTimeout(() => abort.abort(), after);
        },
      });
      await inspector.dispose();
      outcome = 'loaded';
    } catch (e) {
      outcome = code(e);
    }
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  }
  say({ step: 'loads-cancelled', outcomes });
  // 2. Disposed while a long run streams.
  for (const after of [1, 15]) {
    const { inspector, error } = await loadSmol();
    if (!inspector) throw error;
    let layers = 0;
    let disposed: Promise<void> | undefined;
    let ended = 'done';
    try {
      for await (const layer of inspector.run(ids(500))) {
        void layer;
        if (++layers === after) disposed = inspector.dispose();
      }
    } catch (e) {
      ended = code(e);
    }
    await disposed;
    say({ step: 'run-disposed', after, layers, ended });
  }
  // 3. A cancelled load, and at once another load of the same model: the cancelled worker ends while the new one
  //    creates its sessions.
  const cancelled = loadSmol(0.5);
  const next = await loadSmol();
  const c = await cancelled;
  await c.inspector?.dispose();
  if (!next.inspector) throw next.error;
  await next.inspector.dispose();
  say({ step: 'load-overlap', cancelled: c.error ? code(c.error) : 'loaded' });
  // 4. The next load works: a whole run.
  const last = await loadSmol();
  if (!last.inspector) throw last.error;
  const layers = [];
  for await (const layer of last.inspector.run(ids(40))) layers.push(layer);
  const finite = layers.every((l) => l.data.every((x) => Number.isFinite(x)));
  await last.inspector.dispose();
  say({ step: 'last-run', layers: layers.length, tokens: layers[0]?.queryLength, finite });
  // 5. The process ends while the disposed worker is still inside a native call: it must outlive the call.
  const early = await loadSmol();
  if (!early.inspector) throw early.error;
  // The worker inspector's dispose takes the wait (runtime/inspector/worker-inspector.ts).
  const inspector = early.inspector as Inspector & { dispose(waitMs?: number): Promise<void> };
  let seen = 0;
  for await (const layer of inspector.run(ids(500))) {
    void layer;
    seen++;
    await inspector.dispose(0);
    break;
  }
  say({ step: 'exit-after-dispose', layers: seen });
  say({ step: 'end' });
}

main().catch((e: unknown) => {
  say({ step: 'error', message: e instanceof Error ? e.message : String(e) });
  process.exit(2);
});
