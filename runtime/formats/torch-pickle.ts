// A restricted reader of the pickles inside PyTorch checkpoints (pytorch_model.bin), so that Hub repositories that
// ship only those files (Helsinki-NLP opus-mt models and older uploads of other families among them) load without Python.
// It interprets the opcodes torch.save emits and nothing else, and it never calls anything: a GLOBAL is a name, and
// only the handful of names a state dict uses (collections.OrderedDict, torch._utils._rebuild_tensor_v2 and
// _rebuild_parameter, torch.<Type>Storage) are given a meaning here. Any other name, opcode or shape of data ends the
// read with one line saying what was found, so a malicious or foreign pickle is refused, never run. Written by hand:
// npm's pickle readers either execute-by-mapping arbitrary classes or lack torch's persistent ids and positions.
import { LensError } from '../errors';

/** A storage named by a persistent id: ('storage', torch.<Type>Storage, key, location, numel[, view]). */
export interface StorageRef {
  kind: 'storage';
  /** safetensors-style dtype (F32, F16, BF16, F64, I64...). */
  dtype: string;
  key: string;
  /** Elements in the storage. */
  numel: number;
}

/** A tensor view of a storage, as _rebuild_tensor_v2 describes it. */
export interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  /** In elements. */
  offset: number;
  shape: number[];
  stride: number[];
}

/** A Python dict (or OrderedDict), keys in insertion order. */
export class PyDict {
  readonly items = new Map<unknown, unknown>();
}

interface PyGlobal {
  kind: 'global';
  module: string;
  name: string;
}

class Mark {}
const MARK = new Mark();

/** torch.<Name>Storage → dtype. */
export const STORAGE_DTYPES: Record<string, string> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

const isGlobal = (x: unknown, module: string, name: string): boolean =>
  typeof x === 'object' &&
  x !== null &&
  (x as PyGlobal).kind === 'global' &&
  (x as PyGlobal).module === module &&
  (x as PyGlobal).name === name;

/** The result of one pickle: its value and the byte after its STOP. */
export interface Unpickled {
  value: unknown;
  end: number;
}

/**
 * Reads one pickle starting at `start` of `bytes`. `label` names the file in errors. Persistent ids become StorageRefs;
 * the allowed calls become PyDicts and TensorRefs; numbers are JS numbers (BigInt past 2^53), strings are strings.
 */
