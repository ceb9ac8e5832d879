// The attention-lens command line: picks the subcommand and hands the rest of the arguments to that command's
// parser (run-args.ts, export-args.ts, explain-args.ts), or asks for the help text.
import { LensError } from '../runtime/errors';
import { parseRunArgs, type RunArgs } from './run-args';
import { parseExportArgs, type ExportArgs } from './export-args';
import { parseGenerateArgs, type GenerateArgs } from './generate-args';
import { parseExplainArgs, parseStudyArgs, type ExplainArgs, type StudyArgs } from './explain-args';

export type Command =
  | { kind: 'help' }
  | { kind: 'run'; args: RunArgs }
  | { kind: 'export'; args: ExportArgs }
  | { kind: 'explain'; args: ExplainArgs }
  | { kind: 'study'; args: StudyArgs }
  | { kind: 'generate'; args: GenerateArgs };

const bad = (message: string) => new LensError('BAD_INPUT', message);

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
  if (command === 'generate') {
    const args = parseGenerateArgs(rest);
    return args === 'help' ? { kind: 'help' } : { kind: 'generate', args };
  }
  if (command === 'run') {
    const args = parseRunArgs(rest);
    return args === 'help' ? { kind: 'help' } : { kind: 'run', args };
  }
  throw bad(
    `Unknown command "${command}"; the commands are \`attention-lens run\`, \`export\`, \`explain\`, \`study\` and \`generate\` (see --help).`,
  );
}
