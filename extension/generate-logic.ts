// The panel's Continue, the parts that need no VS Code: how a request's sampling settings become the decoding the
// run uses (greedy, or sampled with a seed — the host draws one when the user gave none, and reports it so that the
// run can be repeated), the TokenInfo of a generated token, and the generated text. (The run grows by each token in
// place: runtime/generate/grow-maps.ts, GrowingMaps.)
import type { GenerateReply, GenerateRequest, TokenInfo } from '../protocol/messages';
import type { Token } from '../runtime/types';

export type Decoding = GenerateReply['decoding'];

/** Greedy when the temperature is absent or 0; otherwise sampling with top-p (default 1) and the given seed or
 * `drawSeed()`. */
export function decodingOf(
  m: Pick<GenerateRequest, 'temperature' | 'topP' | 'seed'>,
  drawSeed: () => number,
): Decoding {
  if (m.temperature === undefined || m.temperature === 0) return { kind: 'greedy' };
  return { kind: 'sample', temperature: m.temperature, topP: m.topP ?? 1, seed: m.seed ?? drawSeed() };
}

/** A generated token as the panel's run holds it: its vocabulary piece, no span, marked generated (and special when
 * it is a stop token). */
export function generatedToken(piece: string, stop: boolean): TokenInfo {
  return { text: piece, start: null, end: null, special: stop, generated: true };
}

/** The generated ids of a run whose first `promptLength` ids are its input, without stop tokens. */
export function generatedIds(ids: readonly number[], promptLength: number, stops: ReadonlySet<number>): number[] {
  return ids.slice(promptLength).filter((id) => !stops.has(id));
}

/** A run restored with its output (RunSource.generated): the prompt's tokens as the text gives them, then the output's
 * ids marked generated (a stop token special), run as one pass — the full pass's rows on each prefix equal the step
 * rows Continue showed (test/unit/runtime/inspector/generate.test.ts: ≤ 1e-5). */
export function restoredInput(
  prompt: readonly Token[],
  generated: readonly number[],
  piece: (id: number) => string | undefined,
  stops: ReadonlySet<number>,
): { ids: number[]; tokens: TokenInfo[]; promptLength: number } {
  const tokens: TokenInfo[] = prompt.map((t) => ({
    text: t.text,
    start: t.start,
    end: t.end,
    special: t.special,
    ...(t.template ? { template: true } : {}),
  }));
  for (const id of generated) tokens.push(generatedToken(piece(id) ?? `#${id}`, stops.has(id)));
  return { ids: [...prompt.map((t) => t.id), ...generated], tokens, promptLength: prompt.length };
}

/** Why a run's output (RunSource.generated) cannot be run again after its prompt of `promptLength` tokens: past the
 * token limit or the model's positions, or ids outside its vocabulary (another model now); undefined when it can. */
export function restoreProblem(
  promptLength: number,
  output: readonly number[],
  maxTokens: number,
  facts: { maxPositions: number; vocabSize: number; name: string },
): string | undefined {
  const n = promptLength + output.length;
  if (n > maxTokens) return `prompt + output are ${n} tokens, over the limit of ${maxTokens}`;
  if (n > facts.maxPositions)
    return `prompt + output are ${n} tokens, over the ${facts.maxPositions} ${facts.name} takes`;
  const bad = output.find((id) => id >= facts.vocabSize);
  return bad === undefined ? undefined : `token id ${bad} is outside ${facts.name}'s vocabulary`;
}
