// Reads Hugging Face .safetensors weights (one file, or shards listed in model.safetensors.index.json) into float32
// arrays for the graph builders. Every header is validated before any tensor memory is allocated, so a truncated or
// corrupt download fails with one clear message instead of a crash deep inside onnxruntime. Tensors are read lazily,
// one at a time, at their file offsets: a model never needs twice its size in memory.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LensError } from '../errors';

/** Named float32 tensors with shapes. */
export interface WeightStore {
  names(): string[];
  has(name: string): boolean;
  shape(name: string): number[];
  /** The tensor as float32 (F16/BF16/F64 converted; F16 and BF16 exactly). A fresh array the caller may keep. */
  get(name: string): Float32Array;
}

/** Bytes per element of every dtype the safetensors format defines. */
const DTYPE_SIZE: Record<string, number> = {
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
};

/** The dtypes get() converts to float32. */
const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

const MAX_HEADER_BYTES = 100 * 1024 * 1024;

interface Entry {
  name: string;
  file: string;
  dtype: string;
  shape: number[];
  /** Absolute byte offsets in the file, [begin, end). */
  begin: number;
  end: number;
}

function corrupt(file: string, problem: string): LensError {
  return new LensError('CORRUPT_WEIGHTS', `${path.basename(file)} ${problem} — re-download the file.`);
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Reads and validates one file's header; allocates nothing beyond the header itself. */
function readHeader(file: string): Entry[] {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new LensError('NO_WEIGHTS', `Cannot open ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size < 8) throw corrupt(file, `is ${size} bytes long, too short for a safetensors header`);
    const lenBuf = Buffer.alloc(8);
    fs.readSync(fd, lenBuf, 0, 8, 0);
    const headerLen = lenBuf.readBigUInt64LE(0);
    if (headerLen > BigInt(MAX_HEADER_BYTES))
      throw corrupt(
        file,
        `declares a header of ${headerLen} bytes (more than ${MAX_HEADER_BYTES}); not a safetensors file`,
      );
    const n = Number(headerLen);
    if (n > size - 8)
      throw corrupt(file, `declares a header of ${n} bytes but the file has only ${size - 8} bytes after the length`);
    const headerBuf = Buffer.alloc(n);
    fs.readSync(fd, headerBuf, 0, n, 8);
    let header: unknown;
    try {
      header = JSON.parse(headerBuf.toString('utf8'));
    } catch (e) {
      throw corrupt(file, `has an invalid JSON header (${(e as Error).message.split('\n')[0]})`);
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header))
      throw corrupt(file, 'has a header that is not a JSON object');
    const dataStart = 8 + n;
    const dataLen = size - dataStart;
    const entries: Entry[] = [];
    for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
      if (name === '__metadata__') continue;
      const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (typeof t !== 'object' || t === null) throw corrupt(file, `has a malformed header entry for tensor ${name}`);
      if (typeof t.dtype !== 'string' || !(t.dtype in DTYPE_SIZE))
        throw corrupt(file, `has tensor ${name} with unknown dtype ${JSON.stringify(t.dtype)}`);
      if (!Array.isArray(t.shape) || !t.shape.every(isNonNegInt))
        throw corrupt(file, `has tensor ${name} with an invalid shape ${JSON.stringify(t.shape)}`);
      const off = t.data_offsets;
      if (!Array.isArray(off) || off.length !== 2 || !isNonNegInt(off[0]) || !isNonNegInt(off[1]) || off[1] < off[0])
        throw corrupt(file, `has tensor ${name} with invalid data_offsets ${JSON.stringify(off)}`);
      const shape = t.shape as number[];
      const count = shape.reduce((a, b) => a * b, 1);
      const expected = count * DTYPE_SIZE[t.dtype];
      const [b, e] = off as [number, number];
      if (e - b !== expected)
        throw corrupt(
          file,
          `has tensor ${name} of ${e - b} bytes, but its shape [${shape.join(', ')}] × ${t.dtype} needs ${expected} bytes`,
        );
      if (e > dataLen)
        throw corrupt(file, `is truncated: tensor ${name} ends at byte ${e} but the data section has ${dataLen} bytes`);
      entries.push({ name, file, dtype: t.dtype, shape: shape.slice(), begin: dataStart + b, end: dataStart + e });
    }
    const sorted = entries.slice().sort((x, y) => x.begin - y.begin || x.end - y.end);
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1];
      const cur = sorted[i];
      if (cur.begin < prev.end && cur.end > cur.begin && prev.end > prev.begin) {
        const at = (en: Entry) => `${en.name} (bytes ${en.begin - dataStart}..${en.end - dataStart})`;
        throw corrupt(file, `has overlapping tensors ${at(prev)} and ${at(cur)}`);
      }
    }
    return entries;
  } finally {
    fs.closeSync(fd);
  }
}

let halfTable: Float32Array | undefined;

/** Every IEEE half-precision bit pattern as float32 (exact: float32 represents every half value). */
function halfToFloatTable(): Float32Array {
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

function readTensor(name: string, en: Entry): Float32Array {
  if (!FLOAT_DTYPES.has(en.dtype))
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `Tensor ${name} in ${path.basename(en.file)} has dtype ${en.dtype}; only F32, F16, BF16 and F64 weights can be used.`,
    );
  const bytes = en.end - en.begin;
  const count = bytes / DTYPE_SIZE[en.dtype];
  const out = new Float32Array(count);
  // F32 is read straight into the result; the others through a scratch buffer of their own size.
  const target = en.dtype === 'F32' ? new Uint8Array(out.buffer) : new Uint8Array(bytes);
  const fd = fs.openSync(en.file, 'r');
  try {
    let done = 0;
    while (done < bytes) {
      const got = fs.readSync(fd, target, done, Math.min(bytes - done, 1 << 30), en.begin + done);
      if (got === 0) throw corrupt(en.file, `is truncated: tensor ${name} could not be read completely`);
      done += got;
    }
  } finally {
    fs.closeSync(fd);
  }
  if (en.dtype === 'F16') {
    const table = halfToFloatTable();
    const src = new Uint16Array(target.buffer, 0, count);
    for (let i = 0; i < count; i++) out[i] = table[src[i]];
  } else if (en.dtype === 'BF16') {
    const src = new Uint16Array(target.buffer, 0, count);
    const dst = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) dst[i] = src[i] << 16;
  } else if (en.dtype === 'F64') {
    const src = new Float64Array(target.buffer, 0, count);
    for (let i = 0; i < count; i++) out[i] = src[i];
  }
  return out;
}

function storeOf(entries: Map<string, Entry>): WeightStore {
  const entry = (name: string): Entry => {
    const en = entries.get(name);
    if (!en) throw new LensError('SHAPE_MISMATCH', `The weights have no tensor named ${name}.`);
    return en;
  };
  return {
    names: () => [...entries.keys()],
    has: (name) => entries.has(name),
    shape: (name) => entry(name).shape.slice(),
    get: (name) => readTensor(name, entry(name)),
  };
}

function exists(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Opens the weights of a Hugging Face model folder: model.safetensors, or shards via model.safetensors.index.json. */
export async function openWeights(dir: string): Promise<WeightStore> {
  const single = path.join(dir, 'model.safetensors');
  const index = path.join(dir, 'model.safetensors.index.json');
  const entries = new Map<string, Entry>();
  if (exists(single)) {
    for (const en of readHeader(single)) entries.set(en.name, en);
    return storeOf(entries);
  }
  if (exists(index)) {
    let weightMap: Record<string, unknown>;
    try {
      const json = JSON.parse(fs.readFileSync(index, 'utf8')) as { weight_map?: unknown };
      if (typeof json.weight_map !== 'object' || json.weight_map === null) throw new Error('no "weight_map" object');
      weightMap = json.weight_map as Record<string, unknown>;
    } catch (e) {
      throw corrupt(index, `is not a valid shard index (${(e as Error).message.split('\n')[0]})`);
    }
    const shards = new Map<string, Map<string, Entry>>();
    for (const [name, shard] of Object.entries(weightMap)) {
      if (typeof shard !== 'string' || shard.includes('..') || path.isAbsolute(shard))
        throw corrupt(index, `maps tensor ${name} to an invalid shard ${JSON.stringify(shard)}`);
      let inShard = shards.get(shard);
      if (!inShard) {
        const file = path.join(dir, shard);
        if (!exists(file))
          throw new LensError(
            'NO_WEIGHTS',
            `Shard ${shard} listed in model.safetensors.index.json is missing from ${dir} — download it.`,
          );
        inShard = new Map(readHeader(file).map((en) => [en.name, en]));
        shards.set(shard, inShard);
      }
      const en = inShard.get(name);
      if (!en)
        throw corrupt(path.join(dir, shard), `lacks tensor ${name}, which model.safetensors.index.json places there`);
      entries.set(name, en);
    }
    return storeOf(entries);
  }
  let listing: string[] = [];
  try {
    listing = fs.readdirSync(dir);
  } catch {
    // reported below
  }
  const pt = listing.find((f) => /^pytorch_model.*\.bin$/.test(f) || f.endsWith('.pt') || f.endsWith('.pth'));
  throw new LensError(
    'NO_WEIGHTS',
    `No weights in ${dir}: looked for model.safetensors and model.safetensors.index.json.` +
      (pt
        ? ` Found ${pt}: convert it to safetensors first (pytorch_model.bin cannot be read without Python).`
        : ' A pytorch_model.bin must be converted to model.safetensors first.'),
  );
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
