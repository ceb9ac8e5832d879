// Reads PyTorch checkpoints (pytorch_model.bin and its shards) for the same WeightStore the safetensors reader gives:
// many Hub repositories ship only these (Helsinki-NLP's opus-mt models among them). Both layouts torch.save writes are
// read: the zip archive of PyTorch ≥ 1.6 (data.pkl plus one stored, uncompressed entry per storage) and the older
// sequence of pickles followed by the raw storages. Only the pickle is parsed up front (torch-pickle.ts: no code is
// run); each tensor is read later at its offset, like a safetensors tensor, so a model never needs twice its size.
// Pure over a ByteSource (no file system): safetensors.ts gives it files, the webview's worker bytes in memory.
import { LensError } from '../errors';
import { checkFloatDtype, corrupt, decodeInto, DTYPE_SIZE, type HeaderEntry } from './safetensors-bytes';
import { PyDict, unpickle, type StorageRef, type TensorRef } from './torch-pickle';

/** Random access to a file's bytes; `label` (its base name) names it in errors. */
export interface ByteSource {
  label: string;
  size: number;
  read(offset: number, length: number): Uint8Array;
  /** read() returns a new buffer of its own (a file read), which a float32 tensor may then be a view of. */
  fresh?: boolean;
}

/** A tensor of a checkpoint: the bytes [begin, end) of the file hold the elements its view reaches. */
export interface TorchEntry extends HeaderEntry {
  /** Element strides within the bytes read (row-major when `contiguous`). */
  stride: number[];
  contiguous: boolean;
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

/** The bytes of a file in memory as a ByteSource. */
export function memorySource(label: string, bytes: Uint8Array): ByteSource {
  return {
    label,
    size: bytes.byteLength,
    read(offset, length) {
      if (offset < 0 || offset + length > bytes.byteLength)
        throw corrupt(label, 'is truncated: a part it points to lies past its end');
      return bytes.subarray(offset, offset + length);
    },
  };
}

const u16 = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8);
const u32 = (b: Uint8Array, at: number) => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
function u64(b: Uint8Array, at: number, label: string): number {
  const v = u32(b, at) + u32(b, at + 4) * 2 ** 32;
  if (!Number.isSafeInteger(v)) throw corrupt(label, 'has a size past 2^53');
  return v;
}

/** A stored (uncompressed) zip member: where its bytes start and how many there are. */
interface ZipMember {
  start: number;
  size: number;
}

