// Two downloads of one model at once share a cache: only one may write a blob's .incomplete file (runtime/hub/
// blob-lock.ts). Two real processes (test/unit/runtime/hub/resolve-child.ts) against a slow local Hub: the second waits
// for the first (and says so), neither fails, the blob is downloaded once and is byte for byte the served file. A lock
// left by a process that is gone is taken over; a live one from another host is waited on until the caller cancels.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type DownloadProgress, resolveHubModel } from '../../../../runtime/hub/download';
import { RepoCache } from '../../../../runtime/hub/cache-layout';
import { HubError } from '../../../../runtime/hub/hub-errors';
import { type HubServer, repoFromFolder, startHubServer } from '../../../helpers/hub-server';
import { fixtureModel, repoRoot } from '../../../helpers/fixtures';

const REPO = 'lens-test/stories260K';
const WEIGHTS = `${REPO}/model.safetensors`;
const CHILD = path.join(repoRoot, 'test/unit/runtime/hub/resolve-child.ts');
const made: string[] = [];
let hub: HubServer;

before(async () => {
  hub = await startHubServer({ [REPO]: repoFromFolder(REPO, fixtureModel('stories260K')) });
});

after(async () => {
  await hub.close();
  made.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-hub-concurrent-'));
  made.push(d);
  return d;
}

const weights = () => hub.repos.get(REPO)!.files.get('model.safetensors')!;

interface Child {
  proc: ChildProcess;
  lines: Record<string, unknown>[];
  /** Resolves with the last line once the process has exited. */
  exited: Promise<number | null>;
  /** Resolves when a line matching `pred` has arrived. */
  line(pred: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

function startChild(cacheDir: string): Child {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', CHILD, JSON.stringify({ model: REPO, endpoint: hub.url, cacheDir, wait: true })],
    { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const lines: Record<string, unknown>[] = [];
  const waiters: { pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] =
    [];
  let buffer = '';
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString();
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      const l = JSON.parse(buffer.slice(0, i)) as Record<string, unknown>;
      buffer = buffer.slice(i + 1);
      lines.push(l);
      for (const w of waiters.filter((x) => x.pred(l))) w.resolve(l);
    }
  });
  const exited = new Promise<number | null>((resolve) => proc.on('close', resolve));
  const kill = setTimeout(() => proc.kill('SIGKILL'), 60_000);
  void exited.then(() => clearTimeout(kill));
  return {
    proc,
    lines,
    exited,
    line: (pred) =>
      new Promise((resolve, reject) => {
        const hit = lines.find(pred);
        if (hit) return resolve(hit);
        waiters.push({ pred, resolve });
        void exited.then(() => reject(new Error(`the child ended first: ${JSON.stringify(lines)}\n${stderr}`)));
      }),
  };
}

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

test('two processes downloading one model at once: the second waits, both succeed, the blob is written once', async () => {
  const cacheDir = tempDir();
  const cache = new RepoCache(cacheDir, REPO);
  const w = weights();
  // The weights take about 1.6 s (64 KB every 100 ms): the second process starts while the first writes them.
  hub.faults.slow = { bytes: 64 * 1024, delayMs: 100 };
  const first = hub.requests.length;
  try {
    const a = startChild(cacheDir);
    const b = startChild(cacheDir);
    await Promise.all([a.line((l) => 'ready' in l), b.line((l) => 'ready' in l)]);
    a.proc.stdin!.write('go\n');
    // A is writing the weights' partial when B starts.
    await a.line((l) => (l.progress as DownloadProgress | undefined)?.file === 'model.safetensors');
    b.proc.stdin!.write('go\n');
    const [ca, cb] = await Promise.all([a.exited, b.exited]);
    const endA = a.lines.at(-1)!;
    const endB = b.lines.at(-1)!;
    assert.equal(ca, 0);
    assert.equal(cb, 0);
    assert.equal(endA.done, cache.snapshot(hub.repos.get(REPO)!.commit), JSON.stringify(endA));
    assert.equal(endB.done, endA.done, JSON.stringify(endB));
    // B said it waited for A, naming A's process.
    const waited = b.lines
      .map((l) => l.progress as DownloadProgress | undefined)
      .find((p) => p?.waitingFor !== undefined);
    assert.ok(waited, `B never waited: ${JSON.stringify(b.lines.slice(0, 8))}`);
    assert.equal(waited.file, 'model.safetensors');
    assert.equal(waited.waitingFor!.pid, a.proc.pid);
    // The weights were requested once, whole: B neither resumed nor fetched them again.
    const got = hub.requests.slice(first).filter((r) => r.file === WEIGHTS);
    assert.deepEqual(
      got.map((r) => [r.status, r.range, r.bytes]),
      [[200, undefined, w.size]],
    );
  } finally {
    hub.faults.slow = undefined;
  }
  const blob = cache.blob(w.sha256);
  assert.equal(fs.statSync(blob).size, w.size);
  assert.equal(sha256(blob), w.sha256);
  assert.ok(
    fs.readFileSync(path.join(cache.snapshot(hub.repos.get(REPO)!.commit), 'model.safetensors')).equals(w.data),
  );
  assert.deepEqual(
    fs.readdirSync(path.dirname(blob)).filter((f) => f.includes('.')),
    [],
    'no partial left',
  );
  assert.deepEqual(fs.readdirSync(path.dirname(cache.lock(w.sha256))), [], 'no lock left');
});

/** A pid that no process has now: a child that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid!;
}

test('a lock left by a process that is gone is taken over, and its partial resumed', async () => {
  const cacheDir = tempDir();
  const cache = new RepoCache(cacheDir, REPO);
  const w = weights();
  fs.mkdirSync(path.dirname(cache.lock(w.sha256)), { recursive: true });
  fs.writeFileSync(cache.lock(w.sha256), JSON.stringify({ pid: deadPid(), host: os.hostname(), token: 'x' }));
  fs.mkdirSync(path.dirname(cache.blob(w.sha256)), { recursive: true });
  fs.writeFileSync(cache.incomplete(w.sha256), w.data.subarray(0, 300_000));
  const first = hub.requests.length;
  const events: DownloadProgress[] = [];
  const dir = await resolveHubModel(REPO, {
    endpoint: hub.url,
    cacheDir,
    token: null,
    env: {},
    onProgress: (p) => events.push(p),
  });
  assert.ok(fs.readFileSync(path.join(dir, 'model.safetensors')).equals(w.data));
  assert.equal(events.filter((p) => p.waitingFor).length, 0, 'no wait for a process that is gone');
  const got = hub.requests.slice(first).filter((r) => r.file === WEIGHTS);
  assert.deepEqual(
    got.map((r) => [r.status, r.range]),
    [[206, 'bytes=300000-']],
  );
  assert.ok(!fs.existsSync(cache.lock(w.sha256)));
});

/** A fresh cache whose weights blob is locked by process 1 of another host (lock text `other`). */
function otherHostLock(token: string) {
  const cacheDir = tempDir();
  const cache = new RepoCache(cacheDir, REPO);
  const w = weights();
  const lock = cache.lock(w.sha256);
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const other = JSON.stringify({ pid: 1, host: `not-${os.hostname()}`, token });
  fs.writeFileSync(lock, other);
  return { cacheDir, cache, w, lock, other };
}

test('a live lock of another host is waited on, with a progress event, until the caller cancels', async () => {
  const { cacheDir, cache, w, lock, other } = otherHostLock('y');
  const controller = new AbortController();
  const events: DownloadProgress[] = [];
  const first = hub.requests.length;
  const p = resolveHubModel(REPO, {
    endpoint: hub.url,
    cacheDir,
    token: null,
    env: {},
    signal: controller.signal,
    onProgress: (e) => {
      events.push(e);
      if (e.waitingFor) setTimeout(() => controller.abort(), 600);
    },
  });
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof HubError, String(e));
    assert.equal(e.reason, 'cancelled');
    assert.match(e.message, /^Download of lens-test\/stories260K cancelled\./);
    return true;
  });
  const waits = events.filter((e) => e.waitingFor);
  assert.deepEqual(
    waits.map((e) => [e.file, e.waitingFor]),
    [['model.safetensors', { pid: 1, host: `not-${os.hostname()}` }]],
  );
  assert.equal(hub.requests.slice(first).filter((r) => r.file === WEIGHTS).length, 0, 'the weights were not fetched');
  assert.equal(fs.readFileSync(lock, 'utf8'), other, "the other host's lock is left alone");
  assert.ok(!fs.existsSync(cache.blob(w.sha256)));
});

test("another host's lock not refreshed for over a minute is stale and taken over", async () => {
  const { cacheDir, w, lock } = otherHostLock('z');
  const old = new Date(Date.now() - 120_000);
  fs.utimesSync(lock, old, old);
  const dir = await resolveHubModel(REPO, { endpoint: hub.url, cacheDir, token: null, env: {} });
  assert.ok(fs.readFileSync(path.join(dir, 'model.safetensors')).equals(w.data));
  assert.ok(!fs.existsSync(lock));
});
