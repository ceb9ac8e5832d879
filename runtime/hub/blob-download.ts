// Downloads one file of a Hub repository into the cache's blobs/ folder: streamed to blobs/<id>.incomplete (never
// held in memory), resumed from where an earlier attempt stopped with an HTTP Range request, checked against the
// size and hash the Hub listed (sha256 for LFS files, git blob sha1 for the rest), and only then renamed to
// blobs/<id>, so a partial or corrupt download is never taken for a file of the model. Each transfer has a deadline
// derived from the bytes it still needs and a minimum rate, so a server that trickles a byte now and then (which the
// idle timeout never catches) still ends with a message that gives the figures.
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type RepoCache, fileSize } from './cache-layout';
import type { WantedFile } from './file-selection';
import { HubError, mb, partOf, rate, seconds } from './hub-errors';
import { type HttpContext, cancelledError, hubRequest, networkError, statusError } from './hub-http';

/** Where downloaded bytes go; an option so tests can make writes fail as a full disk does. */
export interface BlobWriter {
  write(data: Uint8Array): Promise<void>;
  close(): Promise<void>;
}
export type OpenFile = (file: string, mode: 'append' | 'truncate') => Promise<BlobWriter>;

export interface DownloadProgress {
  /** The file being downloaded (its name in the repository). */
  file: string;
  /** Bytes of that file on disk so far (including a resumed part) and its size. */
  bytes: number;
  total: number;
  /** Average speed of this transfer (resumed bytes excluded). */
  bytesPerSecond: number;
  /** Bytes of all files this call downloads, done so far and in all. */
  overallBytes: number;
  overallTotal: number;
}

export interface BlobJob {
  ctx: HttpContext;
  cache: RepoCache;
  commit: string;
  file: WantedFile;
  openFile: OpenFile;
  onProgress?: (p: DownloadProgress) => void;
  /** The slowest average rate the file may arrive at (its deadline: timeoutMs plus the bytes needed at this rate). */
  minBytesPerSecond: number;
  /** Bytes of earlier files of this call, and of all files of this call. */
  overallDone: number;
  overallTotal: number;
  /** Bytes still to download after this file, for the disk-full message. */
  remainingAfter: number;
}

const PROGRESS_EVERY_MS = 100;

export const openFileOnDisk: OpenFile = async (file, mode) => {
  const handle = await fs.promises.open(file, mode === 'append' ? 'a' : 'w');
  return {
    async write(data) {
      for (let off = 0; off < data.length;) off += (await handle.write(data, off, data.length - off)).bytesWritten;
    },
    close: () => handle.close(),
  };
};

class Hashes {
  sha256?: Hash;
  gitSha1?: Hash;

  constructor(private readonly file: WantedFile) {
    this.reset();
  }

  reset(): void {
    this.sha256 = this.file.sha256 ? createHash('sha256') : undefined;
    this.gitSha1 = this.file.gitSha1 ? createHash('sha1').update(`blob ${this.file.size}\0`) : undefined;
  }

  update(data: Uint8Array): void {
    this.sha256?.update(data);
    this.gitSha1?.update(data);
  }

  /** The first mismatch as "sha256 expected …, got …", or undefined when everything matches. */
  mismatch(): string | undefined {
    const got256 = this.sha256?.digest('hex');
    if (got256 !== undefined && got256 !== this.file.sha256) return `sha256 ${got256}, expected ${this.file.sha256}`;
    const got1 = this.gitSha1?.digest('hex');
    if (got1 !== undefined && got1 !== this.file.gitSha1) return `git sha1 ${got1}, expected ${this.file.gitSha1}`;
    return undefined;
  }
}

async function hashExisting(file: string, hashes: Hashes): Promise<void> {
  for await (const chunk of fs.createReadStream(file)) hashes.update(chunk as Buffer);
}

function writeError(job: BlobJob, e: unknown, written: number): HubError {
  const code = (e as NodeJS.ErrnoException).code;
  const dir = job.cache.root;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    const needed = job.file.size - written + job.remainingAfter;
    return new HubError(
      'disk-full',
      `Disk full while downloading ${job.file.name} into ${dir}: ${mb(needed)} more free space is needed. Free some ` +
        `space (or set HF_HUB_CACHE to a disk with room), then run again: the download resumes where it stopped.`,
    );
  }
  return new HubError(
    'write-failed',
    `Cannot write ${job.file.name} into ${dir} (${code ?? (e as Error).message}). Check that the folder is writable, ` +
      `or set HF_HUB_CACHE to another folder.`,
  );
}

