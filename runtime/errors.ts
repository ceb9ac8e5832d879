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

export class LensError extends Error {
  constructor(
    readonly code: LensErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'LensError';
  }
}

export function isLensError(e: unknown): e is LensError {
  return (
    e instanceof Error && (e as { name?: string }).name === 'LensError' && typeof (e as LensError).code === 'string'
  );
}

/** The error a cancelled run rejects with. */
export function cancelled(): LensError {
  return new LensError('CANCELLED', 'The run was cancelled.');
}
