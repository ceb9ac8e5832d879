// Reads a config's rotary position settings into one RopeSpec per layer type, from either form transformers has
// written: transformers 5's `rope_parameters` ({rope_theta, rope_type, scaling fields}, nested per layer type for
// Gemma 3) or the older top-level `rope_theta` / `rope_scaling` (`type` or `rope_type`) / `partial_rotary_factor` /
// Gemma 3's `rope_local_base_freq`, with transformers' precedence and defaults (modeling_rope_utils.py). A rope
// type, key or value Attention Lens does not implement stops the load with a line naming the field: silently using
// plain RoPE gives attention that looks plausible and is wrong. The tables themselves: models/rope.ts.
import { quoted } from '../errors';
import { badConfig, unsupportedField } from './config-fields';

export type RopeType = 'default' | 'linear' | 'dynamic' | 'llama3' | 'longrope' | 'yarn';

export interface RopeSpec {
  type: RopeType;
  theta: number;
  /** Rotated dimensions of each head: head_dim × partial_rotary_factor (the rest pass through unrotated). */
  dim: number;
  /** linear / dynamic / llama3 / yarn / longrope scaling factor (1 when unscaled). */
  factor: number;
  /** llama3, yarn, longrope: the pre-training context length. */
  originalMaxPositions: number;
  /** llama3 */
  lowFreqFactor: number;
  highFreqFactor: number;
  /** longrope: per-frequency factors, dim/2 each; `long` applies to rows longer than originalMaxPositions. */
  shortFactor: number[];
  longFactor: number[];
  /** longrope, yarn: cos and sin are multiplied by this (1 otherwise). */
  attentionFactor: number;
  /** yarn */
  betaFast: number;
  betaSlow: number;
  truncate: boolean;
}

/** Keys transformers knows in a rope dict (others are refused: they may change the math). */
const KNOWN_KEYS = new Set([
  'rope_type',
  'type',
  'rope_theta',
  'partial_rotary_factor',
  'factor',
  'original_max_position_embeddings',
  'low_freq_factor',
  'high_freq_factor',
  'short_factor',
  'long_factor',
  'attention_factor',
  'beta_fast',
  'beta_slow',
  'mscale',
  'mscale_all_dim',
  'truncate',
]);

const TYPES: RopeType[] = ['default', 'linear', 'dynamic', 'llama3', 'longrope', 'yarn'];

export interface RopeContext {
  where: string;
  modelType: string;
  raw: Record<string, unknown>;
  headDim: number;
  maxPositions: number;
  /** The layer types the model declares (full_attention, sliding_attention): nested rope dicts are keyed by them. */
  layerTypes: string[];
  /** partial_rotary_factor < 1 is implemented (phi3's apply_rotary_pos_emb rotates the first dims only). */
  partialRotary: boolean;
}

type Dict = Record<string, unknown>;

