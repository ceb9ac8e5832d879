// Data exports (writers/attention-data.ts): NPY bytes equal NumPy's own np.save output, header and values
// round-trip; CSV has layers × heads × query × key rows with RFC 4180 quoting; JSON parses back to the same values;
// size estimates; a 2,048-token run exports (sizes stated) in every format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LayerAttention } from '../../../runtime/types';
import type { MatrixGeometry } from '../../../figures/matrix-figure';
import { MemoryRunMaps } from '../../../figures/run-maps';
import {
  CSV_HEADER,
  csvField,
  estimateDataSize,
  npyHeader,
  npyKindFile,
  npyKinds,
  npySidecar,
  writeData,
  writeNpyKind,
  type DataFormat,
  type RunData,
} from '../../../writers/attention-data';
import { exportImage } from '../../../writers/export-image';
import { parseCsv } from '../../helpers/parse-exports';

/** Collects the written chunks. */
async function bytesOf(run: RunData, format: DataFormat): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  await writeData(run, format, { write: (c) => void chunks.push(c.slice()) });
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

function layer(i: number, heads: number, n: number, values: number[], kind: LayerAttention['kind'] = 'self') {
  return { layer: i, kind, heads, queryLength: n, keyLength: n, data: Float32Array.from(values) };
}

/** The array NumPy saved for the golden below: np.array([[[[0.5,0.25],[0.1,1.0]]],[[[1.0,0.0],[0.3,0.7]]]], float32). */
const SMALL: RunData = {
  model: { name: 'tiny' },
  tokens: [
    { text: 'a,b', start: 0, end: 3, special: false, id: 7 },
    { text: 'say "hi"', start: 4, end: 12, special: false, id: 9 },
  ],
  layers: [layer(0, 1, 2, [0.5, 0.25, 0.1, 1.0]), layer(1, 1, 2, [1.0, 0.0, 0.3, 0.7])],
};
/** `np.save(io.BytesIO(), SMALL)` with NumPy 2.4.6: 160 bytes. */
const NUMPY_GOLDEN =
  '934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c20312c20322c2032292c207d' +
  '20'.repeat(52) +
  '0a0000003f0000803ecdcccc3d0000803f0000803f000000009a99993e3333333f';

test('NPY: bytes equal NumPy np.save of the same float32 array', async () => {
  const got = Buffer.from(await bytesOf(SMALL, 'npy')).toString('hex');
  assert.equal(got, NUMPY_GOLDEN);
  assert.deepEqual(estimateDataSize(SMALL, 'npy'), { bytes: 160, exact: true, values: 8 });
});

test('NPY: header is 64-byte aligned and values round-trip for a causal run', async () => {
  const n = 5;
  const heads = 3;
  const layers = [0, 1].map((l) =>
    layer(
      l,
      heads,
      n,
      Array.from({ length: heads * n * n }, (_, i) => Math.fround(Math.sin(i + l) ** 2)),
      'causal',
    ),
  );
  const run: RunData = { model: { name: 'm' }, tokens: [], layers };
  const bytes = await bytesOf(run, 'npy');
  const headerLen = bytes[8] | (bytes[9] << 8);
  assert.equal((10 + headerLen) % 64, 0);
  const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLen));
  assert.match(header, /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3, 5, 5\), \} *\n$/);
  const values = new Float32Array(bytes.slice(10 + headerLen).buffer);
  assert.deepEqual([...values], [...layers[0].data, ...layers[1].data]);
  assert.equal(npyHeader([7]).length, 128); // NumPy: np.save(np.zeros(7, float32)) has a 128-byte header too
  assert.match(new TextDecoder().decode(npyHeader([7])), /'shape': \(7,\)/);
});

test('NPY: layers of different shapes get a message that names them and suggests JSON/CSV', async () => {
  const run: RunData = {
    model: { name: 'm' },
    tokens: [],
    layers: [layer(0, 1, 2, [1, 0, 0, 1]), layer(1, 2, 2, [1, 0, 0, 1, 1, 0, 0, 1])],
  };
  await assert.rejects(
    bytesOf(run, 'npy'),
    /NPY needs one shape for every layer, but layer 1 is 2 × 2 × 2.*JSON or CSV/,
  );
  await assert.rejects(bytesOf({ ...run, layers: [] }, 'csv'), /no computed layer/);
});

