// An imported encoder–decoder ONNX export (optimum's encoder_model.onnx + decoder_model.onnx, ImportEngine with
// facts.encoderDecoder) served as Seq2SeqEngine serves the family builders: the encoder runs on the source, then the
// decoder on a real target — teacher-forced on given labels ([decoder_start_token_id] + labels[:-1]) or translated
// greedily — and the run streams the encoder layers, the target, then the decoder and cross layers in
// ModelFacts.encoderDecoder's order. The exports have no key/value cache, so each greedy step re-runs the decoder
// over the whole prefix (quadratic in the target length, fine for the short targets of an inspection); the last
// step's pass is the teacher-forced pass over the translation, so its maps are the translation's.
import { cancelled, LensError } from '../errors';
import { logSoftmaxAt, shiftRight } from '../generate/seq2seq-runner';
import type { DecodedImport, ImportEngine } from '../onnx/import-engine';
import type { LayerAttention } from '../types';
import type { EngineRunResult } from './engine';
import { DEFAULT_MAX_TARGET } from './seq2seq-constants';
import { layerEvent } from './transfer';
import type { RunControl, ServedModel } from './worker-loop';
import type { RunRequest } from './worker-protocol';

/** The token greedy decoding never picks: Marian's <pad> (its decoder start; generation_config bans it). */
function bannedToken(engine: ImportEngine): number {
  const pad = engine.rawConfig?.pad_token_id;
  return engine.facts.modelType === 'marian' && typeof pad === 'number' ? pad : -1;
}

export function servedImportSeq2Seq(engine: ImportEngine): Omit<ServedModel, 'generate'> {
  const ed = engine.facts.encoderDecoder;
  if (!ed) throw new LensError('UNSUPPORTED_MODEL', 'This ONNX export is not an encoder–decoder pair.');
  const V = engine.facts.vocabSize;
  const banned = bannedToken(engine);
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
      if ('labels' in target) {
        ids = target.labels;
        decoded = await engine.decode(enc, shiftRight(ids, ed.decoderStartTokenId), isCancelled);
        stageMs.push(...decoded.ms);
        logprobs = ids.map((id, i) => logSoftmaxAt(decoded.logits, V, i, id));
      } else {
        if ((target.beams ?? 1) > 1)
          throw new LensError(
            'UNSUPPORTED_MODEL',
            'Beam search needs a KV cache, which this ONNX export lacks; translate with beams 1 (greedy), or load the model folder (safetensors).',
          );
        const maxNew = target.translate;
        if (!Number.isInteger(maxNew) || maxNew < 1 || maxNew > engine.facts.maxPositions)
          throw new LensError(
            'BAD_INPUT',
            `The most target tokens must be a whole number from 1 to ${engine.facts.maxPositions} (${engine.facts.modelType}'s positions), not ${maxNew}.`,
          );
        ids = [];
        logprobs = [];
        const prefix = [ed.decoderStartTokenId];
        for (;;) {
          if (isCancelled()) throw cancelled();
          decoded = await engine.decode(enc, prefix, isCancelled);
          stageMs.push(...decoded.ms);
          const r = prefix.length - 1; // the last row's logits [V]
          let id = -1;
          for (let v = 0; v < V; v++)
            if (v !== banned && (id < 0 || decoded.logits[r * V + v] > decoded.logits[r * V + id])) id = v;
          ids.push(id);
          logprobs.push(logSoftmaxAt(decoded.logits, V, r, id));
          if (id === ed.eosTokenId) end = 'stop';
          else if (ids.length === maxNew) end = 'length';
          if (end) break;
          prefix.push(id);
        }
      }
      control.emit({ type: 'target', ids, logprobs, ...(end ? { end } : {}) }, []);
      const entry = (a: LayerAttention, first: number): LayerAttention => ({ ...a, layer: first + a.layer });
      for (const a of decoded.self) control.emit(...layerEvent(entry(a, ed.encoderLayers)));
      for (const a of decoded.cross) control.emit(...layerEvent(entry(a, ed.encoderLayers + ed.decoderLayers)));
      return { lastHidden: new Float32Array(0), stageMs };
    },
  };
}
