// What a figure reads of a run: the tokens and, per layer and head (or the mean/max over heads), its attention map —
// never as whole [heads, query, key] arrays but as the pieces a drawing needs, asked for when it is drawn: the map's
// maximum, a window of it pooled to a given number of cells (an overview of the whole head, or a tile of a zoomed
// matrix), one row, one column, one value. MemoryRunMaps backs it with the full maps in memory (the panel's layers,
// the host's snapshot, the CLI's run); maps computed on demand for long inputs can implement the same interface
// without touching a figure.
import type { AttentionKind, LayerAttention } from '../runtime/types';
import type { GrownLayer } from '../runtime/generate/grow-maps';
import { aggregateHeads, maxValue, poolWindow, type MaskRule, type Span } from './heads';

export type HeadChoice = number | 'mean' | 'max';

export interface LayerShape {
  kind: AttentionKind;
  heads: number;
  queryLength: number;
  keyLength: number;
  mask: MaskRule;
}

/** A window of a map pooled into rows × cols cells. */
export interface Tile {
  rows: number;
  cols: number;
  /** [rows, cols]: the max (or mean) over each cell's unmasked entries. */
  values: Float32Array;
  /** [rows, cols]: 1 where every entry the cell covers is masked. */
  masked: Uint8Array;
}

/** What a figure reads of a token. */
export interface RunToken {
  readonly text: string;
  readonly label?: string;
  readonly template?: boolean;
  /** Written by the model after the input (Continue, `attention-lens generate`): drawn in the focus ink. */
  readonly generated?: boolean;
}

export interface RunMaps {
  /** The model's name (captions). */
  readonly modelName: string;
  /** The tokens in order: the raw vocabulary piece (`text`), where known its label (figures/token-display.ts), and
   *  `template`: written by a chat template (drawn dimmer). */
  readonly tokens: readonly RunToken[];
  /** Encoder–decoder runs: the target's tokens (rows of decoder and cross layers; figures/seq2seq-axes.ts), once
   *  known; `tokens` are then the source's. */
  readonly targetTokens?: readonly RunToken[];
  /** Encoder–decoder runs: the decoder's inputs ([decoder start] + targetTokens[:-1]: the keys of decoder layers),
   *  where known. */
  readonly decoderInputTokens?: readonly RunToken[];
  /** Layers of the model, computed or not. */
  readonly layerCount: number;
  /** Query heads per layer. */
  readonly headCount: number;
  /** The layer's shape, or undefined while it has not been computed. */
  shape(layer: number): LayerShape | undefined;
  /** The largest value of the map (at least 1e-12). */
  maximum(layer: number, head: HeadChoice): number;
  /** Rows × cols of the map pooled into outRows × outCols cells (max, or mean). */
  tile(
    layer: number,
    head: HeadChoice,
    rows: Span,
    cols: Span,
    outRows: number,
    outCols: number,
    reduce?: 'max' | 'mean',
  ): Tile;
  /** One query's row [keys]. */
  row(layer: number, head: HeadChoice, query: number): Float32Array;
  /** One key's column [queries]. */
  column(layer: number, head: HeadChoice, key: number): Float32Array;
  value(layer: number, head: HeadChoice, query: number, key: number): number;
  /** The exact entries rows × cols [rows, cols] (no pooling): the head and neuron views' window of a long run. */
  window(layer: number, head: HeadChoice, rows: Span, cols: Span): Float32Array;
}

/** The whole map at `res` cells a side at most: the grid's thumbnails, an overview. */
export function overview(maps: RunMaps, layer: number, head: HeadChoice, res: number): Tile {
  const s = maps.shape(layer)!;
  return maps.tile(
    layer,
    head,
    { start: 0, end: s.queryLength },
    { start: 0, end: s.keyLength },
    Math.min(s.queryLength, res),
    Math.min(s.keyLength, res),
  );
}

const MAX_CACHED_TILES = 512;

/** Row and head strides of a layer's data: [heads, query, key], or [heads, capacity, capacity] once grown. */
function strides(l: LayerAttention): { stride: number; plane: number } {
  const capacity = (l as Partial<GrownLayer>).capacity;
  return capacity !== undefined
    ? { stride: capacity, plane: capacity * capacity }
    : { stride: l.keyLength, plane: l.queryLength * l.keyLength };
}

/** RunMaps over layers held in memory. Add layers as they arrive; pooled tiles and head aggregates are cached. */
export class MemoryRunMaps implements RunMaps {
  readonly headCount: number;
  readonly layerCount: number;
  private readonly layers: (LayerAttention | undefined)[];
  private readonly aggregates = new Map<string, Float32Array>();
  private readonly tiles = new Map<string, Tile>();
  private readonly maxima = new Map<string, number>();
  targetTokens?: readonly RunToken[];
  decoderInputTokens?: readonly RunToken[];

  /** `windows`: per layer, the sliding window (model facts), null where a layer sees every earlier key. */
  constructor(
    readonly modelName: string,
    readonly tokens: readonly RunToken[],
    layers: readonly (LayerAttention | undefined)[] | number,
    heads: number,
    private readonly windows: readonly (number | null)[] = [],
  ) {
    this.layers = typeof layers === 'number' ? new Array(layers).fill(undefined) : [...layers];
    this.layerCount = this.layers.length;
    this.headCount = heads;
  }

