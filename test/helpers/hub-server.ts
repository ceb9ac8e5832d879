// A local stand-in for the Hugging Face Hub, on 127.0.0.1 only: the model-info API (?blobs=true, with sizes, git
// blob ids and LFS sha256 computed from real files) and /resolve/ downloads with Range support, plus switches for
// every failure the downloader must survive — gated repos, missing files, corrupted bytes, a connection closed
// mid-file, servers that ignore Range, slow transfers (down to a byte at a time), LFS files redirected to a CDN on
// another origin, listings that lie (edited per repo) or never finish. Every request is recorded with its
// Authorization header, so tests see exactly where a token went.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export interface HubFile {
  name: string;
  data: Buffer;
  size: number;
  sha256: string;
  gitSha1: string;
  lfs: boolean;
}

export interface HubRepo {
  commit: string;
  files: Map<string, HubFile>;
  /** Revision names besides "main" and the commit that resolve to the commit (a tag, "refs/pr/1"). */
  revisions?: Set<string>;
}

export interface Faults {
  /** Repos that answer 401 (GatedRepo) unless the request carries the server's token. */
  gated: Set<string>;
  /** "owner/name/file" keys whose download answers 404 (the listing still has them). */
  missing: Set<string>;
  /** "owner/name/file" keys whose bytes are served with one byte changed. */
  corrupt: Set<string>;
  /** "owner/name/file" → close the connection after this many body bytes (all of them received), once (the entry is
   * then removed). */
  closeAfter: Map<string, number>;
  /** Ignore Range headers (answer 200 with the whole file). */
  noRange: boolean;
  /** Send files in chunks of `bytes` with `delayMs` between them. */
  slow?: { bytes: number; delayMs: number };
  /** Redirect LFS downloads to the CDN server (another origin). */
  cdnRedirect: boolean;
  /** Repo → a change to its model listing (the JSON object) before it is sent: a listing that lies. */
  listing: Map<string, (listing: { siblings: Record<string, unknown>[] } & Record<string, unknown>) => void>;
  /** Repos whose listing sends its headers and then nothing (until the client goes away). */
  stallListing: Set<string>;
}

export interface RequestRecord {
  server: 'hub' | 'cdn';
  method: string;
  path: string;
  range?: string;
  authorization?: string;
  status: number;
  /** Body bytes written (for files). */
  bytes: number;
  /** "owner/name/file" for file downloads. */
  file?: string;
}

export interface HubServer {
  url: string;
  cdnUrl: string;
  token: string;
  repos: Map<string, HubRepo>;
  faults: Faults;
  requests: RequestRecord[];
  /** Download requests (hub /resolve/ and CDN), in order. */
  fileRequests(): RequestRecord[];
  apiRequests(): RequestRecord[];
  close(): Promise<void>;
}

const sha = (algo: string, ...parts: (string | Buffer)[]) => {
  const h = createHash(algo);
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

/** Every file under dir, as '/'-separated paths relative to it (the Hub's rfilename), sorted. */
function filesUnder(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const name = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...filesUnder(dir, name));
    else if (e.isFile()) out.push(name);
  }
  return out.sort();
}

/** LFS on the real Hub: weights (safetensors, ONNX graphs and their external data) and files of 1 MB or more. */
const isLfs = (name: string, size: number) =>
  /\.(safetensors|onnx|onnx_data|onnx\.data)$/.test(name) || size >= 1_000_000;

/** Reads the files of dir, subfolders included (onnx/model.onnx), as a Hub repo. */
export function repoFromFolder(repo: string, dir: string, only?: string[]): HubRepo {
  if (!fs.existsSync(dir)) throw new Error(`Test model folder ${dir} is missing.`);
  const files = new Map<string, HubFile>();
  for (const name of (only ?? filesUnder(dir)).sort()) {
    const file = path.join(dir, ...name.split('/'));
    if (!fs.statSync(file).isFile()) continue;
    const data = fs.readFileSync(file);
    files.set(name, {
      name,
      data,
      size: data.length,
      sha256: sha('sha256', data),
      gitSha1: sha('sha1', `blob ${data.length}\0`, data),
      lfs: isLfs(name, data.length),
    });
  }
  const commit = sha('sha1', repo, ...[...files.values()].map((f) => f.gitSha1));
  return { commit, files };
}

/** Waits ms, or less if the client goes away (so a stalled transfer never outlives its test). */
function pause(res: http.ServerResponse, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.once('close', done);
  });
}

function listing(repoId: string, repo: HubRepo): { siblings: Record<string, unknown>[] } & Record<string, unknown> {
  return {
    id: repoId,
    modelId: repoId,
    sha: repo.commit,
    siblings: [...repo.files.values()].map((f) => ({
      rfilename: f.name,
      size: f.size,
      blobId: f.gitSha1,
      ...(f.lfs ? { lfs: { sha256: f.sha256, size: f.size, pointerSize: 134 } } : {}),
    })),
  };
}

