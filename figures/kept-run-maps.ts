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
    const maxima = this.heads(head).map((h) => l.heads[h].blockMax.reduce((a, b) => Math.max(a, b), 0));
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
    const parts = heads.map((h) => this.fromOverview(l.heads[h], rows, cols, outRows, outCols, reduce));
    const values = this.combine(head, parts);
    const masked = new Uint8Array(outRows * outCols);
    if (mask.causal || mask.window !== null)
      for (let y = 0; y < outRows; y++) {
        const [r0, r1] = binOf(rows, outRows, y);
        for (let x = 0; x < outCols; x++) {
          const [c0, c1] = binOf(cols, outCols, x);
          let seen = false;
          for (let r = r0; r < r1 && !seen; r++) {
            const from = mask.window !== null ? Math.max(c0, r - mask.window + 1) : c0;
            const to = mask.causal ? Math.min(c1, r + 1) : c1;
            seen = to > from;
          }
          if (!seen) masked[y * outCols + x] = 1;
        }
      }
    return { rows: outRows, cols: outCols, values, masked };
  }

  /** [outRows, outCols] from a head's res × res overview: each cell the max (or mean) over the blocks it touches. */
  private fromOverview(
    s: OverviewSource,
    rows: Span,
    cols: Span,
    outRows: number,
    outCols: number,
    reduce: 'max' | 'mean',
  ): Float32Array {
    const blocks = reduce === 'max' ? s.blockMax : s.blockMean; // [res, res]
    const out = new Float32Array(outRows * outCols);
    for (let y = 0; y < outRows; y++) {
      const [r0, r1] = binOf(rows, outRows, y);
      for (let x = 0; x < outCols; x++) {
        const [c0, c1] = binOf(cols, outCols, x);
        let m = 0;
        let sum = 0;
        let n = 0;
        for (let by = Math.floor(r0 / s.block); by <= Math.floor((r1 - 1) / s.block); by++)
          for (let bx = Math.floor(c0 / s.block); bx <= Math.floor((c1 - 1) / s.block); bx++) {
            const v = blocks[by * s.res + bx];
            m = Math.max(m, v);
            sum += v;
            n++;
          }
        out[y * outCols + x] = reduce === 'max' ? m : n > 0 ? sum / n : 0;
      }
    }
    return out;
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
