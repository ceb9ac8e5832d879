// Tests for runtime/hub/download.ts against the local Hub of test/helpers/hub-server.ts, serving the fixture test
// models: full downloads into a fresh cache (files byte-identical, huggingface_hub's layout), a second call that
// downloads nothing, reuse of a cache made by hand as Python makes it, offline mode, an unreachable Hub with a
// cached copy, gated models and the token (sent to the Hub only, never to a CDN, never in messages), sharded
// weights, repos without safetensors, the environment variables the downloader honours, and a model's page URL and a
// revision with slashes (refs/pr/1) resolved like the id. What fails is in bad-input-catalogue.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { type DownloadProgress, resolveHubModel } from '../../../../runtime/hub/download';
import { HubError } from '../../../../runtime/hub/hub-errors';
import { repoFolderName } from '../../../../runtime/hub/cache-layout';
import { isLensError } from '../../../../runtime/errors';
import { loadTokenizer } from '../../../../runtime/tokenizers';
import { type HubServer, repoFromFolder, startHubServer } from '../../../helpers/hub-server';
import { fixtureModel, fixturesDir, marianDatesDir, repoRoot } from '../../../helpers/fixtures';
import { openWeights } from '../../../../runtime/formats/safetensors';
import { resolveFolder } from '../../../../runtime/models/source-resolver';

const GPT2 = 'lens-test/tiny-gpt2';
const STORIES = 'lens-test/stories260K';
const SHARDED = 'lens-test/sharded';
const BIN_ONLY = 'lens-test/bin-only';
/** Shaped like the Helsinki-NLP opus-mt repositories without safetensors: PyTorch, TF and Rust weights. */
const OPUS_BIN = 'lens-test/opus-mt-dates';
const TORCH_SHARDED = 'lens-test/torch-sharded';
const GATED = 'lens-test/gated';
const CHAT = 'lens-test/chat';
/** A chat template as transformers 5 saves it, beside tokenizer_config.json. */
const CHAT_TEMPLATE = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}";
const NO_NET = { HF_HUB_OFFLINE: undefined, HF_TOKEN: undefined } as Record<string, string | undefined>;

const made: string[] = [];
let hub: HubServer;

