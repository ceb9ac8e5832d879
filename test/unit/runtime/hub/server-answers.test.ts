// What a Hub-shaped server may answer that the downloader must word or survive (runtime/hub/blob-download.ts,
// file-selection.ts), against the local Hub of test/helpers/hub-server.ts: a file whose size is not the one its own
// listing gives (said in one line, at once, not "run again to resume" forever), a resume answered with the whole
// file (given the whole file's time), and a repository of GGUF files (how to use one).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveHubModel } from '../../../../runtime/hub/download';
import { RepoCache } from '../../../../runtime/hub/cache-layout';
import { HubError } from '../../../../runtime/hub/hub-errors';
import { type HubServer, repoFromFolder, startHubServer } from '../../../helpers/hub-server';
import { fixtureModel } from '../../../helpers/fixtures';

const REPO = 'lens-test/stories260K';
const GGUF = 'lens-test/gguf';
const WEIGHTS = `${REPO}/model.safetensors`;
const made: string[] = [];
let hub: HubServer;

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-hub-answers-'));
  made.push(d);
  return d;
}

before(async () => {
  const gguf = tempDir();
  fs.writeFileSync(path.join(gguf, 'model-Q4_K_M.gguf'), 'GGUF not really');
  fs.writeFileSync(path.join(gguf, 'model-Q8_0.gguf'), 'GGUF not really either');
  fs.writeFileSync(path.join(gguf, 'README.md'), '# a GGUF repository\n');
  hub = await startHubServer({
    [REPO]: repoFromFolder(REPO, fixtureModel('stories260K')),
    [GGUF]: repoFromFolder(GGUF, gguf),
  });
});

after(async () => {
  await hub.close();
  made.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
});

const weights = () => hub.repos.get(REPO)!.files.get('model.safetensors')!;
const opts = (cacheDir: string, extra: Parameters<typeof resolveHubModel>[1] = {}) => ({
  endpoint: hub.url,
  cacheDir,
  token: null,
  env: {},
  ...extra,
});

/** Lists the weights with `size` bytes (the server still sends the real file). */
function listWeightsAs(size: number): void {
  hub.faults.listing.set(REPO, (l) => {
    const s = l.siblings.find((x) => x.rfilename === 'model.safetensors')!;
    s.size = size;
    (s.lfs as { size: number }).size = size;
  });
}

test('a listing that gives a file more bytes than the server sends: one line, said at once and on every run', async () => {
  const w = weights();
  const listed = w.size + 16_384;
  const cacheDir = tempDir();
  const cache = new RepoCache(cacheDir, REPO);
  listWeightsAs(listed);
  const expected =
    `${hub.url} serves model.safetensors of ${REPO} as ${w.size.toLocaleString('en-US')} bytes while its listing ` +
    `says ${listed.toLocaleString('en-US')}: the endpoint is inconsistent, so the file cannot be verified. Try again ` +
    `later, or use another endpoint (attentionLens.hubEndpoint / HF_ENDPOINT).`;
  const fails = async () => {
    const first = hub.requests.length;
    await assert.rejects(resolveHubModel(REPO, opts(cacheDir)), (e: unknown) => {
      assert.ok(e instanceof HubError, String(e));
      assert.equal(e.reason, 'bad-response');
      assert.equal(e.message, expected);
      assert.doesNotMatch(e.message, /run again to resume/);
      return true;
    });
    return hub.requests.slice(first).filter((r) => r.file === WEIGHTS);
  };
  try {
    const got = await fails();
    assert.deepEqual(
      got.map((r) => r.status),
      [200],
    );
    assert.equal(fs.existsSync(cache.incomplete(w.sha256)), false, 'nothing written');
    assert.equal(fs.existsSync(cache.blob(w.sha256)), false);
    // A partial of the server's whole file (what a run before this check left): asked past its end, the server
    // answers 416 with its size, and the same line comes back, with no full download each run.
    fs.writeFileSync(cache.incomplete(w.sha256), w.data);
    const again = await fails();
    assert.deepEqual(
      again.map((r) => [r.status, r.range]),
      [[416, `bytes=${w.size}-`]],
    );
    assert.equal(fs.statSync(cache.incomplete(w.sha256)).size, w.size, 'the partial is left as it was');
  } finally {
    hub.faults.listing.clear();
  }
});

test('a listing that gives a file fewer bytes than the server sends: the same line before any byte is written', async () => {
  const w = weights();
  const cacheDir = tempDir();
  listWeightsAs(w.size - 100);
  try {
    await assert.rejects(resolveHubModel(REPO, opts(cacheDir)), (e: unknown) => {
      assert.ok(e instanceof HubError, String(e));
      assert.match(
        e.message,
        /serves model\.safetensors of lens-test\/stories260K as 1,044,992 bytes while its listing says 1,044,892: the endpoint is inconsistent/,
      );
      return true;
    });
  } finally {
    hub.faults.listing.clear();
  }
  assert.equal(fs.existsSync(new RepoCache(cacheDir, REPO).incomplete(w.sha256)), false, 'nothing written');
});

test('a resume answered with the whole file has the whole file’s time: above the minimum rate it arrives', async () => {
  const w = weights();
  const cacheDir = tempDir();
  const cache = new RepoCache(cacheDir, REPO);
  fs.mkdirSync(path.dirname(cache.blob(w.sha256)), { recursive: true });
  fs.writeFileSync(cache.incomplete(w.sha256), w.data.subarray(0, 900_000));
  // At least 1 MB/s is asked. The rest (144,992 bytes) would have 0.5 + 0.145 s; the whole file comes in 8 pieces of
  // 128 KB 100 ms apart (at least 0.7 s, about 1.5 MB/s), within its 0.5 + 1.045 s.
  hub.faults.noRange = true;
  hub.faults.slow = { bytes: 128 * 1024, delayMs: 100 };
  const first = hub.requests.length;
  try {
    const dir = await resolveHubModel(REPO, opts(cacheDir, { timeoutMs: 500, minBytesPerSecond: 1e6 }));
    assert.ok(fs.readFileSync(path.join(dir, 'model.safetensors')).equals(w.data));
  } finally {
    hub.faults.noRange = false;
    hub.faults.slow = undefined;
  }
  const got = hub.requests.slice(first).filter((r) => r.file === WEIGHTS);
  assert.deepEqual(
    got.map((r) => [r.status, r.range, r.bytes]),
    [[200, 'bytes=900000-', w.size]],
  );
});

test('a repository of GGUF files says how to use one', async () => {
  const cacheDir = tempDir();
  const first = hub.requests.length;
  await assert.rejects(resolveHubModel(GGUF, opts(cacheDir)), (e: unknown) => {
    assert.ok(e instanceof HubError, String(e));
    assert.equal(
      e.message,
      'lens-test/gguf holds GGUF files (model-Q4_K_M.gguf, model-Q8_0.gguf), not a Transformers model, and a GGUF ' +
        'file is opened from disk: download one (`hf download lens-test/gguf model-Q4_K_M.gguf --local-dir .`) and ' +
        'give its path as the model, or get it with Ollama (`ollama pull hf.co/lens-test/gguf`, then ' +
        'ollama:hf.co/lens-test/gguf) or LM Studio (its models are found on this machine).',
    );
    assert.doesNotMatch(e.message, /no config\.json/);
    return true;
  });
  assert.equal(hub.requests.slice(first).filter((r) => r.file !== undefined).length, 0, 'nothing downloaded');
});
