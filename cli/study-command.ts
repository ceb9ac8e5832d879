// `attention-lens study`: the explain analysis over a dataset (JSONL, one text per line), with a progress bar, then
// the spread of every agreement and faithfulness metric across examples: printed, and with --out DIR written as
// summary.md, summary.json, examples.jsonl (every explanation) and SVG box plots of the distributions.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { load } from '../runtime/inspector/load-model';
import { isLensError, LensError, type LensErrorCode } from '../runtime/errors';
import { explain } from '../runtime/explain/explain';
import { resultToJson, type ExplainResult } from '../runtime/explain/result';
import { summarizeStudy, type Spread, type StudySummary } from '../runtime/explain/summary';
import type { StudyArgs } from './explain-args';
import { num, textTable } from './explain-format';
import { formatFacts } from './format';
import { ProgressBar } from './progress';
import { boxPlotSvg, type PlotRow } from './svg-plot';

export interface Example {
  /** 1-based line number in the file. */
  line: number;
  text: string;
  /** A per-example target spec (the "target" field, or "reference" → similarity:REFERENCE). */
  target?: string;
}

/** Reads a JSONL dataset: each non-blank line a JSON string or an object with "text" (and optional "target" or
 * "reference"). */
export function parseExamples(content: string, file: string, limit?: number): Example[] {
  const out: Example[] = [];
  const lines = content.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    if (limit !== undefined && out.length >= limit) break;
    const line = raw.trim();
    if (line === '') continue;
    const where = `${file}:${i + 1}`;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new LensError('BAD_INPUT', `${where} is not JSON; write one JSON string or {"text": …} per line.`);
    }
    if (typeof v === 'string') {
      out.push({ line: i + 1, text: v });
      continue;
    }
    const o = v as { text?: unknown; target?: unknown; reference?: unknown };
    if (typeof o !== 'object' || o === null || typeof o.text !== 'string')
      throw new LensError('BAD_INPUT', `${where} has no "text" string; write a JSON string or {"text": …}.`);
    const ex: Example = { line: i + 1, text: o.text };
    if (typeof o.target === 'string') ex.target = o.target;
    else if (typeof o.reference === 'string') ex.target = `similarity:${o.reference}`;
    out.push(ex);
  }
  if (out.length === 0) throw new LensError('BAD_INPUT', `${file} has no examples (one JSON text per line).`);
  return out;
}

/** Errors that belong to one example (it is skipped and reported); every other error ends the study. */
const EXAMPLE_ERRORS: readonly LensErrorCode[] = ['BAD_INPUT', 'EMPTY_TEXT', 'TOO_LONG', 'NO_TOKENIZER'];

const pm = (s: Spread) => (s.n ? `${num(s.mean)} ± ${num(s.std)}` : '—');

export function formatStudy(s: StudySummary, failed: number): string {
  const metricRow = (a: string, b: string) => {
    const get = (m: string) => s.agreement.find((x) => x.a === a && x.b === b && x.metric === m)!.spread;
    return [a, b, pm(get('kendall')), pm(get('spearman')), pm(get('topK')), String(get('kendall').n)];
  };
  const pairs = s.agreement.filter((x) => x.metric === 'kendall');
  const faith = [...new Set(s.faithfulness.map((f) => f.method))].map((m) => {
    const get = (k: string) => s.faithfulness.find((f) => f.method === m && f.metric === k)!.spread;
    return [m, pm(get('aopcComprehensiveness')), pm(get('aopcSufficiency')), String(get('aopcComprehensiveness').n)];
  });
  const parts = [
    `examples   ${s.examples} explained${failed ? `, ${failed} skipped` : ''}; target value ${pm(s.target)}; ${s.meanMs.toFixed(0)} ms each`,
    'agreement  mean ± standard deviation across examples',
    textTable(
      ['method', 'vs', 'Kendall τ', 'Spearman ρ', 'top-k overlap', 'n'],
      pairs.map((p) => metricRow(p.a, p.b)),
      2,
    ),
  ];
  if (faith.length)
    parts.push(
      'faithfulness  AOPC mean ± standard deviation (comprehensiveness: higher is better; sufficiency: lower)',
      textTable(['method', 'comprehensiveness', 'sufficiency', 'n'], faith),
    );
  if (s.erasure.length)
    parts.push(
      'erasure    area (mean drop along the most-important-first curve)',
      textTable(
        ['method', 'area', 'n'],
        s.erasure.map((e) => [e.method, pm(e.spread), String(e.spread.n)]),
      ),
    );
  return parts.join('\n\n');
}

