// Image exports (webview/render): PNGs are decoded and every matrix cell's pixels are checked against the attention
// weight through the colour map; SVGs are parsed as XML and checked for one <rect> per cell with the right fill and
// for labels equal to the tokens. Attention values come from the independent numpy reference of stories260K.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decode } from 'fast-png';
import type { LayerAttention } from '../../../../runtime/types';
import { colorAt, colorLut } from '../../../../webview/render/colormap';
import { rasterize } from '../../../../webview/render/heatmap';
import { exportImage, type ImageResult } from '../../../../webview/render/export-image';
import { MASKED, poolMatrix, type ExportInput, type ViewSpec } from '../../../../webview/render/export-figure';
import type { MatrixGeometry } from '../../../../webview/render/export-matrix';
import type { GridGeometry } from '../../../../webview/render/export-grid';
import { escapeXml } from '../../../../webview/render/svg';
import { Raster } from '../../../../webview/render/raster';
import { toFontText } from '../../../../webview/render/export-font';
import { allElements, parseXml, type XmlElement } from '../../../helpers/export-xml';
import { storiesReferenceFile } from '../../../helpers/fixtures';

interface Reference {
  tokens: string[];
  shape: [number, number, number, number];
  attn: number[][][][];
}

function reference(): Reference {
  return JSON.parse(readFileSync(storiesReferenceFile, 'utf8')) as Reference;
}

function refInput(): { input: ExportInput; ref: Reference } {
  const ref = reference();
  const [, H, Q, K] = ref.shape;
  const layers: LayerAttention[] = ref.attn.map((l, i) => ({
    layer: i,
    kind: 'causal',
    heads: H,
    queryLength: Q,
    keyLength: K,
    data: Float32Array.from(l.flat(2)),
  }));
  return { input: { modelName: 'stories260K', tokens: ref.tokens.map((text) => ({ text })), layers, heads: H }, ref };
}

function closeRgb(got: number[], want: readonly number[], tol: number, what: string): void {
  const ok = got.every((v, i) => Math.abs(v - want[i]) <= tol);
  assert.ok(ok, `${what}: got rgb(${got}), expected rgb(${want}) ±${tol}`);
}

/** Decodes the PNG and returns a pixel reader. */
function pixels(r: ImageResult): (x: number, y: number) => number[] {
  const png = decode(r.bytes);
  assert.equal(png.width, r.width);
  assert.equal(png.height, r.height);
  assert.equal(png.depth, 8);
  const ch = png.channels;
  return (x, y) => Array.from(png.data.subarray((y * png.width + x) * ch, (y * png.width + x) * ch + 3));
}

/** Every pixel of a matrix cell must be the colour map's colour for w / vmax (within LUT quantisation). */
function checkMatrixPng(
  r: ImageResult,
  weight: (q: number, k: number) => number,
  masked: (q: number, k: number) => boolean,
) {
  const g = r.geometry as MatrixGeometry;
  const px = pixels(r);
  const s = r.scale;
  for (let q = 0; q < g.rows; q++)
    for (let k = 0; k < g.cols; k++) {
      const want = masked(q, k) ? MASKED : colorAt('viridis', weight(q, k) / g.vmax);
      const x0 = (g.x + k * g.cell) * s;
      const y0 = (g.y + q * g.cell) * s;
      const first = px(x0, y0);
      closeRgb(first, want, 2, `cell (${q}, ${k})`);
      for (let dy = 0; dy < g.cell * s; dy++)
        for (let dx = 0; dx < g.cell * s; dx++)
          assert.deepEqual(px(x0 + dx, y0 + dy), first, `cell (${q}, ${k}) is one flat colour`);
    }
}

test('matrix PNG: every cell has the colour map colour of its weight (L2 H5, scales 1 and 3)', () => {
  const { input, ref } = refInput();
  for (const scale of [1, 3]) {
    const spec: ViewSpec = { view: 'matrix', layer: 2, head: 5, colorMap: 'viridis' };
    const r = exportImage(input, spec, { format: 'png', scale });
    const g = r.geometry as MatrixGeometry;
    assert.equal(g.rows, 17);
    assert.equal(g.pooled, false);
    const m = ref.attn[2][5];
    assert.ok(Math.abs(g.vmax - Math.max(...m.flat())) < 1e-6, 'vmax is the matrix maximum');
    checkMatrixPng(
      r,
      (q, k) => m[q][k],
      (q, k) => k > q,
    );
  }
});

