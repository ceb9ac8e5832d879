// One error type for everything a user can get wrong (bad folder, bad text, corrupt weights...): a stable code
// for programs and a one-line message that says what was wrong and what to do. Never a stack trace to users.

export type LensErrorCode =
  | 'MODEL_NOT_FOUND'
  | 'NO_CONFIG'
  | 'BAD_CONFIG'
  | 'UNSUPPORTED_MODEL'
  | 'NO_WEIGHTS'
  | 'CORRUPT_WEIGHTS'
  | 'SHAPE_MISMATCH'
  | 'NO_TOKENIZER'
  | 'BAD_TOKENIZER'
  | 'EMPTY_TEXT'
  /** A chat prompt asked of a model without a chat template, or a template that cannot render a user message. */
  | 'NO_CHAT_TEMPLATE'
  | 'BAD_CHAT_TEMPLATE'
  | 'TOO_LONG'
  | 'BAD_INPUT'
  | 'BACKEND_UNAVAILABLE'
  | 'INFERENCE_FAILED'
  | 'MODEL_TOO_LARGE'
  /** NaN or ±Infinity in weights, attention or outputs (runtime/finite.ts). */
  | 'NON_FINITE'
  | 'CANCELLED'
  | 'DISPOSED'
  /** A stream output (--out /dev/stdout into `head`) closed by its reader: the CLI ends quietly, as on stdout. */
  | 'OUTPUT_CLOSED'
  // ONNX import and the Hugging Face Hub
  | 'BAD_ONNX'
  | 'FUSED_ATTENTION'
  | 'HUB_AUTH'
  | 'HUB_OFFLINE'
  | 'DOWNLOAD_FAILED';

// Control characters (C0, DEL, C1) and the Unicode line separators; a tab is left as it is (it does not break the
// line).
const BREAKS = /[\p{Cc}\u2028\u2029]/gu;

/**
 * The message as one line whatever it quotes: a value from a file interpolated as it is (a model_type, a GGUF
 * architecture holding a line break) shows its control characters escaped (\n, \u0000), never a second line.
 */
function oneLine(message: string): string {
  return message.replace(BREAKS, (c) =>
    c === '\t' ? c : c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export class LensError extends Error {
  constructor(
    readonly code: LensErrorCode,
    message: string,
  ) {
    super(oneLine(message));
    this.name = 'LensError';
  }
}

export function isLensError(e: unknown): e is LensError {
  return (
    e instanceof Error && (e as { name?: string }).name === 'LensError' && typeof (e as LensError).code === 'string'
  );
}

/**
 * A value read from a user's file, for a message: as JSON (a line break shows as \n, quotes escaped), cut to `max`
 * characters with its length said — a corrupt or hostile file can hold a value of any size and any characters.
 */
export function quoted(value: unknown, max = 80): string {
  const json =
    typeof value === 'number' && !Number.isFinite(value)
      ? String(value)
      : typeof value === 'bigint'
        ? String(value)
        : (JSON.stringify(value) ?? String(value));
  const chars = [...json];
  return chars.length <= max ? json : `${chars.slice(0, max).join('')}… (${chars.length} characters)`;
}

/** The error a cancelled run rejects with. */
export function cancelled(): LensError {
  return new LensError('CANCELLED', 'The run was cancelled.');
}
