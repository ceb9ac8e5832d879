// Context mixing of an encoder–decoder where the model lives (the worker holds one per loaded encoder–decoder, like
// its gradient service): runs the mixing graph of runtime/models/seq2seq-mixing-graph.ts on onnxruntime and turns its
// outputs into ALTI+ (one row: every block's value vectors, residuals and sums) or value zeroing through one decoder
// layer's cross-attention (batches of at most MAX_ZEROED + 1 rows: an unzeroed row, then one row per zeroed source
// token) with runtime/analysis/seq2seq-mixing.ts. Only the [T,S] / [T,T] matrices travel back.
import { createSession, type Session } from '../backend/ort';
import { cancelled, LensError } from '../errors';
import { altiLayer, type MixingLayer } from '../analysis/mixing';
import { altiCrossLayer, altiPlus, crossValueZeroing } from '../analysis/seq2seq-mixing';
import { decoderFeeds, encoderFeeds } from '../models/seq2seq-feeds';
import { buildSeq2SeqMixingGraph, decoderOut, type Seq2SeqMixingSpec } from '../models/seq2seq-mixing-graph';
import type { Seq2SeqSource } from '../models/seq2seq-source';
import type { BackendName, FeedTensor } from '../types';

export type Seq2SeqMixingMethod = 'alti' | 'value-zeroing';

export interface Seq2SeqMixingRequest {
  sourceIds: number[];
  /** [start] + labels[:-1]: decoder row t reads input t and predicts target token t. */
  decoderInputIds: number[];
  method: Seq2SeqMixingMethod;
  /** Value zeroing: the decoder layer whose cross-attention values are zeroed (default the last). */
  layer?: number;
}

export interface Seq2SeqMixingReply {
  /** [T,S] the source tokens' contribution to each target row (ALTI+, or value zeroing's layer matrix). */
  source: Float64Array;
  /** ALTI+: [T,T] the decoder inputs' contribution to each target row (each row of source | target sums to 1). */
  target?: Float64Array;
  /** ALTI+: every block's ALTI matrix (encoder [S,S], decoder self [T,T], cross [T,S+1]). */
  layers?: { encoder: Float64Array[]; self: Float64Array[]; cross: Float64Array[] };
  /** Value zeroing: the decoder layer it zeroed. */
  layer?: number;
  /** Model rows run (value zeroing: S zeroed + one unzeroed per batch). */
  rows: number;
  ms: number;
}

/** Zeroed rows per batch (each batch adds its own unzeroed row). */
const MAX_ZEROED = 32;
const KEPT_SESSIONS = 2;

interface Built {
  session: Session;
  graph: Omit<ReturnType<typeof buildSeq2SeqMixingGraph>, 'onnx'>;
}

export class Seq2SeqMixingService {
  private readonly sessions = new Map<string, Built>();

  constructor(
    private readonly source: Seq2SeqSource,
    private readonly backend: BackendName = 'native',
    private readonly threads = 1,
  ) {}

  private async built(spec: Seq2SeqMixingSpec): Promise<Built> {
    const key = `${spec.batch}:${spec.source}:${spec.target}:${spec.tensors}`;
    const kept = this.sessions.get(key);
    if (kept) {
      this.sessions.delete(key);
      this.sessions.set(key, kept);
      return kept;
    }
    while (this.sessions.size >= KEPT_SESSIONS) {
      const [oldest, b] = this.sessions.entries().next().value as [string, Built];
      this.sessions.delete(oldest);
      await b.session.release();
    }
    const { onnx, ...graph } = buildSeq2SeqMixingGraph(this.source, spec);
    const session = await createSession(onnx, { backend: this.backend, threads: this.threads });
    const b = { session, graph };
    this.sessions.set(key, b);
    return b;
  }

