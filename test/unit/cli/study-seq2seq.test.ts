// `attention-lens study` on an encoder–decoder as users run it (node dist/cli.js): tiny-marian-dates over ten English
// dates (test/fixtures/study/dates.jsonl: sources, one with a given target_text), the year token as the target
// (target:1: the ISO date starts with the year), every method Explain runs on encoder–decoders, the randomisation
// check on the top layer of both stacks. The statistics are recomputed here by other routes from the per-row JSON
// (examples.jsonl): Kendall τ-b from the scores by its sign-sum formula, means by a plain sum, the bootstrap interval
// against the exact bootstrap distribution of the mean (every resample enumerated with its multinomial weight, not
// the seeded Monte Carlo), the permutation p-value by recursive enumeration of sign patterns. The head sweep's
// shape, its cells as the examples' mean, and its top cross head: one whose attention (read from a separate run)
// puts its argmax on the source's year in every example. target:each: one explanation per target token.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { load } from '../../../runtime/inspector/load-model';
import type { Inspector } from '../../../runtime/inspector/api';
import { SEQ2SEQ_METHODS } from '../../../runtime/explain/seq2seq-methods';
import { fixturesDir, marianDatesDir, repoRoot } from '../../helpers/fixtures';
import { mean, tauB } from '../../helpers/rank-stats';

const CLI = path.join(repoRoot, 'dist/cli.js');
const DATA = path.join(fixturesDir, 'study', 'dates.jsonl');
const TMP = mkdtempSync(path.join(tmpdir(), 'lens-study-seq2seq-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

before(() => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'pipe' });
});

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Row {
  line: number;
  text: string;
  tokens: { id: number; text: string }[];
  candidates: boolean[];
  target: { spec: string };
  methods: { id: string; scores: number[]; error?: string }[];
  agreement: { a: string; b: string; kendall: number | null }[];
  faithfulness: { method: string; aopcComprehensiveness: number }[];
  headSweep: { reference: string; layers: number[]; heads: number; values: number[] };
  seq2seq: { targetTokens: { id: number; text: string }[]; mode: string };
}
interface Spread {
  n: number;
  mean: number;
  std: number;
  ci: { lo: number; hi: number };
}

/** The exact bootstrap distribution of the mean of xs: every multiset of n draws with its multinomial probability;
 * returns the `q` quantile (the smallest mean whose cumulative probability reaches q). */
function exactBootstrapQuantile(xs: readonly number[], q: number): number {
  const n = xs.length;
  const logFact = [0];
  for (let i = 1; i <= n; i++) logFact.push(logFact[i - 1] + Math.log(i));
  const atoms: { m: number; p: number }[] = [];
  const counts = new Array<number>(n).fill(0);
  const walk = (i: number, left: number) => {
    if (i === n - 1) {
      counts[i] = left;
      let lp = logFact[n] - n * Math.log(n);
      let sum = 0;
      for (let k = 0; k < n; k++) {
        lp -= logFact[counts[k]];
        sum += counts[k] * xs[k];
      }
      atoms.push({ m: sum / n, p: Math.exp(lp) });
      return;
    }
    for (let c = 0; c <= left; c++) {
      counts[i] = c;
      walk(i + 1, left - c);
    }
  };
  walk(0, n);
  atoms.sort((a, b) => a.m - b.m);
  let cum = 0;
  for (const a of atoms) {
    cum += a.p;
    if (cum >= q) return a.m;
  }
  return atoms[atoms.length - 1].m;
}

/** Two-sided sign-flip p-value of mean(d) = 0, every sign pattern enumerated recursively. */
function signFlipP(d: readonly number[]): number {
  const observed = Math.abs(d.reduce((s, x) => s + x, 0));
  let hits = 0;
  let total = 0;
  const walk = (i: number, sum: number) => {
    if (i === d.length) {
      total++;
      if (Math.abs(sum) >= observed - 1e-9) hits++;
      return;
    }
    walk(i + 1, sum + d[i]);
    walk(i + 1, sum - d[i]);
  };
  walk(0, 0);
  return hits / total;
}

