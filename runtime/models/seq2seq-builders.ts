// Picks the encoder–decoder family file for a source and builds its two graphs (seq2seq-graph.ts). No Node imports.
import { bartParts, mbartParts } from './bart';
import { marianParts } from './marian';
import { buildDecoderGraph, buildEncoderGraph, type BuiltGraph, type Seq2SeqParts } from './seq2seq-graph';
import type { Seq2SeqSource } from './seq2seq-source';
import { t5Parts } from './t5';

export function seq2seqParts(source: Seq2SeqSource): Seq2SeqParts {
  switch (source.config.family) {
    case 'marian':
      return marianParts(source);
    case 'bart':
      return bartParts(source);
    case 'mbart':
      return mbartParts(source);
    case 't5':
      return t5Parts(source);
  }
}

export interface Seq2SeqGraphs {
  encoder: BuiltGraph;
  decoder: BuiltGraph;
}

/** Both graphs, with attention outputs or (the bench's baseline) without. */
export function buildSeq2SeqGraphs(source: Seq2SeqSource, attention: boolean): Seq2SeqGraphs {
  const parts = seq2seqParts(source);
  return {
    encoder: buildEncoderGraph(parts, { attention }),
    decoder: buildDecoderGraph(parts, { attention }),
  };
}
