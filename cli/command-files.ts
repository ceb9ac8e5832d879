// What every command does with the user's files, in one place: reads --text / --file within the input limit
// (runtime/files/read-input.ts), and plans each output before the model loads (runtime/files/output-target.ts), so
// that an output is never the model's own file or the input, and a bad --out fails before any work.
import { LensError } from '../runtime/errors';
import { formatSize, readInputText } from '../runtime/files/read-input';
import { planOutput, type OutputPlan, type ProtectedPath } from '../runtime/files/output-target';
import { inputFile, modelFiles } from '../runtime/files/model-files';
import * as path from 'node:path';
import { npySidecarName } from '../writers/attention-data';
import { stdoutClosed } from './output-closed';

export interface TextInputArgs {
  text?: string;
  file?: string;
  truncate?: boolean;
  /** Most bytes read from --file. */
  inputLimit: number;
}

/** Warnings go to stderr, one line each, and never stop a command; none once stdout's reader has gone away (the
 *  command is ending quietly). */
export const warnOnStderr = (s: string) => {
  if (!stdoutClosed()) process.stderr.write(`attention-lens: warning: ${s}\n`);
};

/** How to raise the input limit, for messages. */
export const RAISE_LIMIT = '--max-input-mb N';

/** The text of --text, or of --file read within the limit (only its beginning with --truncate). Empty text fails. */
export async function readCommandText(args: TextInputArgs, warn: (s: string) => void): Promise<string> {
  let text: string;
  if (args.text !== undefined) text = args.text;
  else {
    const read = await readInputText(args.file!, {
      limit: args.inputLimit,
      option: '--file',
      raise: RAISE_LIMIT,
      truncate: args.truncate,
    });
    for (const w of read.warnings) warn(w);
    if (read.cut)
      warn(
        `--file ${args.file} is larger than the input limit; --truncate reads its first ${formatSize(read.bytes)} (raise the limit with ${RAISE_LIMIT}).`,
      );
    text = read.text;
  }
  if (text.trim().length === 0)
    throw new LensError('EMPTY_TEXT', 'The text is empty; give some text with --text or --file.');
  return text;
}

/** The files an output of a command on `model` must not replace: the model's own and the inputs. */
export function protectedFiles(model: string, inputs: Record<string, string | undefined>): ProtectedPath[] {
  const out = modelFiles(model);
  for (const [option, file] of Object.entries(inputs)) if (file !== undefined) out.push(inputFile(file, option));
  return out;
}

/** Plans --out (checks only; a probe file is created and removed). */
export function planOut(out: string, model: string, inputs: Record<string, string | undefined>): OutputPlan {
  return planOutput(out, protectedFiles(model, inputs), '--out');
}

/** The plan of an NPY file's JSON sidecar (FILE.npy.json: tokens, model, layer layout), beside a file output and under
 * the same rules; none beside a stream. */
export function planNpySidecar(
  plan: OutputPlan,
  model: string,
  inputs: Record<string, string | undefined>,
): OutputPlan | undefined {
  if (plan.kind !== 'replace') return undefined;
  return planOut(path.join(path.dirname(plan.given), npySidecarName(path.basename(plan.given))), model, inputs);
}

/** Where a command's report goes: stdout, or stderr when the output itself is written to stdout. */
export function reportTo(plan: OutputPlan | undefined, print: (s: string) => void): (s: string) => void {
  return plan?.kind === 'stream' && plan.fd === 1 ? (s) => process.stderr.write(s + '\n') : print;
}
