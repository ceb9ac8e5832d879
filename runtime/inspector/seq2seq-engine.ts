// An encoder–decoder model (marian, bart, mbart, t5) served by the inference worker: a run encodes the source (its
// encoder layers), then decodes the target — teacher-forced on given labels, or translated greedily over the KV
// cache — and streams the target (ids, log-probabilities) followed by the decoder and cross layers. The layer
// entries follow ModelFacts.encoderDecoder: encoder layers, then decoder self-attention, then cross-attention.
// A greedy translation's maps are its steps' rows put together (equal to a teacher-forced pass on the output:
// test/unit/runtime/generate/seq2seq-runner.test.ts).
import { cancelled } from '../errors';
import {
  logSoftmaxAt,
  Seq2SeqRunner,
  decoderInputOfLabels,
  shiftRight,
  type DecodedTarget,
  type Seq2SeqStep,
} from '../generate/seq2seq-runner';
import { stackRows as stack } from '../generate/target-rows';
import type { PlanFacts } from '../models/plan';
import type { Seq2SeqSource } from '../models/seq2seq-source';
import type { AttentionKind, BackendName, LayerAttention } from '../types';
import type { Batch } from '../models/plan';
import type { ForwardResult } from './api';
import type { EngineForwardOptions, EngineRunResult } from './engine';
import { DEFAULT_MAX_TARGET } from './seq2seq-constants';
import { targetLogprobRows } from '../generate/target-logprobs';
import { layerEvent } from './transfer';
import type { RunControl, ServedModel } from './worker-loop';
import type { RunRequest } from './worker-protocol';

/** The facts of an encoder–decoder model (see ModelFacts.encoderDecoder for the layer entries). */
export function seq2seqFacts(source: Seq2SeqSource): PlanFacts {
  const c = source.config;
  const kinds: AttentionKind[] = [
    ...Array.from({ length: c.encoderLayers }, () => 'encoder' as const),
    ...Array.from({ length: c.decoderLayers }, () => 'decoder' as const),
    ...Array.from({ length: c.decoderLayers }, () => 'cross' as const),
  ];
  return {
    family: c.family,
    modelType: c.modelType,
    layers: kinds.length,
    heads: c.heads,
    kvHeads: c.heads,
    headDim: c.headDim,
    hidden: c.hidden,
    vocabSize: c.vocabSize,
    maxPositions: c.maxPositions,
    attentionKinds: kinds,
    hasLmHead: true,
    encoderDecoder: {
      encoderLayers: c.encoderLayers,
      decoderLayers: c.decoderLayers,
      decoderStartTokenId: c.decoderStartTokenId,
      eosTokenId: c.eosTokenId,
      ...(c.shiftsLastLabel ? { shiftsLastLabel: true as const } : {}),
    },
  };
}

export class Seq2SeqEngine {
  readonly facts: PlanFacts;

  private constructor(
    private readonly runner: Seq2SeqRunner,
    source: Seq2SeqSource,
  ) {
    this.facts = seq2seqFacts(source);
  }

  static async create(source: Seq2SeqSource, backend: BackendName, threads: number): Promise<Seq2SeqEngine> {
    return new Seq2SeqEngine(await Seq2SeqRunner.create(source, { backend, threads }), source);
  }

