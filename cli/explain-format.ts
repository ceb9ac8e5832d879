// Plain-text rendering of an explanation for the terminal: the target, every method's score per token, then the
// agreement, distance, faithfulness and erasure tables (each with the uniform baseline row), the per-head table on
// request, and the timings.
import type { ExplainResult } from '../runtime/explain/result';
import { tokenLabel } from './format';

/** A number in about 3 significant digits; '—' for NaN / missing. */
export function num(x: number | undefined, digits = 3): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1000) return x.toFixed(0);
  if (a < 1e-3) return x.toExponential(1);
  return x.toFixed(Math.max(0, digits - 1 - Math.floor(Math.log10(a))));
}

/** Fixed-width table: the first `left` columns left-aligned, the rest right-aligned. */
export function textTable(header: string[], rows: string[][], left = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const SPARK = '▁▂▃▄▅▆▇█';

/** A one-line sparkline of values (min → ▁, max → █). */
export function sparkline(values: readonly number[]): string {
  const finite = values.filter(Number.isFinite);
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  return values
    .map((v) => (Number.isFinite(v) ? SPARK[hi > lo ? Math.round(((v - lo) / (hi - lo)) * 7) : 3] : ' '))
    .join('');
}

export function formatTarget(r: ExplainResult): string {
  const lines = [
    `target     ${r.target.spec}: ${r.target.label}`,
    `value      ${num(r.target.value, 4)} (${r.target.measure})`,
    `perturb    ${r.perturbation}; ${r.candidates.filter(Boolean).length} of ${r.tokens.length} tokens are candidates (· marks the others: special tokens${r.target.kind === 'mask' ? ', the [MASK]' : ''}${r.target.readout !== null && r.target.kind !== 'mask' ? ', tokens after the target' : ''})`,
  ];
  if (r.truncatedFrom !== undefined) lines.push(`tokens     ${r.tokens.length} (truncated from ${r.truncatedFrom})`);
  if (r.seq2seq)
    lines.push(
      `${r.seq2seq.mode === 'translated' ? 'translated' : 'target    '} ${r.seq2seq.targetTokens.map((t, i) => `${i + 1}:${JSON.stringify(t.text)}`).join(' ')} (scores below are over the source tokens)`,
    );
  return lines.join('\n');
}

export function formatScores(r: ExplainResult, text: string | undefined): string {
  const methods = r.methods.filter((m) => m.scores.length > 0);
  const header = ['#', 'token', ...methods.map((m) => m.id)];
  const rows = r.tokens.map((t, i) => [
    String(i),
    `${tokenLabel(t, text)}${r.candidates[i] ? '' : ' ·'}`,
    ...methods.map((m) => num(m.scores[i])),
  ]);
  const out = [`scores     per token (higher = more important)`, textTable(header, rows, 2)];
  for (const m of r.methods.filter((x) => x.error)) out.push(`note: ${m.id} gave no scores: ${m.error}`);
  return out.join('\n');
}

/** The scores per word (--words): the sum or the max of each word's tokens. */
export function formatWords(r: ExplainResult): string {
  const w = r.words!;
  const header = ['#', 'word', 'tokens', ...w.methods.map((m) => m.id)];
  const rows = w.words.map((word, i) => [
    String(i),
    `${JSON.stringify(word.text)}${w.candidates[i] ? '' : ' ·'}`,
    word.tokens.length === 1 ? String(word.tokens[0]) : `${word.tokens[0]}–${word.tokens[word.tokens.length - 1]}`,
    ...w.methods.map((m) => num(m.scores[i])),
  ]);
  return [
    `words      ${w.words.length} words; each score is the ${w.aggregation} of its tokens' scores`,
    textTable(header, rows, 3),
  ].join('\n');
}

export function formatAgreement(r: ExplainResult): string {
  const k = r.agreement[0]?.k ?? 0;
  const cell = (a: ExplainResult['agreement'][number], m: 'kendall' | 'spearman' | 'topK') =>
    a.spread ? `${num(a[m])} ± ${num(a.spread[m].sd)}` : num(a[m]);
  const rows = r.agreement.map((a) => [a.a, a.b, cell(a, 'kendall'), cell(a, 'spearman'), cell(a, 'topK')]);
  return [
    `agreement  over the ${r.candidates.filter(Boolean).length} candidate tokens; uniform = mean over random orders (chance level); recency = score by position; random = mean ± standard deviation over seeded random orders; — : undefined (constant scores)`,
    textTable(['method', 'vs', 'Kendall τ', 'Spearman ρ', `top-${k} overlap`], rows, 2),
  ].join('\n');
}

export function formatDistance(r: ExplainResult): string {
  if (r.distance.length === 0) return 'distance   (fewer than two methods give distributions)';
  const rows = r.distance.map((d) => [d.a, d.b, num(d.jsd), num(d.tvd)]);
  return [
    'distance   between score distributions normalised over the candidates (attention, norm and baseline methods)',
    textTable(['method', 'vs', 'JSD (bits)', 'TVD'], rows, 2),
  ].join('\n');
}

export function formatFaithfulness(r: ExplainResult): string {
  if (r.faithfulness.length === 0) return 'faithfulness  (skipped)';
  const percents = r.faithfulness[0].bins.map((b) => `${b.percent}%`);
  const table = (which: 'comprehensiveness' | 'sufficiency', aopc: 'aopcComprehensiveness' | 'aopcSufficiency') =>
    textTable(
      ['method', ...percents, 'AOPC'],
      r.faithfulness.map((f) => [f.method, ...f.bins.map((b) => num(b[which])), num(f[aopc])]),
    );
  return [
    `faithfulness  f(x) = ${num(r.faithfulness[0].full, 4)}; bins are % of the candidates; AOPC is ERASER's (see the notes); uniform = mean over random orders`,
    'comprehensiveness  f(x) − f(x without the top k)   (higher = more faithful)',
    table('comprehensiveness', 'aopcComprehensiveness'),
    'sufficiency        f(x) − f(only the top k)        (lower = more faithful)',
    table('sufficiency', 'aopcSufficiency'),
  ].join('\n');
}

export function formatErasure(r: ExplainResult): string {
  if (r.erasure.length === 0) return 'erasure    (skipped)';
  const rows = r.erasure.map((e) => [
    e.method,
    num(e.area),
    num(e.value[0]),
    num(e.value[e.value.length - 1]),
    sparkline(e.value),
  ]);
  return [
    'erasure    most important first; area = mean drop f(x) − f along the curve (higher = falls earlier)',
    textTable(['method', 'area', 'start', 'end', 'curve'], rows),
  ].join('\n');
}

export function formatHeads(r: ExplainResult): string {
  const rows = r.heads.map((h) => [
    String(h.layer),
    h.head < 0 ? 'uniform' : String(h.head),
    num(h.entropy),
    num(h.specialShare),
    num(h.punctuationShare),
    num(h.previousToken),
    num(h.meanDistance),
    num(h.jsdUniform),
  ]);
  return [
    'heads      per head; "uniform" = uniform attention over what each query may see; entropy in nats, distance in tokens, JSD from uniform in bits',
    textTable(['layer', 'head', 'entropy', 'special', 'punct', 'prev', 'distance', 'JSD-unif'], rows, 2),
  ].join('\n');
}

export function formatExplainTimings(r: ExplainResult, loadMs: number): string {
  const t = r.timings;
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  const methods = r.methods.map((m) => `${m.id} ${ms(m.ms)}`).join(', ');
  return [
    `timings    load ${ms(loadMs)}, explain ${ms(t.totalMs)} (main pass ${ms(t.mainPassMs)}${t.gradientMs !== undefined ? `, gradient pass ${ms(t.gradientMs)}` : ''}; ${methods}; faithfulness ${ms(t.faithfulnessMs)}; erasure ${ms(t.erasureMs)})`,
    `passes     ${t.rows} perturbed rows in ${t.batches} batched calls, ${ms(t.forwardMs)} in the model`,
  ].join('\n');
}

/** The heads whose attention agrees most with the sweep's reference (Kendall τ), with the recency baseline's τ. */
export function formatSweep(r: ExplainResult, k = 5): string {
  const sw = r.headSweep!;
  const best = sw.values
    .map((v, i) => ({ v, i }))
    .filter((x) => Number.isFinite(x.v))
    .sort((a, b) => b.v - a.v)
    .slice(0, k)
    .map(({ v, i }) => `layer ${sw.layers[Math.floor(i / sw.heads)]} head ${i % sw.heads} ${num(v)}`);
  return `heads      most in agreement with ${sw.reference} (Kendall τ): ${best.join(', ') || '—'}; recency ${num(sw.recency)}`;
}

/** The whole report. */
export function formatExplain(r: ExplainResult, text: string | undefined, headStats: boolean): string {
  const parts = [
    formatTarget(r),
    formatScores(r, text),
    ...(r.words ? [formatWords(r)] : []),
    formatAgreement(r),
    ...(r.headSweep ? [formatSweep(r)] : []),
    formatDistance(r),
    formatFaithfulness(r),
    formatErasure(r),
  ];
  if (headStats) parts.push(formatHeads(r));
  if (r.notes.length) parts.push(r.notes.map((n) => `note       ${n}`).join('\n'));
  return parts.join('\n\n');
}
