// Parses a GGUF file's header (llama.cpp's single-file model format, versions 2 and 3): metadata key/values of every
// value type (arrays included), tensor infos and the aligned data section. Pure: it reads through a ByteSource (a
// file descriptor in Node, bytes in memory in the webview), and every count, length, offset and size is checked
// against the file before anything is allocated for it, so a truncated or corrupt download fails with one line that
// names the file and what is wrong. Tensor data is not read here (gguf-weights.ts reads tensors one at a time).
//
// Written here rather than taken from @huggingface/gguf (0.4.6): that package reads the header through a growing
// chunk buffer meant for HTTP ranges, checks neither tensor extents nor sizes against the file, throws plain Errors,
// and brings @huggingface/tasks along; what we need on top of it (bounds checks, type sizes, lazy tensor reads) is
// most of the work anyway.
//
// Layout (little-endian): "GGUF" u32 version, u64 tensor count, u64 metadata count; metadata = key (u64 length +
// UTF-8) u32 type value; tensor infos = name, u32 n_dims, u64 dims[n_dims] (dims[0] is the contiguous one), u32
// ggml type, u64 offset relative to the data section; the data section starts at the next multiple of
// general.alignment (default 32) after the tensor infos.
import { LensError } from '../errors';

/** Random access to a file's bytes. read() returns exactly `length` bytes or throws. */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
}

export type GgufScalar = number | bigint | boolean | string;
export type GgufValue = GgufScalar | GgufValue[];

/** ggml tensor types: block size in elements and bytes per block (ggml.c type_traits). */
export interface GgmlType {
  name: string;
  blockSize: number;
  typeSize: number;
}

export const GGML_TYPES: Record<number, GgmlType> = {
  0: { name: 'F32', blockSize: 1, typeSize: 4 },
  1: { name: 'F16', blockSize: 1, typeSize: 2 },
  2: { name: 'Q4_0', blockSize: 32, typeSize: 18 },
  3: { name: 'Q4_1', blockSize: 32, typeSize: 20 },
  6: { name: 'Q5_0', blockSize: 32, typeSize: 22 },
  7: { name: 'Q5_1', blockSize: 32, typeSize: 24 },
  8: { name: 'Q8_0', blockSize: 32, typeSize: 34 },
  9: { name: 'Q8_1', blockSize: 32, typeSize: 40 },
  10: { name: 'Q2_K', blockSize: 256, typeSize: 84 },
  11: { name: 'Q3_K', blockSize: 256, typeSize: 110 },
  12: { name: 'Q4_K', blockSize: 256, typeSize: 144 },
  13: { name: 'Q5_K', blockSize: 256, typeSize: 176 },
  14: { name: 'Q6_K', blockSize: 256, typeSize: 210 },
  15: { name: 'Q8_K', blockSize: 256, typeSize: 292 },
  16: { name: 'IQ2_XXS', blockSize: 256, typeSize: 66 },
  17: { name: 'IQ2_XS', blockSize: 256, typeSize: 74 },
  18: { name: 'IQ3_XXS', blockSize: 256, typeSize: 98 },
  19: { name: 'IQ1_S', blockSize: 256, typeSize: 50 },
  20: { name: 'IQ4_NL', blockSize: 32, typeSize: 18 },
  21: { name: 'IQ3_S', blockSize: 256, typeSize: 110 },
  22: { name: 'IQ2_S', blockSize: 256, typeSize: 82 },
  23: { name: 'IQ4_XS', blockSize: 256, typeSize: 136 },
  24: { name: 'I8', blockSize: 1, typeSize: 1 },
  25: { name: 'I16', blockSize: 1, typeSize: 2 },
  26: { name: 'I32', blockSize: 1, typeSize: 4 },
  27: { name: 'I64', blockSize: 1, typeSize: 8 },
  28: { name: 'F64', blockSize: 1, typeSize: 8 },
  29: { name: 'IQ1_M', blockSize: 256, typeSize: 56 },
  30: { name: 'BF16', blockSize: 1, typeSize: 2 },
  34: { name: 'TQ1_0', blockSize: 256, typeSize: 54 },
  35: { name: 'TQ2_0', blockSize: 256, typeSize: 66 },
  39: { name: 'MXFP4', blockSize: 32, typeSize: 17 },
};

