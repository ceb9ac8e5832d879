// The panel's picture and the exported picture agree by construction: one scene (the figure functions of figures/)
// painted both ways — on a canvas in headless chromium by the panel's painter (webview/paint/paint-scene.ts, bundled
// as the panel bundles it), and rasterised from its SVG by resvg as PNG export does (writers/png.ts). Everything but
// text is compared pixel by pixel within a tolerance (anti-aliased edges of lines and circles differ between the two
// rasterisers); text is compared by content and position: the canvas's fillText calls (with their transform) against
// the SVG's <text> elements, and the ink of each label lies in the same place in both pictures. Scenes: the matrix
// (hatched masked cells, labels, colour bar), the model grid, the head view (lines), the Explain figure (strip,
// agreement, curves, markers, head statistics) and the comparison, from stories260K's reference attention.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { decode, encode } from 'fast-png';
import { chromium, type Browser, type Page } from 'playwright-core';
import { compareFigure } from '../../../../figures/compare-figure';
import { explainFigure } from '../../../../figures/explain-figure';
import { EXPORT_OPTIONS, PANEL_OPTIONS } from '../../../../figures/figure-kit';
import { gridFigure } from '../../../../figures/grid-figure';
import { headFigure } from '../../../../figures/head-figure';
import { matrixFigure } from '../../../../figures/matrix-figure';
import type { Scene, TextItem } from '../../../../figures/scene';
import { sceneToSvg } from '../../../../figures/svg';
import { PAPER, type FigureTheme } from '../../../../figures/theme';
import { rasterizeScene } from '../../../../writers/png';
import { chromiumPath } from '../../../helpers/code-server';
import { headsResult } from '../../../helpers/explain-fixture';
import { allElements, parseXml } from '../../../helpers/export-xml';
import { repoRoot } from '../../../helpers/fixtures';
import { storiesMaps } from '../../../helpers/stories-reference';

/** The panel's kind of theme (masked cells hatched) in the export's colours and font. */
const HATCHED: FigureTheme = { ...PAPER, hatch: [136, 136, 136] };

function scenes(): [string, Scene][] {
  const maps = storiesMaps();
  const size = { target: 360, minCell: 3, maxCell: 28, maxCells: 256 };
  const a = maps.row(1, 0, 0).length;
  const map = (layer: number, head: number) => {
    const m = new Float32Array(a * a); // [query, key]
    for (let q = 0; q < a; q++) m.set(maps.row(layer, head, q), q * a);
    return m;
  };
  const ma = map(1, 0);
  const mb = map(1, 1);
  const tokens = maps.tokens;
  return [
    ['matrix', matrixFigure(maps, { layer: 2, head: 5, colorMap: 'viridis' }, size, HATCHED, EXPORT_OPTIONS).scene],
    [
      'grid',
      gridFigure(
        maps,
        { layer: 1, head: 3, colorMap: 'magma' },
        { thumb: 44, maxThumbCells: 48 },
        PAPER,
        EXPORT_OPTIONS,
      ).scene,
    ],
    ['head', headFigure(maps, { layer: 3, head: 'mean' }, { maxHeight: 400 }, PAPER, PANEL_OPTIONS).scene],
    [
      'explain',
      explainFigure(headsResult(), { metric: 'spearman', colorMap: 'blues' }, PAPER, {
        ...EXPORT_OPTIONS,
        source: 'a <b>',
      }),
    ],
    [
      'compare',
      compareFigure(
        {
          modelName: 'stories260K',
          mode: 'heads',
          layer: 1,
          a: { label: 'head 0', tokens, causal: true, data: ma },
          b: { label: 'head 1', tokens, causal: true, data: mb },
          alignA: Array.from({ length: a }, (_, i) => i),
          alignB: Array.from({ length: a }, (_, i) => i),
          diff: mb.map((v, i) => v - ma[i]),
          rowJsd: new Float32Array(a).fill(0.1),
          jsd: 0.1,
          tvd: 0.2,
        },
        'greys',
        PAPER,
        EXPORT_OPTIONS,
      ),
    ],
  ];
}

