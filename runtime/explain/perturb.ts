// What "removing" tokens means when an explanation re-runs the model, as rows of a batch. One function turns a keep
// mask into a row of the same length as the input, so every variant of one explanation fits one padded batch:
//
//   remove      the removed tokens are dropped; the rest move left and the row is right-padded (mask 0). Position
//               ids are those of the shorter text (BERT: 0..n−1; decoders count real tokens). Exactly the model on
//               the text without those tokens. The default: it is what deleting words means, and what ERASER's
//               comprehensiveness/sufficiency assume, so leave-one-out and faithfulness measure the same thing.
//   hide        the tokens stay in place with attention mask 0: no query attends to them. Position ids follow the
//               model's own rule (models/feeds.ts positionIds): BERT-style encoders keep every position, but
//               decoders and RoBERTa count the unmasked tokens, so for them hide equals remove (the result's notes
//               say so: notes.ts).
//   mask-token  the tokens are replaced by [MASK] (or the tokenizer's unknown token), attention mask 1: the input
//               masked-LM training saw; the slot and its position remain.
//
// The readout (the position whose logits or hidden state give the target) follows its token. When the readout token
// itself is removed from a causal model, the prediction moves to the last kept token before it, as it would in the
// shorter text; encoders never remove their readout (it is not a candidate).
import { LensError } from '../errors';
import type { Token } from '../types';

export type Perturbation = 'remove' | 'hide' | 'mask-token';

export const PERTURBATIONS: readonly Perturbation[] = ['remove', 'hide', 'mask-token'];

export interface RowOptions {
  mode: Perturbation;
  /** Position read for the target, or null (pooled targets read every unmasked position). */
  readout: number | null;
  /** Causal model: a removed readout moves to the last kept token before it. */
  causal: boolean;
  /** Id written into padding slots (any valid id: padded keys are masked). */
  padId: number;
  /** Id that replaces removed tokens in 'mask-token' mode. */
  maskId?: number;
}

export interface PerturbedRow {
  ids: number[];
  mask: number[];
  /** The readout's position in this row; -1 when the row has none (pooled target or nothing left to read). */
  readout: number;
  /** Real (unmasked) tokens in the row. */
  length: number;
}

/** The batch row for `ids` with only the `keep` tokens. */
export function perturbedRow(ids: readonly number[], keep: readonly boolean[], o: RowOptions): PerturbedRow {
  const n = ids.length;
  if (keep.length !== n) throw new RangeError(`keep mask has ${keep.length} flags; expected ${n}`);
  const source = o.readout;
  /** The kept position that carries the readout: itself, or (causal) the last kept one before it. */
  let from = -1;
  if (source !== null) {
    if (keep[source]) from = source;
    else if (o.causal) for (let j = source - 1; j >= 0 && from < 0; j--) if (keep[j]) from = j;
  }
  switch (o.mode) {
    case 'remove': {
      const out: number[] = [];
      let readout = -1;
      for (let j = 0; j < n; j++) {
        if (!keep[j]) continue;
        if (j === from) readout = out.length;
        out.push(ids[j]);
      }
      const length = out.length;
      const mask = out.map(() => 1);
      while (out.length < n) {
        out.push(o.padId);
        mask.push(0);
      }
      return { ids: out, mask, readout, length };
    }
    case 'hide': {
      const mask = keep.map((k) => (k ? 1 : 0));
      return { ids: [...ids], mask, readout: from, length: mask.reduce((a: number, b) => a + b, 0) };
    }
    case 'mask-token': {
      if (o.maskId === undefined)
        throw new LensError('BAD_INPUT', 'This tokenizer has no [MASK] or unknown token to replace tokens with.');
      const out = ids.map((id, j) => (keep[j] ? id : o.maskId!));
      return { ids: out, mask: out.map(() => 1), readout: source ?? -1, length: n };
    }
  }
}

/** Drops trailing columns that are padding in every row (remove mode makes rows shorter). */
export function trimPadding(rows: PerturbedRow[]): { ids: number[][]; mask: number[][] } {
  let width = 1;
  for (const r of rows) for (let j = r.mask.length - 1; j >= width; j--) if (r.mask[j]) width = j + 1;
  return { ids: rows.map((r) => r.ids.slice(0, width)), mask: rows.map((r) => r.mask.slice(0, width)) };
}

/**
 * Perturbed rows must keep a token to run. Where every token a row holds is a candidate — a causal model with no BOS
 * token (gpt2, SmolLM2...) up to its readout, a pooled target (similarity:) on such a model, any model with
 * includeSpecial — the last erasure point and sufficiency with k = 0 would leave nothing: one token then stays and is
 * not a candidate, the causal readout (where the prediction is read, as an encoder's target position stays) or else
 * the last token. Returns its position (changing `candidates`), or null.
 */
export function keepOneToken(
  candidates: boolean[],
  causal: boolean,
  readout: number | null,
  mode: Perturbation,
): number | null {
  if (mode === 'mask-token') return null; // a masked row keeps its length
  const end = causal && readout !== null ? readout + 1 : candidates.length;
  if (!candidates.slice(0, end).every(Boolean)) return null;
  candidates[end - 1] = false;
  return end - 1;
}

/** The note for keepOneToken's token. */
export function keptTokenNote(position: number, tokens: readonly Token[], readout: boolean): string {
  const token = `Token ${position} (${JSON.stringify(tokens[position].text)})`;
  return readout
    ? `${token}, where the prediction is read, is not a candidate: the model has no special token to keep, and removing every token would leave nothing to run.`
    : `${token} stays in every perturbed input and is not a candidate: every token could be removed (the model has no special token to keep, or special tokens are candidates too), and removing them all would leave nothing to run.`;
}
