// The webview's model of the current run: tokens, facts, the layers received so far, vectors, and the selection.
import type { ColorMapName, ModelFactsLike, RunSource, TokenInfo, Vectors } from './types';
import type { LayerAttention } from '../runtime/types';
import { aggregateHeads } from './render/heatmap';

export type ViewName = 'grid' | 'head' | 'matrix' | 'neuron';
export const VIEWS: ViewName[] = ['grid', 'head', 'matrix', 'neuron'];
export type HeadChoice = number | 'mean' | 'max';

/** A [rows, cols] matrix view into a buffer. */
export interface Matrix {
  data: Float32Array;
  offset: number;
  rows: number;
  cols: number;
  causal: boolean;
}

export class Store {
  runId: number | undefined;
  tokens: TokenInfo[] = [];
  facts: ModelFactsLike | undefined;
  source: RunSource | undefined;
  truncatedFrom: number | undefined;
  layers: (LayerAttention | undefined)[] = [];
  received = 0;
  status: 'idle' | 'running' | 'done' | 'cancelled' | 'failed' = 'idle';
  message = '';
  totalMs: number | undefined;
  colorMap: ColorMapName = 'viridis';
  view: ViewName = 'grid';
  layer = 0;
  head: HeadChoice = 'mean';
  query = 0;
  vectors = new Map<number, Vectors>();
  private aggregates = new Map<string, Float32Array>();

  reset(runId: number, tokens: TokenInfo[], facts: ModelFactsLike, source: RunSource, truncatedFrom?: number): void {
    this.runId = runId;
    this.tokens = tokens;
    this.facts = facts;
    this.source = source;
    this.truncatedFrom = truncatedFrom;
    this.layers = new Array(facts.layers).fill(undefined);
    this.received = 0;
    this.status = 'running';
    this.message = '';
    this.totalMs = undefined;
    this.vectors.clear();
    this.aggregates.clear();
    if (this.layer >= facts.layers) this.layer = 0;
    if (typeof this.head === 'number' && this.head >= facts.heads) this.head = 'mean';
    if (this.query >= tokens.length) this.query = 0;
  }

  addLayer(l: LayerAttention): void {
    if (l.layer >= this.layers.length) return;
    if (!this.layers[l.layer]) this.received++;
    this.layers[l.layer] = l;
    this.aggregates.delete(`${l.layer}:mean`);
    this.aggregates.delete(`${l.layer}:max`);
  }

  /** The matrix of a layer for a head or an aggregate, or undefined while the layer has not arrived. */
  matrix(layer: number, head: HeadChoice): Matrix | undefined {
    const l = this.layers[layer];
    if (!l) return undefined;
    const causal = l.kind === 'causal';
    const n = l.queryLength * l.keyLength;
    if (typeof head === 'number') {
      if (head < 0 || head >= l.heads) return undefined;
      return { data: l.data, offset: head * n, rows: l.queryLength, cols: l.keyLength, causal };
    }
    const key = `${layer}:${head}`;
    let agg = this.aggregates.get(key);
    if (!agg) {
      agg = aggregateHeads(l.data, l.heads, l.queryLength, l.keyLength, head);
      this.aggregates.set(key, agg);
    }
    return { data: agg, offset: 0, rows: l.queryLength, cols: l.keyLength, causal };
  }
}
