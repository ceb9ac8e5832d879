// `attention-lens export`: runs the model on the text and writes one view (matrix, grid, head) as PNG or SVG, or the
// whole run as JSON, CSV or NPY. Images are the views' figures (figures/) written by writers/export-image.ts, the
// same code the panel's export uses, so the CLI and the panel write the same image for the same run and view.
import path from 'node:path';
import { load } from '../runtime/inspector/load-model';
import { LensError } from '../runtime/errors';
import type { LayerAttention } from '../runtime/types';
import { OutputFile } from '../runtime/files/output-file';
import { cannotWrite } from '../runtime/files/output-target';
import { ExportError } from '../figures/figure-kit';
import { headText } from '../figures/labels';
import { MemoryRunMaps } from '../figures/run-maps';
import { labelTokens } from '../figures/token-display';
import {
  describeLayers,
  estimateDataSize,
  npyKindFile,
  npyKinds,
  npySidecar,
  writeData,
  writeNpyKind,
  type RunData,
} from '../writers/attention-data';
import { describeImage, exportImage, formatBytes } from '../writers/export-image';
import type { ExportArgs } from './export-args';
import { planNpySidecar, planOut, readCommandText, reportTo, warnOnStderr } from './command-files';
import { checkTargetModel } from './input-options';
import { targetJson } from './json-writer';
import { targetRunOptions, targetText } from './target-format';
import { effectiveThreads } from './parse-options';
import { downloadReporter } from './download-progress';

const asLensError = (e: unknown) => (e instanceof ExportError ? new LensError('BAD_INPUT', e.message) : e);

/** An encoder–decoder model's NPY export is one file per kind: refused to a stream (stdout, a device). */
function npyStreamRefusal(out: string): LensError {
  return cannotWrite(
    '--out',
    out,
    "an encoder–decoder model's NPY export is one file per kind (encoder, decoder, cross), which a stream cannot hold; give a file path (e.g. --out attention.npy: the decoder and cross files are written beside it)",
  );
}

export async function exportCommand(
  args: ExportArgs,
  stdout: (s: string) => void,
  warn: (s: string) => void = warnOnStderr,
): Promise<void> {
  // Every check of the input and the output comes before the model loads.
  const text = await readCommandText(args, warn);
  const plan = planOut(args.out, args.model, { '--file': args.file });
  // An NPY file written to disk gets its JSON sidecar beside it (tokens, model, layer layout: what opens it as a run
  // again), planned with the same rules before the model loads; an NPY streamed to stdout has none.
  const sidecarPlan = args.format === 'npy' ? planNpySidecar(plan, args.model, { '--file': args.file }) : undefined;
  const print = reportTo(plan, stdout);
  const threads = effectiveThreads(args.threads, warn);
  const sink = await OutputFile.open(plan);
  /** The other files of an NPY export (the decoder's and cross layers', the sidecar), complete but not yet in place. */
  const pending: OutputFile[] = [];
  let inspector;
  try {
    inspector = await load(args.model, {
      backend: args.backend,
      threads,
      hub: { onWarning: warn },
      onDownload: downloadReporter(),
    });
    for (const w of inspector.warnings ?? []) warn(w);
    const f = inspector.facts;
    checkTargetModel(args, f);
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
    // An encoder–decoder run as NPY is one file per kind, written beside --out: a stream cannot hold them.
    if (f.encoderDecoder && args.format === 'npy' && plan.kind === 'stream') throw npyStreamRefusal(args.out);
    const run = inspector.run(text, { truncate: args.truncate, chat: args.chat, ...targetRunOptions(args) });
    const layers: LayerAttention[] = [];
    for await (const l of run) layers.push(l);
    print(`model      ${f.name} (${f.modelType}), ${f.layers} layers × ${f.heads} heads; ${run.tokens.length} tokens`);

    if (args.format === 'png' || args.format === 'svg') {
      const maps = new MemoryRunMaps(f.name, labelTokens(run.tokens, text), f.layers, f.heads, f.slidingWindows ?? []);
      for (const l of layers) maps.add(l);
      // Encoder–decoder runs: decoder and cross rows are the target's tokens (the title names the kind).
      const target = run.target();
      if (target) {
        maps.targetTokens = labelTokens(target.tokens, undefined);
        maps.decoderInputTokens = labelTokens(target.decoderInput, undefined);
      }
      const image = await exportImage(
        maps,
        { view: args.view, layer: args.layer, head: args.head, colorMap: args.colorMap },
        { format: args.format, scale: args.scale, source: text },
      );
      await sink.write(image.bytes);
      await sink.commit();
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
    const target = run.target();
    if (target) data.target = targetJson(target, targetText(target, inspector.tokenizer));
    const size = estimateDataSize(data, args.format);
    // An encoder–decoder run as NPY: --out holds the encoder's layers, one file per other kind beside it.
    const kinds = args.format === 'npy' ? npyKinds(data) : undefined;
    if (kinds && plan.kind === 'stream') throw npyStreamRefusal(args.out);
    const extra = (kinds ?? []).slice(1).map((k) => ({
      kind: k.kind,
      plan: planOut(path.join(path.dirname(plan.given), npyKindFile(path.basename(plan.given), k.kind)), args.model, {
        '--file': args.file,
      }),
    }));
    // Every file is complete in its temporary file before any is put in place: a failure leaves them all as they were.
    await writeData(data, args.format, sink);
    await sink.finish();
    const written: string[] = [];
    for (const x of extra) {
      const file = await OutputFile.open(x.plan);
      pending.push(file);
      await writeNpyKind(data, x.kind, file);
      await file.finish();
      written.push(`wrote      ${x.plan.given} (NPY: ${describeLayers(data, x.kind)}, ${formatBytes(file.bytes)})`);
    }
    if (sidecarPlan) {
      const side = await OutputFile.open(sidecarPlan);
      pending.push(side);
      await side.write(new TextEncoder().encode(npySidecar(data, path.basename(plan.given))));
      await side.finish();
    }
    sink.place();
    for (const file of pending) file.place(); // the sidecar last
    const shape = kinds ? describeLayers(data, kinds[0].kind) : describeLayers(data);
    const rows = args.format === 'csv' ? `, ${size.values.toLocaleString('en-US')} rows` : '';
    print(`wrote      ${args.out} (${args.format.toUpperCase()}: ${shape}${rows}, ${formatBytes(sink.bytes)})`);
    for (const line of written) print(line);
    if (sidecarPlan) print(`wrote      ${sidecarPlan.given} (its tokens, model and layer layout)`);
  } catch (e) {
    sink.abort();
    for (const file of pending) file.abort();
    throw asLensError(e);
  } finally {
    await inspector?.dispose();
  }
}
