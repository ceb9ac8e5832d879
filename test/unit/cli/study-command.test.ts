// `attention-lens study` as users run it (node dist/cli.js), on copies of stories260K and tiny-marian-dates in a
// temporary folder: --reference is what the head sweep ranks every head against (each cell recomputed here as
// Kendall τ-b, by its sign-sum formula, of that head's attention — read from a separate run — with the reference's
// scores); on an encoder–decoder --reference raw-attention / rollout name cross-attention / cross-rollout;
// summary.md has the --randomize-top sanity check with summary.json's numbers. Plus the pure pieces: a JSONL line
// whose "target" or "reference" is not a string is reported, and --reference's aliases are accepted before the model
// is known. (Refusals, such as --out the model's own folder, are in bad-input-catalogue.test.ts.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseStudyArgs } from '../../../cli/explain-args';
import { parseExamples } from '../../../cli/study-command';
import { isLensError } from '../../../runtime/errors';
import { load } from '../../../runtime/inspector/load-model';
import { fixtureModel, fixturesDir, marianDatesDir, repoRoot } from '../../helpers/fixtures';
import { mean, tauB } from '../../helpers/rank-stats';

const CLI = path.join(repoRoot, 'dist/cli.js');
const TMP = mkdtempSync(path.join(tmpdir(), 'lens-study-command-'));
const STORIES = path.join(TMP, 'stories260K');
const MARIAN = path.join(TMP, 'tiny-marian-dates');
after(() => rmSync(TMP, { recursive: true, force: true }));

before(() => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'pipe' });
  cpSync(fixtureModel('stories260K'), STORIES, { recursive: true });
  cpSync(marianDatesDir, MARIAN, { recursive: true });
});

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: TMP, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const userError = (pattern: RegExp) => (e: unknown) =>
  isLensError(e) && e.code === 'BAD_INPUT' && pattern.test(e.message);

