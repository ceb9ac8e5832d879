// `attention-lens study`: the explain analysis over a dataset (JSONL, one text per line), with a progress bar, then
// the spread of every agreement and faithfulness metric across examples: printed, and with --out DIR written as
// summary.md, summary.json, examples.jsonl (every explanation) and SVG box plots of the distributions.
// On an encoder–decoder each line is a source (with an optional given "target_text", else the greedy translation is
// explained) and its target is target, target:POS, a contrast, or target:each (one explanation per target token).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { load } from '../runtime/inspector/load-model';
import { isLensError, LensError, type LensErrorCode } from '../runtime/errors';
import { DEFAULT_METHODS, explain, resolveMethods } from '../runtime/explain/explain';
import { resultToJson, type ExplainResult } from '../runtime/explain/result';
import { summarizeStudy, type Spread, type StudySummary } from '../runtime/explain/summary';
import { formatSize, readDataLines } from '../runtime/files/read-input';
import { planOutput, type OutputPlan } from '../runtime/files/output-target';
import { planOutputFolder } from '../runtime/files/output-folder';
import { writeOutput } from '../runtime/files/output-file';
import type { StudyArgs } from './explain-args';
import { num, textTable } from './explain-format';
import { formatFacts } from './format';
import { ProgressBar } from './progress';
import { boxPlotSvg, type PlotRow } from './svg-plot';
import { protectedFiles, RAISE_LIMIT, warnOnStderr } from './command-files';
import { effectiveThreads } from './parse-options';
import { downloadReporter } from './download-progress';
import { sanityCheck, type SanityCheck } from '../runtime/explain/sanity';
import { EACH_TARGET_TOKEN } from '../runtime/explain/seq2seq-target';
import { parseTargetSpec, targetMeasure } from '../runtime/explain/target-spec';
import type { TargetMeasure } from '../runtime/analysis/targets';
import { SEQ2SEQ_DEFAULT_METHODS, seq2seqMethodId, seq2seqMethods } from '../runtime/explain/seq2seq-methods';
import { headSweepFigure } from '../figures/explain-figure';
import { headSweepGrid } from '../figures/head-stats';
import { sceneToSvg } from '../figures/svg';
import { PAPER } from '../figures/theme';

export interface Example {
  /** 1-based line number in the file. */
  line: number;
  text: string;
  /** A per-example target spec (the "target" field, or "reference" → similarity:REFERENCE). */
  target?: string;
  /** Encoder–decoders: the given target ("target_text") scored with teacher forcing instead of the translation. */
  targetText?: string;
}

/** A line that could not be used, and why (one line for the user). */
export interface SkippedLine {
  line: number;
  problem: string;
}

/** A JSON value's type in words ("a number", "null"...), for messages. */
function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** One JSONL line: a JSON string or an object with "text" (and optional "target" or "reference"); blank → null. */
export function parseExample(raw: string, line: number): Example | SkippedLine | null {
  const trimmed = raw.trim();
  if (trimmed === '') return null;
  let v: unknown;
  try {
    v = JSON.parse(trimmed);
  } catch {
    return { line, problem: 'is not JSON; write one JSON string or {"text": …} per line' };
  }
  let ex: Example;
  if (typeof v === 'string') ex = { line, text: v };
  else {
    const o = v as { text?: unknown; target?: unknown; reference?: unknown; target_text?: unknown };
    if (typeof o !== 'object' || o === null || typeof o.text !== 'string')
      return { line, problem: 'has no "text" string; write a JSON string or {"text": …}' };
    ex = { line, text: o.text };
    // A "target" or "reference" of another type is reported, not replaced by --target without a word.
    if (o.target !== undefined && typeof o.target !== 'string')
      return {
        line,
        problem: `has a "target" that is ${jsonType(o.target)}, not a string; write a target spec such as "next" or "token:3:42", or leave it out to use --target`,
      };
    if (o.reference !== undefined && typeof o.reference !== 'string')
      return {
        line,
        problem: `has a "reference" that is ${jsonType(o.reference)}, not a string; write the reference text, or leave it out to use --target`,
      };
    if (typeof o.target === 'string') ex.target = o.target;
    else if (typeof o.reference === 'string') ex.target = `similarity:${o.reference}`;
    if (o.target_text !== undefined) {
      if (typeof o.target_text !== 'string' || o.target_text.trim() === '')
        return {
          line,
          problem:
            'has a "target_text" that is not a non-empty string; give the translation to score, or leave it out to explain the model’s own',
        };
      ex.targetText = o.target_text;
    }
  }
  if (ex.text.trim() === '') return { line, problem: 'has an empty text; write some text on that line' };
  return ex;
}