test('matrix PNG: mean over heads equals a hand-computed mean (float64 loops)', () => {
  const { input, ref } = refInput();
  const r = exportImage(input, { view: 'matrix', layer: 4, head: 'mean', colorMap: 'viridis' }, { format: 'png' });
  const H = ref.shape[1];
  const mean = (q: number, k: number) => ref.attn[4].reduce((s, head) => s + head[q][k], 0) / H;
  checkMatrixPng(r, mean, (q, k) => k > q);
});

test('matrix PNG cells agree with heatmap.rasterize (the panel matrix raster)', () => {
  const { input } = refInput();
  const r = exportImage(input, { view: 'matrix', layer: 1, head: 3, colorMap: 'magma' }, { format: 'png', scale: 2 });
  const g = r.geometry as MatrixGeometry;
  const l = input.layers[1]!;
  const n = 17 * 17;
  const panel = rasterize(l.data, 3 * n, 17, 17, 17, 17, {
    lut: colorLut('magma'),
    vmax: g.vmax,
    causal: true,
    maskColor: [...MASKED, 255] as [number, number, number, number],
  });
  const px = pixels(r);
  for (let q = 0; q < 17; q++)
    for (let k = 0; k < 17; k++) {
      const i = (q * 17 + k) * 4;
      assert.deepEqual(px((g.x + k * g.cell) * 2 + 1, (g.y + q * g.cell) * 2 + 1), [
        panel[i],
        panel[i + 1],
        panel[i + 2],
      ]);
    }
});

test('poolMatrix: max over covered cells, masked only when every covered cell is (hand-computed)', () => {
  // 4×4 causal, rows [1..4] × 0.1: pooled 2×2 → [[max(r0c0, r1c0..c1), masked], [max rows 2-3 cols 0-1, max rows 2-3 cols 2-3 on/below diag]]
  const d = new Float32Array([0.9, 0, 0, 0, 0.2, 0.8, 0, 0, 0.1, 0.3, 0.6, 0, 0.05, 0.15, 0.25, 0.55]);
  const { values, masked } = poolMatrix(d, 0, 4, 4, 2, 2, true);
  assert.deepEqual([...masked], [0, 1, 0, 0]);
  assert.deepEqual(
    [...values].map((v) => Math.round(v * 100) / 100),
    [0.9, 0, 0.3, 0.6],
  );
  // Uneven bins: 5 → 2 covers rows {0, 1} and {2, 3, 4}.
  const e = Float32Array.from({ length: 25 }, (_, i) => i);
  assert.deepEqual([...poolMatrix(e, 0, 5, 5, 2, 2, false).values], [6, 9, 21, 24]);
});

function svgOf(r: ImageResult): XmlElement {
  return parseXml(new TextDecoder().decode(r.bytes));
}