test('CSV: long format, one row per (layer, head, query, key), token texts quoted as RFC 4180 says', async () => {
  const rows = parseCsv(new TextDecoder().decode(await bytesOf(SMALL, 'csv')));
  assert.deepEqual(rows[0], CSV_HEADER.split(','));
  assert.equal(rows.length - 1, 2 * 1 * 2 * 2, 'rows = layers × heads × query × key');
  assert.deepEqual(rows[1], ['0', '0', '0', '0', '0.5', 'a,b', 'a,b']);
  assert.deepEqual(rows[3], ['0', '0', '1', '0', '0.1', 'say "hi"', 'a,b']);
  assert.deepEqual(rows[8], ['1', '0', '1', '1', '0.7', 'say "hi"', 'say "hi"']);
  for (const r of rows.slice(1)) {
    const [l, h, q, k, w] = r.map(Number);
    assert.equal(Math.fround(w), SMALL.layers[l].data[(h * 2 + q) * 2 + k], 'weight reads back as the same float32');
  }
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a\nb'), '"a\nb"');
});

test('CSV: row count for 3 layers × 4 heads × 6 × 6, size estimate within 10%', async () => {
  const n = 6;
  const layers = [0, 1, 2].map((l) =>
    layer(
      l,
      4,
      n,
      Array.from({ length: 4 * n * n }, (_, i) => ((i * 7 + l) % 13) / 13),
    ),
  );
  const tokens = Array.from({ length: n }, (_, i) => ({ text: `tok${i}`, start: i, end: i + 1, special: false }));
  const run: RunData = { model: { name: 'm' }, tokens, layers };
  const bytes = await bytesOf(run, 'csv');
  const text = new TextDecoder().decode(bytes);
  assert.equal(text.split('\n').length - 2, 3 * 4 * n * n);
  const est = estimateDataSize(run, 'csv');
  assert.equal(est.exact, false);
  assert.ok(Math.abs(est.bytes - bytes.length) / bytes.length < 0.1, `estimate ${est.bytes} vs ${bytes.length}`);
});

test('CSV of a continued run: query_generated and key_generated mark the tokens the model wrote, as JSON does', async () => {
  // Prompt "a,b" then one generated token: a causal 2 → 3 grown map (hand-written).
  const tokens = [
    { text: 'a,b', start: 0, end: 3, special: false },
    { text: 'c', start: 3, end: 4, special: false },
    { text: 'd', start: null, end: null, special: false, generated: true },
  ];
  const run: RunData = {
    model: { name: 'tiny' },
    tokens,
    layers: [layer(0, 1, 3, [1, 0, 0, 0.4, 0.6, 0, 0.2, 0.3, 0.5], 'causal')],
  };
  const bytes = await bytesOf(run, 'csv');
  const rows = parseCsv(new TextDecoder().decode(bytes));
  assert.deepEqual(rows[0], [...CSV_HEADER.split(','), 'query_generated', 'key_generated']);
  assert.equal(rows.length - 1, 9);
  assert.deepEqual(rows[1], ['0', '0', '0', '0', '1', 'a,b', 'a,b', 'false', 'false']);
  assert.deepEqual(rows[7], ['0', '0', '2', '0', '0.2', 'd', 'a,b', 'true', 'false']);
  assert.deepEqual(rows[9], ['0', '0', '2', '2', '0.5', 'd', 'd', 'true', 'true']);
  assert.ok(rows.every((r) => r.length === 9));
  const json = JSON.parse(new TextDecoder().decode(await bytesOf(run, 'json')));
  assert.deepEqual(
    json.tokens.map((t: { generated?: boolean }) => t.generated === true),
    rows.slice(7, 10).map((r) => r[8] === 'true'),
    'the same marks as the JSON tokens',
  );
  const est = estimateDataSize(run, 'csv');
  assert.ok(Math.abs(est.bytes - bytes.length) / bytes.length < 0.25, `estimate ${est.bytes} vs ${bytes.length}`);
});