/** summary.md: the same tables in Markdown, with medians and quartiles. */
export function studyMarkdown(s: StudySummary, title: string): string {
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
      ['method', 'vs', 'metric', 'mean ± sd', 'median [q1, q3]', 'n', 'undefined'],
      s.agreement.map((a) => [
        a.a,
        a.b,
        a.metric,
        pm(a.spread),
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
    '## Faithfulness (AOPC)',
    '',
    md(
      ['method', 'metric', 'mean ± sd', 'median [q1, q3]', 'n'],
      s.faithfulness.map((f) => [f.method, f.metric, pm(f.spread), q(f.spread), String(f.spread.n)]),
    ),
    '',
    '## Erasure curve area',
    '',
    md(
      ['method', 'mean ± sd', 'median [q1, q3]', 'n'],
      s.erasure.map((e) => [e.method, pm(e.spread), q(e.spread), String(e.spread.n)]),
    ),
    '',
  ];
  return lines.join('\n');
}

/** The SVG files of a study: name → content. */
export function studyPlots(s: StudySummary): Record<string, string> {
  const plots: Record<string, string> = {};
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

export async function studyCommand(args: StudyArgs, print: (s: string) => void): Promise<void> {
  let content: string;
  try {
    content = readFileSync(args.data, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new LensError('BAD_INPUT', `Cannot read --data ${args.data} (${why}); give a JSONL file.`);
  }
  const examples = parseExamples(content, args.data, args.limit);
  if (args.out !== undefined) {
    try {
      mkdirSync(args.out, { recursive: true });
    } catch (e) {
      throw new LensError('BAD_INPUT', `Cannot create --out ${args.out}: ${(e as Error).message}`);
    }
  }
  const inspector = await load(args.model, { backend: args.backend, threads: args.threads });
  const results: (ExplainResult & { line: number; text: string })[] = [];
  const failures: string[] = [];
  try {
    print(formatFacts(inspector));
    const bar = new ProgressBar(examples.length, 'study');
    bar.update(0);
    for (const [i, ex] of examples.entries()) {
      try {
        const r = await explain(inspector, ex.text, {
          ...args.analysis,
          target: ex.target ?? args.analysis.target,
          headStats: false,
        });
        results.push({ line: ex.line, text: ex.text, ...r });
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
  if (results.length === 0)
    throw new LensError('BAD_INPUT', `No example could be explained; the first problem: ${failures[0]}`);
  const summary = summarizeStudy(results);
  print('');
  print(formatStudy(summary, failures.length));
  for (const f of failures.slice(0, 10)) print(`skipped    ${f}`);
  if (failures.length > 10) print(`skipped    … and ${failures.length - 10} more`);
  if (args.out !== undefined) {
    const dir = args.out;
    const title = `Attention Lens study: ${inspector.facts.name}, ${path.basename(args.data)}, target ${args.analysis.target}`;
    const files: Record<string, string> = {
      'summary.md': studyMarkdown(summary, title),
      'summary.json': resultToJson({ model: inspector.facts.name, data: args.data, failures, summary }, 1) + '\n',
      'examples.jsonl': results.map((r) => resultToJson(r)).join('\n') + '\n',
      ...studyPlots(summary),
    };
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
    print(
      `wrote      ${Object.keys(files)
        .map((f) => path.join(dir, f))
        .join(', ')}`,
    );
  }
}
