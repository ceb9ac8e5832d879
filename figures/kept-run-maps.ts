// RunMaps over a run kept for long inputs (runtime/attention/kept-run.ts): the figures read it as they read
// MemoryRunMaps, but no [heads, n, n] map exists. Values, rows, columns and tiles of a window small enough are exact
// (recomputed from q and k by ExactAttention); a tile over more entries than `exactEntries` (the whole matrix, the
// grid's thumbnails) is drawn from the summaries' overview: per head the max (or mean) over 64 × 64 blocks, pooled
// again to the cells asked for — block max, so a single strong cell is not averaged away. Only the overview is an
// approximation, and only of where bins cut through blocks; no value shown is read from it. The exact values may
// live elsewhere (the panel asks the host, which asks the worker): such a source throws PendingExact for what has
// not arrived yet, a tile is then drawn from the overview, and the caller redraws when the values come.
import type { AttentionKind } from '../runtime/types';
import { binOf, poolWindow, type Span } from './heads';
import type { HeadChoice, LayerShape, RunMaps, Tile } from './run-maps';

/** Where a kept layer's exact values come from: runtime/attention/exact-attention.ts's ExactAttention, or a remote
 * source that throws PendingExact until they have arrived. */
export interface ExactSource {
  readonly heads: number;
  readonly length: number;
  readonly qk: { readonly rule: { readonly causal: boolean; readonly window: number | null } };
  /** [rows, cols] exactly. */
  window(h: number, rows: Span, cols: Span): Float32Array;
  row(h: number, i: number): Float32Array;
  column(h: number, j: number): Float32Array;
  value(h: number, i: number, j: number): number;
}

/** A head's overview (runtime/attention/head-summaries.ts HeadSummary has it). */
export interface OverviewSource {
  res: number;
  block: number;
  /** [res, res]. */
  blockMax: Float32Array;
  blockMean: Float32Array;
}

/** The largest entry of an overview, computed once per array (the grid asks for each thumbnail on every draw). */
const maxima = new WeakMap<Float32Array, number>();
function largest(a: Float32Array): number {
  let m = maxima.get(a);
  if (m === undefined) {
    m = 0;
    for (let i = 0; i < a.length; i++) if (a[i] > m) m = a[i];
    maxima.set(a, m);
  }
  return m;
}

/** Thrown by a remote ExactSource for values it has asked for and not received yet. */
export class PendingExact extends Error {
  constructor() {
    super('exact values are on their way');
  }
}

/** What this reads of runtime/attention/kept-run.ts's KeptRun (whose module builds graphs, outside figures/). */
export interface KeptRunView {
  readonly facts: { layers: number; heads: number; attentionKinds: readonly AttentionKind[] };
  layer(l: number): { exact: ExactSource; heads: readonly OverviewSource[] } | undefined;
}

/** Entries (rows × cols × heads read) above which a tile comes from the overview instead of exact values. */
export const EXACT_TILE_ENTRIES = 1 << 21;

export class KeptRunMaps implements RunMaps {
  readonly layerCount: number;
  readonly headCount: number;
  /** Tiles drawn from the overview because their exact values were on their way: a view whose draw raised this
   * redraws when they arrive; one that did not keeps what it drew (webview/views: exactArrived). */
  fallbacks = 0;

  constructor(
    readonly modelName: string,
    readonly tokens: readonly { readonly text: string }[],
    private readonly kept: KeptRunView,
    private readonly exactEntries = EXACT_TILE_ENTRIES,
  ) {
    this.layerCount = kept.facts.layers;
    this.headCount = kept.facts.heads;
  }

  private layer(layer: number) {
    const l = this.kept.layer(layer);
    if (!l) throw new RangeError(`layer ${layer} has not been computed`);
    return l;
  }

  private heads(head: HeadChoice): number[] {
    if (typeof head === 'number') {
      if (!(head >= 0 && head < this.headCount)) throw new RangeError(`head ${head} of ${this.headCount}`);
      return [head];
    }
    return Array.from({ length: this.headCount }, (_, h) => h);
  }

