// Writes float32 tensors as a safetensors file (8-byte header length, JSON header, raw little-endian bytes), for
// tests that need a model folder of their own and for scripts/make-tiny-gpt2-weights.ts, and changes one tensor of an
// existing file (the bad-input catalogues' broken models). Independent of the reader
// under test (runtime/formats/safetensors.ts): plain header + bytes, in the order given.
import * as fs from 'node:fs';

export type F32Tensors = Record<string, { shape: number[]; data: Float32Array }>;

/** The bytes of a safetensors file holding `tensors` (F32), with an optional `__metadata__` entry. */
export function safetensorsBytes(tensors: F32Tensors, metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length)
      throw new Error(`${name}: shape [${t.shape}] holds ${count} values, not ${t.data.length}`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    chunks.push(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    offset += t.data.byteLength;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, ...chunks]);
}

/** Writes `tensors` to `file` (a temp file beside it, renamed into place when complete). */
export function writeSafetensors(file: string, tensors: F32Tensors, metadata?: Record<string, string>): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, safetensorsBytes(tensors, metadata));
  fs.renameSync(tmp, file);
}

/** Rewrites one float32 tensor of a safetensors file in place (a NaN weight, weights that overflow...). */
export function patchTensor(file: string, name: string, change: (data: Float32Array) => void): void {
  const bytes = fs.readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  const [begin, end] = header[name].data_offsets as [number, number];
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 8 + n + begin, bytes.byteOffset + 8 + n + end));
  change(data);
  Buffer.from(data.buffer).copy(bytes, 8 + n + begin);
  fs.writeFileSync(file, bytes);
}
