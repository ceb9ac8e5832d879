// Hub repositories that hold only an ONNX export (transformers.js: onnx/model.onnx + onnx/model.onnx_data beside
// quantized and fp16 variants; optimum: model.onnx + model.onnx.data at the top), served by the local Hub of
// test/helpers/hub-server.ts from the fixture test models' family graphs exported without attention outputs. The
// download takes exactly the full-precision graph, the external data it names, config and tokenizer; the resolver
// opens the snapshot as an ONNX model whose streamed attention equals the builder's to 1e-6; the cache serves it
// offline and notices a missing data file. Also the file choice itself on listings of every export layout.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isLensError } from '../../../../runtime/errors';
import { encodeModel } from '../../../../runtime/formats/onnx-schema';
import { resolveHubModel } from '../../../../runtime/hub/download';
import { externalDataNames, type HubSibling, pickModelFiles } from '../../../../runtime/hub/file-selection';
import { HubError } from '../../../../runtime/hub/hub-errors';
import { readModel } from '../../../../runtime/models/read-model';
import { listCachedHubModels, resolveModel } from '../../../../runtime/models/source-resolver';
import { ImportEngine } from '../../../../runtime/onnx/import-engine';
import { loadTokenizer } from '../../../../runtime/tokenizers';
import { patternGraph } from '../../../fixtures/onnx/synthetic';
import { type HubServer, repoFromFolder, startHubServer } from '../../../helpers/hub-server';
import { fixtureModel, marianDatesCacheDirs } from '../../../helpers/fixtures';
import { builderAttention, decodeExact, exportOnnx, externalize, maxDiff } from '../../../helpers/onnx-export';

const TFJS = 'lens-test/stories260K-onnx';
const OPTIMUM = 'lens-test/tiny-gpt2-onnx';
const NO_DATA = 'lens-test/onnx-without-data';
const CACHED = 'lens-test/tiny-marian-dates-onnx-with-past';
const TEXT = 'Once upon a time, there was a little girl named Lily.';
const NO_NET = { HF_HUB_OFFLINE: undefined, HF_TOKEN: undefined } as Record<string, string | undefined>;

const made: string[] = [];
let hub: HubServer;
let tfjsDir: string;

