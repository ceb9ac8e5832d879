// Per-run inputs computed on the CPU from a batch: token ids, position ids (plain, roberta-style or from the mask),
// the additive attention bias (causal / padding / sliding window, 0 or -1e9 so masked probabilities are exactly 0)
// and the RoPE cos/sin tables computed in float32 as Hugging Face does.
import { LensError } from '../errors';
import type { ModelConfig } from '../formats/config-normalise';
import type { Batch, FeedTensor, StageFeeds } from './plan';

/** The additive value for a masked attention entry. */
export const MASKED = -1e9;

/** What a batch is checked against: a model's config, or the facts of an imported export. */
export type BatchLimits = Pick<ModelConfig, 'vocabSize' | 'maxPositions' | 'modelType'>;

/** Checks a batch against the model; returns [B, S]. */
export function checkBatch(batch: Batch, config: BatchLimits): [number, number] {
  const B = batch.ids.length;
  if (B === 0) throw new LensError('BAD_INPUT', 'The batch is empty; give at least one row of token ids.');
  const S = batch.ids[0].length;
  if (S === 0) throw new LensError('EMPTY_TEXT', 'The input has no tokens.');
  if (batch.mask.length !== B)
    throw new LensError('BAD_INPUT', `The batch has ${B} rows of ids but ${batch.mask.length} rows of mask.`);
  for (let b = 0; b < B; b++) {
    if (batch.ids[b].length !== S || batch.mask[b].length !== S)
      throw new LensError(
        'BAD_INPUT',
        `Row ${b} of the batch has ${batch.ids[b].length} ids and ${batch.mask[b].length} mask entries; every row needs ${S}.`,
      );
    for (const id of batch.ids[b])
      if (!Number.isInteger(id) || id < 0 || id >= config.vocabSize)
        throw new LensError('BAD_INPUT', `Token id ${id} is outside the vocabulary [0, ${config.vocabSize}).`);
    for (const m of batch.mask[b])
      if (m !== 0 && m !== 1) throw new LensError('BAD_INPUT', `Mask entries must be 0 or 1, found ${m}.`);
  }
  if (S > config.maxPositions)
    throw new LensError(
      'TOO_LONG',
      `The input has ${S} tokens but ${config.modelType} takes at most ${config.maxPositions}; shorten the text.`,
    );
  return [B, S];
}

/** Checks the positions a head read takes, one per row of a [B, S] batch. */
export function checkReadPositions(positions: readonly number[], B: number, S: number): void {
  if (positions.length !== B)
    throw new LensError('BAD_INPUT', `The head read gives ${positions.length} positions for ${B} rows.`);
  for (const p of positions)
    if (!Number.isInteger(p) || p < 0 || p >= S)
      throw new LensError('BAD_INPUT', `Read position ${p} is outside the ${S} positions of the batch.`);
}

function int64(rows: number[][], B: number, S: number): FeedTensor {
  const data = new BigInt64Array(B * S); // [B,S]
  for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) data[b * S + s] = BigInt(rows[b][s]);
  return { type: 'int64', dims: [B, S], data };
}

/** Position ids [B][S]: 0..S-1 (bert), padding_idx + cumulative mask (roberta), or count of real tokens before
 * (decoders, so left padding works; padded slots get 1 as HF generate does). */
export function positionIds(batch: Batch, config: ModelConfig): number[][] {
  return batch.mask.map((row) => {
    if (config.family === 'bert' && !config.robertaPositions) return row.map((_, s) => s);
    let seen = 0;
    return row.map((m) => {
      seen += m;
      if (config.robertaPositions) return m ? (config.padTokenId ?? 1) + seen : (config.padTokenId ?? 1);
      return m ? seen - 1 : 1;
    });
  });
}

/** attn_bias [B,1,S,S]: 0 where query i may see key j, MASKED elsewhere. */
export function attentionBias(batch: Batch, causal: boolean, window: number | null): FeedTensor {
  const B = batch.ids.length;
  const S = batch.ids[0].length;
  const data = new Float32Array(B * S * S); // [B,1,S,S]
  for (let b = 0; b < B; b++) {
    const mask = batch.mask[b];
    for (let i = 0; i < S; i++) {
      for (let j = 0; j < S; j++) {
        const ok = mask[j] === 1 && (!causal || j <= i) && (window === null || i - j < window);
        data[(b * S + i) * S + j] = ok ? 0 : MASKED;
      }
    }
  }
  return { type: 'float32', dims: [B, 1, S, S], data };
}

/** RoPE tables [B,1,S,D] as HF: inv_freq = 1/θ^(arange(0,D,2)/D) in float32, emb = cat(freqs, freqs). */
export function ropeTables(
  positions: number[][],
  headDim: number,
  theta: number,
): { cos: FeedTensor; sin: FeedTensor } {
  const f = Math.fround;
  const half = headDim / 2;
  const invFreq = new Float32Array(half);
  for (let i = 0; i < half; i++) invFreq[i] = f(1 / f(Math.pow(theta, f(f(2 * i) / headDim))));
  const B = positions.length;
  const S = positions[0].length;
  const cos = new Float32Array(B * S * headDim); // [B,1,S,D]
  const sin = new Float32Array(B * S * headDim);
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < S; s++) {
      const base = (b * S + s) * headDim;
      for (let i = 0; i < half; i++) {
        const angle = f(positions[b][s] * invFreq[i]);
        const c = Math.cos(angle);
        const sn = Math.sin(angle);
        cos[base + i] = c;
        cos[base + half + i] = c;
        sin[base + i] = sn;
        sin[base + half + i] = sn;
      }
    }
  }
  const dims = [B, 1, S, headDim];
  return { cos: { type: 'float32', dims, data: cos }, sin: { type: 'float32', dims, data: sin } };
}

/** Every family's feeds: embed stage (ids, positions, token types) and the inputs shared by all layer stages. */
export function computeFeeds(batch: Batch, config: ModelConfig): StageFeeds {
  const [B, S] = checkBatch(batch, config);
  const positions = positionIds(batch, config);
  const embed: Record<string, FeedTensor> = {
    input_ids: int64(batch.ids, B, S),
    position_ids: int64(positions, B, S),
  };
  if (config.family === 'bert' && config.typeVocabSize > 0)
    embed.token_type_ids = { type: 'int64', dims: [B, S], data: new BigInt64Array(B * S) };
  const layer: Record<string, FeedTensor> = {
    attn_bias: attentionBias(batch, config.family !== 'bert', config.family === 'llama' ? config.slidingWindow : null),
  };
  if (config.family === 'llama') {
    const { cos, sin } = ropeTables(positions, config.headDim, config.ropeTheta);
    layer.rope_cos = cos;
    layer.rope_sin = sin;
  }
  return { embed, layer };
}
