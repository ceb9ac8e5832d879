// A run's attention grown by generated tokens: every layer's [heads, S, S] map becomes [heads, S+1, S+1] with the
// token's query row (its attention over every key up to itself) as the last row and zeros in the new last column of
// the earlier rows (a causal model's earlier queries never see a later key). Pure and Node-free: the extension host
// (the panel's run, hover and export) and the webview (its views) grow the same maps from the same rows.
//
// appendQueryRow makes a new [heads, S+1, S+1] map (O(heads · S²) per layer and token). GrowingMaps is what Continue
// uses: each layer is held with room to grow — [heads, C, C] with the map in the first S rows and columns of each
// head — so a token writes only its row (O(heads · S)); the buffer is replaced, larger, only when S reaches C. Readers
// that know the capacity (figures/run-maps.ts MemoryRunMaps) read it in place; `dense()` gives plain [heads, S, S]
// maps to the others (hover, export, replay), made once per size and only when asked for.
import { LensError } from '../errors';
import type { LayerAttention } from '../types';

/** `layer` [heads, S, S] with `row` [heads, S + 1] appended as query S: [heads, S + 1, S + 1]. */
export function appendQueryRow<L extends LayerAttention>(layer: L, row: Float32Array): L {
  const { heads: H, queryLength: Q, keyLength: K } = layer;
  const S = Q + 1;
  checkGrowable(layer, row);
  const data = new Float32Array(H * S * S); // [H, S, S]
  for (let h = 0; h < H; h++) {
    for (let q = 0; q < Q; q++) data.set(layer.data.subarray((h * Q + q) * K, (h * Q + q + 1) * K), (h * S + q) * S);
    data.set(row.subarray(h * S, (h + 1) * S), (h * S + Q) * S);
  }
  return { ...layer, queryLength: S, keyLength: S, data };
}

function checkGrowable(layer: LayerAttention, row: Float32Array): void {
  const { heads: H, queryLength: Q, keyLength: K } = layer;
  if (Q !== K) throw new LensError('BAD_INPUT', `Layer ${layer.layer} is ${Q} × ${K}: only a square (self) map grows.`);
  if (row.length !== H * (Q + 1))
    throw new LensError(
      'BAD_INPUT',
      `The generated row of layer ${layer.layer} has ${row.length} values, not ${H} heads × ${Q + 1} keys.`,
    );
}

/** A layer held with room to grow: `data` is [heads, capacity, capacity]; the map is the first queryLength rows and
 * keyLength columns of each head (entries beyond are 0). */
export interface GrownLayer extends LayerAttention {
  capacity: number;
}

/** The next capacity when `needed` tokens no longer fit: a quarter more (at least 32 more), so that the copies of
 * the growth cost O(S) per token amortised while the room left stays ≤ 1.56× the map (growing both sides by 2×
 * would hold 4×). */
export function nextCapacity(needed: number): number {
  return Math.max(needed, Math.ceil(needed * 1.25), needed + 32);
}

/** Every layer of a run, grown token by token in place (see the header). */
export class GrowingMaps {
  private held: GrownLayer[];
  private denseCache: { size: number; layers: LayerAttention[] } | undefined;

  /** Takes the run's square maps as they are (copied once into buffers with room for `reserve` more tokens). */
  constructor(layers: readonly LayerAttention[], reserve = 0) {
    const sizes = new Set(layers.map((l) => l.queryLength));
    const bad = layers.find((l) => l.queryLength !== l.keyLength);
    if (bad)
      throw new LensError(
        'BAD_INPUT',
        `Layer ${bad.layer} is ${bad.queryLength} × ${bad.keyLength}: only a square (self) map grows.`,
      );
    if (sizes.size > 1)
      throw new LensError('BAD_INPUT', `The run's layers have different sizes (${[...sizes].join(', ')}).`);
    const S = layers[0]?.queryLength ?? 0;
    const C = reserve > 0 ? S + reserve : nextCapacity(S + 1);
    this.held = layers.map((l) => moved(l, C));
  }

  /** Tokens in the maps. */
  get size(): number {
    return this.held[0]?.queryLength ?? 0;
  }

  /** Makes room for `extra` more tokens now (one copy), e.g. the tokens a Continue asks for. */
  reserve(extra: number): void {
    const need = this.size + extra;
    if (this.held.every((l) => l.capacity >= need)) return;
    this.held = this.held.map((l) => moved(l, need));
  }

  /** One generated token: per layer its row [heads, S + 1], in layer order. */
  append(rows: readonly Float32Array[]): void {
    if (rows.length !== this.held.length)
      throw new LensError(
        'BAD_INPUT',
        `A generated token has rows for ${rows.length} layers, not ${this.held.length}.`,
      );
    this.held.forEach((l, i) => checkGrowable(l, rows[i]));
    const S = this.size + 1;
    if (this.held.some((l) => l.capacity < S)) this.held = this.held.map((l) => moved(l, nextCapacity(S)));
    this.held = this.held.map((l, i) => {
      const C = l.capacity;
      const row = rows[i]; // [H, S]
      for (let h = 0; h < l.heads; h++) l.data.set(row.subarray(h * S, (h + 1) * S), (h * C + S - 1) * C);
      return { ...l, queryLength: S, keyLength: S };
    });
    this.denseCache = undefined;
  }

  /** The layers as held: [heads, capacity, capacity] with their logical size (read them with the capacity). */
  views(): readonly GrownLayer[] {
    return this.held;
  }

  /** Plain [heads, S, S] maps (made on the first call after each token). */
  dense(): LayerAttention[] {
    const S = this.size;
    if (this.denseCache?.size !== S) this.denseCache = { size: S, layers: this.held.map(denseOf) };
    return this.denseCache.layers;
  }
}

/** `l` ([heads, S, S], or a held layer) copied into a zeroed [heads, C, C] buffer. */
function moved(l: LayerAttention | GrownLayer, C: number): GrownLayer {
  const { heads: H, queryLength: S } = l;
  const from = 'capacity' in l ? l.capacity : S;
  const data = new Float32Array(H * C * C); // [H, C, C]
  for (let h = 0; h < H; h++)
    for (let q = 0; q < S; q++)
      data.set(l.data.subarray((h * from + q) * from, (h * from + q) * from + S), (h * C + q) * C);
  // Query/key vectors of a shorter run no longer fit (recomputed on request).
  const { capacity: _c, q: _q, k: _k, ...rest } = l as GrownLayer & { q?: unknown; k?: unknown };
  return { ...rest, data, capacity: C };
}

function denseOf(l: GrownLayer): LayerAttention {
  const { capacity: C, ...rest } = l;
  const S = l.queryLength;
  const data = new Float32Array(l.heads * S * S); // [H, S, S]
  for (let h = 0; h < l.heads; h++)
    for (let q = 0; q < S; q++) data.set(l.data.subarray((h * C + q) * C, (h * C + q) * C + S), (h * S + q) * S);
  return { ...rest, data };
}
