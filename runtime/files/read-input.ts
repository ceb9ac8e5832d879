// Reads a user's input file (a text, or a JSONL dataset line by line) with a size limit, so that /dev/zero, a
// multi-gigabyte log or one enormous line ends with one clear line instead of exhausting memory. Only what is kept
// is read: a text cut to the limit reads the limit and stops; an over-long dataset line is skipped without being
// held. Invalid UTF-8 is read as U+FFFD, as everywhere, but never silently: the first byte offset is reported.
import * as fs from 'node:fs';
import * as tty from 'node:tty';
import { LensError } from '../errors';
import { errorCode } from './write-reasons';

/** The default input limit: far more text than any supported model takes (1 MiB ≈ 250,000 tokens). */
export const DEFAULT_INPUT_LIMIT = 2 ** 20;

export interface InputLimit {
  /** Most bytes read (a text) or held for one line (a dataset). */
  limit: number;
  /** The option that names the file in messages (--file, --data). */
  option: string;
  /** How to raise the limit, for messages (e.g. "--max-input-mb N"). */
  raise: string;
}

export interface InputText {
  text: string;
  /** Bytes read. */
  bytes: number;
  /** The file was longer than the limit and only its beginning was read (truncate). */
  cut: boolean;
  /** One-line notes for the user (invalid UTF-8). */
  warnings: string[];
}

const bad = (message: string) => new LensError('BAD_INPUT', message);