const withoutText = (s: Scene): Scene => ({ ...s, items: s.items.filter((it) => it.kind !== 'text') });
const onlyText = (s: Scene): Scene => ({ ...s, items: s.items.filter((it) => it.kind === 'text') });

let browser: Browser;
let page: Page;
let tmp: string;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'lens-paint-'));
  // The painter as the panel bundles it, exposed to the page.
  const out = join(tmp, 'paint.js');
  await esbuild.build({
    stdin: {
      contents: `import { paintScene } from './webview/paint/paint-scene'; (window as any).paintScene = paintScene;`,
      resolveDir: repoRoot,
      loader: 'ts',
    },
    outfile: out,
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
    logLevel: 'warning',
  });
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu'],
  });
  page = await browser.newPage({ deviceScaleFactor: 1 });
  await page.setContent('<!DOCTYPE html><html><body></body></html>');
  await page.addScriptTag({ content: readFileSync(out, 'utf8') });
  // Record every fillText with the position it lands on (the current transform applied to its anchor).
  await page.evaluate(() => {
    const w = window as unknown as { texts: { text: string; x: number; y: number; align: string }[] };
    w.texts = [];
    const fill = CanvasRenderingContext2D.prototype.fillText;
    CanvasRenderingContext2D.prototype.fillText = function (this: CanvasRenderingContext2D, text, x, y, max) {
      const p = this.getTransform().transformPoint(new DOMPoint(x, y));
      w.texts.push({ text, x: p.x, y: p.y, align: this.textAlign });
      return fill.call(this, text, x, y, max);
    };
  });
});

after(async () => {
  await browser?.close();
  rmSync(tmp, { recursive: true, force: true });
});

type Drawn = { text: string; x: number; y: number; align: string };

/** The scene painted on a canvas in the page (the panel's painter): RGBA (through a lossless PNG), fillText calls. */
async function onCanvas(scene: Scene): Promise<{ rgba: Uint8Array; texts: Drawn[] }> {
  const r = await page.evaluate((s) => {
    const w = window as unknown as { texts: unknown[]; paintScene(g: CanvasRenderingContext2D, s: unknown): void };
    // Cell colours crossed as base64: back to what the painter takes.
    for (const it of s.items as { kind: string; rgba?: unknown }[])
      if (it.kind === 'image') it.rgba = Uint8ClampedArray.from(atob(it.rgba as string), (c) => c.charCodeAt(0));
    w.texts = [];
    const c = document.createElement('canvas');
    c.width = s.width;
    c.height = s.height;
    w.paintScene(c.getContext('2d')!, s);
    return { png: c.toDataURL('image/png'), texts: w.texts };
  }, plain(scene));
  const png = decode(Buffer.from(r.png.slice(r.png.indexOf(',') + 1), 'base64'));
  const rgba = new Uint8Array(scene.width * scene.height * 4);
  for (let i = 0; i < scene.width * scene.height; i++)
    for (let c = 0; c < 4; c++) rgba[i * 4 + c] = c < png.channels ? png.data[i * png.channels + c] : 255;
  return { rgba, texts: r.texts as Drawn[] };
}

/** The scene with its cell colours as base64 (what page.evaluate carries quickly). */
function plain(scene: Scene): Scene & { items: unknown[] } {
  return {
    ...scene,
    items: scene.items.map((it) =>
      it.kind === 'image'
        ? {
            ...it,
            rgba: Buffer.from(it.rgba.buffer, it.rgba.byteOffset, it.rgba.length).toString('base64'),
            values: undefined,
            masked: undefined,
          }
        : it,
    ),
  } as unknown as Scene & { items: unknown[] };
}