  /** Runs the graph with `keep` [B,L,S]; returns the named outputs. */
  private async run(
    b: Built,
    req: Seq2SeqMixingRequest,
    keep: Float32Array,
    fetches: string[],
  ): Promise<Record<string, Float32Array>> {
    const c = this.source.config;
    const { batch: B, source: S } = b.graph.spec;
    const all: Record<string, FeedTensor> = {
      ...encoderFeeds(c, req.sourceIds),
      ...decoderFeeds(c, req.decoderInputIds, 0),
      cross_keep: { type: 'float32', dims: [B, c.decoderLayers, S], data: keep },
    };
    const feeds: Record<string, FeedTensor> = {};
    for (const name of b.session.inputNames) {
      if (!all[name]) throw new Error(`seq2seq mixing graph: no feed for ${name}`);
      feeds[name] = all[name];
    }
    const out = await b.session.run(feeds, fetches);
    const result: Record<string, Float32Array> = {};
    for (const name of fetches) {
      const data = out[name].data as Float32Array;
      const bad = data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0)
        throw new LensError('NON_FINITE', `The context-mixing output ${name} has a non-finite value at index ${bad}.`);
      result[name] = data;
    }
    return result;
  }

  async compute(req: Seq2SeqMixingRequest, isCancelled: () => boolean = () => false): Promise<Seq2SeqMixingReply> {
    const t0 = performance.now();
    const c = this.source.config;
    const S = req.sourceIds.length;
    const T = req.decoderInputIds.length;
    const L = c.decoderLayers;
    if (S === 0 || T === 0) throw new LensError('EMPTY_TEXT', 'Context mixing needs a source and a target token.');
    if (req.method === 'alti') {
      const b = await this.built({ batch: 1, source: S, target: T, tensors: true });
      const { heads: H, hidden: E } = b.graph;
      const fetches: string[] = [];
      for (const p of b.graph.blocks) {
        fetches.push(`${p}_attn`, `${p}_vectors`, `${p}_resid`, `${p}_sum`);
        if (b.graph.norms[p] !== undefined) fetches.push(`${p}_gamma`, `${p}_beta`);
      }
      const o = await this.run(b, req, new Float32Array(L * S).fill(1), fetches);
      const layer = (p: string): MixingLayer => {
        const m: MixingLayer = {
          heads: H,
          seq: 0,
          hidden: E,
          attn: o[`${p}_attn`],
          vectors: o[`${p}_vectors`],
          resid: o[`${p}_resid`],
          sum: o[`${p}_sum`],
        };
        const eps = b.graph.norms[p];
        if (eps !== undefined) {
          const pn = new Float64Array(3 * E); // [γ, β, ε]
          pn.set(o[`${p}_gamma`]);
          pn.set(o[`${p}_beta`], E);
          pn[2 * E] = eps;
          m.postNorm = pn;
        }
        return m;
      };
      const encoder = Array.from({ length: b.graph.encoderLayers }, (_, l) =>
        altiLayer({ ...layer(`enc_${l}`), seq: S }),
      );
      const self = Array.from({ length: L }, (_, l) => altiLayer({ ...layer(`self_${l}`), seq: T }));
      const cross = Array.from({ length: L }, (_, l) =>
        altiCrossLayer({ ...layer(`cross_${l}`), queries: T, keys: S }),
      );
      const plus = altiPlus(encoder, self, cross, S, T);
      return { ...plus, layers: { encoder, self, cross }, rows: 1, ms: performance.now() - t0 };
    }
    const l = req.layer ?? L - 1;
    if (!Number.isInteger(l) || l < 0 || l >= L) throw new RangeError(`layer ${l} is outside 0..${L - 1}`);
    const E = c.hidden;
    const zeroed: Float32Array[] = [];
    const originals: Float32Array[] = [];
    let rows = 0;
    // Batches of one size (one session): ⌈S / MAX_ZEROED⌉ even chunks, the last one's spare rows keeping everything.
    const per = Math.ceil(S / Math.ceil(S / MAX_ZEROED));
    for (let start = 0; start < S; start += per) {
      if (isCancelled()) throw cancelled();
      const n = Math.min(per, S - start);
      const b = await this.built({ batch: per + 1, source: S, target: T, tensors: false });
      const keep = new Float32Array((per + 1) * L * S).fill(1); // [B,L,S]; row 0 keeps everything
      for (let r = 0; r < n; r++) keep[((r + 1) * L + l) * S + start + r] = 0;
      const out = (await this.run(b, req, keep, [decoderOut(l)]))[decoderOut(l)]; // [B,T,E]
      for (let r = 0; r < n; r++) {
        zeroed.push(out.subarray((r + 1) * T * E, (r + 2) * T * E));
        originals.push(out.subarray(0, T * E));
      }
      rows += per + 1;
    }
    return { source: crossValueZeroing(originals, zeroed, T, S, E), layer: l, rows, ms: performance.now() - t0 };
  }

  async release(): Promise<void> {
    for (const b of this.sessions.values()) await b.session.release();
    this.sessions.clear();
  }
}