/** The members of a zip archive, from its central directory (zip64 too); only stored members are readable. */
function zipMembers(src: ByteSource): Map<string, ZipMember & { method: number }> {
  const label = src.label;
  const tailLength = Math.min(src.size, 22 + 65535);
  const tail = src.read(src.size - tailLength, tailLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--)
    if (u32(tail, i) === 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd < 0) throw corrupt(label, 'is a zip archive without its directory (truncated?)');
  let count = u16(tail, eocd + 10);
  let cdSize = u32(tail, eocd + 12);
  let cdOffset = u32(tail, eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locAt = src.size - tailLength + eocd - 20;
    const loc = src.read(locAt, 20);
    if (u32(loc, 0) !== 0x07064b50) throw corrupt(label, 'is a zip64 archive without its locator');
    const z = src.read(u64(loc, 8, label), 56);
    if (u32(z, 0) !== 0x06064b50) throw corrupt(label, 'is a zip64 archive without its directory record');
    count = u64(z, 32, label);
    cdSize = u64(z, 40, label);
    cdOffset = u64(z, 48, label);
  }
  const cd = src.read(cdOffset, cdSize);
  const out = new Map<string, ZipMember & { method: number }>();
  let at = 0;
  const decoder = new TextDecoder();
  for (let e = 0; e < count; e++) {
    if (at + 46 > cd.length || u32(cd, at) !== 0x02014b50) throw corrupt(label, 'has a damaged zip directory');
    const method = u16(cd, at + 10);
    let size = u32(cd, at + 20);
    let local = u32(cd, at + 42);
    const nameLength = u16(cd, at + 28);
    const extraLength = u16(cd, at + 30);
    const commentLength = u16(cd, at + 32);
    const name = decoder.decode(cd.subarray(at + 46, at + 46 + nameLength));
    // zip64 extra field: the 64-bit values of the fields saturated at 0xffffffff, in this order.
    let x = at + 46 + nameLength;
    const xEnd = x + extraLength;
    while (x + 4 <= xEnd) {
      const id = u16(cd, x);
      const len = u16(cd, x + 2);
      if (id === 1) {
        let f = x + 4;
        if (u32(cd, at + 24) === 0xffffffff) f += 8; // uncompressed size
        if (size === 0xffffffff) {
          size = u64(cd, f, label);
          f += 8;
        }
        if (local === 0xffffffff) local = u64(cd, f, label);
      }
      x += 4 + len;
    }
    const header = src.read(local, 30);
    if (u32(header, 0) !== 0x04034b50) throw corrupt(label, `has a damaged zip entry for ${name}`);
    out.set(name, { method, start: local + 30 + u16(header, 26) + u16(header, 28), size });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return out;
}

/** The state dict's tensors by name (a top-level dict, or one under "state_dict" / "model"). */
function tensorsOf(value: unknown, label: string): Map<string, TensorRef> {
  let dict = value instanceof PyDict ? value : undefined;
  for (const key of ['state_dict', 'model'])
    if (dict && dict.items.get(key) instanceof PyDict && ![...dict.items.values()].some(isTensor))
      dict = dict.items.get(key) as PyDict;
  if (!dict) throw corrupt(label, 'holds no dict of tensors (it is not a state dict)');
  const out = new Map<string, TensorRef>();
  for (const [k, v] of dict.items) if (typeof k === 'string' && isTensor(v)) out.set(k, v);
  if (out.size === 0) throw corrupt(label, 'holds a dict without tensors (it is not a state dict)');
  return out;
}

const isTensor = (v: unknown): v is TensorRef => (v as TensorRef)?.kind === 'tensor';

/** The entries of every tensor, given where each storage's bytes start in the file. */
function entriesOf(
  label: string,
  tensors: Map<string, TensorRef>,
  storageAt: (s: StorageRef) => { start: number; bytes: number },
): TorchEntry[] {
  const out: TorchEntry[] = [];
  for (const [name, t] of tensors) {
    const es = DTYPE_SIZE[t.storage.dtype];
    const numel = t.shape.reduce((a, b) => a * b, 1);
    // The last element the view reaches (strides are non-negative): offset + Σ (size − 1) · stride.
    const span = numel === 0 ? 0 : 1 + t.shape.reduce((a, n, d) => a + (n - 1) * t.stride[d], 0);
    const { start, bytes } = storageAt(t.storage);
    if (t.storage.numel * es > bytes || t.offset + span > t.storage.numel)
      throw corrupt(label, `has tensor ${name} reaching past the end of its storage`);
    let expect = 1;
    let contiguous = true;
    for (let d = t.shape.length - 1; d >= 0; d--) {
      if (t.shape[d] !== 1 && t.stride[d] !== expect) contiguous = false;
      expect *= t.shape[d];
    }
    const begin = start + t.offset * es;
    out.push({
      name,
      dtype: t.storage.dtype,
      shape: t.shape,
      begin,
      end: begin + span * es,
      stride: t.stride,
      contiguous,
    });
  }
  return out;
}

function zipEntries(src: ByteSource): TorchEntry[] {
  const members = zipMembers(src);
  const pkl = [...members.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (!pkl) throw corrupt(src.label, 'is a zip archive without data.pkl (not a PyTorch checkpoint)');
  const prefix = pkl.slice(0, -'data.pkl'.length);
  const stored = (name: string): ZipMember => {
    const m = members.get(name);
    if (!m) throw corrupt(src.label, `lacks ${name}`);
    if (m.method !== 0)
      throw new LensError(
        'UNSUPPORTED_MODEL',
        `${src.label} stores ${name} compressed (zip method ${m.method}); PyTorch writes it uncompressed: save it again with torch.save, or convert it to model.safetensors.`,
      );
    return m;
  };
  const order = members.get(`${prefix}byteorder`);
  if (order && new TextDecoder().decode(src.read(stored(`${prefix}byteorder`).start, order.size)).trim() !== 'little')
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `${src.label} was saved on a big-endian machine; convert it to model.safetensors.`,
    );
  const p = stored(pkl);
  const { value } = unpickle(src.read(p.start, p.size), src.label);
  return entriesOf(src.label, tensorsOf(value, src.label), (s) => {
    const m = stored(`${prefix}data/${s.key}`);
    return { start: m.start, bytes: m.size };
  });
}

function legacyEntries(src: ByteSource): TorchEntry[] {
  // The five pickles (magic number, protocol, system info, the object, the storage keys) come first; read more of
  // the file until they all fit.
  for (let length = Math.min(src.size, 1 << 20); ; length = Math.min(src.size, length * 4)) {
    const head = src.read(0, length);
    try {
      const magic = unpickle(head, src.label);
      if (magic.value !== LEGACY_MAGIC) throw corrupt(src.label, 'is not a PyTorch checkpoint (no magic number)');
      const protocol = unpickle(head, src.label, magic.end);
      if (protocol.value !== LEGACY_PROTOCOL)
        throw corrupt(src.label, `has PyTorch format ${String(protocol.value)}, not ${LEGACY_PROTOCOL}`);
      const info = unpickle(head, src.label, protocol.end);
      if (info.value instanceof PyDict && info.value.items.get('little_endian') === false)
        throw new LensError(
          'UNSUPPORTED_MODEL',
          `${src.label} was saved on a big-endian machine; convert it to model.safetensors.`,
        );
      const main = unpickle(head, src.label, info.end);
      const keys = unpickle(head, src.label, main.end);
      if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === 'string'))
        throw corrupt(src.label, 'has no list of storage keys');
      const tensors = tensorsOf(main.value, src.label);
      const dtypes = new Map<string, string>();
      for (const t of tensors.values()) dtypes.set(t.storage.key, t.storage.dtype);
      // Then each storage in key order: its element count (int64) and its bytes.
      const at = new Map<string, { start: number; bytes: number }>();
      let pos = keys.end;
      for (const key of keys.value as string[]) {
        const numel = u64(src.read(pos, 8), 0, src.label);
        const bytes = numel * (DTYPE_SIZE[dtypes.get(key) ?? 'U8'] ?? 1);
        at.set(key, { start: pos + 8, bytes });
        pos += 8 + bytes;
      }
      if (pos > src.size) throw corrupt(src.label, 'is truncated: its storages end past the end of the file');
      return entriesOf(src.label, tensors, (s) => {
        const where = at.get(s.key);
        if (!where) throw corrupt(src.label, `lacks storage ${s.key}`);
        return where;
      });
    } catch (e) {
      const truncatedPickle = e instanceof LensError && e.message.includes('truncated inside its pickle');
      if (!truncatedPickle || length >= src.size) throw e;
    }
  }
}