export interface GgufTensorInfo {
  name: string;
  /** GGUF order: dims[0] is the contiguous (row) dimension. */
  dims: number[];
  /** The HF/numpy shape: dims reversed (outermost first). */
  shape: number[];
  type: number;
  typeName: string;
  /** Absolute byte range in the file, [begin, end). */
  begin: number;
  end: number;
}

export interface GgufHeader {
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
  alignment: number;
  dataStart: number;
  fileSize: number;
}

/** A CORRUPT_WEIGHTS error about the GGUF file `label`. */
export function corruptGguf(label: string, problem: string): LensError {
  return new LensError('CORRUPT_WEIGHTS', `${label} ${problem} — re-download the file.`);
}

const MAX_DIMS = 4; // GGML_MAX_DIMS
// llama.cpp refuses tensor names of GGML_MAX_NAME (64) bytes or more; keys have no limit there, and real ones are
// short dotted names (`tokenizer.ggml.pre`), so 256 bytes leaves room without letting a corrupt length through.
const MAX_NAME_BYTES = 63;
const MAX_KEY_BYTES = 256;
const MAX_ARRAY_DEPTH = 4;
const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Minimal bytes one element of a metadata value type takes (for the "fits in the file" check before allocation). */
function minSize(type: number): number {
  switch (type) {
    case 0:
    case 1:
    case 7:
      return 1;
    case 2:
    case 3:
      return 2;
    case 4:
    case 5:
    case 6:
      return 4;
    case 8:
      return 8; // u64 length
    case 9:
      return 12; // u32 type + u64 count
    default:
      return 8;
  }
}

/** A forward reader over a ByteSource that reads ahead in chunks (the header is many small fields). */
class Cursor {
  pos = 0;
  private buf: Uint8Array = new Uint8Array(0);
  private view = new DataView(this.buf.buffer);
  private bufStart = 0;

  constructor(
    private readonly src: ByteSource,
    private readonly label: string,
  ) {}

  get left(): number {
    return this.src.size - this.pos;
  }

  /** Makes [pos, pos+n) available in the buffer; fails as truncation when the file ends first. */
  private need(n: number, what: string): number {
    if (n > this.left)
      throw corruptGguf(
        this.label,
        `is truncated: ${what} at byte ${this.pos} needs ${n} bytes, ${this.left} are left`,
      );
    const rel = this.pos - this.bufStart;
    if (rel >= 0 && rel + n <= this.buf.length) return rel;
    const length = Math.min(this.left, Math.max(n, 1 << 20));
    this.buf = this.src.read(this.pos, length);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.bufStart = this.pos;
    return 0;
  }

