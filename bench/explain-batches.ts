// `npx tsx bench/explain-batches.ts [--model minilm|stories] [--tokens 64] [--runs 7] [--rows 5,11,21,33,64]
// [--backend native|wasm]`: how many perturbed inputs a batch of Explain's model passes should hold
// (runtime/explain/evaluator.ts rowsPerBatch). Leave-one-out + occlusion on the explain bench's text (all-MiniLM-L6-v2,
// similarity target) or story (stories260K, next token), through the real worker (dist/worker.js: `npm run build`
// first), each cap of rows a batch interleaved run by run in one process; the rule's own size is at most its cache and
// memory budgets, so a cap above it runs the rule's size. Median (range) of the explanation's wall time and of the
// process's CPU time. Printed, never asserted.
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { load } from '../runtime/inspector/load-model';
import { explain, type ExplainOptions } from '../runtime/explain/explain';
import { rowsPerBatch } from '../runtime/explain/evaluator';
import { EXPLAIN_STORY, EXPLAIN_TEXT, EXPLAIN_REFERENCE } from './explain';
import { fmt, summarize, table, timed } from './stats';

const { values: argv } = parseArgs({
  options: {
    model: { type: 'string' },
    tokens: { type: 'string' },
    runs: { type: 'string' },
    rows: { type: 'string' },
    backend: { type: 'string' },
  },
});
const minilm = argv.model !== 'stories';
const TOKENS = Number(argv.tokens ?? 64);
const RUNS = Number(argv.runs ?? 7);
const caps = (argv.rows ?? '5,11,21,33,64').split(',').map(Number);
const backend = (argv.backend ?? 'native') as 'native' | 'wasm';

async function main(): Promise<void> {
  const dir = path.resolve(minilm ? '.cache/models/all-MiniLM-L6-v2' : 'test/fixtures/models/stories260K');
  const inspector = await load(dir, { backend, threads: 2, workerPath: path.resolve('dist/worker.js') });
  try {
    const base: ExplainOptions = {
      target: minilm ? `similarity:${EXPLAIN_REFERENCE}` : 'next',
      methods: ['loo', 'occlusion'],
      truncate: true,
      maxTokens: TOKENS,
      faithfulness: false,
      erasureSteps: 0,
      headStats: false,
    };
    const text = minilm ? EXPLAIN_TEXT : EXPLAIN_STORY;
    const S = Math.min(TOKENS, inspector.tokenize(text).length);
    const run = (cap: number) => explain(inspector, text, { ...base, maxBatchRows: cap });
    const rows: number[] = [];
    for (const cap of caps) rows.push((await run(cap)).timings.rows); // warm-up, and the rows each run evaluates
    const times = caps.map(() => [] as number[][]);
    for (let r = 0; r < RUNS; r++) for (const [i, cap] of caps.entries()) times[i].push(await timed(() => run(cap)));
    const rule = rowsPerBatch(inspector.facts, S);
    console.log(
      `${minilm ? 'all-MiniLM-L6-v2' : 'stories260K'}, ${backend}, ${S} tokens, leave-one-out + occlusion ` +
        `(${rows[0]} rows), ${RUNS} interleaved runs; the rule's size here: ${rule} rows a batch`,
    );
    console.log(
      table(
        ['rows a batch', 'wall ms', 'CPU ms'],
        caps.map((cap, i) => [
          String(Math.min(cap, rule)) + (cap > rule ? ` (cap ${cap})` : ''),
          fmt(summarize(times[i].map((x) => x[0])), 0),
          fmt(summarize(times[i].map((x) => x[1])), 0),
        ]),
      ),
    );
  } finally {
    await inspector.dispose();
  }
}

void main();
