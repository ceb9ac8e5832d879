// Naive reference forward pass: plain TypeScript loops, float64 arithmetic, no ONNX.
// It is an independent second implementation that tests use to check the real runtime, so it
// shares no code with runtime/. Readability beats speed here: every step is an explicit loop with
// its shape in a comment.
//
// Supported model_type values (config.json):
//   bert                 — post-LN encoder, GELU (erf), absolute positions, token_type 0.
//   gpt2                 — pre-LN decoder, Conv1D weights [in, out], gelu_new (tanh), tied lm_head.
//   llama, mistral, qwen2 — RMSNorm, RoPE (HF rotate_half), grouped-query attention, SiLU-gated MLP.
// Weight names are found whatever their prefix ("bert.", "transformer.", "model.", or none).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors, type SafetensorsFile } from './safetensors-lite';

export interface NaiveForwardResult {
  /** One per layer, [heads, query, key] row-major, post-softmax. Masked entries are exactly 0. */
  attention: Float32Array[];
  /** [seq, hidden]: last encoder output (bert) or the output of the final norm (gpt2, llama). */
  lastHidden: Float32Array;
  /** [seq, vocab] when the model has an LM head (gpt2, llama family). */
  logits?: Float32Array;
  heads: number;
  layers: number;
  /** With probe.record (bert, gpt2, llama): each layer's attention block, for the context-mixing references. */
  blocks?: NaiveBlock[];
}

/** One layer's attention block as the reference computed it (float64). */
export interface NaiveBlock {
  /** [seq, hidden]: the block's residual input. */
  resid: Float64Array;
  /** [seq, kvHeads·headDim]: the value vectors (after any zeroing). */
  v: Float64Array;
  kvHeads: number;
  headDim: number;
  /** The output projection as stored (HF linear: [hidden, heads·headDim]). */
  oWeight: Float32Array;
  /** [seq, hidden]: resid + attention output, before any norm. */
  sum: Float64Array;
  /** A post-LN block's LayerNorm. */
  ln?: { gamma: Float32Array; beta: Float32Array; eps: number };
  /** [seq, hidden]: the layer's output. */
  out: Float64Array;
}

/** What a reference run records or changes: every block (record), or token `token`'s value vectors zeroed in
 * layer `layer` (value zeroing). */
export interface NaiveProbe {
  record?: boolean;
  zeroValue?: { layer: number; token: number };
  /** Compute layers 0..stopAfter only (value zeroing reads one block's output): the result's blocks and attention
   * stop there, its lastHidden is that layer's output (no final norm) and it has no logits. */
  stopAfter?: number;
}

/** How many layers a run computes. */
const layersRun = (layers: number, probe?: NaiveProbe) =>
  probe?.stopAfter === undefined ? layers : Math.min(layers, probe.stopAfter + 1);

// ---------------------------------------------------------------------------------------------
// Loading (cached per folder so tests can call naiveForward many times)

/** The config.json fields the reference reads (Hugging Face names). */
interface HFConfig {
  model_type?: string;
  vocab_size: number;
  // bert / llama family
  hidden_size: number;
  num_attention_heads: number;
  num_hidden_layers: number;
  intermediate_size: number;
  hidden_act?: string;
  max_position_embeddings: number;
  layer_norm_eps?: number;
  // gpt2
  n_embd: number;
  n_head: number;
  n_layer: number;
  n_inner?: number | null;
  n_positions: number;
  layer_norm_epsilon?: number;
  activation_function?: string;
  scale_attn_weights?: boolean;
  scale_attn_by_inverse_layer_idx?: boolean;
  // llama family
  num_key_value_heads?: number;
  head_dim?: number;
  rms_norm_eps?: number;
  rope_theta?: number;
  rope_scaling?: { rope_type?: string; type?: string } | null;
  sliding_window?: number | null;
  use_sliding_window?: boolean;
  tie_word_embeddings?: boolean;
}

interface LoadedModel {
  config: HFConfig;
  st: SafetensorsFile;
  cache: Map<string, Float32Array>;
}

const loaded = new Map<string, LoadedModel>();

