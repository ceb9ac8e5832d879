// The webview's model of the current run: tokens, facts, the layers received so far (also as the figures' run maps),
// vectors, and the selection; a run the model continues (Continue) grows here token by token, as on the host.
import type { ColorMapName, ModelFactsLike, RunSource, TokenInfo, Vectors } from './types';
import type { LayerAttention } from '../runtime/types';
import { MemoryRunMaps, type RunMaps } from '../figures/run-maps';
import { labelTokens } from '../figures/token-display';
import { GrowingMaps } from '../runtime/generate/grow-maps';
import { stackRows } from '../runtime/generate/target-rows';
import type { KeptLayerMessage } from '../protocol/messages';
import { RemoteKeptRun, type AskWindow } from './kept-maps';

/** How a kept run (long inputs) reaches the host and tells the views (main.ts). */
export interface KeptHooks {
  ask: AskWindow;
  /** Exact values of `layer` arrived: redraw. */
  arrived(layer: number): void;
  failed(e: unknown): void;
}

export type ViewName = 'grid' | 'head' | 'matrix' | 'neuron';
export const VIEWS: ViewName[] = ['grid', 'head', 'matrix', 'neuron'];
export type HeadChoice = number | 'mean' | 'max';

/** The target side of an encoder–decoder run: rows of the decoder and cross maps. */
export interface TargetInfo {
  tokens: (TokenInfo & { label: string })[];
  mode: 'teacher-forced' | 'translated';
  end?: 'stop' | 'length';
  text: string;
  /** log p of each target token (empty while a translation streams and none came yet). */
  logprobs: number[];
  /** Beam search's beam size (absent: greedy or given). */
  beams?: number;
  /** True while a greedy translation streams (targetStep notes), before its `target` note. */
  streaming?: boolean;
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
  /** Layers holding a streaming translation's rows so far (replaced by the whole layers at the end). */
  private readonly partial = new Set<number>();
  /** A streaming translation's rows per decoder layer, step by step. */
  private steps: { self: Float32Array[][]; cross: Float32Array[][] } | undefined;
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
  /** What the figures read: the layers so far, with their pooled tiles and head aggregates cached (or, for a kept
   * run, the overviews and the exact windows asked of the host). */
  maps: RunMaps = new MemoryRunMaps('', [], 0, 0);
  /** The layers' maps in memory (a run that is not kept). */
  private memory = new MemoryRunMaps('', [], 0, 0);
  /** A run that Continue grows: its layers held with room for more tokens (each token writes only its rows). */
  private growing: GrowingMaps | undefined;
  /** A run kept for long inputs (no map in the webview): set when `runStarted` says so, or at its first layer. */
  kept: RemoteKeptRun | undefined;

  constructor(private readonly keptHooks?: KeptHooks) {}

  reset(
    runId: number,
    tokens: TokenInfo[],
    facts: ModelFactsLike,
    source: RunSource,
    truncatedFrom?: number,
    kept = false,
  ): void {
    this.runId = runId;
    this.tokens = labelTokens(tokens, source.text);
    this.facts = facts;
    this.source = source;
    this.truncatedFrom = truncatedFrom;
    const firstGenerated = tokens.findIndex((t) => t.generated === true);
    this.promptLength = firstGenerated >= 0 ? firstGenerated : undefined;
    this.layers = new Array(facts.layers).fill(undefined);
    this.target = undefined;
    this.steps = undefined;
    this.partial.clear();
    this.received = 0;
    this.status = 'running';
    this.message = '';
    this.totalMs = undefined;
    this.vectors.clear();
    this.memory = new MemoryRunMaps(facts.name, this.tokens, facts.layers, facts.heads, facts.slidingWindows ?? []);
    this.maps = this.memory;
    this.kept = undefined;
    this.growing = undefined;
    // Known kept from the start: the views lay out for a window before the first layer (issue 15).
    if (kept) this.keep();
    if (this.layer >= facts.layers) this.layer = 0;
    if (typeof this.head === 'number' && this.head >= facts.heads) this.head = 'mean';
    if (this.query >= tokens.length) this.query = 0;
  }

  setTarget(
    tokens: TokenInfo[],
    mode: TargetInfo['mode'],
    text: string,
    end?: TargetInfo['end'],
    logprobs: number[] = [],
    beams?: number,
    decoderInput?: TokenInfo[],
  ): void {
    this.target = {
      tokens: labelTokens(tokens, text),
      mode,
      text,
      logprobs,
      ...(end ? { end } : {}),
      ...(beams ? { beams } : {}),
    };
    this.memory.targetTokens = this.target.tokens;
    this.memory.decoderInputTokens = decoderInput && labelTokens(decoderInput, text);
    this.steps = undefined;
  }