function near(actual: number, expected: number, tol: number, what: string) {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (tolerance ${tol})`);
}

interface Row {
  line: number;
  tokens: { id: number; text: string }[];
  candidates: boolean[];
  target: { spec: string; readout: number };
  methods: { id: string; scores: number[] }[];
  headSweep: { reference: string; layers: number[]; heads: number; values: (number | null)[] };
}

interface Spread {
  n: number;
  missing: number;
  mean: number;
  std: number;
  median: number;
  ci: { lo: number; hi: number };
}

describe('the JSONL reader and the options', () => {
  test('a line whose "target" or "reference" is not a string is reported, not explained with --target', () => {
    const { examples, skipped } = parseExamples(
      [
        '{"text": "a b", "target": 5}',
        '{"text": "a b", "target": null}',
        '{"text": "a b", "target": ["next"]}',
        '{"text": "a b", "target": {"kind": "next"}}',
        '{"text": "a b", "reference": 7}',
        '{"text": "a b", "target": "next"}',
        '{"text": "a b", "reference": "b a"}',
        '"a b"',
      ].join('\n'),
    );
    assert.deepEqual(examples, [
      { line: 6, text: 'a b', target: 'next' },
      { line: 7, text: 'a b', target: 'similarity:b a' },
      { line: 8, text: 'a b' },
    ]);
    assert.deepEqual(
      skipped.map((s) => s.line),
      [1, 2, 3, 4, 5],
    );
    const kinds = ['a number', 'null', 'an array', 'an object'];
    kinds.forEach((kind, i) =>
      assert.match(
        skipped[i].problem,
        new RegExp(`^has a "target" that is ${kind}, not a string; write a target spec such as "next"`),
      ),
    );
    assert.match(skipped[4].problem, /^has a "reference" that is a number, not a string; write the reference text/);
  });

  test('--reference raw-attention / rollout is accepted with cross-attention / cross-rollout (either name)', () => {
    const study = (methods: string, reference: string) =>
      parseStudyArgs([
        '--model',
        'm',
        '--data',
        'd.jsonl',
        '--target',
        'target:1',
        '--methods',
        methods,
        '--reference',
        reference,
      ]);
    for (const [methods, reference] of [
      ['cross-attention,cross-rollout,loo', 'raw-attention'],
      ['cross-attention,cross-rollout,loo', 'rollout'],
      ['raw-attention,loo', 'cross-attention'],
      ['rollout,loo', 'cross-rollout'],
      ['cross-attention,loo', 'cross-attention'],
    ]) {
      const a = study(methods, reference);
      if (a === 'help') return assert.fail('help');
      assert.equal(a.reference, reference, `--methods ${methods} --reference ${reference}`);
    }
    // A method that is not among them, under either name, is still refused before the model loads.
    assert.throws(
      () => study('cross-attention,loo', 'rollout'),
      userError(/^--reference rollout is not among the methods \(cross-attention, loo\); add it to --methods\.$/),
    );
    assert.throws(
      () => study('raw-attention,loo', 'cross-rollout'),
      userError(/^--reference cross-rollout is not among the methods \(raw-attention, loo\)/),
    );
  });
});

describe('study --reference grad-x-input --randomize-top 1 on stories260K', () => {
  const dir = path.join(TMP, 'stories-out');
  const texts = [
    'Once upon a time, there was a little girl named Lily.',
    'One day, she saw a big red ball in the park.',
    'The dog ran to the tree and barked.',
  ];
  const methods = ['raw-attention', 'rollout', 'loo', 'grad-x-input'];
  let r: ReturnType<typeof cli>;
  let rows: Row[];
  let file: {
    summary: {
      examples: number;
      reference: string;
      headSweep: { reference: string; layers: number[]; heads: number; values: number[]; n: number[] };
    };
    sanity: { layers: number; seed: number; methods: { id: string; spearman: Spread }[] };
  };
  before(() => {
    const data = path.join(TMP, 'stories.jsonl');
    writeFileSync(data, texts.map((t) => JSON.stringify(t)).join('\n') + '\n');
    r = cli(
      'study',
      '--model',
      STORIES,
      '--data',
      data,
      '--target',
      'next',
      '--methods',
      methods.join(','),
      '--reference',
      'grad-x-input',
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
  });

  test('the head sweep is against --reference: in summary.json, every example, stdout and head-sweep.svg', () => {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(file.summary.examples, 3);
    assert.equal(file.summary.reference, 'grad-x-input');
    assert.equal(file.summary.headSweep.reference, 'grad-x-input');
    assert.deepEqual(
      rows.map((x) => x.headSweep.reference),
      ['grad-x-input', 'grad-x-input', 'grad-x-input'],
    );
    assert.match(r.stdout, /\nheads {6}most in agreement with grad-x-input \(mean Kendall τ/);
    assert.doesNotMatch(r.stdout, /most in agreement with loo/);
    assert.match(readFileSync(path.join(dir, 'head-sweep.svg'), 'utf8'), /Kendall τ with grad-x-input/);
    // stories260K: 5 layers × 8 heads; each cell the plain mean of the examples' cells.
    const sw = file.summary.headSweep;
    assert.deepEqual(sw.layers, [0, 1, 2, 3, 4]);
    assert.equal(sw.heads, 8);
    sw.values.forEach((v, c) => {
      const xs = rows.map((x) => x.headSweep.values[c]).filter((x): x is number => x !== null);
      assert.equal(sw.n[c], xs.length);
      near(v, mean(xs), 1e-12, `cell ${c}`);
    });
  });

  test("each example's sweep cell is τ-b of that head's attention row with grad-x-input's scores", async () => {
    const inspector = await load(STORIES, {
      backend: 'native',
      threads: 1,
      workerPath: path.join(repoRoot, 'dist/worker.js'),
    });
    try {
      for (const row of rows) {
        const reference = row.methods.find((m) => m.id === 'grad-x-input')!.scores;
        const loo = row.methods.find((m) => m.id === 'loo')!.scores;
        const c = (xs: readonly number[]) => xs.filter((_, i) => row.candidates[i]);
        let differs = false;
        for await (const l of inspector.run(row.tokens.map((t) => t.id))) {
          const cell = row.headSweep.layers.indexOf(l.layer);
          assert.ok(cell >= 0, `layer ${l.layer} is in the sweep`);
          const S = l.keyLength;
          for (let h = 0; h < l.heads; h++) {
            const start = (h * l.queryLength + row.target.readout) * S;
            const attention = Array.from(l.data.subarray(start, start + S)); // [key] of the readout row
            const written = row.headSweep.values[cell * row.headSweep.heads + h];
            const expected = tauB(c(attention), c(reference));
            if (Number.isNaN(expected)) assert.equal(written, null, `line ${row.line} layer ${l.layer} head ${h}`);
            else near(written!, expected, 1e-6, `line ${row.line} layer ${l.layer} head ${h}`);
            if (Math.abs(tauB(c(attention), c(loo)) - expected) > 1e-6) differs = true;
          }
        }
        assert.ok(differs, `line ${row.line}: the sweep against loo would differ somewhere`);
      }
    } finally {
      await inspector.dispose();
    }
  });

  test("summary.md has the sanity check's section with summary.json's numbers", () => {
    const md = readFileSync(path.join(dir, 'summary.md'), 'utf8');
    const at = md.indexOf('## Sanity check: model randomisation');
    assert.ok(at >= 0, 'a sanity-check section');
    const end = md.indexOf('\n## ', at + 1);
    const section = md.slice(at, end < 0 ? undefined : end);
    assert.match(section.split('\n')[0], /the top 1 layer re-initialised, seed 1\)$/);
    assert.equal(file.sanity.layers, 1);
    assert.equal(file.sanity.seed, 1);
    const table = section
      .split('\n')
      .filter((l) => l.startsWith('| ') && !l.startsWith('| method'))
      .map((l) =>
        l
          .slice(2, -2)
          .split(' | ')
          .map((x) => x.trim()),
      );
    // One row per method asked for (the baselines have no ranking of their own to compare).
    assert.deepEqual(
      table.map((t) => t[0]),
      methods,
    );
    // "mean ± sd", "[lo, hi]", "median [q1, q3]", n, undefined: to the 3 significant digits printed.
    const close = (text: string, x: number, what: string) =>
      near(Number(text), x, Math.max(5e-3 * Math.abs(x), 1e-9), what);
    for (const [id, meanSd, interval, median, n, missing] of table) {
      const s = file.sanity.methods.find((m) => m.id === id)!.spearman;
      const [m, sd] = meanSd.split(' ± ');
      close(m, s.mean, `${id} mean`);
      close(sd, s.std, `${id} sd`);
      const [lo, hi] = interval.slice(1, -1).split(', ');
      close(lo, s.ci.lo, `${id} CI low`);
      close(hi, s.ci.hi, `${id} CI high`);
      close(median.split(' ')[0], s.median, `${id} median`);
      assert.equal(Number(n), 3, `${id}: every example`);
      assert.equal(Number(n), s.n);
      assert.equal(Number(missing), s.missing);
    }
  });
});

test('study on an encoder–decoder: --reference raw-attention and rollout name cross-attention and cross-rollout', () => {
  for (const [reference, id] of [
    ['raw-attention', 'cross-attention'],
    ['rollout', 'cross-rollout'],
  ]) {
    const dir = path.join(TMP, `marian-${reference}`);
    const r = cli(
      'study',
      '--model',
      MARIAN,
      '--data',
      path.join(fixturesDir, 'study', 'dates.jsonl'),
      '--limit',
      '3',
      '--target',
      'target:1',
      '--methods',
      'cross-attention,cross-rollout,loo',
      '--reference',
      reference,
      '--no-faithfulness',
      '--erasure-steps',
      '0',
      '--threads',
      '1',
      '--out',
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    const file = JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8'));
    assert.equal(file.summary.examples, 3);
    assert.equal(file.summary.reference, id, `--reference ${reference}`);
    assert.equal(file.summary.headSweep.reference, id, `--reference ${reference}: the head sweep`);
    assert.match(r.stdout, new RegExp(`cross-attention heads most in agreement with ${id} \\(`));
    assert.match(r.stdout, new RegExp(`τ with ${id}\\s+\\S+\\s+\\S+`));
  }
});
