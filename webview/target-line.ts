// What the panel's target line says about an encoder–decoder run's target (DOM-free, so a unit test reads it): how
// it was made (given and teacher-forced; translated greedily — still streaming or finished — or by beam search with
// its beam size), the text, why a translation stopped, and each target token with its log-probability.
import type { TargetInfo } from './store';

export interface TargetTokenCell {
  label: string;
  /** log p, two decimals ('' while unknown). */
  value: string;
  /** The tooltip: the raw token, log p and p. */
  title: string;
}

export function targetHeading(t: TargetInfo): string {
  const how =
    t.mode === 'teacher-forced'
      ? 'Target (given, teacher-forced)'
      : t.beams
        ? `Translation (beam search, ${t.beams} beams)`
        : t.streaming
          ? 'Translation (greedy, translating…)'
          : 'Translation (greedy)';
  const cut = t.end === 'length' ? ' (cut at the length limit)' : '';
  return `${how}: ${t.text}${cut}`;
}

export function targetCells(t: TargetInfo): TargetTokenCell[] {
  return t.tokens.map((tok, i) => {
    const lp = t.logprobs[i];
    const known = typeof lp === 'number' && Number.isFinite(lp);
    return {
      label: tok.label,
      value: known ? lp.toFixed(2) : '',
      title: known ? `${JSON.stringify(tok.text)}: log p = ${lp.toFixed(4)}, p = ${Math.exp(lp).toFixed(4)}` : tok.text,
    };
  });
}

/** The sum of the target's log-probabilities (log p of the whole target), or undefined while any is unknown. */
export function targetTotal(t: TargetInfo): number | undefined {
  if (t.logprobs.length !== t.tokens.length || !t.logprobs.every(Number.isFinite)) return undefined;
  return t.logprobs.reduce((s, x) => s + x, 0);
}
