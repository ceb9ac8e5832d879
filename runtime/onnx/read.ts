// Reads an ONNX model file for import: decodes it (for analysis) and makes the bytes a session can load from
// memory, with every initializer stored in external data files (model.onnx_data, optimum's *.onnx_data, or any
// name the file gives) read in. External paths must stay inside the model's folder; offsets and lengths are checked
// against the file, so a broken or hostile model ends in a BAD_ONNX LensError, never a crash or a stray read.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LensError, quoted } from '../errors';
import { decodeModel, type GraphMsg, type ModelMsg, type TensorMsg } from '../formats/onnx-schema';
import { lenField, readFields, rewriteInitializers } from './wire';

/** TensorProto fields used here. */
const T_RAW_DATA = 9;
const T_EXTERNAL_DATA = 13;
const T_DATA_LOCATION = 14;
const EXTERNAL = 1;

export interface OnnxFile {
  file: string;
  /** The decoded model (initializers in external data have no data here). */
  model: ModelMsg;
  graph: GraphMsg;
  /** The model's bytes with all external data inlined: what a session is created from. */
  bytes: Uint8Array;
}

function bad(label: string, why: string): LensError {
  return new LensError('BAD_ONNX', `${label} is not a valid ONNX model (${why}); re-export or re-download it.`);
}

/** Decodes ONNX bytes; throws BAD_ONNX for anything that is not a ModelProto with a graph. */
export function parseOnnx(bytes: Uint8Array, label: string): { model: ModelMsg; graph: GraphMsg } {
  // Our own wire walk first: it bounds-checks every field, so the decoder below only sees well-formed framing.
  readFields(bytes, label);
  let model: ModelMsg;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    throw bad(label, (e as Error).message.split('\n')[0]);
  }
  const graph = model.graph;
  if (!graph || !Array.isArray(graph.node) || graph.node.length === 0) throw bad(label, 'it has no graph nodes');
  for (const [i, n] of graph.node.entries()) {
    if (typeof n.opType !== 'string' || n.opType === '') throw bad(label, `node ${i} has no operator type`);
  }
  return { model, graph };
}

/** Reads and decodes a .onnx file and inlines its external data. */
export function readOnnxFile(file: string): OnnxFile {
  const label = path.basename(file);
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new LensError(
      'MODEL_NOT_FOUND',
      code === 'ERR_FS_FILE_TOO_LARGE'
        ? `${file} is larger than 2 GB; keep the weights in external data (onnx.save_model(..., save_as_external_data=True)).`
        : `Cannot read ${file} (${code ?? (e as Error).message}).`,
    );
  }
  const { model, graph } = parseOnnx(bytes, label);
  checkNoExternalOutsideInitializers(graph, label);
  const dir = path.dirname(file);
  const files = new Map<string, number>();
  try {
    const inlined = rewriteInitializers(bytes, label, (tensor) => inlineTensor(tensor, dir, label, files));
    return { file, model, graph, bytes: inlined };
  } finally {
    for (const fd of files.values()) fs.closeSync(fd);
  }
}

/** The external_data entries (location, offset, length...) of a TensorProto stored externally, else undefined. */
function externalEntries(tensor: Uint8Array, label: string): Map<string, string> | undefined {
  const fields = readFields(tensor, label);
  const location = fields.find((f) => f.no === T_DATA_LOCATION && f.wire === 0);
  if (!location || location.varint !== EXTERNAL) return undefined;
  const entries = new Map<string, string>();
  const decoder = new TextDecoder();
  for (const f of fields) {
    if (f.no !== T_EXTERNAL_DATA || f.wire !== 2) continue;
    let key = '';
    let value = '';
    for (const kv of readFields(tensor, label, f.dataStart, f.dataEnd)) {
      if (kv.wire !== 2) continue;
      const text = decoder.decode(tensor.subarray(kv.dataStart, kv.dataEnd));
      if (kv.no === 1) key = text;
      else if (kv.no === 2) value = text;
    }
    entries.set(key, value);
  }
  return entries;
}

