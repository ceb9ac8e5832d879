// How the CLI shows an encoder–decoder run's target: the options it hands the run (--target-text, --translate,
// --beams, --source-lang, --target-lang), the translation as text, and the target's tokens with their
// log-probabilities.
import type { RunOptions, RunTargetResult } from '../runtime/inspector/api';
import type { Tokenizer } from '../runtime/tokenizers/tokenizer';
import { tokenLabel } from './format';
import type { TargetArgs } from './input-options';

/** The run options of --target-text / --translate (neither: the run's default, a translation for encoder–decoders). */
export function targetRunOptions(
  args: TargetArgs,
): Pick<RunOptions, 'target' | 'translate' | 'beams' | 'sourceLanguage' | 'targetLanguage'> {
  const languages = {
    ...(args.sourceLanguage !== undefined ? { sourceLanguage: args.sourceLanguage } : {}),
    ...(args.targetLanguage !== undefined ? { targetLanguage: args.targetLanguage } : {}),
  };
  if (args.targetText !== undefined) return { target: args.targetText, ...languages };
  return {
    ...(args.translate ? { translate: true } : {}),
    ...(args.beams !== undefined ? { beams: args.beams } : {}),
    ...languages,
  };
}

/** A translated target as text (its special tokens, eos, left out); undefined for a given target. */
export function targetText(target: RunTargetResult, tokenizer: Tokenizer | undefined): string | undefined {
  if (target.mode !== 'translated') return undefined;
  const side = tokenizer?.target ?? tokenizer;
  const ids = target.tokens.filter((t) => !t.special).map((t) => t.id);
  return side ? side.decode(ids) : ids.join(' ');
}

/** The target lines: the translation (when translated), then each token with log p. */
export function formatTarget(
  target: RunTargetResult,
  tokenizer: Tokenizer | undefined,
  givenText: string | undefined,
): string {
  const lines: string[] = [];
  const text = targetText(target, tokenizer);
  if (text !== undefined)
    lines.push(
      `translation ${text}${target.end === 'length' ? '  (stopped at the length limit)' : ''}${target.beams ? `  (beam search, ${target.beams} beams)` : ''}`,
    );
  const tokens = target.tokens
    .map((t, i) => `${tokenLabel(t, givenText)} (${target.logprobs[i]?.toFixed(3) ?? '?'})`)
    .join(' ');
  const total = target.logprobs.reduce((s, x) => s + x, 0);
  lines.push(`target     ${target.tokens.length} tokens, log p ${total.toFixed(3)}: ${tokens}`);
  return lines.join('\n');
}
