// Beam search for encoder–decoder translation, step for step as transformers' generate(num_beams=N) does it
// (transformers 5 `_beam_search`, batch 1): each step scores every running hypothesis' next token (log-softmax of
// its logits, then the generation_config's processors: bad tokens, forced first/last token, min length, no repeated
// n-gram), keeps the top 2N continuations of all beams by summed log-probability, lets those of the top N that end
// (eos, or the length limit) join the finished hypotheses with score sum / length ** length_penalty, continues with
// the N best that did not end, and stops by early_stopping's rule (false: when the best running hypothesis, at its
// current length, cannot beat the worst of N finished ones; true: when N are finished; 'never': as false, but at
// the longest length when length_penalty > 0). The model is reached through `expand`, so this module is pure and
// testable on hand-made distributions; seq2seq-runner.ts expands over the family graphs' KV cache, and
// onnx/import-beams.ts over an imported export's (or re-runs its decoder on each prefix), one decoder call per beam.
import { cancelled, LensError } from '../errors';
import { checkBeamSettings, DEFAULT_GENERATION, type Seq2SeqGeneration } from '../models/seq2seq-generation';
import { applyProcessors, BANNED_BY } from './logits-processors';

/** A beam-search translation as a model runner takes it. */
export interface BeamTranslateOptions {
  beams: number;
  /** Most target tokens (≥ 1, eos included). */
  maxNew: number;
  /** Instead of the generation_config's (transformers' generate(length_penalty=…, early_stopping=…)). */
  lengthPenalty?: number;
  earlyStopping?: boolean | 'never';
  /** Instead of the model's decoder_start_token_id (mBART: the target language's code). */
  decoderStart?: number;
  /** Instead of the generation_config's forced_bos_token_id (mBART-50: the target language's code). */
  forcedBos?: number;
  /** Checked between steps: true stops with CANCELLED. */
  isCancelled?: () => boolean;
}

/**
 * The settings a search follows: the model's generation_config (transformers' defaults without one) with the
 * length_penalty / early_stopping / forced first token asked instead; a setting beamSearch does not implement stops it by name (`where`).
 */
export function searchGeneration(
  base: Seq2SeqGeneration | undefined,
  o: Pick<BeamTranslateOptions, 'lengthPenalty' | 'earlyStopping' | 'forcedBos'>,
  where: string,
): Seq2SeqGeneration {
  const g = {
    ...(base ?? DEFAULT_GENERATION),
    ...(o.lengthPenalty !== undefined ? { lengthPenalty: o.lengthPenalty } : {}),
    ...(o.earlyStopping !== undefined ? { earlyStopping: o.earlyStopping } : {}),
    ...(o.forcedBos !== undefined ? { forcedBosTokenId: o.forcedBos } : {}),
  };
  checkBeamSettings(g, where);
  return g;
}

export interface BeamSearchOptions {
  beams: number;
  /** Most generated tokens (transformers' max_length − 1: the decoder start counts there). */
  maxNew: number;
  decoderStartTokenId: number;
  eosTokenId: number;
  vocabSize: number;
  generation: Seq2SeqGeneration;
  /** The source's ids as the encoder read them (the encoder_* processors look at them). */
  encoderIds: readonly number[];
  /** Checked between steps: true stops the search with CANCELLED. */
  isCancelled?: () => boolean;
}

export interface BeamParent<S> {
  /** The decoder start token, then the tokens generated so far. */
  tokens: readonly number[];
  /** What expanding the hypothesis' parent returned (undefined for the first step). */
  state: S | undefined;
}

/** Raw logits [V] of the next token after each parent, and the state its children continue from. */
export type BeamExpand<S> = (parents: BeamParent<S>[]) => Promise<{ logits: Float32Array; state: S }[]>;

export interface BeamResult {
  /** The chosen hypothesis' generated tokens (eos included when it ended with eos). */
  ids: number[];
  /** Its beam score: summed log-probability / length ** length_penalty (transformers' sequences_scores). */
  score: number;
  end: 'stop' | 'length';
}

interface Hyp<S> {
  tokens: number[];
  score: number;
  state: S | undefined;
}

