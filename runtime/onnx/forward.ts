// The pieces of a batched forward pass on an imported graph (ImportEngine.forward, the perturbation explanations:
// leave-one-out, occlusion, erasure, faithfulness) that do not touch a session: checking the batch and the head read
// against what the export has, running a part whose graph takes one row at a time row by row, and reading the head
// (logits or the last hidden state at one position per row, or the hidden state mean-pooled over each row's mask).
// The contract is StageEngine.forward's (runtime/inspector/api.ts ForwardRequest / ForwardResult / HeadRead).
import type { OutputTensor } from '../backend/ort';
import { LensError } from '../errors';
import type { HeadRead } from '../inspector/api';
import { meanPool } from '../inspector/engine';
import type { Batch, FeedTensor, PlanFacts } from '../models/plan';
import { checkBatch, checkReadPositions } from '../models/feeds';
import type { AttentionKind } from '../types';
import type { ImportedPart, PartRunHooks, PartRunResult } from './imported-part';

/** Why an imported model gives no value Gram matrices (norm-based attribution). */
export const NORMS_REFUSED =
  'Norm-based attribution needs a model folder with safetensors; imported ONNX exports do not expose value vectors.';

/** Checks a batch (rows of equal length, 0/1 masks, ids in the vocabulary, not too long); returns [B, S]. */
export function checkRows(batch: Batch, facts: PlanFacts): [number, number] {
  return checkBatch(batch, facts);
}

/** Checks a head read against the batch and the export: positions in range, and an output that gives it. */
export function checkRead(read: HeadRead, B: number, S: number, last: ImportedPart, hasHidden: boolean): void {
  if (read.kind === 'logits' && !last.outputs.includes('logits'))
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `${last.label} has no logits output (it gives ${last.outputs.join(', ') || 'no outputs'}), so targets that ` +
        'read token probabilities cannot run on it; export it with its language-model head (optimum-cli export ' +
        'onnx --task text-generation or fill-mask), or use a similarity target.',
    );
  if ((read.kind === 'hidden' || read.kind === 'mean-hidden') && !hasHidden)
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `${last.label} has no last hidden state (no last_hidden_state output, and no LM head whose input it is), so ` +
        'similarity targets cannot run on it; export it with --task feature-extraction.',
    );
  if (read.kind === 'target-logprobs')
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `${last.label}: scoring a target on changed sources runs on encoder–decoder models loaded from their Hugging Face folder, not on an ONNX export.`,
    );
  if (read.kind === 'logits' || read.kind === 'hidden') checkReadPositions(read.positions, B, S);
}

/**
 * Checks that a part can honour the batch's mask. A graph with an attention_mask (or Attention Lens's attn_bias)
 * input masks any position; one without can still take right-padded rows when its self-attention is causal (real
 * queries never reach the padding after them; cross attention is masked through encoder_attention_mask); any other
 * masked position would be seen, so the batch is refused with what is missing.
 */
export function checkMaskable(part: ImportedPart, kinds: readonly AttentionKind[], mask: Batch['mask']): void {
  if (part.inputs.some((p) => p.role === 'mask' || (p.role === 'plan' && p.name.startsWith('attn_bias')))) return;
  if (mask.every((row) => row.every((m) => m === 1))) return;
  const rightPadded = mask.every((row) => row.every((m, s) => m === 1 || s === row.length - 1 || row[s + 1] === 0));
  if (rightPadded && kinds.every((k) => k !== 'self')) return;
  throw new LensError(
    'UNSUPPORTED_MODEL',
    `${part.label} takes no attention_mask input, so ${rightPadded ? 'padding' : 'hidden tokens'} cannot be masked ` +
      `in its ${rightPadded ? 'bidirectional attention' : 'attention'}; export it with attention_mask` +
      `${rightPadded ? '' : ", or use the perturbation 'remove'"}.`,
  );
}