/** The examples of a JSONL text (tests, small files) and the lines that could not be used. */
export function parseExamples(content: string, limit?: number): { examples: Example[]; skipped: SkippedLine[] } {
  const examples: Example[] = [];
  const skipped: SkippedLine[] = [];
  for (const [i, raw] of content
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .entries()) {
    if (limit !== undefined && examples.length >= limit) break;
    const r = parseExample(raw, i + 1);
    if (r && 'problem' in r) skipped.push(r);
    else if (r) examples.push(r);
  }
  return { examples, skipped };
}

/** Reads --data line by line within the input limit (an over-long line is skipped without being held). */
async function readExamples(args: StudyArgs, warn: (s: string) => void) {
  const examples: Example[] = [];
  const skipped: SkippedLine[] = [];
  const warnings: string[] = [];
  const option = { limit: args.inputLimit, option: '--data', raise: RAISE_LIMIT };
  for await (const l of readDataLines(args.data, option, warnings)) {
    if (args.limit !== undefined && examples.length >= args.limit) break;
    if ('tooLong' in l) {
      skipped.push({
        line: l.line,
        problem: `is ${formatSize(l.tooLong)}, over the input limit of ${formatSize(args.inputLimit)} (raise it with ${RAISE_LIMIT})`,
      });
      continue;
    }
    const r = parseExample(l.text.replace(/^\uFEFF/, '').replace(/\r$/, ''), l.line);
    if (r && 'problem' in r) skipped.push(r);
    else if (r) examples.push(r);
  }
  for (const w of warnings) warn(w);
  return { examples, skipped };
}

/** What each target measure is called in a study's refusal. */
const MEASURE_WORDS: Record<TargetMeasure, string> = {
  'log-prob': 'log-probability',
  prob: 'probability',
  cosine: 'cosine similarity',
  'log-odds': 'log p(A) − log p(B)',
};

/** What a spec measures (targetMeasure), with a whole target's log p apart from one target token's: a sum over the
 *  target's tokens is not on one token's scale. Undefined for a spec that does not parse (refused per example). */
function measureOf(spec: string): string | undefined {
  if (spec === EACH_TARGET_TOKEN) return 'log p of one target token';
  let t: ReturnType<typeof parseTargetSpec>;
  try {
    t = parseTargetSpec(spec);
  } catch {
    return undefined;
  }
  if (t.kind === 'target') return t.position === undefined ? 'log p of the whole target' : 'log p of one target token';
  return MEASURE_WORDS[targetMeasure(t)];
}

/**
 * A study averages the target's value, AOPC and erasure areas across examples, in the target's units: examples whose
 * targets measure different things (a log-probability, a probability, a log-odds) cannot be averaged or compared, so
 * they are refused before the model runs, naming the lines of each kind.
 */
export function checkOneMeasure(examples: readonly { line: number; spec: string }[]): void {
  const byMeasure = new Map<string, number[]>();
  for (const ex of examples) {
    const m = measureOf(ex.spec);
    if (m !== undefined) byMeasure.set(m, [...(byMeasure.get(m) ?? []), ex.line]);
  }
  if (byMeasure.size < 2) return;
  const kinds = [...byMeasure].map(
    ([m, lines]) =>
      `${m} (line${lines.length > 1 ? 's' : ''} ${lines.slice(0, 3).join(', ')}${lines.length > 3 ? ', …' : ''})`,
  );
  throw new LensError(
    'BAD_INPUT',
    `The examples' targets measure different things: ${kinds.join('; ')}. A study averages and compares one measure: give every line a target of one kind, or run one study per kind.`,
  );
}

