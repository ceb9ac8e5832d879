// Writes a scene as SVG 1.1: true vectors (one <rect> per cell with its exact value in data-weight, one <line> per
// link), text as <text> elements whose content is escaped text (never markup), masked regions hatched with a
// <pattern>. With `cellImage`, cell blocks become one <image> each instead (what the PNG writer hands to resvg: a
// 512 × 512 matrix is one image, not 262,144 rects). DOM-free.
import { f32String } from './labels';
import type { Rgb, Scene, SceneItem } from './scene';

/** Characters XML 1.0 forbids (controls, lone surrogates, U+FFFE/U+FFFF) become U+FFFD. */
const INVALID_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function escapeXml(text: string): string {
  return text
    .replace(INVALID_XML, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A coordinate with at most 2 decimals. */
function n(v: number): string {
  return String(Math.round(v * 100) / 100);
}

export function hex(c: Rgb): string {
  return '#' + c.map((v) => v.toString(16).padStart(2, '0')).join('');
}

function attrs(a: Record<string, string> | undefined): string {
  if (!a) return '';
  return Object.entries(a)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');
}

export interface SvgOptions {
  /** An href for a cell block drawn as one image (a data: URI of its pixels); absent: one <rect> per cell. */
  cellImage?: (item: Extract<SceneItem, { kind: 'image' }>) => string;
}

function points(ps: readonly (readonly [number, number])[]): string {
  return ps.map(([x, y]) => `${n(x)},${n(y)}`).join(' ');
}

function item(it: SceneItem, out: string[], o: SvgOptions, defs: string[]): void {
  switch (it.kind) {
    case 'image': {
      const head = `<g class="${it.role}"${attrs(it.attrs)} data-rows="${it.rows}" data-cols="${it.cols}">`;
      if (o.cellImage) {
        out.push(
          head,
          `<image x="${n(it.x)}" y="${n(it.y)}" width="${n(it.cols * it.cellW)}" height="${n(it.rows * it.cellH)}" preserveAspectRatio="none" image-rendering="optimizeSpeed" href="${o.cellImage(it)}"/>`,
          '</g>',
        );
        return;
      }
      out.push(head);
      const cls = it.values ? 'cell' : `${it.role}-cell`;
      for (let r = 0; r < it.rows; r++)
        for (let c = 0; c < it.cols; c++) {
          const i = r * it.cols + c;
          const fill = hex([it.rgba[i * 4], it.rgba[i * 4 + 1], it.rgba[i * 4 + 2]]);
          let extra = '';
          if (it.values) {
            extra = ` data-row="${r}" data-col="${c}"`;
            extra += it.masked?.[i] ? ' data-masked="1"' : ` data-weight="${f32String(it.values[i])}"`;
          }
          out.push(
            `<rect class="${cls}" x="${n(it.x + c * it.cellW)}" y="${n(it.y + r * it.cellH)}" width="${n(it.cellW)}" height="${n(it.cellH)}" fill="${fill}"${extra}/>`,
          );
        }
      out.push('</g>');
      return;
    }
    case 'rect': {
      const sw = it.stroke ? (it.strokeWidth ?? 1) : 0;
      // Strokes lie inside the rectangle (as the canvas painter draws them).
      const geometry = `x="${n(it.x + sw / 2)}" y="${n(it.y + sw / 2)}" width="${n(Math.max(0, it.w - sw))}" height="${n(Math.max(0, it.h - sw))}"`;
      if (it.fill && sw) {
        out.push(
          `<rect class="${it.role}" x="${n(it.x)}" y="${n(it.y)}" width="${n(it.w)}" height="${n(it.h)}" fill="${hex(it.fill)}"/>`,
        );
        out.push(
          `<rect class="${it.role}-stroke" ${geometry} fill="none" stroke="${hex(it.stroke!)}" stroke-width="${n(sw)}"/>`,
        );
      } else if (sw)
        out.push(
          `<rect class="${it.role}" ${geometry} fill="none" stroke="${hex(it.stroke!)}" stroke-width="${n(sw)}"/>`,
        );
      else
        out.push(
          `<rect class="${it.role}" x="${n(it.x)}" y="${n(it.y)}" width="${n(it.w)}" height="${n(it.h)}" fill="${it.fill ? hex(it.fill) : 'none'}"/>`,
        );
      return;
    }
    case 'text': {
      const rotate = it.vertical ? ` transform="rotate(-90 ${n(it.x)} ${n(it.y)})"` : '';
      out.push(
        `<text class="${it.role}" x="${n(it.x)}" y="${n(it.y)}" font-size="${n(it.size)}" fill="${hex(it.color)}" text-anchor="${it.anchor}" dominant-baseline="central" xml:space="preserve"${rotate}${attrs(it.attrs)}>${escapeXml(it.text)}</text>`,
      );
      return;
    }
    case 'line':
      out.push(
        `<line class="${it.role}" x1="${n(it.x1)}" y1="${n(it.y1)}" x2="${n(it.x2)}" y2="${n(it.y2)}" stroke="${hex(it.color)}" stroke-opacity="${f32String(it.opacity)}"${it.width ? ` stroke-width="${n(it.width)}"` : ''}${attrs(it.attrs)}/>`,
      );
      return;
    case 'polyline':
      out.push(
        `<polyline class="${it.role}" points="${points(it.points)}" fill="none" stroke="${hex(it.color)}" stroke-width="${n(it.width)}" stroke-linejoin="round"${attrs(it.attrs)}/>`,
      );
      return;
    case 'circle':
      out.push(`<circle class="${it.role}" cx="${n(it.cx)}" cy="${n(it.cy)}" r="${n(it.r)}" fill="${hex(it.fill)}"/>`);
      return;
    case 'hatch': {
      const id = `hatch-${defs.length}`;
      const s = n(it.spacing);
      defs.push(
        `<pattern id="${id}" patternUnits="userSpaceOnUse" x="0" y="0" width="${s}" height="${s}">` +
          `<rect width="${s}" height="${s}" fill="${hex(it.background)}"/>` +
          `<path d="M0,0 L${s},${s} M${-it.spacing},0 L0,${s} M${s},0 L${n(2 * it.spacing)},${s}" stroke="${hex(it.color)}" stroke-opacity="${f32String(it.opacity)}" stroke-width="1" shape-rendering="geometricPrecision"/></pattern>`,
      );
      out.push(`<polygon class="${it.role}" points="${points(it.points)}" fill="url(#${id})"/>`);
      return;
    }
  }
}

/** Items drawn anti-aliased (the cells, rectangles and text stay crisp). */
const SMOOTH = new Set<SceneItem['kind']>(['line', 'polyline', 'circle']);

/** The scene as a standalone SVG document (UTF-8 text). */
export function sceneToSvg(scene: Scene, options: SvgOptions = {}): string {
  const body: string[] = [];
  const defs: string[] = [];
  let smooth = false;
  for (const it of scene.items) {
    if (SMOOTH.has(it.kind) !== smooth) {
      smooth = !smooth;
      body.push(smooth ? '<g class="links" shape-rendering="geometricPrecision">' : '</g>');
    }
    item(it, body, options, defs);
  }
  if (smooth) body.push('</g>');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${scene.width}" height="${scene.height}" viewBox="0 0 ${scene.width} ${scene.height}" font-family="${escapeXml(scene.fontFamily)}" shape-rendering="crispEdges">`,
    `<title>${escapeXml(scene.title)}</title>`,
    `<desc>${escapeXml(scene.notes.join(' '))}</desc>`,
    ...(defs.length ? ['<defs>', ...defs, '</defs>'] : []),
    `<rect class="background" x="0" y="0" width="${scene.width}" height="${scene.height}" fill="${hex(scene.background)}"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