function loadModel(modelDir: string): LoadedModel {
  const hit = loaded.get(modelDir);
  if (hit) return hit;
  const configPath = join(modelDir, 'config.json');
  const weightsPath = join(modelDir, 'model.safetensors');
  if (!existsSync(configPath)) throw new Error(`naiveForward: missing ${configPath}`);
  if (!existsSync(weightsPath)) throw new Error(`naiveForward: missing ${weightsPath}`);
  const model: LoadedModel = {
    config: JSON.parse(readFileSync(configPath, 'utf8')),
    st: readSafetensors(weightsPath),
    cache: new Map(),
  };
  loaded.set(modelDir, model);
  return model;
}

/** Weight accessor bound to one model and one name prefix ("bert.", "model.", "" ...). */
function weights(model: LoadedModel, prefix: string) {
  const full = (name: string) => prefix + name;
  return {
    has: (name: string) => model.st.has(full(name)),
    shape: (name: string) => model.st.shape(full(name)),
    get: (name: string): Float32Array => {
      const key = full(name);
      let t = model.cache.get(key);
      if (!t) {
        t = model.st.get(key);
        model.cache.set(key, t);
      }
      return t;
    },
  };
}

/** Finds the prefix in front of a tensor name suffix, e.g. "bert." for "bert.embeddings.word_embeddings.weight". */
function findPrefix(st: SafetensorsFile, suffix: string): string {
  const exact = st.names.find((n) => n === suffix);
  if (exact) return '';
  const hit = st.names.find((n) => n.endsWith('.' + suffix));
  if (!hit)
    throw new Error(`naiveForward: no tensor ending in "${suffix}" (have e.g. ${st.names.slice(0, 5).join(', ')})`);
  return hit.slice(0, hit.length - suffix.length);
}

// ---------------------------------------------------------------------------------------------
// Math helpers on flat row-major arrays. Activations are Float64Array.

/** HF Linear: x [n, in] · W^T where W is [out, in], plus bias [out]. Returns [n, out]. */
function linear(
  x: Float64Array,
  n: number,
  inDim: number,
  w: Float32Array,
  outDim: number,
  b?: Float32Array,
): Float64Array {
  if (w.length !== outDim * inDim)
    throw new Error(`linear: weight has ${w.length} values, expected ${outDim}x${inDim}`);
  const y = new Float64Array(n * outDim); // [n, out]
  // Each output is b[o] + Σ_i x[t, i]·w[o, i], summed in i's order. Four rows share each weight row read (four
  // independent sums, each in the same order as one at a time: the same values, ~3.5× faster in V8).
  for (let o = 0; o < outDim; o++) {
    const wRow = o * inDim;
    const b0 = b ? b[o] : 0;
    let t = 0;
    for (; t + 4 <= n; t += 4) {
      let a0 = b0;
      let a1 = b0;
      let a2 = b0;
      let a3 = b0;
      const r0 = t * inDim;
      const r1 = r0 + inDim;
      const r2 = r1 + inDim;
      const r3 = r2 + inDim;
      for (let i = 0; i < inDim; i++) {
        const wi = w[wRow + i];
        a0 += x[r0 + i] * wi;
        a1 += x[r1 + i] * wi;
        a2 += x[r2 + i] * wi;
        a3 += x[r3 + i] * wi;
      }
      y[t * outDim + o] = a0;
      y[(t + 1) * outDim + o] = a1;
      y[(t + 2) * outDim + o] = a2;
      y[(t + 3) * outDim + o] = a3;
    }
    for (; t < n; t++) {
      let acc = b0;
      const xRow = t * inDim;
      for (let i = 0; i < inDim; i++) acc += x[xRow + i] * w[wRow + i];
      y[t * outDim + o] = acc;
    }
  }
  return y;
}

