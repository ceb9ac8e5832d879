// A reader that goes away early (`attention-lens run ... | head -1`): once stdout is closed (EPIPE), the command
// writes nothing more, its next line to stdout ends it (OUTPUT_CLOSED), and main.ts unloads the models — each worker
// ended between native calls, as on Ctrl-C — and exits with 0, quietly. Exiting at once on the EPIPE aborted the
// process whenever a worker was inside an onnxruntime call ("terminate called after throwing an instance of
// 'Napi::Error'").
import { LensError } from '../runtime/errors';

let closed = false;

/** Whether stdout's reader has gone away: the command then ends quietly, with exit code 0. */
export function stdoutClosed(): boolean {
  return closed;
}

/** Marks stdout closed (its 'error' listener in main.ts, on EPIPE); true the first time. */
export function markStdoutClosed(): boolean {
  if (closed) return false;
  closed = true;
  return true;
}

/** The error a line printed to a closed stdout ends the command with (quiet: main.ts exits with 0). */
function stdoutClosedError(): LensError {
  return new LensError('OUTPUT_CLOSED', 'stdout was closed by its reader.');
}

/** Prints a line to stdout; once stdout is closed, throws OUTPUT_CLOSED instead, so that the command stops. */
export function printLine(s: string): void {
  if (closed) throw stdoutClosedError();
  process.stdout.write(s + '\n');
}
