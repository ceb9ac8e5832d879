// Writes one output without ever leaving a broken file or touching anything else: bytes go to a temporary file
// created beside the target (same folder, so the final rename is atomic, and created exclusively, so it is never
// someone else's file), which replaces the target only when everything was written and flushed. A failure or an
// interrupt removes the temporary file and leaves whatever was there before untouched; nothing else is ever
// unlinked. Stream targets (/dev/stdout, /dev/null, a terminal) are written in place. Used by the CLI and, being
// Node-only and free of 'vscode', by the extension's exports.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cannotWrite, type OutputPlan } from './output-target';
import { errorCode, writeReason } from './write-reasons';
import { LensError } from '../errors';

/** Temporary files being written, removed if the process is interrupted (removeTemporariesOnExit). */
const temporaries = new Set<string>();

function removeTemporaries(): void {
  for (const t of temporaries) fs.rmSync(t, { force: true }); // only files this process created (OutputFile.open)
  temporaries.clear();
}

let hooked = false;
let interrupted: number | undefined;

/** The exit code of the signal that interrupted the process (130 / 143), or undefined: a command that fails because
 *  of the interrupt (its model unloaded under it) exits with that code, quietly. */
export function interruptedWith(): number | undefined {
  return interrupted;
}

/**
 * For command-line programs: on SIGINT / SIGTERM, remove every temporary file of an unfinished output, say so on
 * stderr and exit (130 / 143). Outputs already in place and files that were there before stay as they are.
 * `beforeExit` runs first (the CLI unloads its models: a worker thread must not be ended while onnxruntime runs a
 * call on it, or the process aborts), for at most `waitMs`; further signals meanwhile do not cut it short.
 */
export function removeTemporariesOnExit(
  write: (s: string) => void = (s) => process.stderr.write(s),
  beforeExit: () => Promise<void> = async () => undefined,
  waitMs = 15_000,
): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', removeTemporaries);
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)
    process.on(signal, () => {
      // A second signal while the first one's exit waits (Ctrl-C pressed twice; GNU timeout signals the process and
      // its group): the listener stays, so that the default action does not kill the process before it cleans up;
      // it removes what was opened since, and the exit comes within waitMs.
      if (interrupted !== undefined) return removeTemporaries();
      interrupted = code;
      const unfinished = temporaries.size > 0;
      removeTemporaries();
      write(
        `attention-lens: interrupted${unfinished ? '; the unfinished output was removed, earlier files are as they were' : ''}.\n`,
      );
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, waitMs).unref());
      void Promise.race([beforeExit().catch(() => undefined), timeout]).then(() => {
        removeTemporaries(); // any the command opened meanwhile
        process.exit(code);
      });
    });
}

export class OutputFile {
  /** Bytes written so far. */
  bytes = 0;
  /** open: taking bytes; finished: complete and flushed in its temporary file, not yet in place; placed: renamed
   *  into place (or written, for a stream); dropped: removed. */
  private state: 'open' | 'finished' | 'placed' | 'dropped' = 'open';
  /** The stream's first error (reported by the next write or commit). */
  private failure: unknown;

  private constructor(
    private readonly plan: OutputPlan,
    private readonly out: fs.WriteStream,
    private readonly temp: string | undefined,
  ) {
    out.on('error', (e) => (this.failure ??= e));
  }

  /** The path as the user gave it. */
  get path(): string {
    return this.plan.given;
  }

