// The inputs of an imported graph and how to fill them for a batch of rows: token ids, the attention mask (0 marks
// padding or hidden tokens), zero token types, position ids (0..S-1 for encoders; for causal models the count of
// real tokens before, as Hugging Face's generate does, so padding and removed tokens shift nothing), the encoder's
// hidden states and mask for a decoder, the key/value cache of an encoder–decoder's step decoder
// (past_key_values.*, from the run's cache), and — for graphs Attention Lens itself exported (attn_bias,
// rope_cos/sin inputs) — the family's own per-run feeds from config.json. Any other input (a key/value cache outside
// an encoder–decoder's step decoder, unknown names or types) is refused up front with a message that says which.
import { LensError } from '../errors';
import { DataType, type ValueInfoMsg } from '../formats/onnx-schema';
import type { Batch, FeedTensor, FeedType, StageFeeds } from '../models/plan';

export type InputRole =
  'ids' | 'mask' | 'token_types' | 'positions' | 'encoder_hidden' | 'encoder_mask' | 'past' | 'plan';

/** optimum's cache inputs (past_key_values.N.decoder.key...) and the outputs that fill them (present.N...). */
export const PAST_PREFIX = 'past_key_values.';
export const PRESENT_PREFIX = 'present.';

export interface InputPlan {
  name: string;
  role: InputRole;
  type: FeedType;
}

/** What a run provides besides the ids and mask. */
export interface FeedContext {
  /** [B, S_enc, E] from the encoder, for decoders. */
  encoderHidden?: FeedTensor;
  /** The encoder's mask [B][S_enc] (default: all ones). */
  encoderMask?: readonly (readonly number[])[];
  /** The family's per-run feeds for this batch (graphs Attention Lens exported, or a config with a family). */
  plan?: StageFeeds;
  /** Position ids count real tokens (causal models) instead of 0..S-1. */
  causal?: boolean;
  /** The key/value cache by input name (past_key_values.*), for a step decoder. */
  past?: ReadonlyMap<string, FeedTensor>;
}

/** Inputs that only Attention Lens's own graphs have; their presence makes the plan feeds required. */
export const PLAN_ONLY_INPUTS = new Set([
  'attn_bias',
  'attn_bias_sliding',
  'rope_cos',
  'rope_sin',
  'rope_cos_local',
  'rope_sin_local',
]);

const ROLES: Record<string, InputRole> = {
  input_ids: 'ids',
  decoder_input_ids: 'ids',
  attention_mask: 'mask',
  decoder_attention_mask: 'mask',
  encoder_attention_mask: 'encoder_mask',
  token_type_ids: 'token_types',
  position_ids: 'positions',
  encoder_hidden_states: 'encoder_hidden',
  encoder_outputs: 'encoder_hidden',
};

function elemType(v: ValueInfoMsg): number | undefined {
  return v.type?.tensorType?.elemType ?? undefined;
}

/**
 * Decides how each input is filled. `planFeeds`: the model's config allows the family's own feeds; `past`: the
 * graph is an encoder–decoder's step decoder, whose past_key_values.* inputs the run's cache fills.
 */
export function planInputs(inputs: ValueInfoMsg[], label: string, planFeeds: boolean, past = false): InputPlan[] {
  const ownExport = inputs.some((v) => PLAN_ONLY_INPUTS.has(v.name));
  if (ownExport && !planFeeds) {
    throw new LensError(
      'NO_CONFIG',
      `${label} takes attn_bias/rope inputs (an Attention Lens export); put the model's config.json beside it.`,
    );
  }
  return inputs.map((v) => {
    const t = elemType(v);
    const type: FeedType | undefined = t === DataType.INT64 ? 'int64' : t === DataType.FLOAT ? 'float32' : undefined;
    if (past && v.name.startsWith(PAST_PREFIX) && type === 'float32') return { name: v.name, role: 'past', type };
    if (/past_key_values|past_key|past_value|\.past|use_cache/i.test(v.name)) {
      throw new LensError(
        'UNSUPPORTED_MODEL',
        `${label} takes a key/value cache input (${v.name}); a cache decoder opens only with its encoder–decoder ` +
          'export (the folder with encoder_model.onnx and decoder_model.onnx or decoder_model_merged.onnx); otherwise ' +
          'export without the cache (`optimum-cli export onnx --task text-generation`, not -with-past), or open the ' +
          'Hugging Face folder instead.',
      );
    }
    if (!type) {
      throw new LensError(
        'UNSUPPORTED_MODEL',
        `${label}'s input ${v.name} has ONNX element type ${t ?? 'unknown'}; only int64 and float32 inputs can be fed.`,
      );
    }
    const role: InputRole | undefined = ownExport ? 'plan' : ROLES[v.name];
    if (!role) {
      throw new LensError(
        'UNSUPPORTED_MODEL',
        `${label} has an input ${v.name} that Attention Lens cannot fill (it fills input_ids, attention_mask, ` +
          'token_type_ids, position_ids and, for decoders, encoder_hidden_states and encoder_attention_mask).',
      );
    }
    if (role === 'ids' && type !== 'int64')
      throw new LensError('UNSUPPORTED_MODEL', `${label}'s input ${v.name} must be int64 token ids.`);
    return { name: v.name, role, type };
  });
}