  /** A layer arrived (or was replaced): its cached aggregates and tiles are dropped. */
  add(l: LayerAttention): void {
    if (l.layer < 0 || l.layer >= this.layerCount) return;
    this.layers[l.layer] = l;
    for (const key of [...this.aggregates.keys()]) if (key.startsWith(`${l.layer}:`)) this.aggregates.delete(key);
    for (const key of [...this.tiles.keys()]) if (key.startsWith(`${l.layer}:`)) this.tiles.delete(key);
    for (const key of [...this.maxima.keys()]) if (key.startsWith(`${l.layer}:`)) this.maxima.delete(key);
  }

  /** The layer as received (a grown layer with its capacity: read it through this class). */
  layer(layer: number): LayerAttention | undefined {
    return this.layers[layer];
  }

  shape(layer: number): LayerShape | undefined {
    const l = this.layers[layer];
    if (!l) return undefined;
    return {
      kind: l.kind,
      heads: l.heads,
      queryLength: l.queryLength,
      keyLength: l.keyLength,
      // Decoder self-attention of an encoder–decoder is causal too (runtime/types.ts isCausalKind).
      mask: { causal: l.kind === 'causal' || l.kind === 'decoder', window: this.windows[layer] ?? null },
    };
  }

  /** The [query, key] map of a head or an aggregate: its buffer, offset and row stride. A layer grown by Continue
   * (runtime/generate/grow-maps.ts GrowingMaps) is held [heads, capacity, capacity] and read in place. */
  private map(
    layer: number,
    head: HeadChoice,
  ): { data: Float32Array; offset: number; stride: number; l: LayerAttention } {
    const l = this.layers[layer];
    if (!l) throw new RangeError(`layer ${layer} has not been computed`);
    const { stride, plane } = strides(l);
    if (typeof head === 'number') {
      if (!(head >= 0 && head < l.heads)) throw new RangeError(`head ${head} of ${l.heads}`);
      return { data: l.data, offset: head * plane, stride, l };
    }
    const key = `${layer}:${head}`;
    let agg = this.aggregates.get(key);
    if (!agg) {
      agg = aggregateHeads(l.data, l.heads, l.queryLength, l.keyLength, head, stride, plane); // [query, key]
      this.aggregates.set(key, agg);
    }
    return { data: agg, offset: 0, stride: l.keyLength, l };
  }

  maximum(layer: number, head: HeadChoice): number {
    const key = `${layer}:${head}`;
    let m = this.maxima.get(key);
    if (m === undefined) {
      const { data, offset, stride, l } = this.map(layer, head);
      m = 1e-12; // maxValue's floor, row by row (a grown layer's rows are `stride` apart)
      for (let q = 0; q < l.queryLength; q++) m = Math.max(m, maxValue(data, offset + q * stride, l.keyLength));
      this.maxima.set(key, m);
    }
    return m;
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
    const key = `${layer}:${head}:${rows.start}-${rows.end}:${cols.start}-${cols.end}:${outRows}x${outCols}:${reduce}`;
    const cached = this.tiles.get(key);
    if (cached) return cached;
    const { data, offset, stride } = this.map(layer, head);
    const mask = this.shape(layer)!.mask;
    const { values, masked } = poolWindow(data, offset, stride, rows, cols, outRows, outCols, mask, reduce);
    const t: Tile = { rows: outRows, cols: outCols, values, masked };
    if (this.tiles.size >= MAX_CACHED_TILES) this.tiles.delete(this.tiles.keys().next().value!);
    this.tiles.set(key, t);
    return t;
  }

  row(layer: number, head: HeadChoice, query: number): Float32Array {
    const l = this.layers[layer];
    // The head view asks for thousands of rows: a single head's row without building the map's record.
    if (l && typeof head === 'number' && head >= 0 && head < l.heads) {
      const { stride, plane } = strides(l);
      const at = head * plane + query * stride;
      return l.data.subarray(at, at + l.keyLength);
    }
    const { data, offset, stride } = this.map(layer, head);
    const at = offset + query * stride;
    return data.subarray(at, at + l!.keyLength);
  }

  column(layer: number, head: HeadChoice, key: number): Float32Array {
    const { data, offset, stride, l } = this.map(layer, head);
    const out = new Float32Array(l.queryLength); // [queries]
    for (let q = 0; q < l.queryLength; q++) out[q] = data[offset + q * stride + key];
    return out;
  }

  value(layer: number, head: HeadChoice, query: number, key: number): number {
    const { data, offset, stride } = this.map(layer, head);
    return data[offset + query * stride + key];
  }

  window(layer: number, head: HeadChoice, rows: Span, cols: Span): Float32Array {
    const { data, offset, l } = this.map(layer, head);
    const W = cols.end - cols.start;
    const out = new Float32Array((rows.end - rows.start) * W); // [rows, cols]
    for (let i = rows.start; i < rows.end; i++) {
      const at = offset + i * l.keyLength + cols.start;
      out.set(data.subarray(at, at + W), (i - rows.start) * W);
    }
    return out;
  }
}
