// parseSavedRun (extension/saved-run.ts) reads back what the exporter writes (writers/attention-data.ts, a separate
// writer) on a hand-made run: two layers of hand-written weights, the values equal as float32; then each thing a file
// can get wrong gives one line naming the file.
import test from 'node:test';
import * as assert from 'node:assert/strict';
import { npySidecar, writeData, type RunData } from '../../../writers/attention-data';
import { parseSavedNpyRun, parseSavedRun } from '../../../extension/saved-run';
import type { LayerAttention } from '../../../runtime/types';

// [heads = 2, query = 3, key = 3], causal rows summing to 1.
const W0 = [1, 0, 0, 0.5, 0.5, 0, 0.2, 0.3, 0.5, 1, 0, 0, 0.9, 0.1, 0, 0.1, 0.1, 0.8];
const W1 = [1, 0, 0, 0.25, 0.75, 0, 1 / 3, 1 / 3, 1 / 3, 1, 0, 0, 0, 1, 0, 0.6, 0.2, 0.2];
const layer = (i: number, w: number[]): LayerAttention => ({
  layer: i,
  kind: 'causal',
  heads: 2,
  queryLength: 3,
  keyLength: 3,
  data: new Float32Array(w),
});
const RUN: RunData = {
  model: {
    name: 'tiny',
    dir: '/m/tiny',
    family: 'llama',
    modelType: 'llama',
    layers: 2,
    heads: 2,
    kvHeads: 1,
    headDim: 4,
    hidden: 8,
    vocabSize: 32,
    maxPositions: 64,
    attentionKinds: ['causal', 'causal'],
    hasLmHead: true,
  },
  tokens: [
    { text: '<s>', id: 1, start: null, end: null, special: true },
    { text: '▁<b>a', id: 7, start: 0, end: 4, special: false },
    { text: '</b>', id: 9, start: 4, end: 8, special: false },
  ],
  layers: [layer(0, W0), layer(1, W1)],
  source: { uri: 'file:///a.txt', range: [0, 0, 0, 8], modelPath: '/m/tiny' },
};