/** True where an int64 is two int32 words, low word first (every platform onnxruntime-node ships for). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * int64 values as a BigInt64Array, written through an Int32Array view of the same buffer (low word, then the sign)
 * when the value fits 32 bits: no BigInt heap object per element (a pass's garbage). Any other value goes through
 * BigInt.
 */
export function int64Of(values: ArrayLike<number>): BigInt64Array {
  const n = values.length;
  const data = new BigInt64Array(n);
  const words = LITTLE_ENDIAN ? new Int32Array(data.buffer, data.byteOffset, 2 * n) : undefined;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (words && (v | 0) === v) {
      words[2 * i] = v;
      words[2 * i + 1] = v < 0 ? -1 : 0;
    } else data[i] = BigInt(v);
  }
  return data;
}

/**
 * Rows of equal length as one [B,S] tensor of `type`, or every element `fill` when given. A constant is one native
 * fill and a single row is read as it is: a pass's feeds are built right after onnxruntime has run, with the caches
 * cold, where every extra array and loop shows (bench/seq2seq-onnx.ts).
 */
function filled(type: FeedType, rows: readonly (readonly number[])[], S: number, fill?: number): FeedTensor {
  const dims = [rows.length, S];
  const n = rows.length * S;
  if (fill !== undefined)
    return type === 'int64'
      ? { type, dims, data: new BigInt64Array(n).fill(BigInt(fill)) }
      : { type, dims, data: new Float32Array(n).fill(fill) };
  let flat: readonly number[];
  if (rows.length === 1 && rows[0].length === S) flat = rows[0];
  else {
    const all = new Array<number>(n);
    rows.forEach((row, r) => {
      for (let s = 0; s < S; s++) all[r * S + s] = row[s];
    });
    flat = all;
  }
  return type === 'int64' ? { type, dims, data: int64Of(flat) } : { type, dims, data: Float32Array.from(flat) };
}

/** One batch-1 row of all-ones mask: what a plain run (and the probe) feeds. */
export function oneRow(ids: readonly number[], rows = 1): Batch {
  return {
    ids: Array.from({ length: rows }, () => [...ids]),
    mask: Array.from({ length: rows }, () => ids.map(() => 1)),
  };
}

/** Position ids [B][S]: 0..S-1, or (causal) the count of real tokens before, 1 on padded slots (as HF generate). */
export function defaultPositions(mask: readonly (readonly number[])[], causal: boolean): number[][] {
  return mask.map((row) => {
    let seen = 0;
    return row.map((m, s) => {
      if (!causal) return s;
      seen += m;
      return m ? seen - 1 : 1;
    });
  });
}

/** The feeds of one run of a graph on a batch of equal-length rows. */
export function buildFeeds(
  plans: InputPlan[],
  batch: Batch,
  ctx: FeedContext,
  label: string,
): Record<string, FeedTensor> {
  const B = batch.ids.length;
  const S = B > 0 ? batch.ids[0].length : 0;
  const feeds: Record<string, FeedTensor> = {};
  for (const p of plans) {
    switch (p.role) {
      case 'ids':
        feeds[p.name] = filled('int64', batch.ids, S); // [B,S]
        break;
      case 'mask':
        feeds[p.name] = filled(p.type, batch.mask, S); // [B,S]
        break;
      case 'token_types':
        feeds[p.name] = filled(p.type, batch.ids, S, 0); // [B,S]
        break;
      case 'positions':
        feeds[p.name] =
          ctx.plan?.embed.position_ids ?? filled(p.type, defaultPositions(batch.mask, ctx.causal === true), S); // [B,S]
        break;
      case 'encoder_hidden':
      case 'encoder_mask': {
        const enc = ctx.encoderHidden; // [B,S_enc,E]
        if (!enc)
          throw new LensError(
            'UNSUPPORTED_MODEL',
            `${label} is a decoder (it takes ${p.name}); open the folder with its encoder_model.onnx too.`,
          );
        const [rows, encoderS] = enc.dims;
        const mask = ctx.encoderMask ?? Array.from({ length: rows }, () => []);
        feeds[p.name] =
          p.role === 'encoder_hidden' ? enc : filled(p.type, mask, encoderS, ctx.encoderMask ? undefined : 1); // [B,S_enc]
        break;
      }
      case 'past': {
        const t = ctx.past?.get(p.name); // [B,H,P,Dh]
        if (!t)
          throw new LensError(
            'UNSUPPORTED_MODEL',
            `${label} takes ${p.name}, which no output of the first decoder pass fills (it gives present.* outputs).`,
          );
        feeds[p.name] = t;
        break;
      }
      case 'plan': {
        const t = ctx.plan?.embed[p.name] ?? ctx.plan?.layer[p.name];
        if (!t)
          throw new LensError(
            'UNSUPPORTED_MODEL',
            `${label} has an input ${p.name} that the model family does not fill.`,
          );
        feeds[p.name] = t;
        break;
      }
    }
  }
  return feeds;
}
