// The run's numbers as files: JSON (model, tokens, [layer][head][query][key]), CSV (long format, one row per
// layer, head, query, key: weight and both token texts, and whether each was generated when the run continued; an
// encoder–decoder's rows also name their kind, and decoder and cross rows are labelled as the figures label them)
// and NPY (float32 [layers, heads, query, key], NumPy format 1.0). Written in chunks to a sink, so a 2,048-token run
// (gigabytes as CSV) never becomes one string; sizes can be estimated before writing (exact for NPY). The extension
// host and the CLI both use it.
import type { LayerAttention } from '../runtime/types';
import { ExportError } from '../figures/figure-kit';
import { f32String } from '../figures/labels';
import { DECODER_START_LABEL } from '../figures/seq2seq-axes';

export type DataFormat = 'json' | 'csv' | 'npy';
export const DATA_FORMATS: readonly DataFormat[] = ['json', 'csv', 'npy'];

export interface DataToken {
  text: string;
  id?: number;
  start: number | null;
  end: number | null;
  special: boolean;
  /** Written by a chat template around the user's text (role markers, special tokens). */
  template?: boolean;
  /** Written by the model after the input (the panel's Continue, `attention-lens generate`). */
  generated?: boolean;
}

export interface RunData {
  /** Model facts (or at least a name), written into the JSON. */
  model: { name: string } & Record<string, unknown>;
  tokens: readonly DataToken[];
  /** Layers 0..k-1 in order (a cancelled run may have fewer than the model). */
  layers: readonly LayerAttention[];
  /** Where the text came from (JSON only). */
  source?: Record<string, unknown>;
  /** Encoder–decoder runs: the target's top-level fields (target_tokens, decoder_input_tokens, target_logprobs...;
   * JSON only), and `tokens` are the source's (also written as source_tokens). */
  target?: Record<string, unknown>;
}

/** Receives the bytes in order; a returned promise is awaited (backpressure). */
export interface ByteSink {
  write(chunk: Uint8Array): void | Promise<void>;
}

export interface WriteOptions {
  /** Called with the fraction written (0..1) after each head. */
  onProgress?: (fraction: number) => void;
  /** Aborting stops between heads with an AbortError. */
  signal?: AbortSignal;
}

/** Buffers text into ~1 MiB UTF-8 chunks. */
class TextChunks {
  private parts: string[] = [];
  private length = 0;
  private readonly encoder = new TextEncoder();
  constructor(private readonly sink: ByteSink) {}
  async add(s: string): Promise<void> {
    this.parts.push(s);
    this.length += s.length;
    if (this.length >= 1 << 20) await this.flush();
  }
  async flush(): Promise<void> {
    if (!this.parts.length) return;
    const chunk = this.encoder.encode(this.parts.join(''));
    this.parts = [];
    this.length = 0;
    await this.sink.write(chunk);
  }
}

function checkLayers(run: RunData): void {
  if (!run.layers.length) throw new ExportError('The run has no computed layer to export yet.');
  run.layers.forEach((l, i) => {
    if (l.layer !== i) throw new ExportError(`Layers must be consecutive from 0; layer ${i} is missing.`);
    if (l.data.length !== l.heads * l.queryLength * l.keyLength)
      throw new ExportError(`Layer ${i} has ${l.data.length} values, not heads × query × key.`);
  });
}

function aborted(signal?: AbortSignal): void {
  if (signal?.aborted) {
    const e = new Error('The export was cancelled.');
    e.name = 'AbortError';
    throw e;
  }
}

function totalHeads(run: RunData): number {
  return run.layers.reduce((s, l) => s + l.heads, 0);
}

// ----- NPY ------------------------------------------------------------------------------------------------------

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The kinds of an encoder–decoder run's entries, each written as its own NPY (encoder [layers, heads, source,
 *  source], decoder [layers, heads, target, target], cross [layers, heads, target, source]). */
export type NpyKind = 'encoder' | 'decoder' | 'cross';
const NPY_KINDS: readonly NpyKind[] = ['encoder', 'decoder', 'cross'];

/** An encoder–decoder run's layers per kind, in file order (encoder, decoder, cross); undefined for a one-stack run. */
export function npyKinds(run: Pick<RunData, 'layers'>): { kind: NpyKind; layers: LayerAttention[] }[] | undefined {
  if (!run.layers.some((l) => NPY_KINDS.includes(l.kind as NpyKind))) return undefined;
  return NPY_KINDS.map((kind) => ({ kind, layers: run.layers.filter((l) => l.kind === kind) })).filter(
    (k) => k.layers.length > 0,
  );
}