/** Row b of a batch-first tensor ([B, ...] → [1, ...]). */
function rowOf(t: FeedTensor, b: number, B: number): FeedTensor {
  if (t.dims[0] !== B)
    throw new LensError('INFERENCE_FAILED', `A feed of shape [${t.dims.join(', ')}] does not lead with ${B} rows.`);
  const n = t.data.length / B;
  const data = t.data.subarray(b * n, (b + 1) * n);
  return t.type === 'int64'
    ? { type: 'int64', dims: [1, ...t.dims.slice(1)], data: data as BigInt64Array }
    : { type: 'float32', dims: [1, ...t.dims.slice(1)], data: data as Float32Array };
}

/** Per-row tensors of one output stacked along dimension 0 ([1,...] or [H,...] each → [B,...] or [B·H,...]). */
function stack(rows: OutputTensor[]): OutputTensor {
  const n = rows[0].data.length;
  const data = new Float32Array(n * rows.length);
  rows.forEach((t, b) => data.set(t.data, b * n));
  return { type: rows[0].type, dims: [rows[0].dims[0] * rows.length, ...rows[0].dims.slice(1)], data };
}

/**
 * Runs a part on a batch: in one session call per stage when it takes several rows, otherwise row by row with the
 * rows' taps, hidden states and outputs stacked (the same tensors a batched run would give).
 */
export async function runRows(
  part: ImportedPart,
  feeds: Record<string, FeedTensor>,
  B: number,
  hooks: PartRunHooks,
): Promise<PartRunResult> {
  if (part.batched || B === 1) return part.run(feeds, hooks);
  const taps: OutputTensor[][] = [];
  const hidden: OutputTensor[] = [];
  const outputs: Record<string, OutputTensor[]> = {};
  const ms: number[] = [];
  for (let b = 0; b < B; b++) {
    const row = Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, rowOf(t, b, B)]));
    const onTap = hooks.onTap;
    const r = await part.run(row, {
      ...hooks,
      onTap: onTap
        ? async (tap, t) => {
            (taps[tap] ??= []).push(t);
            if (b === B - 1) await onTap(tap, stack(taps[tap]), false); // the stack is scanned where it is read
          }
        : undefined,
    });
    r.ms.forEach((m, s) => (ms[s] = (ms[s] ?? 0) + m));
    if (r.hidden) hidden.push(r.hidden);
    for (const [name, t] of Object.entries(r.outputs)) (outputs[name] ??= []).push(t);
  }
  return {
    hidden: hidden.length === B ? stack(hidden) : undefined,
    outputs: Object.fromEntries(Object.entries(outputs).map(([name, ts]) => [name, stack(ts)])),
    ms,
  };
}

/** The width W of a [B,S,W] output; a LensError naming the output when it is not per token. */
function perTokenWidth(t: OutputTensor, B: number, S: number, what: string): number {
  if (t.dims.length !== 3 || t.dims[0] !== B || t.dims[1] !== S)
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `The ${what} output has shape [${t.dims.join(', ')}] for ${B} rows of ${S} tokens; one value per token ` +
        `([${B}, ${S}, width]) is needed.`,
    );
  return t.dims[2];
}

/** Values at one position per row of a [B,S,W] tensor → [B,W]. */
function atPositions(t: OutputTensor, positions: readonly number[], S: number, what: string) {
  const B = positions.length;
  const width = perTokenWidth(t, B, S, what);
  const head = new Float32Array(B * width); // [B,W]
  positions.forEach((p, b) => head.set(t.data.subarray((b * S + p) * width, (b * S + p + 1) * width), b * width));
  return { head, width };
}

/** The head read from the last part's logits [B,S,V] or hidden state [B,S,E] (checkRead has vouched for both). */
export function readHead(read: HeadRead, batch: Batch, result: PartRunResult): { head: Float32Array; width: number } {
  const B = batch.ids.length;
  const S = batch.ids[0].length;
  switch (read.kind) {
    case 'none':
    case 'target-logprobs': // refused by checkRead
      return { head: new Float32Array(0), width: 0 };
    case 'logits':
      return atPositions(result.outputs.logits, read.positions, S, 'logits');
    case 'hidden':
      return atPositions(result.hidden!, read.positions, S, 'last hidden state');
    case 'mean-hidden': {
      const width = perTokenWidth(result.hidden!, B, S, 'last hidden state');
      return { head: meanPool(result.hidden!.data, batch.mask, width), width }; // [B,E]
    }
  }
}
