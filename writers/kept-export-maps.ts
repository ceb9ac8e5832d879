// The figures' RunMaps of a run kept for long inputs, for exports drawn where no map exists (the extension host,
// the CLI): figures/kept-run-maps.ts over each layer's overview (KeptAttention.layer) and exact windows asked of
// where the model runs (KeptAttention.window). The figure functions are synchronous, so a drawing is settled in
// rounds: draw; every exact window the figure asked for and did not have (PendingExact) is fetched; draw again —
// until nothing is missing, so the exported image is the scene the panel draws once its values have arrived:
// exact cells where a tile is small enough, the overview's block max beyond.
import {
  KeptRunMaps,
  PendingExact,
  EXACT_TILE_ENTRIES,
  type ExactSource,
  type KeptRunView,
  type OverviewSource,
} from '../figures/kept-run-maps';
import type { Span } from '../figures/heads';
import type { RunToken } from '../figures/run-maps';
import type { KeptAttention } from '../runtime/inspector/api';
import type { AttentionKind } from '../runtime/types';
import { ExportError } from '../figures/figure-kit';

interface Fetched {
  head: number;
  rows: Span;
  cols: Span;
  data: Float32Array; // [rows, cols]
}

const inside = (a: Span, b: Span) => a.start >= b.start && a.end <= b.end;
const key = (h: number, r: Span, c: Span) => `${h}:${r.start}:${r.end}:${c.start}:${c.end}`;

/** One kept layer: its overview, exact windows fetched so far, and those asked for since the last fetch. */
class SettledLayer implements ExactSource {
  readonly heads: number;
  readonly length: number;
  readonly qk: { rule: { causal: boolean; window: number | null } };
  readonly overview: OverviewSource[];
  private readonly fetched: Fetched[] = [];
  readonly missing = new Map<string, { head: number; rows: Span; cols: Span }>();

  constructor(
    readonly layer: number,
    o: NonNullable<ReturnType<KeptAttention['layer']>>,
    rule: { causal: boolean; window: number | null },
  ) {
    this.heads = o.heads.length;
    this.length = o.length;
    this.qk = { rule };
    this.overview = o.heads.map((h) => ({ res: h.res, block: h.block, blockMax: h.blockMax, blockMean: h.blockMean }));
  }

  window(h: number, rows: Span, cols: Span): Float32Array {
    const hit = this.fetched.find((c) => c.head === h && inside(rows, c.rows) && inside(cols, c.cols));
    if (!hit) {
      this.missing.set(key(h, rows, cols), { head: h, rows: { ...rows }, cols: { ...cols } });
      throw new PendingExact();
    }
    const W = cols.end - cols.start;
    const CW = hit.cols.end - hit.cols.start;
    const out = new Float32Array((rows.end - rows.start) * W); // [rows, cols]
    for (let i = rows.start; i < rows.end; i++) {
      const from = (i - hit.rows.start) * CW + (cols.start - hit.cols.start);
      out.set(hit.data.subarray(from, from + W), (i - rows.start) * W);
    }
    return out;
  }

  row(h: number, i: number): Float32Array {
    return this.window(h, { start: i, end: i + 1 }, { start: 0, end: this.length });
  }

  column(h: number, j: number): Float32Array {
    return this.window(h, { start: 0, end: this.length }, { start: j, end: j + 1 });
  }

  value(h: number, i: number, j: number): number {
    return this.window(h, { start: i, end: i + 1 }, { start: j, end: j + 1 })[0];
  }

  add(f: Fetched): void {
    this.fetched.push(f);
  }
}

/** Most rounds of draw → fetch → draw (a figure asks for what it shows in one drawing; one more to be safe). */
const ROUNDS = 4;

export class KeptExportMaps implements KeptRunView {
  readonly maps: KeptRunMaps;
  private readonly layers: (SettledLayer | undefined)[];

  constructor(
    readonly facts: {
      layers: number;
      heads: number;
      attentionKinds: readonly AttentionKind[];
      slidingWindows?: readonly (number | null)[];
    },
    name: string,
    tokens: readonly RunToken[],
    private readonly kept: KeptAttention,
    exactEntries = EXACT_TILE_ENTRIES,
  ) {
    this.layers = Array.from({ length: facts.layers }, (_, l) => {
      const o = kept.layer(l);
      if (!o) return undefined;
      const rule = { causal: facts.attentionKinds[l] === 'causal', window: facts.slidingWindows?.[l] ?? null };
      return new SettledLayer(l, o, rule);
    });
    this.maps = new KeptRunMaps(name, tokens, this, exactEntries);
  }

  layer(l: number): { exact: ExactSource; heads: readonly OverviewSource[] } | undefined {
    const s = this.layers[l];
    return s ? { exact: s, heads: s.overview } : undefined;
  }

  /** Draws with `draw` until every exact value it asked for has been fetched; returns the last drawing. */
  async settle<T>(draw: () => T): Promise<T> {
    for (let round = 0; ; round++) {
      let out: T | undefined;
      let pending = false;
      try {
        out = draw();
      } catch (e) {
        if (!(e instanceof PendingExact)) throw e;
        pending = true;
      }
      const missing = this.layers.filter((l): l is SettledLayer => !!l && l.missing.size > 0);
      if (!missing.length && !pending) return out as T;
      if (round >= ROUNDS)
        throw new ExportError('The exact values of the exported view did not settle; export a smaller window.');
      for (const l of missing) {
        for (const m of [...l.missing.values()])
          l.add({ ...m, data: await this.kept.window(l.layer, m.head, m.rows, m.cols) });
        l.missing.clear();
      }
    }
  }
}