/** GPT-2 Conv1D: x [n, in] · W where W is [in, out], plus bias [out]. Returns [n, out]. */
function conv1d(
  x: Float64Array,
  n: number,
  inDim: number,
  w: Float32Array,
  outDim: number,
  b?: Float32Array,
): Float64Array {
  if (w.length !== outDim * inDim)
    throw new Error(`conv1d: weight has ${w.length} values, expected ${inDim}x${outDim}`);
  const y = new Float64Array(n * outDim); // [n, out]
  for (let t = 0; t < n; t++) {
    for (let o = 0; o < outDim; o++) {
      let acc = b ? b[o] : 0;
      for (let i = 0; i < inDim; i++) acc += x[t * inDim + i] * w[i * outDim + o];
      y[t * outDim + o] = acc;
    }
  }
  return y;
}

/** LayerNorm over the last axis of x [n, d] (biased variance, like torch). */
function layerNorm(
  x: Float64Array,
  n: number,
  d: number,
  gamma: Float32Array,
  beta: Float32Array,
  eps: number,
): Float64Array {
  const y = new Float64Array(n * d); // [n, d]
  for (let t = 0; t < n; t++) {
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[t * d + i];
    mean /= d;
    let variance = 0;
    for (let i = 0; i < d; i++) variance += (x[t * d + i] - mean) ** 2;
    variance /= d;
    const inv = 1 / Math.sqrt(variance + eps);
    for (let i = 0; i < d; i++) y[t * d + i] = (x[t * d + i] - mean) * inv * gamma[i] + beta[i];
  }
  return y;
}

/** RMSNorm over the last axis of x [n, d]: x / sqrt(mean(x^2) + eps) * weight. */
function rmsNorm(x: Float64Array, n: number, d: number, weight: Float32Array, eps: number): Float64Array {
  const y = new Float64Array(n * d); // [n, d]
  for (let t = 0; t < n; t++) {
    let ms = 0;
    for (let i = 0; i < d; i++) ms += x[t * d + i] ** 2;
    ms /= d;
    const inv = 1 / Math.sqrt(ms + eps);
    for (let i = 0; i < d; i++) y[t * d + i] = x[t * d + i] * inv * weight[i];
  }
  return y;
}

/** erf to ~1e-13: Maclaurin series for |x| < 3, continued fraction for erfc beyond. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
    let term = x; // (-1)^n x^(2n+1) / n!
    let sum = x;
    for (let n = 1; n < 100; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), evaluated backwards.
  let t = ax;
  for (let k = 80; k >= 1; k--) t = ax + k / 2 / t;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / t;
  return x > 0 ? 1 - erfc : erfc - 1;
}

const geluErf = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));
const geluTanh = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
const silu = (x: number) => x / (1 + Math.exp(-x));
const relu = (x: number) => (x > 0 ? x : 0);

function activation(name: string): (x: number) => number {
  switch (name) {
    case 'gelu':
      return geluErf;
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      return geluTanh;
    case 'silu':
    case 'swish':
      return silu;
    case 'relu':
      return relu;
    default:
      throw new Error(`naiveForward: unsupported activation "${name}"`);
  }
}

/**
 * Scaled dot-product attention for one layer.
 * q: [seq, heads*headDim], k, v: [seq, kvHeads*headDim]. Query head h reads kv head floor(h / (heads/kvHeads)).
 * allowed(i, j) says whether query i may attend to key j; the softmax runs over allowed keys only,
 * so disallowed entries are exactly 0 (a row with no allowed key is all zeros).
 * Returns probs [heads, seq, seq] and context [seq, heads*headDim].
 */
