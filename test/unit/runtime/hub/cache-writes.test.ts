// Writes to the cache besides the blobs (runtime/hub/cache-layout.ts: refs, snapshot links) that the file system
// refuses end in one line, never a bare EEXIST / EISDIR / ENAMETOOLONG / EACCES / ENOTDIR: a ref that cannot be
// written is a warning and the model is used (as huggingface_hub does), a snapshot that cannot be made is a
// HubError naming the folder and what to do. A revision near the id check's 256 characters is recorded. The read-only
// cases run the download in a process of another user when the tests run as root (root ignores permissions).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveHubModel } from '../../../../runtime/hub/download';
import { RepoCache } from '../../../../runtime/hub/cache-layout';
import { HubError } from '../../../../runtime/hub/hub-errors';
import { type HubServer, repoFromFolder, startHubServer } from '../../../helpers/hub-server';
import { fixtureModel, repoRoot } from '../../../helpers/fixtures';

const REPO = 'lens-test/stories260K';
const LONG = `v${'x'.repeat(244)}`;
const LONGEST = `v${'y'.repeat(255)}`;
const CHILD = path.join(repoRoot, 'test/unit/runtime/hub/resolve-child.ts');
const IS_ROOT = process.getuid?.() === 0;
const execFileAsync = promisify(execFile);
const made: string[] = [];
let hub: HubServer;
let commit = '';

before(async () => {
  const repo = repoFromFolder(REPO, fixtureModel('stories260K'));
  repo.revisions = new Set(['v1', 'v1/x', 'v2', 'v2/x', LONG, LONGEST]);
  commit = repo.commit;
  hub = await startHubServer({ [REPO]: repo });
});