/** The file of one kind: the export's own file holds the encoder's layers, the others lie beside it
 *  (run.npy → run.decoder.npy, run.cross.npy). */
export function npyKindFile(npyName: string, kind: NpyKind): string {
  if (kind === 'encoder') return npyName;
  return `${npyName.replace(/\.npy$/i, '')}.${kind}.npy`;
}

/** The axes of one kind's array. */
function kindAxes(kind: NpyKind | undefined): string[] {
  if (kind === 'cross') return ['layer', 'head', 'target', 'source'];
  if (kind === 'decoder') return ['layer', 'head', 'target', 'target'];
  if (kind === 'encoder') return ['layer', 'head', 'source', 'source'];
  return ['layer', 'head', 'query', 'key'];
}

/** [layers, heads, query, key] of layers that share one shape. */
function shapeOf(layers: readonly LayerAttention[], what: string): [number, number, number, number] {
  const f = layers[0];
  for (const l of layers)
    if (l.heads !== f.heads || l.queryLength !== f.queryLength || l.keyLength !== f.keyLength)
      throw new ExportError(
        `NPY needs one shape for ${what}, but layer ${l.layer} is ${l.heads} × ${l.queryLength} × ${l.keyLength} and layer ${f.layer} is ${f.heads} × ${f.queryLength} × ${f.keyLength}: export JSON or CSV instead.`,
      );
  return [layers.length, f.heads, f.queryLength, f.keyLength];
}

/** The shape [layers, heads, query, key]; every layer must have the same heads and lengths. An encoder–decoder
 *  run's: that of its first kind's file (npyKindShape for the others). */
export function npyShape(run: RunData): [number, number, number, number] {
  checkLayers(run);
  const kinds = npyKinds(run);
  if (kinds) return shapeOf(kinds[0].layers, `the ${kinds[0].kind} layers`);
  const f = run.layers[0];
  for (const l of run.layers)
    if (l.heads !== f.heads || l.queryLength !== f.queryLength || l.keyLength !== f.keyLength)
      throw new ExportError(
        `NPY needs one shape for every layer, but layer ${l.layer} is ${l.heads} × ${l.queryLength} × ${l.keyLength} and layer 0 is ${f.heads} × ${f.queryLength} × ${f.keyLength}: export JSON or CSV instead.`,
      );
  return [run.layers.length, f.heads, f.queryLength, f.keyLength];
}

/** Layers in words, "5 layers × 8 heads × 17 × 17" ([layers, heads, query, key]); an encoder–decoder run's per kind,
 *  with what its axes are ("encoder 2 layers × 4 heads × 8 × 8 (source × source), decoder 2 layers × 4 heads × 7 × 7
 *  (target × target), cross 2 layers × 4 heads × 7 × 8 (target × source)"), or one kind's alone. */
export function describeLayers(run: Pick<RunData, 'layers'>, only?: NpyKind): string {
  const words = (layers: readonly LayerAttention[]) => {
    const f = layers[0];
    const n = layers.length;
    return `${n} layer${n === 1 ? '' : 's'} × ${f.heads} heads × ${f.queryLength} × ${f.keyLength}`;
  };
  const kinds = npyKinds(run);
  if (!kinds) return run.layers.length ? words(run.layers) : '0 layers';
  return kinds
    .filter((k) => only === undefined || k.kind === only)
    .map((k) => `${k.kind} ${words(k.layers)} (${kindAxes(k.kind).slice(2).join(' × ')})`)
    .join(', ');
}

/** NPY 1.0 header: magic, version, little-endian header length, then the dict padded with spaces so the data starts
 *  at a multiple of 64 bytes. */
export function npyHeader(shape: readonly number[]): Uint8Array {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const unpadded = 10 + dict.length + 1;
  const total = Math.ceil(unpadded / 64) * 64;
  const header = dict + ' '.repeat(total - unpadded) + '\n';
  const out = new Uint8Array(total);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]); // \x93NUMPY v1.0
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  return out;
}

/** Writes one kind of an encoder–decoder run as NPY [layers, heads, query, key] (its own file: npyKindFile). */
export async function writeNpyKind(run: RunData, kind: NpyKind, sink: ByteSink, o: WriteOptions = {}): Promise<void> {
  checkLayers(run);
  const layers = npyKinds(run)?.find((k) => k.kind === kind)?.layers;
  if (!layers) throw new ExportError(`The run has no ${kind} layers.`);
  await writeNpyLayers(layers, shapeOf(layers, `the ${kind} layers`), sink, o);
}