/**
 * The external data files a model's initializers name (as written: relative to the model's folder), without reading
 * them: what must be downloaded beside a .onnx file (model.onnx_data, model.onnx.data, model.onnx_data_1...).
 */
export function externalDataLocations(bytes: Uint8Array, label: string): string[] {
  const locations = new Set<string>();
  rewriteInitializers(bytes, label, (tensor) => {
    const location = externalEntries(tensor, label)?.get('location');
    if (location) locations.add(location);
    return undefined;
  });
  return [...locations];
}

/** Replaces a TensorProto stored externally by one with raw_data; undefined when it is stored inline. */
function inlineTensor(
  tensor: Uint8Array,
  dir: string,
  label: string,
  files: Map<string, number>,
): Uint8Array[] | undefined {
  const entries = externalEntries(tensor, label);
  if (!entries) return undefined;
  const data = readExternal(entries, dir, label, files);
  const kept = readFields(tensor, label)
    .filter((f) => f.no !== T_DATA_LOCATION && f.no !== T_EXTERNAL_DATA && f.no !== T_RAW_DATA)
    .map((f) => tensor.subarray(f.start, f.end));
  return [...kept, ...lenField(T_RAW_DATA, [data])];
}

function readExternal(
  entries: Map<string, string>,
  dir: string,
  label: string,
  files: Map<string, number>,
): Uint8Array {
  const location = entries.get('location') ?? '';
  const parts = location.split(/[\\/]/);
  if (!location || path.isAbsolute(location) || /^[A-Za-z]:/.test(location) || parts.includes('..'))
    throw bad(label, `an initializer's external data location ${quoted(location)} is not a file beside it`);
  const file = path.join(dir, ...parts);
  let fd = files.get(file);
  if (fd === undefined) {
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      throw new LensError(
        'NO_WEIGHTS',
        `${label} keeps its weights in ${location}, which is missing beside it in ${dir}; copy that file too.`,
      );
    }
    if (!fs.fstatSync(fd).isFile()) {
      fs.closeSync(fd);
      throw new LensError(
        'NO_WEIGHTS',
        `${label} keeps its weights in ${location}, which is a folder (or another non-file) in ${dir}; put the data file there.`,
      );
    }
    files.set(file, fd);
  }
  const size = fs.fstatSync(fd).size;
  const offset = Number(entries.get('offset') ?? '0');
  const length = entries.has('length') ? Number(entries.get('length')) : size - offset;
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0)
    throw bad(label, `external data of ${location} has an invalid offset or length`);
  if (offset + length > size)
    throw new LensError(
      'CORRUPT_WEIGHTS',
      `${location} is truncated: ${label} needs bytes up to ${offset + length}, the file has ${size}; re-download it.`,
    );
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const got = fs.readSync(fd, out, done, Math.min(length - done, 1 << 30), offset + done);
    if (got === 0) throw new LensError('CORRUPT_WEIGHTS', `${location} could not be read completely; re-download it.`);
    done += got;
  }
  return out;
}

/** External data is inlined for graph initializers only; anywhere else (Constant nodes, subgraphs) it is refused. */
function checkNoExternalOutsideInitializers(graph: GraphMsg, label: string): void {
  const isExternal = (t: TensorMsg | undefined) => t?.dataLocation === EXTERNAL;
  const visit = (g: GraphMsg, top: boolean): void => {
    if (!top && (g.initializer ?? []).some(isExternal))
      throw bad(label, 'a subgraph keeps initializers in external data; save the model with all data in one file');
    for (const n of g.node ?? []) {
      for (const a of n.attribute ?? []) {
        const attr = a as { t?: TensorMsg; g?: GraphMsg; graphs?: GraphMsg[] };
        if (isExternal(attr.t))
          throw bad(label, `node ${n.name || n.opType} keeps a constant in external data; save it inline`);
        if (attr.g?.node) visit(attr.g, false);
        for (const sub of attr.graphs ?? []) if (sub?.node) visit(sub, false);
      }
    }
  };
  visit(graph, true);
}
