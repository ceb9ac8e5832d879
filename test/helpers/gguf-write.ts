// A minimal GGUF v3 writer for tests (bad-input files, fake Ollama/LM Studio blobs), written from the format's
// description independently of the reader under test: header, typed metadata, tensor infos, aligned data.
import { mulberry32 } from '../../runtime/random';

export type MetaValue =
  | { u32: number }
  | { i32: number }
  | { f32: number }
  | { bool: boolean }
  | { str: string }
  | { strs: string[] }
  | { i32s: number[] }
  | { f32s: number[] };

export interface TensorSpec {
  name: string;
  /** GGUF order: dims[0] is the row length. */
  dims: number[];
  type: number;
  data: Uint8Array;
}

class Out {
  private parts: Buffer[] = [];
  size = 0;
  push(b: Buffer): void {
    this.parts.push(b);
    this.size += b.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  u64(v: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function writeValue(o: Out, v: MetaValue): void {
  const b4 = Buffer.alloc(4);
  if ('u32' in v) {
    o.u32(4);
    o.u32(v.u32);
  } else if ('i32' in v) {
    o.u32(5);
    b4.writeInt32LE(v.i32);
    o.push(b4);
  } else if ('f32' in v) {
    o.u32(6);
    b4.writeFloatLE(v.f32);
    o.push(b4);
  } else if ('bool' in v) {
    o.u32(7);
    o.push(Buffer.from([v.bool ? 1 : 0]));
  } else if ('str' in v) {
    o.u32(8);
    o.str(v.str);
  } else if ('strs' in v) {
    o.u32(9);
    o.u32(8);
    o.u64(v.strs.length);
    for (const s of v.strs) o.str(s);
  } else if ('i32s' in v) {
    o.u32(9);
    o.u32(5);
    o.u64(v.i32s.length);
    for (const x of v.i32s) {
      const b = Buffer.alloc(4);
      b.writeInt32LE(x);
      o.push(b);
    }
  } else {
    o.u32(9);
    o.u32(6);
    o.u64(v.f32s.length);
    for (const x of v.f32s) {
      const b = Buffer.alloc(4);
      b.writeFloatLE(x);
      o.push(b);
    }
  }
}

/** The header of a GGUF file whose tensors take `size` bytes each (the data is left to the caller: e.g. a sparse
 * file for a model too large to write); returns the header bytes and the data section's length. */
export function ggufHeader(
  meta: Record<string, MetaValue>,
  tensors: { name: string; dims: number[]; type: number; size: number }[],
): { bytes: Buffer; dataBytes: number } {
  const o = new Out();
  o.push(Buffer.from('GGUF', 'ascii'));
  o.u32(3);
  o.u64(tensors.length);
  o.u64(Object.keys(meta).length);
  for (const [k, v] of Object.entries(meta)) {
    o.str(k);
    writeValue(o, v);
  }
  let offset = 0;
  for (const t of tensors) {
    o.str(t.name);
    o.u32(t.dims.length);
    for (const d of t.dims) o.u64(d);
    o.u32(t.type);
    o.u64(offset);
    offset += Math.ceil(t.size / 32) * 32;
  }
  o.push(Buffer.alloc((32 - (o.size % 32)) % 32));
  return { bytes: o.bytes(), dataBytes: offset };
}

/** The bytes of a GGUF v3 file with these metadata and tensors (alignment 32). */
export function ggufBytes(meta: Record<string, MetaValue>, tensors: TensorSpec[], version = 3): Buffer {
  const o = new Out();
  o.push(Buffer.from('GGUF', 'ascii'));
  o.u32(version);
  o.u64(tensors.length);
  o.u64(Object.keys(meta).length);
  for (const [k, v] of Object.entries(meta)) {
    o.str(k);
    writeValue(o, v);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    o.str(t.name);
    o.u32(t.dims.length);
    for (const d of t.dims) o.u64(d);
    o.u32(t.type);
    offsets.push(offset);
    o.u64(offset);
    offset += Math.ceil(t.data.length / 32) * 32;
  }
  o.push(Buffer.alloc((32 - (o.size % 32)) % 32));
  tensors.forEach((t) => {
    o.push(Buffer.from(t.data));
    o.push(Buffer.alloc((32 - (t.data.length % 32)) % 32));
  });
  return o.bytes();
}

/** A complete tiny llama GGUF (hidden 32, 1 layer, 2 heads, a 6-token byte-level vocabulary), F32 weights. */
export function tinyLlamaGguf(
  change: { meta?: Record<string, MetaValue | undefined>; tensors?: (t: TensorSpec[]) => TensorSpec[] } = {},
): Buffer {
  const rand = mulberry32(5);
  const f32 = (n: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = rand() - 0.5;
    return new Uint8Array(a.buffer);
  };
  const E = 32;
  const I = 64;
  const tokens = ['a', 'b', 'c', 'Ġ', 'ab', '<|end|>'];
  const meta: Record<string, MetaValue | undefined> = {
    'general.architecture': { str: 'llama' },
    'llama.block_count': { u32: 1 },
    'llama.context_length': { u32: 64 },
    'llama.embedding_length': { u32: E },
    'llama.feed_forward_length': { u32: I },
    'llama.attention.head_count': { u32: 2 },
    'llama.attention.head_count_kv': { u32: 2 },
    'llama.attention.layer_norm_rms_epsilon': { f32: 1e-5 },
    'tokenizer.ggml.model': { str: 'gpt2' },
    'tokenizer.ggml.pre': { str: 'gpt-2' },
    'tokenizer.ggml.tokens': { strs: tokens },
    'tokenizer.ggml.token_type': { i32s: [1, 1, 1, 1, 1, 3] },
    'tokenizer.ggml.merges': { strs: ['a b'] },
    'tokenizer.ggml.eos_token_id': { u32: 5 },
    ...change.meta,
  };
  let tensors: TensorSpec[] = [
    { name: 'token_embd.weight', dims: [E, tokens.length], type: 0, data: f32(E * tokens.length) },
    { name: 'blk.0.attn_norm.weight', dims: [E], type: 0, data: f32(E) },
    { name: 'blk.0.ffn_norm.weight', dims: [E], type: 0, data: f32(E) },
    { name: 'blk.0.attn_q.weight', dims: [E, E], type: 0, data: f32(E * E) },
    { name: 'blk.0.attn_k.weight', dims: [E, E], type: 0, data: f32(E * E) },
    { name: 'blk.0.attn_v.weight', dims: [E, E], type: 0, data: f32(E * E) },
    { name: 'blk.0.attn_output.weight', dims: [E, E], type: 0, data: f32(E * E) },
    { name: 'blk.0.ffn_gate.weight', dims: [E, I], type: 0, data: f32(E * I) },
    { name: 'blk.0.ffn_up.weight', dims: [E, I], type: 0, data: f32(E * I) },
    { name: 'blk.0.ffn_down.weight', dims: [I, E], type: 0, data: f32(I * E) },
    { name: 'output_norm.weight', dims: [E], type: 0, data: f32(E) },
  ];
  if (change.tensors) tensors = change.tensors(tensors);
  const kept = Object.fromEntries(Object.entries(meta).filter((e): e is [string, MetaValue] => e[1] !== undefined));
  return ggufBytes(kept, tensors);
}
