// Scene → PNG without a browser: the scene's SVG (cell blocks as nearest-neighbour images) rasterised by resvg
// (@resvg/resvg-wasm: the same WebAssembly on every platform, no native binary) with real fonts (fonts.ts), then
// encoded as 8-bit RGB with the title and notes as tEXt chunks (fast-png). Cells are whole device pixels at integer
// scales, so a cell's pixels carry exactly its colour-map colour.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { initWasm, Resvg } from '@resvg/resvg-wasm';
import { ExportError } from '../figures/figure-kit';
import type { ImageItem, Scene } from '../figures/scene';
import { sceneToSvg } from '../figures/svg';
import { checkScale, pngSize } from '../figures/view-figure';
import { BUNDLED_FAMILY, fontsFor } from './fonts';

/** Largest PNG an export may allocate (pixels): 8192 × 8192. */
export const MAX_PNG_PIXELS = 8192 * 8192;

let ready: Promise<void> | undefined;

/** resvg's WebAssembly: dist/resvg.wasm beside the bundle (the build copies it), else the package's. */
function wasmPath(): string {
  const beside = join(__dirname, 'resvg.wasm');
  if (existsSync(beside)) return beside;
  return createRequire(__filename).resolve('@resvg/resvg-wasm/index_bg.wasm');
}

/** Loads resvg once per process. */
export function initResvg(): Promise<void> {
  ready ??= initWasm(readFileSync(wasmPath())).catch((e: unknown) => {
    ready = undefined;
    throw e;
  });
  return ready;
}

/** A data: URI of a cell block's pixels (one pixel per cell; resvg scales it without smoothing). */
function cellPng(it: ImageItem): string {
  const rgb = new Uint8Array(it.rows * it.cols * 3);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    rgb[i] = it.rgba[j];
    rgb[i + 1] = it.rgba[j + 1];
    rgb[i + 2] = it.rgba[j + 2];
  }
  const png = encode({ width: it.cols, height: it.rows, data: rgb, channels: 3, depth: 8 });
  return `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
}

/** All the text of a scene (to choose fonts for). */
function sceneText(scene: Scene): string {
  return scene.items.map((it) => (it.kind === 'text' ? it.text : '')).join('');
}

export interface RasterOptions {
  /** Fonts added after the bundled and system ones (tests pass a CJK subset). */
  fonts?: readonly Uint8Array[];
  /** Only the bundled font and `fonts`, no system fonts (tests of what the bundled font draws). */
  noSystemFonts?: boolean;
}

/** The scene rasterised at `scale`: RGBA pixels [height, width, 4]. */
export async function rasterizeScene(
  scene: Scene,
  scale: number,
  options: RasterOptions = {},
): Promise<{ width: number; height: number; rgba: Uint8Array }> {
  checkScale(scale);
  const { width, height } = pngSize(scene, scale);
  if (width * height > MAX_PNG_PIXELS)
    throw new ExportError(
      `The image would be ${width} × ${height} pixels, more than the limit of ${MAX_PNG_PIXELS / 1048576} megapixels: choose a smaller scale or export SVG.`,
    );
  await initResvg();
  const text = options.noSystemFonts ? '' : sceneText(scene);
  const fonts = fontsFor(text, options.fonts);
  const svg = sceneToSvg(scene, { cellImage: cellPng });
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    font: {
      fontBuffers: fonts.buffers,
      defaultFontFamily: BUNDLED_FAMILY,
      sansSerifFamily: BUNDLED_FAMILY,
    },
    imageRendering: 1, // optimizeSpeed: nearest neighbour, so cells stay flat
  });
  try {
    const image = resvg.render();
    try {
      return { width: image.width, height: image.height, rgba: image.pixels };
    } finally {
      image.free();
    }
  } finally {
    resvg.free();
  }
}

/** PNG bytes of the scene at `scale` (RGB, 8 bits, with the title and notes as tEXt chunks). */
export async function sceneToPng(scene: Scene, scale: number, options: RasterOptions = {}): Promise<Uint8Array> {
  const r = await rasterizeScene(scene, scale, options);
  const rgb = new Uint8Array(r.width * r.height * 3);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    rgb[i] = r.rgba[j];
    rgb[i + 1] = r.rgba[j + 1];
    rgb[i + 2] = r.rgba[j + 2];
  }
  const latin1 = (s: string) => s.replace(/[^\x20-\x7e\xa0-\xff]/g, '?');
  const text: Record<string, string> = { Title: latin1(scene.title), Software: 'Attention Lens' };
  if (scene.notes.length) text.Comment = latin1(scene.notes.join(' '));
  return encode({ width: r.width, height: r.height, data: rgb, channels: 3, depth: 8, text });
}
