// The head view (BertViz style): query tokens on the left, key tokens on the right, one line per (query, key) whose
// opacity is the weight, one colour per head (every head for mean/max). Lines below max(0.01, 1/keys) are left out,
// and at most MAX_LINES are drawn: the strongest, cut with a histogram of the weights (linear time). With a focused
// token (the panel's hover) only its lines are drawn, down to 0.001. Long inputs shrink the rows to fit `maxHeight`
// and drop the labels. Each label is a target (the panel's hover, click and text layer).
import {
  LABEL_SIZE,
  MARGIN,
  SceneBuilder,
  caption,
  captionWidth,
  checkLayerHead,
  tokenText,
  tokenTitle,
  headColor,
  notesBlock,
  type FigureOptions,
  isGeneratedToken,
  isTemplateToken,
  tokenInk,
} from './figure-kit';
import { headText, shortLabel } from './labels';
import type { HeadChoice, RunMaps } from './run-maps';
import type { Scene } from './scene';
import { layerTitle } from './seq2seq-axes';
import type { FigureTheme } from './theme';

export const MAX_LINES = 3000;
const LINES_WIDTH = 180;
const MAX_ROW = 20;
const MIN_LABEL_ROW = 10;
const HIST = 1024;

export interface HeadState {
  layer: number;
  head: HeadChoice;
  /** A token whose lines alone are drawn: a query (left) or a key (right). */
  focus?: { side: 'left' | 'right'; index: number } | null;
  /** Before the layer arrives: the run's tokens in both columns and no lines (the panel lays out its labels while
   *  the model runs, so that showing the view later only adds the lines). */
  tokensOnly?: boolean;
}

export interface HeadSize {
  /** Rows shrink so that the token columns fit this height (px). */
  maxHeight: number;
}

export interface HeadGeometry {
  /** x of the line ends (left and right), y of row 0's centre, row height. */
  left: number;
  right: number;
  top: number;
  row: number;
  lines: number;
  cutoff: number;
}

export type Link = [head: number, query: number, key: number, weight: number];

/** The weights that get a line, strongest MAX_LINES at most, over `queries` × keys [kFrom, kTo) of `heads`: one pass
 *  over the weights keeps those above the threshold (a softmax row has at most 1/threshold of them) and counts them in
 *  a histogram (linear time); the cut is then taken over the kept ones only. */