function tempDir(prefix = 'lens-hub-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

before(async () => {
  const sharded = tempDir('lens-hub-sharded-');
  fs.copyFileSync(path.join(fixtureModel('stories260K'), 'config.json'), path.join(sharded, 'config.json'));
  fs.copyFileSync(path.join(fixtureModel('stories260K'), 'tokenizer.json'), path.join(sharded, 'tokenizer.json'));
  const weights = fs.readFileSync(path.join(fixtureModel('stories260K'), 'model.safetensors'));
  fs.writeFileSync(path.join(sharded, 'model-00001-of-00002.safetensors'), weights.subarray(0, 500_000));
  fs.writeFileSync(path.join(sharded, 'model-00002-of-00002.safetensors'), weights.subarray(500_000));
  const weightMap = {
    a: 'model-00001-of-00002.safetensors',
    b: 'model-00002-of-00002.safetensors',
    c: 'model-00001-of-00002.safetensors',
  };
  fs.writeFileSync(
    path.join(sharded, 'model.safetensors.index.json'),
    JSON.stringify({ metadata: {}, weight_map: weightMap }),
  );
  fs.writeFileSync(path.join(sharded, 'generation_config.json'), '');
  const binOnly = tempDir('lens-hub-bin-');
  fs.writeFileSync(path.join(binOnly, 'config.json'), '{}');
  fs.writeFileSync(path.join(binOnly, 'vocab.txt'), '[PAD]\n');
  fs.writeFileSync(path.join(binOnly, 'tf_model.h5'), 'not really');
  const opus = tempDir('lens-hub-opus-');
  for (const f of fs.readdirSync(marianDatesDir))
    if (f !== 'model.safetensors' && f !== 'reference_attention.json')
      fs.copyFileSync(path.join(marianDatesDir, f), path.join(opus, f));
  fs.copyFileSync(path.join(fixturesDir, 'torch', 'tiny-marian-dates.bin'), path.join(opus, 'pytorch_model.bin'));
  for (const f of ['tf_model.h5', 'rust_model.ot', 'flax_model.msgpack'])
    fs.writeFileSync(path.join(opus, f), 'not wanted');
  const torchSharded = tempDir('lens-hub-torch-sharded-');
  fs.copyFileSync(path.join(fixtureModel('stories260K'), 'config.json'), path.join(torchSharded, 'config.json'));
  fs.copyFileSync(path.join(fixtureModel('stories260K'), 'tokenizer.json'), path.join(torchSharded, 'tokenizer.json'));
  for (const f of fs.readdirSync(path.join(fixturesDir, 'torch', 'sharded')))
    fs.copyFileSync(path.join(fixturesDir, 'torch', 'sharded', f), path.join(torchSharded, f));
  const chat = tempDir('lens-hub-chat-');
  for (const f of fs.readdirSync(fixtureModel('tiny-gpt2')))
    fs.copyFileSync(path.join(fixtureModel('tiny-gpt2'), f), path.join(chat, f));
  fs.writeFileSync(path.join(chat, 'chat_template.jinja'), CHAT_TEMPLATE);
  hub = await startHubServer({
    [GPT2]: repoFromFolder(GPT2, fixtureModel('tiny-gpt2')),
    [STORIES]: repoFromFolder(STORIES, fixtureModel('stories260K')),
    [SHARDED]: repoFromFolder(SHARDED, sharded),
    [BIN_ONLY]: repoFromFolder(BIN_ONLY, binOnly),
    [OPUS_BIN]: repoFromFolder(OPUS_BIN, opus),
    [TORCH_SHARDED]: repoFromFolder(TORCH_SHARDED, torchSharded),
    [GATED]: repoFromFolder(GATED, fixtureModel('stories260K')),
    [CHAT]: repoFromFolder(CHAT, chat),
  });
  hub.faults.gated.add(GATED);
  hub.repos.get(STORIES)!.revisions = new Set(['refs/pr/1']);
});

after(async () => {
  await hub.close();
  made.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
});

function opts(cacheDir: string, extra: Parameters<typeof resolveHubModel>[1] = {}) {
  return { endpoint: hub.url, cacheDir, token: null, env: NO_NET, ...extra };
}

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

/** Checks the snapshot against the served repo: the wanted files, byte-identical, symlinked into blobs/. */
function checkSnapshot(cacheDir: string, repoId: string, dir: string, names: string[]): void {
  const repo = hub.repos.get(repoId)!;
  const root = path.join(cacheDir, repoFolderName(repoId));
  assert.equal(dir, path.join(root, 'snapshots', repo.commit));
  assert.deepEqual(fs.readdirSync(dir).sort(), [...names].sort());
  for (const name of names) {
    const f = repo.files.get(name)!;
    const blobId = f.lfs ? f.sha256 : f.gitSha1;
    assert.equal(fs.readlinkSync(path.join(dir, name)), path.join('..', '..', 'blobs', blobId), name);
    assert.ok(fs.readFileSync(path.join(dir, name)).equals(f.data), `${name} differs from the original`);
  }
  const blobs = fs.readdirSync(path.join(root, 'blobs'));
  assert.equal(blobs.filter((b) => b.includes('.')).length, 0, `temporary files left: ${blobs}`);
  assert.equal(fs.readFileSync(path.join(root, 'refs', 'main'), 'utf8'), repo.commit);
}

const GPT2_FILES = [
  'config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'generation_config.json',
  'model.safetensors',
];

test('downloads tiny-gpt2 into the HF cache layout, then serves it from the cache', async () => {
  const cache = tempDir();
  const events: DownloadProgress[] = [];
  const before = hub.requests.length;
  const dir = await resolveHubModel(GPT2, opts(cache, { onProgress: (p) => events.push(p) }));
  checkSnapshot(cache, GPT2, dir, GPT2_FILES);
  const got = hub.requests.slice(before);
  assert.equal(got.filter((r) => r.file).length, GPT2_FILES.length, 'one request per file (no vocab.json, merges.txt)');
  assert.ok(
    got.every((r) => r.authorization === undefined),
    'no token, no Authorization header',
  );

  const last = events.filter((e) => e.file === 'model.safetensors').at(-1)!;
  assert.equal(last.bytes, last.total);
  assert.equal(last.total, hub.repos.get(GPT2)!.files.get('model.safetensors')!.size);
  const final = events.at(-1)!;
  assert.equal(final.overallBytes, final.overallTotal);
  assert.ok(events.every((e) => e.bytesPerSecond >= 0 && e.bytes <= e.total));

  const again = hub.requests.length;
  assert.equal(await resolveHubModel(GPT2, opts(cache)), dir);
  assert.equal(hub.requests.slice(again).filter((r) => r.file).length, 0, 'second call downloads nothing');
  assert.equal(hub.requests.slice(again).length, 1, 'only the listing is asked for');

  const tokenizer = await loadTokenizer(dir);
  assert.ok(tokenizer.encode('Hello world').length > 0);
});

test("a repository's chat_template.jinja is downloaded with the tokenizer, and the tokenizer has the template", async () => {
  const cache = tempDir();
  const dir = await resolveHubModel(CHAT, opts(cache));
  checkSnapshot(cache, CHAT, dir, [...GPT2_FILES, 'chat_template.jinja']);
  const tokenizer = await loadTokenizer(dir);
  assert.equal(tokenizer.chatTemplate?.source, CHAT_TEMPLATE);
  assert.equal(tokenizer.chatTemplate?.origin, 'chat_template.jinja');
});

test('downloads stories260K; a commit revision in the cache needs no request at all', async () => {
  const cache = tempDir();
  const dir = await resolveHubModel(STORIES, opts(cache));
  const names = [
    'config.json',
    'tokenizer.json',
    'tokenizer_config.json',
    'special_tokens_map.json',
    'generation_config.json',
    'model.safetensors',
  ];
  checkSnapshot(cache, STORIES, dir, names);
  const commit = hub.repos.get(STORIES)!.commit;
  const count = hub.requests.length;
  assert.equal(await resolveHubModel(`${STORIES}@${commit}`, opts(cache)), dir);
  assert.equal(hub.requests.length, count);
});

test('an existing cache made as huggingface_hub makes it is reused without downloading', async () => {
  const cache = tempDir();
  const repo = hub.repos.get(STORIES)!;
  const root = path.join(cache, repoFolderName(STORIES));
  const snap = path.join(root, 'snapshots', repo.commit);
  fs.mkdirSync(path.join(root, 'blobs'), { recursive: true });
  fs.mkdirSync(snap, { recursive: true });
  fs.mkdirSync(path.join(root, 'refs'));
  for (const f of repo.files.values()) {
    const blobId = f.lfs ? f.sha256 : f.gitSha1;
    fs.writeFileSync(path.join(root, 'blobs', blobId), f.data);
    fs.symlinkSync(path.join('..', '..', 'blobs', blobId), path.join(snap, f.name));
  }
  fs.writeFileSync(path.join(root, 'refs', 'main'), repo.commit);
  const count = hub.requests.length;
  assert.equal(await resolveHubModel(STORIES, opts(cache)), snap);
  assert.equal(hub.requests.slice(count).filter((r) => r.file).length, 0);
  // Blobs present but the snapshot links missing (e.g. another revision's snapshot): linked, not downloaded.
  fs.rmSync(path.join(root, 'snapshots'), { recursive: true });
  assert.equal(await resolveHubModel(STORIES, opts(cache)), snap);
  assert.equal(hub.requests.slice(count).filter((r) => r.file).length, 0);
  assert.ok(fs.lstatSync(path.join(snap, 'model.safetensors')).isSymbolicLink());
});

test('offline: served from the cache with no request; a clear error when the cache lacks it', async () => {
  const cache = tempDir();
  const count = hub.requests.length;
  await rejectsWith(
    resolveHubModel(GPT2, opts(cache, { env: { HF_HUB_OFFLINE: '1' } })),
    'offline',
    'HUB_OFFLINE',
    /cannot be used offline: it is not in the Hugging Face cache .*HF_HUB_OFFLINE/,
  );
  assert.equal(hub.requests.length, count);
  const dir = await resolveHubModel(GPT2, opts(cache));
  const online = hub.requests.length;
  assert.equal(await resolveHubModel(GPT2, opts(cache, { offline: true })), dir);
  assert.equal(await resolveHubModel(GPT2, opts(cache, { env: { HF_HUB_OFFLINE: '1' } })), dir);
  assert.equal(hub.requests.length, online);
  // A snapshot that lost a file is not taken for a model.
  fs.rmSync(path.join(dir, 'model.safetensors'));
  await rejectsWith(
    resolveHubModel(GPT2, opts(cache, { offline: true })),
    'offline',
    'HUB_OFFLINE',
    /incomplete \(model\.safetensors missing\)/,
  );
});

test('an unreachable Hub falls back to a complete cached copy, and says so when there is none', async () => {
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const dead = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise<void>((r) => closed.close(() => r()));
  const cache = tempDir();
  await rejectsWith(
    resolveHubModel(GPT2, opts(cache, { endpoint: dead })),
    'network',
    'DOWNLOAD_FAILED',
    /Could not reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
  );
  const dir = await resolveHubModel(GPT2, opts(cache));
  assert.equal(await resolveHubModel(GPT2, opts(cache, { endpoint: dead })), dir);
});

test('HF_ENDPOINT and HF_HUB_CACHE are honoured', async () => {
  const cache = tempDir();
  const dir = await resolveHubModel(STORIES, { token: null, env: { HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache } });
  assert.ok(dir.startsWith(path.join(cache, 'models--lens-test--stories260K')));
});

test('gated model: the message says to set a token; the token goes to the Hub only and never into messages', async () => {
  const cache = tempDir();
  const gated = await rejectsWith(
    resolveHubModel(GATED, opts(cache)),
    'auth',
    'HUB_AUTH',
    /accepting its terms.*then set a token of that account with the command "Attention Lens: Set Hugging Face Token" \(or the HF_TOKEN environment variable for the CLI\)\.$/,
  );
  // The command it names is the one the extension contributes (as the command palette shows it).
  const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    contributes: { commands: { command: string; title: string; category?: string }[] };
  };
  const command = manifest.contributes.commands.find((c) => c.command === 'attentionLens.setHubToken');
  assert.ok(command, 'package.json contributes attentionLens.setHubToken');
  assert.ok(gated.message.includes(`"${command.category}: ${command.title}"`), gated.message);
  const wrong = 'hf_wrongTOKEN_4242424242';
  const e = await rejectsWith(
    resolveHubModel(GATED, opts(cache, { token: wrong })),
    'auth',
    'HUB_AUTH',
    /the token given was refused/,
  );
  assert.ok(!e.message.includes(wrong) && !String(e.stack).includes(wrong));

  hub.faults.cdnRedirect = true;
  try {
    const events: DownloadProgress[] = [];
    const count = hub.requests.length;
    const dir = await resolveHubModel(GATED, opts(cache, { token: hub.token, onProgress: (p) => events.push(p) }));
    assert.ok(
      fs
        .readFileSync(path.join(dir, 'model.safetensors'))
        .equals(hub.repos.get(GATED)!.files.get('model.safetensors')!.data),
    );
    const got = hub.requests.slice(count);
    assert.ok(
      got.some((r) => r.server === 'cdn'),
      'LFS files came from the CDN',
    );
    for (const r of got) {
      assert.equal(r.authorization, r.server === 'hub' ? `Bearer ${hub.token}` : undefined, `${r.server} ${r.path}`);
    }
    assert.ok(!JSON.stringify(events).includes(hub.token));
  } finally {
    hub.faults.cdnRedirect = false;
  }
  // The token is taken from HF_TOKEN when no option is given.
  assert.ok(await resolveHubModel(GATED, { endpoint: hub.url, cacheDir: tempDir(), env: { HF_TOKEN: hub.token } }));
});

