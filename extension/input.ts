// Pure decisions of the Show Attention command: which text to run, whether it is usable, how long it may be, and
// how an error is presented (message + actions). vscode-free so that unit tests can check them.
import { isLensError, type LensErrorCode } from '../runtime/errors';
import { MAX_INPUT_TOKENS } from '../runtime/inspector/long-runs';

export type ErrorAction = 'selectModel' | 'showLog' | 'openSettings' | 'setToken';

export interface UserError {
  message: string;
  actions: ErrorAction[];
  cancelled: boolean;
}

/** Why a text cannot be run, or undefined when it can. */
export function checkText(text: string): string | undefined {
  if (text.length === 0) return 'Nothing to show: select some text (or put the cursor on a non-empty line).';
  if (text.trim().length === 0) return 'Nothing to show: the selection contains only whitespace.';
  return undefined;
}

/** Why a target text (Show Attention with Target…) cannot be scored, or undefined. */
export function checkTarget(target: string): string | undefined {
  if (target.trim().length === 0)
    return 'The target text is empty: type the translation to score, or use Show Attention to translate.';
  return undefined;
}

/** The effective token limit: the maxTokens setting (0 or less: no own limit), the model's positions and the hard
 * cap of MAX_INPUT_TOKENS (runtime/inspector/long-runs.ts: what long inputs were measured at). */
export function tokenLimit(maxTokensSetting: number, maxPositions: number): number {
  const positions = Math.min(maxPositions > 0 ? maxPositions : Number.MAX_SAFE_INTEGER, MAX_INPUT_TOKENS);
  if (!Number.isFinite(maxTokensSetting) || maxTokensSetting <= 0) return positions;
  return Math.min(Math.floor(maxTokensSetting), positions);
}

export function tooLongMessage(count: number, limit: number, maxPositions = 0): string {
  const more =
    limit === MAX_INPUT_TOKENS && maxPositions > MAX_INPUT_TOKENS
      ? ` (the model allows ${maxPositions}, but Attention Lens runs at most ${MAX_INPUT_TOKENS} tokens for now)`
      : " (attentionLens.maxTokens and the model's positions)";
  return `The selection is ${count} tokens long; the limit is ${limit}${more}. Select less text or truncate it to the first ${limit} tokens.`;
}

const MODEL_CODES: LensErrorCode[] = [
  'MODEL_NOT_FOUND',
  'NO_CONFIG',
  'BAD_CONFIG',
  'UNSUPPORTED_MODEL',
  'NO_WEIGHTS',
  'CORRUPT_WEIGHTS',
  'SHAPE_MISMATCH',
  'NO_TOKENIZER',
  'BAD_TOKENIZER',
  'BAD_ONNX',
  'FUSED_ATTENTION',
  'HUB_OFFLINE',
  'DOWNLOAD_FAILED',
  'MODEL_TOO_LARGE',
];

/** The one-line message and the actions for an error; never a stack trace. */
export function describeError(e: unknown): UserError {
  if (isLensError(e)) {
    if (e.code === 'CANCELLED' || e.code === 'DISPOSED') return { message: e.message, actions: [], cancelled: true };
    if (MODEL_CODES.includes(e.code))
      return { message: e.message, actions: ['selectModel', 'showLog'], cancelled: false };
    if (e.code === 'HUB_AUTH') return { message: e.message, actions: ['setToken', 'showLog'], cancelled: false };
    if (e.code === 'BACKEND_UNAVAILABLE')
      return { message: e.message, actions: ['openSettings', 'showLog'], cancelled: false };
    return { message: e.message, actions: ['showLog'], cancelled: false };
  }
  const first = (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 300);
  return { message: `Attention Lens failed unexpectedly: ${first}`, actions: ['showLog'], cancelled: false };
}

/** The error for an unset attentionLens.modelPath. */
export const NO_MODEL_MESSAGE =
  'No model selected: choose a model folder, an .onnx file or a Hugging Face id (owner/name) with "Select Model…".';

/** Recent model folders: `path` first, no duplicates, at most `max`. */
export function pushRecent(recent: readonly string[], path: string, max = 8): string[] {
  return [path, ...recent.filter((p) => p !== path)].slice(0, max);
}
