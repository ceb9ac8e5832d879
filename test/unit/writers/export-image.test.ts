// Image exports (writers/export-image.ts over the views' figures): PNGs (rasterised by resvg) are decoded and every
// matrix cell's pixels are checked against the attention weight through the colour map; SVGs are parsed as XML and
// checked for one <rect> per cell with the right fill and for labels equal to the tokens. Attention values come from
// the independent numpy reference of stories260K.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from 'fast-png';
import { colorAt } from '../../../figures/colormap';
import type { GridGeometry } from '../../../figures/grid-figure';
import type { MatrixGeometry } from '../../../figures/matrix-figure';
import { MemoryRunMaps } from '../../../figures/run-maps';
import { escapeXml } from '../../../figures/svg';
import { PAPER } from '../../../figures/theme';
import type { ViewSpec } from '../../../figures/view-figure';
import { exportImage, type ImageResult } from '../../../writers/export-image';
import { allElements, parseXml, type XmlElement } from '../../helpers/export-xml';
import { storiesMaps, storiesReference, type StoriesReference } from '../../helpers/stories-reference';

function refInput(): { input: MemoryRunMaps; ref: StoriesReference } {
  const ref = storiesReference();
  return { input: storiesMaps(ref), ref };
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

/** Every pixel of a matrix cell must be the colour map's colour for w / vmax (within LUT quantisation); a masked
 *  cell is grey, PAPER.masked hatched with PAPER.hatch at 45 % (no colour of the map), and the hatch shows. */
function checkMatrixPng(
  r: ImageResult,
  weight: (q: number, k: number) => number,
  masked: (q: number, k: number) => boolean,
) {
  const g = r.geometry as MatrixGeometry;
  const px = pixels(r);
  const s = r.scale;
  const light = PAPER.masked[0];
  const dark = Math.round(PAPER.masked[0] * 0.55 + PAPER.hatch![0] * 0.45);
  let hatched = 0;
  let maskedCells = 0;
  for (let q = 0; q < g.rows; q++)
    for (let k = 0; k < g.cols; k++) {
      const x0 = (g.x + k * g.cell) * s;
      const y0 = (g.y + q * g.cell) * s;
      if (masked(q, k)) {
        maskedCells++;
        for (let dy = 0; dy < g.cell * s; dy++)
          for (let dx = 0; dx < g.cell * s; dx++) {
            const [r0, g0, b0] = px(x0 + dx, y0 + dy);
            assert.ok(r0 === g0 && g0 === b0, `masked cell (${q}, ${k}) is grey: rgb(${r0}, ${g0}, ${b0})`);
            assert.ok(r0 >= dark - 2 && r0 <= light, `masked cell (${q}, ${k}): ${r0} between ${dark} and ${light}`);
            if (r0 < (light + dark) / 2) hatched++;
          }
        continue;
      }
      const want = colorAt('viridis', weight(q, k) / g.vmax);
      const first = px(x0, y0);
      closeRgb(first, want, 2, `cell (${q}, ${k})`);
      for (let dy = 0; dy < g.cell * s; dy++)
        for (let dx = 0; dx < g.cell * s; dx++)
          assert.deepEqual(px(x0 + dx, y0 + dy), first, `cell (${q}, ${k}) is one flat colour`);
    }
  if (maskedCells > 0) assert.ok(hatched > maskedCells, `the masked cells are hatched (${hatched} dark pixels)`);
}

/** A sentencepiece piece as figures label it: its word-start ▁ shown as ␣ (figures/token-display.ts). */
const shown = (piece: string) => piece.replace(/▁/g, '␣');

test('matrix PNG: every cell has the colour map colour of its weight (L2 H5, scales 1 and 3)', async () => {
  const { input, ref } = refInput();
  for (const scale of [1, 3]) {
    const spec: ViewSpec = { view: 'matrix', layer: 2, head: 5, colorMap: 'viridis' };
    const r = await exportImage(input, spec, { format: 'png', scale, source: 'Once upon a time — Café × 東京' });
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

test('matrix PNG: mean over heads equals a hand-computed mean (float64 loops)', async () => {
  const { input, ref } = refInput();
  const r = await exportImage(
    input,
    { view: 'matrix', layer: 4, head: 'mean', colorMap: 'viridis' },
    { format: 'png' },
  );
  const H = ref.shape[1];
  const mean = (q: number, k: number) => ref.attn[4].reduce((s, head) => s + head[q][k], 0) / H;
  checkMatrixPng(r, mean, (q, k) => k > q);
});

function svgOf(r: ImageResult): XmlElement {
  return parseXml(new TextDecoder().decode(r.bytes));
}

function hexRgb(h: string): number[] {
  assert.match(h, /^#[0-9a-f]{6}$/);
  return [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
}

test('matrix SVG: well-formed, one rect per cell with the weight colour, labels equal to the tokens', async () => {
  const { input, ref } = refInput();
  const r = await exportImage(input, { view: 'matrix', layer: 0, head: 7, colorMap: 'viridis' }, { format: 'svg' });
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
      assert.deepEqual(hexRgb(c.attrs.fill), [...PAPER.masked]);
      continue;
    }
    assert.ok(Math.abs(Number(c.attrs['data-weight']) - m[q][k]) < 1e-7, `data-weight (${q}, ${k})`);
    closeRgb(hexRgb(c.attrs.fill), colorAt('viridis', m[q][k] / vmax), 2, `fill (${q}, ${k})`);
  }
  assert.equal(seen.size, 17 * 17, 'every (row, col) once');
  const rowLabels = els.filter((e) => e.name === 'text' && e.attrs.class === 'label-row').map((e) => e.text);
  const colLabels = els.filter((e) => e.name === 'text' && e.attrs.class === 'label-col').map((e) => e.text);
  assert.deepEqual(rowLabels, ref.tokens.map(shown));
  assert.deepEqual(colLabels, ref.tokens.map(shown));
});

test('SVG labels are escaped text: markup, quotes, ampersands and control characters stay text', async () => {
  const tokens = ['<img src=x>', 'a&b', '"q"', "it's", '\u0001', '</svg>', '<img src=x onerror=alert(1)>'];
  const n = tokens.length;
  const data = new Float32Array(n * n).fill(1 / n);
  const input = new MemoryRunMaps(
    'm <script>',
    tokens.map((text) => ({ text })),
    [{ layer: 0, kind: 'self', heads: 1, queryLength: n, keyLength: n, data }],
    1,
  );
  for (const view of ['matrix', 'head'] as const) {
    const r = await exportImage(input, { view, layer: 0, head: 0, colorMap: 'greys' }, { format: 'svg' });
    const els = allElements(svgOf(r));
    const names = new Set(els.map((e) => e.name));
    assert.deepEqual(
      [...names].sort(),
      ['desc', 'g', 'line', 'polygon', 'rect', 'svg', 'text', 'title'].filter((x) => names.has(x)),
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

test('grid PNG and SVG: one thumbnail per layer and head, each scaled to its own maximum', async () => {
  const { input, ref } = refInput();
  const spec: ViewSpec = { view: 'grid', layer: 1, head: 2, colorMap: 'viridis' };
  const png = await exportImage(input, spec, { format: 'png', scale: 2 });
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
  const svg = allElements(svgOf(await exportImage(input, spec, { format: 'svg' })));
  const thumbs = svg.filter((e) => e.name === 'g' && e.attrs.class === 'thumb');
  assert.equal(thumbs.length, 5 * 8);
  for (const t of thumbs) assert.equal(t.children.length, 17 * 17);
  assert.equal(svg.filter((e) => e.attrs.class === 'selected').length, 1, 'the selected head is outlined');
  // The export's caption: the model and the grid's shape; the colour bar says each head has its own scale.
  const caption = svg.find((e) => e.attrs.class === 'caption')!;
  assert.equal(caption.text, 'stories260K · model grid: 5 layers × 8 heads · 17 tokens');
  assert.ok(svg.some((e) => e.name === 'text' && /each head scaled to its own maximum/.test(e.text)));
});

test('head view SVG: one line per weight above the cutoff, opacity = weight, labels on both sides', async () => {
  const { input, ref } = refInput();
  const r = await exportImage(input, { view: 'head', layer: 3, head: 1, colorMap: 'viridis' }, { format: 'svg' });
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
    ref.tokens.map(shown),
  );
  assert.deepEqual(
    els.filter((e) => e.attrs.class === 'label-right').map((e) => e.text),
    ref.tokens.map(shown),
  );
  const png = await exportImage(
    input,
    { view: 'head', layer: 3, head: 'mean', colorMap: 'viridis' },
    { format: 'png' },
  );
  assert.equal(decode(png.bytes).width, png.width);
});

test('bad requests get actionable messages', async () => {
  const { input } = refInput();
  const spec: ViewSpec = { view: 'matrix', layer: 9, head: 0, colorMap: 'viridis' };
  await assert.rejects(
    () => exportImage(input, spec, { format: 'png' }),
    /Layer 9 does not exist: the model has 5 layers \(0–4\)/,
  );
  await assert.rejects(
    () => exportImage(input, { ...spec, layer: 0, head: 8 }, { format: 'svg' }),
    /Head 8 does not exist: the model has 8 heads \(0–7\), or use mean or max/,
  );
  await assert.rejects(
    () => exportImage(input, { ...spec, layer: 0 }, { format: 'png', scale: 5 }),
    /Scale must be 1, 2, 3 or 4/,
  );
  const partial = new MemoryRunMaps('stories260K', input.tokens, 5, 8);
  partial.add(input.layer(0)!);
  await assert.rejects(
    () => exportImage(partial, { ...spec, layer: 2 }, { format: 'png' }),
    /Layer 2 has not been computed yet/,
  );
  // The grid draws what exists and says what is missing.
  const grid = await exportImage(partial, { ...spec, view: 'grid', layer: 0 }, { format: 'svg' });
  assert.match(grid.notes.join(' '), /32 thumbnails are empty/);
});