async function writeNpy(run: RunData, sink: ByteSink, o: WriteOptions): Promise<void> {
  const kinds = npyKinds(run);
  await writeNpyLayers(kinds ? kinds[0].layers : run.layers, npyShape(run), sink, o);
}

async function writeNpyLayers(
  layers: readonly LayerAttention[],
  shape: [number, number, number, number],
  sink: ByteSink,
  o: WriteOptions,
): Promise<void> {
  await sink.write(npyHeader(shape));
  const per = shape[2] * shape[3];
  const heads = layers.reduce((s, l) => s + l.heads, 0);
  let done = 0;
  for (const l of layers)
    for (let h = 0; h < l.heads; h++) {
      aborted(o.signal);
      // One head [query, key] at a time, copied so that the chunk owns its bytes (and is little-endian).
      const head = l.data.slice(h * per, (h + 1) * per);
      const bytes = new Uint8Array(head.buffer);
      if (!LITTLE_ENDIAN) for (let i = 0; i < bytes.length; i += 4) bytes.subarray(i, i + 4).reverse();
      await sink.write(bytes);
      o.onProgress?.(++done / heads);
    }
}

/** The format tag of an NPY export's JSON sidecar (what the .npy cannot hold: the model, tokens and layer layout). */
export const NPY_SIDECAR_FORMAT = 'attention-lens-npy-sidecar';

/** The sidecar's file name beside `npyName` (run.npy → run.npy.json): never the name of a JSON export. */
export function npySidecarName(npyName: string): string {
  return `${npyName}.json`;
}

/** The NPY export's sidecar: the tokens, the model facts and each layer's kind and [heads, query, key] layout, and
 *  the array it describes (file name, dtype, shape, axis order), so that the pair opens as a run again. */
export function npySidecar(run: RunData, npyName: string): string {
  const shape = npyShape(run);
  const tokens = run.tokens.map((t, index) => ({
    index,
    ...(t.id !== undefined ? { id: t.id } : {}),
    text: t.text,
    start: t.start,
    end: t.end,
    special: t.special,
    ...(t.template ? { template: true } : {}),
    ...(t.generated ? { generated: true } : {}),
  }));
  const layers = run.layers.map((l) => ({
    layer: l.layer,
    kind: l.kind,
    ...(l.stackLayer !== undefined ? { stack_layer: l.stackLayer } : {}),
    heads: l.heads,
    queryLength: l.queryLength,
    keyLength: l.keyLength,
  }));
  // Encoder–decoder runs: one array per kind, each named with its file, shape and axes (the cross file is
  // [layers, heads, target, source]); the export's own file is the first (encoder).
  const kinds = npyKinds(run);
  const arrays = kinds?.map((k) => ({
    kind: k.kind,
    file: npyKindFile(npyName, k.kind),
    dtype: '<f4',
    shape: shapeOf(k.layers, `the ${k.kind} layers`),
    axes: kindAxes(k.kind),
    layers: k.layers.map((l) => l.layer),
  }));
  return (
    JSON.stringify(
      {
        format: NPY_SIDECAR_FORMAT,
        version: 1,
        array: { file: npyName, dtype: '<f4', shape, axes: kindAxes(kinds?.[0].kind) },
        ...(arrays ? { arrays } : {}),
        model: run.model,
        ...(run.source ? { source: run.source } : {}),
        tokens,
        ...(run.target ? { source_tokens: tokens, ...run.target } : {}),
        layers,
      },
      null,
      1,
    ) + '\n'
  );
}

// ----- CSV ------------------------------------------------------------------------------------------------------

export const CSV_HEADER = 'layer,head,query,key,weight,query_token,key_token';
/** The columns a run with generated tokens adds (as JSON's `generated: true`): whether the query and the key token
 * were written by the model (`true`) or are the input (`false`). A run without any keeps the 7 columns above. */
export const CSV_GENERATED_COLUMNS = ',query_generated,key_generated';
/** The column an encoder–decoder run adds: each row's attention kind (encoder, decoder or cross), which says which
 * token lists query_token and key_token are from (csvAxisTokens). */
export const CSV_KIND_COLUMN = ',kind';

const hasGenerated = (run: RunData) => run.tokens.some((t) => t.generated === true);
const hasKinds = (run: RunData) => npyKinds(run) !== undefined;

/** RFC 4180 field: quoted when it contains a comma, quote, CR or LF (quotes doubled). */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One of an encoder–decoder run's token lists as the JSON export names it (`target_tokens`,
 *  `decoder_input_tokens`); empty when the run does not carry it. */