export async function startHubServer(
  repos: Record<string, HubRepo>,
  token = 'hf_testTOKENabcdef0123456789',
): Promise<HubServer> {
  const state: HubServer = {
    url: '',
    cdnUrl: '',
    token,
    repos: new Map(Object.entries(repos)),
    faults: {
      gated: new Set(),
      missing: new Set(),
      corrupt: new Set(),
      closeAfter: new Map(),
      noRange: false,
      cdnRedirect: false,
      listing: new Map(),
      stallListing: new Set(),
    },
    requests: [],
    fileRequests: () => state.requests.filter((r) => r.file !== undefined),
    apiRequests: () => state.requests.filter((r) => r.path.startsWith('/api/')),
    close: async () => {
      for (const s of [hub, cdn]) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
  };

  function record(server: 'hub' | 'cdn', req: http.IncomingMessage): RequestRecord {
    const r: RequestRecord = {
      server,
      method: req.method ?? '',
      path: req.url ?? '',
      range: req.headers.range,
      authorization: req.headers.authorization,
      status: 0,
      bytes: 0,
    };
    state.requests.push(r);
    return r;
  }

  function fail(res: http.ServerResponse, r: RequestRecord, status: number, errorCode: string, message: string): void {
    r.status = status;
    res.writeHead(status, { 'content-type': 'application/json', 'x-error-code': errorCode });
    res.end(JSON.stringify({ error: message }));
  }

  async function sendFile(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    r: RequestRecord,
    key: string,
    f: HubFile,
  ) {
    r.file = key;
    let data = f.data;
    if (state.faults.corrupt.has(key)) {
      data = Buffer.from(f.data);
      data[data.length >> 1] ^= 0xff;
    }
    let start = 0;
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const headers: http.OutgoingHttpHeaders = { 'accept-ranges': 'bytes', etag: `"${f.lfs ? f.sha256 : f.gitSha1}"` };
    if (m && !state.faults.noRange) {
      start = Number(m[1]);
      const end = m[2] ? Math.min(Number(m[2]) + 1, f.size) : f.size;
      if (start >= f.size) {
        r.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${f.size}` });
        res.end();
        return;
      }
      data = data.subarray(start, end);
      r.status = 206;
      res.writeHead(206, {
        ...headers,
        'content-length': data.length,
        'content-range': `bytes ${start}-${end - 1}/${f.size}`,
      });
    } else {
      r.status = 200;
      res.writeHead(200, { ...headers, 'content-length': data.length });
    }
    const cut = state.faults.closeAfter.get(key);
    if (cut !== undefined) state.faults.closeAfter.delete(key);
    const limit = cut === undefined ? data.length : Math.min(cut, data.length);
    const step = state.faults.slow?.bytes ?? 256 * 1024;
    for (let off = 0; off < limit && !res.destroyed; off += step) {
      const piece = data.subarray(off, Math.min(off + step, limit));
      await new Promise<void>((resolve) => res.write(piece, () => resolve()));
      r.bytes += piece.length;
      const more = off + step < limit;
      if (state.faults.slow && more) await pause(res, state.faults.slow.delayMs);
    }
    if (cut !== undefined) {
      // The client takes what was sent before the connection drops (undici discards data it has not handed on).
      await pause(res, 100);
      res.socket?.destroy();
    } else res.end();
  }

  function authorized(req: http.IncomingMessage): boolean {
    return req.headers.authorization === `Bearer ${state.token}`;
  }

  const hub = http.createServer((req, res) => {
    const r = record('hub', req);
    const url = new URL(req.url ?? '/', 'http://x');
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const repoId = api?.[1] ?? resolve?.[1];
    const repo = repoId ? state.repos.get(repoId) : undefined;
    if (!repoId || !repo) return fail(res, r, 404, 'RepoNotFound', 'Repository not found');
    if (state.faults.gated.has(repoId) && !authorized(req)) {
      return fail(res, r, 401, 'GatedRepo', `Access to model ${repoId} is restricted. You must be authenticated.`);
    }
    const revision = decodeURIComponent((api?.[2] ?? resolve?.[2])!);
    if (revision !== 'main' && revision !== repo.commit && !repo.revisions?.has(revision)) {
      return fail(res, r, 404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
    }
    if (api) {
      r.status = 200;
      res.writeHead(200, { 'content-type': 'application/json' });
      if (state.faults.stallListing.has(repoId)) {
        res.flushHeaders();
        return;
      }
      const body = listing(repoId, repo);
      const edit = state.faults.listing.get(repoId);
      edit?.(body);
      res.end(JSON.stringify(body));
      return;
    }
    const name = decodeURIComponent(resolve![3]);
    const key = `${repoId}/${name}`;
    const f = repo.files.get(name);
    if (!f || state.faults.missing.has(key)) return fail(res, r, 404, 'EntryNotFound', `${name} does not exist`);
    if (f.lfs && state.faults.cdnRedirect) {
      r.status = 302;
      res.writeHead(302, { location: `${state.cdnUrl}/cdn/${repoId}/${f.sha256}`, 'x-linked-etag': `"${f.sha256}"` });
      res.end();
      return;
    }
    sendFile(req, res, r, key, f).catch(() => res.destroy());
  });

  const cdn = http.createServer((req, res) => {
    const r = record('cdn', req);
    const m = /^\/cdn\/([^/]+\/[^/]+)\/([0-9a-f]{64})$/.exec(req.url ?? '');
    const repo = m ? state.repos.get(m[1]) : undefined;
    const f = repo ? [...repo.files.values()].find((x) => x.sha256 === m![2]) : undefined;
    if (!m || !f) return fail(res, r, 404, 'EntryNotFound', 'no such blob');
    sendFile(req, res, r, `${m[1]}/${f.name}`, f).catch(() => res.destroy());
  });

  for (const s of [hub, cdn]) await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
  state.cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;
  return state;
}