test('JSON: parses back to the model, tokens and every weight', async () => {
  const doc = JSON.parse(
    new TextDecoder().decode(await bytesOf({ ...SMALL, source: { uri: 'file:///x.txt' } }, 'json')),
  );
  assert.equal(doc.format, 'attention-lens-run');
  assert.equal(doc.model.name, 'tiny');
  assert.deepEqual(doc.source, { uri: 'file:///x.txt' });
  assert.deepEqual(doc.tokens[1], { index: 1, id: 9, text: 'say "hi"', start: 4, end: 12, special: false });
  assert.equal(doc.layers.length, 2);
  assert.deepEqual(doc.layers[1].attention, [
    [
      [1, 0],
      [0.3, 0.7],
    ],
  ]);
  assert.equal(Math.fround(doc.layers[0].attention[0][1][0]), SMALL.layers[0].data[2]);
});

test('JSON never holds a bare NaN or Infinity: such a weight is written as null, and the file parses', async () => {
  const run: RunData = { ...SMALL, layers: [layer(0, 1, 2, [NaN, 0.25, Infinity, -Infinity])] };
  const text = new TextDecoder().decode(await bytesOf(run, 'json'));
  assert.doesNotMatch(text, /NaN|Infinity/);
  assert.deepEqual(JSON.parse(text).layers[0].attention, [
    [
      [null, 0.25],
      [null, null],
    ],
  ]);
});

/** Reference: the fewest significant digits (toPrecision) whose decimal reads back as the float32. */

test('a 2,048-token run exports in every format (sizes stated)', async () => {
  const n = 2048;
  // One causal layer, one head: each row uniform over the keys it may see (w = 1/(q+1)).
  const data = new Float32Array(n * n);
  for (let q = 0; q < n; q++) data.fill(1 / (q + 1), q * n, q * n + q + 1);
  const tokens = Array.from({ length: n }, (_, i) => ({ text: `t${i}`, start: i, end: i + 1, special: false }));
  const run: RunData = {
    model: { name: 'long' },
    tokens,
    layers: [{ layer: 0, kind: 'causal', heads: 1, queryLength: n, keyLength: n, data }],
  };
  const npy = estimateDataSize(run, 'npy');
  assert.equal(npy.bytes, 128 + n * n * 4, 'NPY: 16 MiB per head at 2,048 tokens');
  let rows = -1;
  await writeData(run, 'csv', { write: (c) => void (rows += c.reduce((s, b) => s + (b === 10 ? 1 : 0), 0)) });
  assert.equal(rows, n * n, 'CSV: 4,194,304 rows per head');

  const input = new MemoryRunMaps('long', tokens, run.layers, 1);
  const png = await exportImage(input, { view: 'matrix', layer: 0, head: 0, colorMap: 'viridis' }, { format: 'png' });
  const g = png.geometry as MatrixGeometry;
  assert.deepEqual([g.rows, g.cell, g.pooled], [n, 1, false], 'PNG at scale 1: one pixel per token');
  const png4 = await exportImage(
    input,
    { view: 'matrix', layer: 0, head: 0, colorMap: 'viridis' },
    { format: 'png', scale: 4 },
  );
  assert.equal((png4.geometry as MatrixGeometry).rows, 1024, 'scale 4: pooled to 1,024 cells (4,096 px)');
  assert.match(png4.notes.join(' '), /2048 × 2048 tokens drawn as 1024 × 1024 cells/);
  const svg = await exportImage(input, { view: 'matrix', layer: 0, head: 0, colorMap: 'viridis' }, { format: 'svg' });
  assert.match(
    svg.notes.join(' '),
    /drawn as 256 × 256 cells: each cell is the maximum over the tokens it covers \(up to 8 × 8\)/,
  );
  const head = await exportImage(input, { view: 'head', layer: 0, head: 0, colorMap: 'viridis' }, { format: 'svg' });
  assert.match(head.notes.join(' '), /Token labels omitted/);
  console.log(
    `2,048 tokens, 1 layer × 1 head: NPY ${npy.bytes} bytes; CSV ≈ ${estimateDataSize(run, 'csv').bytes} bytes; ` +
      `matrix PNG ${png.width}×${png.height} px ${png.bytes.length} bytes (scale 4: ${png4.width}×${png4.height}, ${png4.bytes.length}); ` +
      `matrix SVG ${svg.bytes.length} bytes; head SVG ${head.bytes.length} bytes`,
  );
});

