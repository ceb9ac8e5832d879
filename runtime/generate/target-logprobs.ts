// Explain's model passes on an encoder–decoder (BatchEvaluator's 'target-logprobs' read): each row of the batch is a
// source (its padding dropped: the encoders take no attention mask), encoded, then the decoder teacher-forced on the
// one decoder input; the row gives log p at the picked (decoder row, token) pairs, in float64 from the float32
// logits. Shared by the family graphs (inspector/seq2seq-engine.ts) and imported ONNX exports (onnx/import-engine.ts),
// which differ only in how one source is scored (`pass`).
import { cancelled, LensError } from '../errors';
import type { ForwardResult } from '../inspector/api';
import type { EngineForwardOptions } from '../inspector/engine';
import type { Batch } from '../models/plan';
import { logSoftmaxAt } from './seq2seq-runner';

export interface TargetLogprobsRead {
  decoderInput: readonly number[];
  /** (decoder row, token) pairs. */
  picks: readonly number[];
}

export async function targetLogprobRows(
  batch: Batch,
  options: Pick<EngineForwardOptions, 'read' | 'attention' | 'norms' | 'mixing' | 'isCancelled'>,
  model: { modelType: string; vocabSize: number },
  /** The decoder's logits [T, V] for one source's ids, teacher-forced on the read's decoder input. */
  pass: (ids: number[], read: TargetLogprobsRead) => Promise<Float32Array>,
): Promise<ForwardResult> {
  const { read, isCancelled } = options;
  const norms = options.norms === true || (Array.isArray(options.norms) && options.norms.length > 0);
  if (read.kind !== 'target-logprobs' || options.attention || norms || options.mixing)
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `${model.modelType} is an encoder–decoder model; its batched passes score a target (Explain), nothing else.`,
    );
  const V = model.vocabSize;
  const T = read.decoderInput.length;
  const width = read.picks.length / 2;
  if (!Number.isInteger(width) || width < 1) throw new RangeError('picks must be (position, token) pairs');
  for (let k = 0; k < width; k++) {
    const [pos, tok] = [read.picks[2 * k], read.picks[2 * k + 1]];
    if (!(Number.isInteger(pos) && pos >= 0 && pos < T && Number.isInteger(tok) && tok >= 0 && tok < V))
      throw new RangeError(`pick (${pos}, ${tok}) is outside ${T} decoder rows × ${V} tokens`);
  }
  const B = batch.ids.length;
  const head = new Float32Array(B * width); // [B, picks]
  const t0 = performance.now();
  for (let b = 0; b < B; b++) {
    if (isCancelled?.()) throw cancelled();
    const logits = await pass(
      batch.ids[b].filter((_, j) => batch.mask[b][j] !== 0),
      read,
    ); // [T, V]
    for (let k = 0; k < width; k++)
      head[b * width + k] = logSoftmaxAt(logits, V, read.picks[2 * k], read.picks[2 * k + 1]);
  }
  return { rows: B, seq: batch.ids[0]?.length ?? 0, head, width, stageMs: [performance.now() - t0] };
}