  u8(what: string): number {
    const r = this.need(1, what);
    this.pos += 1;
    return this.view.getUint8(r);
  }
  u32(what: string): number {
    const r = this.need(4, what);
    this.pos += 4;
    return this.view.getUint32(r, true);
  }
  /** A u64 that must be a safe integer (counts, lengths, offsets, dims). */
  u64(what: string): number {
    const r = this.need(8, what);
    this.pos += 8;
    const v = this.view.getBigUint64(r, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corruptGguf(this.label, `has an impossible ${what} (${v})`);
    return Number(v);
  }
  value(type: number, what: string, depth = 0): GgufValue {
    let r: number;
    switch (type) {
      case 0:
        return this.u8(what);
      case 1:
        r = this.need(1, what);
        this.pos += 1;
        return this.view.getInt8(r);
      case 2:
        r = this.need(2, what);
        this.pos += 2;
        return this.view.getUint16(r, true);
      case 3:
        r = this.need(2, what);
        this.pos += 2;
        return this.view.getInt16(r, true);
      case 4:
        return this.u32(what);
      case 5:
        r = this.need(4, what);
        this.pos += 4;
        return this.view.getInt32(r, true);
      case 6:
        r = this.need(4, what);
        this.pos += 4;
        return this.view.getFloat32(r, true);
      case 7: {
        const b = this.u8(what);
        if (b > 1) throw corruptGguf(this.label, `has a boolean ${what} of value ${b}`);
        return b === 1;
      }
      case 8:
        return this.string(what);
      case 9: {
        if (depth >= MAX_ARRAY_DEPTH) throw corruptGguf(this.label, `nests arrays too deeply in ${what}`);
        const elemType = this.u32(what);
        if (!isValueType(elemType)) throw corruptGguf(this.label, `has an array ${what} of unknown type ${elemType}`);
        const count = this.u64(`${what} length`);
        if (count * minSize(elemType) > this.left)
          throw corruptGguf(this.label, `declares ${count} elements in ${what}, more than the file holds`);
        const out: GgufValue[] = new Array<GgufValue>(count);
        for (let i = 0; i < count; i++) out[i] = this.value(elemType, what, depth + 1);
        return out;
      }
      case 10: {
        r = this.need(8, what);
        this.pos += 8;
        const v = this.view.getBigUint64(r, true);
        return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
      }
      case 11: {
        r = this.need(8, what);
        this.pos += 8;
        const v = this.view.getBigInt64(r, true);
        return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
      }
      case 12:
        r = this.need(8, what);
        this.pos += 8;
        return this.view.getFloat64(r, true);
      default:
        throw corruptGguf(this.label, `has ${what} of unknown value type ${type}`);
    }
  }
  string(what: string): string {
    return this.text(this.u64(`${what} length`), what);
  }
  /** The next n bytes as UTF-8 text. */
  private text(n: number, what: string): string {
    const r = this.need(n, what);
    this.pos += n;
    return utf8.decode(this.buf.subarray(r, r + n));
  }
  /**
   * A metadata key or tensor name: printable and at most `max` bytes, or the file is corrupt. The name goes into
   * later messages and lookups; a mutated length read as a name would put the file's bytes (line breaks included)
   * into a one-line message.
   */
  name(what: string, max: number): string {
    const at = this.pos;
    const n = this.u64(`${what} length`);
    if (n > max) throw corruptGguf(this.label, `has a ${what} of ${n} bytes at byte ${at} (at most ${max})`);
    const s = this.text(n, what);
    // C0 and C1 control characters, and U+FFFD: bytes that were not UTF-8.
    if (/[\p{Cc}\ufffd]/u.test(s))
      throw corruptGguf(this.label, `has a ${what} at byte ${at} that is not printable text`);
    return s;
  }
}

/** A metadata value's kind, for "wrong type" messages. */
export function typeName(v: GgufValue): string {
  if (Array.isArray(v)) return v.length ? 'an array' : 'an empty array';
  if (typeof v === 'bigint') return 'an integer';
  return `a ${typeof v}`;
}

function isValueType(t: number): boolean {
  return Number.isInteger(t) && t >= 0 && t <= 12;
}

/** Reads and validates the header of a GGUF file; `label` names it in messages (its base name). */
export function parseGgufHeader(label: string, src: ByteSource): GgufHeader {
  const fileSize = src.size;
  if (fileSize < 24) throw corruptGguf(label, `is ${fileSize} bytes long, too short for a GGUF header`);
  const c = new Cursor(src, label);
  const magic = c.u32('magic');
  if (magic !== 0x46554747) throw corruptGguf(label, 'does not start with "GGUF"; it is not a GGUF file');
  const version = c.u32('version');
  if (version === 1)
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `${label} is a GGUF version 1 file (2023); only versions 2 and 3 can be read — convert it again with a current llama.cpp.`,
    );
  if (version === 0x02000000 || version === 0x03000000)
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `${label} is a big-endian GGUF file; only little-endian files can be read.`,
    );
  if (version !== 2 && version !== 3)
    throw corruptGguf(label, `has GGUF version ${version}; only versions 2 and 3 exist`);
  const tensorCount = c.u64('tensor count');
  const kvCount = c.u64('metadata count');
  // Each metadata entry takes at least 8 (key length) + 4 (type) + 1 bytes, each tensor info at least 8 + 4 + 4 + 8.
  if (kvCount * 13 + tensorCount * 24 > c.left)
    throw corruptGguf(
      label,
      `declares ${kvCount} metadata entries and ${tensorCount} tensors, more than the file holds`,
    );

  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = c.name(`metadata key ${i + 1}`, MAX_KEY_BYTES);
    const type = c.u32(`type of ${key}`);
    if (!isValueType(type)) throw corruptGguf(label, `has metadata ${key} of unknown value type ${type}`);
    if (metadata.has(key)) throw corruptGguf(label, `has the metadata key ${key} twice`);
    metadata.set(key, c.value(type, key));
  }

  let alignment = 32;
  const al = metadata.get('general.alignment');
  if (al !== undefined) {
    if (typeof al !== 'number' && typeof al !== 'bigint')
      throw corruptGguf(label, `has general.alignment of the wrong type (expected an integer, found ${typeName(al)})`);
    // BigInt: JavaScript's bitwise operators work on 32 bits, and a u64 alignment of 3·2^32 passed `al & (al - 1)`.
    const big = typeof al === 'bigint' ? al : Number.isInteger(al) ? BigInt(al) : 0n;
    if (big <= 0n || (big & (big - 1n)) !== 0n)
      throw corruptGguf(label, `has general.alignment ${String(al)}, which is not a power of two`);
    // Tensor data starts at a multiple of the alignment after the header: one larger than the file puts it outside.
    if (tensorCount > 0 && big > BigInt(fileSize))
      throw corruptGguf(label, `has general.alignment ${String(al)}, larger than the file (${fileSize} bytes)`);
    alignment = Number(big);
  }

  const raw: { name: string; dims: number[]; type: number; offset: number }[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const name = c.name(`tensor name ${i + 1}`, MAX_NAME_BYTES);
    if (names.has(name)) throw corruptGguf(label, `has the tensor ${name} twice`);
    names.add(name);
    const nDims = c.u32(`dimension count of ${name}`);
    if (nDims < 1 || nDims > MAX_DIMS) throw corruptGguf(label, `has tensor ${name} with ${nDims} dimensions`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(c.u64(`dimension ${d} of ${name}`));
    const type = c.u32(`type of ${name}`);
    const offset = c.u64(`offset of ${name}`);
    raw.push({ name, dims, type, offset });
  }
  const dataStart = Math.ceil(c.pos / alignment) * alignment;
  const dataLen = fileSize - dataStart;
  if (tensorCount > 0 && dataLen < 0) throw corruptGguf(label, 'is truncated: it ends before its tensor data');

  const tensors: GgufTensorInfo[] = raw.map(({ name, dims, type, offset }) => {
    const t = GGML_TYPES[type];
    const typeName = t?.name ?? `type ${type}`;
    const count = dims.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(count)) throw corruptGguf(label, `has tensor ${name} with impossible dimensions`);
    if (offset % alignment !== 0)
      throw corruptGguf(label, `has tensor ${name} at offset ${offset}, not a multiple of the alignment ${alignment}`);
    let bytes = 0;
    if (t) {
      if (dims[0] % t.blockSize !== 0)
        throw corruptGguf(
          label,
          `has ${t.name} tensor ${name} whose rows (${dims[0]}) are not whole ${t.blockSize}-element blocks`,
        );
      bytes = (count / t.blockSize) * t.typeSize;
      if (offset + bytes > dataLen)
        throw corruptGguf(
          label,
          `is truncated: tensor ${name} ends at byte ${dataStart + offset + bytes} but the file has ${fileSize} bytes`,
        );
    }
    return {
      name,
      dims,
      shape: dims.slice().reverse(),
      type,
      typeName,
      begin: dataStart + offset,
      end: dataStart + offset + bytes,
    };
  });
  const sorted = tensors.filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i].begin < sorted[i - 1].end)
      throw corruptGguf(label, `has overlapping tensors ${sorted[i - 1].name} and ${sorted[i].name}`);
  return { version, metadata, tensors, alignment, dataStart, fileSize };
}

