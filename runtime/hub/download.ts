// resolveHubModel: turns a Hub id ("owner/name[@revision]") into a local model folder — the snapshot folder of the
// standard Hugging Face cache — downloading only the files a model needs (safetensors weights, or an ONNX export's
// graphs and external data; see file-selection.ts) and only those the cache lacks. A folder is returned only once
// every file is downloaded and verified; offline (HF_HUB_OFFLINE) it comes from the cache alone. The listing is
// checked before it is trusted (sizes, hashes), the token travels only over https or to this machine, and every file
// has a deadline derived from its size and a minimum rate. This is the one entry point the CLI and the extension call.
import * as fs from 'node:fs';
import { type DownloadProgress, type OpenFile, downloadBlob, openFileOnDisk } from './blob-download';
import { type HeldLock, acquireLock } from './blob-lock';
import { RepoCache, cacheWriteError, fileSize, hubCacheDir } from './cache-layout';
import {
  type HubSibling,
  type WantedFile,
  externalDataNames,
  missingFromSnapshot,
  pickModelFiles,
  pickShards,
  shardNames,
} from './file-selection';
import { HubError, mb, redactError, seconds } from './hub-errors';
import { type HttpContext, cancelledError, hubRequest, networkError, statusError } from './hub-http';
import { type HubId, formatHubId, isCommitHash, parseHubId } from './hub-id';
import { hubEndpoint, hubOffline, hubToken, tokenNotSentLine, tokenTransport } from './hub-settings';

export type { DownloadProgress, BlobWriter, OpenFile } from './blob-download';

/** The token for an endpoint, asked only when the Hub is about to be contacted (the extension asks the user before a
 * token goes to a host other than huggingface.co): the token, none, or why the one the user has is kept back (said
 * again if the Hub then refuses the download). */
export type TokenFor = (endpoint: string) => Promise<string | { withheld: string } | undefined>;

export interface ResolveOptions {
  /** Hub URL; default HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** What the endpoint option is called in messages (default "the endpoint option"). */
  endpointName?: string;
  /** Access token, or a function that gives it for the endpoint; default HF_TOKEN (or the `huggingface-cli login`
   * file). null or '' sends none. Never logged; never sent in clear text (plain http to another machine). */
  token?: string | null | TokenFor;
  /** One-line warnings that do not stop the download (a token kept back from a plain-http endpoint). */
  onWarning?: (line: string) => void;
  /** Use only the cache; default HF_HUB_OFFLINE. */
  offline?: boolean;
  /** The hub cache folder; default HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub. */
  cacheDir?: string;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  fetchImpl?: typeof fetch;
  /** Longest wait for an answer, and for each chunk of a file (default 30 s). */
  timeoutMs?: number;
  /** The slowest average rate a file may arrive at: each file has timeoutMs plus its size at this rate to arrive
   * (default 25 kB/s). */
  minBytesPerSecond?: number;
  /** How blob files are opened for writing (tests inject write failures). */
  openFile?: OpenFile;
  /** Link snapshot files to blobs with symlinks (default) or copy them. */
  symlinks?: boolean;
  /** Environment to read settings from (default process.env). */
  env?: Record<string, string | undefined>;
}

interface ModelInfo {
  sha: string;
  siblings: HubSibling[];
}

const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MIN_BYTES_PER_SECOND = 25_000;
/** The longest model listing read (the Hub's are kilobytes; a server that streams more is not a Hub). */
const MAX_LISTING_BYTES = 32 * 2 ** 20;

type Env = Record<string, string | undefined>;

/** Resolves a Hub id to the snapshot folder of a complete, verified copy in the cache (downloading what is missing). */
export async function resolveHubModel(id: string | HubId, options: ResolveOptions = {}): Promise<string> {
  const hubId = typeof id === 'string' ? parseHubId(id) : id;
  const env = options.env ?? process.env;
  const held: { token?: string } = { token: typeof options.token === 'string' ? options.token : undefined };
  try {
    return await resolve(hubId, options, env, held);
  } catch (e) {
    throw redactError(e, held.token);
  }
}