export function strongestLinks(
  maps: RunMaps,
  layer: number,
  heads: number[],
  queries: number[],
  kFrom: number,
  kTo: number,
  threshold: number,
): { links: Link[]; cutoff: number; count: number } {
  const hist = new Uint32Array(HIST);
  let count = 0;
  // Kept weights: (head slot, query slot, key) packed in one float64 index, and the weight. Grown by doubling.
  let at = new Float64Array(1024);
  let ws = new Float32Array(1024);
  const span = kTo - kFrom;
  // Plain loops (no closures): this runs over every weight of every head drawn.
  for (let hs = 0; hs < heads.length; hs++)
    for (let qs = 0; qs < queries.length; qs++) {
      const row = maps.row(layer, heads[hs], queries[qs]); // [keys]
      const base = (hs * queries.length + qs) * span - kFrom;
      for (let k = kFrom; k < kTo; k++) {
        const w = row[k];
        if (w >= threshold) {
          hist[w >= 1 ? HIST - 1 : (w * HIST) | 0]++;
          if (count === ws.length) {
            const a2 = new Float64Array(count * 2);
            a2.set(at);
            at = a2;
            const w2 = new Float32Array(count * 2);
            w2.set(ws);
            ws = w2;
          }
          at[count] = base + k;
          ws[count++] = w;
        }
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
  const links: Link[] = [];
  for (let i = 0; i < count && links.length < MAX_LINES; i++) {
    const w = ws[i];
    if (w < cutoff) continue;
    const rest = at[i];
    const k = (rest % span) + kFrom;
    const slot = (rest - (rest % span)) / span;
    const qs = slot % queries.length;
    const hs = (slot - qs) / queries.length;
    links.push([heads[hs], queries[qs], k, w]);
  }
  return { links, cutoff, count };
}

export function headFigure(
  maps: RunMaps,
  state: HeadState,
  size: HeadSize,
  theme: FigureTheme,
  options: FigureOptions,
): { scene: Scene; geometry: HeadGeometry } {
  const n0 = maps.tokens.length;
  const s = state.tokensOnly
    ? { kind: 'self' as const, heads: maps.headCount, queryLength: n0, keyLength: n0 }
    : (checkLayerHead(maps, state.layer, state.head), maps.shape(state.layer)!);
  const Q = s.queryLength;
  const K = s.keyLength;
  const n = Math.max(Q, K);
  const row = Math.min(MAX_ROW, size.maxHeight / n);
  const labels = row >= MIN_LABEL_ROW;
  const b = new SceneBuilder(theme);
  const label = (i: number, len: number) => shortLabel(tokenText(maps, i, len));
  const leftLabels = labels ? Array.from({ length: Q }, (_, i) => label(i, Q)) : [];
  const rightLabels = labels ? Array.from({ length: K }, (_, i) => label(i, K)) : [];
  const widest = (ls: string[]) => (ls.length ? Math.max(...ls.map((t) => b.width(t))) + 8 : 8);
  const heads = typeof state.head === 'number' ? [state.head] : Array.from({ length: s.heads }, (_, i) => i);
  const focus = state.focus ?? null;

  const title = `${maps.modelName} · ${layerTitle(maps, state.layer)} · ${headText(state.head)} · ${Q} × ${K} tokens`;
  let y = caption(b, title, options, 0);
  // Head swatches (exports; the panel has buttons): a coloured square and "H<h>", 16 to a row.
  const swatchW = b.width(`H${s.heads - 1}`) + 22;
  if (options.caption) {
    heads.forEach((h, i) => {
      const sx = MARGIN + (i % 16) * swatchW;
      const sy = y + Math.floor(i / 16) * (LABEL_SIZE + 6);
      b.rect(sx, sy, 10, 10, headColor(h, s.heads), 'swatch');
      b.text(sx + 14, sy + 5, `H${h}`, 'legend', { color: theme.muted });
    });
    y += Math.ceil(heads.length / 16) * (LABEL_SIZE + 6) + 8;
  }

  const left = MARGIN + widest(leftLabels);
  const right = left + LINES_WIDTH;
  // Column titles: queries attend (left) to keys (right).
  b.text(left - 4, y + LABEL_SIZE / 2, 'query', 'axis-title', { anchor: 'end', color: theme.muted });
  b.text(right + 4, y + LABEL_SIZE / 2, 'key', 'axis-title', { color: theme.muted });
  y += LABEL_SIZE + 6;
  const top = y + row / 2;
  const side = (ls: string[], which: 'left' | 'right', len: number) =>
    ls.forEach((text, i) => {
      const full = tokenText(maps, i, len);
      const active = focus?.side === which && focus.index === i;
      const x = which === 'left' ? left - 4 : right + 4;
      b.text(x, top + i * row, text, `label-${which}`, {
        anchor: which === 'left' ? 'end' : 'start',
        // Dimmer: a chat template's tokens, and the others while one token is focused; generated ones in the focus ink.
        color: focus && !active ? theme.muted : (tokenInk(maps, i, len, theme).color ?? theme.ink),
        attrs: {
          'data-index': String(i),
          ...(text !== full ? { 'data-token': full } : {}),
          ...tokenInk(maps, i, len, theme).attrs,
        },
      });
      const w = b.width(text);
      b.targets.push({
        role: `head-token head-token-${which}${active ? ' active' : ''}`,
        x: which === 'left' ? x - w : x,
        y: top + (i - 0.5) * row,
        w,
        h: row,
        text: full,
        title: tokenTitle(maps, i, len),
        data: {
          index: String(i),
          side: which,
          ...(isTemplateToken(maps, i, len) ? { template: 'true' } : {}),
          ...(isGeneratedToken(maps, i, len) ? { generated: 'true' } : {}),
        },
      });
    });
  side(leftLabels, 'left', Q);
  side(rightLabels, 'right', K);

  const queries = focus?.side === 'left' ? [focus.index] : Array.from({ length: Q }, (_, i) => i);
  const kFrom = focus?.side === 'right' ? focus.index : 0;
  const kTo = focus?.side === 'right' ? focus.index + 1 : K;
  const threshold = focus ? 0.001 : Math.max(0.01, 1 / Math.max(1, K));
  const { links, cutoff } = state.tokensOnly
    ? { links: [], cutoff: threshold }
    : strongestLinks(maps, state.layer, heads, queries, kFrom, kTo, threshold);
  const colors = heads.map((h) => headColor(h, s.heads));
  const str: string[] = [];
  const text = (i: number) => (str[i] ??= String(i));
  for (const [h, q, k, w] of links)
    b.items.push({
      kind: 'line',
      role: 'link',
      x1: left,
      y1: top + q * row,
      x2: right,
      y2: top + k * row,
      color: colors[heads.length === 1 ? 0 : h],
      opacity: Math.min(1, w),
      attrs: { 'data-head': text(h), 'data-query': text(q), 'data-key': text(k) },
    });
  y += n * row + 8;

  const notes = [`Lines: weights ≥ ${cutoff.toPrecision(3)} (${links.length} lines), opacity = weight.`];
  if (!labels) notes.push(`Token labels omitted: ${n} tokens leave ${row.toFixed(1)} px a row.`);
  const [bottom, notesW] = notesBlock(b, notes, y, options);
  let width = Math.max(right + widest(rightLabels), captionWidth(b, title, options), notesW);
  if (options.caption) width = Math.max(width, MARGIN + Math.min(16, heads.length) * swatchW);
  return {
    scene: b.scene(width + MARGIN, (options.caption ? bottom : y - 8) + MARGIN, `Attention Lens: ${title}`, notes),
    geometry: { left, right, top, row, lines: links.length, cutoff },
  };
}
