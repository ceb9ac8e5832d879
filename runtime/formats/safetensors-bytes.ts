// The pure half of the safetensors reader: header validation, dtype conversion to float32, and WeightStores over bytes
// already in memory. No Node imports: safetensors.ts reads files with node:fs through these functions, and the
// panel's webview worker reads the ArrayBuffers it was handed (fetched from the model folder). Every header is
// validated before any tensor memory is allocated, so a truncated or corrupt download fails with one clear message.
//
// File layout: [u64 LE header length n][n bytes of JSON header][data]; header entries give dtype, shape and
// data_offsets [begin, end) relative to the start of the data section.
import { LensError, quoted } from '../errors';
import { checkWeightFinite } from '../finite';

/** Named float32 tensors with shapes. */
export interface WeightStore {
  names(): string[];
  has(name: string): boolean;
  shape(name: string): number[];
  /** The tensor as float32 (F16/BF16/F64 converted; F16 and BF16 exactly). A fresh array the caller may keep. */
  get(name: string): Float32Array;
}

/** Bytes per element of every dtype the safetensors format defines. */
export const DTYPE_SIZE: Record<string, number> = Object.assign(Object.create(null) as Record<string, number>, {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
});
// A null-prototype table: a dtype string from a file ("toString", "constructor", "__proto__") finds nothing here,
// wherever it is indexed (parseHeader also asks Object.hasOwn).

/** The dtypes decodeFloat32() converts to float32. */
const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** One tensor of a validated header. */
export interface HeaderEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Absolute byte offsets in the file, [begin, end). */
  begin: number;
  end: number;
}

