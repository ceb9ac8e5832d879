// A GGUF file as a model source: its metadata becomes the config.json dictionary the family normaliser reads
// (formats/gguf-config.ts) and its tensors a WeightStore under Hugging Face names in HF layout
// (formats/gguf-tensors.ts), dequantized to float32 one tensor at a time as the graphs are built. From here on a
// GGUF model is built, checked and run exactly like a safetensors folder of the same family — except that the
// tensors the family builder requires are checked here first (checkGgufTensors), so that a GGUF file whose tensors
// do not match its metadata is told in its own words (blk.N.attn_q.weight, llama.embedding_length), not in the
// builder's (model.layers.N.self_attn.q_proj.weight, config.json).
import * as path from 'node:path';
import { LensError } from '../errors';
import { normaliseConfig, type ModelConfig } from '../formats/config-normalise';
import { openGguf, type GgufFile } from '../formats/gguf-file';
import { ggufConfig, NORM_PLUS_ONE, PERMUTED_QK } from '../formats/gguf-config';
import { ggufWeights } from '../formats/gguf-tensors';
import type { ModelSource } from './source';

/** The config.json equivalent of an open GGUF file (see gguf-config.ts). */
export function rawConfigOf(g: GgufFile): Record<string, unknown> {
  const names = new Set(g.header.tensors.map((t) => t.name));
  return ggufConfig(g.meta, names, (name) => {
    const t = g.tensor(name);
    return t ? g.read(t) : undefined;
  });
}

/** GGUF names (llama.cpp's, gguf-tensors.ts maps them to HF's) of the RMSNorms of each layer, by placement. */
const LAYER_NORMS: Record<ModelConfig['normPlacement'], string[]> = {
  pre: ['attn_norm', 'ffn_norm'],
  sandwich: ['attn_norm', 'post_attention_norm', 'ffn_norm', 'post_ffw_norm'],
  post: ['post_attention_norm', 'post_ffw_norm'],
};

/**
 * The tensors, with their HF (outermost-first) shapes, that the decoder builder (llama.ts layerShapes and
 * llamaGraphs) requires of a model with config `c`, under their GGUF names, in the order it checks them.
 */
export function requiredGgufTensors(c: ModelConfig): [string, number[]][] {
  const { hidden: E, heads: H, kvHeads: KV, headDim: D, intermediate: I, vocabSize: V } = c;
  const out: [string, number[]][] = [['token_embd.weight', [V, E]]];
  for (let l = 0; l < c.layers; l++) {
    const p = `blk.${l}.`;
    for (const n of LAYER_NORMS[c.normPlacement]) out.push([`${p}${n}.weight`, [E]]);
    if (c.fusedProjections) {
      out.push([`${p}attn_qkv.weight`, [(H + 2 * KV) * D, E]]);
      out.push([`${p}ffn_up.weight`, [2 * I, E]]);
    } else {
      out.push([`${p}attn_q.weight`, [H * D, E]]);
      out.push([`${p}attn_k.weight`, [KV * D, E]]);
      out.push([`${p}attn_v.weight`, [KV * D, E]]);
      out.push([`${p}ffn_gate.weight`, [I, E]]);
      out.push([`${p}ffn_up.weight`, [I, E]]);
    }
    out.push([`${p}attn_output.weight`, [E, H * D]]);
    out.push([`${p}ffn_down.weight`, [E, I]]);
    if (c.qkvBias)
      for (const [n, rows] of [
        ['attn_q', H * D],
        ['attn_k', KV * D],
        ['attn_v', KV * D],
      ] as const)
        out.push([`${p}${n}.bias`, [rows]]);
    if (c.oBias) out.push([`${p}attn_output.bias`, [E]]);
    if (c.mlpBias)
      for (const [n, size] of [
        ['ffn_gate', I],
        ['ffn_up', I],
        ['ffn_down', E],
      ] as const)
        out.push([`${p}${n}.bias`, [size]]);
    if (c.qkNorm !== 'none') {
      out.push([`${p}attn_q_norm.weight`, [c.qkNorm === 'head' ? D : H * D]]);
      out.push([`${p}attn_k_norm.weight`, [c.qkNorm === 'head' ? D : KV * D]]);
    }
  }
  out.push(['output_norm.weight', [E]]);
  return out;
}

/** Fails, naming the GGUF file, tensor and metadata keys, unless every tensor the builder needs is there with the
 * shape the metadata gives (the builder's own check would name HF tensors and config.json). */
export function checkGgufTensors(g: GgufFile, c: ModelConfig, arch: string): void {
  const k = (key: string) => `${arch}.${key}`;
  const dims = (shape: number[]) => `[${shape.slice().reverse().join(', ')}]`;
  const facts =
    `${k('embedding_length')} ${c.hidden}, ${k('attention.head_count')} ${c.heads}, ` +
    `${k('attention.head_count_kv')} ${c.kvHeads}, head size ${c.headDim}, ` +
    `${k('feed_forward_length')} ${c.intermediate}, vocabulary ${c.vocabSize}`;
  const required = requiredGgufTensors(c);
  if (!c.tieWordEmbeddings && g.tensor('output.weight')) required.push(['output.weight', [c.vocabSize, c.hidden]]);
  for (const [name, shape] of required) {
    const t = g.tensor(name);
    if (!t) {
      const layer = /^blk\.(\d+)\./.exec(name);
      throw new LensError(
        'SHAPE_MISMATCH',
        `${g.label} has no tensor ${name} (dims ${dims(shape)})${layer ? `, though ${k('block_count')} ${c.layers} says the model has ${c.layers} layer${c.layers === 1 ? '' : 's'}` : ''}, which a ${arch} model needs; the file is incomplete or not a ${arch} model — re-convert or re-download it.`,
      );
    }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
      throw new LensError(
        'SHAPE_MISMATCH',
        `${g.label}: tensor ${name} has dims ${dims(t.shape)} but the GGUF metadata (${facts}) needs ${dims(shape)}; the metadata and the tensors do not match — re-convert or re-download the file.`,
      );
  }
}

/** Opens a .gguf file as a ModelSource: validated header, normalised config, lazy HF-named weights. */
export function readGgufModel(file: string): ModelSource {
  const g = openGguf(file);
  const raw = rawConfigOf(g);
  const config = normaliseConfig(raw, `${g.label} (GGUF metadata)`);
  const arch = g.meta.str('general.architecture') ?? '';
  const weights = ggufWeights({
    arch,
    label: g.label,
    tensors: g.header.tensors,
    read: (info) => g.read(info),
    permute: PERMUTED_QK.has(arch) ? { heads: config.heads, kvHeads: config.kvHeads } : undefined,
    normMinusOne: NORM_PLUS_ONE.has(arch),
  });
  // After ggufWeights, which names a tensor of a ggml type that cannot be read.
  checkGgufTensors(g, config, arch);
  return { config, weights, dir: path.dirname(file) };
}
