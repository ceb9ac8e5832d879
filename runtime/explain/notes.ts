// What a reader of an explanation must know to read its numbers right, as short sentences that the CLI, the JSON
// result and the Explain view all show: which AOPC this is, when two faithfulness bins are one measurement, that a
// log-probability target makes the faithfulness numbers unbounded, that attention flow is renormalised, and when
// --perturb hide is the same as remove, and which numbers are not shown or are random-order means because the text
// leaves them nothing to measure (one candidate, k ≥ the candidates, a method that scores every candidate alike).
// Derived from the result, so every consumer says the same.
import type { ExplainResult } from './result';
import { constantOverCandidates } from './baseline';
import { DISTRIBUTION_KINDS } from './compare';

/** A score as a note quotes it: 3 significant digits. */
const formatScore = (x: number) => (Number.isFinite(x) ? String(Number(x.toPrecision(3))) : String(x));

/** The facts of the model that change what a perturbation means. */
export interface NoteFacts {
  causal: boolean;
  modelType: string;
}

export function explanationNotes(r: Omit<ExplainResult, 'notes'>, facts: NoteFacts): string[] {
  const notes: string[] = [];
  const candidates = r.candidates.filter(Boolean).length;
  const f = r.faithfulness[0];
  if (f) {
    const B = f.bins.length;
    notes.push(
      `AOPC is ERASER's (DeYoung et al. 2020): the sum over the ${B} bins requested ÷ (${B} + 1); the plain mean over the bins is AOPC × ${B + 1}/${B}.`,
    );
    const byK = new Map<number, number[]>();
    for (const b of f.bins) byK.set(b.k, [...(byK.get(b.k) ?? []), b.percent]);
    for (const [k, percents] of byK)
      if (percents.length > 1)
        notes.push(
          `With ${candidates} candidate tokens the ${percents.map((p) => `${p} %`).join(' and ')} bins ${percents.length === 2 ? 'both' : 'all'} take k = ${k}: one measurement, kept in each bin as ERASER does (not ${percents.length} independent points).`,
        );
  }
  if (r.target.measure === 'log-odds' && f)
    notes.push(
      'The target is a difference of log-probabilities (nats, unbounded either way): comprehensiveness and sufficiency are unbounded too, and a removal may raise it.',
    );
  if (r.target.measure === 'log-prob' && f)
    notes.push(
      `The target is a log-probability (nats, unbounded below), so comprehensiveness and sufficiency are unbounded: a removal can lower it by any amount.${r.target.kind === 'target' ? '' : ` prob:${r.target.spec} explains the probability (0–1) instead.`}`,
    );
  const k = r.agreement[0]?.k;
  if (k !== undefined && candidates > 0 && k >= candidates)
    notes.push(
      `Top-k overlap is not shown: with ${candidates} candidate token${candidates === 1 ? '' : 's'}, the top ${k} ${candidates === 1 ? 'is' : 'are'} all of them (an overlap of 1 by construction); ask for a smaller --topk.`,
    );
  if (candidates === 1 && r.methods.some((m) => m.scores.length > 0 && DISTRIBUTION_KINDS.includes(m.kind)))
    notes.push('JSD and TVD are not shown: over one candidate token every distribution is the same, [1].');
  for (const m of r.methods)
    if (m.kind !== 'baseline' && m.scores.length > 0 && constantOverCandidates(m.scores, r.candidates))
      notes.push(
        `${m.label} gives every candidate token the same score (${formatScore(m.scores[r.candidates.indexOf(true)])}): it ranks nothing: its rank agreement is not defined, and, as for the uniform baseline, its faithfulness and erasure rows are means over random orders.`,
      );
  if (r.methods.some((m) => m.id === 'flow' && m.scores.length > 0))
    notes.push(
      "Attention flow is renormalised per output node (each target's scores sum to 1), as in Abnar & Zuidema's code.",
    );
  if (r.perturbation === 'hide' && (facts.causal || facts.modelType === 'roberta'))
    notes.push(
      `--perturb hide equals remove for this model: its position ids count the unmasked tokens (${facts.causal ? 'a causal LM' : 'RoBERTa'}), so hidden tokens shift the later positions as removed ones do.`,
    );
  return notes;
}
