// Download progress of a Hub model on stderr, the same for every command (stdout stays the command's output): a line
// per file, updated in place on a terminal and at most every 2 s otherwise. Sizes read as runtime/hub's messages do
// (partOf: a part never reads as the whole, kB for small files); the speed is measured here over the last few seconds,
// from the file's first event on (its first chunk arrived with the headers, in no time, and would inflate it).
import * as os from 'node:os';
import type { DownloadProgress } from '../runtime/hub/download';
import { partOf, rate } from '../runtime/hub/hub-errors';

/** The window the speed is measured over. */
export const RATE_WINDOW_MS = 5_000;

export interface DownloadProgressOptions {
  /** Whether stderr is a terminal (lines are redrawn in place); default process.stderr.isTTY. */
  tty?: boolean;
  /** The clock (tests give their own). */
  now?: () => number;
}

/** One progress line, without the terminal's carriage return. */
export function downloadLine(p: DownloadProgress, bytesPerSecond: number | undefined): string {
  if (p.waitingFor) {
    const who = `process ${p.waitingFor.pid}${p.waitingFor.host !== os.hostname() ? ` on ${p.waitingFor.host}` : ''}`;
    return `downloading ${p.file}: waiting for another download of it to finish (${who})`;
  }
  const speed = p.bytes === p.total ? ', done' : bytesPerSecond !== undefined ? `, ${rate(bytesPerSecond)}` : '';
  return `downloading ${p.file}: ${partOf(p.bytes, p.total)}${speed}`;
}

/** A reporter for `load`'s onDownload that writes progress lines with `write`. */
export function downloadReporter(
  write: (s: string) => void = (s) => process.stderr.write(s),
  options: DownloadProgressOptions = {},
): (p: DownloadProgress) => void {
  const tty = options.tty ?? process.stderr.isTTY === true;
  const now = options.now ?? Date.now;
  let last = 0;
  let file = '';
  let open = false;
  /** (time, bytes) of the current file's events within the window; the first is the file's first event. */
  let samples: { t: number; bytes: number }[] = [];
  return (p) => {
    const t = now();
    const finished = p.bytes === p.total;
    const newFile = p.file !== file || p.waitingFor !== undefined;
    if (newFile) samples = [];
    if (!p.waitingFor) {
      samples.push({ t, bytes: p.bytes });
      // Keep the newest sample at or before the window's start, so the window is always covered.
      while (samples.length > 2 && samples[1].t <= t - RATE_WINDOW_MS) samples.shift();
    }
    if (!newFile && !finished && t - last < (tty ? 200 : 2000)) return;
    last = t;
    file = p.file;
    if (p.waitingFor) file = '';
    const first = samples[0];
    const bytesPerSecond =
      first && t > first.t && samples.length > 1 ? ((p.bytes - first.bytes) * 1000) / (t - first.t) : undefined;
    const line = downloadLine(p, bytesPerSecond);
    if (!tty) {
      write(`${line}\n`);
      return;
    }
    const end = finished || p.waitingFor !== undefined;
    write(`${newFile && open ? '\n' : ''}\r${line}\x1b[K${end ? '\n' : ''}`);
    open = !end;
  };
}
