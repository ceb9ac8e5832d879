// An imported encoder–decoder ONNX export (optimum's encoder_model.onnx + decoder_model.onnx, ImportEngine with
// facts.encoderDecoder) served as Seq2SeqEngine serves the family builders: the encoder runs on the source, then the
// decoder on a real target — teacher-forced on given labels ([decoder_start_token_id] + labels[:-1]), translated
// greedily (each token sent as its step returns, with its query's rows, when the run asks for steps: the panel's
// `targetStep` notes, as for the family graphs), or chosen by beam search (onnx/import-beams.ts, then a
// teacher-forced pass on it gives the maps) — and the run streams the encoder layers, the target, then the decoder
// and cross layers in ModelFacts.encoderDecoder's order. An export with a key/value cache (decoder_with_past_model.onnx, or
// decoder_model_merged.onnx) decodes greedily as transformers' generate does: the first decoder pass on the start
// token, then one cached step per token, each giving the new token's decoder and cross rows, stacked into the
// translation's [heads, T, T] and [heads, T, S] maps (generate/target-rows.ts). An export without one re-runs the
// decoder over the whole prefix at each step (quadratic in the target length, fine for the short targets of an
// inspection); the last step's pass is the teacher-forced pass over the translation, so its maps are the
// translation's.
import { cancelled, LensError } from '../errors';
import { decoderInputOfLabels, logSoftmaxAt, shiftRight } from '../generate/seq2seq-runner';
import { greedyToken } from '../generate/logits-processors';
import { stackRows } from '../generate/target-rows';
import { checkGreedySettings } from '../models/seq2seq-generation';
import { importBeamSearch } from '../onnx/import-beams';
import type { DecodedImport, EncodedImport, ImportEngine } from '../onnx/import-engine';
import type { LayerAttention } from '../types';
import type { EngineRunResult } from './engine';
import { DEFAULT_MAX_TARGET } from './seq2seq-constants';
import { layerEvent } from './transfer';
import type { RunControl, ServedModel } from './worker-loop';
import type { RunRequest } from './worker-protocol';

export function servedImportSeq2Seq(engine: ImportEngine): Omit<ServedModel, 'generate'> {
  const ed = engine.facts.encoderDecoder;
  if (!ed) throw new LensError('UNSUPPORTED_MODEL', 'This ONNX export is not an encoder–decoder pair.');
  const V = engine.facts.vocabSize;
  return {
    release: () => engine.release(),
    async run(req: RunRequest, control: RunControl): Promise<EngineRunResult> {
      const isCancelled = () => control.isCancelled();
      const stageMs: number[] = [];
      const enc = await engine.encode(req.ids, isCancelled);
      stageMs.push(...enc.ms);
      for (const a of enc.layers) control.emit(...layerEvent(a));
      if (isCancelled()) throw cancelled();
      const target = req.target ?? { translate: Math.min(engine.facts.maxPositions, DEFAULT_MAX_TARGET) };
      let ids: number[];
      let logprobs: number[];
      let end: 'stop' | 'length' | undefined;
      let decoded: DecodedImport;
      const beams = 'labels' in target ? undefined : (target.beams ?? 1);
      // mBART: the target language's code as the decoder start; mBART-50: as the forced first token.
      const language: { decoderStart?: number; forcedBos?: number } = 'translate' in target ? target : {};
      const start = language.decoderStart ?? ed.decoderStartTokenId;
      const generation = {
        ...engine.generation,
        ...(language.forcedBos !== undefined ? { forcedBosTokenId: language.forcedBos } : {}),
      };
      const streamSteps = 'translate' in target && target.steps === true;
      if ('translate' in target) {
        const maxNew = target.translate;
        if (!Number.isInteger(maxNew) || maxNew < 1 || maxNew > engine.facts.maxPositions)
          throw new LensError(
            'BAD_INPUT',
            `The most target tokens must be a whole number from 1 to ${engine.facts.maxPositions} (${engine.facts.modelType}'s positions), not ${maxNew}.`,
          );
      }
      if ('labels' in target || (beams ?? 1) > 1) {
        if ('labels' in target) ids = target.labels;
        else {
          // Beam search chooses the tokens; the maps and log-probabilities are a teacher-forced pass on them.
          const t0 = performance.now();
          const found = await importBeamSearch(engine, enc, {
            beams: beams!,
            maxNew: target.translate,
            isCancelled,
            ...(language.decoderStart !== undefined ? { decoderStart: language.decoderStart } : {}),
            ...(language.forcedBos !== undefined ? { forcedBos: language.forcedBos } : {}),
          });
          stageMs.push(performance.now() - t0);
          ids = found.ids;
          end = found.end;
        }
        const decoderInput = 'labels' in target ? decoderInputOfLabels(ids, ed) : shiftRight(ids, start);
        decoded = await engine.decode(enc, decoderInput, isCancelled);
        stageMs.push(...decoded.ms);
        logprobs = ids.map((id, i) => logSoftmaxAt(decoded.logits, V, i, id));
      } else {
        const maxNew = target.translate;
        ids = [];
        logprobs = [];
        const prefix = [start];
        // The export's generation_config processors, as transformers' greedy generate() applies them (Marian's
        // bans <pad>, its decoder start; eos forced at the limit; a forced first token).
        checkGreedySettings(generation, `${engine.facts.modelType}'s generation_config.json`);
        const processors = { vocabSize: V, eosTokenId: ed.eosTokenId, maxNew, generation, encoderIds: enc.ids };
        // Picks the next token from logits row r and, when the run asked for steps, sends it with its query's rows
        // (per decoder layer: self [H, index + 1], cross [H, S]) as the family graphs' runs do.
        const pick = (
          logits: Float32Array,
          r: number,
          selfRows: () => Float32Array[],
          crossRows: () => Float32Array[],
        ) => {
          const id = greedyToken(logits, r, [start, ...ids], processors);
          const index = ids.length;
          ids.push(id);
          logprobs.push(logSoftmaxAt(logits, V, r, id));
          if (id === ed.eosTokenId) end = 'stop';
          else if (ids.length === maxNew) end = 'length';
          if (streamSteps)
            control.emit(
              {
                type: 'targetStep',
                step: { index, id, logprob: logprobs[index], selfRows: selfRows(), crossRows: crossRows() },
              },
              [], // copied, not moved: the cached path stacks the same rows into the maps below
            );
          return id;
        };
        if (engine.cached) {
          const steps = await cachedGreedy(engine, enc, start, pick, () => end !== undefined, isCancelled);
          stageMs.push(...steps.ms);
          decoded = steps;
        } else
          for (;;) {
            if (isCancelled()) throw cancelled();
            decoded = await engine.decode(enc, prefix, isCancelled);
            stageMs.push(...decoded.ms);
            const T = prefix.length;
            const pass = decoded;
            const id = pick(
              pass.logits,
              T - 1, // the last row's logits [V]
              () => pass.self.map((a) => lastRow(a.data, a.heads, T, T)), // [H, T]
              () => pass.cross.map((a) => lastRow(a.data, a.heads, T, a.keyLength)), // [H, S]
            );
            if (end) break;
            prefix.push(id);
          }
      }
      control.emit(
        { type: 'target', ids, logprobs, ...(end ? { end } : {}), ...(beams && beams > 1 ? { beams } : {}) },
        [],
      );
      const entry = (a: LayerAttention, first: number): LayerAttention => ({ ...a, layer: first + a.layer });
      for (const a of decoded.self) control.emit(...layerEvent(entry(a, ed.encoderLayers)));
      for (const a of decoded.cross) control.emit(...layerEvent(entry(a, ed.encoderLayers + ed.decoderLayers)));
      return { lastHidden: new Float32Array(0), stageMs };
    },
  };
}

