// The small files beside a model's weights — config.json, generation_config.json, tokenizer.json,
// tokenizer_config.json, special_tokens_map.json, vocab.json, sentencepiece models, shard indexes, Ollama manifests —
// are read whole. Each is opened without blocking and checked to be a regular file of a size such files have before a
// byte of it is read: in its place a named pipe would wait for a writer forever (and an open() pending on one keeps
// the process from exiting, Ctrl-C included), a device such as /dev/zero would be read until memory runs out, and a
// multi-gigabyte file would be parsed as JSON. Errors from opening (ENOENT, ELOOP...) reach the caller unchanged, so
// that a missing file stays the caller's own message.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LensError, type LensErrorCode } from '../errors';

/** The largest side file read (the largest tokenizer.json of a released model is tens of MB). */
export const SIDE_FILE_MAX_BYTES = 256 * 2 ** 20;
/** The largest config.json or generation_config.json read: released ones are a few kB (up to ~1 MB with a label map
 * of tens of thousands of classes); a bigger one would be parsed at ~8× its size in memory for nothing. */
export const CONFIG_FILE_MAX_BYTES = 16 * 2 ** 20;

/** Non-blocking open: a FIFO opens at once instead of waiting for a writer (regular files are unaffected). */
const FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

/** What `st` is when it is not a regular file. */
function notAFile(st: fs.Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a folder';
  return 'not a regular file';
}

const sizeText = (bytes: number) =>
  bytes < 2 ** 30 ? `${Math.round(bytes / 2 ** 20)} MB` : `${(bytes / 2 ** 30).toFixed(1)} GB`;

function check(file: string, st: fs.Stats, code: LensErrorCode, maxBytes: number): void {
  const name = path.basename(file);
  const kind = notAFile(st);
  if (kind) throw new LensError(code, `${file} is ${kind}, not a file: put the model's ${name} there.`);
  if (st.size > maxBytes)
    throw new LensError(
      code,
      `${file} is ${sizeText(st.size)}, larger than any model's ${name} (at most ${maxBytes / 2 ** 20} MB): it is not one; put the model's ${name} there.`,
    );
}

/** The bytes of a side file, once it is known to be a regular file of at most `maxBytes`; a LensError with `code`
 * otherwise. */
export async function readSideFile(file: string, code: LensErrorCode, maxBytes = SIDE_FILE_MAX_BYTES): Promise<Buffer> {
  const handle = await fs.promises.open(file, FLAGS);
  try {
    check(file, await handle.stat(), code, maxBytes);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** readSideFile, synchronously. */
export function readSideFileSync(file: string, code: LensErrorCode, maxBytes = SIDE_FILE_MAX_BYTES): Buffer {
  const fd = fs.openSync(file, FLAGS);
  try {
    check(file, fs.fstatSync(fd), code, maxBytes);
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
