// Writes a figure as SVG 1.1: true vectors (one <rect> per cell, one <line> per link), token labels as <text>
// elements whose content is escaped text (never markup), a generic monospace font stack (nothing to embed), and
// data-* attributes with the exact values (data-weight on cells) so that the file can be checked or scripted.
import { f32String, type Figure, type FigureItem, type Rgb } from './export-figure';

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

const FONTS = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', 'Liberation Mono', monospace";

function attrs(a: Record<string, string> | undefined): string {
  if (!a) return '';
  return Object.entries(a)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');
}

function item(it: FigureItem, out: string[]): void {
  switch (it.kind) {
    case 'cells': {
      out.push(`<g class="${it.role}"${attrs(it.attrs)} data-rows="${it.rows}" data-cols="${it.cols}">`);
      const h = it.cellH ?? it.cell;
      const cls = it.role === 'legend' ? 'legend-cell' : 'cell';
      for (let r = 0; r < it.rows; r++)
        for (let c = 0; c < it.cols; c++) {
          const i = r * it.cols + c;
          const fill = hex([it.colors[i * 3], it.colors[i * 3 + 1], it.colors[i * 3 + 2]]);
          let extra = '';
          if (it.values) {
            extra = ` data-row="${r}" data-col="${c}"`;
            extra += it.masked?.[i] ? ' data-masked="1"' : ` data-weight="${f32String(it.values[i])}"`;
          }
          out.push(
            `<rect class="${cls}" x="${n(it.x + c * it.cell)}" y="${n(it.y + r * h)}" width="${n(it.cell)}" height="${n(h)}" fill="${fill}"${extra}/>`,
          );
        }
      out.push('</g>');
      return;
    }
    case 'rect':
      out.push(
        `<rect class="${it.role}" x="${n(it.x)}" y="${n(it.y)}" width="${n(it.w)}" height="${n(it.h)}" fill="${it.fill ? hex(it.fill) : 'none'}"${it.stroke ? ` stroke="${hex(it.stroke)}"` : ''}/>`,
      );
      return;
    case 'text': {
      const rotate = it.vertical ? ` transform="rotate(-90 ${n(it.x)} ${n(it.y)})"` : '';
      let index = it.index !== undefined ? ` data-index="${it.index}"` : '';
      if (it.full !== undefined) index += ` data-token="${escapeXml(it.full)}"`;
      out.push(
        `<text class="${it.role}" x="${n(it.x)}" y="${n(it.y)}" font-size="${n(it.size)}" fill="${hex(it.color)}" text-anchor="${it.anchor}" dominant-baseline="central" xml:space="preserve"${rotate}${index}>${escapeXml(it.text)}</text>`,
      );
      return;
    }
    case 'line':
      out.push(
        `<line class="${it.role}" x1="${n(it.x1)}" y1="${n(it.y1)}" x2="${n(it.x2)}" y2="${n(it.y2)}" stroke="${hex(it.color)}" stroke-opacity="${f32String(it.opacity)}" data-head="${it.head}" data-query="${it.query}" data-key="${it.key}"/>`,
      );
      return;
  }
}

/** The figure as a standalone SVG document (UTF-8 text). */
export function figureToSvg(f: Figure): string {
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${f.width}" height="${f.height}" viewBox="0 0 ${f.width} ${f.height}" font-family="${escapeXml(FONTS)}" shape-rendering="crispEdges">`,
    `<title>${escapeXml(f.title)}</title>`,
    `<desc>${escapeXml(f.notes.join(' '))}</desc>`,
    `<rect class="background" x="0" y="0" width="${f.width}" height="${f.height}" fill="${hex(f.background)}"/>`,
  ];
  const lines = f.items.filter((it) => it.kind === 'line');
  for (const it of f.items) if (it.kind !== 'line') item(it, out);
  if (lines.length) {
    // Anti-aliased lines (the cells stay crisp).
    out.push('<g class="links" shape-rendering="geometricPrecision">');
    for (const it of lines) item(it, out);
    out.push('</g>');
  }
  out.push('</svg>', '');
  return out.join('\n');
}