/** Errors that belong to one example (it is skipped and reported); every other error ends the study. */
const EXAMPLE_ERRORS: readonly LensErrorCode[] = ['BAD_INPUT', 'EMPTY_TEXT', 'TOO_LONG', 'NO_TOKENIZER', 'NON_FINITE'];

const pm = (s: Spread) => (s.n ? `${num(s.mean)} ± ${num(s.std)}` : '—');
/** The mean's bootstrap 95 % interval, "[lo, hi]" ("—" with fewer than 2 values). */
const ci = (s: Spread) => (s.n > 1 ? `[${num(s.ci.lo)}, ${num(s.ci.hi)}]` : '—');
/** A p-value as read: 3 significant digits, "< 0.0001" below. */
export const pValue = (p: number) => (!Number.isFinite(p) ? '—' : p < 1e-4 ? '< 0.0001' : p.toPrecision(3));

const PAIRED_LABELS: Record<string, string> = {
  aopcComprehensiveness: 'AOPC comprehensiveness',
  aopcSufficiency: 'AOPC sufficiency',
  erasureArea: 'erasure area',
  kendallWithReference: 'Kendall τ with the reference',
};

/** The paired comparisons as table rows: metric, a, b, mean a − b [95 % CI], p (exact or sampled), n. */
function pairedRows(s: StudySummary): string[][] {
  return s.paired.map((x) => [
    x.metric === 'kendallWithReference' ? `τ with ${s.reference}` : PAIRED_LABELS[x.metric],
    x.a,
    x.b,
    `${num(x.test.meanDiff)} [${num(x.test.lo)}, ${num(x.test.hi)}]`,
    `${pValue(x.test.p)}${x.test.exact ? '' : ' (sampled)'}`,
    String(x.test.n),
  ]);
}

export function formatStudy(s: StudySummary, failed: number): string {
  const metricRow = (a: string, b: string) => {
    const get = (m: string) => s.agreement.find((x) => x.a === a && x.b === b && x.metric === m)!.spread;
    return [
      a,
      b,
      `${pm(get('kendall'))} ${ci(get('kendall'))}`,
      `${pm(get('spearman'))} ${ci(get('spearman'))}`,
      `${pm(get('topK'))} ${ci(get('topK'))}`,
      // Each metric counts the examples where it is defined (τ needs 2 candidates, top-k more than k).
      [...new Set(['kendall', 'spearman', 'topK'].map((m) => get(m).n))].join(' / '),
    ];
  };
  const pairs = s.agreement.filter((x) => x.metric === 'kendall');
  const faith = [...new Set(s.faithfulness.map((f) => f.method))].map((m) => {
    const get = (k: string) => s.faithfulness.find((f) => f.method === m && f.metric === k)!.spread;
    return [
      m,
      `${pm(get('aopcComprehensiveness'))} ${ci(get('aopcComprehensiveness'))}`,
      `${pm(get('aopcSufficiency'))} ${ci(get('aopcSufficiency'))}`,
      String(get('aopcComprehensiveness').n),
    ];
  });
  const parts = [
    `examples   ${s.examples} explained${failed ? `, ${failed} skipped` : ''}; target value ${pm(s.target)}; ${s.meanMs.toFixed(0)} ms each`,
    'agreement  mean ± standard deviation across examples [bootstrap 95 % CI of the mean]',
    textTable(
      ['method', 'vs', 'Kendall τ', 'Spearman ρ', 'top-k overlap', 'n'],
      pairs.map((p) => metricRow(p.a, p.b)),
      2,
    ),
  ];
  if (faith.length)
    parts.push(
      "faithfulness  AOPC (ERASER's: Σ over the bins requested ÷ (bins + 1)) mean ± standard deviation [bootstrap 95 % CI] (comprehensiveness: higher is better; sufficiency: lower)",
      textTable(['method', 'comprehensiveness', 'sufficiency', 'n'], faith),
    );
  if (s.erasure.length)
    parts.push(
      'erasure    area (mean drop along the most-important-first curve)',
      textTable(
        ['method', 'area', 'n'],
        s.erasure.map((e) => [e.method, `${pm(e.spread)} ${ci(e.spread)}`, String(e.spread.n)]),
      ),
    );
  if (s.paired.length)
    parts.push(
      'paired     a − b per example: mean [bootstrap 95 % CI], two-sided sign-flip permutation test (exact up to 16 examples)',
      textTable(['metric', 'a', 'b', 'mean a − b [95 % CI]', 'p', 'n'], pairedRows(s)),
    );
  return parts.join('\n\n');
}