function attention(
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  seq: number,
  heads: number,
  kvHeads: number,
  headDim: number,
  scale: number,
  allowed: (i: number, j: number) => boolean,
): { probs: Float64Array; context: Float64Array } {
  const group = heads / kvHeads;
  const qStride = heads * headDim;
  const kvStride = kvHeads * headDim;
  const probs = new Float64Array(heads * seq * seq); // [heads, query, key]
  const context = new Float64Array(seq * qStride); // [seq, heads*headDim]
  const scores = new Float64Array(seq); // [key]
  for (let h = 0; h < heads; h++) {
    const kvh = Math.floor(h / group);
    for (let i = 0; i < seq; i++) {
      // scores[j] = (q_i · k_j) * scale over allowed keys
      let max = -Infinity;
      for (let j = 0; j < seq; j++) {
        if (!allowed(i, j)) continue;
        let dot = 0;
        for (let c = 0; c < headDim; c++) dot += q[i * qStride + h * headDim + c] * k[j * kvStride + kvh * headDim + c];
        scores[j] = dot * scale;
        if (scores[j] > max) max = scores[j];
      }
      if (max === -Infinity) continue; // no allowed key: row stays all zeros
      let sum = 0;
      for (let j = 0; j < seq; j++) {
        if (!allowed(i, j)) continue;
        const e = Math.exp(scores[j] - max);
        probs[(h * seq + i) * seq + j] = e;
        sum += e;
      }
      for (let j = 0; j < seq; j++) probs[(h * seq + i) * seq + j] /= sum;
      // context_i = sum_j p_ij v_j
      for (let c = 0; c < headDim; c++) {
        let acc = 0;
        for (let j = 0; j < seq; j++) acc += probs[(h * seq + i) * seq + j] * v[j * kvStride + kvh * headDim + c];
        context[i * qStride + h * headDim + c] = acc;
      }
    }
  }
  return { probs, context };
}

/** The result of a run cut after probe.stopAfter: no final norm, no logits. */
function stopped(
  attention: Float32Array[],
  x: Float64Array,
  heads: number,
  layers: number,
  blocks: NaiveBlock[],
  probe: NaiveProbe,
): NaiveForwardResult {
  const result: NaiveForwardResult = { attention, lastHidden: Float32Array.from(x), heads, layers };
  if (probe.record) result.blocks = blocks;
  return result;
}

/** x + y elementwise (residual connection), returns a new array. */
function add(x: Float64Array, y: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] + y[i];
  return out;
}

/** logits [seq, vocab] = h [seq, hidden] · E^T where E is [vocab, hidden]. */
function lmHead(h: Float64Array, seq: number, hidden: number, e: Float32Array): Float32Array {
  const vocab = e.length / hidden;
  return Float32Array.from(linear(h, seq, hidden, e, vocab));
}

function checkIds(ids: number[], vocab: number, mask?: number[]): void {
  if (ids.length === 0) throw new Error('naiveForward: ids must not be empty');
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= vocab)
      throw new Error(`naiveForward: token id ${id} outside [0, ${vocab})`);
  }
  if (mask && mask.length !== ids.length)
    throw new Error(`naiveForward: mask has ${mask.length} entries, ids ${ids.length}`);
}

// ---------------------------------------------------------------------------------------------
// BERT

