// PNG export through resvg with real fonts (writers/png.ts, writers/fonts.ts). Text: a Korean, a Chinese and an
// accented label, and the symbols a bitmap font of ASCII would lose (· × — ␣ ⏎ ▁), come out as glyphs — their pixels differ
// from the box drawn for a character no font has, and from each other. The Korean and Chinese fonts are the test
// subsets in test/fixtures/fonts and system fonts are left out, so no result depends on this machine's fonts. The PNG
// and the SVG of one scene agree: every <rect> of the SVG has the colour of the PNG's pixels under it, and the vector
// SVG rasterised on its own gives the PNG's pixels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decode } from 'fast-png';
import { Resvg } from '@resvg/resvg-wasm';
import { EXPORT_OPTIONS } from '../../../figures/figure-kit';
import { matrixFigure, EXPORT_MATRIX_SIZE } from '../../../figures/matrix-figure';
import type { Scene } from '../../../figures/scene';
import { sceneToSvg } from '../../../figures/svg';
import { PAPER } from '../../../figures/theme';
import { BUNDLED_FAMILY, bundledFontPath, fontsFor, scriptOf } from '../../../writers/fonts';
import { initResvg, rasterizeScene, sceneToPng } from '../../../writers/png';
import { allElements, parseXml } from '../../helpers/export-xml';
import { testFonts } from '../../helpers/fixtures';
import { storiesMaps } from '../../helpers/stories-reference';

const CJK = [readFileSync(testFonts.hangul), readFileSync(testFonts.han)].map((b) => new Uint8Array(b));

/** One line of text, 28 px, on white: its pixels as greys (0 = ink, 255 = paper). */
async function draw(text: string, fonts = CJK): Promise<Uint8Array> {
  const scene: Scene = {
    width: 240,
    height: 48,
    background: [255, 255, 255],
    fontFamily: PAPER.fontFamily,
    title: '',
    notes: [],
    items: [{ kind: 'text', role: 't', x: 8, y: 24, text, size: 28, color: [0, 0, 0], anchor: 'start' }],
    regions: [],
    targets: [],
  };
  const r = await rasterizeScene(scene, 1, { fonts, noSystemFonts: true });
  const grey = new Uint8Array(r.width * r.height);
  for (let i = 0; i < grey.length; i++) grey[i] = r.rgba[i * 4];
  return grey;
}

const ink = (g: Uint8Array) => g.reduce((n, v) => n + (v < 128 ? 1 : 0), 0);
/** Pixels whose ink differs between two drawings. */
const differ = (a: Uint8Array, b: Uint8Array) => a.reduce((n, v, i) => n + (v < 128 !== b[i] < 128 ? 1 : 0), 0);

/** U+E000 (private use): no font has it, so it is drawn as the bundled font's box. */
const NONE = '\uE000';

test('Korean, Chinese and accented labels are drawn as glyphs, not boxes, and differ from each other', async () => {
  const korean = await draw('어텐션');
  const chinese = await draw('東京');
  const accented = await draw('Café');
  const boxes3 = await draw(NONE.repeat(3));
  const boxes2 = await draw(NONE.repeat(2));
  for (const [name, g] of [
    ['Korean', korean],
    ['Chinese', chinese],
    ['accented', accented],
  ] as const)
    assert.ok(ink(g) > 100, `${name}: ink drawn (${ink(g)} px)`);
  assert.ok(differ(korean, boxes3) > 100, `Korean vs three boxes: ${differ(korean, boxes3)} px differ`);
  assert.ok(differ(chinese, boxes2) > 100, `Chinese vs two boxes: ${differ(chinese, boxes2)} px differ`);
  assert.ok(differ(korean, chinese) > 100 && differ(chinese, accented) > 100 && differ(korean, accented) > 100);
  // The accent is drawn: 'Café' is not 'Cafe', nor 'Caf' and a box.
  assert.ok(differ(accented, await draw('Cafe')) > 10, 'the acute accent');
  assert.ok(differ(accented, await draw(`Caf${NONE}`)) > 30, 'é is not a box');
  // Without the test fonts (the bundled font only), the same Korean text is boxes: the fonts did it.
  const withoutFonts = await draw('어텐션', []);
  assert.ok(differ(withoutFonts, boxes3) < 20, 'no Hangul font: boxes');
});