const near = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tolerance ${tol})`);

describe('study on tiny-marian-dates: the year token over ten dates', () => {
  const dir = path.join(TMP, 'year');
  let r: ReturnType<typeof cli>;
  let rows: Row[];
  let summary: {
    examples: number;
    reference: string;
    agreement: { a: string; b: string; metric: string; spread: Spread }[];
    paired: {
      metric: string;
      a: string;
      b: string;
      test: { n: number; meanDiff: number; lo: number; hi: number; p: number; exact: boolean };
    }[];
    headSweep: { reference: string; layers: number[]; heads: number; values: number[]; n: number[] };
  };
  let file: {
    failures: string[];
    sanity: { layers: number; stacks: string; methods: { id: string; spearman: Spread }[] };
  };
  before(() => {
    r = cli(
      'study',
      '--model',
      marianDatesDir,
      '--data',
      DATA,
      '--target',
      'target:1',
      '--methods',
      SEQ2SEQ_METHODS.join(','),
      '--ig-steps',
      '8',
      '--randomize-top',
      '1',
      '--threads',
      '1',
      '--out',
      dir,
    );
    rows = readFileSync(path.join(dir, 'examples.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Row);
    file = JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8'));
    summary = (file as unknown as { summary: typeof summary }).summary;
  });

  test('every line explained by every encoder–decoder method; the given target text is scored', () => {
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(file.failures, []);
    assert.equal(rows.length, 10);
    assert.equal(summary.examples, 10);
    for (const row of rows) {
      assert.deepEqual(
        row.methods.map((m) => m.id),
        [...SEQ2SEQ_METHODS, 'uniform'],
      );
      for (const m of row.methods) assert.equal(m.scores.length, row.tokens.length, `${row.text}: ${m.id}`);
      assert.equal(row.target.spec, 'target:1');
    }
    assert.equal(rows[0].seq2seq.mode, 'teacher-forced'); // its "target_text"
    assert.ok(rows.slice(1).every((x) => x.seq2seq.mode === 'translated'));
    assert.deepEqual(
      rows.map((x) => x.seq2seq.targetTokens[0].text),
      ['▁2021', '▁1987', '▁2021', '▁1999', '▁2039', '▁2005', '▁1962', '▁2017', '▁1974', '▁2044'],
    );
    assert.match(r.stdout, /cross-attention heads most in agreement with loo/);
  });

  test('agreement: per-row τ from the scores; mean and sd by plain sums; the interval near the exact bootstrap', () => {
    for (const [a, b] of [
      ['cross-attention', 'loo'],
      ['cross-rollout', 'loo'],
      ['occlusion', 'grad-x-input'],
    ]) {
      const taus = rows.map((row) => {
        const s = (id: string) => row.methods.find((m) => m.id === id)!.scores.filter((_, i) => row.candidates[i]);
        const t = tauB(s(a), s(b));
        const written = row.agreement.find((x) => x.a === a && x.b === b)!.kendall;
        if (Number.isNaN(t)) assert.equal(written, null, `${row.text}: τ(${a}, ${b}) undefined (null in JSON)`);
        else near(written!, t, 1e-12, `${row.text}: τ(${a}, ${b})`);
        return t;
      });
      const xs = taus.filter((t) => Number.isFinite(t));
      const s = summary.agreement.find((x) => x.a === a && x.b === b && x.metric === 'kendall')!.spread;
      assert.equal(s.n, xs.length);
      near(s.mean, mean(xs), 1e-12, `mean τ(${a}, ${b})`);
      const sd = Math.sqrt(xs.reduce((acc, x) => acc + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
      near(s.std, sd, 1e-12, `sd τ(${a}, ${b})`);
      // The 2.5th and 97.5th percentiles of the exact bootstrap distribution; the Monte Carlo estimate (2,000
      // resamples) lies within a quarter of a standard error of them (its own error is about 0.06 of one).
      const se = sd / Math.sqrt(xs.length);
      near(s.ci.lo, exactBootstrapQuantile(xs, 0.025), 0.25 * se, `CI low τ(${a}, ${b})`);
      near(s.ci.hi, exactBootstrapQuantile(xs, 0.975), 0.25 * se, `CI high τ(${a}, ${b})`);
    }
  });

  test('paired differences: mean of the per-row differences and the exact sign-flip p-value', () => {
    // AOPC comprehensiveness from each row's faithfulness table; τ with loo from each row's scores.
    const aopc = (row: Row, m: string) => row.faithfulness.find((f) => f.method === m)!.aopcComprehensiveness;
    const tauLoo = (row: Row, m: string) => {
      const s = (id: string) => row.methods.find((x) => x.id === id)!.scores.filter((_, i) => row.candidates[i]);
      return tauB(s(m), s('loo'));
    };
    for (const [metric, value] of [
      ['aopcComprehensiveness', aopc],
      ['kendallWithReference', tauLoo],
    ] as const)
      for (const [a, b] of [
        ['cross-attention', 'cross-rollout'],
        ['cross-attention', 'integrated-gradients'],
      ]) {
        const p = summary.paired.find((x) => x.metric === metric && x.a === a && x.b === b)!;
        assert.ok(p, `${metric} ${a} − ${b}`);
        const d = rows.map((row) => value(row, a) - value(row, b)).filter((x) => Number.isFinite(x));
        assert.equal(p.test.n, d.length);
        assert.equal(p.test.exact, true);
        near(p.test.meanDiff, mean(d), 1e-12, `${metric} ${a} − ${b}: mean`);
        near(p.test.p, signFlipP(d), 1e-12, `${metric} ${a} − ${b}: p`);
        assert.ok(p.test.lo <= p.test.meanDiff && p.test.meanDiff <= p.test.hi);
      }
  });

  test("the cross-head sweep: 2 layers × 4 heads, the rows' mean; its top head looks at the source's year", async () => {
    const sw = summary.headSweep;
    assert.equal(sw.reference, 'loo');
    assert.deepEqual(sw.layers, [0, 1]);
    assert.equal(sw.heads, 4);
    assert.equal(sw.values.length, 8);
    assert.deepEqual(sw.n, Array(8).fill(10));
    sw.values.forEach((v, c) => near(v, mean(rows.map((row) => row.headSweep.values[c])), 1e-12, `cell ${c}`));
    const top = sw.values.indexOf(Math.max(...sw.values));
    const layer = sw.layers[Math.floor(top / sw.heads)];
    const head = top % sw.heads;
    // That head's cross-attention, read from a run of its own: row 0 (predicting the year) per source.
    const inspector: Inspector = await load(marianDatesDir, {
      backend: 'native',
      threads: 1,
      workerPath: path.join(repoRoot, 'dist/worker.js'),
    });
    try {
      for (const row of rows) {
        const run = inspector.run(
          row.tokens.map((t) => t.id),
          { target: row.seq2seq.targetTokens.map((t) => t.id) },
        );
        let cross: { heads: number; queryLength: number; keyLength: number; data: Float32Array } | undefined;
        for await (const l of run) if (l.kind === 'cross' && (l.stackLayer ?? l.layer) === layer) cross = l;
        const S = cross!.keyLength;
        const attention = Array.from(
          cross!.data.subarray(head * cross!.queryLength * S, head * cross!.queryLength * S + S),
        ); // [key] of row 0
        const year = row.tokens.findIndex((t) => t.text === row.seq2seq.targetTokens[0].text);
        assert.ok(year >= 0, `${row.text}: the year is one source token`);
        assert.equal(attention.indexOf(Math.max(...attention)), year, `${row.text}: layer ${layer} head ${head}`);
        // The sweep's cell for this row is τ of that attention row with loo over the candidates.
        const loo = row.methods.find((m) => m.id === 'loo')!.scores;
        const c = (xs: number[]) => xs.filter((_, i) => row.candidates[i]);
        near(row.headSweep.values[top], tauB(c(attention), c(loo)), 1e-6, `${row.text}: sweep cell`);
      }
    } finally {
      await inspector.dispose();
    }
  });

  test('the randomisation check: the top layer of both stacks; the last cross-attention layer no longer ranks alike', () => {
    assert.equal(file.sanity.layers, 1);
    assert.equal(file.sanity.stacks, 'encoder+decoder');
    assert.deepEqual(
      file.sanity.methods.map((m) => m.id),
      [...SEQ2SEQ_METHODS],
    );
    const cross = file.sanity.methods.find((m) => m.id === 'cross-attention')!.spearman;
    assert.equal(cross.n, 10);
    assert.ok(cross.mean < 0.8, `cross-attention ρ trained vs randomised ${cross.mean}`);
    assert.match(r.stdout, /the top 1 layer of the encoder and of the decoder re-initialised/);
  });
});

test('study --target target:each: one explanation per target token of each line', () => {
  const dir = path.join(TMP, 'each');
  const r = cli(
    'study',
    '--model',
    marianDatesDir,
    '--data',
    DATA,
    '--limit',
    '2',
    '--target',
    'target:each',
    '--methods',
    'cross-attention,loo',
    '--no-faithfulness',
    '--erasure-steps',
    '0',
    '--threads',
    '1',
    '--out',
    dir,
  );
  assert.equal(r.code, 0, r.stderr);
  const rows = readFileSync(path.join(dir, 'examples.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Row);
  // "2021-03-14" and "1987-03-03": six target tokens each (▁YYYY - MM - DD </s>).
  assert.deepEqual(
    rows.map((x) => `${x.line} ${x.target.spec}`),
    [1, 2].flatMap((line) => [1, 2, 3, 4, 5, 6].map((p) => `${line} target:${p}`)),
  );
  for (const row of rows.filter((x) => x.line === 2))
    assert.deepEqual(
      row.seq2seq.targetTokens.map((t) => t.text),
      ['▁1987', '-', '03', '-', '03', '</s>'],
    );
  const summary = JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8'));
  assert.equal(summary.summary.examples, 12);
  assert.match(r.stdout, /The 12 explanations come from 2 lines \(target:each/);
});
