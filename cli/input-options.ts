// The options every command that runs a model on one input takes (`run`, `export`), declared once for parseArgs, and
// their checks (one place for the model, text/file, backend, threads and input-limit rules of both commands).
import type { BackendName } from '../runtime/types';
import { backendOption, bad, inputLimitOption, wholeNumber } from './parse-options';

export const INPUT_OPTIONS = {
  model: { type: 'string' },
  text: { type: 'string' },
  file: { type: 'string' },
  backend: { type: 'string' },
  threads: { type: 'string' },
  truncate: { type: 'boolean' },
  chat: { type: 'boolean' },
  'max-input-mb': { type: 'string' },
} as const;

export interface InputArgs {
  model: string;
  /** Exactly one of text / file. */
  text?: string;
  file?: string;
  backend: BackendName | 'auto';
  threads?: number;
  truncate: boolean;
  /** Run the text as a user message in the model's chat template. */
  chat: boolean;
  /** Most bytes read from --file. */
  inputLimit: number;
}

/** Checks the parsed INPUT_OPTIONS; every mistake is a one-line LensError. */
export function inputArgs(v: {
  [K in keyof typeof INPUT_OPTIONS]?: K extends 'truncate' | 'chat' ? boolean : string;
}): InputArgs {
  if (!v.model) throw bad('Missing --model: give a model folder, an .onnx file or a Hugging Face id (owner/name).');
  if (v.text !== undefined && v.file !== undefined) throw bad('Give either --text or --file, not both.');
  if (v.text === undefined && v.file === undefined) throw bad('Give the text to run with --text TEXT or --file PATH.');
  return {
    model: v.model,
    text: v.text,
    file: v.file,
    backend: backendOption(v.backend),
    threads: wholeNumber('threads', v.threads, 1, 256),
    truncate: v.truncate === true,
    chat: v.chat === true,
    inputLimit: inputLimitOption(v['max-input-mb']),
  };
}