/**
 * Greedy decoding over the export's key/value cache: the first pass on [start], then a step per picked token until
 * `done`; each pass's new rows stacked into the translation's decoder [H,T,T] and cross [H,T,S] maps.
 */
async function cachedGreedy(
  engine: ImportEngine,
  enc: EncodedImport,
  start: number,
  pick: (logits: Float32Array, row: number, selfRows: () => Float32Array[], crossRows: () => Float32Array[]) => number,
  done: () => boolean,
  isCancelled: () => boolean,
): Promise<DecodedImport> {
  const first = await engine.decode(enc, [start], isCancelled, true);
  const cache = first.cache!;
  const ms = [...first.ms];
  const selfRows = first.self.map((a) => [a.data]); // per layer: [H,1,t+1] per step
  const crossRows = first.cross.map((a) => [a.data]); // per layer: [H,1,S] per step
  let id = pick(
    first.logits,
    0,
    () => first.self.map((a) => a.data), // [H,1,1]
    () => first.cross.map((a) => a.data), // [H,1,S]
  );
  for (let t = 1; !done(); t++) {
    if (isCancelled()) throw cancelled();
    const step = await engine.step(enc, cache, id, t, isCancelled);
    ms.push(...step.ms);
    step.self.forEach((a, l) => selfRows[l].push(a.data));
    step.cross.forEach((a, l) => crossRows[l].push(a.data));
    id = pick(
      step.logits,
      0,
      () => step.self.map((a) => a.data), // [H,1,t+1]
      () => step.cross.map((a) => a.data), // [H,1,S]
    );
  }
  const T = selfRows[0]?.length ?? 0;
  const S = enc.hidden.dims[1];
  const stacked = (
    a: LayerAttention,
    rows: Float32Array[],
    keys: (t: number) => number,
    K: number,
  ): LayerAttention => ({
    ...a,
    queryLength: T,
    keyLength: K,
    data: stackRows(rows, a.heads, keys, K), // [heads, T, K]
  });
  return {
    self: first.self.map((a, l) => stacked(a, selfRows[l], (t) => t + 1, T)),
    cross: first.cross.map((a, l) => stacked(a, crossRows[l], () => S, S)),
    logits: new Float32Array(0),
    ms,
  };
}

/** Row Q-1 of each head of [H, Q, K]: the last query's rows, [H, K]. */
function lastRow(data: Float32Array, H: number, Q: number, K: number): Float32Array {
  const out = new Float32Array(H * K); // [H,K]
  for (let h = 0; h < H; h++) out.set(data.subarray((h * Q + Q - 1) * K, (h * Q + Q) * K), h * K);
  return out;
}
