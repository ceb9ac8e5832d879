// `attention-lens export` as users run it (node dist/cli.js) on stories260K: the matrix PNG's cells carry the colour
// of the independent reference attention, the SVG's labels are the tokens, CSV/NPY hold every weight, the PNG equals
// what figures/ + writers/ draw from the same numbers (one renderer for CLI and panel), and Ctrl-C leaves no file. Bad
// requests: bad-input-catalogue.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { decode } from 'fast-png';
import { colorAt } from '../../../figures/colormap';
import type { MatrixGeometry } from '../../../figures/matrix-figure';
import { MemoryRunMaps } from '../../../figures/run-maps';
import { PAPER } from '../../../figures/theme';
import { exportImage } from '../../../writers/export-image';
import { allElements, parseXml } from '../../helpers/export-xml';
import { fixtureModel, repoRoot, storiesReferenceFile } from '../../helpers/fixtures';

const ROOT = repoRoot;
const MODEL = fixtureModel('stories260K');
const CLI = path.join(ROOT, 'dist/cli.js');
const TMP = mkdtempSync(path.join(tmpdir(), 'lens-export-cli-'));
after(() => rmSync(TMP, { recursive: true, force: true }));
const TEXT = 'Once upon a time, there was a little girl named Lily. She';

interface Reference {
  text: string;
  tokens: string[];
  shape: [number, number, number, number];
  attn: number[][][][];
}
let ref: Reference;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const exportArgs = (...more: string[]) => ['export', '--model', MODEL, '--text', TEXT, ...more];

before(() => {
  ref = JSON.parse(readFileSync(storiesReferenceFile, 'utf8')) as Reference;
  assert.equal(ref.text, TEXT);
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
});

test('matrix PNG: each cell has the colour map colour of the reference weight', async () => {
  const out = path.join(TMP, 'matrix.png');
  const r = cli(
    ...exportArgs('--view', 'matrix', '--layer', '2', '--head', '5', '--format', 'png', '--scale', '2', '--out', out),
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote .*matrix\.png \(matrix, layer 2, head 5; \d+ × \d+ px, [\d.]+ KB\)/);
  const png = decode(readFileSync(out));
  // Geometry from the renderer (the CLI draws with it): origin and cell size of a 17-token matrix.
  const m = ref.attn[2][5];
  const vmax = Math.max(...m.flat());
  const tokens = ref.tokens.map((text) => ({ text }));
  const layers = ref.attn.map((l, i) => ({
    layer: i,
    kind: 'causal' as const,
    heads: 8,
    queryLength: 17,
    keyLength: 17,
    data: Float32Array.from(l.flat(2)),
  }));
  const g = (
    await exportImage(
      new MemoryRunMaps('stories260K', tokens, layers, 8),
      { view: 'matrix', layer: 2, head: 5, colorMap: 'viridis' },
      { format: 'png', scale: 2, source: TEXT },
    )
  ).geometry as MatrixGeometry;
  for (let q = 0; q < 17; q++)
    for (let k = 0; k < 17; k++) {
      const x = (g.x + (k + 0.5) * g.cell) * 2;
      const y = (g.y + (q + 0.5) * g.cell) * 2;
      const p = (Math.floor(y) * png.width + Math.floor(x)) * png.channels;
      const got = Array.from(png.data.subarray(p, p + 3));
      const want = k > q ? PAPER.masked : colorAt('viridis', m[q][k] / vmax);
      assert.ok(
        got.every((v, i) => Math.abs(v - want[i]) <= 4),
        `cell (${q}, ${k}): rgb(${got}) vs rgb(${want}) for weight ${m[q][k]}`,
      );
    }
});