test('sharded weights: the index and every shard it names', async () => {
  const cache = tempDir();
  const dir = await resolveHubModel(SHARDED, opts(cache));
  checkSnapshot(cache, SHARDED, dir, [
    'config.json',
    'tokenizer.json',
    'model.safetensors.index.json',
    'generation_config.json',
    'model-00001-of-00002.safetensors',
    'model-00002-of-00002.safetensors',
  ]);
  const offline = await resolveHubModel(SHARDED, opts(cache, { offline: true }));
  assert.equal(offline, dir);
  fs.rmSync(path.join(dir, 'model-00002-of-00002.safetensors'));
  await rejectsWith(
    resolveHubModel(SHARDED, opts(cache, { offline: true })),
    'offline',
    'HUB_OFFLINE',
    /model-00002-of-00002\.safetensors missing/,
  );
});

test('a repository with only PyTorch weights (opus-mt): pytorch_model.bin, not the TF, Rust or Flax files', async () => {
  const cache = tempDir();
  const dir = await resolveHubModel(OPUS_BIN, opts(cache));
  checkSnapshot(cache, OPUS_BIN, dir, [
    'config.json',
    'generation_config.json',
    'pytorch_model.bin',
    'source.spm',
    'special_tokens_map.json',
    'target.spm',
    'tokenizer_config.json',
    'vocab.json',
  ]);
  assert.equal(resolveFolder(dir).kind, 'folder', 'opened by the Marian family, not as an ONNX export');
  const weights = await openWeights(dir);
  const reference = await openWeights(marianDatesDir);
  assert.deepEqual(weights.get('model.shared.weight'), reference.get('model.shared.weight'));
  assert.equal(await resolveHubModel(OPUS_BIN, opts(cache, { offline: true })), dir);
});

