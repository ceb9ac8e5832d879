// Minimal, independent reader of .safetensors files for the naive reference forward pass.
// Deliberately shares no code with runtime/: it is a second implementation used to check the first.
//
// File layout: [u64 little-endian header length N][N bytes of JSON header][raw tensor data].
// The header maps tensor names to { dtype, shape, data_offsets: [begin, end] } (offsets relative to
// the start of the data section) plus an optional "__metadata__" entry of string pairs.

import { readFileSync } from 'node:fs';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'F64' | string;

export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  /** [begin, end) byte offsets relative to the start of the data section. */
  data_offsets: [number, number];
}

export interface SafetensorsFile {
  /** Tensor names in header order (without "__metadata__"). */
  names: string[];
  /** Header entry per tensor name. */
  entries: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
  has(name: string): boolean;
  /** Shape of a tensor; throws if absent. */
  shape(name: string): number[];
  /** Tensor data converted to Float32Array (F32, F16, BF16, F64); throws if absent or another dtype. */
  get(name: string): Float32Array;
}

/** Decodes one IEEE 754 binary16 value given as its 16 bits. */
export function f16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero / subnormal
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Decodes one bfloat16 value given as its 16 bits (the top half of a float32). */
const bf16Scratch = new DataView(new ArrayBuffer(4));
export function bf16BitsToNumber(b: number): number {
  bf16Scratch.setUint32(0, (b & 0xffff) << 16, false);
  return bf16Scratch.getFloat32(0, false);
}

/** Parses a safetensors file held in memory. Tensors are decoded lazily, on get(). */
export function parseSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.byteLength < 8) throw new Error('safetensors: file shorter than its 8-byte header length');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(dv.getBigUint64(0, true));
  if (8 + headerLen > bytes.byteLength) throw new Error(`safetensors: header length ${headerLen} exceeds file size`);
  const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + headerLen));
  const header = JSON.parse(headerText) as Record<string, unknown>;
  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;

  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (value ?? {}) as Record<string, string>;
      continue;
    }
    const e = value as SafetensorsEntry;
    const [begin, end] = e.data_offsets;
    if (!(begin >= 0 && end >= begin && end <= dataLen)) {
      throw new Error(`safetensors: tensor ${name} has offsets [${begin}, ${end}] outside the data (${dataLen} bytes)`);
    }
    entries.set(name, { dtype: e.dtype, shape: e.shape, data_offsets: [begin, end] });
  }

  const entry = (name: string): SafetensorsEntry => {
    const e = entries.get(name);
    if (!e) throw new Error(`safetensors: no tensor named "${name}"`);
    return e;
  };

  const get = (name: string): Float32Array => {
    const e = entry(name);
    const count = e.shape.reduce((a, b) => a * b, 1);
    const [begin, end] = e.data_offsets;
    const raw = new DataView(bytes.buffer, bytes.byteOffset + dataStart + begin, end - begin);
    const bytesPer: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };
    const size = bytesPer[e.dtype];
    if (size === undefined) throw new Error(`safetensors: tensor ${name} has unsupported dtype ${e.dtype}`);
    if (end - begin !== count * size) {
      throw new Error(`safetensors: tensor ${name} holds ${end - begin} bytes, expected ${count * size}`);
    }
    const out = new Float32Array(count);
    switch (e.dtype) {
      case 'F32':
        for (let i = 0; i < count; i++) out[i] = raw.getFloat32(4 * i, true);
        break;
      case 'F16':
        for (let i = 0; i < count; i++) out[i] = f16BitsToNumber(raw.getUint16(2 * i, true));
        break;
      case 'BF16':
        for (let i = 0; i < count; i++) out[i] = bf16BitsToNumber(raw.getUint16(2 * i, true));
        break;
      case 'F64':
        for (let i = 0; i < count; i++) out[i] = raw.getFloat64(8 * i, true);
        break;
    }
    return out;
  };

  return {
    names: [...entries.keys()],
    entries,
    metadata,
    has: (name) => entries.has(name),
    shape: (name) => [...entry(name).shape],
    get,
  };
}

/** Reads and parses a .safetensors file from disk. */
export function readSafetensors(path: string): SafetensorsFile {
  return parseSafetensors(readFileSync(path));
}