/** summary.md: the same tables in Markdown, with medians and quartiles (and the sanity check's, when it ran). */
export function studyMarkdown(
  s: StudySummary,
  title: string,
  notes: readonly string[] = [],
  sanity?: SanityCheck,
): string {
  const q = (x: Spread) => (x.n ? `${num(x.median)} [${num(x.q1)}, ${num(x.q3)}]` : '—');
  const md = (header: string[], rows: string[][]) =>
    [
      `| ${header.join(' | ')} |`,
      `|${header.map(() => '---').join('|')}|`,
      ...rows.map((r) => `| ${r.join(' | ')} |`),
    ].join('\n');
  const lines = [
    `# ${title}`,
    '',
    `${s.examples} examples; target value mean ${num(s.target.mean)} ± ${num(s.target.std)}.`,
    '',
    '## Agreement (mean ± sd; median [q1, q3]; n; undefined values, e.g. τ against constant scores, left out)',
    '',
    md(
      ['method', 'vs', 'metric', 'mean ± sd', '95 % CI', 'median [q1, q3]', 'n', 'undefined'],
      s.agreement.map((a) => [
        a.a,
        a.b,
        a.metric,
        pm(a.spread),
        ci(a.spread),
        q(a.spread),
        String(a.spread.n),
        String(a.spread.missing),
      ]),
    ),
    '',
    '## Distance between score distributions',
    '',
    md(
      ['method', 'vs', 'metric', 'mean ± sd', 'median [q1, q3]', 'n'],
      s.distance.map((d) => [d.a, d.b, d.metric, pm(d.spread), q(d.spread), String(d.spread.n)]),
    ),
    '',
    "## Faithfulness (AOPC, ERASER's: the sum over the bins requested ÷ (bins + 1))",
    '',
    md(
      ['method', 'metric', 'mean ± sd', '95 % CI', 'median [q1, q3]', 'n'],
      s.faithfulness.map((f) => [f.method, f.metric, pm(f.spread), ci(f.spread), q(f.spread), String(f.spread.n)]),
    ),
    '',
    '## Erasure curve area',
    '',
    md(
      ['method', 'mean ± sd', '95 % CI', 'median [q1, q3]', 'n'],
      s.erasure.map((e) => [e.method, pm(e.spread), ci(e.spread), q(e.spread), String(e.spread.n)]),
    ),
    '',
    ...(s.paired.length
      ? [
          '## Paired differences (a − b per example: mean [bootstrap 95 % CI]; two-sided sign-flip permutation test, exact up to 16 examples)',
          '',
          md(['metric', 'a', 'b', 'mean a − b [95 % CI]', 'p', 'n'], pairedRows(s)),
          '',
        ]
      : []),
    ...(sanity
      ? [
          `## Sanity check: model randomisation (Adebayo et al. 2018; ${sanityLayers(sanity)} re-initialised, seed ${sanity.seed})`,
          '',
          "Spearman ρ of each method's ranking on the trained and on the randomised model, per example (near 1: the method ignores what those layers learned; undefined values, e.g. fewer than 2 candidate tokens, left out).",
          '',
          md(
            ['method', 'mean ± sd', '95 % CI', 'median [q1, q3]', 'n', 'undefined'],
            sanity.methods.map((m) => [
              m.id,
              pm(m.spearman),
              ci(m.spearman),
              q(m.spearman),
              String(m.spearman.n),
              String(m.spearman.missing),
            ]),
          ),
          '',
        ]
      : []),
    ...(notes.length ? ['## Notes', '', ...notes.map((n) => `- ${n}`), ''] : []),
  ];
  return lines.join('\n');
}

