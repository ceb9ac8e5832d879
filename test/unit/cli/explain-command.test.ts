// `attention-lens explain` and `attention-lens study` as users run them (node dist/cli.js) on stories260K: the
// printed tables, the JSON result, the study's summary files and SVG plots; bad input gives exit code 2 and one
// line. Plus the pure pieces: argument parsing, the JSONL reader, the SVG box plot, the progress bar.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseExplainArgs, parseStudyArgs } from '../../../cli/explain-args';
import { parseExamples } from '../../../cli/study-command';
import { boxPlotSvg, ticks } from '../../../cli/svg-plot';
import { ProgressBar } from '../../../cli/progress';
import { num, sparkline } from '../../../cli/explain-format';
import { isLensError } from '../../../runtime/errors';
import { fixtureModel, repoRoot } from '../../helpers/fixtures';

const ROOT = repoRoot;
const MODEL = fixtureModel('stories260K');
const CLI = path.join(ROOT, 'dist/cli.js');
const TMP = mkdtempSync(path.join(tmpdir(), 'lens-explain-cli-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const userError = (pattern: RegExp) => (e: unknown) =>
  isLensError(e) && e.code === 'BAD_INPUT' && pattern.test(e.message);

describe('argument parsing', () => {
  test('explain: defaults, every option, and one-line errors', () => {
    const a = parseExplainArgs(['--model', 'm', '--text', 't', '--target', 'next']);
    assert.notEqual(a, 'help');
    if (a === 'help') return;
    assert.deepEqual(a.analysis, {
      target: 'next',
      perturbation: 'remove',
      faithfulness: true,
      includeSpecial: false,
      batched: true,
      truncate: false,
      chat: false,
    });
    const b = parseExplainArgs([
      '--model',
      'm',
      '--file',
      'f',
      '--target',
      'mask@2',
      '--methods',
      'rollout, loo',
      '--perturb',
      'hide',
      '--layer',
      '3',
      '--head',
      'max',
      '--window',
      '2',
      '--topk',
      '3',
      '--percents',
      '10,50',
      '--erasure-steps',
      '0',
      '--no-faithfulness',
      '--include-special',
      '--no-batch',
      '--head-stats',
      '--chat',
      '--out',
      'o.json',
    ]);
    if (b === 'help') return assert.fail('help');
    assert.deepEqual(b.analysis.methods, ['rollout', 'loo']);
    assert.deepEqual(
      [b.analysis.perturbation, b.analysis.layer, b.analysis.head, b.analysis.window, b.analysis.topK],
      ['hide', 3, 'max', 2, 3],
    );
    assert.deepEqual(b.analysis.percents, [10, 50]);
    assert.deepEqual(
      [b.analysis.erasureSteps, b.analysis.faithfulness, b.analysis.includeSpecial, b.analysis.batched, b.headStats],
      [0, false, true, false, true],
    );
    assert.equal(b.analysis.chat, true);
    assert.equal(parseExplainArgs(['--help']), 'help');
    assert.throws(() => parseExplainArgs(['--text', 't', '--target', 'next']), userError(/Missing --model/));
    assert.throws(() => parseExplainArgs(['--model', 'm', '--text', 't']), userError(/Missing --target/));
    assert.throws(() => parseExplainArgs(['--model', 'm', '--text', 't', '--target', 'nxt']), userError(/Bad target/));
    assert.throws(
      () => parseExplainArgs(['--model', 'm', '--text', 't', '--target', 'next', '--perturb', 'zap']),
      userError(/--perturb "zap"; use remove, hide, mask-token/),
    );
    assert.throws(
      () => parseExplainArgs(['--model', 'm', '--text', 't', '--target', 'next', '--percents', '0,5']),
      userError(/--percents/),
    );
    assert.throws(() => parseExplainArgs(['--model', 'm', '--target', 'next']), userError(/--text TEXT or --file/));
    assert.throws(
      () => parseExplainArgs(['--model', 'm', '--text', 't', '--target', 'next', '--bogus']),
      userError(/bogus/),
    );
  });

  test('study: --data is required; --limit is a positive whole number', () => {
    const s = parseStudyArgs(['--model', 'm', '--data', 'd.jsonl', '--target', 'next', '--limit', '5', '--out', 'dir']);
    if (s === 'help') return assert.fail('help');
    assert.deepEqual([s.data, s.limit, s.out], ['d.jsonl', 5, 'dir']);
    const chat = parseStudyArgs(['--model', 'm', '--data', 'd.jsonl', '--target', 'next', '--chat']);
    if (chat === 'help') return assert.fail('help');
    assert.equal(chat.analysis.chat, true, 'study --chat runs every example as a chat prompt');
    assert.throws(() => parseStudyArgs(['--model', 'm', '--target', 'next']), userError(/Missing --data/));
    assert.throws(
      () => parseStudyArgs(['--model', 'm', '--data', 'd', '--target', 'next', '--limit', '0']),
      userError(/--limit/),
    );
  });

  test('JSONL examples: strings, objects with target or reference, blank lines; bad lines are reported, not fatal', () => {
    const { examples, skipped } = parseExamples(
      '"a"\n\n{"text": "b", "target": "token:1:5"}\n{"text": "c", "reference": "r"}\n',
    );
    assert.deepEqual(examples, [
      { line: 1, text: 'a' },
      { line: 3, text: 'b', target: 'token:1:5' },
      { line: 4, text: 'c', target: 'similarity:r' },
    ]);
    assert.deepEqual(skipped, []);
    assert.equal(parseExamples('"a"\n"b"\n"c"', 2).examples.length, 2);
    const bad = parseExamples('"a"\n{oops\n{"txt": 1}\n"  "\n"b"');
    assert.deepEqual(
      bad.examples.map((e) => e.line),
      [1, 5],
    );
    assert.deepEqual(
      bad.skipped.map((x) => x.line),
      [2, 3, 4],
    );
    assert.match(bad.skipped[0].problem, /is not JSON/);
    assert.match(bad.skipped[1].problem, /has no "text"/);
    assert.match(bad.skipped[2].problem, /empty text/);
    assert.deepEqual(parseExamples('\n\n'), { examples: [], skipped: [] });
  });
});

test('SVG box plot: one row per series, escaped labels, ticks inside the range; formatting helpers', () => {
  const svg = boxPlotSvg(
    [
      { label: 'a <vs> b', values: [0.1, 0.5, 0.9, NaN] },
      { label: 'c', values: [] },
    ],
    { title: 'τ & co', xLabel: 'x', min: -1, max: 1 },
  );
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>\n$/);
  assert.match(svg, /a &lt;vs&gt; b/);
  assert.match(svg, /τ &amp; co/);
  assert.match(svg, /no values/);
  assert.match(svg, /whiskers: min–max/, 'the legend says what the whiskers are');
  assert.equal((svg.match(/fill-opacity="0.55"/g) ?? []).length, 3); // three finite points
  assert.match(svg, /1 undefined/);
  assert.deepEqual(ticks(-1, 1), [-1, -0.5, 0, 0.5, 1]);
  assert.deepEqual(ticks(0, 0.9), [0, 0.2, 0.4, 0.6, 0.8]);
  assert.deepEqual(
    [num(NaN), num(0), num(0.012345), num(123.456), num(-2.5e-5), num(12345)],
    ['—', '0', '0.0123', '123', '-2.5e-5', '12345'],
  );
  assert.equal(sparkline([0, 1, 0.5]), '▁█▅');
  const bar = new ProgressBar(4, 'study');
  assert.match(bar.render(0), /^study \[\.{24}\] 0\/4$/);
  assert.match(bar.render(2), /^study \[#{12}\.{12}\] 2\/4, \d+ s left$/);
});

describe('end to end on stories260K', () => {
  before(() => {
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
  });

  test('explain prints every method per token and the tables, and writes the result as JSON', () => {
    const out = path.join(TMP, 'explain.json');
    const text = 'Once upon a time, there was a little girl named Lily. She';
    const r = cli(
      'explain',
      '--model',
      MODEL,
      '--text',
      text,
      '--target',
      'next',
      '--methods',
      'raw,rollout,loo,norm',
      '--head-stats',
      '--out',
      out,
    );
    assert.equal(r.code, 0, r.stderr);
    for (const heading of [
      'target     next: log p(',
      'scores',
      'agreement',
      'distance',
      'comprehensiveness',
      'sufficiency',
      'erasure',
      'heads',
      'timings',
      'passes',
    ])
      assert.ok(r.stdout.includes(heading), `missing ${heading}`);
    assert.match(r.stdout, /raw-attention\s+rollout\s+loo\s+norm\s+uniform/);
    assert.match(r.stdout, /^16\s+She\s/m);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(json.text, text);
    assert.equal(json.tokens.length, 17);
    assert.deepEqual(
      json.methods.map((m: { id: string }) => m.id),
      ['raw-attention', 'rollout', 'loo', 'norm', 'uniform'],
    );
    for (const m of json.methods) assert.equal(m.scores.length, 17);
    assert.equal(json.agreement.length, 10 + 4 * 2); // the 10 pairs, then each method vs recency and random
    assert.equal(json.faithfulness.length, 5);
    assert.equal(json.target.kind, 'next');
    // The uniform row's agreement is the chance level over random orders: a number in [-1, 1].
    const chance = json.agreement.find((a: { b: string }) => a.b === 'uniform').kendall;
    assert.ok(chance >= -1 && chance <= 1, String(chance));
  });

  test('explain on a run kept for long inputs (--long kept): raw attention and head statistics as the dense run; other methods state their cost', () => {
    const text = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park.';
    const dense = path.join(TMP, 'explain-dense.json');
    const keptOut = path.join(TMP, 'explain-kept.json');
    const args = ['explain', '--model', MODEL, '--text', text, '--target', 'next'];
    assert.equal(cli(...args, '--methods', 'raw-attention', '--no-faithfulness', '--out', dense).code, 0);
    const r = cli(
      ...args,
      '--long',
      'kept',
      '--methods',
      'raw-attention,loo,flow,saliency',
      '--head-stats',
      '--out',
      keptOut,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^kept {7}\d+ tokens kept for long inputs \(q and k, not the maps\): run in [\d.]+ s$/m);
    assert.match(r.stdout, /^value {6}— \(log-prob\)$/m, 'the value is not computed on a kept run: not shown');
    assert.match(r.stdout, /^heads {6}per head/m);
    // Each method that does not run: one warning line with its cost at this length (timed by the run) and what to do.
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('attention-lens: warning: '));
    assert.equal(warnings.length, 3, r.stderr);
    assert.match(
      warnings[0],
      /Leave-one-out does not run on \d+ tokens kept for long inputs: it runs the model once per candidate token: \d+ passes over \d+ tokens \(about [\d.]+ (s|min|h) at [\d.]+ s a pass\); run with the maps \(--long auto or maps\) for it\./,
    );
    // kept on request at a length whose maps fit: the maps, not fewer tokens, are what to use
    assert.match(warnings[1], /Attention flow .*; run with the maps \(--long auto or maps\) for it\./);
    assert.match(warnings[2], /Saliency .* backpropagates through every layer's maps: 1 pass over/);
    const a = JSON.parse(readFileSync(dense, 'utf8'));
    const b = JSON.parse(readFileSync(keptOut, 'utf8'));
    assert.equal(b.target.value, null, 'NaN in JSON is null');
    const scores = (j: { methods: { id: string; scores: number[] }[] }) =>
      j.methods.find((m) => m.id === 'raw-attention')!.scores;
    assert.equal(scores(b).length, scores(a).length);
    scores(b).forEach((x, i) =>
      assert.ok(Math.abs(x - scores(a)[i]) <= 1e-5, `raw attention [${i}]: ${x} vs ${scores(a)[i]}`),
    );
    assert.equal(b.heads.length, a.heads.length);
    b.heads.forEach((h: Record<string, number>, i: number) => {
      for (const k of ['entropy', 'specialShare', 'previousToken', 'meanDistance'])
        assert.ok(Math.abs(h[k] - a.heads[i][k]) <= 1e-4, `heads[${i}].${k}: ${h[k]} vs ${a.heads[i][k]}`);
      assert.equal(h.punctuationShare, null, 'not in the summaries: not shown');
    });
  });

  test('explain --words max with a contrastive target: the words table and the JSON words', () => {
    const out = path.join(TMP, 'explain-words.json');
    const text = 'Once upon a time, there was a little girl named Lily. She';
    const r = cli(
      'explain',
      '--model',
      MODEL,
      '--text',
      text,
      '--target',
      'contrast:▁was|▁a',
      '--methods',
      'loo',
      '--words',
      'max',
      '--no-faithfulness',
      '--erasure-steps',
      '0',
      '--out',
      out,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /target {5}contrast:▁was\|▁a: log p\("▁was" next \| input\) − log p\("▁a" next \| input\)/);
    assert.match(r.stdout, /words {6}\d+ words; each score is the max of its tokens' scores/);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(json.target.measure, 'log-odds');
    assert.equal(json.words.aggregation, 'max');
    const loo = json.methods.find((m: { id: string }) => m.id === 'loo').scores as number[];
    const words = json.words.words as { text: string; tokens: number[] }[];
    assert.equal(words.map((w) => w.tokens).flat().length, json.tokens.length);
    const wordLoo = json.words.methods.find((m: { id: string }) => m.id === 'loo').scores as number[];
    words.forEach((w, i) => assert.equal(wordLoo[i], Math.max(...w.tokens.map((t) => loo[t]))));
    assert.ok(words.some((w) => w.text === 'Lily'));
  });

  test('explain: a target the model cannot give is exit code 2 with one line', () => {
    const r = cli('explain', '--model', MODEL, '--text', 'Once upon', '--target', 'mask');
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
    assert.match(r.stderr, /needs a masked language model.*is causal: use next/);
    const m = cli(
      'explain',
      '--model',
      MODEL,
      '--text',
      'Once upon',
      '--target',
      'next',
      '--methods',
      'rollout,gradient-magic',
    );
    assert.equal(m.code, 2);
    assert.match(m.stderr, /Unknown method "gradient-magic"; known: raw-attention, rollout, flow, loo/);
  });

  test('study writes the summary, every example and SVG plots; a bad example is skipped and reported', () => {
    const data = path.join(TMP, 'stories.jsonl');
    writeFileSync(
      data,
      [
        JSON.stringify('Once upon a time, there was a little girl named Lily.'),
        JSON.stringify({ text: 'One day, she saw a big red ball in the park.' }),
        JSON.stringify({ text: 'Tom liked to play.', target: 'token:99:5' }),
        JSON.stringify('The dog ran to the tree and barked.'),
      ].join('\n') + '\n',
    );
    const dir = path.join(TMP, 'study');
    const r = cli(
      'study',
      '--model',
      MODEL,
      '--data',
      data,
      '--target',
      'next',
      '--methods',
      'rollout,loo,norm',
      '--out',
      dir,
    );
    // A skipped example makes the exit code 2, after every output is written.
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /study \[#{24}\] 4\/4/);
    assert.match(
      r.stderr,
      /attention-lens: 1 of 4 examples were skipped \(the first: line 3: .*; the outputs hold the other 3\.\n$/,
    );
    assert.match(r.stdout, /examples {3}3 explained, 1 skipped/);
    assert.match(r.stdout, /skipped {4}line 3: token:99:… is past the/);
    assert.match(r.stdout, /rollout\s+loo\s+-?\d/);
    for (const f of [
      'summary.md',
      'summary.json',
      'examples.jsonl',
      'agreement-kendall.svg',
      'agreement-spearman.svg',
      'agreement-topk.svg',
      'faithfulness-comprehensiveness.svg',
      'faithfulness-sufficiency.svg',
      'erasure-area.svg',
      'head-sweep.svg',
    ])
      assert.ok(existsSync(path.join(dir, f)), f);
    // Which heads agree with loo: the mean sweep over the examples, drawn as small multiples and listed.
    const sweepSvg = readFileSync(path.join(dir, 'head-sweep.svg'), 'utf8');
    assert.match(sweepSvg, /Kendall τ with loo/);
    assert.match(sweepSvg, /data-rows="5" data-cols="8"/);
    assert.match(r.stdout, /heads {6}most in agreement with loo \(mean Kendall τ \[95 % CI\]; recency: /);
    const summary = JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8'));
    assert.equal(summary.summary.examples, 3);
    const tau = summary.summary.agreement.find(
      (a: { a: string; b: string; metric: string }) => a.a === 'rollout' && a.b === 'loo' && a.metric === 'kendall',
    );
    assert.equal(tau.spread.n, 3);
    assert.equal(readFileSync(path.join(dir, 'examples.jsonl'), 'utf8').trimEnd().split('\n').length, 3);
    assert.match(readFileSync(path.join(dir, 'summary.md'), 'utf8'), /\| rollout \| loo \| kendall \|/);
    const svg = readFileSync(path.join(dir, 'agreement-kendall.svg'), 'utf8');
    assert.match(svg, /rollout vs loo/);
    // 3 examples × 12 pairs: 6 among rollout, loo, norm and the uniform baseline, and each method vs recency and random.
    assert.equal((svg.match(/fill-opacity="0.55"/g) ?? []).length, 3 * 12);
    // The statistics: a bootstrap interval around each mean, paired tests against loo (the default reference).
    assert.ok(tau.spread.ci.lo <= tau.spread.mean && tau.spread.mean <= tau.spread.ci.hi);
    assert.equal(summary.summary.reference, 'loo');
    const paired = summary.summary.paired.find(
      (p: { metric: string; a: string; b: string }) =>
        p.metric === 'kendallWithReference' && p.a === 'rollout' && p.b === 'recency',
    );
    assert.equal(paired.test.n, 3);
    assert.equal(paired.test.exact, true);
    assert.equal((paired.test.p * 8) % 1, 0); // exact over 2^3 sign patterns
    assert.match(r.stdout, /τ with loo\s+rollout\s+recency/);
    assert.doesNotMatch(svg, /no values/);
  });
});