function targetList(
  run: RunData,
  name: 'target_tokens' | 'decoder_input_tokens',
): Pick<DataToken, 'text'>[] | undefined {
  const list = run.target?.[name];
  if (!Array.isArray(list)) return undefined;
  return list.map((x: unknown) => ({ text: String((x as { text?: unknown } | null)?.text ?? '') }));
}

/** The tokens that label a layer's queries and keys, as the figures label them (figures/seq2seq-axes.ts): the run's
 *  tokens (an encoder–decoder's source) for one-stack and encoder layers; for decoder and cross layers row i is the
 *  decoder predicting target token i (`target_tokens`), a cross layer's keys the source's and a decoder layer's key
 *  j what the decoder read at j (`decoder_input_tokens`: the decoder's start token, then the target one behind). */
export function csvAxisTokens(
  run: RunData,
  kind: LayerAttention['kind'],
): { query: readonly Pick<DataToken, 'text' | 'generated'>[]; key: readonly Pick<DataToken, 'text' | 'generated'>[] } {
  if (kind !== 'decoder' && kind !== 'cross') return { query: run.tokens, key: run.tokens };
  const target = targetList(run, 'target_tokens') ?? [];
  if (kind === 'cross') return { query: target, key: run.tokens };
  const input = targetList(run, 'decoder_input_tokens');
  const shifted = target.length ? [{ text: DECODER_START_LABEL }, ...target.slice(0, -1)] : [];
  return { query: target, key: input && input.length === target.length ? input : shifted };
}

async function writeCsv(run: RunData, sink: ByteSink, o: WriteOptions): Promise<void> {
  checkLayers(run);
  const out = new TextChunks(sink);
  const marked = hasGenerated(run);
  const kinds = hasKinds(run);
  await out.add(CSV_HEADER + (marked ? CSV_GENERATED_COLUMNS : '') + (kinds ? CSV_KIND_COLUMN : '') + '\n');
  const heads = totalHeads(run);
  let done = 0;
  for (const l of run.layers) {
    const Q = l.queryLength;
    const K = l.keyLength;
    const axis = csvAxisTokens(run, l.kind);
    // Each token's text, and with generated tokens its mark for the two generated columns: `,true` or `,false`.
    const texts = (list: typeof axis.query, n: number) =>
      Array.from({ length: n }, (_, i) => csvField(list[i]?.text ?? `#${i}`));
    const marks = (list: typeof axis.query, n: number) =>
      Array.from({ length: n }, (_, i) => (marked ? `,${list[i]?.generated === true}` : ''));
    const queryTexts = texts(axis.query, Q);
    const queryMarks = marks(axis.query, Q);
    const keyTexts = texts(axis.key, K);
    const keyMarks = marks(axis.key, K);
    const kind = kinds ? `,${l.kind}` : '';
    for (let h = 0; h < l.heads; h++) {
      aborted(o.signal);
      for (let q = 0; q < Q; q++) {
        const prefix = `${l.layer},${h},${q},`;
        const qt = queryTexts[q];
        const qm = queryMarks[q];
        const base = (h * Q + q) * K;
        let rows = '';
        for (let k = 0; k < K; k++)
          rows += `${prefix}${k},${f32String(l.data[base + k])},${qt},${keyTexts[k]}${qm}${keyMarks[k]}${kind}\n`;
        await out.add(rows);
      }
      o.onProgress?.(++done / heads);
    }
  }
  await out.flush();
}

// ----- JSON -----------------------------------------------------------------------------------------------------

