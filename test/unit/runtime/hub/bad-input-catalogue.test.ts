// The Hub's bad-input catalogue: every way a Hugging Face Hub download can go wrong, asked of the runtime as the CLI
// and the extension ask it (runtime/models/source-resolver.ts → runtime/hub/) against the local Hub of
// test/helpers/hub-server.ts — what the user names (an endpoint that is not a URL, a model page URL, a revision with
// slashes), what the Hub answers (listings that lie or never finish, files that trickle, stop, arrive corrupted or
// not at all, gated repositories) and what the machine does (a full disk, a cancel). Each answers one line; cases
// that keep a partial download check that the next call resumes from it and that no partial model is ever served.
// Table format: test/helpers/bad-input-check.ts (shared with the CLI and extension catalogues).
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { openFileOnDisk, type OpenFile } from '../../../../runtime/hub/blob-download';
import { repoFolderName } from '../../../../runtime/hub/cache-layout';
import { type DownloadProgress, resolveHubModel } from '../../../../runtime/hub/download';
import { isLensError } from '../../../../runtime/errors';
import { resolveModel, type HubOptions } from '../../../../runtime/models/source-resolver';
import { catalogue, type BadInputCase, type Outcome } from '../../../helpers/bad-input-catalogue';
import { type Faults, type HubServer, repoFromFolder, startHubServer } from '../../../helpers/hub-server';
import { fixtureModel } from '../../../helpers/fixtures';

const REPO = 'lens-test/stories260K';
const GATED = 'lens-test/gated';
const BIN_ONLY = 'lens-test/bin-only';
const WEIGHTS = `${REPO}/model.safetensors`;
const made: string[] = [];
let hub: HubServer;
/** An address that refuses connections (a server that was closed). */
let dead = '';

before(async () => {
  const binOnly = tempDir();
  fs.writeFileSync(path.join(binOnly, 'config.json'), '{}');
  fs.writeFileSync(path.join(binOnly, 'vocab.txt'), '[PAD]\n');
  fs.writeFileSync(path.join(binOnly, 'tf_model.h5'), 'not really');
  const stories = repoFromFolder(REPO, fixtureModel('stories260K'));
  stories.revisions = new Set(['refs/pr/1']);
  hub = await startHubServer({
    [REPO]: stories,
    [GATED]: repoFromFolder(GATED, fixtureModel('stories260K')),
    [BIN_ONLY]: repoFromFolder(BIN_ONLY, binOnly),
  });
  hub.faults.gated.add(GATED);
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  dead = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise<void>((r) => closed.close(() => r()));
});