test('the symbols figures use come from the bundled font: · × — → ↓ ␣ ⏎ ▁ Ġ τ ρ −', async () => {
  const box = await draw(NONE);
  const drawn: Uint8Array[] = [];
  for (const ch of ['·', '×', '—', '→', '↓', '␣', '⏎', '▁', 'Ġ', 'τ', 'ρ', '−']) {
    const g = await draw(ch, []);
    assert.ok(ink(g) > 0, `${ch}: ink`);
    assert.ok(differ(g, box) > 10, `${ch} is not the box (${differ(g, box)} px differ)`);
    drawn.push(g);
  }
  assert.ok(differ(drawn[0], drawn[1]) > 10, '· and × differ');
});

test('fonts: the bundled font always, system fonts only for scripts it lacks, test fonts last', () => {
  assert.equal(BUNDLED_FAMILY, 'DejaVu Sans');
  const ascii = fontsFor('attention · × — Café');
  assert.deepEqual(ascii.files, [bundledFontPath()], 'Latin and symbols need nothing else');
  assert.equal(fontsFor('東京', CJK).buffers.length, fontsFor('東京').buffers.length + 2);
  assert.equal(scriptOf('어'.codePointAt(0)!), 'hangul');
  assert.equal(scriptOf('東'.codePointAt(0)!), 'cjk');
  assert.equal(scriptOf('ש'.codePointAt(0)!), 'other');
});

test('the PNG and the SVG of one scene agree: rect fills, and the vector SVG rasterised on its own', async () => {
  const { scene } = matrixFigure(
    storiesMaps(),
    { layer: 2, head: 5, colorMap: 'magma' },
    { ...EXPORT_MATRIX_SIZE, maxCells: 256 },
    PAPER,
    EXPORT_OPTIONS,
  );
  const png = decode(await sceneToPng(scene, 2, { noSystemFonts: true }));
  assert.deepEqual([png.width, png.height], [scene.width * 2, scene.height * 2]);
  const px = (x: number, y: number) =>
    Array.from(png.data.subarray((y * png.width + x) * png.channels, (y * png.width + x) * png.channels + 3));
  // Every cell and legend step of the SVG has its fill under its centre in the PNG.
  const svg = sceneToSvg(scene);
  const rects = allElements(parseXml(svg)).filter(
    (e) => e.name === 'rect' && /^(cell|legend-cell)$/.test(e.attrs.class),
  );
  assert.equal(rects.length, 17 * 17 + 64, 'a rect per cell and per legend step');
  for (const r of rects) {
    const cx = Math.floor((Number(r.attrs.x) + Number(r.attrs.width) / 2) * 2);
    const cy = Math.floor((Number(r.attrs.y) + Number(r.attrs.height) / 2) * 2);
    const want = [1, 3, 5].map((i) => parseInt(r.attrs.fill.slice(i, i + 2), 16));
    assert.deepEqual(px(cx, cy), want, `${r.attrs.class} at (${r.attrs.x}, ${r.attrs.y})`);
  }
  // The vector SVG (one <rect> per cell) through resvg gives the PNG's pixels (cells drawn as images there).
  await initResvg();
  const vector = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: 2 },
    font: { fontBuffers: fontsFor('').buffers, defaultFontFamily: BUNDLED_FAMILY, sansSerifFamily: BUNDLED_FAMILY },
  });
  const img = vector.render();
  const v = img.pixels;
  img.free();
  vector.free();
  let worst = 0;
  let off = 0;
  for (let i = 0, j = 0; i < png.width * png.height; i++, j += png.channels)
    for (let c = 0; c < 3; c++) {
      const d = Math.abs(v[i * 4 + c] - png.data[j + c]);
      worst = Math.max(worst, d);
      if (d > 0) off++;
    }
  assert.equal(off, 0, `the vector SVG and the PNG differ in ${off} channel values (worst ${worst})`);
});
