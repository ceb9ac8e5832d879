// The head view (BertViz style): query tokens on the left, key tokens on the right, one line per (query, key) whose
// opacity is the weight, one colour per head: one head, every head overlaid (mean: BertViz's "all"), or for each
// (query, key) the strongest head's line alone (max). Lines below max(0.01, 1/keys) are left out,
// and at most MAX_LINES are drawn: the strongest, cut with a histogram of the weights (linear time). With a focused
// token (the panel's hover) only its lines are drawn, down to 0.001. Long inputs shrink the rows to fit `maxHeight`
// and drop the labels. Each label is a target (the panel's hover, click and text layer).
// Encoder–decoder layers take BertViz's encoder–decoder layout: each column labelled from its own token list
// (figures/seq2seq-axes.ts: cross-attention draws target tokens on the left and source tokens on the right) and the
// columns titled source / target. A run kept for long inputs is drawn on a window of tokens around the chosen one
// (`window`, the same span on both sides): its lines are the exact weights of those queries on those keys, read
// with RunMaps.window (the panel's kept maps throw PendingExact until the host sent them).
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
import type { Span } from './heads';
import { PendingExact } from './kept-run-maps';
import { headText, shortLabel } from './labels';
import type { HeadChoice, RunMaps } from './run-maps';
import type { Scene } from './scene';
import { axisSides, axisTitles, layerTitle, sideTokens } from './seq2seq-axes';
import type { FigureTheme } from './theme';

export const MAX_LINES = 3000;

/** Tokens the head and neuron views show of a kept run: a window of ±64 around the chosen token (129 rows of 20 px
 *  keep the head view's labels legible; the neuron view's table scrolls). The panel and its image export alike. */
export const KEPT_VIEW_WINDOW = 129;

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
  /** Only tokens [start, end) on both sides (a long run's window around the chosen token): those queries' lines to
   *  those keys, exact. Self-attention layers only (queries and keys are the same tokens). */
  window?: Span | null;
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
  /** The first token drawn (a window's start; 0 otherwise): token i is on row i - first. */
  first: number;
  /** The strongest line drawn, or undefined when none is. */
  strongest?: Link;
}

export type Link = [head: number, query: number, key: number, weight: number];

/** The weights that get a line, the strongest MAX_LINES at most, over `queries` × keys [kFrom, kTo) of `heads`, in
 *  (head, query, key) order: one pass over the weights keeps those above the threshold (a softmax row has at most
 *  1/threshold of them) and counts them in a histogram (linear time); the cut is then taken over the kept ones only. `strongestHeadOnly`: of each (query,
 *  key), only the line of the head with the largest weight there (the first such head on a tie). */
