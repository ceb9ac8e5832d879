// Parses the command line of `attention-lens run` into checked options (node:util parseArgs), turning every
// mistake into a one-line LensError that says what to change.
import { INPUT_OPTIONS, inputArgs, type InputArgs } from './input-options';
import { bad, parseOptions } from './parse-options';
import { parseExportArgs, type ExportArgs } from './export-args';
import { parseExplainArgs, parseStudyArgs, type ExplainArgs, type StudyArgs } from './explain-args';

export interface RunArgs extends InputArgs {
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
  return { kind: 'run', args: { ...inputArgs(v), out: v.out } };
}