/** The heads whose mean τ with the reference is highest, as text lines (at most `k`). */
export function topSweepHeads(s: StudySummary, k = 5): string[] {
  const sw = s.headSweep;
  if (!sw) return [];
  return sw.values
    .map((v, i) => ({ v, i }))
    .filter((x) => Number.isFinite(x.v))
    .sort((a, b) => b.v - a.v)
    .slice(0, k)
    .map(
      ({ v, i }) =>
        `layer ${sw.layers[Math.floor(i / sw.heads)]} head ${i % sw.heads}: τ ${num(v)} [${num(sw.lo[i])}, ${num(sw.hi[i])}]`,
    );
}

/** Which layers the sanity check re-initialised, in words. */
const sanityLayers = (s: SanityCheck) =>
  `the top ${s.layers} layer${s.layers === 1 ? '' : 's'}${s.stacks === 'encoder+decoder' ? ' of the encoder and of the decoder' : ''}`;

/** The sanity check as printed: per method, Spearman ρ of its ranking on the trained and the randomised model. */
export function formatSanity(s: SanityCheck): string {
  const which = sanityLayers(s);
  return [
    `sanity     model randomisation (Adebayo et al. 2018): ${which} re-initialised (seed ${s.seed}); Spearman ρ of each method's ranking before and after, mean ± sd [95 % CI] (near 1: the method ignores what those layers learned)`,
    textTable(
      ['method', 'ρ trained vs randomised', 'n'],
      s.methods.map((m) => [m.id, `${pm(m.spearman)} ${ci(m.spearman)}`, String(m.spearman.n)]),
    ),
  ].join('\n');
}

/** Re-runs every explained example on the model with its top layers re-initialised, explaining the same token (a
 * next-token target becomes token:POS:ID of the token the trained model explained; an encoder–decoder scores the
 * trained model's target tokens with teacher forcing), without faithfulness. */
async function randomisationCheck(
  args: StudyArgs,
  results: readonly (ExplainResult & { text: string })[],
  threads: number | undefined,
  warn: (s: string) => void,
): Promise<SanityCheck> {
  const layers = args.randomizeTop!;
  const seed = 1;
  const inspector = await load(args.model, {
    backend: args.backend,
    threads,
    hub: { onWarning: warn },
    onDownload: downloadReporter(),
    randomizeTop: { layers, seed },
  });
  const randomized: ExplainResult[] = [];
  const seq2seq = inspector.facts.encoderDecoder !== undefined;
  try {
    const bar = new ProgressBar(results.length, 'randomised');
    bar.update(0);
    for (const [i, r] of results.entries()) {
      const fixed =
        r.target.token !== undefined &&
        r.target.readout !== null &&
        (r.target.kind === 'next' || r.target.kind === 'token')
          ? `${r.target.measure === 'prob' ? 'prob:' : ''}token:${r.target.readout + 1}:${r.target.token.id}`
          : r.target.spec;
      randomized.push(
        await explain(inspector, r.text, {
          ...args.analysis,
          target: fixed,
          ...(r.seq2seq ? { targetText: r.seq2seq.targetTokens.map((t) => t.id) } : {}),
          faithfulness: false,
          erasureSteps: 0,
          headStats: false,
          sweepReference: false,
        }),
      );
      bar.update(i + 1);
    }
    bar.finish();
  } finally {
    await inspector.dispose();
  }
  return {
    ...sanityCheck(results, randomized, layers, seed),
    ...(seq2seq ? { stacks: 'encoder+decoder' as const } : {}),
  };
}

