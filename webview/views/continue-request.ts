// The Continue bar's fields as a generate request (or the one line that says what to fix), and generated pieces as
// readable text until the host's decoded text arrives: DOM-free, so that unit tests check them.
import { MAX_CONTINUE_TOKENS, type GenerateRequest } from '../../protocol/messages';

/** The request of the bar's fields, or what the user must fix first (DOM-free). */
export function continueRequest(
  runId: number,
  f: { count: string; decoding: string; temperature: string; topP: string; seed: string },
): GenerateRequest | { error: string } {
  const maxNew = Number(f.count);
  if (!(Number.isInteger(maxNew) && maxNew >= 1 && maxNew <= MAX_CONTINUE_TOKENS))
    return { error: `Tokens: a whole number from 1 to ${MAX_CONTINUE_TOKENS}.` };
  if (f.decoding !== 'sample') return { runId, maxNew };
  const temperature = Number(f.temperature);
  if (f.temperature.trim() === '' || !(Number.isFinite(temperature) && temperature > 0))
    return { error: 'Temperature: a number above 0 (or choose greedy).' };
  const topP = Number(f.topP);
  if (f.topP.trim() === '' || !(topP > 0 && topP <= 1)) return { error: 'Top-p: a number above 0 and at most 1.' };
  if (f.seed.trim() === '') return { runId, maxNew, temperature, topP };
  const seed = Number(f.seed);
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff))
    return { error: 'Seed: a whole number from 0 to 4294967295, or blank for a new one.' };
  return { runId, maxNew, temperature, topP, seed };
}

/** Pieces as readable text while the host's decoded text is not there yet: ▁ and Ġ as spaces, Ċ as a new line. */
export function pieceText(pieces: readonly string[]): string {
  return pieces.join('').replace(/[▁Ġ]/g, ' ').replace(/Ċ/g, '\n');
}
