// Parses the command line of `attention-lens run` into checked options (node:util parseArgs), turning every
// mistake into a one-line LensError that says what to change.
import { parseArgs } from 'node:util';
import type { BackendName } from '../runtime/types';
import { LensError } from '../runtime/errors';
import { INPUT_OPTIONS } from './input-options';

export interface RunArgs {
  model: string;
  /** Exactly one of text / file. */
  text?: string;
  file?: string;
  backend: BackendName | 'auto';
  threads?: number;
  truncate: boolean;
  out?: string;
}

const bad = (message: string) => new LensError('BAD_INPUT', message);

/** The options of `attention-lens run` (the words after "run"), or 'help' for --help. */
export function parseRunArgs(rest: string[]): RunArgs | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: false,
      options: {
        ...INPUT_OPTIONS,
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    // parseArgs' messages name the option; keep their first sentence.
    const msg = (e as Error).message.split('. ')[0].replace(/\.$/, '');
    throw bad(`${msg}. See \`attention-lens --help\`.`);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (v.model === undefined || v.model === '')
    throw bad('Missing --model: give a model folder, an .onnx file or a Hugging Face id (owner/name) to run.');
  if (v.text !== undefined && v.file !== undefined) throw bad('Give either --text or --file, not both.');
  if (v.text === undefined && v.file === undefined) throw bad('Give the text to run with --text TEXT or --file PATH.');
  const backend = v.backend ?? 'auto';
  if (backend !== 'auto' && backend !== 'native' && backend !== 'wasm') {
    throw bad(`Unknown --backend "${backend}"; use auto, native or wasm.`);
  }
  let threads: number | undefined;
  if (v.threads !== undefined) {
    threads = Number(v.threads);
    if (!Number.isInteger(threads) || threads < 1 || threads > 256)
      throw bad(`--threads must be a whole number from 1 to 256 (got "${v.threads}").`);
  }
  return { model: v.model, text: v.text, file: v.file, backend, threads, truncate: v.truncate === true, out: v.out };
}