function bertForward(model: LoadedModel, ids: number[], mask?: number[], probe?: NaiveProbe): NaiveForwardResult {
  const cfg = model.config;
  const w = weights(model, findPrefix(model.st, 'embeddings.word_embeddings.weight'));
  const hidden: number = cfg.hidden_size;
  const heads: number = cfg.num_attention_heads;
  const layers: number = cfg.num_hidden_layers;
  const inter: number = cfg.intermediate_size;
  const eps: number = cfg.layer_norm_eps ?? 1e-12;
  const headDim = hidden / heads;
  const act = activation(cfg.hidden_act ?? 'gelu');
  const seq = ids.length;
  checkIds(ids, cfg.vocab_size, mask);
  if (seq > cfg.max_position_embeddings) throw new Error(`naiveForward: ${seq} tokens > max_position_embeddings`);

  // Embeddings: word + position + token_type(0), then LayerNorm. x: [seq, hidden]
  const word = w.get('embeddings.word_embeddings.weight');
  const pos = w.get('embeddings.position_embeddings.weight');
  const type = w.get('embeddings.token_type_embeddings.weight');
  let x: Float64Array = new Float64Array(seq * hidden);
  for (let t = 0; t < seq; t++) {
    for (let i = 0; i < hidden; i++) {
      x[t * hidden + i] = word[ids[t] * hidden + i] + pos[t * hidden + i] + type[0 * hidden + i];
    }
  }
  x = layerNorm(x, seq, hidden, w.get('embeddings.LayerNorm.weight'), w.get('embeddings.LayerNorm.bias'), eps);

  const allowed = (_i: number, j: number) => !mask || mask[j] !== 0;
  const attentionOut: Float32Array[] = [];
  const blocks: NaiveBlock[] = [];
  for (let l = 0; l < layersRun(layers, probe); l++) {
    const p = `encoder.layer.${l}.`;
    const q = linear(
      x,
      seq,
      hidden,
      w.get(p + 'attention.self.query.weight'),
      hidden,
      w.get(p + 'attention.self.query.bias'),
    );
    const k = linear(
      x,
      seq,
      hidden,
      w.get(p + 'attention.self.key.weight'),
      hidden,
      w.get(p + 'attention.self.key.bias'),
    );
    const v = linear(
      x,
      seq,
      hidden,
      w.get(p + 'attention.self.value.weight'),
      hidden,
      w.get(p + 'attention.self.value.bias'),
    );
    if (probe?.zeroValue?.layer === l) v.fill(0, probe.zeroValue.token * hidden, (probe.zeroValue.token + 1) * hidden);
    const { probs, context } = attention(q, k, v, seq, heads, heads, headDim, 1 / Math.sqrt(headDim), allowed);
    attentionOut.push(Float32Array.from(probs)); // [heads, query, key]
    const resid = x;
    // Post-LN: x = LN(x + dense(context))
    const attnOut = linear(
      context,
      seq,
      hidden,
      w.get(p + 'attention.output.dense.weight'),
      hidden,
      w.get(p + 'attention.output.dense.bias'),
    );
    const sum = add(x, attnOut);
    x = layerNorm(
      sum,
      seq,
      hidden,
      w.get(p + 'attention.output.LayerNorm.weight'),
      w.get(p + 'attention.output.LayerNorm.bias'),
      eps,
    );
    const block: NaiveBlock = {
      resid,
      v,
      kvHeads: heads,
      headDim,
      oWeight: w.get(p + 'attention.output.dense.weight'),
      sum,
      ln: {
        gamma: w.get(p + 'attention.output.LayerNorm.weight'),
        beta: w.get(p + 'attention.output.LayerNorm.bias'),
        eps,
      },
      out: x,
    };
    // FFN: x = LN(x + out(act(intermediate(x))))
    const mid = linear(
      x,
      seq,
      hidden,
      w.get(p + 'intermediate.dense.weight'),
      inter,
      w.get(p + 'intermediate.dense.bias'),
    ); // [seq, inter]
    for (let i = 0; i < mid.length; i++) mid[i] = act(mid[i]);
    const ffn = linear(mid, seq, inter, w.get(p + 'output.dense.weight'), hidden, w.get(p + 'output.dense.bias'));
    x = layerNorm(
      add(x, ffn),
      seq,
      hidden,
      w.get(p + 'output.LayerNorm.weight'),
      w.get(p + 'output.LayerNorm.bias'),
      eps,
    );
    block.out = x;
    blocks.push(block);
  }
  const result: NaiveForwardResult = { attention: attentionOut, lastHidden: Float32Array.from(x), heads, layers };
  if (probe?.record) result.blocks = blocks;
  return result;
}

// ---------------------------------------------------------------------------------------------
// GPT-2

