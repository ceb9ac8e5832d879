// Marian (Helsinki-NLP/opus-mt-*): BART's post-LN layers (bart.ts) with static sinusoidal positions that are not
// stored in the weights — for position p and k < d/2, channel k is sin(p / 10000^(2k/d)) and channel d/2 + k is
// cos(p / 10000^(2k/d)) (sin half then cos half, not interleaved; MarianSinusoidalPositionalEmbedding, computed in
// float64 and stored as float32) — token embeddings × √d, no layernorm_embedding, shared embeddings and a trained
// final_logits_bias on the logits.
import { A } from './graph-builder';
import { postLnParts, tokenEmbedding } from './bart';
import type { Seq2SeqParts } from './seq2seq-graph';
import type { Seq2SeqSource } from './seq2seq-source';

/** The sinusoidal table [positions, dim] (row p is position p). */
export function sinusoidalTable(positions: number, dim: number): Float32Array {
  const table = new Float32Array(positions * dim); // [P,E]
  const half = dim % 2 === 0 ? dim / 2 : (dim + 1) / 2;
  for (let p = 0; p < positions; p++)
    for (let j = 0; j < dim; j++) {
      const angle = p / Math.pow(10000, (2 * Math.floor(j / 2)) / dim);
      // Even j feed the sin half (column j/2), odd j the cos half (column half + (j-1)/2).
      if (j % 2 === 0) table[p * dim + j / 2] = Math.sin(angle);
      else table[p * dim + half + (j - 1) / 2] = Math.cos(angle);
    }
  return table;
}

export function marianParts(source: Seq2SeqSource): Seq2SeqParts {
  const base = postLnParts(source, 'marian');
  const c = source.config;
  const w = base.weights;
  return {
    ...base,
    embed(g, side, ids, positions) {
      const x = tokenEmbedding(g, w, source, ids); // [1,T,E]
      const table = g.weightOnce('sinusoidal_positions', () => sinusoidalTable(c.maxPositions, c.hidden), [
        c.maxPositions,
        c.hidden,
      ]);
      const pos = g.op('Gather', [table, positions!], { axis: A.int(0) }); // [1,T,E]
      return g.op('Add', [x, pos]);
    },
  };
}