/** The scene as PNG export rasterises it (bundled font only: the same font on every machine). */
async function byResvg(scene: Scene): Promise<Uint8Array> {
  return (await rasterizeScene(scene, 1, { noSystemFonts: true })).rgba;
}

test('panel canvas and PNG export: the same pixels for everything but text', { timeout: 60_000 }, async () => {
  for (const [name, scene] of scenes()) {
    const bare = withoutText(scene);
    const canvas = (await onCanvas(bare)).rgba;
    const png = await byResvg(bare);
    assert.equal(canvas.length, png.length, `${name}: same size`);
    let sum = 0;
    let off = 0;
    let close = 0;
    const n = scene.width * scene.height;
    for (let i = 0; i < n; i++) {
      let d = 0;
      for (let c = 0; c < 3; c++) d = Math.max(d, Math.abs(canvas[i * 4 + c] - png[i * 4 + c]));
      sum += d;
      if (d > 48) off++;
      if (d <= 8) close++;
    }
    const mean = sum / n;
    if (process.env.PAINT_DUMP) dump(name, scene, canvas, png);
    // Cells, rectangles and legends are crisp in both; only anti-aliased edges (lines, curves, markers, hatching)
    // may differ, and then by little.
    assert.ok(mean < 1, `${name}: mean difference ${mean.toFixed(3)} per pixel`);
    assert.ok(off / n < 0.001, `${name}: ${off} of ${n} pixels differ by more than 48`);
    assert.ok(close / n > 0.99, `${name}: ${((100 * close) / n).toFixed(1)} % of pixels within 8 levels`);
    console.log(
      `${name}: mean ${mean.toFixed(3)}, ${off} px off by > 48, ${((100 * close) / n).toFixed(2)} % within 8`,
    );
  }
});

test('panel canvas and SVG/PNG export: the same text at the same places', { timeout: 60_000 }, async () => {
  for (const [name, scene] of scenes()) {
    const texts = scene.items.filter((it): it is TextItem => it.kind === 'text');
    // Content and anchor: the canvas's fillText calls against the SVG's <text> elements, in order.
    const drawn = (await onCanvas(scene)).texts;
    const svg = allElements(parseXml(sceneToSvg(scene))).filter((e) => e.name === 'text');
    assert.equal(drawn.length, texts.length, `${name}: every text drawn on the canvas`);
    assert.equal(svg.length, texts.length, `${name}: every text in the SVG`);
    const align = { start: 'left', middle: 'center', end: 'right' } as const;
    texts.forEach((t, i) => {
      assert.equal(drawn[i].text, t.text, `${name} text ${i}`);
      assert.equal(svg[i].text, t.text, `${name} SVG text ${i}`);
      assert.ok(
        Math.abs(drawn[i].x - t.x) < 0.01 && Math.abs(drawn[i].y - t.y) < 0.01,
        `${name} "${t.text}" on the canvas`,
      );
      assert.equal(Number(svg[i].attrs.x), Math.round(t.x * 100) / 100, `${name} "${t.text}" x in the SVG`);
      assert.equal(Number(svg[i].attrs.y), Math.round(t.y * 100) / 100, `${name} "${t.text}" y in the SVG`);
      assert.equal(drawn[i].align, align[t.anchor]);
      assert.equal(svg[i].attrs['text-anchor'], t.anchor);
    });
    // Ink: each label's ink lies around its anchor in both pictures (the same font, DejaVu Sans, in both).
    const words = onlyText(scene);
    const canvas = (await onCanvas(words)).rgba;
    const png = await byResvg(words);
    let checked = 0;
    for (const t of texts) {
      // Horizontal dark text (light text on dark cells has no ink on the bare paper of this comparison).
      if (!/\S/.test(t.text) || t.vertical || t.color[0] + t.color[1] + t.color[2] > 384) continue;
      const box = inkBox(t, scene.width, scene.height);
      const a = inkCentre(canvas, scene.width, box);
      const b = inkCentre(png, scene.width, box);
      assert.ok(a && b, `${name} "${t.text}": ink in both pictures`);
      assert.ok(
        Math.abs(a.y - b.y) <= 2,
        `${name} "${t.text}": ink centred at y ${a.y.toFixed(1)} and ${b.y.toFixed(1)}`,
      );
      assert.ok(
        Math.abs(a.x - b.x) <= 2 + 0.05 * (box.x1 - box.x0),
        `${name} "${t.text}": ink centred at x ${a.x.toFixed(1)} and ${b.x.toFixed(1)}`,
      );
      checked++;
    }
    assert.ok(checked >= 5, `${name}: ${checked} labels compared`);
  }
});

