// A run written as a folder of NPY files, one per layer ([heads, query, key] float32 each), plus a JSON sidecar that
// lists them with the tokens and the model (`attention-lens run --out FOLDER/`). Each layer is streamed by blocks of
// rows (attention-stream.ts) into its own temporary file, renamed into place when complete (runtime/files), so a
// kept run (long inputs) never has a whole layer in memory and a failure leaves earlier files as they were.
// Encoder–decoder runs name each file by its kind (encoder-00.npy [heads, source, source], decoder-00.npy
// [heads, target, target], cross-00.npy [heads, target, source]), and the sidecar says which axis is which.
import * as path from 'node:path';
import type { AttentionKind } from '../runtime/types';
import { OutputFile } from '../runtime/files/output-file';
import { ensureFolder, planFolderFile, type FolderPlan } from '../runtime/files/output-folder';
import type { WriteOptions } from './attention-data';
import { writeNpyStream, type RowSource } from './attention-stream';

/** The sidecar's format tag and file name. */
export const NPY_FOLDER_FORMAT = 'attention-lens-npy-layers';
export const NPY_FOLDER_SIDECAR = 'attention-lens.json';

export interface FolderLayer {
  layer: number;
  kind: AttentionKind;
  /** Encoder–decoder entries: the layer within its stack. */
  stackLayer?: number;
}

export interface FolderEntry {
  file: string;
  layer: number;
  kind: AttentionKind;
  stack_layer?: number;
  dtype: '<f4';
  shape: [number, number, number];
  axes: [string, string, string];
}

const STACK_KINDS: readonly AttentionKind[] = ['encoder', 'decoder', 'cross'];

/** The file of a layer: layer-07.npy, or by kind for an encoder–decoder's entries (cross-03.npy). */
export function layerFileName(l: FolderLayer, layers: number): string {
  const width = Math.max(2, String(Math.max(0, layers - 1)).length);
  const byKind = STACK_KINDS.includes(l.kind) && l.stackLayer !== undefined;
  const n = String(byKind ? l.stackLayer : l.layer).padStart(width, '0');
  return byKind ? `${l.kind}-${n}.npy` : `layer-${n}.npy`;
}

/** The axes of a layer's array: what its rows and columns are tokens of. */
export function layerAxes(kind: AttentionKind): [string, string, string] {
  if (kind === 'cross') return ['head', 'target', 'source'];
  if (kind === 'decoder') return ['head', 'target', 'target'];
  return ['head', 'query', 'key'];
}

export class NpyFolderWriter {
  private readonly entries: FolderEntry[] = [];
  private current: OutputFile | undefined;

  /** `layers`: how many entries the run has (for the width of the numbers in file names). */
  constructor(
    private readonly plan: FolderPlan,
    private readonly layers: number,
  ) {}

  /** The files written so far. */
  get files(): readonly FolderEntry[] {
    return this.entries;
  }

  /** Writes one layer's file from its rows; resolves when the file is in place. */
  async layer(l: FolderLayer, source: RowSource, o: WriteOptions = {}): Promise<FolderEntry> {
    ensureFolder(this.plan);
    const file = layerFileName(l, this.layers);
    const out = await OutputFile.open(planFolderFile(this.plan, file));
    this.current = out;
    try {
      await writeNpyStream(source, out, o);
      await out.commit();
    } catch (e) {
      out.abort();
      throw e;
    } finally {
      this.current = undefined;
    }
    const entry: FolderEntry = {
      file,
      layer: l.layer,
      kind: l.kind,
      ...(l.stackLayer !== undefined ? { stack_layer: l.stackLayer } : {}),
      dtype: '<f4',
      shape: [source.heads, source.queryLength, source.keyLength],
      axes: layerAxes(l.kind),
    };
    this.entries.push(entry);
    return entry;
  }

  /** Writes the sidecar (`fields`: model, tokens, an encoder–decoder's target...) listing every file; returns its
   *  path. */
  async end(fields: Record<string, unknown>): Promise<string> {
    ensureFolder(this.plan);
    const text =
      JSON.stringify({ format: NPY_FOLDER_FORMAT, version: 1, ...fields, files: this.entries }, null, 1) + '\n';
    const out = await OutputFile.open(planFolderFile(this.plan, NPY_FOLDER_SIDECAR));
    try {
      await out.write(text);
      await out.commit();
    } catch (e) {
      out.abort();
      throw e;
    }
    return path.join(this.plan.folder, NPY_FOLDER_SIDECAR);
  }

  /** Drops the file being written (a failure or an interrupt); files already in place stay. */
  abort(): void {
    this.current?.abort();
  }
}