/** "1 MB", "300 KB", "1.5 MB". */
export function formatSize(bytes: number): string {
  if (bytes >= 2 ** 20) return `${+(bytes / 2 ** 20).toFixed(bytes % 2 ** 20 ? 1 : 0)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

/** An opened input: its handle, and whether it is a named pipe (read without blocking: see openInput). */
interface Opened {
  fh: fs.promises.FileHandle;
  pipe: boolean;
}

/**
 * Opens an input file, refusing what is not text: folders, devices other than a terminal, sockets. A named pipe
 * (mkfifo, or bash's <(command)) is opened without blocking: opening one that nothing writes to would otherwise block
 * a libuv thread for good, and with it Ctrl-C and the process's exit.
 */
async function openInput(file: string, option: string): Promise<Opened> {
  let pipe = false;
  try {
    pipe = (await fs.promises.stat(file)).isFIFO() && fs.constants.O_NONBLOCK !== undefined;
  } catch {
    // open() below says why
  }
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, pipe ? fs.constants.O_RDONLY | fs.constants.O_NONBLOCK : 'r');
  } catch (e) {
    const code = errorCode(e);
    const why =
      code === 'ENOENT'
        ? 'it does not exist'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a folder'
            : code === 'ELOOP'
              ? 'it is a loop of symbolic links'
              : code || 'error';
    throw bad(
      `Cannot read ${option} ${file}: ${why}${code && !why.includes(code) ? ` (${code})` : ''}; give a readable UTF-8 text file.`,
    );
  }
  const st = await fh.stat();
  const refuse = (what: string) => {
    void fh.close();
    return bad(`Cannot read ${option} ${file}: it is ${what}, not a text file; give a readable UTF-8 text file.`);
  };
  if (st.isDirectory()) throw refuse('a folder');
  if (st.isSocket()) throw refuse('a socket');
  if (st.isBlockDevice()) throw refuse('a block device');
  if (st.isCharacterDevice() && !tty.isatty(fh.fd)) throw refuse('a device (like /dev/zero)');
  return { fh, pipe };
}

/** Reads what is there: a named pipe's writer may not have written yet (EAGAIN), so it is asked again shortly. */
async function readSome(h: Opened, buf: Buffer, offset: number, length: number): Promise<number> {
  for (;;) {
    try {
      return (await h.fh.read(buf, offset, length, null)).bytesRead;
    } catch (e) {
      if (!h.pipe || errorCode(e) !== 'EAGAIN') throw e;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/** The line for a named pipe that gave nothing: nothing was writing to it when it was read. */
const emptyPipe = (option: string, file: string) =>
  bad(
    `Cannot read ${option} ${file}: it is a named pipe that nothing is writing to; start the command that writes into it first, or give a text file.`,
  );

/** Index of the first byte that does not start a valid UTF-8 sequence, from `from`; -1 when all are valid. An
 * incomplete sequence at the very end counts as invalid unless `partialEnd`. */
export function firstInvalidUtf8(b: Uint8Array, from = 0, partialEnd = false): number {
  let i = from;
  const n = b.length;
  while (i < n) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let len: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c === 0xe0) lo = 0xa0; // no overlong forms
      if (c === 0xed) hi = 0x9f; // no surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f; // ≤ U+10FFFF
    } else return i;
    for (let k = 1; k < len; k++) {
      if (i + k >= n) return partialEnd ? -1 : i;
      const x = b[i + k];
      if (x < (k === 1 ? lo : 0x80) || x > (k === 1 ? hi : 0xbf)) return i;
    }
    i += len;
  }
  return -1;
}

/** Where b could be cut without splitting a character: b.length, or the start of a trailing incomplete one. */
function completeLength(b: Uint8Array): number {
  for (let back = 1; back <= 3 && back <= b.length; back++) {
    const c = b[b.length - back];
    if ((c & 0xc0) === 0x80) continue; // continuation byte
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return need > back ? b.length - back : b.length;
  }
  return b.length;
}

/** Decodes UTF-8 (BOM dropped); invalid bytes become U+FFFD with a warning naming the first offset. */
export function decodeUtf8(bytes: Uint8Array, where: string, warnings: string[]): string {
  const first = firstInvalidUtf8(bytes);
  if (first >= 0) {
    let count = 0;
    for (let i = first; i >= 0; i = firstInvalidUtf8(bytes, i + 1)) count++;
    warnings.push(
      `${where} is not valid UTF-8 at byte ${first}${count > 1 ? ` (and ${count - 1} more place${count > 2 ? 's' : ''})` : ''}; those bytes were read as U+FFFD (�).`,
    );
  }
  return new TextDecoder('utf-8').decode(bytes).replace(/^\uFEFF/, '');
}

/**
 * Reads a text file of at most `limit` bytes. Longer: with `truncate` only its first `limit` bytes are read (cut
 * before a split character), otherwise one line says the limit and how to raise it.
 */
export async function readInputText(file: string, o: InputLimit & { truncate?: boolean }): Promise<InputText> {
  const input = await openInput(file, o.option);
  const buf = Buffer.allocUnsafe(o.limit + 1);
  let bytes = 0;
  try {
    for (;;) {
      const bytesRead = await readSome(input, buf, bytes, Math.min(buf.length - bytes, 1 << 20));
      if (bytesRead === 0) break;
      bytes += bytesRead;
      if (bytes > o.limit) break;
    }
  } catch (e) {
    throw bad(
      `Cannot read ${o.option} ${file}: ${errorCode(e) || (e as Error).message}; give a readable UTF-8 text file.`,
    );
  } finally {
    await input.fh.close();
  }
  if (input.pipe && bytes === 0) throw emptyPipe(o.option, file);
  const cut = bytes > o.limit;
  if (cut && !o.truncate)
    throw bad(
      `${o.option} ${file} is larger than the input limit of ${formatSize(o.limit)}; run its beginning with --truncate, or raise the limit with ${o.raise}.`,
    );
  let kept = buf.subarray(0, Math.min(bytes, o.limit));
  if (cut) kept = kept.subarray(0, completeLength(kept));
  const warnings: string[] = [];
  const text = decodeUtf8(kept, `${o.option} ${file}`, warnings);
  return { text, bytes: kept.length, cut, warnings };
}

/** One line of a dataset: its text, or why it was not read. */
export type DataLine = { line: number; text: string } | { line: number; tooLong: number };

/**
 * The lines of a JSONL file, streamed: at most `limit` bytes of one line are held; a longer line is skipped to its
 * end and reported as { tooLong: its size }. Invalid UTF-8 is reported once (warnings).
 */
export async function* readDataLines(file: string, o: InputLimit, warnings: string[]): AsyncGenerator<DataLine> {
  const input = await openInput(file, o.option);
  const chunk = Buffer.allocUnsafe(1 << 16);
  let total = 0;
  let line = 1;
  let parts: Buffer[] = [];
  let held = 0;
  let skipped = 0; // bytes of an over-long line
  let warned = false;
  const finish = (): DataLine => {
    const n = line++;
    if (skipped > 0) {
      const size = skipped;
      skipped = 0;
      return { line: n, tooLong: size };
    }
    const bytes = Buffer.concat(parts);
    parts = [];
    held = 0;
    const before = warnings.length;
    const text = decodeUtf8(bytes, `${o.option} ${file} line ${n}`, warned ? [] : warnings);
    if (warnings.length > before) warned = true;
    return { line: n, text };
  };
  try {
    for (;;) {
      const bytesRead = await readSome(input, chunk, 0, chunk.length);
      if (bytesRead === 0) break;
      total += bytesRead;
      let start = 0;
      while (start < bytesRead) {
        const nl = chunk.indexOf(0x0a, start);
        const end = nl < 0 || nl >= bytesRead ? bytesRead : nl;
        const piece = chunk.subarray(start, end);
        if (skipped > 0 || held + piece.length > o.limit) {
          skipped += held + piece.length;
          parts = [];
          held = 0;
        } else {
          parts.push(Buffer.from(piece));
          held += piece.length;
        }
        if (end === bytesRead) break;
        yield finish();
        start = end + 1;
      }
    }
    if (held > 0 || skipped > 0) yield finish();
    if (input.pipe && total === 0) throw emptyPipe(o.option, file);
  } finally {
    await input.fh.close();
  }
}
