// Writes an export to the place the user chose. Local files (file: URIs, the usual case, also in remote windows
// where the extension host runs beside the files) are streamed to a temporary file in the same folder and renamed
// into place when complete, so a failure or a cancel never leaves a broken or half-written file; other schemes go
// through vscode.workspace.fs in one write (up to MAX_MEMORY_EXPORT bytes). Errors say which file and why.
import * as vscode from 'vscode';
import { createWriteStream, rmSync, renameSync, type WriteStream } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ByteSink } from '../webview/render/export-data';
import { WRITE_REASONS as REASONS } from '../runtime/files/write-reasons';

export const MAX_MEMORY_EXPORT = 512 * 1024 * 1024;

/** A one-line reason for a failed write, naming the file. */
export class WriteError extends Error {
  constructor(target: vscode.Uri, cause: unknown) {
    const code = (cause as { code?: string }).code ?? '';
    const why = REASONS[code] ?? (cause instanceof Error ? cause.message : String(cause));
    super(
      `Could not save ${target.scheme === 'file' ? target.fsPath : target.toString()}: ${why}${code && REASONS[code] ? ` (${code})` : ''}. Choose another file or folder.`,
    );
    this.name = 'WriteError';
  }
}

class LocalSink implements ByteSink {
  bytes = 0;
  constructor(
    private readonly target: vscode.Uri,
    private readonly out: WriteStream,
  ) {}
  write(chunk: Uint8Array): Promise<void> {
    this.bytes += chunk.length;
    return new Promise((res, rej) => this.out.write(chunk, (e) => (e ? rej(new WriteError(this.target, e)) : res())));
  }
}

class MemorySink implements ByteSink {
  bytes = 0;
  readonly chunks: Uint8Array[] = [];
  write(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    if (this.bytes > MAX_MEMORY_EXPORT)
      throw new Error(
        `exports to this location are limited to ${MAX_MEMORY_EXPORT / 1048576} MB; save to a local folder instead`,
      );
    this.chunks.push(chunk.slice());
  }
}

/** Runs `produce` into the target; returns the bytes written. Throws WriteError on any failure (nothing left). */
export async function writeExport(target: vscode.Uri, produce: (sink: ByteSink) => Promise<void>): Promise<number> {
  if (target.scheme === 'file') {
    const path = target.fsPath;
    const temp = join(dirname(path), `.${basename(path)}.${process.pid}.partial`);
    const out = createWriteStream(temp);
    try {
      await new Promise<void>((res, rej) => {
        out.once('open', () => res());
        out.once('error', rej);
      });
    } catch (e) {
      throw new WriteError(target, e);
    }
    const sink = new LocalSink(target, out);
    try {
      await produce(sink);
      await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
      renameSync(temp, path);
      return sink.bytes;
    } catch (e) {
      out.destroy();
      rmSync(temp, { force: true });
      if (e instanceof WriteError || (e as Error).name === 'AbortError' || (e as Error).name === 'ExportError') throw e;
      throw new WriteError(target, e);
    }
  }
  const sink = new MemorySink();
  try {
    await produce(sink);
  } catch (e) {
    if ((e as Error).name === 'AbortError' || (e as Error).name === 'ExportError') throw e;
    throw new WriteError(target, e);
  }
  const all = new Uint8Array(sink.bytes);
  let o = 0;
  for (const c of sink.chunks) {
    all.set(c, o);
    o += c.length;
  }
  try {
    await vscode.workspace.fs.writeFile(target, all);
  } catch (e) {
    throw new WriteError(target, e);
  }
  return sink.bytes;
}
