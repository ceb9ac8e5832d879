// Plain-text rendering of a run for the terminal: model facts, the token table, one compact line per head
// (most-attended key of every query, mean entropy) and the timings.
import type { KeptLayerOverview } from '../runtime/inspector/worker-protocol';
import type { Inspector } from '../runtime/inspector/api';
import type { LayerAttention, RunTimings, Token } from '../runtime/types';
import { headStats } from '../runtime/analysis/head-stats';

export function formatFacts(inspector: Inspector): string {
  const f = inspector.facts;
  let kinds = [...new Set(f.attentionKinds)].join(', ');
  const windows = f.slidingWindows ?? [];
  for (const w of new Set(windows.filter((x): x is number => x !== null))) {
    const layers = windows.flatMap((x, l) => (x === w ? [l] : []));
    kinds += `; sliding window ${w} in ${layers.length === f.layers ? 'every layer' : `layers ${layers.join(', ')}`}`;
  }
  if (f.attentionScale !== undefined) kinds += `; scores × ${f.attentionScale.toPrecision(4)}`;
  if (f.attentionSoftcap !== undefined) kinds += `; soft-capped at ${f.attentionSoftcap}`;
  const ed = f.encoderDecoder;
  const layers = ed
    ? `${ed.encoderLayers} encoder + ${ed.decoderLayers} decoder layers × ${f.heads} heads (entries: encoder, decoder self, cross; head size ${f.headDim}, hidden ${f.hidden})`
    : `${f.layers} × ${f.heads} heads (${f.kvHeads} key/value heads, head size ${f.headDim}, hidden ${f.hidden})`;
  return [
    `model      ${f.name} (${f.family}, model_type ${f.modelType})`,
    `layers     ${layers}`,
    `positions  ${f.maxPositions} max`,
    `attention  ${kinds}`,
    `backend    ${inspector.backend}, ${inspector.threads} thread${inspector.threads === 1 ? '' : 's'}`,
  ].join('\n');
}

/** A short, single-line label of a token: its text in the input where it has offsets, else its vocabulary string
 *  (also for a piece that is only a word marker, ▁ or Ġ, whose offsets cover the next character). */
export function tokenLabel(token: Token, text: string | undefined): string {
  let s = token.text;
  if (text !== undefined && token.start !== null && token.end !== null && /[^\s▁Ġ]/.test(token.text)) {
    const span = text.slice(token.start, token.end).trim();
    if (span) s = span;
  }
  return s.replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t').replace(/\s/g, '·');
}

export function formatTokens(tokens: Token[], truncatedFrom: number | undefined): string {
  const lines = [
    `tokens     ${tokens.length}${truncatedFrom !== undefined ? ` (truncated from ${truncatedFrom})` : ''}`,
  ];
  for (const [i, t] of tokens.entries()) {
    const span = t.start === null ? (t.template ? 'template' : 'special') : `[${t.start},${t.end})`;
    lines.push(`  ${String(i).padStart(4)}  ${String(t.id).padStart(6)}  ${JSON.stringify(t.text).padEnd(16)} ${span}`);
  }
  return lines.join('\n');
}

/** One line per head: `L0 H3  entropy 1.234  [CLS]→[CLS] the→cat …`. */
/** Per head: mean entropy and each query's strongest key. `keyLabels`: the keys' labels where they are other tokens
 * than the queries' (cross-attention: target queries, source keys). Encoder–decoder entries are named by kind and
 * the layer within their stack (enc L0, dec L1, cross L1). */
export function formatLayer(layer: LayerAttention, labels: string[], keyLabels: string[] = labels): string {
  const stack = { encoder: 'enc', decoder: 'dec', cross: 'cross' } as Record<string, string>;
  const name =
    layer.stackLayer !== undefined && stack[layer.kind]
      ? `${stack[layer.kind]} L${layer.stackLayer}`
      : `L${layer.layer}`;
  return headStats(layer)
    .map((s) => {
      const pairs = Array.from(s.argmax, (k, q) => `${labels[q]}→${keyLabels[k]}`).join(' ');
      return `${name} H${s.head}  entropy ${s.meanEntropy.toFixed(3)}  ${pairs}`;
    })
    .join('\n');
}

/** A layer of a run kept for long inputs (no map on this side): per head its mean entropy, mean distance and
 * previous-token weight from the summaries the worker computed. */
export function formatKeptLayer(o: KeptLayerOverview): string {
  return o.heads
    .map((s, h) => {
      const entropy = s.entropy.reduce((a, b) => a + b, 0) / Math.max(1, s.entropy.length);
      return `L${o.layer} H${h}  entropy ${entropy.toFixed(3)}  mean distance ${s.meanDistance.toFixed(1)}  previous token ${s.previousToken.toFixed(3)}`;
    })
    .join('\n');
}

export function formatTimings(loadMs: number, t: RunTimings): string {
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  return `timings    load ${ms(loadMs)}, tokenize ${ms(t.tokenizeMs)}, first layer ${ms(t.firstLayerMs)}, total ${ms(t.totalMs)}`;
}