/** The token to send to endpoint, or why one that exists is kept back (plain http to another machine). */
async function chooseToken(
  endpoint: string,
  options: ResolveOptions,
  env: Env,
  held: { token?: string },
): Promise<{ token?: string; withheld?: string }> {
  const given = options.token;
  const chosen = typeof given === 'function' ? await given(endpoint) : hubToken(given, env);
  if (typeof chosen === 'object') return { withheld: chosen.withheld };
  const token = chosen?.trim() || undefined;
  held.token = token;
  if (!token) return {};
  if (tokenTransport(endpoint) !== 'clear') return { token };
  const fromEnv = given === undefined && !!env.HF_TOKEN?.trim();
  const withheld = tokenNotSentLine(endpoint, fromEnv ? 'HF_TOKEN' : undefined);
  options.onWarning?.(withheld);
  return { withheld };
}

async function resolve(id: HubId, options: ResolveOptions, env: Env, held: { token?: string }): Promise<string> {
  const cache = new RepoCache(options.cacheDir ?? hubCacheDir(env), id.repo);
  const label = formatHubId(id);
  const cachedCommit = isCommitHash(id.revision) ? id.revision : await cache.readRef(id.revision);
  const cached = cachedCommit ? await cachedSnapshot(cache, cachedCommit) : undefined;

  if (hubOffline(options.offline, env)) {
    if (cached) return cached;
    const why = cachedCommit
      ? `its cached copy in ${cache.snapshot(cachedCommit)} is incomplete (${await missingFromSnapshot(cache.snapshot(cachedCommit))} missing)`
      : `it is not in the Hugging Face cache (${cache.root})`;
    throw new HubError(
      'offline',
      `${label} cannot be used offline: ${why}. Go online once (unset HF_HUB_OFFLINE) so it can be downloaded.`,
    );
  }
  if (cached && isCommitHash(id.revision)) return cached;

  const endpoint = hubEndpoint(options.endpoint, env, options.endpointName);
  const { token, withheld } = await chooseToken(endpoint, options, env, held);
  const ctx: HttpContext = {
    endpoint,
    token,
    tokenNote: withheld,
    fetchImpl: options.fetchImpl ?? fetch,
    signal: options.signal,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    repo: id.repo,
    revision: id.revision,
  };
  let info: ModelInfo;
  try {
    info = await fetchModelInfo(ctx);
  } catch (e) {
    // Like huggingface_hub: when the Hub cannot be reached, a complete cached copy of the revision is used.
    if (cached && e instanceof HubError && e.reason === 'network') return cached;
    throw e;
  }
  const { files, shardIndex, onnxGraphs } = pickModelFiles(id.repo, info.siblings);
  const job = { ctx, cache, commit: info.sha, options };
  await fetchFiles(job, files);
  if (shardIndex) {
    const text = await fs.promises.readFile(cache.snapshotFile(info.sha, shardIndex.name), 'utf8');
    const names = shardNames(text, `${id.repo}/${shardIndex.name}`);
    const shards = pickShards(id.repo, info.siblings, names, shardIndex.name);
    await fetchFiles(job, shards);
  }
  for (const graph of onnxGraphs ?? []) {
    // The external data files are the ones the downloaded graph names (model.onnx_data, model.onnx.data, ...).
    const bytes = await fs.promises.readFile(cache.snapshotFile(info.sha, graph.name));
    const data = pickShards(id.repo, info.siblings, externalDataNames(graph.name, bytes), graph.name);
    await fetchFiles(job, data);
  }
  if (id.revision !== info.sha) await recordRef(cache, id, info.sha, options);
  return cache.snapshot(info.sha);
}

