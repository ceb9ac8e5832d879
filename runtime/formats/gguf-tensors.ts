// The tensors of a GGUF file under the Hugging Face names the family builders check ("model.layers.3.self_attn.
// q_proj.weight"), in HF layout: llama.cpp's names are mapped back (token_embd → embed_tokens, blk.N.attn_q →
// layers.N.self_attn.q_proj, ...), the q/k row permutation llama.cpp applies to llama models for its interleaved
// RoPE is undone (transformers' LlamaTensorProcessor does the same), and Gemma's stored 1 + w norms become w again.
// Shapes need no transposition: GGUF's dims [in, out] read outermost-first are HF's [out, in].
import { LensError } from '../errors';
import { isDequantizable } from './gguf-dequant';
import type { GgufTensorInfo } from './gguf-read';
import { storeOf, type HeaderEntry, type WeightStore } from './safetensors-bytes';

/** blk.N.<name> → the HF name under model.layers.N. (per architecture where they differ). */
function layerName(arch: string, rest: string): string | undefined {
  const gemma = arch === 'gemma2' || arch === 'gemma3';
  const olmo = arch === 'olmo2';
  const phi = arch === 'phi3';
  const table: Record<string, string> = {
    attn_norm: 'input_layernorm',
    attn_q: 'self_attn.q_proj',
    attn_k: 'self_attn.k_proj',
    attn_v: 'self_attn.v_proj',
    attn_qkv: 'self_attn.qkv_proj',
    attn_output: 'self_attn.o_proj',
    attn_q_norm: 'self_attn.q_norm',
    attn_k_norm: 'self_attn.k_norm',
    ffn_norm: gemma ? 'pre_feedforward_layernorm' : 'post_attention_layernorm',
    post_attention_norm: 'post_attention_layernorm',
    post_ffw_norm: 'post_feedforward_layernorm',
    ffn_gate: 'mlp.gate_proj',
    ffn_up: phi ? 'mlp.gate_up_proj' : 'mlp.up_proj',
    ffn_down: 'mlp.down_proj',
  };
  if (olmo && rest === 'ffn_norm') return undefined;
  const m = /^([a-z_]+)\.(weight|bias)$/.exec(rest);
  // Own keys only: a tensor named blk.0.constructor.weight must not find Object.prototype's members.
  if (!m || !Object.hasOwn(table, m[1])) return undefined;
  return `${table[m[1]]}.${m[2]}`;
}

/** The HF name of a GGUF tensor, or undefined for tensors the families do not use (rope tables, vision...). */
export function hfTensorName(arch: string, gguf: string): string | undefined {
  switch (gguf) {
    case 'token_embd.weight':
      return 'model.embed_tokens.weight';
    case 'output_norm.weight':
      return 'model.norm.weight';
    case 'output.weight':
      return 'lm_head.weight';
  }
  const m = /^blk\.(\d+)\.(.+)$/.exec(gguf);
  if (!m) return undefined;
  const rest = layerName(arch, m[2]);
  return rest === undefined ? undefined : `model.layers.${m[1]}.${rest}`;
}

/** Undoes convert_hf_to_gguf.py's permute(): rows (head, pair j, half i) back to (head, half i, pair j).
 * `data` is [heads·D, cols] (a weight) or [heads·D] (a bias). */
export function unpermuteRows(data: Float32Array, heads: number, cols: number): Float32Array {
  const rows = data.length / cols;
  const d = rows / heads; // head dim
  const halfD = d / 2;
  const out = new Float32Array(data.length);
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < halfD; j++) {
        const to = (h * d + i * halfD + j) * cols;
        const from = (h * d + j * 2 + i) * cols;
        out.set(data.subarray(from, from + cols), to);
      }
  return out;
}

export interface GgufWeightsOptions {
  arch: string;
  label: string;
  tensors: GgufTensorInfo[];
  read: (info: GgufTensorInfo) => Float32Array;
  /** Undo the q/k permutation with these head counts (llama). */
  permute?: { heads: number; kvHeads: number };
  /** Subtract 1 from every norm weight (Gemma). */
  normMinusOne?: boolean;
}

/** A WeightStore over a GGUF file's tensors under HF names; each get() reads and dequantizes one tensor. */
export function ggufWeights(o: GgufWeightsOptions): WeightStore {
  const entries = new Map<string, HeaderEntry & { info: GgufTensorInfo }>();
  for (const t of o.tensors) {
    const hf = hfTensorName(o.arch, t.name);
    if (hf === undefined) continue;
    if (!isDequantizable(t.type))
      throw new LensError(
        'UNSUPPORTED_MODEL',
        `${o.label}: tensor ${t.name} is of ggml type ${t.typeName}, which Attention Lens cannot read (supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K–Q6_K); use another quantisation of the model (e.g. Q4_K_M or Q8_0).`,
      );
    entries.set(hf, { name: hf, dtype: t.typeName, shape: t.shape, begin: t.begin, end: t.end, info: t });
  }
  return storeOf(entries, ({ name, info }) => {
    let data = o.read(info);
    const cols = info.shape.length > 1 ? info.shape[info.shape.length - 1] : 1;
    if (o.permute && /\.self_attn\.(q|k)_proj\.(weight|bias)$/.test(name)) {
      const heads = name.includes('.q_proj.') ? o.permute.heads : o.permute.kvHeads;
      data = unpermuteRows(data, heads, cols);
    }
    if (o.normMinusOne && /norm\.weight$/.test(name)) for (let i = 0; i < data.length; i++) data[i] = data[i] - 1;
    return data;
  });
}