after(async () => {
  await hub.close();
  made.forEach((d) => {
    spawnSync('chmod', ['-R', 'u+w', d]);
    fs.rmSync(d, { recursive: true, force: true });
  });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-hub-cache-writes-'));
  fs.chmodSync(d, 0o755);
  made.push(d);
  return d;
}

async function download(cacheDir: string, model: string): Promise<{ dir: string; warnings: string[] }> {
  const warnings: string[] = [];
  const dir = await resolveHubModel(model, {
    endpoint: hub.url,
    cacheDir,
    token: null,
    env: {},
    onWarning: (w) => warnings.push(w),
  });
  return { dir, warnings };
}

function assertOneLine(s: string): void {
  assert.doesNotMatch(s, /\n/);
  assert.doesNotMatch(s, /internal error|\s+at .*:\d+:\d+/);
}

test('revision v1 then v1/x: the second is used, with a warning that its ref cannot be written', async () => {
  const cacheDir = tempDir();
  const cache = new RepoCache(cacheDir, REPO);
  const first = await download(cacheDir, `${REPO}@v1`);
  assert.deepEqual(first.warnings, []);
  const second = await download(cacheDir, `${REPO}@v1/x`);
  assert.equal(second.dir, cache.snapshot(commit));
  assert.equal(second.warnings.length, 1, second.warnings.join('\n'));
  assertOneLine(second.warnings[0]);
  assert.match(
    second.warnings[0],
    new RegExp(
      `^The cache cannot record that revision "v1/x" of ${REPO} is commit ${commit} \\((EEXIST|ENOTDIR): ` +
        `${escape(cache.ref('v1'))} is a file where a folder is needed\\. Move it away, or set HF_HUB_CACHE to another ` +
        `folder\\); the model is used, but offline \\(HF_HUB_OFFLINE=1\\) name it by its commit: ${REPO}@${commit}\\.$`,
    ),
  );
  assert.equal(fs.readFileSync(cache.ref('v1'), 'utf8'), commit, 'refs/v1 as it was');
});

test('revision v2/x then v2: the second is used, with a warning that refs/v2 is a folder', async () => {
  const cacheDir = tempDir();
  const cache = new RepoCache(cacheDir, REPO);
  await download(cacheDir, `${REPO}@v2/x`);
  const second = await download(cacheDir, `${REPO}@v2`);
  assert.equal(second.dir, cache.snapshot(commit));
  assert.equal(second.warnings.length, 1, second.warnings.join('\n'));
  assertOneLine(second.warnings[0]);
  assert.match(
    second.warnings[0],
    new RegExp(`\\(EISDIR: ${escape(cache.ref('v2'))} is a folder where a file is needed\\. Move it away`),
  );
  assert.equal(fs.readFileSync(cache.ref('v2/x'), 'utf8'), commit);
  assert.deepEqual(fs.readdirSync(path.join(cache.root, 'refs')), ['v2'], 'no temporary left in refs/');
  assert.deepEqual(fs.readdirSync(cache.ref('v2')), ['x']);
});

test('a revision of 245 characters is recorded (the temporary name leaves room)', async () => {
  const cacheDir = tempDir();
  const cache = new RepoCache(cacheDir, REPO);
  const { warnings } = await download(cacheDir, `${REPO}@${LONG}`);
  assert.deepEqual(warnings, []);
  assert.equal(fs.readFileSync(cache.ref(LONG), 'utf8'), commit);
  assert.deepEqual(fs.readdirSync(path.dirname(cache.ref(LONG))), [LONG]);
});

test('a revision of 256 characters (too long a file name) is a warning, and the model is used', async () => {
  const cacheDir = tempDir();
  const { dir, warnings } = await download(cacheDir, `${REPO}@${LONGEST}`);
  assert.equal(dir, new RepoCache(cacheDir, REPO).snapshot(commit));
  assert.equal(warnings.length, 1);
  assertOneLine(warnings[0]);
  assert.match(
    warnings[0],
    /\(ENAMETOOLONG: vy{255} is too long a name for this file system\. Set HF_HUB_CACHE to a folder on another file system\); the model is used/,
  );
});

test('a file where snapshots/ should be: one line naming it', async () => {
  const cacheDir = tempDir();
  const cache = new RepoCache(cacheDir, REPO);
  fs.mkdirSync(cache.root, { recursive: true });
  fs.writeFileSync(path.join(cache.root, 'snapshots'), 'in the way');
  await assert.rejects(download(cacheDir, REPO), (e: unknown) => {
    assert.ok(e instanceof HubError, String(e));
    assert.equal(e.reason, 'write-failed');
    assertOneLine(e.message);
    assert.match(
      e.message,
      new RegExp(
        `^Cannot put config\\.json into ${escape(cache.snapshot(commit))}: (ENOTDIR|EEXIST): ` +
          `${escape(path.join(cache.root, 'snapshots'))} is a file where a folder is needed\\. Move it away, or set ` +
          `HF_HUB_CACHE to another folder\\.$`,
      ),
    );
    return true;
  });
  assert.equal(fs.readFileSync(path.join(cache.root, 'snapshots'), 'utf8'), 'in the way', 'left as it was');
});

/** Resolves REPO in a child process that cannot write the cache: as nobody when root, else after chmod a-w. (Not
 * spawnSync: the local Hub answers from this process.) */
async function resolveReadOnly(cacheDir: string): Promise<Record<string, unknown>[]> {
  const home = tempDir();
  fs.chmodSync(home, 0o777);
  const { stdout } = await execFileAsync(
    process.execPath,
    ['--import', 'tsx', CHILD, JSON.stringify({ model: REPO, endpoint: hub.url, cacheDir })],
    {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, HOME: home, TMPDIR: home },
      ...(IS_ROOT ? { uid: 65534, gid: 65534 } : {}),
    },
  );
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function makeReadOnly(dir: string): void {
  if (!IS_ROOT) assert.equal(spawnSync('chmod', ['-R', 'a-w', dir]).status, 0);
}

test('a read-only cache with the model but not its ref: a warning, and the model is used', async () => {
  const cacheDir = tempDir();
  const cache = new RepoCache(cacheDir, REPO);
  await download(cacheDir, REPO);
  fs.rmSync(cache.ref('main'));
  makeReadOnly(cacheDir);
  const lines = await resolveReadOnly(cacheDir);
  const end = lines.at(-1)!;
  assert.equal(end.done, cache.snapshot(commit), JSON.stringify(end));
  const warnings = lines.filter((l) => 'warning' in l).map((l) => l.warning as string);
  assert.equal(warnings.length, 1, JSON.stringify(lines));
  assertOneLine(warnings[0]);
  assert.match(
    warnings[0],
    new RegExp(`\\((EACCES|EPERM): ${escape(path.join(cache.root, 'refs'))} is not writable\\. Make it writable`),
  );
});

test('a read-only cache with the blobs but no snapshot: one line, no stack', async () => {
  const cacheDir = tempDir();
  const cache = new RepoCache(cacheDir, REPO);
  await download(cacheDir, REPO);
  fs.rmSync(cache.snapshot(commit), { recursive: true });
  makeReadOnly(cacheDir);
  const end = (await resolveReadOnly(cacheDir)).at(-1)!;
  assert.equal(end.lens, true, JSON.stringify(end));
  assertOneLine(end.error as string);
  assert.match(
    end.error as string,
    new RegExp(
      `^Cannot put config\\.json into ${escape(cache.snapshot(commit))}: (EACCES|EPERM): ` +
        `${escape(path.join(cache.root, 'snapshots'))} is not writable\\. Make it writable, or set HF_HUB_CACHE to ` +
        `another folder\\.$`,
    ),
  );
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