function gpt2Forward(model: LoadedModel, ids: number[], mask?: number[], probe?: NaiveProbe): NaiveForwardResult {
  const cfg = model.config;
  const w = weights(model, findPrefix(model.st, 'wte.weight'));
  const hidden: number = cfg.n_embd;
  const heads: number = cfg.n_head;
  const layers: number = cfg.n_layer;
  const inner: number = cfg.n_inner ?? 4 * hidden;
  const eps: number = cfg.layer_norm_epsilon ?? 1e-5;
  const headDim = hidden / heads;
  const act = activation(cfg.activation_function ?? 'gelu_new');
  const seq = ids.length;
  checkIds(ids, cfg.vocab_size, mask);
  if (seq > cfg.n_positions) throw new Error(`naiveForward: ${seq} tokens > n_positions`);

  // Embeddings: wte + wpe. x: [seq, hidden]
  const wte = w.get('wte.weight');
  const wpe = w.get('wpe.weight');
  let x: Float64Array = new Float64Array(seq * hidden);
  for (let t = 0; t < seq; t++) {
    for (let i = 0; i < hidden; i++) x[t * hidden + i] = wte[ids[t] * hidden + i] + wpe[t * hidden + i];
  }

  const allowed = (i: number, j: number) => j <= i && (!mask || mask[j] !== 0);
  const attentionOut: Float32Array[] = [];
  const blocks: NaiveBlock[] = [];
  for (let l = 0; l < layersRun(layers, probe); l++) {
    const p = `h.${l}.`;
    const resid = x;
    // Pre-LN attention: x = x + c_proj(attn(ln_1(x)))
    const a = layerNorm(x, seq, hidden, w.get(p + 'ln_1.weight'), w.get(p + 'ln_1.bias'), eps);
    const qkv = conv1d(a, seq, hidden, w.get(p + 'attn.c_attn.weight'), 3 * hidden, w.get(p + 'attn.c_attn.bias')); // [seq, 3*hidden]
    const q = new Float64Array(seq * hidden); // [seq, hidden], split of the fused qkv as q | k | v
    const k = new Float64Array(seq * hidden);
    const v = new Float64Array(seq * hidden);
    for (let t = 0; t < seq; t++) {
      for (let i = 0; i < hidden; i++) {
        q[t * hidden + i] = qkv[t * 3 * hidden + i];
        k[t * hidden + i] = qkv[t * 3 * hidden + hidden + i];
        v[t * hidden + i] = qkv[t * 3 * hidden + 2 * hidden + i];
      }
    }
    if (probe?.zeroValue?.layer === l) v.fill(0, probe.zeroValue.token * hidden, (probe.zeroValue.token + 1) * hidden);
    let scale = cfg.scale_attn_weights === false ? 1 : 1 / Math.sqrt(headDim);
    if (cfg.scale_attn_by_inverse_layer_idx) scale /= l + 1;
    const { probs, context } = attention(q, k, v, seq, heads, heads, headDim, scale, allowed);
    attentionOut.push(Float32Array.from(probs)); // [heads, query, key]
    x = add(x, conv1d(context, seq, hidden, w.get(p + 'attn.c_proj.weight'), hidden, w.get(p + 'attn.c_proj.bias')));
    const sum = x; // resid + attention output
    // Pre-LN MLP: x = x + mlp.c_proj(act(mlp.c_fc(ln_2(x))))
    const m = layerNorm(x, seq, hidden, w.get(p + 'ln_2.weight'), w.get(p + 'ln_2.bias'), eps);
    const mid = conv1d(m, seq, hidden, w.get(p + 'mlp.c_fc.weight'), inner, w.get(p + 'mlp.c_fc.bias')); // [seq, inner]
    for (let i = 0; i < mid.length; i++) mid[i] = act(mid[i]);
    x = add(x, conv1d(mid, seq, inner, w.get(p + 'mlp.c_proj.weight'), hidden, w.get(p + 'mlp.c_proj.bias')));
    // Conv1D c_proj.weight is [in = heads·headDim, out = hidden]; the block records it in HF linear layout.
    const cProj = w.get(p + 'attn.c_proj.weight');
    const oWeight = new Float32Array(hidden * hidden); // [hidden, heads·headDim]
    for (let i = 0; i < hidden; i++) for (let o = 0; o < hidden; o++) oWeight[o * hidden + i] = cProj[i * hidden + o];
    blocks.push({ resid, v, kvHeads: heads, headDim, oWeight, sum, out: x });
  }
  if (probe?.stopAfter !== undefined) return stopped(attentionOut, x, heads, layers, blocks, probe);
  const h = layerNorm(x, seq, hidden, w.get('ln_f.weight'), w.get('ln_f.bias'), eps); // [seq, hidden]
  // Tied LM head: logits = h · wte^T (an explicit lm_head.weight, if stored, is the same tensor).
  const head = model.st.has('lm_head.weight') ? model.st.get('lm_head.weight') : wte;
  const result: NaiveForwardResult = {
    attention: attentionOut,
    lastHidden: Float32Array.from(h),
    logits: lmHead(h, seq, hidden, head),
    heads,
    layers,
  };
  if (probe?.record) result.blocks = blocks;
  return result;
}