function hexRgb(h: string): number[] {
  assert.match(h, /^#[0-9a-f]{6}$/);
  return [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
}

test('matrix SVG: well-formed, one rect per cell with the weight colour, labels equal to the tokens', () => {
  const { input, ref } = refInput();
  const r = exportImage(input, { view: 'matrix', layer: 0, head: 7, colorMap: 'viridis' }, { format: 'svg' });
  const root = svgOf(r);
  assert.equal(root.name, 'svg');
  assert.equal(root.attrs.xmlns, 'http://www.w3.org/2000/svg');
  assert.equal(root.attrs.viewBox, `0 0 ${r.width} ${r.height}`);
  const els = allElements(root);
  const group = els.find((e) => e.name === 'g' && e.attrs.class === 'matrix')!;
  assert.ok(group, 'a <g class="matrix">');
  const cells = group.children.filter((e) => e.name === 'rect' && e.attrs.class === 'cell');
  assert.equal(cells.length, 17 * 17, 'one rect per cell');
  const vmax = Number(group.attrs['data-vmax']);
  const m = ref.attn[0][7];
  const seen = new Set<string>();
  for (const c of cells) {
    const q = Number(c.attrs['data-row']);
    const k = Number(c.attrs['data-col']);
    seen.add(`${q},${k}`);
    if (k > q) {
      assert.equal(c.attrs['data-masked'], '1');
      assert.deepEqual(hexRgb(c.attrs.fill), [...MASKED]);
      continue;
    }
    assert.ok(Math.abs(Number(c.attrs['data-weight']) - m[q][k]) < 1e-7, `data-weight (${q}, ${k})`);
    closeRgb(hexRgb(c.attrs.fill), colorAt('viridis', m[q][k] / vmax), 2, `fill (${q}, ${k})`);
  }
  assert.equal(seen.size, 17 * 17, 'every (row, col) once');
  const rowLabels = els.filter((e) => e.name === 'text' && e.attrs.class === 'label-row').map((e) => e.text);
  const colLabels = els.filter((e) => e.name === 'text' && e.attrs.class === 'label-col').map((e) => e.text);
  assert.deepEqual(rowLabels, ref.tokens);
  assert.deepEqual(colLabels, ref.tokens);
});

test('SVG labels are escaped text: markup, quotes, ampersands and control characters stay text', () => {
  const tokens = ['<img src=x>', 'a&b', '"q"', "it's", '\u0001', '</svg>', '<img src=x onerror=alert(1)>'];
  const n = tokens.length;
  const data = new Float32Array(n * n).fill(1 / n);
  const input: ExportInput = {
    modelName: 'm <script>',
    tokens: tokens.map((text) => ({ text })),
    layers: [{ layer: 0, kind: 'self', heads: 1, queryLength: n, keyLength: n, data }],
    heads: 1,
  };
  for (const view of ['matrix', 'head'] as const) {
    const r = exportImage(input, { view, layer: 0, head: 0, colorMap: 'greys' }, { format: 'svg' });
    const els = allElements(svgOf(r));
    const names = new Set(els.map((e) => e.name));
    assert.deepEqual(
      [...names].sort(),
      ['desc', 'g', 'line', 'rect', 'svg', 'text', 'title'].filter((x) => names.has(x)),
    );
    assert.ok(!names.has('img') && !names.has('script'));
    const labels = els.filter((e) => e.name === 'text' && /^label-(row|left)$/.test(e.attrs.class));
    assert.deepEqual(
      labels.map((e) => e.text),
      [...tokens.slice(0, 4), '\uFFFD', '</svg>', '<img src=x oner…'],
      `${view}: labels (longer than 16 characters: cut, with the full text in data-token)`,
    );
    assert.equal(labels[6].attrs['data-token'], tokens[6]);
  }
  assert.equal(escapeXml('a<b>&"\''), 'a&lt;b&gt;&amp;&quot;&apos;');
});

test('grid PNG and SVG: one thumbnail per layer and head, each scaled to its own maximum', () => {
  const { input, ref } = refInput();
  const spec: ViewSpec = { view: 'grid', layer: 1, head: 2, colorMap: 'viridis' };
  const png = exportImage(input, spec, { format: 'png', scale: 2 });
  const g = png.geometry as GridGeometry;
  assert.equal(g.res, 17);
  const px = pixels(png);
  for (const [l, h, q, k] of [
    [0, 0, 5, 2],
    [3, 6, 16, 16],
    [4, 7, 10, 0],
  ]) {
    const m = ref.attn[l][h];
    const vmax = Math.max(...m.flat());
    const x = (g.x + h * g.pitch + k * g.cell) * 2;
    const y = (g.y + l * g.pitch + q * g.cell) * 2;
    closeRgb(px(x, y), colorAt('viridis', m[q][k] / vmax), 2, `L${l} H${h} (${q}, ${k})`);
  }
  const svg = allElements(svgOf(exportImage(input, spec, { format: 'svg' })));
  const thumbs = svg.filter((e) => e.name === 'g' && e.attrs.class === 'thumb');
  assert.equal(thumbs.length, 5 * 8);
  for (const t of thumbs) assert.equal(t.children.length, 17 * 17);
  assert.equal(svg.filter((e) => e.attrs.class === 'selected').length, 1, 'the selected head is outlined');
});

test('head view SVG: one line per weight above the cutoff, opacity = weight, labels on both sides', () => {
  const { input, ref } = refInput();
  const r = exportImage(input, { view: 'head', layer: 3, head: 1, colorMap: 'viridis' }, { format: 'svg' });
  const els = allElements(svgOf(r));
  const lines = els.filter((e) => e.name === 'line');
  const m = ref.attn[3][1];
  const expected = m.flat().filter((w) => w >= 1 / 17).length;
  assert.equal(lines.length, expected, 'lines for weights ≥ max(0.01, 1/keys)');
  for (const l of lines) {
    const w = m[Number(l.attrs['data-query'])][Number(l.attrs['data-key'])];
    assert.ok(Math.abs(Number(l.attrs['stroke-opacity']) - w) < 1e-6);
  }
  assert.deepEqual(
    els.filter((e) => e.attrs.class === 'label-left').map((e) => e.text),
    ref.tokens,
  );
  assert.deepEqual(
    els.filter((e) => e.attrs.class === 'label-right').map((e) => e.text),
    ref.tokens,
  );
  const png = exportImage(input, { view: 'head', layer: 3, head: 'mean', colorMap: 'viridis' }, { format: 'png' });
  assert.equal(decode(png.bytes).width, png.width);
});

test('bad requests get actionable messages', () => {
  const { input } = refInput();
  const spec: ViewSpec = { view: 'matrix', layer: 9, head: 0, colorMap: 'viridis' };
  assert.throws(
    () => exportImage(input, spec, { format: 'png' }),
    /Layer 9 does not exist: the model has 5 layers \(0–4\)/,
  );
  assert.throws(
    () => exportImage(input, { ...spec, layer: 0, head: 8 }, { format: 'svg' }),
    /Head 8 does not exist: the model has 8 heads \(0–7\), or use mean or max/,
  );
  assert.throws(
    () => exportImage(input, { ...spec, layer: 0 }, { format: 'png', scale: 5 }),
    /Scale must be 1, 2, 3 or 4/,
  );
  const partial: ExportInput = { ...input, layers: [input.layers[0], undefined, undefined, undefined, undefined] };
  assert.throws(
    () => exportImage(partial, { ...spec, layer: 2 }, { format: 'png' }),
    /Layer 2 has not been computed yet/,
  );
  // The grid draws what exists and says what is missing.
  const grid = exportImage(partial, { ...spec, view: 'grid', layer: 0 }, { format: 'svg' });
  assert.match(grid.notes.join(' '), /32 thumbnails are empty/);
});

test('bitmap font and raster: glyph pixels, rotation, anchors, blended lines', () => {
  assert.equal(toFontText('▁Ġé中\n·×'), '__e\u0000\\n|x');
  // 'L' is a column of ink at x 0 over rows 0–6 and a bottom bar on row 6.
  const r = new Raster(20, 20, [255, 255, 255]);
  const w = r.text(2, 10, 'L', 1, [0, 0, 0]); // centre y 10: glyph top at 10 - round(4.5) = 6 (rounded -4.5 → -4)
  assert.equal(w, 6);
  const top = 10 + Math.round(-9 / 2);
  for (let y = 0; y < 7; y++) assert.deepEqual(r.pixel(2, top + y), [0, 0, 0], `L stem row ${y}`);
  for (let x = 0; x < 5; x++) assert.deepEqual(r.pixel(2 + x, top + 6), [0, 0, 0], `L bar column ${x}`);
  assert.deepEqual(r.pixel(3, top), [255, 255, 255]);
  // Vertical text reads bottom to top from (10, 15): glyph column c lies on y = 15 - c - 1 and glyph row r on
  // x = left + r, so the stem (column 0, rows 0–6) is the run of pixels (left..left+6, 14).
  const v = new Raster(20, 20);
  v.text(10, 15, 'L', 1, [0, 0, 0], 'start', true);
  const left = 10 + Math.round(-9 / 2);
  for (let i = 0; i < 7; i++) assert.deepEqual(v.pixel(left + i, 14), [0, 0, 0], `rotated stem ${i}`);
  // End anchor: the text ends at x.
  const e = new Raster(30, 12);
  e.text(24, 6, 'LL', 1, [0, 0, 0], 'end');
  assert.deepEqual(e.pixel(12, 6 + Math.round(-9 / 2)), [0, 0, 0], 'first L starts at 24 - 12');
  // A horizontal line at half opacity blends halfway to the colour.
  const l = new Raster(10, 3);
  l.line(0, 1, 9, 1, [0, 0, 0], 0.5);
  assert.deepEqual(l.pixel(5, 1), [128, 128, 128]);
  assert.deepEqual(l.pixel(5, 0), [255, 255, 255]);
  assert.throws(() => new Raster(9000, 9000), /exceeds the limit/);
});