/** Where a horizontal text's ink may be: its estimated box (the theme's measure), a little wider. */
function inkBox(t: TextItem, width: number, height: number) {
  const w = PAPER.measure(t.text, t.size);
  const x0 = t.anchor === 'start' ? t.x : t.anchor === 'middle' ? t.x - w / 2 : t.x - w;
  const clamp = (v: number, hi: number) => Math.max(0, Math.min(hi, Math.round(v)));
  return {
    x0: clamp(x0 - 2, width),
    x1: clamp(x0 + w + 2, width),
    y0: clamp(t.y - t.size * 0.6, height),
    y1: clamp(t.y + t.size * 0.6, height),
  };
}

/** The centre of the pixels darker than the paper in a box, or null when there are none. */
function inkCentre(rgba: Uint8Array, width: number, b: { x0: number; x1: number; y0: number; y1: number }) {
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let y = b.y0; y < b.y1; y++)
    for (let x = b.x0; x < b.x1; x++) {
      const i = (y * width + x) * 4;
      const ink = 765 - rgba[i] - rgba[i + 1] - rgba[i + 2];
      if (ink > 60) {
        sx += x * ink;
        sy += y * ink;
        n += ink;
      }
    }
  return n ? { x: sx / n, y: sy / n } : null;
}

/** PAINT_DUMP=1: writes both pictures of each scene to the temp folder, to look at a failure. */
function dump(name: string, scene: Scene, canvas: Uint8Array, png: Uint8Array): void {
  for (const [what, data] of [
    ['canvas', canvas],
    ['resvg', png],
  ] as const) {
    const file = join(tmpdir(), `paint-${name}-${what}.png`);
    writeFileSync(file, encode({ width: scene.width, height: scene.height, data, channels: 4, depth: 8 }));
    console.log(`wrote ${file}`);
  }
}

test('a band of a tall scene is painted as the whole scene is in those rows', { timeout: 60_000 }, async () => {
  // The head view of 17 tokens (rows of 20 px): rows 60–180 painted alone, against the same rows of the whole. With
  // nothing culled by mistake, only anti-aliasing may differ; a missing label or line would differ by far more.
  const [, scene] = scenes().find(([name]) => name === 'head')!;
  const band = await page.evaluate(
    ({ s, top, bottom }) => {
      const w = window as unknown as { paintScene(g: CanvasRenderingContext2D, s: unknown, o?: unknown): void };
      const whole = document.createElement('canvas');
      whole.width = s.width;
      whole.height = s.height;
      const gw = whole.getContext('2d')!;
      w.paintScene(gw, s);
      const part = document.createElement('canvas');
      part.width = s.width;
      part.height = bottom - top;
      const gp = part.getContext('2d')!;
      gp.setTransform(1, 0, 0, 1, 0, -top);
      w.paintScene(gp, s, { rows: { top, bottom } });
      const a = gw.getImageData(0, top, s.width, bottom - top).data;
      const b = gp.getImageData(0, 0, s.width, bottom - top).data;
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
      return { worst, n: a.length };
    },
    { s: plain(scene), top: 60, bottom: 180 },
  );
  // Lines cut by the band's edge are anti-aliased a little differently by the browser; nothing is left out or added.
  assert.ok(band.worst <= 16, `the band differs from the whole by up to ${band.worst} levels`);
});