export function strongestLinks(
  maps: RunMaps,
  layer: number,
  heads: number[],
  queries: number[],
  kFrom: number,
  kTo: number,
  threshold: number,
  windowed = false,
  strongestHeadOnly = false,
): { links: Link[]; cutoff: number; count: number } {
  // A window (contiguous queries): each head's [queries, keys] read at once and exactly (RunMaps.window), every head
  // asked before a PendingExact goes up so that one answer brings them all.
  let windows: Float32Array[] | undefined;
  if (windowed && queries.length) {
    const rows = { start: queries[0], end: queries[queries.length - 1] + 1 };
    if (rows.end - rows.start !== queries.length) throw new RangeError('a window needs contiguous queries');
    let pending = false;
    windows = heads.map((h) => {
      try {
        return maps.window(layer, h, rows, { start: kFrom, end: kTo }); // [queries, keys]
      } catch (e) {
        if (!(e instanceof PendingExact)) throw e;
        pending = true;
        return new Float32Array(0);
      }
    });
    if (pending) throw new PendingExact();
  }
  const hist = new Uint32Array(HIST);
  let count = 0;
  // Kept weights: (head slot, query slot, key) packed in one float64 index, and the weight. Grown by doubling.
  let at = new Float64Array(1024);
  let ws = new Float32Array(1024);
  const span = kTo - kFrom;
  const shift = windows ? kFrom : 0;
  // [keys] from 0, or (windowed) from kFrom.
  const rowOf = (hs: number, qs: number) =>
    windows ? windows[hs].subarray(qs * span, (qs + 1) * span) : maps.row(layer, heads[hs], queries[qs]);
  const keep = (index: number, w: number) => {
    hist[w >= 1 ? HIST - 1 : (w * HIST) | 0]++;
    if (count === ws.length) {
      const a2 = new Float64Array(count * 2);
      a2.set(at);
      at = a2;
      const w2 = new Float32Array(count * 2);
      w2.set(ws);
      ws = w2;
    }
    at[count] = index;
    ws[count++] = w;
  };
  // Plain loops over the weights: this runs over every weight of every head drawn.
  if (strongestHeadOnly)
    for (let qs = 0; qs < queries.length; qs++) {
      const rows = heads.map((_, hs) => rowOf(hs, qs));
      for (let k = kFrom; k < kTo; k++) {
        let best = 0;
        let bw = rows[0][k - shift];
        for (let hs = 1; hs < rows.length; hs++) {
          const w = rows[hs][k - shift];
          if (w > bw) {
            bw = w;
            best = hs;
          }
        }
        if (bw >= threshold) keep((best * queries.length + qs) * span + k - kFrom, bw);
      }
    }
  else
    for (let hs = 0; hs < heads.length; hs++)
      for (let qs = 0; qs < queries.length; qs++) {
        const row = rowOf(hs, qs);
        const base = (hs * queries.length + qs) * span - kFrom;
        for (let k = kFrom; k < kTo; k++) {
          const w = row[k - shift];
          if (w >= threshold) keep(base + k, w);
        }
      }
  const binOf = (w: number) => (w >= 1 ? HIST - 1 : (w * HIST) | 0);
  // Past MAX_LINES: every weight in the bins above bin `edge` is drawn, and of bin `edge` the strongest that fill the
  // rest (sorted: one bin of the kept ones, not the whole layer), so that nothing left out outweighs a line drawn.
  let edge = -1;
  let edgeWeight = threshold;
  let edgeTies = 0;
  if (count > MAX_LINES) {
    let above = 0;
    edge = HIST - 1;
    while (edge > 0 && above + hist[edge] < MAX_LINES) above += hist[edge--];
    const inEdge: number[] = [];
    for (let i = 0; i < count; i++) if (binOf(ws[i]) === edge) inEdge.push(ws[i]);
    inEdge.sort((a, b) => b - a);
    const room = MAX_LINES - above;
    edgeWeight = inEdge[room - 1];
    edgeTies = room - inEdge.filter((w) => w > edgeWeight).length; // how many equal to edgeWeight are drawn
  }
  const cutoff = Math.max(threshold, edgeWeight);
  const links: Link[] = [];
  for (let i = 0; i < count; i++) {
    const w = ws[i];
    if (edge >= 0) {
      const bin = binOf(w);
      if (bin < edge || (bin === edge && (w < edgeWeight || (w === edgeWeight && edgeTies-- <= 0)))) continue;
    }
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
  // Each column's tokens: the run's, or for an encoder–decoder layer its side's (cross: target left, source right).
  const sides = axisSides(s.kind);
  const leftA = { tokens: sideTokens(maps, sides.rows) };
  const rightA = { tokens: sideTokens(maps, sides.cols) };
  const win = state.window ? clampWindow(state.window, Q, K) : null;
  const first = win?.start ?? 0;
  const leftN = win ? win.end - win.start : Q;
  const rightN = win ? win.end - win.start : K;
  const n = Math.max(leftN, rightN);
  const row = Math.min(MAX_ROW, size.maxHeight / Math.max(1, n));
  const labels = row >= MIN_LABEL_ROW;
  const b = new SceneBuilder(theme);
  const label = (a: typeof leftA, i: number, len: number) => shortLabel(tokenText(a, i, len));
  const span = (count: number) => Array.from({ length: count }, (_, r) => first + r);
  const leftIdx = labels ? span(leftN) : [];
  const rightIdx = labels ? span(rightN) : [];
  const widest = (a: typeof leftA, idx: number[], len: number) =>
    idx.length ? Math.max(...idx.map((i) => b.width(label(a, i, len)))) + 8 : 8;
  const heads = typeof state.head === 'number' ? [state.head] : Array.from({ length: s.heads }, (_, i) => i);
  const focus = state.focus ?? null;

  // "layer 3 (causal)", or an encoder–decoder entry by its stack: "layer 4: cross-attention 0" (seq2seq-axes.ts).
  const named = state.tokensOnly ? `layer ${state.layer}` : layerTitle(maps, state.layer);
  const shown = win ? ` · tokens ${win.start}–${win.end - 1} of ${Q}` : '';
  const headWords =
    state.head === 'mean' ? 'every head' : state.head === 'max' ? 'strongest head per pair' : headText(state.head);
  const title = `${maps.modelName} · ${named} · ${headWords} · ${Q} × ${K} tokens${shown}`;
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

  // Column titles: queries attend (left) to keys (right); encoder–decoder layers name their sides. Each column is
  // as wide as its labels or its title, whichever is wider.
  const titles = axisTitles(s.kind);
  const left = MARGIN + Math.max(widest(leftA, leftIdx, Q), b.width(titles.rows) + 4);
  const right = left + LINES_WIDTH;
  b.text(left - 4, y + LABEL_SIZE / 2, titles.rows, 'axis-title', { anchor: 'end', color: theme.muted });
  b.text(right + 4, y + LABEL_SIZE / 2, titles.cols, 'axis-title', { color: theme.muted });
  y += LABEL_SIZE + 6;
  const top = y + row / 2;
  const side = (a: typeof leftA, idx: number[], which: 'left' | 'right', len: number) =>
    idx.forEach((i) => {
      const text = label(a, i, len);
      const full = tokenText(a, i, len);
      const active = focus?.side === which && focus.index === i;
      const x = which === 'left' ? left - 4 : right + 4;
      const cy = top + (i - first) * row;
      b.text(x, cy, text, `label-${which}`, {
        anchor: which === 'left' ? 'end' : 'start',
        // Dimmer: a chat template's tokens, and the others while one token is focused; generated ones in the focus ink.
        color: focus && !active ? theme.muted : (tokenInk(a, i, len, theme).color ?? theme.ink),
        attrs: {
          'data-index': String(i),
          ...(text !== full ? { 'data-token': full } : {}),
          ...tokenInk(a, i, len, theme).attrs,
        },
      });
      const w = b.width(text);
      b.targets.push({
        role: `head-token head-token-${which}${active ? ' active' : ''}`,
        x: which === 'left' ? x - w : x,
        y: cy - 0.5 * row,
        w,
        h: row,
        text: full,
        title: tokenTitle(a, i, len),
        data: {
          index: String(i),
          side: which,
          ...(which === 'left' ? { axis: sides.rows } : { axis: sides.cols }),
          ...(isTemplateToken(a, i, len) ? { template: 'true' } : {}),
          ...(isGeneratedToken(a, i, len) ? { generated: 'true' } : {}),
        },
      });
    });
  side(leftA, leftIdx, 'left', Q);
  side(rightA, rightIdx, 'right', K);

  const allQueries = span(leftN);
  const queries = focus?.side === 'left' ? [focus.index] : allQueries;
  const kFrom = focus?.side === 'right' ? focus.index : first;
  const kTo = focus?.side === 'right' ? focus.index + 1 : first + rightN;
  const threshold = focus ? 0.001 : Math.max(0.01, 1 / Math.max(1, K));
  const { links, cutoff } = state.tokensOnly
    ? { links: [], cutoff: threshold }
    : strongestLinks(maps, state.layer, heads, queries, kFrom, kTo, threshold, win !== null, state.head === 'max');
  const colors = heads.map((h) => headColor(h, s.heads));
  const str: string[] = [];
  const text = (i: number) => (str[i] ??= String(i));
  let strongest: Link | undefined;
  for (const link of links) {
    const [h, q, k, w] = link;
    if (!strongest || w > strongest[3]) strongest = link;
    b.items.push({
      kind: 'line',
      role: 'link',
      x1: left,
      y1: top + (q - first) * row,
      x2: right,
      y2: top + (k - first) * row,
      color: colors[heads.length === 1 ? 0 : h],
      opacity: Math.min(1, w),
      attrs: { 'data-head': text(h), 'data-query': text(q), 'data-key': text(k) },
    });
  }
  y += n * row + 8;

  const notes = [
    `Lines: weights ≥ ${cutoff.toPrecision(3)} (${links.length} lines), opacity = weight${state.head === 'max' ? '; of each query and key, only the head with the largest weight' : ''}.`,
  ];
  if (win)
    notes.push(
      `Showing tokens ${win.start}–${win.end - 1} of ${Q}: a window of the long input; its lines are exact weights between these tokens only.`,
    );
  if (!labels) notes.push(`Token labels omitted: ${n} tokens leave ${row.toFixed(1)} px a row.`);
  const [bottom, notesW] = notesBlock(b, notes, y, options);
  let width = Math.max(
    right + Math.max(widest(rightA, rightIdx, K), b.width(titles.cols) + 4),
    captionWidth(b, title, options),
    notesW,
  );
  if (options.caption) width = Math.max(width, MARGIN + Math.min(16, heads.length) * swatchW);
  return {
    scene: b.scene(width + MARGIN, (options.caption ? bottom : y - 8) + MARGIN, `Attention Lens: ${title}`, notes),
    geometry: { left, right, top, row, lines: links.length, cutoff, first, ...(strongest ? { strongest } : {}) },
  };
}

/** A window inside a self-attention layer's tokens (queries and keys the same tokens). */
function clampWindow(w: Span, Q: number, K: number): Span {
  if (Q !== K) throw new RangeError('a head view window needs a self-attention layer (as many queries as keys)');
  const start = Math.max(0, Math.min(Q - 1, Math.floor(w.start)));
  return { start, end: Math.max(start + 1, Math.min(Q, Math.floor(w.end))) };
}

/** The window of at most `size` tokens centred on `token` in a run of `n` (moved inside the run at its ends). */
export function windowAround(token: number, n: number, size: number): Span {
  const w = Math.max(1, Math.min(n, Math.floor(size)));
  const start = Math.max(0, Math.min(n - w, token - Math.floor(w / 2)));
  return { start, end: start + w };
}
