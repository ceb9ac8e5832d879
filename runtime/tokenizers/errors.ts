// Helpers that turn a malformed tokenizer description into the one-line BAD_TOKENIZER error users see.
import { LensError } from '../errors';

export function badTokenizer(source: string, problem: string): LensError {
  return new LensError('BAD_TOKENIZER', `${source}: ${problem}. Re-export the tokenizer or pick another model folder.`);
}

export function unsupported(source: string, what: string, type: unknown): LensError {
  return new LensError(
    'BAD_TOKENIZER',
    `${source}: unsupported ${what} type "${String(type)}". Use a model whose tokenizer uses WordPiece, BPE or Unigram.`,
  );
}

/** A JSON object (record) or undefined. */
export function asObject(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