/** The SVG files of a study: name → content. */
export function studyPlots(s: StudySummary): Record<string, string> {
  const plots: Record<string, string> = {};
  if (s.headSweep) plots['head-sweep.svg'] = sceneToSvg(headSweepFigure(headSweepGrid(s.headSweep), 'viridis', PAPER));
  const agreement = (metric: string, title: string, xLabel: string, min: number, max: number) => {
    const rows: PlotRow[] = s.agreement
      .filter((a) => a.metric === metric)
      .map((a) => ({ label: `${a.a} vs ${a.b}`, values: a.spread.values }));
    return boxPlotSvg(rows, { title, xLabel, min, max });
  };
  plots['agreement-kendall.svg'] = agreement('kendall', 'Kendall τ across examples', 'Kendall τ-b', -1, 1);
  plots['agreement-spearman.svg'] = agreement('spearman', 'Spearman ρ across examples', 'Spearman ρ', -1, 1);
  plots['agreement-topk.svg'] = agreement('topK', 'Top-k overlap across examples', 'top-k overlap', 0, 1);
  for (const [metric, name, label] of [
    ['aopcComprehensiveness', 'faithfulness-comprehensiveness.svg', 'AOPC comprehensiveness (higher = more faithful)'],
    ['aopcSufficiency', 'faithfulness-sufficiency.svg', 'AOPC sufficiency (lower = more faithful)'],
  ] as const) {
    const rows = s.faithfulness
      .filter((f) => f.metric === metric)
      .map((f) => ({ label: f.method, values: f.spread.values }));
    if (rows.length) plots[name] = boxPlotSvg(rows, { title: `${label} across examples`, xLabel: label });
  }
  if (s.erasure.length)
    plots['erasure-area.svg'] = boxPlotSvg(
      s.erasure.map((e) => ({ label: e.method, values: e.spread.values })),
      { title: 'Erasure curve area across examples', xLabel: 'mean drop of the target (most important first)' },
    );
  return plots;
}

/** The explanations' notes once each; the per-text "same k" notes summed up as one. */
export function studyNotes(results: readonly { notes: readonly string[]; line?: number }[]): string[] {
  const sameK = /bins (both|all) take k = /;
  // Notes that differ between explanations only in their numbers and quoted tokens (a source's length, the token a
  // row predicts, an Integrated Gradients completeness check) are printed once, the first, with their count.
  const shape = (n: string) => n.replace(/"[^"]*"/g, '"…"').replace(/-?\d+(?:\.\d+)?(?:e[-+]?\d+)?/g, '#');
  const groups = new Map<string, { first: string; texts: Set<string> }>();
  for (const n of results.flatMap((r) => r.notes.filter((x) => !sameK.test(x)))) {
    const g = groups.get(shape(n)) ?? { first: n, texts: new Set<string>() };
    g.texts.add(n);
    groups.set(shape(n), g);
  }
  const notes = [...groups.values()].map((g) =>
    g.texts.size === 1
      ? g.first
      : `${g.first} (one of ${g.texts.size} such notes with their own numbers or tokens; each explanation's are in examples.jsonl)`,
  );
  const lines = new Set(results.map((r) => r.line));
  if (!lines.has(undefined) && lines.size < results.length)
    notes.push(
      `The ${results.length} explanations come from ${lines.size} lines (target:each explains every target token of a line): the intervals and tests treat them as independent, which tokens of one source are not.`,
    );
  const short = results.filter((r) => r.notes.some((n) => sameK.test(n))).length;
  if (short)
    notes.push(
      `In ${short} of ${results.length} examples two or more bins took the same k (1 % and 5 % of ≤ 20 candidate tokens are both k = 1): one measurement kept in each bin, as ERASER does.`,
    );
  return notes;
}

/** The files study --out DIR may write (the plots only when there is something to plot). */
const STUDY_FILES = [
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
];

/**
 * Checks --out DIR before the model loads: an existing folder gets each of its files planned; a missing one must be
 * creatable inside its nearest existing folder (checked there), and is created only when the outputs are written,
 * so a study that fails leaves no empty folder behind. Returns the plans, made when they are needed.
 */