  /** A streamed greedy translation's token `index` with its rows per decoder layer (self [heads, index + 1], cross
   * [heads, S]): the target grows by it and the decoder and cross layers become the steps' rows stacked (as the
   * worker stacks them; the whole layers that follow replace them). False when it does not follow the previous step
   * or its rows do not fit the run. */
  addTargetStep(
    index: number,
    token: TokenInfo,
    logprob: number,
    text: string,
    self: Float32Array[],
    cross: Float32Array[],
  ): boolean {
    const f = this.facts;
    const ed = f?.encoderDecoder;
    if (!f || !ed || this.kept || self.length !== ed.decoderLayers || cross.length !== ed.decoderLayers) return false;
    const S = this.tokens.length;
    const H = f.heads;
    if (index === 0 && !this.target) this.steps = { self: [], cross: [] };
    const steps = this.steps;
    const t = this.target;
    if (!steps || (!t?.streaming && index > 0) || (t ? t.tokens.length : 0) !== index) return false;
    if (!self.every((r) => r.length === H * (index + 1)) || !cross.every((r) => r.length === H * S)) return false;
    const tokens = [...(t?.tokens ?? []), ...labelTokens([token])];
    this.target = { tokens, mode: 'translated', text, logprobs: [...(t?.logprobs ?? []), logprob], streaming: true };
    this.memory.targetTokens = tokens;
    const T = index + 1;
    for (let l = 0; l < ed.decoderLayers; l++) {
      steps.self[l] = [...(steps.self[l] ?? []), self[l]];
      steps.cross[l] = [...(steps.cross[l] ?? []), cross[l]];
      const dec = ed.encoderLayers + l;
      const x = ed.encoderLayers + ed.decoderLayers + l;
      this.setPartial({
        layer: dec,
        kind: 'decoder',
        heads: H,
        queryLength: T,
        keyLength: T,
        data: stackRows(steps.self[l], H, (i) => i + 1, T),
      }); // [H,T,T]
      this.setPartial({
        layer: x,
        kind: 'cross',
        heads: H,
        queryLength: T,
        keyLength: S,
        data: stackRows(steps.cross[l], H, () => S, S),
      }); // [H,T,S]
    }
    return true;
  }

  /** A layer shown before it is complete (a streaming translation's rows): not counted as received. */
  private setPartial(l: LayerAttention): void {
    if (this.layers[l.layer] && !this.partial.has(l.layer)) return;
    this.partial.add(l.layer);
    this.layers[l.layer] = l;
    this.memory.add(l);
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
      !f.encoderDecoder &&
      !this.source?.savedFile
    );
  }

  /** A Continue of `count` tokens starts: room for them now (one copy of the maps, not one per token). */
  reserveTokens(count: number): void {
    const f = this.facts;
    if (!f || this.kept || this.layers.some((l) => !l)) return;
    if (this.growing) this.growing.reserve(count);
    else this.grow(new GrowingMaps(this.layers as LayerAttention[], count));
  }

  /** A generated token: the run grows by it (its token, and per layer its row [heads, position + 1]). False when it
   * does not fit the run as held here (another position, a missing layer, rows of another size). The layers are
   * then held [heads, capacity, capacity] (read them through `maps`). */
  appendToken(position: number, token: TokenInfo, rows: Float32Array[]): boolean {
    const f = this.facts;
    if (!f || this.kept || position !== this.tokens.length || rows.length !== f.layers) return false;
    if (this.layers.some((l, i) => !l || l.queryLength !== position || rows[i].length !== l.heads * (position + 1)))
      return false;
    this.promptLength ??= position;
    const growing = this.growing ?? new GrowingMaps(this.layers as LayerAttention[]);
    growing.append(rows);
    this.tokens.push(labelTokens([token])[0]); // the figures' maps read this same array
    this.grow(growing);
    return true;
  }

  private grow(growing: GrowingMaps): void {
    this.growing = growing;
    this.layers = [...growing.views()];
    for (const l of this.layers) this.memory.add(l!);
    this.vectors.clear(); // vectors of the shorter run no longer fit
  }

  addLayer(l: LayerAttention): void {
    if (l.layer >= this.layers.length) return;
    this.growing = undefined; // a layer replaced (a replay): grown again from it
    if (!this.layers[l.layer] || this.partial.delete(l.layer)) this.received++;
    this.layers[l.layer] = l;
    this.memory.add(l);
  }

  /** A kept run's layer: its overview (the figures ask the host for exact entries as they draw). */
  addKeptLayer(m: KeptLayerMessage): void {
    const facts = this.facts;
    if (!facts || !this.keptHooks || m.layer >= facts.layers) return;
    const kept = this.keep();
    if (!kept) return;
    if (!kept.layer(m.layer)) this.received++;
    kept.add(m);
  }

  /** The run as kept: its maps become the overviews and the exact windows asked of the host. */
  private keep(): RemoteKeptRun | undefined {
    const facts = this.facts;
    const h = this.keptHooks;
    if (!facts || !h) return undefined;
    if (!this.kept) {
      this.kept = new RemoteKeptRun(
        facts,
        facts.name,
        this.tokens,
        h.ask,
        (l) => h.arrived(l),
        (e) => h.failed(e),
      );
      this.maps = this.kept.maps;
    }
    return this.kept;
  }
}