  /** f for every head, asking for all of them before a PendingExact goes up (so one redraw gets every head). */
  private each<T>(heads: number[], f: (h: number) => T): T[] {
    let pending = false;
    const out: T[] = [];
    for (const h of heads)
      try {
        out.push(f(h));
      } catch (e) {
        if (!(e instanceof PendingExact)) throw e;
        pending = true;
      }
    if (pending) throw new PendingExact();
    return out;
  }

  /** Per-head arrays combined as the head choice says: the head itself, their mean or their max. */
  private combine(head: HeadChoice, parts: Float32Array[]): Float32Array {
    if (parts.length === 1) return parts[0];
    const out = new Float32Array(parts[0].length);
    for (const p of parts)
      for (let i = 0; i < out.length; i++)
        out[i] = head === 'max' ? Math.max(out[i], p[i]) : out[i] + p[i] / parts.length;
    return out;
  }

  shape(layer: number): LayerShape | undefined {
    const l = this.kept.layer(layer);
    if (!l) return undefined;
    const { rule } = l.exact.qk;
    return {
      kind: this.kept.facts.attentionKinds[layer] ?? 'causal',
      heads: l.exact.heads,
      queryLength: l.exact.length,
      keyLength: l.exact.length,
      mask: { causal: rule.causal, window: rule.window },
    };
  }

  /** The largest block max (the map's maximum for one head or the max over heads; for the mean over heads, the
   * mean of the heads' maxima, an upper bound used only to scale colours). */
  maximum(layer: number, head: HeadChoice): number {
    const l = this.layer(layer);
    const maxima = this.heads(head).map((h) => largest(l.heads[h].blockMax));
    const m = head === 'mean' ? maxima.reduce((a, b) => a + b, 0) / maxima.length : Math.max(...maxima);
    return Math.max(m, 1e-12);
  }

  tile(
    layer: number,
    head: HeadChoice,
    rows: Span,
    cols: Span,
    outRows: number,
    outCols: number,
    reduce: 'max' | 'mean' = 'max',
  ): Tile {
    const l = this.layer(layer);
    const heads = this.heads(head);
    const mask = this.shape(layer)!.mask;
    const R = rows.end - rows.start;
    const W = cols.end - cols.start;
    let exact: Float32Array[] | undefined;
    if (R * W * heads.length <= this.exactEntries)
      try {
        exact = this.each(heads, (h) => l.exact.window(h, rows, cols)); // per head [R, W]
      } catch (e) {
        if (!(e instanceof PendingExact)) throw e;
        this.fallbacks++;
      }
    if (exact) {
      const data = this.combine(head, exact); // [R, W]
      // poolWindow reads data[offset + r · W + c] at absolute r, c: the window starts at (rows.start, cols.start).
      const { values, masked } = poolWindow(
        data,
        -(rows.start * W + cols.start),
        W,
        rows,
        cols,
        outRows,
        outCols,
        mask,
        reduce,
      );
      return { rows: outRows, cols: outCols, values, masked };
    }
    const values = overviewTile(
      heads.map((h) => l.heads[h]),
      head,
      rows,
      cols,
      outRows,
      outCols,
      reduce,
    );
    const masked = new Uint8Array(outRows * outCols);
    if (mask.causal || mask.window !== null) {
      // A cell is masked when no row r of its bin sees a key of its bin: row r sees [r − window + 1, r] (causal) or
      // [r − window + 1, ∞), so some r does iff max(r0, c0 if causal) < min(r1, c1 + window − 1 if windowed).
      const colBins = Array.from({ length: outCols }, (_, x) => binOf(cols, outCols, x));
      for (let y = 0; y < outRows; y++) {
        const [r0, r1] = binOf(rows, outRows, y);
        for (let x = 0; x < outCols; x++) {
          const [c0, c1] = colBins[x];
          const lo = mask.causal ? Math.max(r0, c0) : r0;
          const hi = mask.window !== null ? Math.min(r1, c1 + mask.window - 1) : r1;
          if (lo >= hi) masked[y * outCols + x] = 1;
        }
      }
    }
    return { rows: outRows, cols: outCols, values, masked };
  }

