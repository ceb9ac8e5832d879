// Parses the command line of `attention-lens run` into checked options (node:util parseArgs), turning every
// mistake into a one-line LensError that says what to change.
import type { BackendName } from '../runtime/types';
import { INPUT_OPTIONS } from './input-options';
import { backendOption, bad, inputLimitOption, parseOptions, wholeNumber } from './parse-options';
import { parseExportArgs, type ExportArgs } from './export-args';
import { parseExplainArgs, parseStudyArgs, type ExplainArgs, type StudyArgs } from './explain-args';

export interface RunArgs {
  model: string;
  /** Exactly one of text / file. */
  text?: string;
  file?: string;
  backend: BackendName | 'auto';
  threads?: number;
  truncate: boolean;
  /** Most bytes read from --file. */
  inputLimit: number;
  out?: string;
}

export type Command =
  | { kind: 'help' }
  | { kind: 'run'; args: RunArgs }
  | { kind: 'export'; args: ExportArgs }
  | { kind: 'explain'; args: ExplainArgs }
  | { kind: 'study'; args: StudyArgs };

export function parseCommand(argv: string[]): Command {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') return { kind: 'help' };
  const [command, ...rest] = argv;
  if (command === 'export') {
    const args = parseExportArgs(rest);
    return args === 'help' ? { kind: 'help' } : { kind: 'export', args };
  }
  if (command === 'explain') {
    const args = parseExplainArgs(rest);
    return args === 'help' ? { kind: 'help' } : { kind: 'explain', args };
  }
  if (command === 'study') {
    const args = parseStudyArgs(rest);
    return args === 'help' ? { kind: 'help' } : { kind: 'study', args };
  }
  if (command !== 'run')
    throw bad(
      `Unknown command "${command}"; the commands are \`attention-lens run\`, \`export\`, \`explain\` and \`study\` (see --help).`,
    );
  const v = parseOptions(rest, { ...INPUT_OPTIONS, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (v.help) return { kind: 'help' };
  if (v.model === undefined || v.model === '')
    throw bad('Missing --model: give a model folder, an .onnx file or a Hugging Face id (owner/name) to run.');
  if (v.text !== undefined && v.file !== undefined) throw bad('Give either --text or --file, not both.');
  if (v.text === undefined && v.file === undefined) throw bad('Give the text to run with --text TEXT or --file PATH.');
  const backend = backendOption(v.backend);
  const threads = wholeNumber('threads', v.threads, 1, 256);
  const inputLimit = inputLimitOption(v['max-input-mb']);
  return {
    kind: 'run',
    args: {
      model: v.model,
      text: v.text,
      file: v.file,
      backend,
      threads,
      truncate: v.truncate === true,
      inputLimit,
      out: v.out,
    },
  };
}
