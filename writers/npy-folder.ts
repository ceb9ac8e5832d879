// A run written as a folder of NPY files, one per layer ([heads, query, key] float32 each), plus a JSON sidecar that
// lists them with the tokens and the model (`attention-lens run --out FOLDER/`). Each layer is streamed by blocks of
// rows (attention-stream.ts) into its own temporary file beside its target (runtime/files), so a kept run (long
// inputs) never has a whole layer in memory. Nothing is put in place until the whole run has succeeded: end()
// renames every layer's file into place and the sidecar last, so a failed or interrupted run removes its temporary
// files and leaves the folder as it was (an earlier run's files, byte for byte; a new folder empty, then removed).
// Files of an earlier run that this run does not write stay: they are the user's; the sidecar lists what belongs
// to the run. Encoder–decoder runs name each file by its kind (encoder-00.npy [heads, source, source],
// decoder-00.npy [heads, target, target], cross-00.npy [heads, target, source]), and the sidecar says which axis is
// which.
import * as path from 'node:path';
import type { AttentionKind } from '../runtime/types';
import { OutputFile } from '../runtime/files/output-file';
import { ensureFolder, planFolderFile, removeFolderIfEmpty, type FolderPlan } from '../runtime/files/output-folder';
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
  /** Complete layer files in their temporary files, put in place by end(). */
  private readonly pending: OutputFile[] = [];
  private current: OutputFile | undefined;
  /** This writer created the folder (removed again, if still empty, when the run fails). */
  private created = false;
  private finished = false;

  /** `layers`: how many entries the run has (for the width of the numbers in file names). */
  constructor(
    private readonly plan: FolderPlan,
    private readonly layers: number,
  ) {}

  /** The files of the run: written so far (in temporary files until end()), all of them in place after end(). */
  get files(): readonly FolderEntry[] {
    return this.entries;
  }

  private ensureFolder(): void {
    if (ensureFolder(this.plan)) this.created = true;
  }

  /** Writes one layer's file from its rows into a temporary file beside its target; resolves when the file is
   *  complete. It is put in place by end(), with the others. */
  async layer(l: FolderLayer, source: RowSource, o: WriteOptions = {}): Promise<FolderEntry> {
    if (this.finished) throw new Error('NpyFolderWriter.layer() after end() or abort()');
    try {
      this.ensureFolder();
      const file = layerFileName(l, this.layers);
      const out = await OutputFile.open(planFolderFile(this.plan, file));
      this.current = out;
      await writeNpyStream(source, out, o);
      await out.finish();
      this.pending.push(out);
      this.current = undefined;
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
    } catch (e) {
      this.abort();
      throw e;
    }
  }

  /** Writes the sidecar (`fields`: model, tokens, an encoder–decoder's target...) listing every file, then puts
   *  every layer's file in place and the sidecar last; returns the sidecar's path. */
  async end(fields: Record<string, unknown>): Promise<string> {
    if (this.finished) throw new Error('NpyFolderWriter.end() after end() or abort()');
    try {
      this.ensureFolder();
      const text =
        JSON.stringify({ format: NPY_FOLDER_FORMAT, version: 1, ...fields, files: this.entries }, null, 1) + '\n';
      const side = await OutputFile.open(planFolderFile(this.plan, NPY_FOLDER_SIDECAR));
      this.current = side;
      await side.write(text);
      await side.finish();
      // Renames in the folder itself: the files of the run appear together, the index that lists them last.
      for (const f of this.pending) f.place();
      side.place();
      this.current = undefined;
      this.pending.length = 0;
      this.finished = true;
    } catch (e) {
      this.abort();
      throw e;
    }
    return path.join(this.plan.folder, NPY_FOLDER_SIDECAR);
  }

  /** Drops every file of the run not yet in place (a failure or an interrupt): the folder is left as it was, and a
   *  folder this run created is removed again if it holds nothing. */
  abort(): void {
    if (this.finished) return;
    this.finished = true;
    this.current?.abort();
    this.current = undefined;
    for (const f of this.pending) f.abort();
    this.pending.length = 0;
    if (this.created) removeFolderIfEmpty(this.plan);
  }
}