function tempDir(prefix = 'lens-hub-onnx-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

function opts(cacheDir: string, extra: Parameters<typeof resolveHubModel>[1] = {}) {
  return { endpoint: hub.url, cacheDir, token: null, env: NO_NET, ...extra };
}

before(async () => {
  // transformers.js layout: the graphs under onnx/, variants that must not be downloaded, a README.
  tfjsDir = tempDir('lens-hub-tfjs-');
  const stories = fixtureModel('stories260K');
  exportOnnx(await readModel(stories), stories, tfjsDir, 'onnx/model.onnx');
  externalize(path.join(tfjsDir, 'onnx', 'model.onnx'));
  fs.writeFileSync(path.join(tfjsDir, 'onnx', 'model_quantized.onnx'), 'not a model: never downloaded');
  fs.writeFileSync(path.join(tfjsDir, 'onnx', 'model_fp16.onnx'), 'not a model: never downloaded');
  fs.writeFileSync(path.join(tfjsDir, 'README.md'), '# stories260K, ONNX\n');
  // optimum layout: model.onnx at the top, its data in model.onnx.data.
  const optimumDir = tempDir('lens-hub-optimum-');
  const gpt2 = fixtureModel('tiny-gpt2');
  exportOnnx(await readModel(gpt2), gpt2, optimumDir);
  externalize(path.join(optimumDir, 'model.onnx'), 'model.onnx.data');
  const noData = [...repoFromFolder(NO_DATA, tfjsDir).files.keys()].filter((f) => f !== 'onnx/model.onnx_data');
  // transformers.js layout of an encoder–decoder with a cache: all four graphs of optimum's default export under onnx/.
  const cachedDir = tempDir('lens-hub-cached-');
  fs.mkdirSync(path.join(cachedDir, 'onnx'));
  for (const [from, names] of [
    [marianDatesCacheDirs.past, ['encoder_model.onnx', 'decoder_model.onnx', 'decoder_with_past_model.onnx']],
    [marianDatesCacheDirs.merged, ['decoder_model_merged.onnx']],
  ] as const)
    for (const name of names) fs.copyFileSync(path.join(from, name), path.join(cachedDir, 'onnx', name));
  for (const name of fs.readdirSync(marianDatesCacheDirs.merged).filter((f) => !/\.(onnx|md)$/.test(f)))
    fs.copyFileSync(path.join(marianDatesCacheDirs.merged, name), path.join(cachedDir, name));
  hub = await startHubServer({
    [CACHED]: repoFromFolder(CACHED, cachedDir),
    [TFJS]: repoFromFolder(TFJS, tfjsDir),
    [OPTIMUM]: repoFromFolder(OPTIMUM, optimumDir),
    [NO_DATA]: repoFromFolder(NO_DATA, tfjsDir, noData),
  });
});

after(async () => {
  await hub?.close();
  made.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
});

/** The files downloaded since request `from`, as repository paths. */
function downloaded(repo: string, from: number): string[] {
  return hub.requests
    .slice(from)
    .filter((r) => r.file?.startsWith(`${repo}/`))
    .map((r) => r.file!.slice(repo.length + 1))
    .sort();
}

/** Loads a resolved ONNX model in-process and checks its streamed attention against the builder's. */
async function expectBuilderAttention(layout: Parameters<typeof ImportEngine.create>[0], from: string) {
  const source = await readModel(from);
  const ids = (await loadTokenizer(layout.dir)).encode(TEXT).map((t) => t.id);
  const engine = await ImportEngine.create(layout, 'native', 1);
  try {
    assert.equal(engine.streaming, true, engine.notStreamingWhy);
    const layers: Float32Array[] = [];
    await engine.run(ids, { withVectors: false, onLayer: (l) => layers.push(l.data) });
    const expected = await builderAttention(source, ids);
    assert.equal(layers.length, expected.length);
    layers.forEach((l, i) => assert.ok(maxDiff(l, expected[i]) <= 1e-6, `layer ${i}`));
  } finally {
    await engine.release();
  }
}

test('transformers.js layout: onnx/model.onnx and its onnx_data, no variants; opened as ONNX, equal to the builder', async () => {
  const cache = tempDir();
  const count = hub.requests.length;
  const resolved = await resolveModel(TFJS, { hub: opts(cache) });
  assert.deepEqual(downloaded(TFJS, count), [
    'config.json',
    'onnx/model.onnx',
    'onnx/model.onnx_data',
    'special_tokens_map.json',
    'tokenizer.json',
    'tokenizer_config.json',
  ]);
  assert.equal(resolved.kind, 'onnx');
  assert.equal(resolved.hubId, TFJS);
  const snapshot = path.join(cache, 'models--lens-test--stories260K-onnx', 'snapshots', hub.repos.get(TFJS)!.commit);
  assert.equal(resolved.dir, snapshot);
  if (resolved.kind !== 'onnx') return;
  assert.equal(resolved.layout.model, path.join(snapshot, 'onnx', 'model.onnx'));
  assert.equal(resolved.layout.encoder, undefined);
  assert.equal(resolved.layout.dir, snapshot, 'tokenizer and config at the top of the snapshot');
  for (const f of ['onnx/model.onnx', 'onnx/model.onnx_data'])
    assert.ok(fs.readFileSync(path.join(snapshot, f)).equals(fs.readFileSync(path.join(tfjsDir, f))), f);
  await expectBuilderAttention(resolved.layout, fixtureModel('stories260K'));

  // The cache serves it offline, and the model picker lists it.
  const again = hub.requests.length;
  assert.equal(await resolveHubModel(TFJS, opts(cache, { offline: true })), snapshot);
  assert.equal(hub.requests.length, again);
  assert.deepEqual(
    listCachedHubModels(cache).map((m) => m.id),
    [TFJS],
  );
  // A snapshot without the external data is incomplete, offline and online (where it is downloaded again).
  fs.rmSync(path.join(snapshot, 'onnx', 'model.onnx_data'));
  await assert.rejects(resolveHubModel(TFJS, opts(cache, { offline: true })), (e: unknown) => {
    assert.ok(e instanceof HubError && e.reason === 'offline', String(e));
    assert.match(e.message, /incomplete \(onnx\/model\.onnx_data missing\)/);
    return true;
  });
  assert.equal(await resolveHubModel(TFJS, opts(cache)), snapshot);
  assert.ok(fs.existsSync(path.join(snapshot, 'onnx', 'model.onnx_data')));
});

test('optimum layout: model.onnx with model.onnx.data at the top; opened as ONNX, equal to the builder', async () => {
  const cache = tempDir();
  const count = hub.requests.length;
  const resolved = await resolveModel(OPTIMUM, { hub: opts(cache) });
  assert.deepEqual(downloaded(OPTIMUM, count), [
    'config.json',
    'model.onnx',
    'model.onnx.data',
    'special_tokens_map.json',
    'tokenizer.json',
    'tokenizer_config.json',
  ]);
  assert.equal(resolved.kind, 'onnx');
  if (resolved.kind !== 'onnx') return;
  assert.equal(path.basename(resolved.layout.model), 'model.onnx');
  await expectBuilderAttention(resolved.layout, fixtureModel('tiny-gpt2'));
});

test('an encoder–decoder export with a cache: the encoder and the merged decoder only; opened KV-cached', async () => {
  const cache = tempDir();
  const count = hub.requests.length;
  const resolved = await resolveModel(CACHED, { hub: opts(cache) });
  assert.deepEqual(
    downloaded(CACHED, count).filter((f) => f.endsWith('.onnx')),
    ['onnx/decoder_model_merged.onnx', 'onnx/encoder_model.onnx'],
  );
  assert.equal(resolved.kind, 'onnx');
  if (resolved.kind !== 'onnx') return;
  assert.equal(path.basename(resolved.layout.model), 'decoder_model_merged.onnx');
  assert.equal(resolved.layout.step, undefined);
  const engine = await ImportEngine.create(resolved.layout, 'native', 1);
  try {
    assert.equal(engine.cached, true);
    assert.deepEqual(engine.facts.attentionKinds, ['encoder', 'encoder', 'decoder', 'decoder', 'cross', 'cross']);
  } finally {
    await engine.release();
  }
});

test('a graph naming external data the repository lacks: a clear error, and no snapshot is served', async () => {
  const cache = tempDir();
  await assert.rejects(resolveHubModel(NO_DATA, opts(cache)), (e: unknown) => {
    assert.ok(e instanceof HubError && e.reason === 'not-found', String(e));
    assert.match(e.message, /onnx\/model\.onnx names onnx\/model\.onnx_data, which the repository lacks/);
    return true;
  });
  await assert.rejects(resolveHubModel(NO_DATA, opts(cache, { offline: true })), /cannot be used offline/);
});

/** A listing of these names (sizes and hashes are made up: only the choice is tested). */
function listing(...names: string[]): HubSibling[] {
  return names.map((rfilename, i) => ({ rfilename, size: 100 + i, blobId: String(i).padStart(40, 'a') }));
}

const picked = (siblings: HubSibling[]) => {
  const r = pickModelFiles('o/n', siblings);
  return { files: r.files.map((f) => f.name), graphs: r.onnxGraphs?.map((f) => f.name) };
};

test('file choice: full precision before fp16 and quantized; pairs, with their cache; decoder-only; safetensors first', () => {
  const side = ['config.json', 'tokenizer.json'];
  assert.deepEqual(
    picked(
      listing(...side, 'onnx/model_quantized.onnx', 'onnx/model.onnx', 'onnx/model_fp16.onnx', 'onnx/model.onnx_data'),
    ),
    { files: [...side, 'onnx/model.onnx'], graphs: ['onnx/model.onnx'] },
    'the data file comes from the graph, not from the listing',
  );
  assert.deepEqual(picked(listing(...side, 'onnx/model_quantized.onnx', 'onnx/model_fp16.onnx')).graphs, [
    'onnx/model_fp16.onnx',
  ]);
  assert.deepEqual(picked(listing(...side, 'onnx/model_fp16.onnx', 'model.onnx')).graphs, ['model.onnx']);
  assert.deepEqual(
    picked(
      listing(
        ...side,
        'onnx/encoder_model.onnx',
        'onnx/decoder_model.onnx',
        'onnx/decoder_model_merged.onnx',
        'onnx/decoder_with_past_model.onnx',
        'onnx/encoder_model_quantized.onnx',
      ),
    ).graphs,
    ['onnx/encoder_model.onnx', 'onnx/decoder_model_merged.onnx'],
    'an encoder–decoder with a cache: the merged decoder (one decoder file, not two with the same weights)',
  );
  assert.deepEqual(
    picked(
      listing(
        ...side,
        'encoder_model.onnx',
        'decoder_model.onnx',
        'decoder_with_past_model.onnx',
        'decoder_model_merged_quantized.onnx',
      ),
    ).graphs,
    ['encoder_model.onnx', 'decoder_model.onnx', 'decoder_with_past_model.onnx'],
    'without a merged decoder: both decoders (full precision before a quantized merged one)',
  );
  assert.deepEqual(
    picked(listing(...side, 'onnx/encoder_model.onnx', 'onnx/decoder_model.onnx')).graphs,
    ['onnx/encoder_model.onnx', 'onnx/decoder_model.onnx'],
    'without a cache: the pair',
  );
  assert.deepEqual(
    picked(
      listing(
        ...side,
        'onnx/decoder_model_merged.onnx',
        'onnx/decoder_with_past_model.onnx',
        'onnx/decoder_model.onnx',
      ),
    ).graphs,
    ['onnx/decoder_model.onnx'],
  );
  assert.deepEqual(picked(listing(...side, 'model.safetensors', 'onnx/model.onnx')), {
    files: [...side, 'model.safetensors'],
    graphs: undefined,
  });
  assert.throws(
    () => pickModelFiles('o/n', listing(...side, 'onnx/decoder_model_merged.onnx')),
    (e: unknown) =>
      isLensError(e) &&
      e.code === 'NO_WEIGHTS' &&
      /only onnx\/decoder_model_merged\.onnx\) and no ONNX export Attention Lens can open/.test(e.message),
  );
});

test('external data names: beside the graph, in its folder; a path outside it is refused', () => {
  const withLocation = (location: string) => {
    const model = decodeExact(patternGraph('plain'));
    const emb = model.graph!.initializer.find((t) => t.name === 'emb')!;
    emb.externalData = [{ key: 'location', value: location }];
    emb.dataLocation = 1;
    delete emb.rawData;
    return encodeModel(model);
  };
  assert.deepEqual(externalDataNames('onnx/model.onnx', withLocation('model.onnx_data')), ['onnx/model.onnx_data']);
  assert.deepEqual(externalDataNames('model.onnx', withLocation('model.onnx.data')), ['model.onnx.data']);
  assert.deepEqual(externalDataNames('model.onnx', patternGraph('plain')), [], 'inline weights name nothing');
  for (const bad of ['../x.bin', '/etc/passwd', 'C:\\x.bin', 'a/../../x'])
    assert.throws(
      () => externalDataNames('onnx/model.onnx', withLocation(bad)),
      (e: unknown) => e instanceof HubError && e.reason === 'bad-response' && /not a file beside it/.test(e.message),
      bad,
    );
});
