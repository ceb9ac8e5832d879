// `attention-lens export`: runs the model on the text and writes one view (matrix, grid, head) as PNG or SVG, or the
// whole run as JSON, CSV or NPY. Images are the views' figures (figures/) written by writers/export-image.ts, the
// same code the panel's export uses, so the CLI and the panel write the same image for the same run and view.
import { readFileSync } from 'node:fs';
import { load } from '../runtime/inspector/load-model';
import { LensError } from '../runtime/errors';
import type { LayerAttention } from '../runtime/types';
import { ExportError } from '../figures/figure-kit';
import { headText } from '../figures/labels';
import { MemoryRunMaps } from '../figures/run-maps';
import { estimateDataSize, writeData, type RunData } from '../writers/attention-data';
import { describeImage, exportImage, formatBytes } from '../writers/export-image';
import type { ExportArgs } from './export-args';
import { FileSink, checkWritable } from './file-sink';

function readText(args: ExportArgs): string {
  if (args.text !== undefined) return args.text;
  try {
    return readFileSync(args.file!, 'utf8').replace(/^\uFEFF/, '');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new LensError('BAD_INPUT', `Cannot read --file ${args.file} (${why}); give a readable UTF-8 text file.`);
  }
}

const asLensError = (e: unknown) => (e instanceof ExportError ? new LensError('BAD_INPUT', e.message) : e);

export async function exportCommand(args: ExportArgs, print: (s: string) => void): Promise<void> {
  const text = readText(args);
  if (text.trim().length === 0)
    throw new LensError('EMPTY_TEXT', 'The text is empty; give some text with --text or --file.');
  checkWritable(args.out);
  let inspector;
  try {
    inspector = await load(args.model, { backend: args.backend, threads: args.threads });
    const f = inspector.facts;
    if (args.layer >= f.layers)
      throw new LensError(
        'BAD_INPUT',
        `--layer ${args.layer} does not exist: ${f.name} has ${f.layers} layers (0–${f.layers - 1}).`,
      );
    if (typeof args.head === 'number' && args.head >= f.heads)
      throw new LensError(
        'BAD_INPUT',
        `--head ${args.head} does not exist: ${f.name} has ${f.heads} heads (0–${f.heads - 1}), or use mean or max.`,
      );
    const run = inspector.run(text, { truncate: args.truncate });
    const layers: LayerAttention[] = [];
    for await (const l of run) layers.push(l);
    print(`model      ${f.name} (${f.modelType}), ${f.layers} layers × ${f.heads} heads; ${run.tokens.length} tokens`);

    if (args.format === 'png' || args.format === 'svg') {
      const maps = new MemoryRunMaps(f.name, run.tokens, f.layers, f.heads);
      for (const l of layers) maps.add(l);
      const image = await exportImage(
        maps,
        { view: args.view, layer: args.layer, head: args.head, colorMap: args.colorMap },
        { format: args.format, scale: args.scale, source: text },
      );
      const sink = await FileSink.open(args.out);
      try {
        await sink.write(image.bytes);
        await sink.commit();
      } catch (e) {
        sink.abort();
        throw e;
      }
      const what = args.view === 'grid' ? 'model grid' : `${args.view}, layer ${args.layer}, ${headText(args.head)}`;
      print(`wrote      ${args.out} (${what}; ${describeImage(image)})`);
      for (const n of image.notes) print(`note       ${n}`);
      return;
    }
    const data: RunData = {
      model: { ...f },
      tokens: run.tokens,
      layers,
      source: args.file !== undefined ? { file: args.file } : undefined,
    };
    const size = estimateDataSize(data, args.format);
    const sink = await FileSink.open(args.out);
    try {
      await writeData(data, args.format, sink);
      await sink.commit();
    } catch (e) {
      sink.abort();
      throw e;
    }
    const shape = `${layers.length} layers × ${f.heads} heads × ${run.tokens.length} × ${run.tokens.length}`;
    const rows = args.format === 'csv' ? `, ${size.values.toLocaleString('en-US')} rows` : '';
    print(`wrote      ${args.out} (${args.format.toUpperCase()}: ${shape}${rows}, ${formatBytes(sink.bytes)})`);
  } catch (e) {
    throw asLensError(e);
  } finally {
    await inspector?.dispose();
  }
}
