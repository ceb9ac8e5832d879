// What an encoder–decoder builder works from: its config (seq2seq-config.ts) and the checkpoint's weights. The
// decoder-only ModelSource (source.ts) carries a ModelConfig, which these families do not fit.
import type { WeightStore } from '../formats/safetensors-bytes';
import type { Seq2SeqConfig } from './seq2seq-config';
import type { Seq2SeqGeneration } from './seq2seq-generation';

export interface Seq2SeqSource {
  config: Seq2SeqConfig;
  weights: WeightStore;
  /** Its generation_config.json's decoding settings (beam search); absent: transformers' defaults. */
  generation?: Seq2SeqGeneration;
  /** The folder it was read from, when it was read from one. */
  dir?: string;
}
