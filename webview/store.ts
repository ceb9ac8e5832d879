// The webview's model of the current run: tokens, facts, the layers received so far (also as the figures' run maps),
// vectors, and the selection; a run the model continues (Continue) grows here token by token, as on the host.
import type { ColorMapName, ModelFactsLike, RunSource, TokenInfo, Vectors } from './types';
import type { LayerAttention } from '../runtime/types';
import { MemoryRunMaps } from '../figures/run-maps';
import { labelTokens } from '../figures/token-display';
import { appendQueryRow } from '../runtime/generate/grow-maps';

export type ViewName = 'grid' | 'head' | 'matrix' | 'neuron';
export const VIEWS: ViewName[] = ['grid', 'head', 'matrix', 'neuron'];
export type HeadChoice = number | 'mean' | 'max';

export class Store {
  runId: number | undefined;
  /** The run's tokens with their labels (figures/token-display.ts: whitespace glyphs, source characters). */
  tokens: (TokenInfo & { label: string })[] = [];
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
  /** Set once the run has generated tokens: how many tokens its input had (the rest were written by the model). */
  promptLength: number | undefined;
  /** What the figures read: the layers so far, with their pooled tiles and head aggregates cached. */
  maps = new MemoryRunMaps('', [], 0, 0);

  reset(runId: number, tokens: TokenInfo[], facts: ModelFactsLike, source: RunSource, truncatedFrom?: number): void {
    this.runId = runId;
    this.tokens = labelTokens(tokens, source.text);
    this.facts = facts;
    this.source = source;
    this.truncatedFrom = truncatedFrom;
    const firstGenerated = tokens.findIndex((t) => t.generated === true);
    this.promptLength = firstGenerated >= 0 ? firstGenerated : undefined;
    this.layers = new Array(facts.layers).fill(undefined);
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

  /** True when every layer is here and the model can continue the text (a decoder of the family builders). */
  get canContinue(): boolean {
    const f = this.facts;
    return (
      f !== undefined &&
      this.status === 'done' &&
      this.received === f.layers &&
      f.family !== 'bert' &&
      f.family !== 'onnx' &&
      !this.source?.savedFile
    );
  }

  /** A generated token: the run grows by it (its token, and per layer its row [heads, position + 1]). False when it
   * does not fit the run as held here (another position, a missing layer, rows of another size). */
  appendToken(position: number, token: TokenInfo, rows: Float32Array[]): boolean {
    const f = this.facts;
    if (!f || position !== this.tokens.length || rows.length !== f.layers) return false;
    if (this.layers.some((l, i) => !l || l.queryLength !== position || rows[i].length !== l.heads * (position + 1)))
      return false;
    this.promptLength ??= position;
    const grown = this.layers.map((l, i) => appendQueryRow(l!, rows[i]));
    this.tokens.push(labelTokens([token])[0]); // the figures' maps read this same array
    this.layers = grown;
    for (const l of grown) this.maps.add(l);
    this.vectors.clear(); // vectors of the shorter run no longer fit
    return true;
  }

  addLayer(l: LayerAttention): void {
    if (l.layer >= this.layers.length) return;
    if (!this.layers[l.layer]) this.received++;
    this.layers[l.layer] = l;
    this.maps.add(l);
  }
}
