// The calling thread's side of a kept run (long inputs): the layers' overviews as they stream, and exact values,
// rows, columns and windows asked of the worker that keeps q and k (worker-protocol.ts `attention`), so what the
// panel, hover, tint and export draw is computed when they draw it and never held here as [heads, n, n].
import type { KeptAttention, KeptVectors } from './api';
import { LensError } from '../errors';
import type { AttentionAnswer, AttentionQuery, KeptLayerOverview, SpanPayload } from './worker-protocol';

/** Sends one attention query to whatever keeps the run. */
export type AskAttention = (query: AttentionQuery, signal?: AbortSignal) => Promise<AttentionAnswer>;

export class KeptAttentionClient implements KeptAttention {
  private readonly layers = new Map<number, KeptLayerOverview>();
  private stopped = false;

  constructor(
    private readonly run: number,
    readonly length: number,
    private readonly send: AskAttention,
  ) {}

  /** Records a layer's overview as it arrives. */
  add(overview: KeptLayerOverview): void {
    this.layers.set(overview.layer, overview);
  }

  /** The run failed or was cancelled: the worker drops what it kept, and queries are refused here at once. */
  stop(): void {
    this.stopped = true;
  }

  private ask(query: AttentionQuery, signal?: AbortSignal): Promise<AttentionAnswer> {
    if (this.stopped)
      return Promise.reject(
        new LensError('BAD_INPUT', `Run ${this.run} stopped before it finished (cancelled or failed); run it again.`),
      );
    return this.send(query, signal);
  }

  layer(l: number): KeptLayerOverview | undefined {
    return this.layers.get(l);
  }

  async value(layer: number, head: number, query: number, key: number): Promise<number> {
    const a = await this.ask({ run: this.run, layer, head, what: 'value', query, key });
    return a.values[0];
  }

  async row(layer: number, head: number, query: number): Promise<Float32Array> {
    return asFloat32((await this.ask({ run: this.run, layer, head, what: 'row', query })).values);
  }

  async column(layer: number, head: number, key: number): Promise<Float32Array> {
    return asFloat32((await this.ask({ run: this.run, layer, head, what: 'column', key })).values);
  }

  async rollout(query: number, startLayer = 0, signal?: AbortSignal): Promise<Float64Array> {
    const a = await this.ask({ run: this.run, what: 'rollout', query, startLayer }, signal);
    return a.values instanceof Float64Array ? a.values : Float64Array.from(a.values);
  }

  async window(layer: number, head: number, rows: SpanPayload, cols: SpanPayload): Promise<Float32Array> {
    const span = (s: SpanPayload) => ({ start: s.start, end: s.end });
    const a = await this.ask({ run: this.run, layer, head, what: 'window', rows: span(rows), cols: span(cols) });
    return asFloat32(a.values);
  }

  async vectors(layer: number, query: number, keys: SpanPayload): Promise<KeptVectors> {
    const a = await this.ask({
      run: this.run,
      layer,
      head: 0,
      what: 'vectors',
      query,
      keys: { start: keys.start, end: keys.end },
    });
    if (!a.q || !a.k)
      throw new LensError('INFERENCE_FAILED', `The worker sent no query/key vectors for layer ${layer}.`);
    return { q: a.q, k: a.k, lse: a.values instanceof Float64Array ? a.values : Float64Array.from(a.values) };
  }
}

function asFloat32(a: Float32Array | Float64Array): Float32Array {
  return a instanceof Float32Array ? a : Float32Array.from(a);
}
