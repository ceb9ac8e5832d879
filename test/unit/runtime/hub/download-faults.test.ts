// Tests for runtime/hub/download.ts when things go wrong, against test/helpers/hub-server.ts: a connection closed
// mid-file then a resumed download (Range, only the missing bytes sent), a server that ignores Range, corrupted
// bytes (checksum error, nothing kept), a missing file (404), a full disk (a write error injected through the
// openFile option), a cancelled download (partial kept, next call resumes) and a stalled server (idle timeout).
// In every case the snapshot never shows a partial model.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type OpenFile, resolveHubModel } from '../../../../runtime/hub/download';
import { openFileOnDisk } from '../../../../runtime/hub/blob-download';
import { HubError } from '../../../../runtime/hub/hub-errors';
import { repoFolderName } from '../../../../runtime/hub/cache-layout';
import { isLensError } from '../../../../runtime/errors';
import { type HubServer, repoFromFolder, startHubServer } from '../../../helpers/hub-server';
import { fixtureModel } from '../../../helpers/fixtures';

const REPO = 'lens-test/stories260K';
const WEIGHTS = `${REPO}/model.safetensors`;
const made: string[] = [];
let hub: HubServer;

before(async () => {
  hub = await startHubServer({ [REPO]: repoFromFolder(REPO, fixtureModel('stories260K')) });
});

after(async () => {
  await hub.close();
  made.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
});

function tempCache(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-hub-faults-'));
  made.push(d);
  return d;
}

function opts(cacheDir: string, extra: Parameters<typeof resolveHubModel>[1] = {}) {
  return { endpoint: hub.url, cacheDir, token: null, env: {}, ...extra };
}

const weights = () => hub.repos.get(REPO)!.files.get('model.safetensors')!;
const root = (cache: string) => path.join(cache, repoFolderName(REPO));
const partial = (cache: string) => path.join(root(cache), 'blobs', `${weights().sha256}.incomplete`);
const snapshotWeights = (cache: string) =>
  path.join(root(cache), 'snapshots', hub.repos.get(REPO)!.commit, 'model.safetensors');

async function rejectsWith(p: Promise<unknown>, reason: string, code: string, pattern: RegExp): Promise<HubError> {
  let caught: unknown;
  await assert.rejects(p, (e: unknown) => {
    caught = e;
    return true;
  });
  assert.ok(isLensError(caught) && caught instanceof HubError, `expected a HubError, got ${String(caught)}`);
  assert.equal(caught.reason, reason, caught.message);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, pattern);
  return caught;
}

/** The model is not usable: no weights in the snapshot, no ref written. */
function assertNoModel(cache: string): void {
  assert.ok(!fs.existsSync(snapshotWeights(cache)), 'a partial model was put in the snapshot');
  assert.ok(!fs.existsSync(path.join(root(cache), 'refs', 'main')), 'refs/main written for an incomplete model');
}

/** Resolves again and checks it resumed from the partial file: one Range request sending only the rest. */
async function resumesFrom(cache: string, kept: number): Promise<void> {
  const count = hub.requests.length;
  const dir = await resolveHubModel(REPO, opts(cache));
  const got = hub.requests.slice(count).filter((r) => r.file === WEIGHTS);
  assert.equal(got.length, 1);
  assert.equal(got[0].range, `bytes=${kept}-`);
  assert.equal(got[0].status, 206);
  assert.equal(got[0].bytes, weights().size - kept, 'only the missing bytes were sent');
  assert.ok(fs.readFileSync(path.join(dir, 'model.safetensors')).equals(weights().data));
  assert.ok(!fs.existsSync(partial(cache)));
}

test('server closes mid-file: partial kept, the message says to re-run, the re-run resumes with Range', async () => {
  const cache = tempCache();
  hub.faults.closeAfter.set(WEIGHTS, 300_000);
  await rejectsWith(
    resolveHubModel(REPO, opts(cache)),
    'network',
    'DOWNLOAD_FAILED',
    /model\.safetensors .* kept: run again to resume/,
  );
  assertNoModel(cache);
  const kept = fs.statSync(partial(cache)).size;
  assert.ok(kept > 0 && kept <= 300_000, `kept ${kept}`);
  await resumesFrom(cache, kept);
});

test('a server that ignores Range sends the whole file again, and the result is still right', async () => {
  const cache = tempCache();
  hub.faults.closeAfter.set(WEIGHTS, 200_000);
  await assert.rejects(resolveHubModel(REPO, opts(cache)));
  hub.faults.noRange = true;
  try {
    const count = hub.requests.length;
    const dir = await resolveHubModel(REPO, opts(cache));
    const got = hub.requests.slice(count).filter((r) => r.file === WEIGHTS);
    assert.equal(got[0].status, 200);
    assert.ok(fs.readFileSync(path.join(dir, 'model.safetensors')).equals(weights().data));
  } finally {
    hub.faults.noRange = false;
  }
});

