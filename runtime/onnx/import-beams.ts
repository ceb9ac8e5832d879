// Beam search on an imported encoder–decoder export (optimum's encoder_model + decoder_model, with
// decoder_with_past_model or as decoder_model_merged): the project's one beam-search rule (generate/seq2seq-beam.ts,
// transformers' generate(num_beams)) with the export's generation_config, expanded over the export itself. With a
// key/value cache, a hypothesis' first expansion is the first decoder pass on the start token (its present.* start the
// cache) and every later step runs all running beams' last tokens as the rows of one step-decoder call when the
// export's batch axis is free (4 rows in one call took 0.4× the time of 4 one-row calls: bench/seq2seq-onnx.ts),
// else one call per beam; each child continues from a new cache map, its parent's never changed. Without a cache, each beam's whole prefix is run through the decoder again and its
// last row's logits taken. The attention the run shows is then a teacher-forced pass on the chosen hypothesis, as for
// the family graphs.
import { beamSearch, searchGeneration, type BeamResult, type BeamTranslateOptions } from '../generate/seq2seq-beam';
import { LensError } from '../errors';
import type { EncodedImport, ImportEngine } from './import-engine';
import type { KvCache } from './step-decoder';

export async function importBeamSearch(
  engine: ImportEngine,
  enc: EncodedImport,
  options: BeamTranslateOptions,
): Promise<BeamResult> {
  const ed = engine.facts.encoderDecoder;
  if (!ed) throw new LensError('UNSUPPORTED_MODEL', 'This ONNX export is not an encoder–decoder pair.');
  const generation = searchGeneration(engine.generation, options, `${engine.facts.modelType}'s generation_config.json`);
  const V = engine.facts.vocabSize;
  const isCancelled = options.isCancelled;
  return beamSearch<KvCache | undefined>(
    async (parents) => {
      const states = parents.map((p) => p.state);
      if (engine.cached && states.every((c) => c !== undefined)) {
        // Every running hypothesis has as many tokens (the search extends all by one per step).
        const position = parents[0].tokens.length - 1;
        const last = parents.map((p) => p.tokens[position]);
        const rows = await engine.stepRows(enc, states as KvCache[], last, position, isCancelled);
        return rows.map((r) => ({ logits: r.logits, state: r.cache })); // logits [V]
      }
      const out: { logits: Float32Array; state: KvCache | undefined }[] = [];
      for (const p of parents) {
        // The first pass on [start] (it starts the cache), or, without a cache, the whole prefix again.
        const pass = await engine.decode(enc, [...p.tokens], isCancelled, engine.cached);
        const T = p.tokens.length;
        out.push({ logits: pass.logits.subarray((T - 1) * V, T * V), state: pass.cache }); // row T-1 of [T,V]
      }
      return out;
    },
    {
      beams: options.beams,
      maxNew: options.maxNew,
      decoderStartTokenId: options.decoderStart ?? ed.decoderStartTokenId,
      eosTokenId: ed.eosTokenId,
      vocabSize: V,
      generation,
      encoderIds: enc.ids,
      ...(isCancelled ? { isCancelled } : {}),
    },
  );
}