test('an encoder–decoder run as NPY: one file per kind (cross [layers, heads, target, source]); the sidecar names each', async () => {
  // Source of 3 tokens, target of 2; one head; encoder 1 layer, decoder 1 layer, cross 1 layer (entries 0, 1, 2).
  const enc = {
    layer: 0,
    kind: 'encoder' as const,
    stackLayer: 0,
    heads: 1,
    queryLength: 3,
    keyLength: 3,
    data: new Float32Array(9).fill(1 / 3),
  };
  const dec = {
    layer: 1,
    kind: 'decoder' as const,
    stackLayer: 0,
    heads: 1,
    queryLength: 2,
    keyLength: 2,
    data: Float32Array.of(1, 0, 0.25, 0.75),
  };
  const cross = {
    layer: 2,
    kind: 'cross' as const,
    stackLayer: 0,
    heads: 1,
    queryLength: 2,
    keyLength: 3,
    data: Float32Array.of(0.1, 0.2, 0.7, 0.5, 0.5, 0),
  };
  const run: RunData = {
    model: { name: 's2s' },
    tokens: ['a', 'b', '</s>'].map((text, i) => ({ text, start: i, end: i + 1, special: text === '</s>' })),
    layers: [enc, dec, cross],
    target: { target_tokens: [{ text: 'P' }, { text: 'Q' }] },
  };
  assert.deepEqual(
    npyKinds(run)?.map((k) => [k.kind, k.layers.map((l) => l.layer)]),
    [
      ['encoder', [0]],
      ['decoder', [1]],
      ['cross', [2]],
    ],
  );
  assert.equal(npyKindFile('r.npy', 'encoder'), 'r.npy');
  assert.equal(npyKindFile('r.npy', 'cross'), 'r.cross.npy');
  // The export's own file: the encoder's [1, 1, 3, 3].
  const main = await bytesOf(run, 'npy');
  assert.equal(main.length, npyHeader([1, 1, 3, 3]).length + 9 * 4);
  const chunks: Uint8Array[] = [];
  await writeNpyKind(run, 'cross', { write: (c) => void chunks.push(c.slice()) });
  const header = npyHeader([1, 1, 2, 3]);
  const body = Buffer.concat(chunks);
  assert.deepEqual(new Uint8Array(body.subarray(0, header.length)), header);
  assert.deepEqual(
    new Float32Array(body.buffer.slice(body.byteOffset + header.length, body.byteOffset + body.length)),
    cross.data,
  );
  const side = JSON.parse(npySidecar(run, 'r.npy')) as {
    arrays: unknown[];
    target_tokens: unknown[];
    layers: { stack_layer: number }[];
  };
  assert.deepEqual(side.arrays, [
    {
      kind: 'encoder',
      file: 'r.npy',
      dtype: '<f4',
      shape: [1, 1, 3, 3],
      axes: ['layer', 'head', 'source', 'source'],
      layers: [0],
    },
    {
      kind: 'decoder',
      file: 'r.decoder.npy',
      dtype: '<f4',
      shape: [1, 1, 2, 2],
      axes: ['layer', 'head', 'target', 'target'],
      layers: [1],
    },
    {
      kind: 'cross',
      file: 'r.cross.npy',
      dtype: '<f4',
      shape: [1, 1, 2, 3],
      axes: ['layer', 'head', 'target', 'source'],
      layers: [2],
    },
  ]);
  assert.equal(side.target_tokens.length, 2);
  assert.equal(
    estimateDataSize(run, 'npy').bytes,
    npyHeader([1, 1, 3, 3]).length + npyHeader([1, 1, 2, 2]).length + npyHeader([1, 1, 2, 3]).length + 19 * 4,
  );
});