  row(layer: number, head: HeadChoice, query: number): Float32Array {
    const l = this.layer(layer);
    return this.combine(
      head,
      this.each(this.heads(head), (h) => l.exact.row(h, query)),
    );
  }

  column(layer: number, head: HeadChoice, key: number): Float32Array {
    const l = this.layer(layer);
    return this.combine(
      head,
      this.each(this.heads(head), (h) => l.exact.column(h, key)),
    );
  }

  window(layer: number, head: HeadChoice, rows: Span, cols: Span): Float32Array {
    const l = this.layer(layer);
    return this.combine(
      head,
      this.each(this.heads(head), (h) => l.exact.window(h, rows, cols)),
    );
  }

  value(layer: number, head: HeadChoice, query: number, key: number): number {
    const l = this.layer(layer);
    const v = this.each(this.heads(head), (h) => l.exact.value(h, query, key));
    return head === 'max' ? Math.max(...v) : v.reduce((a, b) => a + b, 0) / v.length;
  }
}

/** Per output cell along one axis: the first and last overview block it touches ([first, last] pairs). */
function blockSpans(sp: Span, n: number, block: number): Int32Array {
  const b = new Int32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const [lo, hi] = binOf(sp, n, i);
    b[2 * i] = Math.floor(lo / block);
    b[2 * i + 1] = Math.floor((hi - 1) / block);
  }
  return b;
}

/**
 * [outRows, outCols] from the heads' res × res overviews: each cell the max (or mean) over the blocks it touches,
 * then combined over the heads as `combine` does (max, or the mean added head by head). Output rows (and columns)
 * that touch the same blocks are equal, so each distinct row is computed once and copied (a zoomed-out matrix at
 * 8,192 tokens draws ~800 rows from 128 blocks): a zoom step of the panel's matrix costs that, not cells × heads.
 */
function overviewTile(
  sources: readonly OverviewSource[],
  head: HeadChoice,
  rows: Span,
  cols: Span,
  outRows: number,
  outCols: number,
  reduce: 'max' | 'mean',
): Float32Array {
  const out = new Float32Array(outRows * outCols);
  const { block } = sources[0];
  const ys = blockSpans(rows, outRows, block);
  const xs = blockSpans(cols, outCols, block);
  const row = new Float32Array(outCols);
  const n = sources.length;
  for (let y = 0; y < outRows; y++) {
    const by0 = ys[2 * y];
    const by1 = ys[2 * y + 1];
    const o = y * outCols;
    if (y > 0 && by0 === ys[2 * y - 2] && by1 === ys[2 * y - 1]) {
      out.copyWithin(o, o - outCols, o);
      continue;
    }
    for (const s of sources) {
      const blocks = reduce === 'max' ? s.blockMax : s.blockMean; // [res, res]
      for (let x = 0; x < outCols; x++) {
        const bx0 = xs[2 * x];
        const bx1 = xs[2 * x + 1];
        if (x > 0 && bx0 === xs[2 * x - 2] && bx1 === xs[2 * x - 1]) {
          row[x] = row[x - 1];
          continue;
        }
        if (by0 === by1 && bx0 === bx1) {
          row[x] = blocks[by0 * s.res + bx0]; // inside one block: its value
          continue;
        }
        let m = 0;
        let sum = 0;
        for (let by = by0; by <= by1; by++)
          for (let bx = bx0; bx <= bx1; bx++) {
            const v = blocks[by * s.res + bx];
            if (v > m) m = v;
            sum += v;
          }
        row[x] = reduce === 'max' ? m : sum / ((by1 - by0 + 1) * (bx1 - bx0 + 1));
      }
      if (n === 1) out.set(row, o);
      else
        for (let x = 0; x < outCols; x++)
          out[o + x] = head === 'max' ? Math.max(out[o + x], row[x]) : out[o + x] + row[x] / n;
    }
  }
  return out;
}
