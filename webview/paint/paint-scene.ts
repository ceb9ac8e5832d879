// Paints a scene (figures/scene.ts) on a canvas 2D context, item by item, in the scene's CSS pixels: cell blocks as
// images scaled without smoothing (one offscreen canvas per block, kept while its pixels are the same array), crisp
// rectangles with strokes inside, anti-aliased lines, polylines and circles, text with fillText (never markup), and
// hatched polygons. What the SVG writer writes for the export, item for item, so the two agree by construction.
import type { ImageItem, Rgb, Scene, SceneItem } from '../../figures/scene';

const css = (c: Rgb) => `rgb(${c[0]}, ${c[1]}, ${c[2]})`;

/** The font last set on each context. */
const fonts = new WeakMap<CanvasRenderingContext2D, string>();

/** Offscreen canvases of cell blocks, by their pixel arrays (figures reuse the array for unchanged tiles). */
const images = new WeakMap<Uint8ClampedArray, HTMLCanvasElement>();

function imageOf(it: ImageItem): HTMLCanvasElement {
  let c = images.get(it.rgba);
  if (!c) {
    c = document.createElement('canvas');
    c.width = it.cols;
    c.height = it.rows;
    const g = c.getContext('2d');
    const px = new Uint8ClampedArray(it.rgba.buffer as ArrayBuffer, it.rgba.byteOffset, it.cols * it.rows * 4);
    g?.putImageData(new ImageData(px, it.cols, it.rows), 0, 0);
    images.set(it.rgba, c);
  }
  return c;
}

export interface PaintOptions {
  /** Leave the text out (the pixel comparison with the export). */
  skipText?: boolean;
  /** Only the items that reach into these rows (CSS px): the band of a tall scene that is painted. */
  rows?: { top: number; bottom: number };
}

/** The rows an item covers (vertical text: up to a long label's length above its anchor). */
function extent(it: SceneItem): [number, number] {
  switch (it.kind) {
    case 'image':
      return [it.y, it.y + it.rows * it.cellH];
    case 'rect':
      return [it.y, it.y + it.h];
    case 'line':
      return [Math.min(it.y1, it.y2) - 1, Math.max(it.y1, it.y2) + 1];
    case 'circle':
      return [it.cy - it.r, it.cy + it.r];
    case 'text':
      return it.vertical ? [it.y - 20 * it.size, it.y + it.size] : [it.y - it.size, it.y + it.size];
    default: {
      const ys = it.points.map((p) => p[1]);
      return [Math.min(...ys) - 1, Math.max(...ys) + 1];
    }
  }
}

export function paintItem(g: CanvasRenderingContext2D, it: SceneItem, fontFamily: string): void {
  switch (it.kind) {
    case 'image':
      g.imageSmoothingEnabled = false;
      g.drawImage(imageOf(it), it.x, it.y, it.cols * it.cellW, it.rows * it.cellH);
      return;
    case 'rect': {
      if (it.fill) {
        g.fillStyle = css(it.fill);
        g.fillRect(it.x, it.y, it.w, it.h);
      }
      if (it.stroke) {
        const sw = it.strokeWidth ?? 1;
        g.strokeStyle = css(it.stroke);
        g.lineWidth = sw;
        g.strokeRect(it.x + sw / 2, it.y + sw / 2, Math.max(0, it.w - sw), Math.max(0, it.h - sw));
      }
      return;
    }
    case 'line':
      g.globalAlpha = it.opacity;
      g.strokeStyle = css(it.color);
      g.lineWidth = it.width ?? 1;
      g.beginPath();
      g.moveTo(it.x1, it.y1);
      g.lineTo(it.x2, it.y2);
      g.stroke();
      g.globalAlpha = 1;
      return;
    case 'polyline':
      if (!it.points.length) return;
      g.strokeStyle = css(it.color);
      g.lineWidth = it.width;
      g.lineJoin = 'round';
      g.beginPath();
      it.points.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y)));
      g.stroke();
      return;
    case 'circle':
      g.fillStyle = css(it.fill);
      g.beginPath();
      g.arc(it.cx, it.cy, it.r, 0, 2 * Math.PI);
      g.fill();
      return;
    case 'text': {
      // Setting a font parses it: only when it changes (a head view sets one font a thousand times).
      const font = `${it.size}px ${fontFamily}`;
      if (fonts.get(g) !== font) {
        g.font = font;
        fonts.set(g, font);
      }
      g.fillStyle = css(it.color);
      g.textAlign = it.anchor === 'middle' ? 'center' : it.anchor === 'end' ? 'right' : 'left';
      g.textBaseline = 'middle';
      if (it.vertical) {
        g.save();
        g.translate(it.x, it.y);
        g.rotate(-Math.PI / 2);
        g.fillText(it.text, 0, 0);
        g.restore();
      } else g.fillText(it.text, it.x, it.y);
      return;
    }
    case 'hatch': {
      if (it.points.length < 3) return;
      g.save();
      g.beginPath();
      it.points.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y)));
      g.closePath();
      g.fillStyle = css(it.background);
      g.fill();
      g.clip();
      // Lines y = x − d for every multiple d of the spacing (as the SVG pattern draws them).
      const xs = it.points.map((p) => p[0]);
      const ys = it.points.map((p) => p[1]);
      const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
      g.strokeStyle = css(it.color);
      g.globalAlpha = it.opacity;
      g.lineWidth = 1;
      g.beginPath();
      for (let d = Math.floor((x0 - y1) / it.spacing) * it.spacing; d <= x1 - y0; d += it.spacing) {
        g.moveTo(d + y0, y0);
        g.lineTo(d + y1, y1);
      }
      g.stroke();
      g.restore();
      return;
    }
  }
}

/** Paints the whole scene (background first) into a context whose transform maps CSS px to the canvas. */
export function paintScene(g: CanvasRenderingContext2D, scene: Scene, options: PaintOptions = {}): void {
  fonts.delete(g); // a canvas that was resized forgot its font
  g.fillStyle = css(scene.background);
  g.fillRect(0, 0, scene.width, scene.height);
  const rows = options.rows;
  const whole = !rows || (rows.top <= 0 && rows.bottom >= scene.height);
  for (const it of scene.items) {
    if (options.skipText && it.kind === 'text') continue;
    if (!whole) {
      const [y0, y1] = extent(it);
      if (y1 < rows.top || y0 > rows.bottom) continue;
    }
    paintItem(g, it, scene.fontFamily);
  }
}
