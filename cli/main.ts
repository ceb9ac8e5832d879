// Entry point of the attention-lens command: dispatches the subcommand and turns every user mistake into one
// line on stderr and exit code 2 (internal errors: exit code 1), never a stack trace for a LensError.
import { parseCommand } from './command-line';
import { runCommand } from './run-command';
import { exportCommand } from './export-command';
import { explainCommand } from './explain-command';
import { studyCommand } from './study-command';
import { generateCommand } from './generate-command';
import { USAGE } from './usage';
import { isLensError } from '../runtime/errors';
import { interruptedWith, removeTemporariesOnExit } from '../runtime/files/output-file';
import { disposeAll } from '../runtime/inspector/worker-inspector';
import { markStdoutClosed, printLine, stdoutClosed } from './output-closed';

async function main(argv: string[]): Promise<number> {
  // Ctrl-C or SIGTERM removes an unfinished output's temporary file (earlier files stay as they were) and unloads
  // the models, each worker ended between native calls, then exits.
  removeTemporariesOnExit(undefined, () => disposeAll(15_000));
  try {
    const command = parseCommand(argv);
    if (command.kind === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    // Once stdout's reader has gone away, the next line ends the command (OUTPUT_CLOSED, below).
    const print = printLine;
    if (command.kind === 'export') await exportCommand(command.args, print);
    else if (command.kind === 'explain') await explainCommand(command.args, print);
    else if (command.kind === 'study') await studyCommand(command.args, print);
    else if (command.kind === 'generate') await generateCommand(command.args, print);
    else await runCommand(command.args, print);
    return 0;
  } catch (e) {
    // Failing because the interrupt unloaded the model: the interrupt has said so, and exits with its own code.
    const signal = interruptedWith();
    if (signal !== undefined) return signal;
    // A closed stdout (below), or --out /dev/stdout piped into `head`: its reader has what it wanted. Whatever the
    // command failed with then (its model unloaded under it, its next line refused) ends it quietly.
    if (stdoutClosed() || (isLensError(e) && e.code === 'OUTPUT_CLOSED')) return 0;
    if (isLensError(e)) {
      process.stderr.write(`attention-lens: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(
      `attention-lens: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    return 1;
  }
}

// A closed stdout (e.g. piped into `head`) ends the command quietly, with exit code 0, as Ctrl-C does: nothing more
// is written, the models are unloaded now (a run in progress stops at its next stage boundary, each worker ended
// between native calls), and the command, failing on that or on its next line, returns 0. The process then ends by
// itself once every worker has ended (each stays referenced until then): exiting here at once would end a worker
// inside an onnxruntime call and abort the process ("terminate called after throwing an instance of 'Napi::Error'").
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE' && markStdoutClosed()) void disposeAll(15_000);
});

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
