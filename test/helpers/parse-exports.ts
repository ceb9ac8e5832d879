// Independent readers of what the writers produce, for tests: RFC 4180 CSV records and NPY 1.0 float32 arrays,
// parsed here rather than with the project's own code.
import assert from 'node:assert/strict';

/** RFC 4180 records (quoted fields with doubled quotes, commas and newlines inside quotes); the text must end with a
 * newline. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  assert.ok(field === '' && row.length === 0, 'the file ends with a newline');
  return rows;
}

/** An NPY 1.0 float32 buffer's shape and data. */
export function parseNpy(b: Buffer): { shape: number[]; data: Float32Array } {
  assert.equal(b.subarray(0, 6).toString('latin1'), '\x93NUMPY');
  const len = b.readUInt16LE(8);
  const header = b.subarray(10, 10 + len).toString('latin1');
  assert.match(header, /'descr': '<f4'/);
  const shape = /'shape': \(([^)]*)\)/
    .exec(header)![1]
    .split(',')
    .filter((s) => s.trim())
    .map(Number);
  const body = b.subarray(10 + len);
  return { shape, data: new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length)) };
}