/** A CORRUPT_WEIGHTS error about the file `label` (its base name). */
export function corrupt(label: string, problem: string): LensError {
  return new LensError('CORRUPT_WEIGHTS', `${label} ${problem} — re-download the file.`);
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Checks the declared header length against the file size; returns it as a number. */
export function checkHeaderLength(label: string, fileSize: number, headerLen: bigint): number {
  if (fileSize < 8) throw corrupt(label, `is ${fileSize} bytes long, too short for a safetensors header`);
  if (headerLen > BigInt(MAX_HEADER_BYTES))
    throw corrupt(
      label,
      `declares a header of ${headerLen} bytes (more than ${MAX_HEADER_BYTES}); not a safetensors file`,
    );
  const n = Number(headerLen);
  if (n > fileSize - 8)
    throw corrupt(
      label,
      `declares a header of ${n} bytes but the file has only ${fileSize - 8} bytes after the length`,
    );
  return n;
}

/** Validates a header's JSON text (n bytes, after the 8-byte length) against the file size; returns its tensors. */
export function parseHeader(label: string, headerText: string, headerLen: number, fileSize: number): HeaderEntry[] {
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch (e) {
    throw corrupt(label, `has an invalid JSON header (${(e as Error).message.split('\n')[0]})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw corrupt(label, 'has a header that is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = fileSize - dataStart;
  const entries: HeaderEntry[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof t !== 'object' || t === null || Array.isArray(t))
      throw corrupt(
        label,
        `has a malformed header entry for tensor ${name} (${Array.isArray(t) ? 'an array' : t === null ? 'null' : `a ${typeof t}`}, not an object with dtype, shape and data_offsets)`,
      );
    if (typeof t.dtype !== 'string' || !Object.hasOwn(DTYPE_SIZE, t.dtype))
      throw corrupt(label, `has tensor ${name} with unknown dtype ${quoted(t.dtype)}`);
    if (!Array.isArray(t.shape) || !t.shape.every(isNonNegInt))
      throw corrupt(label, `has tensor ${name} with an invalid shape ${quoted(t.shape)}`);
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !isNonNegInt(off[0]) || !isNonNegInt(off[1]) || off[1] < off[0])
      throw corrupt(label, `has tensor ${name} with invalid data_offsets ${quoted(off)}`);
    const shape = t.shape as number[];
    const count = shape.reduce((a, b) => a * b, 1);
    const expected = count * DTYPE_SIZE[t.dtype];
    const [b, e] = off as [number, number];
    if (e - b !== expected)
      throw corrupt(
        label,
        `has tensor ${name} of ${e - b} bytes, but its shape [${shape.join(', ')}] × ${t.dtype} needs ${expected} bytes`,
      );
    if (e > dataLen)
      throw corrupt(label, `is truncated: tensor ${name} ends at byte ${e} but the data section has ${dataLen} bytes`);
    entries.push({ name, dtype: t.dtype, shape: shape.slice(), begin: dataStart + b, end: dataStart + e });
  }
  const sorted = entries.slice().sort((x, y) => x.begin - y.begin || x.end - y.end);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (cur.begin < prev.end && cur.end > cur.begin && prev.end > prev.begin) {
      const at = (en: HeaderEntry) => `${en.name} (bytes ${en.begin - dataStart}..${en.end - dataStart})`;
      throw corrupt(label, `has overlapping tensors ${at(prev)} and ${at(cur)}`);
    }
  }
  return entries;
}

/** Fails unless the tensor's dtype converts to float32. */
export function checkFloatDtype(label: string, en: HeaderEntry): void {
  if (!FLOAT_DTYPES.has(en.dtype))
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `Tensor ${en.name} in ${label} has dtype ${en.dtype}; only F32, F16, BF16 and F64 weights can be used.`,
    );
}

let halfTable: Float32Array | undefined;

/** Every IEEE half-precision bit pattern as float32 (exact: float32 represents every half value). */
export function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    let v: number;
    if (exp === 0) v = mant * 2 ** -24;
    else if (exp === 31) v = mant ? NaN : Infinity;
    else v = (1 + mant / 1024) * 2 ** (exp - 15);
    t[h] = sign * v;
  }
  halfTable = t;
  return t;
}

/**
 * Converts a tensor's raw bytes to float32 in `out` (length = element count). `raw` holds the tensor's bytes; for F32
 * callers may read straight into `out`'s bytes and skip this call.
 */
export function decodeInto(dtype: string, raw: Uint8Array, out: Float32Array): void {
  const count = out.length;
  if (dtype === 'F32') {
    new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(raw.subarray(0, count * 4));
    return;
  }
  // Typed views need aligned offsets: copy to an aligned scratch buffer when `raw` is not (a new Uint8Array, not
  // slice(): a Node Buffer's slice() is a view at the same offset).
  const aligned = raw.byteOffset % 8 === 0 ? raw : new Uint8Array(raw);
  if (dtype === 'F16') {
    const table = halfToFloatTable();
    const src = new Uint16Array(aligned.buffer, aligned.byteOffset, count);
    for (let i = 0; i < count; i++) out[i] = table[src[i]];
  } else if (dtype === 'BF16') {
    const src = new Uint16Array(aligned.buffer, aligned.byteOffset, count);
    const dst = new Uint32Array(out.buffer, out.byteOffset, count);
    for (let i = 0; i < count; i++) dst[i] = src[i] << 16;
  } else if (dtype === 'F64') {
    const src = new Float64Array(aligned.buffer, aligned.byteOffset, count);
    for (let i = 0; i < count; i++) out[i] = src[i];
  } else {
    throw new LensError('UNSUPPORTED_MODEL', `dtype ${dtype} cannot be converted to float32.`);
  }
}

/** A WeightStore over (name → entry, reader) pairs; `read` returns a tensor's float32 values. */
export function storeOf<E extends HeaderEntry>(entries: Map<string, E>, read: (en: E) => Float32Array): WeightStore {
  const entry = (name: string): E => {
    const en = entries.get(name);
    if (!en) throw new LensError('SHAPE_MISMATCH', `The weights have no tensor named ${name}.`);
    return en;
  };
  return {
    names: () => [...entries.keys()],
    has: (name) => entries.has(name),
    shape: (name) => entry(name).shape.slice(),
    // Every tensor is checked for NaN / ±Infinity as it is read, so a broken checkpoint fails at load naming the
    // tensor instead of showing NaN attention (~10 ms for all-MiniLM-L6-v2's 22.7 M weights).
    get: (name) => {
      const data = read(entry(name));
      checkWeightFinite(name, data);
      return data;
    },
  };
}

/** The validated tensors of one safetensors file held in memory. */
export function entriesOfBytes(label: string, bytes: Uint8Array): HeaderEntry[] {
  const size = bytes.byteLength;
  if (size < 8) checkHeaderLength(label, size, 0n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = checkHeaderLength(label, size, view.getBigUint64(0, true));
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  return parseHeader(label, text, n, size);
}

/** The weight_map of a model.safetensors.index.json (tensor → shard file name), validated. */
export function parseShardIndex(text: string, label = 'model.safetensors.index.json'): Record<string, string> {
  let weightMap: Record<string, unknown>;
  try {
    const json = JSON.parse(text) as { weight_map?: unknown };
    if (typeof json.weight_map !== 'object' || json.weight_map === null) throw new Error('no "weight_map" object');
    weightMap = json.weight_map as Record<string, unknown>;
  } catch (e) {
    throw corrupt(label, `is not a valid shard index (${(e as Error).message.split('\n')[0]})`);
  }
  for (const [name, shard] of Object.entries(weightMap)) {
    if (typeof shard !== 'string' || shard.includes('..') || shard.startsWith('/') || shard.includes('\\'))
      throw corrupt(label, `maps tensor ${name} to an invalid shard ${quoted(shard)}`);
  }
  return weightMap as Record<string, string>;
}

/** A WeightStore over tensors already in memory (synthetic models, tests). Shapes are checked against lengths. */
export function memoryWeights(tensors: Record<string, { shape: number[]; data: Float32Array }>): WeightStore {
  const map = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of Object.entries(tensors)) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length)
      throw new LensError(
        'SHAPE_MISMATCH',
        `In-memory tensor ${name} has ${t.data.length} values but shape [${t.shape.join(', ')}].`,
      );
    map.set(name, { shape: t.shape.slice(), data: t.data });
  }
  const entry = (name: string) => {
    const t = map.get(name);
    if (!t) throw new LensError('SHAPE_MISMATCH', `The weights have no tensor named ${name}.`);
    return t;
  };
  return {
    names: () => [...map.keys()],
    has: (name) => map.has(name),
    shape: (name) => entry(name).shape.slice(),
    // Returned as is, without a copy: builders treat weights as read-only.
    get: (name) => entry(name).data,
  };
}