  /** Opens the temporary file (or the stream) for a plan from planOutput(). */
  static async open(plan: OutputPlan): Promise<OutputFile> {
    if (plan.kind === 'stream') {
      const out =
        plan.fd !== undefined
          ? fs.createWriteStream('', { fd: plan.fd, autoClose: false })
          : fs.createWriteStream(plan.path!, { flags: 'a' });
      return new OutputFile(plan, out, undefined);
    }
    const dir = path.dirname(plan.target);
    const base = path.basename(plan.target);
    let temp = '';
    let fd = -1;
    for (let attempt = 0; fd < 0; attempt++) {
      temp = path.join(dir, `.${base}.${process.pid}-${Math.random().toString(36).slice(2, 8)}.partial`);
      try {
        fd = fs.openSync(temp, 'wx', plan.mode ?? 0o666); // exclusive: never an existing file
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 5) continue;
        throw cannotWrite(plan.label, plan.given, writeReason(e));
      }
    }
    temporaries.add(temp);
    if (plan.mode !== undefined) fs.fchmodSync(fd, plan.mode); // the umask must not change an existing file's mode
    return new OutputFile(plan, fs.createWriteStream('', { fd, flush: true }), temp);
  }

  /** Writes text (UTF-8) or bytes; resolves once the chunk is accepted (waits for 'drain' when buffering). */
  write(chunk: Uint8Array | string): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failed());
    this.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    if (this.out.write(chunk)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        this.out.off('error', onError);
        resolve();
      };
      const onError = () => {
        this.out.off('drain', onDrain);
        reject(this.failed());
      };
      this.out.once('drain', onDrain);
      this.out.once('error', onError);
    });
  }

  private failed() {
    return this.refusal(this.failure);
  }

  /** The one-line error for `e`; a stream whose reader went away (EPIPE) is OUTPUT_CLOSED, not a failure. */
  private refusal(e: unknown): LensError {
    if (this.plan.kind === 'stream' && errorCode(e) === 'EPIPE')
      return new LensError('OUTPUT_CLOSED', `${this.plan.label} ${this.plan.given} was closed by its reader.`);
    return cannotWrite(this.plan.label, this.plan.given, writeReason(e));
  }

  /** Flushes and closes, then moves the temporary file into place. Throws a one-line LensError on failure. */
  async commit(): Promise<void> {
    await this.finish();
    this.place();
  }

  /**
   * Flushes and closes the temporary file without moving it into place: the output is complete but the target is
   * still what it was, until place() (or gone, after abort() or an interrupt). For outputs that must all appear
   * together (a folder of files). Throws a one-line LensError on failure, the temporary file removed.
   */
  async finish(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'finished';
    try {
      if (this.failure !== undefined) throw this.failure;
      await new Promise<void>((resolve, reject) => this.out.end((e?: Error | null) => (e ? reject(e) : resolve())));
      if (this.failure !== undefined) throw this.failure;
    } catch (e) {
      this.state = 'dropped';
      this.discard();
      throw this.refusal(e);
    }
  }

  /** Moves a finished temporary file into place (a rename in the target's folder). Throws a one-line LensError on
   *  failure, the temporary file removed and the target as it was. */
  place(): void {
    if (this.state === 'open') throw new Error('OutputFile.place() before finish()');
    if (this.state !== 'finished') return;
    this.state = 'placed';
    if (!this.temp) return;
    try {
      fs.renameSync(this.temp, (this.plan as { target: string }).target);
    } catch (e) {
      this.discard();
      throw cannotWrite(this.plan.label, this.plan.given, writeReason(e));
    }
    temporaries.delete(this.temp);
  }

  /** Drops the unfinished (or finished but not placed) output after a failure or a cancel; the target is left as
   *  it was. */
  abort(): void {
    if (this.state === 'placed' || this.state === 'dropped') return;
    const open = this.state === 'open';
    this.state = 'dropped';
    if (open) this.out.destroy();
    this.discard();
  }

  private discard(): void {
    if (!this.temp) return;
    fs.rmSync(this.temp, { force: true }); // our temporary file, created exclusively in open()
    temporaries.delete(this.temp);
  }
}

/** Writes a whole output at once (plan → temporary file → rename). */
export async function writeOutput(plan: OutputPlan, content: string | Uint8Array): Promise<number> {
  const file = await OutputFile.open(plan);
  try {
    await file.write(content);
    await file.commit();
  } catch (e) {
    file.abort();
    throw e;
  }
  return file.bytes;
}
