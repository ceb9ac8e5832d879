// Per-run inputs computed on the CPU from a batch: token ids, position ids (plain, roberta-style or from the mask),
// the additive attention bias (causal / padding / sliding window, 0 or -1e9 so masked probabilities are exactly 0)
// and the RoPE cos/sin tables (rope.ts), one of each per kind of layer (full / sliding window).
import { LensError } from '../errors';
import type { ModelConfig } from '../formats/config-normalise';
import type { Batch, FeedOptions, FeedTensor, StageFeeds } from './plan';
import { ropeTables } from './rope';

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

/** The per-run inputs one layer reads: its additive attention bias and, for RoPE families, its cos/sin tables.
 * Layers of one kind share them; a model with both full and sliding-window layers has attn_bias (full) and
 * attn_bias_sliding, and one whose sliding layers have their own RoPE (gemma3) rope_cos_local/rope_sin_local. */
export interface LayerSide {
  bias: string;
  cos?: string;
  sin?: string;
}

export function layerSide(config: ModelConfig, l: number): LayerSide {
  const sliding = config.layerTypes[l] === 'sliding';
  const mixed = config.layerTypes.some((t) => t !== config.layerTypes[0]);
  const side: LayerSide = { bias: sliding && mixed ? 'attn_bias_sliding' : 'attn_bias' };
  if (config.rope) {
    const local = sliding && config.ropeLocal !== null;
    side.cos = local ? 'rope_cos_local' : 'rope_cos';
    side.sin = local ? 'rope_sin_local' : 'rope_sin';
  }
  return side;
}

/** key_mask [B,S]: 1 for a real token, 0 for padding (the blocked variant builds its mask from it in the graph). */
export function keyMaskFeed(batch: Batch): FeedTensor {
  const B = batch.mask.length;
  const S = batch.mask[0]?.length ?? 0;
  return { type: 'float32', dims: [B, S], data: Float32Array.from(batch.mask.flat()) };
}

/** Every family's feeds: embed stage (ids, positions, token types) and the inputs shared by all layer stages.
 * `denseBias: false` leaves out the n × n attention biases (long inputs: the blocked variant builds its mask in the
 * graph from key_mask, given then instead). */
export function computeFeeds(batch: Batch, config: ModelConfig, options: FeedOptions = {}): StageFeeds {
  const [B, S] = checkBatch(batch, config);
  const positions = positionIds(batch, config);
  const embed: Record<string, FeedTensor> = {
    input_ids: int64(batch.ids, B, S),
    position_ids: int64(positions, B, S),
  };
  if (config.family === 'bert' && config.typeVocabSize > 0)
    embed.token_type_ids = { type: 'int64', dims: [B, S], data: new BigInt64Array(B * S) };
  const layer: Record<string, FeedTensor> = options.denseBias === false ? { key_mask: keyMaskFeed(batch) } : {};
  for (let l = 0; l < config.layers; l++) {
    const side = layerSide(config, l);
    const sliding = config.layerTypes[l] === 'sliding';
    if (options.denseBias !== false && !layer[side.bias])
      layer[side.bias] = attentionBias(batch, config.family !== 'bert', sliding ? config.slidingWindow : null);
    if (side.cos && side.sin && !layer[side.cos]) {
      const spec = sliding && config.ropeLocal ? config.ropeLocal : config.rope!;
      const t = ropeTables(positions, spec);
      layer[side.cos] = { type: 'float32', dims: t.dims, data: t.cos };
      layer[side.sin] = { type: 'float32', dims: t.dims, data: t.sin };
    }
  }
  return { embed, layer };
}
