// The per-call inputs of the encoder–decoder graphs (seq2seq-graph.ts): token ids, positions (ids for learned and
// sinusoidal tables, relative buckets for T5) and the decoder's causal bias over the P cached + T new positions.
import { LensError } from '../errors';
import { MASKED } from './feeds';
import type { FeedTensor } from './plan';
import type { Seq2SeqConfig } from './seq2seq-config';
import { bucketMatrix } from './t5';

const ids64 = (ids: readonly number[]): FeedTensor => ({
  type: 'int64',
  dims: [1, ids.length],
  data: BigInt64Array.from(ids, (i) => BigInt(i)),
});

function checkIds(ids: readonly number[], c: Seq2SeqConfig, what: string): void {
  if (ids.length === 0) throw new LensError('EMPTY_TEXT', `The ${what} has no tokens.`);
  for (const id of ids)
    if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize)
      throw new LensError('BAD_INPUT', `Token id ${id} of the ${what} is outside the vocabulary [0, ${c.vocabSize}).`);
}

/** Throws TOO_LONG when `length` tokens pass what the model's positions allow. */
export function checkLength(length: number, c: Seq2SeqConfig, what: 'source' | 'target'): void {
  if (length > c.maxPositions)
    throw new LensError(
      'TOO_LONG',
      `The ${what} has ${length} tokens but ${c.modelType} takes at most ${c.maxPositions}; shorten it` +
        (what === 'target' ? ' (or lower --max-new).' : ' (the CLI keeps its beginning with --truncate).'),
    );
}

/** The encoder's feeds for source ids. */
export function encoderFeeds(c: Seq2SeqConfig, ids: readonly number[]): Record<string, FeedTensor> {
  checkIds(ids, c, 'source');
  checkLength(ids.length, c, 'source');
  const S = ids.length;
  const feeds: Record<string, FeedTensor> = { input_ids: ids64(ids) };
  if (c.family === 't5')
    feeds.enc_buckets = {
      type: 'int64',
      dims: [S, S],
      data: bucketMatrix(0, S, S, true, c.relativeBuckets, c.relativeMaxDistance),
    };
  else feeds.position_ids = ids64(ids.map((_, i) => i));
  return feeds;
}

/** The decoder's feeds (without the caches) for `ids` at positions past .. past + T - 1. */
export function decoderFeeds(c: Seq2SeqConfig, ids: readonly number[], past: number): Record<string, FeedTensor> {
  checkIds(ids, c, 'target');
  const T = ids.length;
  const total = past + T;
  checkLength(total, c, 'target');
  const bias = new Float32Array(T * total); // [1,1,T,P+T]
  for (let t = 0; t < T; t++) for (let j = 0; j < total; j++) bias[t * total + j] = j <= past + t ? 0 : MASKED;
  const feeds: Record<string, FeedTensor> = {
    decoder_input_ids: ids64(ids),
    dec_bias: { type: 'float32', dims: [1, 1, T, total], data: bias },
  };
  if (c.family === 't5')
    feeds.dec_buckets = {
      type: 'int64',
      dims: [T, total],
      data: bucketMatrix(past, T, total, false, c.relativeBuckets, c.relativeMaxDistance),
    };
  else feeds.decoder_position_ids = ids64(ids.map((_, i) => past + i));
  return feeds;
}