test('sharded PyTorch weights: pytorch_model.bin.index.json and every shard it names', async () => {
  const cache = tempDir();
  const dir = await resolveHubModel(TORCH_SHARDED, opts(cache));
  checkSnapshot(cache, TORCH_SHARDED, dir, [
    'config.json',
    'tokenizer.json',
    'pytorch_model.bin.index.json',
    'pytorch_model-00001-of-00002.bin',
    'pytorch_model-00002-of-00002.bin',
  ]);
  fs.rmSync(path.join(dir, 'pytorch_model-00002-of-00002.bin'));
  await rejectsWith(
    resolveHubModel(TORCH_SHARDED, opts(cache, { offline: true })),
    'offline',
    'HUB_OFFLINE',
    /pytorch_model-00002-of-00002\.bin missing/,
  );
});

test('copies instead of symlinks when asked (where symlinks fail)', async () => {
  const cache = tempDir();
  const dir = await resolveHubModel(STORIES, opts(cache, { symlinks: false }));
  const st = fs.lstatSync(path.join(dir, 'model.safetensors'));
  assert.ok(st.isFile() && !st.isSymbolicLink());
  const count = hub.requests.length;
  assert.equal(await resolveHubModel(STORIES, opts(cache, { offline: true })), dir);
  assert.equal(await resolveHubModel(STORIES, opts(cache, { symlinks: false })), dir);
  assert.equal(hub.requests.slice(count).filter((r) => r.file).length, 0);
});

