// Tests for runtime/hub/cache-layout.ts and hub-settings.ts: where the cache is (HF_HUB_CACHE, HF_HOME, XDG, home),
// huggingface_hub's folder names, refs, relative snapshot symlinks and the copy fallback; and how the endpoint,
// token and offline switch are read from options and the environment.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RepoCache, hubCacheDir, repoFolderName } from '../../../../runtime/hub/cache-layout';
import { hubEndpoint, hubOffline, hubToken } from '../../../../runtime/hub/hub-settings';

const made: string[] = [];
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-hub-layout-'));
  made.push(d);
  return d;
}

test('cache folder: HF_HUB_CACHE, then HF_HOME/hub, then XDG_CACHE_HOME, then ~/.cache', () => {
  assert.equal(hubCacheDir({ HF_HUB_CACHE: '/c/hub', HF_HOME: '/h' }), '/c/hub');
  assert.equal(hubCacheDir({ HUGGINGFACE_HUB_CACHE: '/legacy' }), '/legacy');
  assert.equal(hubCacheDir({ HF_HOME: '/h' }), path.join('/h', 'hub'));
  assert.equal(hubCacheDir({ XDG_CACHE_HOME: '/x' }), path.join('/x', 'huggingface', 'hub'));
  assert.equal(hubCacheDir({}), path.join(os.homedir(), '.cache', 'huggingface', 'hub'));
  assert.equal(hubCacheDir({ HF_HUB_CACHE: '~/hf' }), path.join(os.homedir(), 'hf'));
});

test('folder names and paths match huggingface_hub', () => {
  assert.equal(repoFolderName('openai-community/gpt2'), 'models--openai-community--gpt2');
  const c = new RepoCache('/cache', 'o/n');
  assert.equal(c.root, path.join('/cache', 'models--o--n'));
  assert.equal(c.blob('abc'), path.join(c.root, 'blobs', 'abc'));
  assert.equal(c.incomplete('abc'), path.join(c.root, 'blobs', 'abc.incomplete'));
  assert.equal(c.snapshotFile('c0', 'config.json'), path.join(c.root, 'snapshots', 'c0', 'config.json'));
  assert.equal(c.ref('refs/pr/1'), path.join(c.root, 'refs', 'refs', 'pr', '1'));
});

test('refs hold the commit without a newline; links are relative symlinks or copies', async () => {
  const c = new RepoCache(tempDir(), 'o/n');
  const commit = 'a'.repeat(40);
  assert.equal(await c.readRef('main'), undefined);
  await c.writeRef('main', commit);
  assert.equal(fs.readFileSync(c.ref('main'), 'utf8'), commit);
  assert.equal(await c.readRef('main'), commit);

  fs.mkdirSync(path.dirname(c.blob('b1')), { recursive: true });
  fs.writeFileSync(c.blob('b1'), 'hello');
  await c.link(commit, 'config.json', 'b1');
  await c.link(commit, 'sub/x.json', 'b1');
  assert.equal(fs.readlinkSync(c.snapshotFile(commit, 'config.json')), path.join('..', '..', 'blobs', 'b1'));
  assert.equal(fs.readlinkSync(c.snapshotFile(commit, 'sub/x.json')), path.join('..', '..', '..', 'blobs', 'b1'));
  assert.equal(fs.readFileSync(c.snapshotFile(commit, 'sub/x.json'), 'utf8'), 'hello');

  await c.link(commit, 'copied.json', 'b1', false);
  const st = fs.lstatSync(c.snapshotFile(commit, 'copied.json'));
  assert.ok(st.isFile() && !st.isSymbolicLink());
  // Relinking replaces the entry; no temporary names are left behind.
  await c.link(commit, 'config.json', 'b1');
  assert.deepEqual(fs.readdirSync(c.snapshot(commit)).sort(), ['config.json', 'copied.json', 'sub']);
});

test('endpoint, offline and token come from options, then the environment', () => {
  assert.equal(hubEndpoint(undefined, {}), 'https://huggingface.co');
  assert.equal(hubEndpoint(undefined, { HF_ENDPOINT: 'https://hf-mirror.com/' }), 'https://hf-mirror.com');
  assert.equal(hubEndpoint('http://127.0.0.1:9', { HF_ENDPOINT: 'https://x' }), 'http://127.0.0.1:9');

  assert.equal(hubOffline(undefined, {}), false);
  for (const v of ['1', 'true', 'ON', 'yes']) assert.equal(hubOffline(undefined, { HF_HUB_OFFLINE: v }), true);
  assert.equal(hubOffline(undefined, { HF_HUB_OFFLINE: '0' }), false);
  assert.equal(hubOffline(false, { HF_HUB_OFFLINE: '1' }), false);

  const home = tempDir();
  assert.equal(hubToken(undefined, { HF_HOME: home }), undefined);
  fs.writeFileSync(path.join(home, 'token'), 'hf_fromfile\n');
  assert.equal(hubToken(undefined, { HF_HOME: home }), 'hf_fromfile');
  assert.equal(hubToken(undefined, { HF_HOME: home, HF_TOKEN: 'hf_env' }), 'hf_env');
  assert.equal(hubToken('hf_opt', { HF_TOKEN: 'hf_env' }), 'hf_opt');
  assert.equal(hubToken(null, { HF_TOKEN: 'hf_env' }), undefined);
  assert.equal(hubToken('', { HF_TOKEN: 'hf_env' }), undefined);
});