export function unpickle(bytes: Uint8Array, label: string, start = 0): Unpickled {
  const bad = (what: string) =>
    new LensError(
      'CORRUPT_WEIGHTS',
      `${label} is not a PyTorch state dict Attention Lens can read: ${what}. Convert it to model.safetensors ` +
        '(transformers: save_pretrained(dir, safe_serialization=True)) or use a repository that ships one.',
    );
  const truncated = () =>
    new LensError('CORRUPT_WEIGHTS', `${label} is truncated inside its pickle — re-download the file.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder('utf-8', { fatal: false });
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let at = start;
  const need = (n: number) => {
    if (at + n > bytes.length) throw truncated();
  };
  const u8 = () => (need(1), bytes[at++]);
  const u16 = () => (need(2), (at += 2), view.getUint16(at - 2, true));
  const i32 = () => (need(4), (at += 4), view.getInt32(at - 4, true));
  const u32 = () => (need(4), (at += 4), view.getUint32(at - 4, true));
  const u64 = () => {
    need(8);
    const v = view.getBigUint64(at, true);
    at += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad('a length past 2^53');
    return Number(v);
  };
  const text = (n: number) => {
    need(n);
    const s = decoder.decode(bytes.subarray(at, at + n));
    at += n;
    return s;
  };
  const raw = (n: number) => {
    need(n);
    const b = bytes.slice(at, at + n);
    at += n;
    return b;
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, at);
    if (end < 0) throw truncated();
    const s = decoder.decode(bytes.subarray(at, end));
    at = end + 1;
    return s;
  };
  const pop = () => {
    if (stack.length === 0) throw bad('its pickle pops an empty stack');
    return stack.pop();
  };
  const top = () => {
    if (stack.length === 0) throw bad('its pickle reads an empty stack');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const k = stack.lastIndexOf(MARK);
    if (k < 0) throw bad('its pickle has no MARK where one is needed');
    const items = stack.slice(k + 1);
    stack.length = k;
    return items;
  };
  const setItems = (dict: unknown, items: unknown[]) => {
    if (!(dict instanceof PyDict)) throw bad('its pickle sets items on something that is not a dict');
    if (items.length % 2 !== 0) throw bad('its pickle sets an odd number of dict items');
    for (let i = 0; i < items.length; i += 2) dict.items.set(items[i], items[i + 1]);
  };
  const long = (b: Uint8Array): number | bigint => {
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b.length > 0 && b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const nameOf = (g: unknown) =>
    typeof g === 'object' && g !== null && (g as PyGlobal).kind === 'global'
      ? `${(g as PyGlobal).module}.${(g as PyGlobal).name}`
      : typeof g;
  const persistent = (pid: unknown): StorageRef => {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5)
      throw bad('a persistent id that is not a storage');
    const [, type, key, , numel] = pid as unknown[];
    const g = type as PyGlobal;
    const dtype = g?.kind === 'global' && g.module === 'torch' ? STORAGE_DTYPES[g.name] : undefined;
    if (!dtype) throw bad(`a storage of type ${nameOf(type)}`);
    if (typeof key !== 'string' || !Number.isSafeInteger(numel) || (numel as number) < 0)
      throw bad('a storage without a key or an element count');
    if (pid.length > 5 && pid[5] !== null) throw bad('a storage view (a checkpoint of PyTorch before 1.0)');
    return { kind: 'storage', dtype, key, numel: numel as number };
  };
  const ints = (x: unknown, what: string): number[] => {
    if (!Array.isArray(x) || !x.every((v) => Number.isSafeInteger(v) && (v as number) >= 0))
      throw bad(`a tensor ${what} that is not a tuple of sizes`);
    return x as number[];
  };
  const call = (f: unknown, args: unknown): unknown => {
    if (!Array.isArray(args)) throw bad('a call whose arguments are not a tuple');
    if (isGlobal(f, 'collections', 'OrderedDict') && args.length === 0) return new PyDict();
    if (isGlobal(f, 'torch._utils', '_rebuild_tensor_v2') || isGlobal(f, 'torch._utils', '_rebuild_tensor')) {
      const [storage, offset, size, stride] = args as unknown[];
      if ((storage as StorageRef)?.kind !== 'storage') throw bad('a tensor whose storage is not a persistent id');
      if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw bad('a tensor with a bad storage offset');
      const shape = ints(size, 'size');
      const strides = ints(stride, 'stride');
      if (shape.length !== strides.length) throw bad('a tensor whose size and stride differ in length');
      const t: TensorRef = {
        kind: 'tensor',
        storage: storage as StorageRef,
        offset: offset as number,
        shape,
        stride: strides,
      };
      return t;
    }
    if (
      isGlobal(f, 'torch._utils', '_rebuild_parameter') ||
      isGlobal(f, 'torch._utils', '_rebuild_parameter_with_state')
    ) {
      const t = (args as unknown[])[0] as TensorRef;
      if (t?.kind !== 'tensor') throw bad('a parameter that holds no tensor');
      return t;
    }
    throw bad(`it calls ${nameOf(f)}, which a state dict of tensors never needs (nothing was run)`);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        return { value: pop(), end: at };
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x74: // TUPLE
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x64: {
        // DICT
        const d = new PyDict();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        const list = top();
        if (!Array.isArray(list)) throw bad('its pickle appends to something that is not a list');
        list.push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) throw bad('its pickle appends to something that is not a list');
        list.push(...items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x70: // PUT
        memo.set(Number(line()), top());
        break;
      case 0x68: // BINGET
      case 0x6a: // LONG_BINGET
      case 0x67: {
        // GET
        const k = op === 0x68 ? u8() : op === 0x6a ? u32() : Number(line());
        if (!memo.has(k)) throw bad(`its pickle reads memo ${k}, never stored`);
        stack.push(memo.get(k));
        break;
      }
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x8a: // LONG1
        stack.push(long(raw(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(long(raw(u32())));
        break;
      case 0x49: {
        // INT (protocol 0; "01"/"00" are True/False)
        const s = line();
        stack.push(s === '01' ? true : s === '00' ? false : Number(s));
        break;
      }
      case 0x4c: // LONG (protocol 0)
        stack.push(Number(line().replace(/L$/, '')));
        break;
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(at, false));
        at += 8;
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(u64()));
        break;
      case 0x54: // BINSTRING
        stack.push(text(i32()));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(text(u8()));
        break;
      case 0x42: // BINBYTES
        stack.push(raw(u32()));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(raw(u8()));
        break;
      case 0x63: {
        // GLOBAL
        const module = line();
        stack.push({ kind: 'global', module, name: line() } satisfies PyGlobal);
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw bad('a STACK_GLOBAL without names');
        stack.push({ kind: 'global', module, name } satisfies PyGlobal);
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x62: {
        // BUILD: a dict's or tensor's extra state (OrderedDict._metadata, tensor attributes) is not needed.
        pop();
        const target = top();
        if (!(target instanceof PyDict) && (target as TensorRef)?.kind !== 'tensor')
          throw bad('its pickle builds an object that is not a dict or a tensor');
        break;
      }
      case 0x51: // BINPERSID
        stack.push(persistent(pop()));
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      default:
        throw bad(
          `pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at - 1}, which torch.save does not write`,
        );
    }
  }
}
