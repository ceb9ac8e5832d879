// Lays out the head view for export (BertViz style, as the panel draws it): query tokens on the left, key tokens on
// the right, one line per (query, key) whose opacity is the weight, one colour per head (every head for mean/max).
// Lines below max(0.01, 1/keys) are left out, and at most MAX_LINES are drawn: the strongest, cut with a
// histogram of the weights (the panel's rule). Long inputs shrink the rows to fit `maxHeight` and drop the labels.
import {
  CAPTION_SIZE,
  INK,
  LABEL_SIZE,
  MUTED,
  captionItem,
  checkSpec,
  finishFigure,
  headColor,
  headText,
  shortLabel,
  textWidth,
  type ExportInput,
  type Figure,
  type FigureItem,
  type ViewSpec,
} from './export-figure';

export const MAX_LINES = 3000;
const LINES_WIDTH = 180;
const MAX_ROW = 20;
const MIN_LABEL_ROW = 10;
const MARGIN = 16;
const HIST = 1024;

export interface HeadGeometry {
  /** x of the line ends (left and right), y of row 0's centre, row height. */
  left: number;
  right: number;
  top: number;
  row: number;
  lines: number;
  cutoff: number;
}

/** The weights that get a line: (head, query, key, weight), strongest MAX_LINES at most. */
export function strongestLinks(
  data: Float32Array,
  heads: number[],
  Q: number,
  K: number,
): { links: [number, number, number, number][]; cutoff: number } {
  const threshold = Math.max(0.01, 1 / Math.max(1, K));
  const hist = new Uint32Array(HIST);
  let count = 0;
  for (const h of heads)
    for (let i = h * Q * K, end = (h + 1) * Q * K; i < end; i++) {
      const w = data[i];
      if (w >= threshold) {
        hist[Math.min(HIST - 1, Math.floor(w * HIST))]++;
        count++;
      }
    }
  let cutoff = threshold;
  if (count > MAX_LINES) {
    let acc = 0;
    let b = HIST - 1;
    for (; b > 0; b--) {
      acc += hist[b];
      if (acc >= MAX_LINES) break;
    }
    cutoff = Math.max(threshold, b / HIST);
  }
  const links: [number, number, number, number][] = [];
  for (const h of heads)
    for (let q = 0; q < Q; q++)
      for (let k = 0; k < K; k++) {
        const w = data[(h * Q + q) * K + k];
        if (w >= cutoff && links.length < MAX_LINES) links.push([h, q, k, w]);
      }
  return { links, cutoff };
}

export function headFigure(
  input: ExportInput,
  spec: ViewSpec,
  maxHeight: number,
): { figure: Figure; geometry: HeadGeometry } {
  const l = checkSpec(input, spec)!;
  const Q = l.queryLength;
  const K = l.keyLength;
  const n = Math.max(Q, K);
  const row = Math.min(MAX_ROW, maxHeight / n);
  const labels = row >= MIN_LABEL_ROW;
  const tokenText = (i: number, len: number) => (len === input.tokens.length ? input.tokens[i].text : `#${i}`);
  const label = (i: number, len: number) => shortLabel(tokenText(i, len));
  const leftLabels = labels ? Array.from({ length: Q }, (_, i) => label(i, Q)) : [];
  const rightLabels = labels ? Array.from({ length: K }, (_, i) => label(i, K)) : [];
  const widest = (ls: string[]) => (ls.length ? Math.max(...ls.map((s) => textWidth(s, LABEL_SIZE))) + 8 : 8);
  const heads = typeof spec.head === 'number' ? [spec.head] : Array.from({ length: l.heads }, (_, i) => i);

  const caption = `${input.modelName} · layer ${spec.layer} (${l.kind}) · ${headText(spec.head)} · ${Q} × ${K} tokens`;
  const items: FigureItem[] = [captionItem(caption, MARGIN)];
  // Head swatches: a coloured square and "H<h>", 16 to a row.
  let y = MARGIN + CAPTION_SIZE + 10;
  const swatchW = textWidth(`H${l.heads - 1}`, LABEL_SIZE) + 22;
  heads.forEach((h, i) => {
    const sx = MARGIN + (i % 16) * swatchW;
    const sy = y + Math.floor(i / 16) * (LABEL_SIZE + 6);
    items.push({ kind: 'rect', role: 'swatch', x: sx, y: sy, w: 10, h: 10, fill: headColor(h, l.heads) });
    items.push({
      kind: 'text',
      role: 'legend',
      x: sx + 14,
      y: sy + 5,
      text: `H${h}`,
      size: LABEL_SIZE,
      color: MUTED,
      anchor: 'start',
    });
  });
  y += Math.ceil(heads.length / 16) * (LABEL_SIZE + 6) + 8;

  const left = MARGIN + widest(leftLabels);
  const right = left + LINES_WIDTH;
  const top = y + row / 2;
  leftLabels.forEach((text, i) =>
    items.push({
      kind: 'text',
      role: 'label-left',
      x: left - 4,
      y: top + i * row,
      text,
      size: LABEL_SIZE,
      color: INK,
      anchor: 'end',
      index: i,
      ...(text !== tokenText(i, Q) ? { full: tokenText(i, Q) } : {}),
    }),
  );
  rightLabels.forEach((text, i) =>
    items.push({
      kind: 'text',
      role: 'label-right',
      x: right + 4,
      y: top + i * row,
      text,
      size: LABEL_SIZE,
      color: INK,
      anchor: 'start',
      index: i,
      ...(text !== tokenText(i, K) ? { full: tokenText(i, K) } : {}),
    }),
  );
  const { links, cutoff } = strongestLinks(l.data, heads, Q, K);
  for (const [h, q, k, w] of links)
    items.push({
      kind: 'line',
      role: 'link',
      x1: left,
      y1: top + q * row,
      x2: right,
      y2: top + k * row,
      color: headColor(h, l.heads),
      opacity: Math.min(1, w),
      head: h,
      query: q,
      key: k,
    });
  y += n * row + 8;

  const notes = [`Lines: weights ≥ ${cutoff.toPrecision(3)} (${links.length} lines), opacity = weight.`];
  if (!labels) notes.push(`Token labels omitted: ${n} tokens leave ${row.toFixed(1)} px a row.`);
  let width = Math.max(right + widest(rightLabels), MARGIN + textWidth(caption, CAPTION_SIZE));
  width = Math.max(width, MARGIN + Math.min(16, heads.length) * swatchW);
  return {
    figure: finishFigure(items, caption, notes, y, width, MARGIN),
    geometry: { left, right, top, row, lines: links.length, cutoff },
  };
}