/** A parsed file, edited freely by the bad cases. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

async function exported(run: RunData = RUN): Promise<string> {
  const parts: Uint8Array[] = [];
  await writeData(run, 'json', { write: (c) => void parts.push(c) });
  return Buffer.concat(parts).toString('utf8');
}

test('what Export… → JSON writes reads back: facts, tokens (text kept as text), ids, every weight as float32', async () => {
  const saved = parseSavedRun(await exported(), 'run.json');
  assert.equal(saved.facts.name, 'tiny');
  assert.equal(saved.facts.layers, 2);
  assert.equal(saved.facts.kvHeads, 1);
  assert.deepEqual(saved.facts.attentionKinds, ['causal', 'causal']);
  assert.deepEqual(
    saved.tokens,
    RUN.tokens.map(({ text, start, end, special }) => ({ text, start, end, special })),
  );
  assert.deepEqual(saved.ids, [1, 7, 9]);
  assert.equal(saved.layers.length, 2);
  assert.deepEqual([...saved.layers[0].data], [...new Float32Array(W0)]);
  assert.deepEqual([...saved.layers[1].data], [...new Float32Array(W1)]);
  assert.equal(saved.source.uri, '', 'tied to no document: no hover');
  assert.equal(saved.source.text, '', 'nothing to run again');
  assert.equal(saved.source.modelPath, '/m/tiny');
});

test("a chat prompt's export keeps its template tokens marked when it is opened again", async () => {
  const tokens = RUN.tokens.map((t) => (t.special ? { ...t, template: true } : t));
  const saved = parseSavedRun(await exported({ ...RUN, tokens }), 'chat.json');
  assert.deepEqual(
    saved.tokens.map((t) => t.template === true),
    [true, false, false],
  );
});

test('a cancelled run (fewer layers than the model) opens with the layers it has', async () => {
  const saved = parseSavedRun(await exported({ ...RUN, layers: [layer(0, W0)] }), 'part.json');
  assert.equal(saved.layers.length, 1);
  assert.equal(saved.facts.layers, 2);
});

test('each bad file gives one line naming it and what is wrong', async () => {
  const good = JSON.parse(await exported()) as Json;
  const bad = (change: (r: Json) => void) => {
    const r = structuredClone(good);
    change(r);
    return JSON.stringify(r);
  };
  const cases: [string, RegExp][] = [
    ['{', /^x\.json: not JSON \(/],
    ['[]', /^x\.json: not an Attention Lens run/],
    [bad((r) => (r.version = 3)), /^x\.json: version 3 of the run format/],
    [
      bad((r) => (r.model.heads = 0)),
      /^x\.json: "model" must have a name and positive integer layers, heads and headDim\.$/,
    ],
    [bad((r) => (r.model.attentionKinds = ['causal'])), /attentionKinds must list 2 kinds/],
    [bad((r) => (r.tokens = [])), /"tokens" must be a non-empty list/],
    [bad((r) => (r.tokens[1].start = null)), /token 1 has the span null\.\.4/],
    [bad((r) => (r.layers = [])), /"layers" must hold at least one layer/],
    [bad((r) => r.layers.push(r.layers[0])), /3 layers, but "model" has 2/],
    [bad((r) => (r.layers[1].layer = 0)), /layer 1 is missing or out of order/],
    [bad((r) => (r.layers[0].kind = 'self')), /layer 0 is "self" attention, but "model" says causal/],
    [bad((r) => r.layers[0].attention[1].pop()), /layer 0, head 1: must have 3 query rows/],
    [bad((r) => r.layers[0].attention[0][2].push(0)), /layer 0, head 0, query 2: must have 3 key weights/],
    [
      bad((r) => (r.layers[1].attention[1][2][0] = null)),
      /layer 1, head 1, query 2, key 0 is null, not a finite weight/,
    ],
    [bad((r) => (r.layers[1].attention[0][0][1] = -0.5)), /layer 1, head 0, query 0, key 1 is -0\.5, outside 0\.\.1/],
  ];
  for (const [text, expect] of cases) {
    assert.throws(
      () => parseSavedRun(text, 'x.json'),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'BAD_INPUT');
        assert.doesNotMatch(e.message, /\n/);
        assert.match(e.message, expect);
        return true;
      },
    );
  }
});

async function exportedNpy(run: RunData = RUN): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  await writeData(run, 'npy', { write: (c) => void parts.push(c) });
  return Buffer.concat(parts);
}

test('what Export… → NPY writes, with its sidecar, reads back: facts, tokens, ids, every weight as float32', async () => {
  const npy = await exportedNpy();
  const sidecar = npySidecar(RUN, 'run.npy');
  const side = JSON.parse(sidecar) as Json;
  assert.equal(side.format, 'attention-lens-npy-sidecar');
  assert.deepEqual(side.array, {
    file: 'run.npy',
    dtype: '<f4',
    shape: [2, 2, 3, 3],
    axes: ['layer', 'head', 'query', 'key'],
  });
  const saved = parseSavedNpyRun(sidecar, 'run.npy.json', npy, 'run.npy');
  assert.equal(saved.facts.name, 'tiny');
  assert.equal(saved.facts.kvHeads, 1);
  assert.deepEqual(
    saved.tokens.map((t) => t.text),
    ['<s>', '▁<b>a', '</b>'],
  );
  assert.deepEqual(saved.ids, [1, 7, 9]);
  assert.deepEqual(
    saved.layers.map((l) => [...l.data]),
    [W0, W1].map((w) => [...new Float32Array(w)]),
  );
  assert.equal(saved.source.modelPath, '/m/tiny');
});

test('an .npy written by hand (the NPY 1.0 spec, data not from the exporter) reads in [layers, heads, query, key] order', () => {
  let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 3, 3), }";
  while ((10 + dict.length + 1) % 64) dict += ' ';
  dict += '\n';
  const values = [...W0, ...W1];
  const buf = Buffer.alloc(10 + dict.length + values.length * 4);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(buf);
  buf.writeUInt16LE(dict.length, 8);
  buf.write(dict, 10, 'latin1');
  values.forEach((v, i) => buf.writeFloatLE(v, 10 + dict.length + i * 4));
  const saved = parseSavedNpyRun(npySidecar(RUN, 'hand.npy'), 'hand.npy.json', buf, 'hand.npy');
  // Layer 1, head 1, query 2 is W1's last row: 0.6, 0.2, 0.2.
  const l1 = saved.layers[1].data;
  assert.deepEqual([...l1.slice(15, 18)], [...new Float32Array([0.6, 0.2, 0.2])]);
});

test('an .npy that does not match its sidecar, or is not attention, gives one line naming the file', async () => {
  const npy = await exportedNpy();
  const sidecar = npySidecar(RUN, 'run.npy');
  const fails = (f: () => unknown, re: RegExp) =>
    assert.throws(f, (e: Error) => re.test(e.message) && !e.message.includes('\n'));
  // One layer fewer in the sidecar: the shapes differ.
  const oneLayer = JSON.parse(sidecar) as Json;
  oneLayer.layers.pop();
  fails(
    () => parseSavedNpyRun(JSON.stringify(oneLayer), 'run.npy.json', npy, 'run.npy'),
    /^run\.npy: has the shape \(2, 2, 3, 3\), but its sidecar says \(1, 2, 3, 3\)/,
  );
  fails(
    () => parseSavedNpyRun(sidecar, 'run.npy.json', npy.subarray(0, npy.length - 4), 'run.npy'),
    /^run\.npy: has \d+ bytes of data, not 36 float32 values/,
  );
  fails(() => parseSavedNpyRun(sidecar, 'run.npy.json', new Uint8Array(20), 'run.npy'), /^run\.npy: not an NPY file/);
  // An encoder–decoder run's NPY per kind (its sidecar lists "arrays"): refused, saying what opens again.
  const perKind = { ...(JSON.parse(sidecar) as Json), arrays: [] };
  fails(
    () => parseSavedNpyRun(JSON.stringify(perKind), 'run.npy.json', npy, 'run.npy'),
    /^run\.npy\.json: an encoder–decoder run exported as one NPY per kind does not open as a saved run yet; export it as JSON/,
  );
  fails(
    () => parseSavedNpyRun('{"format":"attention-lens-run"}', 'x.json', npy, 'run.npy'),
    /^x\.json: not the sidecar of an NPY export/,
  );
  fails(
    () => parseSavedRun(sidecar, 'run.npy.json'),
    /^run\.npy\.json: the JSON sidecar of an NPY export: open it with its \.npy beside it \(run\.npy\)\.$/,
  );
  const nan = new Uint8Array(npy);
  new DataView(nan.buffer).setFloat32(nan.length - 4, NaN, true);
  fails(
    () => parseSavedNpyRun(sidecar, 'run.npy.json', nan, 'run.npy'),
    /^run\.npy: layer 1, head 1, query 2, key 2 is NaN, not a finite weight\.$/,
  );
});
