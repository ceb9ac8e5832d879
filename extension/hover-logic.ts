// The decisions behind the editor hover and tint, vscode-free so that unit tests can check them: which token lies
// under a document offset, what it attends to and what attends to it in the view selected in the panel (one head,
// or the mean/max over heads), the top-k of each, the tint level of every token, and the hover's Markdown (token
// texts escaped, so a token can never inject Markdown, HTML or links).
import type { LayerAttention } from '../runtime/types';
import type { KeptAttention } from '../runtime/inspector/api';
import type { TokenInfo } from '../protocol/messages';
import type { HeadChoice, RunSnapshot } from './run-snapshot';
import { STALE_LINE } from './run-range';
import { tokenLabel } from '../figures/token-display';

export const TOP_K = 5;
export const TINT_LEVELS = 8;

/** The token whose [start, end) span (offsets into the run's text) contains `offset`; special tokens have none. */
export function tokenAt(tokens: readonly TokenInfo[], offset: number): number | undefined {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.start !== null && t.end !== null && t.start <= offset && offset < t.end) return i;
  }
  return undefined;
}

/** The layer of the snapshot with this index, if it has arrived. */
export function layerOf(run: RunSnapshot, layer: number): LayerAttention | undefined {
  return run.layers.find((l) => l.layer === layer);
}

/**
 * For token `index` of one layer: `to` [keys] = how much it attends to each token (its query row) and `from`
 * [queries] = how much each token attends to it (its key column), for one head or aggregated over heads.
 */
export function tokenWeights(
  l: LayerAttention,
  head: HeadChoice,
  index: number,
): { to: Float64Array | undefined; from: Float64Array | undefined } {
  const { heads, queryLength: Q, keyLength: K, data } = l;
  const hs = typeof head === 'number' ? [head] : Array.from({ length: heads }, (_, h) => h);
  const agg = (n: number, at: (h: number, i: number) => number): Float64Array => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let v = head === 'max' ? -Infinity : 0;
      for (const h of hs) v = head === 'max' ? Math.max(v, at(h, i)) : v + at(h, i);
      out[i] = head === 'mean' ? v / hs.length : v;
    }
    return out;
  };
  // data is [heads, Q, K] row-major.
  const to = index < Q ? agg(K, (h, k) => data[(h * Q + index) * K + k]) : undefined;
  const from = index < K ? agg(Q, (h, q) => data[(h * Q + q) * K + index]) : undefined;
  return { to, from };
}

/** tokenWeights for a run kept for long inputs: token `index`'s row and column of each head asked of the worker
 * (exact, O(n · headDim) each), aggregated as tokenWeights does. */
export async function keptTokenWeights(
  kept: KeptAttention,
  heads: number,
  layer: number,
  head: HeadChoice,
  index: number,
): Promise<{ to: Float64Array; from: Float64Array }> {
  const hs = typeof head === 'number' ? [head] : Array.from({ length: heads }, (_, h) => h);
  const rows = await Promise.all(hs.map((h) => kept.row(layer, h, index))); // per head [keys]
  const cols = await Promise.all(hs.map((h) => kept.column(layer, h, index))); // per head [queries]
  const agg = (parts: Float32Array[]): Float64Array => {
    const out = new Float64Array(parts[0].length);
    for (let i = 0; i < out.length; i++) {
      let v = head === 'max' ? -Infinity : 0;
      for (const p of parts) v = head === 'max' ? Math.max(v, p[i]) : v + p[i];
      out[i] = head === 'mean' ? v / parts.length : v;
    }
    return out;
  };
  return { to: agg(rows), from: agg(cols) };
}

/** The k largest positive weights, strongest first (ties: lower index first). */
export function topK(values: ArrayLike<number>, k = TOP_K): { index: number; weight: number }[] {
  const all: { index: number; weight: number }[] = [];
  for (let i = 0; i < values.length; i++) if (values[i] > 0) all.push({ index: i, weight: values[i] });
  all.sort((a, b) => b.weight - a.weight || a.index - b.index);
  return all.slice(0, k);
}

/** Tint level (0 = none, 1..levels) of each weight, relative to the largest: round(levels · w / max). */
export function tintLevels(values: ArrayLike<number>, levels = TINT_LEVELS): number[] {
  let max = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  return Array.from(values, (w) => (max > 0 && w > 0 ? Math.min(levels, Math.round((levels * w) / max)) : 0));
}

const BLOCKS = ' ▁▂▃▄▅▆▇█';

/** A sparkline of `values` in at most `width` characters (max-pooled), scaled to the largest value. */
export function sparkline(values: ArrayLike<number>, width = 48): string {
  const n = values.length;
  if (n === 0) return '';
  const w = Math.min(width, n);
  const pooled: number[] = [];
  for (let i = 0; i < w; i++) {
    let m = 0;
    for (let j = Math.floor((i * n) / w); j < Math.max(Math.floor((i * n) / w) + 1, Math.floor(((i + 1) * n) / w)); j++)
      m = Math.max(m, values[j]);
    pooled.push(m);
  }
  const max = Math.max(...pooled);
  return pooled.map((v) => (max > 0 ? BLOCKS[Math.max(1, Math.round((v / max) * 8))] : BLOCKS[1])).join('');
}