function planStudyOutputs(args: StudyArgs): () => Map<string, OutputPlan> {
  const dir = path.resolve(args.out!);
  const protect = protectedFiles(args.model, { '--data': args.data });
  const plan = () =>
    new Map(STUDY_FILES.map((name) => [name, planOutput(path.join(dir, name), protect, '--out')] as const));
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(dir);
  } catch {
    st = undefined;
  }
  if (st && !st.isDirectory())
    throw new LensError(
      'BAD_INPUT',
      `Cannot write --out ${args.out}: it is not a folder; study writes a folder of files.`,
    );
  if (st) {
    // The check run --out FOLDER/ makes: never a folder that holds the model's own files (nor the Hugging Face cache).
    planOutputFolder(args.out!, protectedFiles(args.model, {}), '--out');
    const plans = plan();
    return () => plans;
  }
  let above = path.dirname(dir);
  while (!fs.existsSync(above) && path.dirname(above) !== above) above = path.dirname(above);
  planOutput(path.join(above, `.attention-lens-${process.pid}-new-folder`), protect, '--out'); // checks only
  return () => {
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new LensError(
        'BAD_INPUT',
        `Cannot create --out ${args.out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; choose another folder.`,
      );
    }
    return plan();
  };
}

export async function studyCommand(
  args: StudyArgs,
  print: (s: string) => void,
  warn: (s: string) => void = warnOnStderr,
): Promise<void> {
  // Every check of the input and the outputs comes before the model loads.
  const { examples, skipped } = await readExamples(args, warn);
  const skippedLine = (s: SkippedLine) => `line ${s.line}: ${s.problem}`;
  if (examples.length === 0)
    throw new LensError(
      'BAD_INPUT',
      skipped.length
        ? `No example in ${args.data} could be read; the first problem: ${skippedLine(skipped[0])}.`
        : `${args.data} has no examples (one JSON text per line).`,
    );
  checkOneMeasure(examples.map((ex) => ({ line: ex.line, spec: ex.target ?? args.analysis.target })));
  const plans = args.out !== undefined ? planStudyOutputs(args) : undefined;
  const threads = effectiveThreads(args.threads, warn);
  const inspector = await load(args.model, {
    backend: args.backend,
    threads,
    hub: { onWarning: warn },
    onDownload: downloadReporter(),
  });
  const results: (ExplainResult & { line: number; text: string })[] = [];
  const failures: string[] = skipped.map(skippedLine);
  // The reference method as it runs on this model: on an encoder–decoder, --reference raw-attention / rollout name
  // its cross-attention / cross-rollout. It is also what the head sweep ranks every head against.
  let reference: string | undefined;
  try {
    for (const w of inspector.warnings ?? []) warn(w);
    print(formatFacts(inspector));
    const pairs = inspector.facts.encoderDecoder;
    // An encoder–decoder's top layers are randomised in both stacks: at most the shorter stack's layers.
    const randomisable = pairs ? Math.min(pairs.encoderLayers, pairs.decoderLayers) : inspector.facts.layers;
    if (args.randomizeTop !== undefined && args.randomizeTop > randomisable)
      throw new LensError(
        'BAD_INPUT',
        pairs
          ? `--randomize-top ${args.randomizeTop} is more than the model's ${pairs.encoderLayers} encoder and ${pairs.decoderLayers} decoder layers (the top N of each are randomised); give 1 to ${randomisable}.`
          : `--randomize-top ${args.randomizeTop} is more than the model's ${inspector.facts.layers} layers; give 1 to ${inspector.facts.layers}.`,
      );
    if (!pairs && args.analysis.target === EACH_TARGET_TOKEN)
      throw new LensError(
        'BAD_INPUT',
        `--target ${EACH_TARGET_TOKEN} explains every target token of an encoder–decoder's translation; ${inspector.facts.name} (${inspector.facts.modelType}) is not one: give a target such as next.`,
      );
    if (args.reference !== undefined) {
      // The methods that will run on this model (an encoder–decoder reads raw-attention as cross-attention...).
      const ids = pairs
        ? seq2seqMethods(
            args.analysis.methods ? resolveMethods(args.analysis.methods) : SEQ2SEQ_DEFAULT_METHODS,
            inspector.facts.modelType,
          )
        : resolveMethods(args.analysis.methods ?? DEFAULT_METHODS);
      const asked = pairs ? seq2seqMethodId(args.reference) : args.reference;
      if (!ids.includes(asked))
        throw new LensError(
          'BAD_INPUT',
          `--reference ${args.reference} does not run on ${inspector.facts.name} with these methods (${ids.join(', ')}); give one of them or add it to --methods.`,
        );
      reference = asked;
    }
    const bar = new ProgressBar(examples.length, 'study');
    bar.update(0);
    for (const [i, ex] of examples.entries()) {
      try {
        const spec = ex.target ?? args.analysis.target;
        const options = {
          ...args.analysis,
          headStats: false,
          ...(reference !== undefined ? { sweepReference: reference } : {}),
          ...(ex.targetText !== undefined ? { targetText: ex.targetText } : {}),
        };
        if (spec === EACH_TARGET_TOKEN) {
          if (!pairs)
            throw new LensError(
              'BAD_INPUT',
              `${EACH_TARGET_TOKEN} is for encoder–decoder models; give this line a target such as next`,
            );
          // The first token's explanation fixes the target tokens (translated or given); the others score them.
          const first = await explain(inspector, ex.text, { ...options, target: 'target:1' });
          const labels = first.seq2seq!.targetTokens.map((t) => t.id);
          const each = [first];
          for (let p = 2; p <= labels.length; p++)
            each.push(await explain(inspector, ex.text, { ...options, target: `target:${p}`, targetText: labels }));
          for (const r of each) results.push({ line: ex.line, text: ex.text, ...r });
        } else {
          const r = await explain(inspector, ex.text, { ...options, target: spec });
          results.push({ line: ex.line, text: ex.text, ...r });
        }
      } catch (e) {
        if (!isLensError(e) || !EXAMPLE_ERRORS.includes(e.code)) throw e;
        failures.push(`line ${ex.line}: ${e.message}`);
      }
      bar.update(i + 1);
    }
    bar.finish();
  } finally {
    await inspector.dispose();
  }
  const total = examples.length + skipped.length;
  if (results.length === 0)
    throw new LensError('BAD_INPUT', `No example could be explained; the first problem: ${failures[0]}`);
  const sanity = args.randomizeTop !== undefined ? await randomisationCheck(args, results, threads, warn) : undefined;
  const seq2seq = inspector.facts.encoderDecoder !== undefined;
  const summary = summarizeStudy(results, { reference });
  print('');
  print(formatStudy(summary, failures.length));
  if (sanity) print(`\n${formatSanity(sanity)}`);
  const top = topSweepHeads(summary);
  if (top.length)
    print(
      `\nheads      ${seq2seq ? 'cross-attention heads ' : ''}most in agreement with ${summary.headSweep!.reference} (mean Kendall τ [95 % CI]; recency: ${num(summary.headSweep!.recency)})\n${top.map((t) => `           ${t}`).join('\n')}`,
    );
  for (const n of studyNotes(results)) print(`note       ${n}`);
  for (const f of failures.slice(0, 10)) print(`skipped    ${f}`);
  if (failures.length > 10) print(`skipped    … and ${failures.length - 10} more`);
  if (plans) {
    const dir = args.out!;
    const title = `Attention Lens study: ${inspector.facts.name}, ${path.basename(args.data)}, target ${args.analysis.target}`;
    const files: Record<string, string> = {
      'summary.md': studyMarkdown(summary, title, studyNotes(results), sanity),
      'summary.json':
        resultToJson(
          {
            model: inspector.facts.name,
            data: args.data,
            failures,
            notes: studyNotes(results),
            summary,
            ...(sanity ? { sanity } : {}),
          },
          1,
        ) + '\n',
      'examples.jsonl': results.map((r) => resultToJson(r)).join('\n') + '\n',
      ...studyPlots(summary),
    };
    const planned = plans();
    for (const [name, text] of Object.entries(files)) await writeOutput(planned.get(name)!, text);
    print(
      `wrote      ${Object.keys(files)
        .map((f) => path.join(dir, f))
        .join(', ')}`,
    );
  }
  // The outputs hold every example that could be explained; a skipped line still makes the exit code say so.
  if (failures.length)
    throw new LensError(
      'BAD_INPUT',
      `${failures.length} of ${total} examples were skipped (the first: ${failures[0]})${plans ? `; the outputs hold the other ${results.length}` : ''}.`,
    );
}