/** Records which commit the revision named; the model is complete without it, so a failure is a warning (as in
 * huggingface_hub): offline, the revision is then found by its commit only. */
async function recordRef(cache: RepoCache, id: HubId, commit: string, options: ResolveOptions): Promise<void> {
  try {
    await cache.writeRef(id.revision, commit);
  } catch (e) {
    const why = cacheWriteError(e, cache.ref(id.revision)).replace(/\.$/, '');
    options.onWarning?.(
      `The cache cannot record that revision "${id.revision}" of ${id.repo} is commit ${commit} (${why}); the model is ` +
        `used, but offline (HF_HUB_OFFLINE=1) name it by its commit: ${id.repo}@${commit}.`,
    );
  }
}

async function cachedSnapshot(cache: RepoCache, commit: string): Promise<string | undefined> {
  const dir = cache.snapshot(commit);
  return (await missingFromSnapshot(dir)) === undefined ? dir : undefined;
}

async function fetchModelInfo(ctx: HttpContext): Promise<ModelInfo> {
  const url = `${ctx.endpoint}/api/models/${ctx.repo}/revision/${encodeURIComponent(ctx.revision)}?blobs=true`;
  const open = await hubRequest(ctx, url);
  let text: string;
  try {
    if (!open.response.ok) {
      await open.response.body?.cancel().catch(() => undefined);
      throw statusError(ctx, open.response);
    }
    text = await readListing(ctx, open.response);
  } catch (e) {
    if (e instanceof HubError) throw e;
    if (open.abortReason() === 'cancelled' || ctx.signal?.aborted) throw cancelledError(ctx.repo);
    const why =
      open.abortReason() === 'timeout' ? { cause: { code: `no complete answer in ${seconds(ctx.timeoutMs)}` } } : e;
    throw networkError(ctx, why, `while listing the files of ${ctx.repo}`);
  } finally {
    open.done();
  }
  let info: Partial<ModelInfo>;
  try {
    info = JSON.parse(text) as Partial<ModelInfo>;
  } catch {
    info = {};
  }
  if (typeof info.sha !== 'string' || !isCommitHash(info.sha) || !Array.isArray(info.siblings)) {
    throw new HubError('bad-response', `${ctx.endpoint} did not answer like the Hugging Face Hub API for ${ctx.repo}.`);
  }
  const siblings = info.siblings.filter((s): s is HubSibling => typeof s?.rfilename === 'string');
  return { sha: info.sha, siblings };
}

