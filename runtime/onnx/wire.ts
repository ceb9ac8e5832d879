// Protocol-buffer wire-level edits of an ONNX ModelProto, so an imported model keeps every field this project's
// schema does not know (local functions, sparse initializers, metadata...) byte for byte:
//   - rewriteInitializers: replaces graph.initializer entries (to inline external data), copying all else verbatim;
//   - filterGraph: keeps only some of the graph's repeated entries (a per-layer stage of an imported graph);
//   - additions (nodes, outputs) are made by appending a second serialized ModelProto holding only a `graph` with
//     them: protobuf parsers merge it into the first (repeated fields are concatenated), see tap.ts.
// Every read is bounds-checked: malformed bytes end in a BAD_ONNX LensError, never an exception of another kind.
import { LensError } from '../errors';

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

/** ModelProto.graph, and the GraphProto fields the stage and branch extractors filter. */
export const MODEL_GRAPH = 7;
export const G_NODE = 1;
export const G_INITIALIZER = 5;
export const G_INPUT = 11;
export const G_OUTPUT = 12;
export const G_VALUE_INFO = 13;
export const G_QUANTIZATION = 14;
export const G_SPARSE_INITIALIZER = 15;
const GRAPH_INITIALIZER = G_INITIALIZER;

/** One field of a message: its number, wire type, the byte range of the whole field and of its payload. */
export interface WireField {
  no: number;
  wire: number;
  /** [start, end) of the field including its tag. */
  start: number;
  end: number;
  /** [dataStart, dataEnd) of the payload (the bytes after the length for length-delimited fields). */
  dataStart: number;
  dataEnd: number;
  /** The value of a varint field (exact up to 2^53). */
  varint: number;
}

function bad(label: string, why: string): LensError {
  return new LensError('BAD_ONNX', `${label} is not a valid ONNX model (${why}); re-export or re-download it.`);
}

/** Reads a varint at pos; returns [value, next position]. */
function readVarint(buf: Uint8Array, pos: number, end: number, label: string): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw bad(label, 'a number runs past the end of the data');
    const b = buf[pos++];
    value += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) return [value, pos];
  }
  throw bad(label, 'a number is longer than 10 bytes');
}

/** The fields of the message in buf[start, end), in order. */
export function readFields(buf: Uint8Array, label: string, start = 0, end = buf.length): WireField[] {
  const out: WireField[] = [];
  let pos = start;
  while (pos < end) {
    const fieldStart = pos;
    const [tag, afterTag] = readVarint(buf, pos, end, label);
    pos = afterTag;
    const no = Math.floor(tag / 8);
    const wire = tag % 8;
    if (no === 0) throw bad(label, `field number 0 at byte ${fieldStart}`);
    let dataStart = pos;
    let dataEnd: number;
    let varint = 0;
    if (wire === WIRE_VARINT) {
      [varint, dataEnd] = readVarint(buf, pos, end, label);
    } else if (wire === WIRE_I64) {
      dataEnd = pos + 8;
    } else if (wire === WIRE_I32) {
      dataEnd = pos + 4;
    } else if (wire === WIRE_LEN) {
      const [len, afterLen] = readVarint(buf, pos, end, label);
      dataStart = afterLen;
      dataEnd = afterLen + len;
    } else {
      throw bad(label, `unsupported wire type ${wire} at byte ${fieldStart}`);
    }
    if (dataEnd > end) throw bad(label, `a field runs past the end of the data at byte ${fieldStart}`);
    pos = dataEnd;
    out.push({ no, wire, start: fieldStart, end: pos, dataStart, dataEnd, varint });
  }
  return out;
}

function varintBytes(value: number): Uint8Array {
  const bytes: number[] = [];
  let v = value;
  while (v >= 128) {
    bytes.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Uint8Array.from(bytes);
}

/** A length-delimited field (tag, length, payload) as separate chunks. */
export function lenField(no: number, payload: Uint8Array[]): Uint8Array[] {
  const len = payload.reduce((a, p) => a + p.length, 0);
  return [varintBytes(no * 8 + WIRE_LEN), varintBytes(len), ...payload];
}

export function concat(chunks: Uint8Array[]): Uint8Array {
  const total = chunks.reduce((a, c) => a + c.length, 0);
  if (total > 0x7fffffff)
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `The model would be ${(total / 1e9).toFixed(2)} GB in one piece; ONNX models over 2 GB cannot be imported (use the Hugging Face folder with safetensors weights instead).`,
    );
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/**
 * Rewrites every graph.initializer of a ModelProto: `edit` gets the TensorProto's bytes and returns replacement
 * chunks, or undefined to keep it. Returns the original bytes when nothing changed.
 */
export function rewriteInitializers(
  model: Uint8Array,
  label: string,
  edit: (tensor: Uint8Array) => Uint8Array[] | undefined,
): Uint8Array {
  const chunks: Uint8Array[] = [];
  let changed = false;
  for (const f of readFields(model, label)) {
    if (f.no !== MODEL_GRAPH || f.wire !== WIRE_LEN) {
      chunks.push(model.subarray(f.start, f.end));
      continue;
    }
    const graphChunks: Uint8Array[] = [];
    for (const g of readFields(model, label, f.dataStart, f.dataEnd)) {
      const replaced =
        g.no === GRAPH_INITIALIZER && g.wire === WIRE_LEN ? edit(model.subarray(g.dataStart, g.dataEnd)) : undefined;
      if (replaced) {
        changed = true;
        graphChunks.push(...lenField(GRAPH_INITIALIZER, replaced));
      } else graphChunks.push(model.subarray(g.start, g.end));
    }
    chunks.push(...lenField(MODEL_GRAPH, graphChunks));
  }
  return changed ? concat(chunks) : model;
}

/**
 * Copies a ModelProto keeping only the graph fields `keep` accepts; `ordinal` counts earlier occurrences of the same
 * field number, so it is the index into the decoded graph's array (node, initializer, value_info...). Every other
 * field of the model and of the graph is copied verbatim.
 */
export function filterGraph(
  model: Uint8Array,
  label: string,
  keep: (field: number, ordinal: number) => boolean,
  append?: Uint8Array,
): Uint8Array {
  const chunks: Uint8Array[] = [];
  const fields = readFields(model, label);
  // protobufjs keeps only the last of several graph fields, so ordinals would not match its decoded arrays.
  if (fields.filter((f) => f.no === MODEL_GRAPH).length !== 1)
    throw bad(label, 'it has no graph, or several graph fields');
  for (const f of fields) {
    if (f.no !== MODEL_GRAPH || f.wire !== WIRE_LEN) {
      chunks.push(model.subarray(f.start, f.end));
      continue;
    }
    const seen = new Map<number, number>();
    const graphChunks: Uint8Array[] = [];
    for (const g of readFields(model, label, f.dataStart, f.dataEnd)) {
      const ordinal = seen.get(g.no) ?? 0;
      seen.set(g.no, ordinal + 1);
      if (keep(g.no, ordinal)) graphChunks.push(model.subarray(g.start, g.end));
    }
    // More GraphProto fields (a serialized GraphProto is a list of fields): merged into this graph, one graph field.
    if (append) graphChunks.push(append);
    chunks.push(...lenField(MODEL_GRAPH, graphChunks));
  }
  return concat(chunks);
}