async function writeJson(run: RunData, sink: ByteSink, o: WriteOptions): Promise<void> {
  checkLayers(run);
  const out = new TextChunks(sink);
  const tokens = run.tokens.map((t, index) => ({
    index,
    ...(t.id !== undefined ? { id: t.id } : {}),
    text: t.text,
    start: t.start,
    end: t.end,
    special: t.special,
    ...(t.template ? { template: true } : {}),
    ...(t.generated ? { generated: true } : {}),
  }));
  await out.add(`{"format":"attention-lens-run","version":1,\n"model":${JSON.stringify(run.model)},\n`);
  if (run.source) await out.add(`"source":${JSON.stringify(run.source)},\n`);
  await out.add(`"tokens":${JSON.stringify(tokens)},\n`);
  if (run.target) {
    await out.add(`"source_tokens":${JSON.stringify(tokens)},\n`);
    for (const [k, v] of Object.entries(run.target)) await out.add(`${JSON.stringify(k)}:${JSON.stringify(v)},\n`);
  }
  await out.add(`"layers":[`);
  const heads = totalHeads(run);
  let done = 0;
  for (const l of run.layers) {
    const Q = l.queryLength;
    const K = l.keyLength;
    await out.add(
      `${l.layer ? ',' : ''}\n{"layer":${l.layer},"kind":"${l.kind}","heads":${l.heads},"queryLength":${Q},"keyLength":${K},"attention":[`,
    );
    for (let h = 0; h < l.heads; h++) {
      aborted(o.signal);
      const rows: string[] = [];
      for (let q = 0; q < Q; q++) {
        const base = (h * Q + q) * K;
        let row = '[';
        for (let k = 0; k < K; k++) {
          const v = l.data[base + k];
          row += (k ? ',' : '') + (v - v === 0 ? f32String(v) : 'null'); // never a bare NaN / Infinity in JSON
        }
        rows.push(row + ']');
      }
      await out.add(`${h ? ',' : ''}[${rows.join(',')}]`);
      o.onProgress?.(++done / heads);
    }
    await out.add(']}');
  }
  await out.add('\n]}\n');
  await out.flush();
}

// ----- entry points ---------------------------------------------------------------------------------------------

/** Writes the run in `format` to the sink. Throws ExportError for runs the format cannot hold. */
export async function writeData(run: RunData, format: DataFormat, sink: ByteSink, o: WriteOptions = {}): Promise<void> {
  if (format === 'npy') return writeNpy(run, sink, o);
  if (format === 'csv') return writeCsv(run, sink, o);
  if (format === 'json') return writeJson(run, sink, o);
  throw new ExportError(`Unknown data format "${String(format)}": use json, csv or npy.`);
}

const digits = (n: number) => String(n).length;
/** Σ_{i<n} digits(i), in O(log n). */
function sumDigits(n: number): number {
  let s = 0;
  for (let p = 1, d = 1; p < n; p *= 10, d++) s += (Math.min(n, p * 10) - p) * d;
  return n > 0 ? s + 1 : 0; // + the "0"
}
const utf8Length = (s: string) => new TextEncoder().encode(s).length;

/** The file's size in bytes (exact for NPY; CSV and JSON assume ~10 characters a weight) and its CSV rows. */
export function estimateDataSize(run: RunData, format: DataFormat): { bytes: number; exact: boolean; values: number } {
  checkLayers(run);
  const values = run.layers.reduce((s, l) => s + l.data.length, 0);
  if (format === 'npy') {
    const kinds = npyKinds(run);
    if (kinds) {
      // Every kind's file together.
      const bytes = kinds.reduce((b, k) => b + npyHeader(shapeOf(k.layers, k.kind)).length, 0) + values * 4;
      return { bytes, exact: true, values };
    }
    const shape = npyShape(run);
    return { bytes: npyHeader(shape).length + values * 4, exact: true, values };
  }
  const W = 10;
  let bytes = 0;
  if (format === 'csv') {
    const marked = hasGenerated(run);
    const kinds = hasKinds(run);
    bytes = CSV_HEADER.length + (marked ? CSV_GENERATED_COLUMNS.length : 0) + (kinds ? CSV_KIND_COLUMN.length : 0) + 1;
    // With generated tokens each text carries its mark (",true" or ",false").
    const lengths = (list: readonly Pick<DataToken, 'text' | 'generated'>[], n: number) =>
      Array.from(
        { length: n },
        (_, i) => utf8Length(csvField(list[i]?.text ?? `#${i}`)) + (marked ? (list[i]?.generated ? 5 : 6) : 0),
      ).reduce((a, b) => a + b, 0);
    for (const l of run.layers) {
      const Q = l.queryLength;
      const K = l.keyLength;
      const axis = csvAxisTokens(run, l.kind);
      const qText = lengths(axis.query, Q);
      const kText = lengths(axis.key, K);
      // Per head: Σ over (q, k) of layer, head, q, k digits + weight + texts + 6 separators (+ the kind).
      const perHead =
        Q * K * (digits(l.layer) + W + 6 + (kinds ? l.kind.length + 1 : 0)) +
        sumDigits(Q) * K +
        sumDigits(K) * Q +
        qText * K +
        kText * Q;
      for (let h = 0; h < l.heads; h++) bytes += perHead + Q * K * digits(h);
    }
  } else {
    bytes = 400 + run.tokens.reduce((s, t) => s + utf8Length(JSON.stringify(t.text)) + 60, 0) + values * (W + 1);
  }
  return { bytes, exact: false, values };
}