  async run(req: RunRequest, control: RunControl): Promise<EngineRunResult> {
    const c = this.runner.source.config;
    const H = c.heads;
    const stageMs: number[] = [];
    let t0 = performance.now();
    const enc = await this.runner.encode(req.ids);
    stageMs.push(performance.now() - t0);
    for (const a of enc.attention) control.emit(...layerEvent({ ...a, stackLayer: a.layer }));
    if (control.isCancelled()) throw cancelled();
    t0 = performance.now();
    const S = req.ids.length;
    let ids: number[];
    let logprobs: number[];
    let end: 'stop' | 'length' | undefined;
    let decoded: Pick<DecodedTarget, 'self' | 'cross'>;
    const target = req.target ?? { translate: Math.min(c.maxPositions, DEFAULT_MAX_TARGET) };
    let beams: number | undefined;
    // mBART: the target language's code as the decoder start; mBART-50: as the forced first token.
    const language: { decoderStart?: number; forcedBos?: number } = 'translate' in target ? target : {};
    const start = language.decoderStart ?? c.decoderStartTokenId;
    const asked = {
      ...(language.decoderStart !== undefined ? { decoderStart: language.decoderStart } : {}),
      ...(language.forcedBos !== undefined ? { forcedBos: language.forcedBos } : {}),
    };
    if ('labels' in target || (target.beams ?? 1) > 1) {
      if (!('labels' in target)) {
        // Beam search chooses the tokens; the maps and log-probabilities are a teacher-forced pass on them (exactly
        // what the chosen hypothesis' own steps computed: one decoder graph serves both).
        beams = target.beams;
        const found = await this.runner.beamSearch(enc, {
          beams: target.beams ?? 1,
          maxNew: target.translate,
          ...asked,
          isCancelled: () => control.isCancelled(),
        });
        ids = found.ids;
        end = found.end;
      } else ids = target.labels;
      const given = 'labels' in target;
      const decoderInput = given ? decoderInputOfLabels(ids, this.facts.encoderDecoder!) : shiftRight(ids, start);
      const out = await this.runner.teacherForce(enc, decoderInput);
      logprobs = ids.map((id, i) => logSoftmaxAt(out.logits, c.vocabSize, i, id));
      decoded = out;
    } else {
      const steps: Seq2SeqStep[] = [];
      for await (const s of this.runner.translate(enc, { maxNew: target.translate, ...asked })) {
        if (control.isCancelled()) throw cancelled();
        steps.push(s);
        if (target.steps)
          control.emit(
            {
              type: 'targetStep',
              step: { index: s.index, id: s.id, logprob: s.logprob, selfRows: s.selfRows, crossRows: s.crossRows },
            },
            [], // the rows stay referenced for the stacked maps below: copied, not moved
          );
      }
      ids = steps.map((s) => s.id);
      logprobs = steps.map((s) => s.logprob);
      end = steps[steps.length - 1]?.end;
      const T = steps.length;
      decoded = {
        self: Array.from({ length: c.decoderLayers }, (_, l) => ({
          layer: l,
          kind: 'decoder' as const,
          heads: H,
          queryLength: T,
          keyLength: T,
          data: stack(
            steps.map((s) => s.selfRows[l]),
            H,
            (t) => t + 1,
            T,
          ), // [H,T,T]
        })),
        cross: Array.from({ length: c.decoderLayers }, (_, l) => ({
          layer: l,
          kind: 'cross' as const,
          heads: H,
          queryLength: T,
          keyLength: S,
          data: stack(
            steps.map((s) => s.crossRows[l]),
            H,
            () => S,
            S,
          ), // [H,T,S]
        })),
      };
    }
    stageMs.push(performance.now() - t0);
    control.emit({ type: 'target', ids, logprobs, ...(end ? { end } : {}), ...(beams ? { beams } : {}) }, []);
    const entry = (a: LayerAttention, first: number): LayerAttention => ({
      ...a,
      layer: first + a.layer,
      stackLayer: a.layer,
    });
    for (const a of decoded.self) control.emit(...layerEvent(entry(a, c.encoderLayers)));
    for (const a of decoded.cross) control.emit(...layerEvent(entry(a, c.encoderLayers + c.decoderLayers)));
    return { lastHidden: new Float32Array(0), stageMs };
  }

  /** The engine as the worker loop serves it. */
  served(): Omit<ServedModel, 'generate'> {
    return { run: (req, control) => this.run(req, control), release: () => this.release() };
  }

  /**
   * Explain's model passes (read 'target-logprobs'): each row is a source (its padding dropped: the encoder takes no
   * attention mask), encoded, then the decoder teacher-forced on the one decoder input; the row gives log p at the
   * picked (decoder row, token) pairs, computed in float64 from the float32 logits. Rows run one by one (the graphs
   * take one source); attention, norms and mixing are not served.
   */
  async forward(batch: Batch, options: EngineForwardOptions): Promise<ForwardResult> {
    return targetLogprobRows(
      batch,
      options,
      { modelType: this.facts.modelType, vocabSize: this.runner.source.config.vocabSize },
      // Explain's passes read the logits only: no maps fetched (nor checked) on either side.
      async (ids, read) =>
        (await this.runner.teacherForce(await this.runner.encode(ids, false), read.decoderInput, false)).logits,
    );
  }

  release(): Promise<void> {
    return this.runner.release();
  }
}
