// One attention array [heads, query, key] written by streaming blocks of query rows, never held whole: a kept run
// (long inputs) has no map in memory anywhere, and one head of SmolLM2 at 8,192 tokens is 256 MB as float32. The
// rows come from a RowSource — a kept run's exact windows recomputed from q and k where the model runs, or a dense
// map's slices — one block of about a million entries at a time, and go to a ByteSink (the atomic writer of
// runtime/files: a temporary file renamed into place when complete). NPY (float32, NumPy 1.0) and CSV (long
// format, as attention-data.ts writes a whole run).
import type { KeptAttention } from '../runtime/inspector/api';
import type { LayerAttention } from '../runtime/types';
import { ExportError } from '../figures/figure-kit';
import { f32String } from '../figures/labels';
import { csvField, npyHeader, CSV_HEADER, type ByteSink, type WriteOptions } from './attention-data';

/** [start, end) of rows or columns. */
export interface RowSpan {
  start: number;
  end: number;
}

/** An array [heads, query, key] read by blocks of query rows. */
export interface RowSource {
  readonly heads: number;
  readonly queryLength: number;
  readonly keyLength: number;
  /** Head `head`'s rows start..end-1: [end − start, keyLength]. */
  rows(head: number, start: number, end: number): Promise<Float32Array>;
}

/** Entries per block read and written at once (4 MB of float32); a kept window answers at most 4M. */
export const BLOCK_ENTRIES = 1 << 20;

/** Query rows per block for `keyLength` keys (at least one). */
export function blockRows(keyLength: number): number {
  return Math.max(1, Math.floor(BLOCK_ENTRIES / Math.max(1, keyLength)));
}

/** A dense layer's map [heads, query, key] (a short run's, or a saved run's) as a RowSource. */
export function denseRows(layer: LayerAttention): RowSource {
  const { heads, queryLength: Q, keyLength: K, data } = layer;
  if (data.length !== heads * Q * K)
    throw new ExportError(`Layer ${layer.layer} has ${data.length} values, not ${heads} × ${Q} × ${K}.`);
  return {
    heads,
    queryLength: Q,
    keyLength: K,
    rows: (h, start, end) => Promise.resolve(data.subarray((h * Q + start) * K, (h * Q + end) * K)),
  };
}

/** What of a kept run's layer to write: which heads (every head by default), or their mean / max as one head,
 *  and a window of rows × columns (the whole layer by default). */
export interface KeptSelection {
  layer: number;
  /** Query heads of the layer. */
  heads: number;
  /** Tokens of the run (rows and columns of a self-attention layer). */
  length: number;
  head?: number | 'mean' | 'max' | 'all';
  rows?: RowSpan;
  cols?: RowSpan;
}

function checkSpan(s: RowSpan, n: number, what: string): void {
  if (!(Number.isInteger(s.start) && Number.isInteger(s.end) && s.start >= 0 && s.end <= n && s.end > s.start))
    throw new ExportError(`The ${what} ${s.start}..${s.end} are outside the run's ${n} tokens.`);
}

/** A kept run's layer (or one head, or a window of it) as a RowSource: each block is one exact window asked of
 *  where the model runs (KeptAttention.window), so nothing larger than a block exists on this side. */
export function keptRows(kept: KeptAttention, sel: KeptSelection): RowSource {
  const rows = sel.rows ?? { start: 0, end: sel.length };
  const cols = sel.cols ?? { start: 0, end: sel.length };
  checkSpan(rows, sel.length, 'rows');
  checkSpan(cols, sel.length, 'columns');
  const choice = sel.head ?? 'all';
  if (typeof choice === 'number' && !(Number.isInteger(choice) && choice >= 0 && choice < sel.heads))
    throw new ExportError(`Head ${choice} is outside the layer's ${sel.heads} heads.`);
  const K = cols.end - cols.start;
  const window = (h: number, start: number, end: number) =>
    kept.window(sel.layer, h, { start: rows.start + start, end: rows.start + end }, cols);
  const pooled = async (start: number, end: number): Promise<Float32Array> => {
    const out = new Float32Array((end - start) * K); // [rows, cols]
    if (choice === 'max') out.fill(-Infinity);
    for (let h = 0; h < sel.heads; h++) {
      const w = await window(h, start, end);
      for (let x = 0; x < out.length; x++) out[x] = choice === 'max' ? Math.max(out[x], w[x]) : out[x] + w[x];
    }
    if (choice === 'mean') for (let x = 0; x < out.length; x++) out[x] /= sel.heads;
    return out;
  };
  return {
    heads: choice === 'all' ? sel.heads : 1,
    queryLength: rows.end - rows.start,
    keyLength: K,
    rows: (h, start, end) =>
      choice === 'all'
        ? window(h, start, end)
        : typeof choice === 'number'
          ? window(choice, start, end)
          : pooled(start, end),
  };
}

