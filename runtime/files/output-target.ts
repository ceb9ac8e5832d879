// Decides, before any work, where and how an output file may be written — or refuses it with one line. The rules
// that keep a user's files safe: an output is never one of the model's own files or the input (compared by inode,
// so links and other spellings of the path are caught); a folder, a device, a pipe or a socket is never replaced
// (the standard streams and /dev/null are written to as they are, which is what a user naming them means), nor is
// a path ending in a separator, which names a folder, ever written as a file; a symbolic link is followed, so the
// file it points to is what gets replaced; and the folder must accept a new file, proven by creating and removing a
// probe there.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LensError } from '../errors';
import { expandHome } from '../hub/hub-settings';
import { errorCode, writeReason } from './write-reasons';

/** A file (or a whole folder) an output must never replace, and what it is to the user. */
export interface ProtectedPath {
  path: string;
  /** e.g. "a file of the model", "the input (--file)". */
  role: string;
  /** Protects everything inside the folder `path` (the Hugging Face cache). */
  folder?: boolean;
}

/** How an output is written: a regular file replaced atomically, or a stream written in place. */
export type OutputPlan =
  | {
      kind: 'replace';
      /** The path as the user gave it (for messages). */
      given: string;
      /** The file that will be replaced or created (symbolic links resolved). */
      target: string;
      /** The existing file's permission bits, kept on the new file. */
      mode?: number;
      label: string;
    }
  | {
      kind: 'stream';
      given: string;
      /** fd 1 or 2 */ fd?: number;
      /** /dev/null, a terminal */ path?: string;
      label: string;
    };

/** Names that mean the process's own output streams: written to fd 1 or 2 directly. */
const STREAMS: Record<string, number> = {
  '/dev/stdout': 1,
  '/dev/fd/1': 1,
  '/proc/self/fd/1': 1,
  '/dev/stderr': 2,
  '/dev/fd/2': 2,
  '/proc/self/fd/2': 2,
};

/** One-line refusal, in the shape every writer uses. */
export function cannotWrite(label: string, given: string, why: string): LensError {
  const who = label ? `${label} ${given}` : given;
  return new LensError('BAD_INPUT', `Cannot write ${who}: ${why}. Choose another file; nothing was written.`);
}

function statOrUndefined(p: string, follow: boolean): fs.Stats | undefined {
  try {
    return follow ? fs.statSync(p) : fs.lstatSync(p);
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}

const sameFile = (a: fs.Stats, b: fs.Stats) => a.dev === b.dev && a.ino === b.ino;

/** The null device, under any name (its device number is /dev/null's). */
function isNullDevice(st: fs.Stats): boolean {
  if (!st.isCharacterDevice()) return false;
  try {
    return st.rdev === fs.statSync('/dev/null').rdev;
  } catch {
    return false;
  }
}

/** The kind of a special file, in words, or undefined for a regular file or folder. */
export function specialKind(st: fs.Stats): string | undefined {
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isSocket()) return 'a socket';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isCharacterDevice()) return 'a device';
  return undefined;
}

/** Checks the protected paths against an existing target (by inode) or a new file's folder. */
function checkProtected(
  label: string,
  given: string,
  target: string,
  st: fs.Stats | undefined,
  protect: readonly ProtectedPath[],
): void {
  const realDir = fs.realpathSync(path.dirname(target));
  for (const p of protect) {
    let pst: fs.Stats;
    let real: string;
    try {
      pst = fs.statSync(p.path);
      real = fs.realpathSync(p.path);
    } catch {
      continue; // a protected path that does not exist cannot be overwritten
    }
    if (p.folder) {
      if (realDir === real || realDir.startsWith(real + path.sep))
        throw cannotWrite(label, given, `it is inside ${p.role} (${p.path}), which outputs never go into`);
      continue;
    }
    if (st && sameFile(st, pst)) throw cannotWrite(label, given, `it is ${p.role} (${p.path})`);
  }
}

/** Creates and removes a file beside the target: proves the folder accepts new files (read-only mounts, /proc...). */
function probe(label: string, given: string, dir: string): void {
  const name = path.join(dir, `.attention-lens-probe-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  let fd: number;
  try {
    fd = fs.openSync(name, 'wx');
  } catch (e) {
    // ENOENT here means the folder exists but takes no new files (e.g. /proc, /sys).
    const why = errorCode(e) === 'ENOENT' ? `the folder ${dir} does not accept new files (ENOENT)` : writeReason(e);
    throw cannotWrite(label, given, why);
  }
  fs.closeSync(fd);
  fs.unlinkSync(name); // our own probe, created just above
}

/**
 * Plans writing `given`. Throws one-line LensErrors (BAD_INPUT) for every refusal; writes nothing but a probe file
 * that it removes at once. `label` names the option in messages ("--out"; '' for none).
 */
export function planOutput(given: string, protect: readonly ProtectedPath[] = [], label = '--out'): OutputPlan {
  if (given.trim() === '') throw new LensError('BAD_INPUT', `${label || 'The output'} is empty; give a file name.`);
  // path.resolve drops a trailing separator: without this, "newdir/" would be written as a file named newdir.
  if (/[\\/]$/.test(given))
    throw cannotWrite(
      label,
      given,
      'a path ending in / names a folder, but this output is one file; give a file name without the trailing /',
    );
  const full = path.resolve(expandHome(given));
  const fd = STREAMS[full];
  if (fd !== undefined) return { kind: 'stream', given, fd, label };
  let st: fs.Stats | undefined;
  let target = full;
  try {
    const link = statOrUndefined(full, false);
    if (link?.isSymbolicLink()) {
      st = statOrUndefined(full, true);
      if (!st)
        throw cannotWrite(label, given, `it is a symbolic link to ${fs.readlinkSync(full)}, which does not exist`);
      target = fs.realpathSync(full);
    } else st = link;
  } catch (e) {
    if (e instanceof LensError) throw e;
    throw cannotWrite(label, given, writeReason(e));
  }
  if (st?.isDirectory()) throw cannotWrite(label, given, 'it is a folder; give a file name (e.g. inside it)');
  if (st && !st.isFile()) {
    if (isNullDevice(st)) return { kind: 'stream', given, path: target, label };
    if (st.isCharacterDevice() && /^\/dev\/(tty|pts\/\d+)$/.test(target))
      return { kind: 'stream', given, path: target, label };
    throw cannotWrite(
      label,
      given,
      `it is ${specialKind(st) ?? 'not a regular file'}, which is never replaced; write to a regular file (or /dev/stdout, /dev/null)`,
    );
  }
  const dir = path.dirname(target);
  const dirSt = statOrUndefined(dir, true);
  if (!dirSt) throw cannotWrite(label, given, `the folder ${dir} does not exist (ENOENT)`);
  if (!dirSt.isDirectory()) throw cannotWrite(label, given, `${dir} is not a folder (ENOTDIR)`);
  checkProtected(label, given, target, st, protect);
  probe(label, given, dir);
  const plan: OutputPlan = { kind: 'replace', given, target, label };
  if (st) plan.mode = st.mode & 0o7777;
  return plan;
}