/** The listing's text, read up to MAX_LISTING_BYTES. */
async function readListing(ctx: HttpContext, response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    bytes += r.value.length;
    if (bytes > MAX_LISTING_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new HubError(
        'bad-response',
        `${ctx.endpoint} sent more than ${MAX_LISTING_BYTES / 2 ** 20} MB for the file listing of ${ctx.repo}: it does not answer like the Hugging Face Hub API.`,
      );
    }
    chunks.push(r.value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

interface FetchJob {
  ctx: HttpContext;
  cache: RepoCache;
  commit: string;
  options: ResolveOptions;
}

/** Downloads what the cache lacks of files (one at a time) and links each into the snapshot. */
async function fetchFiles(job: FetchJob, files: WantedFile[]): Promise<void> {
  const { cache, commit, options } = job;
  const todo: WantedFile[] = [];
  for (const f of files) {
    if ((await fileSize(cache.snapshotFile(commit, f.name))) === f.size) continue;
    if ((await fileSize(cache.blob(f.blobId))) !== f.size) todo.push(f);
  }
  const sizes = todo.map((f) => f.size);
  const overallTotal = sizes.reduce((a, b) => a + b, 0);
  await checkFreeSpace(job, todo);
  let done = 0;
  for (let i = 0; i < todo.length; i++) {
    const remainingAfter = sizes.slice(i + 1).reduce((a, b) => a + b, 0);
    const file = todo[i];
    const overallDone = done;
    await withBlobLock(job, file, overallDone, overallTotal, (lock) =>
      downloadBlob({
        ctx: job.ctx,
        cache,
        commit,
        file,
        openFile: options.openFile ?? openFileOnDisk,
        onProgress: options.onProgress,
        minBytesPerSecond: options.minBytesPerSecond ?? DEFAULT_MIN_BYTES_PER_SECOND,
        overallDone,
        overallTotal,
        remainingAfter,
        lock,
      }),
    );
    done += todo[i].size;
  }
  // Linked only once every file is in blobs/, so the snapshot never shows a model that is partly there.
  for (const f of files) {
    if ((await fileSize(cache.snapshotFile(commit, f.name))) === f.size) continue;
    try {
      await cache.link(commit, f.name, f.blobId, options.symlinks ?? true);
    } catch (e) {
      const where = cache.snapshotFile(commit, f.name);
      throw new HubError(
        'write-failed',
        `Cannot put ${f.name} into ${cache.snapshot(commit)}: ${cacheWriteError(e, where)}`,
      );
    }
  }
}

/** Fails before downloading when the disk obviously lacks room (statfs); the write path catches the rest. */
async function checkFreeSpace(job: FetchJob, todo: WantedFile[]): Promise<void> {
  if (todo.length === 0) return;
  const blobs = job.cache.blob('');
  try {
    await fs.promises.mkdir(blobs, { recursive: true });
  } catch (e) {
    throw new HubError(
      'write-failed',
      `Cannot create the cache folder ${blobs} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); set HF_HUB_CACHE to a writable folder.`,
    );
  }
  let needed = 0;
  for (const f of todo) needed += f.size - ((await fileSize(job.cache.incomplete(f.blobId))) ?? 0);
  let free: number;
  try {
    const st = await fs.promises.statfs(blobs);
    free = st.bavail * st.bsize;
  } catch {
    return;
  }
  if (needed > free) {
    throw new HubError(
      'disk-full',
      `Not enough disk space for ${job.ctx.repo} in ${job.cache.root}: ${mb(needed)} is needed, ${mb(free)} is free. ` +
        `Free some space or set HF_HUB_CACHE to a disk with room.`,
    );
  }
}

const locks = new Map<string, Promise<unknown>>();

/** Runs fn holding the blob's lock: after any download of it in this process has ended, and while no other process
 * downloads it (waiting for one that does, with a progress event that says so), so two downloads never share a
 * partial. */
async function withBlobLock<T>(
  job: FetchJob,
  file: WantedFile,
  overallDone: number,
  overallTotal: number,
  fn: (lock: HeldLock) => Promise<T>,
): Promise<T> {
  const { ctx, cache, options } = job;
  const key = cache.blob(file.blobId);
  const crossProcess = async () => {
    let lock: HeldLock;
    try {
      lock = await acquireLock(cache.lock(file.blobId), {
        signal: ctx.signal,
        cancelled: () => cancelledError(ctx.repo),
        onWait: (owner) => {
          const bytes = partialSize(cache.incomplete(file.blobId));
          options.onProgress?.({
            file: file.name,
            bytes,
            total: file.size,
            bytesPerSecond: 0,
            overallBytes: overallDone + bytes,
            overallTotal,
            waitingFor: owner,
          });
        },
      });
    } catch (e) {
      if (e instanceof HubError) throw e;
      throw new HubError(
        'write-failed',
        `Cannot lock ${file.name} for download in ${cache.root}: ${cacheWriteError(e, cache.lock(file.blobId))}`,
      );
    }
    try {
      return await fn(lock);
    } finally {
      await lock.release();
    }
  };
  const run = (locks.get(key) ?? Promise.resolve()).catch(() => undefined).then(crossProcess);
  locks.set(key, run);
  try {
    return await run;
  } finally {
    if (locks.get(key) === run) locks.delete(key);
  }
}

/** The size of a partial download, read synchronously (for a progress event). */
function partialSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