function isDict(v: unknown): v is Dict {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Keys of a standardised rope dict whose value was copied from a top-level config field (rope_theta,
 * partial_rotary_factor...): key → that field's name, so that messages name the field the user wrote. */
const copiedFrom = new WeakMap<Dict, Record<string, string>>();

/** Sets d[key] to the top-level field `name`'s value, remembering where it came from; to `fallback` when that
 * field is absent or null. */
function fromTop(d: Dict, key: string, name: string, value: unknown, fallback?: number): void {
  if ((value === undefined || value === null) && fallback !== undefined) {
    d[key] = fallback;
    return;
  }
  d[key] = value;
  copiedFrom.set(d, { ...copiedFrom.get(d), [key]: name });
}

/** The effective rope dict(s) as transformers standardises them, before validation. */
function effectiveParameters(ctx: RopeContext): { full: Dict; sliding: Dict } {
  const { raw, where } = ctx;
  for (const name of ['rope_parameters', 'rope_scaling'])
    if (raw[name] !== undefined && raw[name] !== null && !isDict(raw[name]))
      throw badConfig(`${where}: field ${name} must be an object or null, found ${quoted(raw[name])}.`);
  const copy = (v: unknown): Dict | undefined => (isDict(v) ? JSON.parse(JSON.stringify(v)) : undefined);
  const scaling = copy(raw.rope_scaling);
  const params = copy(raw.rope_parameters);
  const theta = raw.rope_theta;
  const partial = raw.partial_rotary_factor;

  if (ctx.modelType === 'gemma3_text' || ctx.modelType === 'gemma3') {
    // Gemma3TextConfig.convert_rope_params_to_dict: nested by layer type; rope_scaling updates the global entry;
    // rope_theta (default 1e6) is the global base, rope_local_base_freq (default 1e4) the local one.
    const p = params ?? {};
    const full = copy(p.full_attention) ?? { rope_type: 'default' };
    if (scaling) Object.assign(full, scaling);
    const sliding = copy(p.sliding_attention) ?? { rope_type: 'default' };
    if (full.rope_theta === undefined) fromTop(full, 'rope_theta', 'rope_theta', theta, 1_000_000);
    if (sliding.rope_theta === undefined)
      fromTop(sliding, 'rope_theta', 'rope_local_base_freq', raw.rope_local_base_freq, 10_000);
    for (const k of Object.keys(p))
      if (k !== 'full_attention' && k !== 'sliding_attention')
        throw unsupportedField(where, `rope_parameters.${k}`, p[k], 'Gemma 3 keys its RoPE by layer type');
    return { full, sliding };
  }

  // RotaryEmbeddingConfigMixin.convert_rope_params_to_dict / standardize_rope_params.
  const p: Dict = scaling ?? params ?? {};
  const nested = Object.keys(p).filter((k) => ctx.layerTypes.includes(k));
  const withDefaults = (d: Dict): Dict => {
    if (d.rope_theta === undefined) fromTop(d, 'rope_theta', 'rope_theta', theta, 10_000);
    if (d.partial_rotary_factor === undefined && partial !== undefined && partial !== null)
      fromTop(d, 'partial_rotary_factor', 'partial_rotary_factor', partial);
    return d;
  };
  if (nested.length > 0) {
    const full = copy(p.full_attention);
    const sliding = copy(p.sliding_attention);
    return { full: withDefaults(full ?? sliding!), sliding: withDefaults(sliding ?? full!) };
  }
  const single = withDefaults(p);
  const type = single.rope_type ?? single.type;
  if (ctx.modelType === 'phi3' && (type === 'su' || type === 'yarn')) single.rope_type = 'longrope'; // phi3's BC
  if (['llama3', 'yarn', 'longrope'].includes(String(single.rope_type ?? single.type))) {
    // Phi3Config has its own original_max_position_embeddings field, which takes precedence in transformers; for the
    // other families a top-level one is not read.
    const top = raw.original_max_position_embeddings;
    if (ctx.modelType === 'phi3' && top !== undefined && top !== null)
      fromTop(single, 'original_max_position_embeddings', 'original_max_position_embeddings', top);
    else if (single.original_max_position_embeddings === undefined)
      single.original_max_position_embeddings = ctx.maxPositions;
  }
  return { full: single, sliding: single };
}

/** One validated RopeSpec from a standardised rope dict; `field` names it in messages. */
function spec(d: Dict, field: string, ctx: RopeContext): RopeSpec {
  const { where } = ctx;
  /** The field a key's value came from: the rope dict's own key, or the top-level field it was copied from. */
  const name = (key: string) => copiedFrom.get(d)?.[key] ?? `${field}.${key}`;
  for (const k of Object.keys(d))
    if (!KNOWN_KEYS.has(k))
      throw unsupportedField(where, `${field}.${k}`, d[k], 'a RoPE setting Attention Lens does not know');
  const rawType = d.rope_type ?? d.type ?? 'default';
  if (!TYPES.includes(rawType as RopeType))
    throw unsupportedField(where, `${field}.rope_type`, rawType, `supported RoPE types: ${TYPES.join(', ')}`);
  const type = rawType as RopeType;
  if (ctx.modelType === 'phi3' && type !== 'default' && type !== 'longrope')
    throw unsupportedField(where, `${field}.rope_type`, rawType, 'Phi-3 takes default or longrope RoPE');
  const num = (key: string, fallback?: number, positive = true): number => {
    const v = d[key];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw badConfig(`${where}: ${name(key)} is missing (needed for rope_type ${type}).`);
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || (positive && v <= 0))
      throw badConfig(`${where}: ${name(key)} must be a positive number, found ${quoted(v)}.`);
    return v;
  };
  const theta = num('rope_theta');
  const prf = num('partial_rotary_factor', 1);
  if (prf > 1) throw badConfig(`${where}: ${name('partial_rotary_factor')} must be at most 1, found ${prf}.`);
  if (prf !== 1 && !ctx.partialRotary)
    throw unsupportedField(
      where,
      name('partial_rotary_factor'),
      prf,
      `model_type ${ctx.modelType} rotates every dimension`,
    );
  const dim = Math.floor(ctx.headDim * prf);
  if (dim % 2 !== 0 || dim === 0)
    throw badConfig(
      `${where}: head_dim ${ctx.headDim} × partial_rotary_factor ${prf} = ${dim} rotated dimensions; RoPE needs an even, positive number.`,
    );

  const s: RopeSpec = {
    type,
    theta,
    dim,
    factor: 1,
    originalMaxPositions: ctx.maxPositions,
    lowFreqFactor: 0,
    highFreqFactor: 0,
    shortFactor: [],
    longFactor: [],
    attentionFactor: 1,
    betaFast: 32,
    betaSlow: 1,
    truncate: true,
  };
  const factorList = (key: string): number[] => {
    const v = d[key];
    if (
      !Array.isArray(v) ||
      v.length !== dim / 2 ||
      v.some((x) => typeof x !== 'number' || !Number.isFinite(x) || x <= 0)
    )
      throw badConfig(
        `${where}: ${field}.${key} must be a list of ${dim / 2} positive numbers (one per rotated frequency).`,
      );
    return v as number[];
  };
  switch (type) {
    case 'default':
      break;
    case 'linear':
    case 'dynamic':
      s.factor = num('factor');
      break;
    case 'llama3':
      s.factor = num('factor');
      s.lowFreqFactor = num('low_freq_factor');
      s.highFreqFactor = num('high_freq_factor');
      s.originalMaxPositions = num('original_max_position_embeddings');
      if (s.highFreqFactor <= s.lowFreqFactor)
        throw badConfig(`${where}: ${field}.high_freq_factor must be larger than low_freq_factor.`);
      break;
    case 'longrope': {
      s.originalMaxPositions = num('original_max_position_embeddings');
      s.shortFactor = factorList('short_factor');
      s.longFactor = factorList('long_factor');
      // transformers: factor defaults to max_position_embeddings / original; attention_factor to
      // sqrt(1 + ln(factor) / ln(original)) when factor > 1, else 1.
      const factor = num('factor', ctx.maxPositions / s.originalMaxPositions);
      s.factor = factor;
      s.attentionFactor = num(
        'attention_factor',
        factor <= 1 ? 1 : Math.sqrt(1 + Math.log(factor) / Math.log(s.originalMaxPositions)),
      );
      break;
    }
    case 'yarn': {
      s.factor = num('factor');
      s.originalMaxPositions = num('original_max_position_embeddings');
      const mscale = (scale: number, m = 1) => (scale <= 1 ? 1 : 0.1 * m * Math.log(scale) + 1);
      const m = d.mscale;
      const mAll = d.mscale_all_dim;
      let fallback = mscale(s.factor);
      if (m && mAll) fallback = mscale(s.factor, num('mscale')) / mscale(s.factor, num('mscale_all_dim'));
      s.attentionFactor = num('attention_factor', fallback);
      // transformers: `rope_parameters.get("beta_fast") or 32` (0 and null fall back too).
      s.betaFast = d.beta_fast ? num('beta_fast') : 32;
      s.betaSlow = d.beta_slow ? num('beta_slow') : 1;
      if (d.truncate !== undefined && d.truncate !== null && typeof d.truncate !== 'boolean')
        throw badConfig(`${where}: ${field}.truncate must be true or false.`);
      s.truncate = d.truncate !== false;
      break;
    }
  }
  return s;
}

/** The RoPE of full-attention layers and of sliding-window layers (the same spec unless the config separates them). */
export function readRope(ctx: RopeContext): { full: RopeSpec; sliding: RopeSpec } {
  const { full, sliding } = effectiveParameters(ctx);
  // Messages name the field the user can find in config.json.
  const params = ctx.raw.rope_parameters;
  const field = (t: string) =>
    isDict(ctx.raw.rope_scaling) && t === 'full_attention'
      ? 'rope_scaling'
      : isDict(params) && isDict(params[t])
        ? `rope_parameters.${t}`
        : isDict(params)
          ? 'rope_parameters'
          : 'rope_scaling';
  const fullSpec = spec(full, field('full_attention'), ctx);
  const slidingSpec = sliding === full ? fullSpec : spec(sliding, field('sliding_attention'), ctx);
  return { full: fullSpec, sliding: slidingSpec };
}