/** log-softmax of logits [V], then transformers' logits processors for a hypothesis of `tokens` (start included). */
export function processedLogProbs(logits: Float32Array, tokens: readonly number[], o: BeamSearchOptions): Float64Array {
  const V = o.vocabSize;
  let max = -Infinity;
  for (let v = 0; v < V; v++) max = Math.max(max, logits[v]);
  let sum = 0;
  for (let v = 0; v < V; v++) sum += Math.exp(logits[v] - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(V);
  for (let v = 0; v < V; v++) out[v] = Math.fround(logits[v] - lse);
  return applyProcessors(out, tokens, o);
}

/** Indices of the k largest values, largest first (ties: the lower index first, as torch.topk on CPU). */
function topK(values: Float64Array | number[], k: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (best.length === k && !(x > values[best[k - 1]])) continue;
    let at = best.length === k ? k - 1 : best.length;
    while (at > 0 && x > values[best[at - 1]]) at--;
    best.splice(at, 0, i);
    if (best.length > k) best.pop();
  }
  return best;
}

export async function beamSearch<S>(expand: BeamExpand<S>, o: BeamSearchOptions): Promise<BeamResult> {
  const N = o.beams;
  const V = o.vocabSize;
  const lp = o.generation.lengthPenalty;
  const early = o.generation.earlyStopping;
  if (!Number.isInteger(N) || N < 1)
    throw new LensError('BAD_INPUT', `The beam size must be a whole number ≥ 1, not ${N}.`);
  if (2 * N > V) throw new LensError('BAD_INPUT', `${N} beams need a vocabulary of at least ${2 * N} tokens.`);
  if (!Number.isInteger(o.maxNew) || o.maxNew < 1)
    throw new LensError('BAD_INPUT', `The most target tokens must be a whole number ≥ 1, not ${o.maxNew}.`);
  // Running hypotheses; at the first step they are N copies of the start, of which only the first may be extended.
  let running: Hyp<S>[] = [{ tokens: [o.decoderStartTokenId], score: 0, state: undefined }];
  let finished: Hyp<S>[] = [];
  let improvable = true;
  for (let g = 0; ; g++) {
    if (o.isCancelled?.()) throw cancelled();
    const expanded = await expand(running.map((h) => ({ tokens: h.tokens, state: h.state })));
    if (o.isCancelled?.()) throw cancelled();
    // Every continuation's summed log-probability, [beam * V + token].
    const acc = new Float64Array(running.length * V);
    running.forEach((h, b) => {
      const lps = processedLogProbs(expanded[b].logits, h.tokens, o);
      for (let v = 0; v < V; v++) acc[b * V + v] = Math.fround(h.score + lps[v]);
    });
    const cands = topK(acc, 2 * N).map((i) => {
      const b = Math.floor(i / V);
      const id = i % V;
      return {
        tokens: [...running[b].tokens, id],
        score: acc[i],
        state: expanded[b].state,
        ends: id === o.eosTokenId || g + 1 >= o.maxNew,
      };
    });
    const allFinished = finished.length === N;
    // Finished: the top N candidates that end, unless no improvement is possible or early stopping is full.
    if (improvable && !(allFinished && early === true)) {
      const add = cands
        .slice(0, N)
        .filter((c) => c.ends && c.score > -Infinity)
        .map((c) => ({ tokens: c.tokens, score: Math.fround(c.score / Math.pow(g + 1, lp)), state: undefined }));
      const merged = [...finished, ...add];
      finished = topK(
        merged.map((h) => h.score),
        Math.min(N, merged.length),
      ).map((i) => merged[i]);
    }
    // The N best that continue (a candidate that can never win, at −∞, is not worth a decoder call).
    running = cands.filter((c) => !c.ends && c.score > -Infinity).slice(0, N);
    const len = g + 1;
    if (improvable && running.length > 0) {
      const best = running[0].score / Math.pow(early === 'never' && lp > 0 ? o.maxNew : len, lp);
      const worst = finished.length === N ? Math.min(...finished.map((h) => h.score)) : -1e9;
      improvable = best > worst;
    }
    const open = !(finished.length === N && early === true);
    if (!improvable || !open || running.length === 0) break;
  }
  const best = finished[0];
  // Every continuation at −∞: the processors banned them all (a finite model's log-probabilities never are).
  if (!best)
    throw new LensError(
      'BAD_INPUT',
      `Beam search found no translation: the model's generation_config.json bans every continuation ${BANNED_BY}.`,
    );
  const ids = best.tokens.slice(1);
  return { ids, score: best.score, end: ids[ids.length - 1] === o.eosTokenId ? 'stop' : 'length' };
}