test('the CLI PNG and SVG equal what figures/ and writers/ draw from the run’s own numbers (NPY)', async () => {
  const npy = path.join(TMP, 'run.npy');
  assert.equal(cli(...exportArgs('--out', npy)).code, 0);
  const bytes = readFileSync(npy);
  const headerLen = bytes[8] | (bytes[9] << 8);
  const header = bytes.subarray(10, 10 + headerLen).toString('latin1');
  assert.match(header, /'shape': \(5, 8, 17, 17\)/);
  const values = new Float32Array(
    bytes.buffer.slice(bytes.byteOffset + 10 + headerLen, bytes.byteOffset + bytes.length),
  );
  // The run agrees with the independent reference (about 1e-5).
  let maxDiff = 0;
  values.forEach((v, i) => {
    const [l, h, q, k] = [Math.floor(i / 2312), Math.floor(i / 289) % 8, Math.floor(i / 17) % 17, i % 17];
    maxDiff = Math.max(maxDiff, Math.abs(v - ref.attn[l][h][q][k]));
  });
  assert.ok(maxDiff < 1e-4, `CLI attention vs reference: max difference ${maxDiff}`);
  // Beside it, its JSON sidecar: what the .npy cannot hold (the tokens, the layer layout), naming the array.
  const side = JSON.parse(readFileSync(`${npy}.json`, 'utf8')) as {
    format: string;
    array: { file: string; dtype: string; shape: number[] };
    tokens: { text: string }[];
    layers: { kind: string; heads: number }[];
  };
  assert.equal(side.format, 'attention-lens-npy-sidecar');
  assert.deepEqual(side.array, { ...side.array, file: 'run.npy', dtype: '<f4', shape: [5, 8, 17, 17] });
  assert.deepEqual(
    side.tokens.map((t) => t.text),
    ref.tokens,
  );
  assert.deepEqual(
    side.layers.map((l) => [l.kind, l.heads]),
    Array.from({ length: 5 }, () => ['causal', 8]),
  );
  // Token labels come from the SVG export (escaped text): the reference's tokens, sentencepiece's ▁ shown as ␣.
  const svgOut = path.join(TMP, 'head.svg');
  assert.equal(cli(...exportArgs('--view', 'head', '--layer', '1', '--head', 'max', '--out', svgOut)).code, 0);
  const svgText = readFileSync(svgOut, 'utf8');
  const labels = allElements(parseXml(svgText))
    .filter((e) => e.attrs.class === 'label-left')
    .map((e) => e.text);
  assert.deepEqual(
    labels,
    ref.tokens.map((t) => t.replace(/▁/g, '␣')),
  );
  const input = new MemoryRunMaps(
    'stories260K',
    labels.map((text) => ({ text })),
    [0, 1, 2, 3, 4].map((l) => ({
      layer: l,
      kind: 'causal' as const,
      heads: 8,
      queryLength: 17,
      keyLength: 17,
      data: values.slice(l * 2312, (l + 1) * 2312),
    })),
    8,
  );
  // The caption names the model, the layer and the head, and quotes the source sentence.
  const svgEls = allElements(parseXml(svgText));
  assert.equal(
    svgEls.find((e) => e.attrs.class === 'caption')?.text,
    'stories260K · layer 1 (causal) · strongest head per pair · 17 × 17 tokens',
  );
  assert.equal(svgEls.find((e) => e.attrs.class === 'source')?.text, `“${TEXT}”`);
  const pngOut = path.join(TMP, 'grid.png');
  assert.equal(cli(...exportArgs('--view', 'grid', '--layer', '3', '--head', '1', '--out', pngOut)).code, 0);
  const grid = await exportImage(
    input,
    { view: 'grid', layer: 3, head: 1, colorMap: 'viridis' },
    { format: 'png', source: TEXT },
  );
  assert.ok(Buffer.from(grid.bytes).equals(readFileSync(pngOut)), 'grid PNG: same bytes');
  const head = await exportImage(
    input,
    { view: 'head', layer: 1, head: 'max', colorMap: 'viridis' },
    { format: 'svg', source: TEXT },
  );
  assert.equal(new TextDecoder().decode(head.bytes), svgText, 'head SVG: same text');
});

test('CSV: one row per layer × head × query × key', () => {
  const out = path.join(TMP, 'run.csv');
  const r = cli(...exportArgs('--out', out));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /CSV: 5 layers × 8 heads × 17 × 17, 11,560 rows/);
  const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
  assert.equal(lines[0], 'layer,head,query,key,weight,query_token,key_token');
  assert.equal(lines.length - 1, 5 * 8 * 17 * 17);
});

test('Ctrl-C during a long CSV export leaves no file behind (exit 130)', async () => {
  const dir = path.join(TMP, 'interrupt');
  mkdirSync(dir);
  const long = path.join(dir, 'long.txt');
  writeFileSync(long, `${TEXT} `.repeat(60)); // truncated to 512 tokens: 10,485,760 CSV rows
  const out = path.join(dir, 'long.csv');
  const child = spawn(
    process.execPath,
    [CLI, ...['export', '--model', MODEL, '--file', long, '--truncate', '--out', out]],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  // Wait until the temporary file exists (the export is writing), then interrupt.
  for (;;) {
    if (readdirSync(dir).some((f) => f.endsWith('.partial'))) break;
    const code = await Promise.race([exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 50))]);
    assert.equal(code, 'running', `the export ended before it could be interrupted: ${stderr}`);
  }
  child.kill('SIGINT');
  assert.equal(await exited, 130, stderr);
  assert.match(stderr, /interrupted; the unfinished output was removed/);
  assert.deepEqual(readdirSync(dir), ['long.txt'], 'no partial file and no output');
});