// ---------------------------------------------------------------------------------------------
// Llama family (llama, mistral, qwen2)

function llamaForward(model: LoadedModel, ids: number[], mask?: number[], probe?: NaiveProbe): NaiveForwardResult {
  const cfg = model.config;
  const prefix = findPrefix(model.st, 'embed_tokens.weight');
  const w = weights(model, prefix);
  const hidden: number = cfg.hidden_size;
  const heads: number = cfg.num_attention_heads;
  const kvHeads: number = cfg.num_key_value_heads ?? heads;
  const layers: number = cfg.num_hidden_layers;
  const inter: number = cfg.intermediate_size;
  const eps: number = cfg.rms_norm_eps ?? 1e-6;
  const headDim: number = cfg.head_dim ?? hidden / heads;
  const theta: number = cfg.rope_theta ?? 10000;
  const act = activation(cfg.hidden_act ?? 'silu');
  const seq = ids.length;
  checkIds(ids, cfg.vocab_size, mask);
  if (heads % kvHeads !== 0) throw new Error(`naiveForward: ${heads} heads not a multiple of ${kvHeads} kv heads`);
  const ropeType = cfg.rope_scaling?.rope_type ?? cfg.rope_scaling?.type;
  if (cfg.rope_scaling && ropeType !== 'default')
    throw new Error(`naiveForward: rope_scaling ${JSON.stringify(cfg.rope_scaling)} not supported`);
  // Mistral's sliding window: query i sees keys j with i - j < window (null/absent = unlimited).
  const window: number = cfg.use_sliding_window === false ? Infinity : (cfg.sliding_window ?? Infinity);
  const bias = (name: string) => (w.has(name) ? w.get(name) : undefined); // qwen2: q/k/v biases

  // RoPE tables, HF rotate_half convention: inv_freq[i] = 1 / theta^(2i/d), angle = pos * inv_freq[i].
  const half = headDim / 2;
  const cos = new Float64Array(seq * half); // [seq, half]
  const sin = new Float64Array(seq * half);
  for (let t = 0; t < seq; t++) {
    for (let i = 0; i < half; i++) {
      // HF computes inv_freq and the angles in float32; round the same way.
      const invFreq = Math.fround(1 / Math.pow(theta, (2 * i) / headDim));
      const angle = Math.fround(t * invFreq);
      cos[t * half + i] = Math.cos(angle);
      sin[t * half + i] = Math.sin(angle);
    }
  }
  /** In place on x [seq, nHeads*headDim]: x = x*cos + rotate_half(x)*sin, rotate_half(x) = [-x2, x1]. */
  const rope = (x: Float64Array, nHeads: number) => {
    for (let t = 0; t < seq; t++) {
      for (let h = 0; h < nHeads; h++) {
        const base = t * nHeads * headDim + h * headDim;
        for (let i = 0; i < half; i++) {
          const x1 = x[base + i];
          const x2 = x[base + half + i];
          const c = cos[t * half + i];
          const s = sin[t * half + i];
          x[base + i] = x1 * c - x2 * s;
          x[base + half + i] = x2 * c + x1 * s;
        }
      }
    }
  };

  // Embeddings: x [seq, hidden]
  const embed = w.get('embed_tokens.weight');
  let x: Float64Array = new Float64Array(seq * hidden);
  for (let t = 0; t < seq; t++) {
    for (let i = 0; i < hidden; i++) x[t * hidden + i] = embed[ids[t] * hidden + i];
  }

  const allowed = (i: number, j: number) => j <= i && i - j < window && (!mask || mask[j] !== 0);
  const attentionOut: Float32Array[] = [];
  const blocks: NaiveBlock[] = [];
  for (let l = 0; l < layersRun(layers, probe); l++) {
    const p = `layers.${l}.`;
    // Attention: x = x + o_proj(attn(rope(q), rope(k), v)) on rmsnorm(x)
    const a = rmsNorm(x, seq, hidden, w.get(p + 'input_layernorm.weight'), eps);
    const q = linear(
      a,
      seq,
      hidden,
      w.get(p + 'self_attn.q_proj.weight'),
      heads * headDim,
      bias(p + 'self_attn.q_proj.bias'),
    ); // [seq, heads*headDim]
    const k = linear(
      a,
      seq,
      hidden,
      w.get(p + 'self_attn.k_proj.weight'),
      kvHeads * headDim,
      bias(p + 'self_attn.k_proj.bias'),
    ); // [seq, kvHeads*headDim]
    const v = linear(
      a,
      seq,
      hidden,
      w.get(p + 'self_attn.v_proj.weight'),
      kvHeads * headDim,
      bias(p + 'self_attn.v_proj.bias'),
    );
    rope(q, heads);
    rope(k, kvHeads);
    const kvWidth = kvHeads * headDim;
    if (probe?.zeroValue?.layer === l)
      v.fill(0, probe.zeroValue.token * kvWidth, (probe.zeroValue.token + 1) * kvWidth);
    const { probs, context } = attention(q, k, v, seq, heads, kvHeads, headDim, 1 / Math.sqrt(headDim), allowed);
    attentionOut.push(Float32Array.from(probs)); // [heads, query, key]
    const resid = x;
    x = add(
      x,
      linear(
        context,
        seq,
        heads * headDim,
        w.get(p + 'self_attn.o_proj.weight'),
        hidden,
        bias(p + 'self_attn.o_proj.bias'),
      ),
    );
    // MLP: x = x + down(act(gate(m)) * up(m)) on m = rmsnorm(x)
    const m = rmsNorm(x, seq, hidden, w.get(p + 'post_attention_layernorm.weight'), eps);
    const gate = linear(m, seq, hidden, w.get(p + 'mlp.gate_proj.weight'), inter, bias(p + 'mlp.gate_proj.bias')); // [seq, inter]
    const up = linear(m, seq, hidden, w.get(p + 'mlp.up_proj.weight'), inter, bias(p + 'mlp.up_proj.bias'));
    for (let i = 0; i < gate.length; i++) gate[i] = act(gate[i]) * up[i];
    const sum = x;
    x = add(x, linear(gate, seq, inter, w.get(p + 'mlp.down_proj.weight'), hidden, bias(p + 'mlp.down_proj.bias')));
    blocks.push({ resid, v, kvHeads, headDim, oWeight: w.get(p + 'self_attn.o_proj.weight'), sum, out: x });
  }
  if (probe?.stopAfter !== undefined) return stopped(attentionOut, x, heads, layers, blocks, probe);
  const h = rmsNorm(x, seq, hidden, w.get('norm.weight'), eps); // [seq, hidden]
  // LM head: lm_head.weight when stored, else the embeddings when tied.
  let head: Float32Array | undefined;
  if (model.st.has('lm_head.weight')) head = model.st.get('lm_head.weight');
  else if (cfg.tie_word_embeddings !== false) head = embed;
  const result: NaiveForwardResult = { attention: attentionOut, lastHidden: Float32Array.from(h), heads, layers };
  if (head) result.logits = lmHead(h, seq, hidden, head);
  if (probe?.record) result.blocks = blocks;
  return result;
}

// ---------------------------------------------------------------------------------------------

/**
 * Runs the naive reference forward pass of the model in modelDir (config.json + model.safetensors)
 * on one sequence of token ids. mask (1 = real token, 0 = padding) zeroes attention to padded keys;
 * positions are always 0..seq-1.
 */
export function naiveForward(modelDir: string, ids: number[], mask?: number[], probe?: NaiveProbe): NaiveForwardResult {
  const model = loadModel(modelDir);
  const type = model.config.model_type;
  switch (type) {
    case 'bert':
      return bertForward(model, ids, mask, probe);
    case 'gpt2':
      return gpt2Forward(model, ids, mask, probe);
    case 'llama':
    case 'mistral':
    case 'qwen2':
      return llamaForward(model, ids, mask, probe);
    default:
      throw new Error(`naiveForward: unsupported model_type "${type}"`);
  }
}

/** Drops cached weights (all folders, or one). */
export function clearNaiveForwardCache(modelDir?: string): void {
  if (modelDir === undefined) loaded.clear();
  else loaded.delete(modelDir);
}
