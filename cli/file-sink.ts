// Writes an export to a file without leaving a broken one behind: bytes go to a temporary file beside the target
// (same folder, so the final rename is atomic), which replaces the target only when everything was written.
// Failures become one-line LensErrors naming the file and the reason (folder missing, permission denied, disk full).
// Ctrl-C (SIGINT), SIGTERM or an exit mid-write removes the temporary file too (a CSV can take minutes and gigabytes).
import { createWriteStream, existsSync, renameSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import { LensError } from '../runtime/errors';
import type { ByteSink } from '../writers/attention-data';

const REASONS: Record<string, string> = {
  ENOENT: 'the folder does not exist',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  EISDIR: 'it is a folder',
  ENOTDIR: 'a part of the path is not a folder',
};

export function writeError(path: string, e: unknown): LensError {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const why = REASONS[code] ?? (e as Error).message;
  return new LensError(
    'BAD_INPUT',
    `Cannot write --out ${path}: ${why}${code ? ` (${code})` : ''}. Choose another file or folder.`,
  );
}

/** Checks, before any work, that `path` can be created: its folder exists and it is not a folder itself. */
export function checkWritable(path: string): void {
  const dir = dirname(resolve(path));
  if (!existsSync(dir)) throw writeError(path, Object.assign(new Error(''), { code: 'ENOENT' }));
  if (!statSync(dir).isDirectory()) throw writeError(path, Object.assign(new Error(''), { code: 'ENOTDIR' }));
  if (existsSync(path) && statSync(path).isDirectory())
    throw writeError(path, Object.assign(new Error(''), { code: 'EISDIR' }));
}

/** Temporary files being written, removed if the process is interrupted. */
const partials = new Set<string>();
let hooked = false;
function removePartials(): void {
  for (const p of partials) rmSync(p, { force: true });
  partials.clear();
}
function hookSignals(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', removePartials);
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)
    process.once(sig, () => {
      removePartials();
      process.stderr.write(`attention-lens: interrupted; nothing was written.\n`);
      process.exit(code);
    });
}

export class FileSink implements ByteSink {
  bytes = 0;
  private constructor(
    private readonly path: string,
    private readonly temp: string,
    private readonly out: WriteStream,
  ) {}

  static async open(path: string): Promise<FileSink> {
    checkWritable(path);
    const temp = join(dirname(resolve(path)), `.${basename(path)}.${process.pid}.partial`);
    hookSignals();
    partials.add(temp);
    const out = createWriteStream(temp);
    try {
      await new Promise<void>((res, rej) => {
        out.once('open', () => res());
        out.once('error', (e) => rej(writeError(path, e)));
      });
    } catch (e) {
      partials.delete(temp);
      throw e;
    }
    return new FileSink(path, temp, out);
  }

  write(chunk: Uint8Array): Promise<void> {
    this.bytes += chunk.length;
    return new Promise((res, rej) => {
      this.out.write(chunk, (e) => (e ? rej(writeError(this.path, e)) : res()));
    });
  }

  /** Closes the temporary file and moves it into place. */
  async commit(): Promise<void> {
    await new Promise<void>((res, rej) =>
      this.out.end((e?: Error | null) => (e ? rej(writeError(this.path, e)) : res())),
    );
    try {
      renameSync(this.temp, this.path);
    } catch (e) {
      rmSync(this.temp, { force: true });
      throw writeError(this.path, e);
    } finally {
      partials.delete(this.temp);
    }
  }

  /** Drops the temporary file (after a failure or a cancel). */
  abort(): void {
    this.out.destroy();
    rmSync(this.temp, { force: true });
    partials.delete(this.temp);
  }
}
