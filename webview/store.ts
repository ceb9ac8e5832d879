// The webview's model of the current run: tokens, facts, the layers received so far (also as the figures' run maps),
// vectors, and the selection.
import type { ColorMapName, ModelFactsLike, RunSource, TokenInfo, Vectors } from './types';
import type { LayerAttention } from '../runtime/types';
import { MemoryRunMaps } from '../figures/run-maps';
import { labelTokens } from '../figures/token-display';

export type ViewName = 'grid' | 'head' | 'matrix' | 'neuron';
export const VIEWS: ViewName[] = ['grid', 'head', 'matrix', 'neuron'];
export type HeadChoice = number | 'mean' | 'max';

/** The target side of an encoder–decoder run: rows of the decoder and cross maps. */
export interface TargetInfo {
  tokens: (TokenInfo & { label: string })[];
  mode: 'teacher-forced' | 'translated';
  end?: 'stop' | 'length';
  text: string;
}

export class Store {
  runId: number | undefined;
  /** The run's tokens with their labels (figures/token-display.ts: whitespace glyphs, source characters). */
  tokens: (TokenInfo & { label: string })[] = [];
  facts: ModelFactsLike | undefined;
  source: RunSource | undefined;
  truncatedFrom: number | undefined;
  layers: (LayerAttention | undefined)[] = [];
  /** Encoder–decoder runs: the target side (`tokens` above are the source), once the host sent it. */
  target: TargetInfo | undefined;
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
  /** What the figures read: the layers so far, with their pooled tiles and head aggregates cached. */
  maps = new MemoryRunMaps('', [], 0, 0);

  reset(runId: number, tokens: TokenInfo[], facts: ModelFactsLike, source: RunSource, truncatedFrom?: number): void {
    this.runId = runId;
    this.tokens = labelTokens(tokens, source.text);
    this.facts = facts;
    this.source = source;
    this.truncatedFrom = truncatedFrom;
    this.layers = new Array(facts.layers).fill(undefined);
    this.target = undefined;
    this.received = 0;
    this.status = 'running';
    this.message = '';
    this.totalMs = undefined;
    this.vectors.clear();
    this.maps = new MemoryRunMaps(facts.name, this.tokens, facts.layers, facts.heads, facts.slidingWindows ?? []);
    if (this.layer >= facts.layers) this.layer = 0;
    if (typeof this.head === 'number' && this.head >= facts.heads) this.head = 'mean';
    if (this.query >= tokens.length) this.query = 0;
  }

  setTarget(tokens: TokenInfo[], mode: TargetInfo['mode'], text: string, end?: TargetInfo['end']): void {
    this.target = { tokens: labelTokens(tokens, text), mode, text, ...(end ? { end } : {}) };
    this.maps.targetTokens = this.target.tokens;
  }

  addLayer(l: LayerAttention): void {
    if (l.layer >= this.layers.length) return;
    if (!this.layers[l.layer]) this.received++;
    this.layers[l.layer] = l;
    this.maps.add(l);
  }
}