/** Makes sure blobs/<id> holds the verified file; resumes a partial download left by an earlier attempt. */
export async function downloadBlob(job: BlobJob): Promise<void> {
  const { ctx, cache, file } = job;
  const blob = cache.blob(file.blobId);
  if ((await fileSize(blob)) === file.size) return;
  const part = cache.incomplete(file.blobId);
  try {
    await fs.promises.mkdir(path.dirname(blob), { recursive: true });
  } catch (e) {
    throw writeError(job, e, 0);
  }
  const url = `${ctx.endpoint}/${ctx.repo}/resolve/${job.commit}/${file.name.split('/').map(encodeURIComponent).join('/')}`;
  if (file.size === 0) await fs.promises.writeFile(part, '');
  for (let attempt = 0; attempt < 2; attempt++) {
    const hashes = new Hashes(file);
    let start = (await fileSize(part)) ?? 0;
    if (start > file.size) {
      await fs.promises.rm(part, { force: true });
      start = 0;
    }
    if (start > 0) await hashExisting(part, hashes);
    if (start < file.size) {
      const restart = await transfer(job, url, part, start, hashes);
      if (restart) {
        await fs.promises.rm(part, { force: true });
        continue;
      }
    }
    const bad = hashes.mismatch();
    if (bad) {
      await fs.promises.rm(part, { force: true });
      throw new HubError(
        'checksum',
        `${file.name} of ${ctx.repo} arrived corrupted (${bad}); the download was deleted. Run again to download it afresh.`,
      );
    }
    try {
      await fs.promises.rename(part, blob);
    } catch (e) {
      throw writeError(job, e, file.size);
    }
    return;
  }
  throw new HubError('bad-response', `${ctx.endpoint} did not honour the resume request for ${file.name}.`);
}

/** Streams the rest of the file into part; returns true when the partial file must be discarded and restarted. */
async function transfer(job: BlobJob, url: string, part: string, start: number, hashes: Hashes): Promise<boolean> {
  const { ctx, file } = job;
  const deadlineMs = ctx.timeoutMs + Math.ceil(((file.size - start) * 1000) / job.minBytesPerSecond);
  const open = await hubRequest(ctx, url, start > 0 ? { range: `bytes=${start}-` } : {}, deadlineMs);
  const res = open.response;
  try {
    if (res.status === 416 && start > 0) {
      await res.body?.cancel().catch(() => undefined);
      return true;
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => undefined);
      throw statusError(ctx, res, file.name);
    }
    let mode: 'append' | 'truncate' = 'truncate';
    if (res.status === 206) {
      const m = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
      if (!m || Number(m[1]) !== start) {
        await res.body.cancel().catch(() => undefined);
        return true;
      }
      mode = 'append';
    } else if (start > 0) {
      start = 0;
      hashes.reset();
    }
    await stream(job, open, part, mode, start, hashes, deadlineMs);
    return false;
  } finally {
    open.done();
  }
}

async function stream(
  job: BlobJob,
  open: Awaited<ReturnType<typeof hubRequest>>,
  part: string,
  mode: 'append' | 'truncate',
  start: number,
  hashes: Hashes,
  deadlineMs: number,
): Promise<void> {
  const { ctx, file } = job;
  let writer: BlobWriter;
  try {
    writer = await job.openFile(part, mode);
  } catch (e) {
    await open.response.body?.cancel().catch(() => undefined);
    throw writeError(job, e, start);
  }
  const reader = open.response.body!.getReader();
  const began = Date.now();
  let written = start;
  let lastEmit = 0;
  let finished = false;
  const emit = () => {
    const now = Date.now();
    lastEmit = now;
    job.onProgress?.({
      file: file.name,
      bytes: written,
      total: file.size,
      bytesPerSecond: Math.round(((written - start) * 1000) / Math.max(1, now - began)),
      overallBytes: job.overallDone + written,
      overallTotal: job.overallTotal,
    });
  };
  const stopped = (how: string) =>
    networkError(
      ctx,
      { cause: { code: how } },
      `while downloading ${file.name} (${partOf(written, file.size)} kept: run again to resume)`,
    );
  try {
    for (;;) {
      let chunk: Uint8Array;
      try {
        const r = await reader.read();
        if (r.done) break;
        chunk = r.value;
      } catch (e) {
        if (open.abortReason() === 'cancelled' || ctx.signal?.aborted) throw cancelledError(ctx.repo);
        if (open.abortReason() === 'timeout') throw stopped(`no data for ${seconds(ctx.timeoutMs)}`);
        if (open.abortReason() === 'deadline')
          throw stopped(
            `slower than the minimum of ${rate(job.minBytesPerSecond)}: not complete after ${seconds(deadlineMs)}`,
          );
        throw stopped(`connection closed: ${(e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message}`);
      }
      open.touch();
      if (written + chunk.length > file.size) {
        await fs.promises.rm(part, { force: true }).catch(() => undefined);
        throw new HubError(
          'bad-response',
          `${ctx.endpoint} sent more than the ${file.size} bytes listed for ${file.name}.`,
        );
      }
      try {
        await writer.write(chunk);
      } catch (e) {
        throw writeError(job, e, written);
      }
      hashes.update(chunk);
      written += chunk.length;
      if (lastEmit === 0 || written === file.size || Date.now() - lastEmit >= PROGRESS_EVERY_MS) emit();
      if (ctx.signal?.aborted) throw cancelledError(ctx.repo);
    }
    finished = true;
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    await writer.close().catch(() => undefined);
  }
  if (written < file.size) throw stopped('the server ended the file early');
}
