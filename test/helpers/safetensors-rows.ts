// Rows of one F32 tensor of a safetensors file, read with a plain parse (8-byte header length, JSON header, data):
// the token embeddings a gradient × input reference multiplies, read independently of runtime/formats.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';

/** Rows `ids` of the 2-D F32 tensor `name` [rows, width] of `file`, [ids.length, width]. */
export function safetensorsRows(file: string, name: string, ids: readonly number[]): Float32Array {
  const bytes = fs.readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const entry = header[name];
  assert.ok(entry, `${name} is in ${file}`);
  assert.equal(entry.dtype, 'F32');
  assert.equal(entry.shape.length, 2);
  const width = entry.shape[1];
  const out = new Float32Array(ids.length * width); // [N,E]
  const start = 8 + n + entry.data_offsets[0];
  ids.forEach((id, s) => {
    for (let e = 0; e < width; e++) out[s * width + e] = bytes.readFloatLE(start + (id * width + e) * 4);
  });
  return out;
}
