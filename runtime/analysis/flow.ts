// Attention flow (Abnar & Zuidema 2020): the importance of input token j for top position t is the maximum flow
// from node (top, t) to node (0, j) in the layer graph, where nodes are (layer, token) and the edge between
// (l, i) and (l − 1, j) has capacity Ã_l[i, j], the residual-mixed head-mean attention of rollout.ts. Unlike
// rollout (a product of matrices), flow treats attention weights as capacities, so a token's score is bounded by
// the narrowest layer it passes through. Contains a general float max-flow (Dinic's algorithm), exported for tests.
//
// Cost, per target position: one max-flow per input token, n of them, on a graph of V = (L + 1)·n nodes and
// E ≤ L·n² edges (L layers, n tokens). Dinic is O(V²·E) per flow in the worst case, so O(n·V²·E) = O(L³·n⁵) per
// target; in practice the layered graph needs few phases and it is far less, but it grows quickly: flowScores
// refuses graphs with L·n above `maxLayerTokens` (default 1024, e.g. 12 layers × 85 tokens, measured at about
// 2.5 s per target on one core of a small VM) with an error that points to rollout, which is O(L·n³) for every
// target at once.
import { LensError } from '../errors';
import type { LayerAttention } from '../types';
import { checkSelfAttention, mixedAttention, type RolloutOptions } from './rollout';

/** Residual capacities at or below this count as saturated (float capacities accumulate rounding). */
const EPS = 1e-12;

/** A directed graph with float capacities and a max-flow solver (Dinic: BFS levels, blocking flows by DFS). */
export class FlowNetwork {
  private readonly head: Int32Array;
  private next: number[] = [];
  private to: number[] = [];
  /** Capacity of each edge as added; edges come in pairs (forward 2k, reverse 2k + 1). */
  private capacity: number[] = [];
  private residual = new Float64Array(0);

  constructor(readonly nodes: number) {
    this.head = new Int32Array(nodes).fill(-1);
  }

  /** Adds the edge from → to with the given capacity (parallel edges add up; zero or negative ones are ignored). */
  addEdge(from: number, to: number, capacity: number): void {
    if (from < 0 || from >= this.nodes || to < 0 || to >= this.nodes) {
      throw new RangeError(`edge ${from} → ${to} is outside 0..${this.nodes - 1}`);
    }
    if (!(capacity > 0)) return;
    for (const [a, b, c] of [
      [from, to, capacity],
      [to, from, 0],
    ]) {
      this.to.push(b);
      this.capacity.push(c);
      this.next.push(this.head[a]);
      this.head[a] = this.to.length - 1;
    }
  }

  /** The maximum flow value from source to sink. Each call starts from zero flow. */
  maxFlow(source: number, sink: number): number {
    if (source === sink) throw new RangeError('source and sink are the same node');
    this.residual = Float64Array.from(this.capacity);
    const level = new Int32Array(this.nodes);
    const iter = new Int32Array(this.nodes);
    const queue = new Int32Array(this.nodes);
    let total = 0;
    for (;;) {
      // BFS: distance from the source over edges with residual capacity.
      level.fill(-1);
      level[source] = 0;
      let qh = 0;
      let qt = 0;
      queue[qt++] = source;
      while (qh < qt) {
        const u = queue[qh++];
        for (let e = this.head[u]; e !== -1; e = this.next[e]) {
          const v = this.to[e];
          if (level[v] < 0 && this.residual[e] > EPS) {
            level[v] = level[u] + 1;
            queue[qt++] = v;
          }
        }
      }
      if (level[sink] < 0) return total;
      iter.set(this.head);
      for (;;) {
        const pushed = this.push(source, sink, Infinity, level, iter);
        if (pushed <= EPS) break;
        total += pushed;
      }
    }
  }

  /** One augmenting path in the level graph (DFS with current-edge pointers); returns the amount pushed. */
  private push(u: number, sink: number, limit: number, level: Int32Array, iter: Int32Array): number {
    if (u === sink) return limit;
    for (; iter[u] !== -1; iter[u] = this.next[iter[u]]) {
      const e = iter[u];
      const v = this.to[e];
      if (level[v] !== level[u] + 1 || this.residual[e] <= EPS) continue;
      const got = this.push(v, sink, Math.min(limit, this.residual[e]), level, iter);
      if (got > EPS) {
        this.residual[e] -= got;
        this.residual[e ^ 1] += got;
        return got;
      }
    }
    return 0;
  }
}

export interface FlowOptions extends RolloutOptions {
  /** Refuse inputs with (layers used) × seq above this. Default 1024. */
  maxLayerTokens?: number;
}

export const DEFAULT_MAX_LAYER_TOKENS = 1024;

/**
 * Attention flow from every input token to one target position: [seq] where entry j is the max-flow value from
 * (top, target) to (layer 0 input, j). Layers before `startLayer` are left out of the graph. Values are raw flow
 * values (each ≤ 1, the capacity out of the target node); they are not renormalised.
 */
export function flowScores(layers: readonly LayerAttention[], target: number, options: FlowOptions = {}): Float64Array {
  const n = checkSelfAttention(layers);
  const start = options.startLayer ?? 0;
  if (!Number.isInteger(start) || start < 0 || start >= layers.length) {
    throw new RangeError(`startLayer ${start} is outside 0..${layers.length - 1}`);
  }
  if (!Number.isInteger(target) || target < 0 || target >= n) {
    throw new RangeError(`target ${target} is outside 0..${n - 1}`);
  }
  const used = layers.slice(start);
  const L = used.length;
  const limit = options.maxLayerTokens ?? DEFAULT_MAX_LAYER_TOKENS;
  if (L * n > limit) {
    throw new LensError(
      'TOO_LONG',
      `Attention flow over ${L} layers × ${n} tokens (${L * n}) exceeds the limit of ${limit}: its cost grows as ` +
        'layers³ × tokens⁵. Use attention rollout instead, or a shorter input or a later start layer.',
    );
  }
  const mixed = used.map((a) => mixedAttention(a, options.heads, options.residual)); // L × [seq, seq]

  // Keep only nodes reachable from the source: (top, target) reaches (l − 1, j) when some reachable (l, i) has
  // Ã_l[i, j] > 0. For causal attention this drops every token after the target.
  const reach: Uint8Array[] = Array.from({ length: L + 1 }, () => new Uint8Array(n)); // [L + 1][seq]
  reach[L][target] = 1;
  for (let l = L; l >= 1; l--) {
    const m = mixed[l - 1];
    for (let i = 0; i < n; i++) {
      if (!reach[l][i]) continue;
      for (let j = 0; j < n; j++) if (m[i * n + j] > 0) reach[l - 1][j] = 1;
    }
  }
  const node = (l: number, i: number) => l * n + i;
  const net = new FlowNetwork((L + 1) * n);
  for (let l = L; l >= 1; l--) {
    const m = mixed[l - 1]; // [query, key] of layer l, connecting (l, i) → (l − 1, j)
    for (let i = 0; i < n; i++) {
      if (!reach[l][i]) continue;
      for (let j = 0; j < n; j++) net.addEdge(node(l, i), node(l - 1, j), m[i * n + j]);
    }
  }
  const scores = new Float64Array(n); // [seq]
  for (let j = 0; j < n; j++) {
    if (reach[0][j]) scores[j] = net.maxFlow(node(L, target), node(0, j));
  }
  return scores;
}