after(async () => {
  await hub.close();
  made.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-hub-catalogue-'));
  made.push(d);
  return d;
}

interface HubInput {
  /** What the user named (--model, attentionLens.modelPath). */
  model: string;
  /** This case's Hugging Face cache. */
  cache: string;
  /** Over the defaults: the local Hub, no token, no environment, a 5 s idle timeout. */
  options?: HubOptions;
  /** Server faults for this case (undone after it). */
  faults?: (f: Faults) => void;
  signal?: AbortSignal;
  onDownload?: (p: DownloadProgress) => void;
}

/** A case's input: `model` with a fresh cache. */
const ask =
  (model: string, extra: Omit<HubInput, 'model' | 'cache'> = {}): (() => HubInput) =>
  () => ({ model, cache: tempDir(), ...extra });

/** The cache of the last case that ran (its checks look into it), its warnings and its first request. */
let lastCache = '';
let warnings: string[] = [];
let firstRequest = 0;

async function runHub(input: HubInput): Promise<Outcome> {
  lastCache = input.cache;
  warnings = [];
  firstRequest = hub.requests.length;
  input.faults?.(hub.faults);
  try {
    await resolveModel(input.model, {
      hub: {
        endpoint: hub.url,
        cacheDir: input.cache,
        token: null,
        env: {},
        timeoutMs: 5000,
        onWarning: (w) => warnings.push(w),
        ...input.options,
      },
      signal: input.signal,
      onDownload: input.onDownload,
    });
    return { code: 0, errors: [], warnings, output: '', raw: '' };
  } catch (e) {
    if (isLensError(e)) return { code: 2, errors: e.message.split('\n'), warnings, output: '', raw: e.message };
    return { code: 1, errors: [String(e)], warnings, output: '', raw: (e as Error).stack ?? String(e) };
  } finally {
    resetFaults();
  }
}

function resetFaults(): void {
  const f = hub.faults;
  f.missing.clear();
  f.corrupt.clear();
  f.closeAfter.clear();
  f.listing.clear();
  f.stallListing.clear();
  f.noRange = false;
  f.slow = undefined;
  f.cdnRedirect = false;
}

// ----- what a case leaves behind -----------------------------------------------------------------------------

const weights = () => hub.repos.get(REPO)!.files.get('model.safetensors')!;
const root = (cache: string, repo = REPO) => path.join(cache, repoFolderName(repo));
const partial = (cache: string) => path.join(root(cache), 'blobs', `${weights().sha256}.incomplete`);

/** No usable model: nothing in the snapshot, no ref; blobs/ holds at most .incomplete files. */
function assertNoModel(cache = lastCache, repo = REPO): void {
  assert.ok(!fs.existsSync(path.join(root(cache, repo), 'snapshots')), 'a partial model was put in the snapshot');
  assert.ok(!fs.existsSync(path.join(root(cache, repo), 'refs')), 'a ref was written for an incomplete model');
}

/** Nothing written at all (the case failed before any download). */
function assertNothingWritten(cache = lastCache): void {
  assert.deepEqual(fs.readdirSync(cache), [], 'nothing was written into the cache');
}

/** The weights' partial download is kept, with `bytes` (when given) or some bytes short of the whole. */
function keptPartial(bytes?: number): number {
  const kept = fs.statSync(partial(lastCache)).size;
  if (bytes !== undefined) assert.equal(kept, bytes);
  else assert.ok(kept > 0 && kept < weights().size, `kept ${kept}`);
  return kept;
}

/** Resolves again and checks it resumed from the partial file: one Range request sending only the rest. */
async function resumes(kept = keptPartial()): Promise<void> {
  const cache = lastCache;
  const count = hub.requests.length;
  const dir = await resolveHubModel(REPO, { endpoint: hub.url, cacheDir: cache, token: null, env: {} });
  const got = hub.requests.slice(count).filter((r) => r.file === WEIGHTS);
  assert.equal(got.length, 1);
  assert.equal(got[0].range, `bytes=${kept}-`);
  assert.equal(got[0].status, 206);
  assert.equal(got[0].bytes, weights().size - kept, 'only the missing bytes were sent');
  assert.ok(fs.readFileSync(path.join(dir, 'model.safetensors')).equals(weights().data));
  assert.ok(!fs.existsSync(partial(cache)));
}

/** A listing change that gives the weights `size` (and an LFS entry `lfs`). */
const weightsListing =
  (change: (sibling: Record<string, unknown>) => void) =>
  (f: Faults): void => {
    f.listing.set(REPO, (l) => change(l.siblings.find((s) => s.rfilename === 'model.safetensors')!));
  };
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** A Hub on another machine over plain http (hub.test), reached at the local server: names only, no real network. */
const PLAIN_HOST = 'http://hub.test:8080';
const viaPlainHost: typeof fetch = (input, init) =>
  fetch(String(input).replace(PLAIN_HOST, hub.url), init as RequestInit);

const cases: BadInputCase<HubInput>[] = [
  // ----- where the Hub is
  {
    name: 'HF_ENDPOINT that is not a URL',
    input: ask(REPO, { options: { endpoint: undefined, env: { HF_ENDPOINT: 'not a url' } } }),
    expect:
      /^The Hub endpoint "not a url" \(HF_ENDPOINT\) is not a web address: set it to the Hub's address, e\.g\. https:\/\/huggingface\.co/,
    check: () => assertNothingWritten(),
  },
  {
    name: 'the endpoint setting names another protocol',
    input: ask(REPO, {
      options: { endpoint: 'ftp://mirror.example', endpointName: 'the attentionLens.hubEndpoint setting' },
    }),
    expect: /"ftp:\/\/mirror\.example" \(the attentionLens\.hubEndpoint setting\) is not an http\(s\) address/,
  },
  {
    name: 'an endpoint with a user name and password in it',
    input: ask(REPO, { options: { endpoint: 'https://me:secret@mirror.example' } }),
    expect: /holds a user name or password: give the address alone/,
    check: (o) => assert.doesNotMatch(o.errors[0], /secret/),
  },
  {
    name: 'an endpoint that refuses connections',
    input: () => ask(REPO, { options: { endpoint: dead } })(),
    expect: /^Could not reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)\. Check the connection or the endpoint/,
  },

  // ----- what the user names
  {
    name: 'a model page URL is taken as its id (a missing one says so, not "folder does not exist")',
    input: ask('https://huggingface.co/lens-test/nope'),
    expect: /^No model lens-test\/nope on http:\/\/127\.0\.0\.1:\d+ \(HTTP 404\)/,
  },
  {
    name: 'a model page’s /tree/REVISION URL names the revision',
    input: ask('https://huggingface.co/lens-test/stories260K/tree/v9'),
    expect: /lens-test\/stories260K has no revision "v9" \(HTTP 404\)/,
  },
  {
    name: 'a dataset’s URL',
    input: ask('https://huggingface.co/datasets/lens-test/stories'),
    expect: /is not a Hugging Face model id: that is a dataset, not a model/,
  },
  {
    name: 'another site’s URL',
    input: ask('https://example.com/lens-test/stories260K'),
    expect: /that is a URL; type the model id owner\/name instead/,
  },
  {
    name: 'owner/name@refs/pr/N is a revision, not a path',
    input: ask(`${REPO}@refs/pr/9`),
    expect: /lens-test\/stories260K has no revision "refs\/pr\/9" \(HTTP 404\)/,
  },
  {
    name: 'an unknown repository',
    input: ask('lens-test/nope'),
    expect:
      /^There is no folder .*lens-test\/nope, and no model lens-test\/nope on http:\/\/127\.0\.0\.1:\d+ \(HTTP 404\)/,
  },
  {
    name: 'an unknown revision',
    input: ask(`${REPO}@v9`),
    expect: /has no revision "v9" \(HTTP 404\); check the branch, tag or commit/,
  },
  {
    name: 'offline, and not in the cache',
    input: ask(REPO, { options: { env: { HF_HUB_OFFLINE: '1' } } }),
    expect: /cannot be used offline: it is not in the Hugging Face cache .*unset HF_HUB_OFFLINE/,
    check: () => assertNothingWritten(),
  },

  // ----- what the Hub answers: the listing
  {
    name: 'a listing with a negative size and the empty file’s sha256',
    input: ask(REPO, {
      faults: weightsListing((s) => {
        s.size = -1;
        s.lfs = { sha256: EMPTY_SHA256, size: -1, pointerSize: 134 };
      }),
    }),
    expect:
      /The Hub listing of lens-test\/stories260K gives model\.safetensors the size -1, not a whole number of bytes/,
    check: () => assertNothingWritten(),
  },
  {
    name: 'a listing with a fractional size',
    input: ask(REPO, {
      faults: weightsListing((s) => {
        s.size = 1044992.5;
        (s.lfs as { size: number }).size = 1044992.5;
      }),
    }),
    expect: /gives model\.safetensors the size 1044992\.5, not a whole number of bytes/,
  },
  {
    name: 'a listing whose LFS size and file size differ',
    input: ask(REPO, { faults: weightsListing((s) => (s.size = 12)) }),
    expect: /gives model\.safetensors the size 12 and 1044992/,
  },
  {
    name: 'a listing whose sha256 is not a hash',
    input: ask(REPO, { faults: weightsListing((s) => ((s.lfs as { sha256: string }).sha256 = '../../etc/passwd')) }),
    expect: /gives model\.safetensors the sha256 "\.\.\/\.\.\/etc\/passwd", which is not 64 hexadecimal digits/,
    check: () => assertNothingWritten(),
  },
  {
    name: 'a listing without sizes (not ?blobs=true)',
    input: ask(REPO, { faults: weightsListing((s) => (delete s.size, delete s.lfs, delete s.blobId)) }),
    expect: /gives no size or hash for model\.safetensors; the endpoint may not be a Hub/,
  },
  {
    name: 'a listing that is not the Hub API',
    input: ask(REPO, { faults: (f) => f.listing.set(REPO, (l) => delete l.sha) }),
    expect: /did not answer like the Hugging Face Hub API for lens-test\/stories260K/,
  },
  {
    name: 'a listing that never finishes',
    input: ask(REPO, { options: { timeoutMs: 1000 }, faults: (f) => f.stallListing.add(REPO) }),
    expect: /while listing the files of lens-test\/stories260K \(no complete answer in 1 s\)/,
    check: (o) => assert.doesNotMatch(o.errors[0], /aborted/),
  },
  {
    name: 'a repository without safetensors, PyTorch or ONNX weights',
    input: ask(BIN_ONLY),
    expect: /no safetensors weights nor pytorch_model\.bin \(only tf_model\.h5\)/,
  },

  // ----- what the Hub answers: the files
  {
    name: 'a server that trickles a byte now and then reaches the file’s deadline, with the figures',
    input: ask(REPO, {
      options: { timeoutMs: 2000, minBytesPerSecond: 1e6 },
      faults: (f) => (f.slow = { bytes: 1, delayMs: 200 }),
    }),
    expect:
      /while downloading config\.json \(.* kept: run again to resume\) \(slower than the minimum of 1 MB\/s: not complete after 2 s\)/,
    timeoutMs: 15_000,
    check: () => assertNoModel(),
  },
  {
    name: 'a stalled transfer ends after the idle timeout, keeping what arrived',
    input: ask(REPO, {
      options: { timeoutMs: 2000 },
      // The first 128 KB arrive, then nothing for far longer than the timeout (the server stops when the client leaves).
      faults: (f) => (f.slow = { bytes: 128 * 1024, delayMs: 60_000 }),
    }),
    expect: /while downloading model\.safetensors .*\(no data for 2 s\)/,
    check: async () => {
      assertNoModel();
      await resumes(keptPartial(128 * 1024));
    },
  },
  {
    name: 'the server closes mid-file: the partial is kept and the next call resumes it with Range',
    input: ask(REPO, { faults: (f) => f.closeAfter.set(WEIGHTS, 300_000) }),
    expect: /while downloading model\.safetensors \(0\.3 of 1\.0 MB kept: run again to resume\)/,
    check: async () => {
      assertNoModel();
      await resumes(keptPartial(300_000));
    },
  },
  {
    name: 'a file cut one byte short never reads as complete ("1.0 of 1.0 MB")',
    input: ask(REPO, { faults: (f) => f.closeAfter.set(WEIGHTS, weights().size - 1) }),
    expect: /model\.safetensors \(1,044,991 of 1,044,992 bytes kept: run again to resume\)/,
    check: async () => {
      assertNoModel();
      await resumes(keptPartial(weights().size - 1));
    },
  },
  {
    name: 'a server that ignores Range after a cut: the re-run gets the whole file, and it is right',
    input: ask(REPO, { faults: (f) => f.closeAfter.set(WEIGHTS, 200_000) }),
    expect: /kept: run again to resume/,
    check: async () => {
      hub.faults.noRange = true;
      try {
        const count = hub.requests.length;
        const dir = await resolveHubModel(REPO, { endpoint: hub.url, cacheDir: lastCache, token: null, env: {} });
        assert.equal(hub.requests.slice(count).find((r) => r.file === WEIGHTS)?.status, 200);
        assert.ok(fs.readFileSync(path.join(dir, 'model.safetensors')).equals(weights().data));
      } finally {
        hub.faults.noRange = false;
      }
    },
  },
  {
    name: 'corrupted weights: checksum error, nothing kept, the re-run downloads afresh',
    input: ask(REPO, { faults: (f) => f.corrupt.add(WEIGHTS) }),
    expect:
      /model\.safetensors of lens-test\/stories260K arrived corrupted \(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\).*deleted.*Run again/,
    check: async () => {
      assertNoModel();
      assert.ok(!fs.existsSync(partial(lastCache)));
      assert.ok(!fs.existsSync(path.join(root(lastCache), 'blobs', weights().sha256)));
      const dir = await resolveHubModel(REPO, { endpoint: hub.url, cacheDir: lastCache, token: null, env: {} });
      assert.ok(fs.readFileSync(path.join(dir, 'model.safetensors')).equals(weights().data));
    },
  },
  {
    name: 'a corrupted small file is checked against its git blob sha1',
    input: ask(REPO, { faults: (f) => f.corrupt.add(`${REPO}/config.json`) }),
    expect: /config\.json of lens-test\/stories260K arrived corrupted \(git sha1 /,
    check: () => assertNoModel(),
  },
  {
    name: 'a listed file the server does not have (404)',
    input: ask(REPO, { faults: (f) => f.missing.add(`${REPO}/tokenizer.json`) }),
    expect: /has no file tokenizer\.json at main \(HTTP 404\)/,
    check: () => assertNoModel(),
  },
  {
    name: 'a full disk: says how much space is needed, keeps the partial, the re-run resumes',
    input: () => {
      let writes = 0;
      const fullDisk: OpenFile = async (file, mode) => {
        const w = await openFileOnDisk(file, mode);
        if (!file.includes(weights().sha256)) return w;
        return {
          async write(data) {
            if (++writes > 1)
              throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
            await w.write(data);
          },
          close: () => w.close(),
        };
      };
      // Small pieces, so the file arrives in several chunks and the second write fails.
      return ask(REPO, {
        options: { openFile: fullDisk },
        faults: (f) => (f.slow = { bytes: 64 * 1024, delayMs: 5 }),
      })();
    },
    expect: /Disk full while downloading model\.safetensors into .*: \d+\.\d MB more free space is needed.*run again/,
    check: async (o) => {
      const kept = keptPartial();
      assert.equal(o.errors[0].match(/(\d+\.\d) MB more/)![1], ((weights().size - kept) / 1e6).toFixed(1));
      assertNoModel();
      await resumes(kept);
    },
  },
  {
    name: 'cancelled mid-file: CANCELLED, the partial is kept, the next call resumes',
    input: () => {
      const controller = new AbortController();
      return ask(REPO, {
        signal: controller.signal,
        onDownload: (p) => {
          if (p.file === 'model.safetensors') controller.abort();
        },
        faults: (f) => (f.slow = { bytes: 64 * 1024, delayMs: 20 }),
      })();
    },
    expect: /cancelled\. The partial download is kept: run it again to resume/,
    check: async () => {
      assertNoModel();
      await resumes();
    },
  },

  // ----- the token
  {
    name: 'a gated repository without a token says how to set one',
    input: ask(GATED),
    expect:
      /accepting its terms.*then set a token of that account with the command "Attention Lens: Set Hugging Face Token" \(or the HF_TOKEN environment variable for the CLI\)\.$/,
  },
  {
    name: 'a refused token is said so, and never shown',
    input: ask(GATED, { options: { token: 'hf_wrongTOKEN_4242424242' } }),
    expect: /the token given was refused/,
    check: (o) => assert.doesNotMatch(o.raw, /hf_wrongTOKEN/),
  },
  {
    name: 'HF_TOKEN is never sent over plain http to another machine',
    // With the server's own token: were it sent, the download would succeed.
    input: () =>
      ask(GATED, {
        options: { endpoint: PLAIN_HOST, token: undefined, env: { HF_TOKEN: hub.token }, fetchImpl: viaPlainHost },
      })(),
    expect:
      /HF_TOKEN was not sent to http:\/\/hub\.test:8080: a token goes only over https \(or plain http to this machine\)/,
    check: () => {
      const mine = hub.requests.slice(firstRequest);
      assert.ok(mine.length > 0, 'the Hub was asked');
      assert.ok(
        mine.every((r) => r.authorization === undefined),
        'no request carried the token',
      );
      assert.deepEqual(warnings, [
        "HF_TOKEN was not sent to http://hub.test:8080: a token goes only over https (or plain http to this machine); use the endpoint's https address.",
      ]);
    },
  },
];

catalogue('Hub', cases, runHub);
