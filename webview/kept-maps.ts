// The panel's side of a run kept for long inputs: no map reaches the webview, only each layer's overview
// (keptLayer notes), and exact entries are asked of the host (keptWindow, which asks the inference worker) for
// what a view draws. Windows are widened to 64-aligned blocks so that panning and hovering reuse them, a few dozen
// are cached, and while one is on its way the figure draws from the overview (figures/kept-run-maps.ts catches
// PendingExact) and the views redraw when it arrives.
import {
  KeptRunMaps,
  PendingExact,
  type ExactSource,
  type KeptRunView,
  type OverviewSource,
} from '../figures/kept-run-maps';
import type { Span } from '../figures/heads';
import type { RunToken } from '../figures/run-maps';
import type { AttentionKind } from '../runtime/types';
import { MAX_KEPT_WINDOW, type KeptLayerMessage } from '../protocol/messages';

/** Entries (rows × cols × heads) up to which a tile is drawn exact in the panel; larger ones from the overview. */
export const PANEL_EXACT_ENTRIES = 1 << 18;

/** Tokens the head and neuron views show of a kept run (defined with the head figure, which the export draws too). */
export { KEPT_VIEW_WINDOW } from '../figures/head-figure';

/** Windows kept per run (each at most MAX_KEPT_WINDOW entries; in practice a zoomed matrix's few hundred squared). */
const CACHED_WINDOWS = 48;

const ALIGN = 64;

/** Asks the host for exact entries [rows, cols] of one head. */
export type AskWindow = (layer: number, head: number, rows: Span, cols: Span) => Promise<Float32Array>;

interface Cached {
  head: number;
  rows: Span;
  cols: Span;
  data: Float32Array; // [rows, cols]
}

const inside = (a: Span, b: Span) => a.start >= b.start && a.end <= b.end;

/** One kept layer in the webview: its overview and the exact windows fetched so far. */
class RemoteLayer implements ExactSource {
  readonly heads: number;
  readonly length: number;
  readonly qk: { rule: { causal: boolean; window: number | null } };
  readonly overview: OverviewSource[];
  private readonly cache: Cached[] = [];
  private readonly asked = new Set<string>();

  constructor(
    m: KeptLayerMessage,
    private readonly ask: AskWindow,
    private readonly arrived: (layer: number) => void,
    private readonly failed: (e: unknown) => void,
  ) {
    this.heads = m.heads;
    this.length = m.length;
    this.qk = { rule: { causal: m.causal, window: m.window } };
    const cells = m.res * m.res;
    const max = new Float32Array(m.blockMax); // [heads, res, res]
    const mean = new Float32Array(m.blockMean);
    this.overview = Array.from({ length: m.heads }, (_, h) => ({
      res: m.res,
      block: m.block,
      blockMax: max.subarray(h * cells, (h + 1) * cells),
      blockMean: mean.subarray(h * cells, (h + 1) * cells),
    }));
    this.layer = m.layer;
  }

  private readonly layer: number;

  window(h: number, rows: Span, cols: Span): Float32Array {
    const hit = this.cache.find((c) => c.head === h && inside(rows, c.rows) && inside(cols, c.cols));
    if (hit) {
      const W = cols.end - cols.start;
      const CW = hit.cols.end - hit.cols.start;
      const out = new Float32Array((rows.end - rows.start) * W); // [rows, cols]
      for (let i = rows.start; i < rows.end; i++) {
        const from = (i - hit.rows.start) * CW + (cols.start - hit.cols.start);
        out.set(hit.data.subarray(from, from + W), (i - rows.start) * W);
      }
      return out;
    }
    this.fetch(h, this.widen(rows), this.widen(cols));
    throw new PendingExact();
  }

  row(h: number, i: number): Float32Array {
    return this.window(h, { start: i, end: i + 1 }, { start: 0, end: this.length });
  }

  column(h: number, j: number): Float32Array {
    return this.window(h, { start: 0, end: this.length }, { start: j, end: j + 1 });
  }

  value(h: number, i: number, j: number): number {
    // Masked entries are exact zeros by the layer's rule: nothing to ask.
    const { causal, window } = this.qk.rule;
    if ((causal && j > i) || (window !== null && i - j >= window)) return 0;
    return this.window(h, { start: i, end: i + 1 }, { start: j, end: j + 1 })[0];
  }

  /** A span grown to 64-aligned ends (so that nearby requests reuse it), inside the run. */
  private widen(s: Span): Span {
    return {
      start: Math.floor(s.start / ALIGN) * ALIGN,
      end: Math.min(this.length, Math.ceil(s.end / ALIGN) * ALIGN),
    };
  }

  private fetch(h: number, rows: Span, cols: Span): void {
    // A whole row or column widened on the other side could pass the limit: ask for the span as given then.
    if ((rows.end - rows.start) * (cols.end - cols.start) > MAX_KEPT_WINDOW) {
      if (rows.end - rows.start > cols.end - cols.start) cols = { start: cols.start, end: cols.start + 1 };
      else rows = { start: rows.start, end: rows.start + 1 };
    }
    const key = `${h}:${rows.start}:${rows.end}:${cols.start}:${cols.end}`;
    if (this.asked.has(key)) return;
    this.asked.add(key);
    this.ask(this.layer, h, rows, cols).then(
      (data) => {
        this.asked.delete(key);
        this.cache.push({ head: h, rows, cols, data });
        if (this.cache.length > CACHED_WINDOWS) this.cache.shift();
        this.arrived(this.layer);
      },
      (e: unknown) => {
        this.asked.delete(key);
        this.failed(e);
      },
    );
  }
}

/** A kept run as the figures read it (KeptRunMaps over the remote layers). */
export class RemoteKeptRun implements KeptRunView {
  private readonly layers: (RemoteLayer | undefined)[];
  readonly maps: KeptRunMaps;

  constructor(
    readonly facts: { layers: number; heads: number; attentionKinds: AttentionKind[] },
    name: string,
    tokens: readonly RunToken[],
    private readonly ask: AskWindow,
    private readonly arrived: (layer: number) => void,
    private readonly failed: (e: unknown) => void,
  ) {
    this.layers = new Array<RemoteLayer | undefined>(facts.layers);
    this.maps = new KeptRunMaps(name, tokens, this, PANEL_EXACT_ENTRIES);
  }

  add(m: KeptLayerMessage): void {
    if (m.layer < this.layers.length) this.layers[m.layer] = new RemoteLayer(m, this.ask, this.arrived, this.failed);
  }

  layer(l: number): { exact: ExactSource; heads: readonly OverviewSource[] } | undefined {
    const r = this.layers[l];
    return r ? { exact: r, heads: r.overview } : undefined;
  }
}
