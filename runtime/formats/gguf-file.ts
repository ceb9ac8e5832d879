// Opens a .gguf file on disk: reads and validates its header (gguf-read.ts) and gives lazy, one-tensor-at-a-time
// access to its tensors as float32 (gguf-dequant.ts), reading each tensor's bytes at its offset only when asked —
// a model never needs its whole file in memory beside the float32 weights.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LensError } from '../errors';
import { dequantizeInto } from './gguf-dequant';
import { readFully as readAll } from './read-fully';
import {
  corruptGguf,
  GgufMeta,
  parseGgufHeader,
  type ByteSource,
  type GgufHeader,
  type GgufTensorInfo,
} from './gguf-read';

export interface GgufFile {
  file: string;
  label: string;
  header: GgufHeader;
  meta: GgufMeta;
  tensor(name: string): GgufTensorInfo | undefined;
  /** The tensor as float32 in the GGUF (row-major, numpy) order; a fresh array. */
  read(info: GgufTensorInfo): Float32Array;
}

/** `read-fully.ts`'s readFully with GGUF's message for a cut file. */
function readFully(fd: number, target: Uint8Array, position: number, label: string): void {
  readAll(fd, target, position, (at) => corruptGguf(label, `is truncated at byte ${at}`));
}

/** A ByteSource over an open file descriptor. */
export function fdSource(fd: number, size: number, label: string): ByteSource {
  return {
    size,
    read(offset, length) {
      const out = new Uint8Array(length);
      readFully(fd, out, offset, label);
      return out;
    },
  };
}

/** Reads only the header of a GGUF file (metadata and tensor infos), e.g. to list or describe a model. */
export function readGgufHeader(file: string): GgufHeader {
  const label = path.basename(file);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new LensError('MODEL_NOT_FOUND', `Cannot open ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
  try {
    return parseGgufHeader(label, fdSource(fd, fs.fstatSync(fd).size, label));
  } finally {
    fs.closeSync(fd);
  }
}

export function openGguf(file: string): GgufFile {
  const label = path.basename(file);
  const header = readGgufHeader(file);
  const byName = new Map(header.tensors.map((t) => [t.name, t]));
  return {
    file,
    label,
    header,
    meta: new GgufMeta(header, label),
    tensor: (name) => byName.get(name),
    read(info) {
      const count = info.shape.reduce((a, b) => a * b, 1);
      const out = new Float32Array(count);
      const fd = fs.openSync(file, 'r');
      try {
        if (info.typeName === 'F32') {
          readFully(fd, new Uint8Array(out.buffer), info.begin, label);
        } else {
          const raw = new Uint8Array(info.end - info.begin);
          readFully(fd, raw, info.begin, label);
          dequantizeInto(info.type, raw, out, info.name);
        }
      } finally {
        fs.closeSync(fd);
      }
      // A corrupt scale (an fp16 infinity or NaN) would poison every number downstream: refuse it here, by name.
      for (let i = 0; i < count; i++)
        if (!Number.isFinite(out[i]))
          throw corruptGguf(label, `has a non-finite value (${out[i]}) in tensor ${info.name} at element ${i}`);
      return out;
    },
  };
}