/** The tensors of one PyTorch checkpoint; reads (and allocates) only its directory and pickle. */
export function torchEntries(src: ByteSource): TorchEntry[] {
  if (src.size < 4) throw corrupt(src.label, 'is too short to be a PyTorch checkpoint');
  const head = src.read(0, 4);
  if (u32(head, 0) === 0x04034b50) return zipEntries(src);
  if (head[0] === 0x80) return legacyEntries(src);
  throw corrupt(src.label, 'is neither a zip archive nor a pickle (not a PyTorch checkpoint)');
}

/** One tensor as float32: read at its offset, converted, and gathered by its strides when it is a strided view. */
export function readTorchTensor(src: ByteSource, en: TorchEntry): Float32Array {
  checkFloatDtype(src.label, en);
  const count = (en.end - en.begin) / DTYPE_SIZE[en.dtype];
  const raw = src.read(en.begin, en.end - en.begin);
  // A file's float32 bytes, read into a buffer of their own, are the tensor as they are: no second copy.
  const own = src.fresh === true && en.dtype === 'F32' && raw.byteOffset % 4 === 0;
  const region = own ? new Float32Array(raw.buffer, raw.byteOffset, count) : new Float32Array(count);
  if (!own) decodeInto(en.dtype, raw, region);
  if (en.contiguous) return region;
  const numel = en.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(numel); // row-major over en.shape
  const index = new Array<number>(en.shape.length).fill(0);
  for (let i = 0; i < numel; i++) {
    let at = 0;
    for (let d = 0; d < index.length; d++) at += index[d] * en.stride[d];
    out[i] = region[at];
    for (let d = index.length - 1; d >= 0; d--) {
      if (++index[d] < en.shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}