/** A bar of `width` eighth-blocks for w in [0, 1]. */
export function bar(w: number, width = 8): string {
  const eighths = Math.round(Math.min(1, Math.max(0, w)) * width * 8);
  const full = Math.floor(eighths / 8);
  const part = eighths % 8;
  return '█'.repeat(full) + (part ? BLOCKS[part] : '') + '·'.repeat(width - full - (part ? 1 : 0));
}

/** Token text as inert Markdown: whitespace made visible, every ASCII punctuation character backslash-escaped. */
export function escapeMarkdown(text: string): string {
  const visible = text.replace(/\r?\n/g, '↵').replace(/\t/g, '⇥').replace(/ /g, '␣');
  return (visible || '∅').replace(/[\\`*_{}[\]()#+\-.!|<>~"'&$%=:;,/?@^]/g, (c) => `\\${c}`);
}

export function viewLabel(head: HeadChoice, layer: number, kind?: string): string {
  const h = typeof head === 'number' ? `head ${head}` : `${head} of heads`;
  return `layer ${layer}, ${h}${kind ? ` (${kind})` : ''}`;
}

/** The number with 3 significant digits (weights in tables). */
export function weightText(w: number): string {
  return w >= 0.001 || w === 0 ? w.toFixed(3) : w.toExponential(1);
}

export interface HoverModel {
  run: RunSnapshot;
  index: number;
  /** Command links (Markdown link targets); absent: no links. */
  links?: { reveal: string; tint: string };
  /** A kept run's weights for the token (keptTokenWeights), its layers holding no maps. */
  kept?: { to: Float64Array; from: Float64Array };
}

/** The hover's Markdown for token `index` of the run, in the panel's selected view. */
export function hoverMarkdown({ run, index, links, kept }: HoverModel): string {
  const id = run.ids[index];
  const { layer, head } = run.view;
  // Tokens as the panel labels them (figures/token-display.ts): ␣ for Ġ/▁, the characters a partial piece covers.
  const label = (i: number) => {
    const tok = run.tokens[i];
    return tok ? tokenLabel(tok, run.source.text) : `#${i}`;
  };
  const lines: string[] = [
    `**Attention Lens** · token ${index} of ${run.tokens.length}: **${escapeMarkdown(label(index))}**${id !== undefined ? ` (id ${id})` : ''}`,
    '',
  ];
  const l: Pick<LayerAttention, 'kind'> | undefined = kept
    ? { kind: run.facts.attentionKinds[layer] ?? 'causal' }
    : layerOf(run, layer);
  if (!l) {
    lines.push(
      `Layer ${layer} has not been computed yet${run.state === 'running' ? ' (the run is in progress)' : ''}.`,
    );
  } else if (l.kind === 'decoder') {
    // Encoder–decoders: the editor holds the source; decoder self-attention has only target tokens.
    lines.push(
      `${viewLabel(head, layer, l.kind)} is the decoder's self-attention over the translation; choose an encoder or cross layer in the panel to see this source token.`,
    );
  } else {
    lines.push(`${viewLabel(head, layer, l.kind)}, as selected in the panel:`, '');
    const weights = kept ?? tokenWeights(l as LayerAttention, head, index);
    // Cross-attention: the source token is a key; the target tokens (queries) attend to it.
    const cross = l.kind === 'cross';
    const to = cross ? undefined : weights.to;
    const from = weights.from;
    const fromLabel = (i: number) => {
      if (!cross) return label(i);
      const t = run.targetTokens?.[i];
      return t ? tokenLabel(t) : `#${i}`;
    };
    const a = to ? topK(to) : [];
    const b = from ? topK(from) : [];
    lines.push(`| attends to | weight | | attended by${cross ? ' (target)' : ''} | weight |`, '|:--|--:|:-:|:--|--:|');
    for (let i = 0; i < Math.max(a.length, b.length, 1); i++) {
      const cell = (x: { index: number; weight: number } | undefined, name: (i: number) => string) =>
        x ? [`${escapeMarkdown(name(x.index))}`, `${weightText(x.weight)} \`${bar(x.weight)}\``] : ['', ''];
      lines.push(`| ${[...cell(a[i], label), ' ', ...cell(b[i], fromLabel)].join(' | ')} |`);
    }
    lines.push('');
    if (to) lines.push(`attends to: \`${sparkline(to)}\``, '');
    if (from) lines.push(`attended by: \`${sparkline(from)}\``, '');
  }
  if (links) lines.push(`[Show in panel](${links.reveal}) · [Tint the editor by this token](${links.tint})`);
  return lines.join('\n');
}

/** The hover line for a run whose analysed text was edited after it ran (the panel shows STALE_LINE too). */
export function staleMarkdown(): string {
  return `$(warning) **Attention Lens**: ${escapeMarkdown(STALE_LINE).replace(/␣/g, ' ')}`;
}

/** The argument of the hover's links (Reveal, Tint): `{ runId, index }`, or its one-element array as command URIs
 *  pass it; undefined for anything else. */
export function tokenLinkArgs(a: unknown): { runId: number; index: number } | undefined {
  const o = Array.isArray(a) ? a[0] : a;
  if (typeof o !== 'object' || o === null) return undefined;
  const { runId, index } = o as Record<string, unknown>;
  return Number.isInteger(runId) && Number.isInteger(index)
    ? { runId: runId as number, index: index as number }
    : undefined;
}