test('no safetensors nor pytorch_model.bin, unknown repo, unknown revision: clear errors before any file is downloaded', async () => {
  const cache = tempDir();
  const count = hub.requests.length;
  await rejectsWith(
    resolveHubModel(BIN_ONLY, opts(cache)),
    'no-weights',
    'NO_WEIGHTS',
    /no safetensors weights nor pytorch_model\.bin \(only tf_model\.h5\)/,
  );
  await rejectsWith(
    resolveHubModel('lens-test/nope', opts(cache)),
    'not-found',
    'MODEL_NOT_FOUND',
    /No model lens-test\/nope on http:\/\/127\.0\.0\.1/,
  );
  await rejectsWith(resolveHubModel(`${GPT2}@v9`, opts(cache)), 'not-found', 'MODEL_NOT_FOUND', /has no revision "v9"/);
  assert.equal(hub.requests.slice(count).filter((r) => r.file).length, 0);
  await assert.rejects(resolveHubModel('./local/folder', opts(cache)), /folder path/);
});

test("a model's page URL is its id, and a revision with slashes (refs/pr/1) is one revision", async () => {
  const cache = tempDir();
  const commit = hub.repos.get(STORIES)!.commit;
  const dir = await resolveHubModel(`https://huggingface.co/${STORIES}/tree/refs%2Fpr%2F1`, opts(cache));
  assert.equal(dir, path.join(cache, repoFolderName(STORIES), 'snapshots', commit));
  const listing = hub.apiRequests().at(-1)!;
  assert.equal(listing.path, `/api/models/${STORIES}/revision/refs%2Fpr%2F1?blobs=true`);
  // As huggingface_hub keeps it: refs/<revision>, the revision's slashes as folders.
  assert.equal(fs.readFileSync(path.join(cache, repoFolderName(STORIES), 'refs', 'refs', 'pr', '1'), 'utf8'), commit);
  assert.equal(await resolveHubModel(`${STORIES}@refs/pr/1`, opts(cache, { offline: true })), dir);
});