test('wrong checksum: error, nothing kept, the re-run downloads afresh', async () => {
  const cache = tempCache();
  hub.faults.corrupt.add(WEIGHTS);
  try {
    await rejectsWith(
      resolveHubModel(REPO, opts(cache)),
      'checksum',
      'CORRUPT_WEIGHTS',
      /model\.safetensors of lens-test\/stories260K arrived corrupted \(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\).*deleted.*Run again/,
    );
  } finally {
    hub.faults.corrupt.delete(WEIGHTS);
  }
  assertNoModel(cache);
  assert.ok(!fs.existsSync(partial(cache)));
  assert.ok(!fs.existsSync(path.join(root(cache), 'blobs', weights().sha256)));
  const dir = await resolveHubModel(REPO, opts(cache));
  assert.ok(fs.readFileSync(path.join(dir, 'model.safetensors')).equals(weights().data));
  // Non-LFS files are checked against their git blob sha1.
  const fresh = tempCache();
  hub.faults.corrupt.add(`${REPO}/config.json`);
  try {
    await rejectsWith(resolveHubModel(REPO, opts(fresh)), 'checksum', 'CORRUPT_WEIGHTS', /config\.json .*git sha1/);
  } finally {
    hub.faults.corrupt.delete(`${REPO}/config.json`);
  }
  assert.ok(!fs.existsSync(path.join(root(fresh), 'snapshots')));
});

test('404 on a listed file names the file; nothing is put in the snapshot', async () => {
  const cache = tempCache();
  hub.faults.missing.add(`${REPO}/tokenizer.json`);
  try {
    await rejectsWith(
      resolveHubModel(REPO, opts(cache)),
      'not-found',
      'MODEL_NOT_FOUND',
      /has no file tokenizer\.json at main \(HTTP 404\)/,
    );
  } finally {
    hub.faults.missing.delete(`${REPO}/tokenizer.json`);
  }
  assertNoModel(cache);
});

test('disk full (write error): says how much space is needed, keeps the partial, the re-run resumes', async () => {
  const cache = tempCache();
  let written = 0;
  let writes = 0;
  const fullDisk: OpenFile = async (file, mode) => {
    const w = await openFileOnDisk(file, mode);
    if (!file.includes(weights().sha256)) return w;
    return {
      async write(data) {
        if (++writes > 1) {
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        }
        written += data.length;
        await w.write(data);
      },
      close: () => w.close(),
    };
  };
  // Small pieces, so the file arrives in several chunks and the second write fails.
  hub.faults.slow = { bytes: 64 * 1024, delayMs: 5 };
  const e = await rejectsWith(
    resolveHubModel(REPO, opts(cache, { openFile: fullDisk })),
    'disk-full',
    'DOWNLOAD_FAILED',
    /Disk full while downloading model\.safetensors into .*: (\d+\.\d) MB more free space is needed.*run again/,
  );
  hub.faults.slow = undefined;
  const kept = fs.statSync(partial(cache)).size;
  assert.ok(kept > 0 && kept === written, `kept ${kept}, written ${written}`);
  assert.equal(e.message.match(/(\d+\.\d) MB more/)![1], ((weights().size - kept) / 1e6).toFixed(1));
  assertNoModel(cache);
  await resumesFrom(cache, kept);
});

test('cancelled mid-file: CANCELLED, partial kept, the next call resumes', async () => {
  const cache = tempCache();
  const controller = new AbortController();
  hub.faults.slow = { bytes: 64 * 1024, delayMs: 20 };
  try {
    await rejectsWith(
      resolveHubModel(
        REPO,
        opts(cache, {
          signal: controller.signal,
          onProgress: (p) => {
            if (p.file === 'model.safetensors') controller.abort();
          },
        }),
      ),
      'cancelled',
      'CANCELLED',
      /cancelled\. The partial download is kept: run it again to resume/,
    );
  } finally {
    hub.faults.slow = undefined;
  }
  assertNoModel(cache);
  const kept = fs.statSync(partial(cache)).size;
  assert.ok(kept > 0 && kept < weights().size, `kept ${kept}`);
  await resumesFrom(cache, kept);
  // Already aborted: nothing is asked for.
  const count = hub.requests.length;
  await rejectsWith(
    resolveHubModel(REPO, opts(tempCache(), { signal: AbortSignal.abort() })),
    'cancelled',
    'CANCELLED',
    /cancelled/,
  );
  assert.equal(hub.requests.length, count);
});

test('a stalled transfer ends with a network error after the idle timeout, keeping what arrived', async () => {
  const cache = tempCache();
  // The first 128 KB arrive, then nothing for far longer than the timeout (the server stops when the client leaves).
  hub.faults.slow = { bytes: 128 * 1024, delayMs: 60_000 };
  try {
    await rejectsWith(
      resolveHubModel(REPO, opts(cache, { timeoutMs: 2000 })),
      'network',
      'DOWNLOAD_FAILED',
      /no data for 2 s/,
    );
  } finally {
    hub.faults.slow = undefined;
  }
  assertNoModel(cache);
  const kept = fs.statSync(partial(cache)).size;
  await resumesFrom(cache, kept);
});
