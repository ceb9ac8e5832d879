// The per-step inputs of the decode-step graph (decode-step.ts) for one sequence: the new tokens' ids and
// positions (P .. P+T-1), each kind of layer's additive bias over the P + T keys (causal, and a sliding window
// where the layer has one: exactly the rows feeds.ts gives a full forward pass at those positions), and the RoPE
// tables of the new positions (rope.ts, computed as for a full forward pass on the P + T tokens).
import { LensError } from '../errors';
import type { ModelConfig } from '../formats/config-normalise';
import { layerSide, MASKED } from './feeds';
import type { FeedTensor } from './plan';
import { ropeTables } from './rope';

/** attn_bias [1,1,T,P+T]: 0 where new token t (at position P + t) may see key j, MASKED elsewhere. */
export function stepBias(past: number, count: number, window: number | null): FeedTensor {
  const total = past + count;
  const data = new Float32Array(count * total); // [1,1,T,P+T]
  for (let t = 0; t < count; t++) {
    const i = past + t;
    for (let j = 0; j < total; j++) data[t * total + j] = j <= i && (window === null || i - j < window) ? 0 : MASKED;
  }
  return { type: 'float32', dims: [1, 1, count, total], data };
}

/** The step's feeds except the past keys/values: ids [1,T] at positions past .. past + T - 1. */
export function stepFeeds(ids: readonly number[], past: number, config: ModelConfig): Record<string, FeedTensor> {
  const T = ids.length;
  if (T === 0) throw new LensError('EMPTY_TEXT', 'The input has no tokens.');
  if (past + T > config.maxPositions)
    throw new LensError(
      'TOO_LONG',
      `The prompt and the generated text reach ${past + T} tokens but ${config.modelType} takes at most ` +
        `${config.maxPositions}; shorten the prompt or lower --max-new.`,
    );
  for (const id of ids)
    if (!Number.isInteger(id) || id < 0 || id >= config.vocabSize)
      throw new LensError('BAD_INPUT', `Token id ${id} is outside the vocabulary [0, ${config.vocabSize}).`);
  const positions = ids.map((_, t) => past + t);
  const feeds: Record<string, FeedTensor> = {
    input_ids: { type: 'int64', dims: [1, T], data: BigInt64Array.from(ids, (i) => BigInt(i)) },
    position_ids: { type: 'int64', dims: [1, T], data: BigInt64Array.from(positions, (p) => BigInt(p)) },
  };
  for (let l = 0; l < config.layers; l++) {
    const side = layerSide(config, l);
    const sliding = config.layerTypes[l] === 'sliding';
    feeds[side.bias] ??= stepBias(past, T, sliding ? config.slidingWindow : null);
    if (side.cos && side.sin && !feeds[side.cos]) {
      const spec = sliding && config.ropeLocal ? config.ropeLocal : config.rope!;
      // The row's last position decides LongRoPE's factors, as a full forward pass on P + T tokens would.
      const t = ropeTables([positions], spec);
      feeds[side.cos] = { type: 'float32', dims: t.dims, data: t.cos };
      feeds[side.sin] = { type: 'float32', dims: t.dims, data: t.sin };
    }
  }
  return feeds;
}