function aborted(signal?: AbortSignal): void {
  if (signal?.aborted) {
    const e = new Error('The export was cancelled.');
    e.name = 'AbortError';
    throw e;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bytes of the NPY file of a source. */
export function npyStreamBytes(source: RowSource): number {
  const shape = [source.heads, source.queryLength, source.keyLength];
  return npyHeader(shape).length + shape[0] * shape[1] * shape[2] * 4;
}

/** Writes the source as NPY float32 [heads, query, key], block by block of rows. */
export async function writeNpyStream(
  source: RowSource,
  sink: ByteSink,
  o: WriteOptions & { squeeze?: boolean; blockRows?: number } = {},
): Promise<void> {
  const { heads, queryLength: Q, keyLength: K } = source;
  // squeeze: one head written as [query, key].
  await sink.write(npyHeader(o.squeeze && heads === 1 ? [Q, K] : [heads, Q, K]));
  const step = o.blockRows ?? blockRows(K);
  const blocks = heads * Math.ceil(Q / step);
  let done = 0;
  for (let h = 0; h < heads; h++)
    for (let start = 0; start < Q; start += step) {
      aborted(o.signal);
      const end = Math.min(Q, start + step);
      const block = await source.rows(h, start, end); // [end − start, K]
      if (block.length !== (end - start) * K)
        throw new ExportError(
          `Rows ${start}..${end} of head ${h} came with ${block.length} values, not ${(end - start) * K}.`,
        );
      // A copy the sink owns (the source's buffer may be a view of a map), little-endian.
      const bytes = new Uint8Array(block.slice().buffer);
      if (!LITTLE_ENDIAN) for (let i = 0; i < bytes.length; i += 4) bytes.subarray(i, i + 4).reverse();
      await sink.write(bytes);
      o.onProgress?.(++done / blocks);
    }
}

/** Labels of a CSV: the layer number written in its first column, the query and key tokens' texts. */
export interface CsvLabels {
  layer: number;
  /** Head numbers written per source head (e.g. [3] for one head, ['mean'] for the mean). */
  headNames: readonly (number | string)[];
  /** Texts of the query tokens of the source's rows, from its first row. */
  queryTexts: readonly string[];
  /** Texts of the key tokens of the source's columns, from its first column. */
  keyTexts: readonly string[];
  /** Index of the source's first row and column in the run (a window's offsets). */
  rowOffset?: number;
  colOffset?: number;
}

/** Writes the source as CSV (layer, head, query, key, weight, query_token, key_token), block by block. */
export async function writeCsvStream(
  source: RowSource,
  labels: CsvLabels,
  sink: ByteSink,
  o: WriteOptions & { blockRows?: number } = {},
): Promise<void> {
  const { heads, queryLength: Q, keyLength: K } = source;
  const encoder = new TextEncoder();
  await sink.write(encoder.encode(CSV_HEADER + '\n'));
  const qTexts = labels.queryTexts.map(csvField);
  const kTexts = labels.keyTexts.map(csvField);
  const r0 = labels.rowOffset ?? 0;
  const c0 = labels.colOffset ?? 0;
  const step = o.blockRows ?? Math.max(1, Math.floor(blockRows(K) / 8)); // ~40 bytes a weight as text
  const blocks = heads * Math.ceil(Q / step);
  let done = 0;
  for (let h = 0; h < heads; h++)
    for (let start = 0; start < Q; start += step) {
      aborted(o.signal);
      const end = Math.min(Q, start + step);
      const block = await source.rows(h, start, end);
      const parts: string[] = [];
      for (let i = start; i < end; i++) {
        const prefix = `${labels.layer},${labels.headNames[h]},${r0 + i},`;
        const qt = qTexts[i] ?? `#${r0 + i}`;
        const base = (i - start) * K;
        let rows = '';
        for (let j = 0; j < K; j++)
          rows += `${prefix}${c0 + j},${f32String(block[base + j])},${qt},${kTexts[j] ?? `#${c0 + j}`}\n`;
        parts.push(rows);
      }
      await sink.write(encoder.encode(parts.join('')));
      o.onProgress?.(++done / blocks);
    }
}
