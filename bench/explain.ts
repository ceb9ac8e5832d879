// The explain benchmark: how long one explanation takes on all-MiniLM-L6-v2 at 64 tokens with rollout + leave-one-
// out + norm (similarity target: the model has no head), and on stories260K (next token), and what batching
// leave-one-out's passes buys against one model call per removed token. Also the whole report (faithfulness and
// erasure curves too), and one plain forward pass as the unit. Figures are printed, never asserted.
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import { load } from '../runtime/inspector/load-model';
import type { Inspector } from '../runtime/inspector/api';
import { explain, type ExplainOptions } from '../runtime/explain/explain';
import type { ExplainResult } from '../runtime/explain/result';
import type { BackendName } from '../runtime/types';
import { fmt, summarize, table, type Summary } from './stats';

export const EXPLAIN_TEXT =
  'The old lighthouse keeper climbed the winding stairs every evening to light the lamp, even after the ships ' +
  'stopped coming. Villagers said he talked to the sea, and that on stormy nights the sea answered him with ' +
  'songs that nobody else could hear, carried over the rocks by the cold northern wind and the crying gulls.';
export const EXPLAIN_REFERENCE = 'A man looks after a lighthouse by the sea.';
export const EXPLAIN_STORY =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw ' +
  'a big, red ball. She wanted to play with it, but it was too high. Lily asked her mom to help her.';
const TOKENS = 64;
const BATCHED = 'rollout+loo+norm, batched';
const SINGLE = 'rollout+loo+norm, one call per row';
const FULL = '+ faithfulness + erasure (batched)';

interface Row {
  model: string;
  backend: BackendName;
  what: string;
  runs: number;
  total: Summary;
  loo?: Summary;
  rows: number;
  batches: number;
}

async function timeExplain(
  inspector: Inspector,
  text: string,
  options: ExplainOptions,
  runs: number,
): Promise<{ total: Summary; loo: Summary; last: ExplainResult }> {
  const totals: number[] = [];
  const loos: number[] = [];
  let last: ExplainResult | undefined;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    last = await explain(inspector, text, options);
    totals.push(performance.now() - t0);
    loos.push(last.methods.find((m) => m.id === 'loo')?.ms ?? NaN);
  }
  return { total: summarize(totals), loo: summarize(loos), last: last! };
}

interface Case {
  label: string;
  dir: string;
  text: string;
  target: string;
}

/** Runs the explain benchmark and prints its table. `threads` and `backends` as the main bench. */
export async function benchExplain(backends: BackendName[], threads: number, runs: number): Promise<void> {
  const minilm = path.resolve('.cache/models/all-MiniLM-L6-v2');
  const stories = path.resolve('test/fixtures/models/stories260K');
  const cases: Case[] = [];
  if (existsSync(path.join(minilm, 'model.safetensors')))
    cases.push({ label: 'MiniLM-L6', dir: minilm, text: EXPLAIN_TEXT, target: `similarity:${EXPLAIN_REFERENCE}` });
  else console.log(`\n(explain bench: all-MiniLM-L6-v2 is not in ${minilm}; run \`node scripts/fetch-model.mjs\`)`);
  if (existsSync(path.join(stories, 'model.safetensors')))
    cases.push({ label: 'stories260K', dir: stories, text: EXPLAIN_STORY, target: 'next' });
  const rows: Row[] = [];
  for (const c of cases) {
    for (const backend of backends) {
      let inspector: Inspector;
      try {
        inspector = await load(c.dir, { backend, threads });
      } catch (e) {
        console.log(`explain bench, ${c.label} on ${backend}: could not load (${(e as Error).message})`);
        continue;
      }
      const base: ExplainOptions = {
        target: c.target,
        methods: ['rollout', 'loo', 'norm'],
        truncate: true,
        maxTokens: TOKENS,
        faithfulness: false,
        erasureSteps: 0,
        headStats: false,
      };
      try {
        // Warm-up: builds the norm variant of the last layer, the gathered head and the sessions' first-run state.
        await explain(inspector, c.text, base);
        const ids = inspector
          .tokenize(c.text)
          .slice(0, TOKENS)
          .map((t) => t.id);
        const fwd: number[] = [];
        for (let i = 0; i < runs; i++) {
          const t0 = performance.now();
          await inspector.forward({ batch: { ids: [ids], mask: [ids.map(() => 1)] }, read: { kind: 'mean-hidden' } });
          fwd.push(performance.now() - t0);
        }
        const row = (what: string, n: number, total: Summary, r?: ExplainResult, loo?: Summary): Row => ({
          model: c.label,
          backend,
          what,
          runs: n,
          total,
          loo,
          rows: r?.timings.rows ?? 1,
          batches: r?.timings.batches ?? 1,
        });
        rows.push(row('one forward pass (B=1)', runs, summarize(fwd)));
        const variants: [string, ExplainOptions, number][] = [
          [BATCHED, base, runs],
          [SINGLE, { ...base, batched: false }, Math.min(runs, 3)],
          [FULL, { ...base, faithfulness: true, erasureSteps: 10 }, Math.min(runs, 3)],
        ];
        for (const [what, options, n] of variants) {
          const r = await timeExplain(inspector, c.text, options, n);
          rows.push(row(what, n, r.total, r.last, r.loo));
          process.stderr.write(`  explain ${c.label} ${backend} ${what}: ${r.total.median.toFixed(0)} ms\n`);
        }
      } finally {
        await inspector.dispose();
      }
    }
  }
  console.log(
    `\nExplain — ${TOKENS} tokens (stories260K: its whole text), methods rollout + loo + norm; MiniLM-L6 explains ` +
      `similarity (cosine of mean-pooled embeddings), stories260K the next token; ${threads} threads.`,
  );
  console.log('Times in ms: median (min–max). rows/calls = perturbed inputs run and the model calls that ran them.\n');
  console.log(
    table(
      ['model, backend', 'what', 'runs', 'total', 'loo', 'rows', 'calls'],
      rows.map((r) => [
        `${r.model}, ${r.backend}`,
        r.what,
        String(r.runs),
        fmt(r.total, 0),
        r.loo ? fmt(r.loo, 0) : '',
        String(r.rows),
        String(r.batches),
      ]),
    ),
  );
  for (const c of cases)
    for (const backend of backends) {
      const batched = rows.find((r) => r.model === c.label && r.backend === backend && r.what === BATCHED);
      const single = rows.find((r) => r.model === c.label && r.backend === backend && r.what === SINGLE);
      if (batched?.loo && single?.loo)
        console.log(
          `  ${c.label} ${backend}: leave-one-out batched ${batched.loo.median.toFixed(0)} ms vs one call per row ` +
            `${single.loo.median.toFixed(0)} ms (${(single.loo.median / batched.loo.median).toFixed(2)}× faster batched)`,
        );
    }
}