/** A ByteSource over bytes already in memory. */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.byteLength,
    read: (offset, length) => {
      if (offset < 0 || offset + length > bytes.byteLength) throw new RangeError('read past the end');
      return bytes.subarray(offset, offset + length);
    },
  };
}

/** Typed metadata access with messages that name the file and the key. */
export class GgufMeta {
  constructor(
    readonly header: GgufHeader,
    readonly label: string,
  ) {}

  has(key: string): boolean {
    return this.header.metadata.has(key);
  }
  get(key: string): GgufValue | undefined {
    return this.header.metadata.get(key);
  }
  str(key: string): string | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw corruptGguf(this.label, `has ${key} of the wrong type (expected a string)`);
    return v;
  }
  num(key: string): number | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw corruptGguf(this.label, `has ${key} of the wrong type (expected a number)`);
    return v;
  }
  bool(key: string): boolean | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') throw corruptGguf(this.label, `has ${key} of the wrong type (expected true/false)`);
    return v;
  }
  strings(key: string): string[] | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
      throw corruptGguf(this.label, `has ${key} of the wrong type (expected an array of strings)`);
    return v as string[];
  }
  numbers(key: string): number[] | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number'))
      throw corruptGguf(this.label, `has ${key} of the wrong type (expected an array of numbers)`);
    return v as number[];
  }
}
