// Downloads one file of a Hub repository into the cache's blobs/ folder: streamed to blobs/<id>.incomplete (never
// held in memory), resumed from where an earlier attempt stopped with an HTTP Range request, checked against the
// size and hash the Hub listed (sha256 for LFS files, git blob sha1 for the rest), and only then renamed to
// blobs/<id>, so a partial or corrupt download is never taken for a file of the model. Each transfer has a deadline
// derived from the bytes it still needs and a minimum rate, so a server that trickles a byte now and then (which the
// idle timeout never catches) still ends with a message that gives the figures. The caller holds the blob's lock
// (blob-lock.ts: one writer of a partial across processes); a blob once verified and renamed is never written again.
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HeldLock, LockOwner } from './blob-lock';
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
  /** Average speed of this transfer since its first chunk (resumed bytes and the first chunk, which came with the
   * headers, excluded; 0 until a second chunk). */
  bytesPerSecond: number;
  /** Bytes of all files this call downloads, done so far and in all. */
  overallBytes: number;
  overallTotal: number;
  /** Set while this file waits for another process that is downloading it (bytes: what it has so far). */
  waitingFor?: LockOwner;
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
  /** The blob's lock, held by the caller: no byte is written once it is lost. */
  lock?: HeldLock;
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
    // Never over a verified blob (written by another process after all), and only the bytes this holder wrote.
    if ((await fileSize(blob)) === file.size) {
      await fs.promises.rm(part, { force: true });
      return;
    }
    if (job.lock && !(await job.lock.owned())) throw lockLost(job);
    if ((await fileSize(part)) !== file.size) {
      await fs.promises.rm(part, { force: true });
      throw new HubError(
        'write-failed',
        `${file.name} changed on disk while it downloaded into ${cache.root} (another program wrote to it); the ` +
          `download was deleted. Run again to download it afresh.`,
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

function lockLost(job: BlobJob): HubError {
  return new HubError(
    'write-failed',
    `Another process took over the download of ${job.file.name} into ${job.cache.root} (it thought this one had ` +
      `stopped); run again once it has finished.`,
  );
}

/** The size the server gives the whole file: a 200's content-length (unless compressed), the total of a 206's
 * content-range or of a 416's "bytes *\/N"; undefined when it does not say. */
function servedSize(res: Response): number | undefined {
  if (res.status === 200) {
    if (res.headers.get('content-encoding')) return undefined;
    const n = res.headers.get('content-length');
    return n !== null && /^\d+$/.test(n) ? Number(n) : undefined;
  }
  const m = /\/(\d+)\s*$/.exec(res.headers.get('content-range') ?? '');
  return m ? Number(m[1]) : undefined;
}

/** The error for a server whose file is not the size its own listing gives (a mirror or cache out of step). */
function sizeMismatch(job: BlobJob, served: number): HubError {
  const { ctx, file } = job;
  return new HubError(
    'bad-response',
    `${ctx.endpoint} serves ${file.name} of ${ctx.repo} as ${served.toLocaleString('en-US')} bytes while its listing ` +
      `says ${file.size.toLocaleString('en-US')}: the endpoint is inconsistent, so the file cannot be verified. Try ` +
      `again later, or use another endpoint (attentionLens.hubEndpoint / HF_ENDPOINT).`,
  );
}

/** Streams the rest of the file into part; returns true when the partial file must be discarded and restarted. */
async function transfer(job: BlobJob, url: string, part: string, start: number, hashes: Hashes): Promise<boolean> {
  const { ctx, file } = job;
  const deadlineFor = (bytes: number) => ctx.timeoutMs + Math.ceil((bytes * 1000) / job.minBytesPerSecond);
  let deadlineMs = deadlineFor(file.size - start);
  const open = await hubRequest(ctx, url, start > 0 ? { range: `bytes=${start}-` } : {}, deadlineMs);
  const res = open.response;
  try {
    // A server whose file is not the listed size: said now, before a byte is written (or a resume asks past its end
    // on every run).
    const served = res.status === 200 || res.status === 206 || res.status === 416 ? servedSize(res) : undefined;
    if (served !== undefined && served !== file.size) {
      await res.body?.cancel().catch(() => undefined);
      throw sizeMismatch(job, served);
    }
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
      // The server ignored the Range: the whole file comes again, and has the whole file's time to arrive.
      start = 0;
      hashes.reset();
      deadlineMs = deadlineFor(file.size);
      open.restartDeadline(deadlineMs);
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
  let written = start;
  let lastEmit = 0;
  let finished = false;
  // The rate is measured from the end of the first chunk: it came with the headers, in no time.
  let firstAt = 0;
  let firstBytes = 0;
  const emit = () => {
    const now = Date.now();
    lastEmit = now;
    job.onProgress?.({
      file: file.name,
      bytes: written,
      total: file.size,
      bytesPerSecond: now > firstAt ? Math.round(((written - firstBytes) * 1000) / (now - firstAt)) : 0,
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
      if (job.lock?.lost()) throw lockLost(job);
      try {
        await writer.write(chunk);
      } catch (e) {
        throw writeError(job, e, written);
      }
      hashes.update(chunk);
      written += chunk.length;
      if (firstAt === 0) [firstAt, firstBytes] = [Date.now(), written];
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
