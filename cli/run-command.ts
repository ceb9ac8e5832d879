// `attention-lens run`: loads the model in a worker, runs the text, prints facts, tokens, per-head summaries and
// timings as layers arrive, and optionally streams every map to a JSON file (a temporary file beside --out, renamed
// into place when the run completes: a failed or interrupted run leaves whatever --out was before).
import type { RunArgs } from './run-args';
import { load } from '../runtime/inspector/load-model';
import { downloadReporter } from './download-progress';
import { OutputFile } from '../runtime/files/output-file';
import { formatFacts, formatKeptLayer, formatLayer, formatTimings, formatTokens, tokenLabel } from './format';
import { checkJsonKept, checkJsonSize, JsonRunWriter, targetJson, tokenJson } from './json-writer';
import { checkTargetModel } from './input-options';
import { targetText, targetRunOptions, formatTarget } from './target-format';
import { planOut, protectedFiles, readCommandText, reportTo, warnOnStderr } from './command-files';
import { isFolderOutput, planOutputFolder, type FolderPlan } from '../runtime/files/output-folder';
import { keepsRun } from '../runtime/inspector/long-runs';
import { NPY_FOLDER_SIDECAR, NpyFolderWriter } from '../writers/npy-folder';
import { denseRows, keptRows } from '../writers/attention-stream';
import { effectiveThreads } from './parse-options';
import * as path from 'node:path';
import { LensError } from '../runtime/errors';

export async function runCommand(
  args: RunArgs,
  stdout: (s: string) => void,
  warn: (s: string) => void = warnOnStderr,
): Promise<void> {
  // Every check of the input and the output comes before the model loads.
  const text = await readCommandText(args, warn);
  const inputs = { '--file': args.file };
  // --out FOLDER/ (a path ending in / or an existing folder): one NPY per layer, streamed; otherwise one JSON file.
  const folderPlan: FolderPlan | undefined =
    args.out !== undefined && isFolderOutput(args.out)
      ? planOutputFolder(args.out, protectedFiles(args.model, inputs), '--out')
      : undefined;
  // run writes JSON to a file: another extension would hold JSON under a name that says otherwise.
  if (args.out !== undefined && !folderPlan && /\.(npy|csv|png|svg)$/i.test(args.out))
    throw new LensError(
      'BAD_INPUT',
      `run --out writes JSON (or one NPY per layer with --out FOLDER/); for ${path.extname(args.out).slice(1).toUpperCase()} use \`attention-lens export --out ${path.basename(args.out)}\`.`,
    );
  const plan = args.out !== undefined && !folderPlan ? planOut(args.out, args.model, inputs) : undefined;
  const print = reportTo(plan, stdout);
  const threads = effectiveThreads(args.threads, warn);
  const out = plan ? await OutputFile.open(plan) : undefined;
  let inspector;
  let folderWriter: NpyFolderWriter | undefined;
  try {
    inspector = await load(args.model, {
      backend: args.backend,
      threads,
      hub: { onWarning: warn },
      onDownload: downloadReporter(),
    });
    for (const w of inspector.warnings ?? []) warn(w);
    checkTargetModel(args, inspector.facts);
    if (out) {
      // Before any inference: all maps as JSON grow as tokens²; refuse what would not be read as text anyway, and
      // a kept run, which has no maps to write.
      const all = inspector.tokenize(text, {
        chat: args.chat,
        ...(args.sourceLanguage !== undefined ? { sourceLanguage: args.sourceLanguage } : {}),
      }).length;
      const n = args.truncate ? Math.min(all, inspector.facts.maxPositions) : all;
      // An encoder–decoder's run holds its maps whatever --long says (they stream as any run's).
      checkJsonKept(inspector.facts, n, !inspector.facts.encoderDecoder && keepsRun(args.long, inspector.facts, n));
      checkJsonSize(inspector.facts, n);
    }
    print(formatFacts(inspector));
    // Long inputs: above 1 GiB of maps the worker keeps q/k and the summaries, and each layer prints from them.
    const run = inspector.run(text, {
      truncate: args.truncate,
      chat: args.chat,
      long: args.long,
      ...targetRunOptions(args),
    });
    print(formatTokens(run.tokens, run.truncatedFrom));
    const labels = run.tokens.map((t) => tokenLabel(t, text));
    const writer = out ? new JsonRunWriter(out) : undefined;
    const entries = inspector.facts.attentionKinds.length || inspector.facts.layers;
    const folder = folderPlan ? new NpyFolderWriter(folderPlan, entries) : undefined;
    folderWriter = folder;
    await writer?.begin({ ...inspector.facts, backend: inspector.backend, threads: inspector.threads }, run.tokens);
    // Encoder–decoders, as the matrix labels them (figures/seq2seq-axes.ts): decoder and cross rows by the target
    // token each predicts, decoder keys by what the decoder read (its start token, then the target one behind).
    let targetLabels: string[] | undefined;
    let inputLabels: string[] | undefined;
    let keptLayers = 0;
    for await (const layer of run) {
      const target = run.target();
      if (target && !targetLabels && (layer.kind === 'decoder' || layer.kind === 'cross')) {
        // The target is known before the first decoder layer: given, or translated by now.
        print(formatTarget(target, inspector.tokenizer, args.targetText));
        targetLabels = target.tokens.map((t) => tokenLabel(t, undefined));
        inputLabels = target.decoderInput.map((t) => tokenLabel(t, undefined));
      }
      if (layer.overview) print(formatKeptLayer(layer.overview));
      else if (layer.kind === 'decoder') print(formatLayer(layer, targetLabels ?? [], inputLabels ?? []));
      else if (layer.kind === 'cross') print(formatLayer(layer, targetLabels ?? [], labels));
      else print(formatLayer(layer, labels));
      await writer?.layer(layer);
      if (layer.overview) keptLayers++;
      if (folder) {
        // A kept layer's rows are recomputed from q and k where the model runs, one block at a time.
        const source = layer.overview
          ? keptRows(run.kept!, { layer: layer.layer, heads: layer.heads, length: layer.queryLength })
          : denseRows(layer);
        await folder.layer(layer, source);
      }
    }
    const target = run.target();
    const targetFields = target ? targetJson(target, targetText(target, inspector.tokenizer)) : {};
    await writer?.end(targetFields);
    if (folder) {
      const tokens = tokenJson(run.tokens);
      await folder.end({
        model: { ...inspector.facts, backend: inspector.backend, threads: inspector.threads },
        // Whether the layers were recomputed from q and k (an encoder–decoder streams its maps even when asked).
        kept: keptLayers > 0,
        tokens,
        ...(inspector.facts.encoderDecoder ? { source_tokens: tokens } : {}),
        ...targetFields,
      });
    }
    print(formatTimings(inspector.loadMs, run.timings()!));
    if (folder)
      print(`wrote      ${args.out} (${folder.files.length} NPY files [heads, query, key] and ${NPY_FOLDER_SIDECAR})`);
    else if (args.out !== undefined) print(`wrote      ${args.out}`);
  } catch (e) {
    out?.abort();
    folderWriter?.abort();
    throw e;
  } finally {
    await inspector?.dispose();
  }
}
