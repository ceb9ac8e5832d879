// What the attention export offers — from the panel (its Export… button) or the command palette (Attention Lens:
// Export…): the current view (model grid, head view, matrix) as PNG at a chosen scale or SVG, or the run's data as
// JSON, CSV or NPY — handed to the one export flow (export-flow.ts), which asks where and writes. Images are the
// views' figures (figures/) written by writers/ — the CLI's code — so both agree. The user always chooses the file in
// a save dialog whose title says how large the export will be; only tests pass a target (args.target), which skips
// the dialog. On the panel's Explain tab the palette's Export… exports the Explain view instead (commands/export.ts →
// explain-host.ts).
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { ColorMapName } from '../protocol/messages';
import { ExportError } from '../figures/figure-kit';
import { headText } from '../figures/labels';
import { MemoryRunMaps } from '../figures/run-maps';
import { labelTokens } from '../figures/token-display';
import { EXPORT_VIEWS, PNG_SCALES, pngSize, viewFigure, type ImageFormat, type ViewSpec } from '../figures/view-figure';
import {
  DATA_FORMATS,
  estimateDataSize,
  npyKindFile,
  npyKinds,
  npySidecar,
  npySidecarName,
  writeData,
  writeNpyKind,
  type ByteSink,
  type WriteOptions,
  type DataFormat,
  type RunData,
} from '../writers/attention-data';
import { describeImage, exportImage, formatBytes } from '../writers/export-image';
import { runExport, sourcesOf, type ExportOutcome, type FormatChoice, type PreparedExport } from './export-flow';
import { safeFileName } from './export-location';
import type { HeadChoice, RunSnapshot } from './run-snapshot';
import type { KeptAttention } from '../runtime/inspector/api';
import { keptHeadSidecar, planKeptExport } from './export-kept';
import { KeptExportMaps } from '../writers/kept-export-maps';
import { keptRows, writeCsvStream, writeNpyStream } from '../writers/attention-stream';

export type { ExportOutcome };

export type ExportFormat = ImageFormat | DataFormat;
const FORMATS: readonly ExportFormat[] = ['png', 'svg', ...DATA_FORMATS];

/** Arguments of attentionLens.export (all optional; missing ones are asked for). */
export interface ExportCommandArgs {
  format?: ExportFormat;
  scale?: number;
  view?: 'matrix' | 'grid' | 'head';
  layer?: number;
  head?: HeadChoice;
  /** The matrix's window of rows (queries) and columns (keys), [start, end) each: the image shows it, and a kept
   *  run's NPY / CSV holds its entries. Default: the whole map. A kept run's head view: its tokens (rows = cols). */
  window?: { rows: { start: number; end: number }; cols: { start: number; end: number } };
  /** Where to write (a URI string or an absolute path). For tests and scripts: skips the save dialog (and the
   *  questions: the format comes from the extension, the scale defaults to 1). */
  target?: string | vscode.Uri;
}

export const NOTHING_TO_EXPORT =
  'Nothing to export yet: run "Attention Lens: Show Attention" on some text first, then export from the panel or with "Attention Lens: Export…".';

/** Checks the command's arguments; a string is the one-line reason they are wrong. */
export function parseExportArgs(raw: unknown): ExportCommandArgs | string {
  if (raw === undefined || raw === null || raw instanceof vscode.Uri) return {};
  if (typeof raw !== 'object')
    return 'The export arguments must be an object ({ format, scale, view, layer, head, target }).';
  const a = raw as Record<string, unknown>;
  const out: ExportCommandArgs = {};
  if (a.format !== undefined) {
    if (!FORMATS.includes(a.format as ExportFormat))
      return `Unknown export format "${String(a.format)}": use png, svg, json, csv or npy.`;
    out.format = a.format as ExportFormat;
  }
  if (a.scale !== undefined) {
    if (!PNG_SCALES.includes(a.scale as number)) return 'The PNG scale must be 1, 2, 3 or 4.';
    out.scale = a.scale as number;
  }
  if (a.view !== undefined) {
    if (!EXPORT_VIEWS.includes(a.view as 'matrix'))
      return `Unknown view "${String(a.view)}": use matrix, grid or head.`;
    out.view = a.view as 'matrix';
  }
  if (a.layer !== undefined) {
    if (!Number.isInteger(a.layer) || (a.layer as number) < 0) return 'The layer must be a non-negative integer.';
    out.layer = a.layer as number;
  }
  if (a.head !== undefined) {
    if (a.head !== 'mean' && a.head !== 'max' && !(Number.isInteger(a.head) && (a.head as number) >= 0))
      return "The head must be a non-negative integer, 'mean' or 'max'.";
    out.head = a.head as HeadChoice;
  }
  if (a.window !== undefined) {
    const w = a.window as { rows?: { start?: unknown; end?: unknown }; cols?: { start?: unknown; end?: unknown } };
    const span = (x: { start?: unknown; end?: unknown } | undefined) =>
      x &&
      Number.isInteger(x.start) &&
      Number.isInteger(x.end) &&
      (x.start as number) >= 0 &&
      (x.end as number) > (x.start as number)
        ? { start: x.start as number, end: x.end as number }
        : undefined;
    const rows = typeof w === 'object' && w ? span(w.rows) : undefined;
    const cols = typeof w === 'object' && w ? span(w.cols) : undefined;
    if (!rows || !cols)
      return 'The window must be { rows: { start, end }, cols: { start, end } } with whole numbers, start < end.';
    out.window = { rows, cols };
  }
  if (a.target !== undefined) {
    if (!(a.target instanceof vscode.Uri) && (typeof a.target !== 'string' || !a.target))
      return 'The target must be a URI or an absolute path.';
    out.target = a.target as string | vscode.Uri;
  }
  return out;
}

export function toUri(t: string | vscode.Uri): vscode.Uri {
  if (t instanceof vscode.Uri) return t;
  return /^[a-zA-Z][-+.a-zA-Z0-9]+:/.test(t) && !/^[a-zA-Z]:[\\/]/.test(t) ? vscode.Uri.parse(t) : vscode.Uri.file(t);
}

/** The run's layers as the figures read them. */
function runMaps(run: RunSnapshot): MemoryRunMaps {
  const windows = run.facts.slidingWindows ?? [];
  const tokens = labelTokens(run.tokens, run.source.text); // the panel's labels
  const maps = new MemoryRunMaps(run.facts.name, tokens, run.facts.layers, run.facts.heads, windows);
  for (const l of run.layers) maps.add(l);
  // Encoder–decoder runs: the target labels the rows of decoder and cross layers (the head view's left column).
  if (run.targetTokens) maps.targetTokens = labelTokens(run.targetTokens);
  if (run.decoderInputTokens) maps.decoderInputTokens = labelTokens(run.decoderInputTokens);
  return maps;
}

function runData(run: RunSnapshot): RunData {
  // A continued run (Continue) says where the model's output starts, as `attention-lens generate --out` does.
  const first = run.tokens.findIndex((t) => t.generated === true);
  return {
    model: { ...run.facts },
    tokens: run.tokens.map((t, i) => ({ ...t, id: run.ids[i] })),
    layers: run.layers,
    source: {
      uri: run.source.uri,
      range: run.source.range,
      modelPath: run.source.modelPath,
      ...(run.source.chat ? { chat: true } : {}),
      ...(first >= 0 ? { generated: { promptTokens: first, generatedTokens: run.tokens.length - first } } : {}),
    },
    // Encoder–decoder runs: the target's tokens (queries of decoder and cross layers) beside the source's.
    ...(run.targetTokens
      ? {
          target: {
            target_tokens: run.targetTokens.map((t) => ({
              text: t.text,
              start: t.start,
              end: t.end,
              special: t.special,
            })),
            ...(run.decoderInputTokens
              ? {
                  decoder_input_tokens: run.decoderInputTokens.map((t) => ({
                    text: t.text,
                    start: t.start,
                    end: t.end,
                    special: t.special,
                  })),
                }
              : {}),
          },
        }
      : {}),
  };
}

const FILTERS: Record<ExportFormat, Record<string, string[]>> = {
  png: { 'PNG image': ['png'] },
  svg: { 'SVG image': ['svg'] },
  json: { JSON: ['json'] },
  csv: { 'CSV (long format)': ['csv'] },
  npy: { 'NumPy array': ['npy'] },
};

export class Exporter {
  constructor(
    private readonly log: vscode.OutputChannel,
    private readonly colorMap: () => ColorMapName,
  ) {}

  /** Exports the run of a panel (the one whose Export button was pressed, or the active one). `note`: one line that
   *  says why the attention view is exported rather than what the panel shows (an Explain view with no result). */
  async export(run: RunSnapshot | undefined, rawArgs?: unknown, note?: string): Promise<ExportOutcome> {
    const fail = (message: string): ExportOutcome => {
      this.log.appendLine(`Export: ${message}`);
      void vscode.window.showWarningMessage(message);
      return { ok: false, message };
    };
    const args = parseExportArgs(rawArgs);
    if (typeof args === 'string') return fail(args);
    if (!run) return fail(NOTHING_TO_EXPORT);
    if (run.kept) return this.exportKept(run, run.kept, args, note, fail);
    if (!run.layers.length) return fail('The run has no layer yet: wait for the first layer, then export.');
    if (note) this.log.appendLine(`Export: ${note}`);

    const view = args.view ?? (run.view.view === 'neuron' ? 'matrix' : run.view.view);
    const spec: ViewSpec = {
      view,
      layer: args.layer ?? run.view.layer,
      head: args.head ?? run.view.head,
      colorMap: this.colorMap(),
      ...(args.window && view === 'matrix' ? { window: args.window } : {}),
    };
    const input = runMaps(run);
    const data = runData(run);
    const viewText =
      view === 'grid'
        ? 'the model grid'
        : `the ${view === 'head' ? 'head view' : 'matrix'} of layer ${spec.layer}, ${headText(spec.head)}`;
    const size = (f: DataFormat) => {
      try {
        const e = estimateDataSize(data, f);
        return `${e.exact ? '' : 'about '}${formatBytes(e.bytes)}`;
      } catch (e) {
        return e instanceof ExportError ? e.message : 'size unknown';
      }
    };
    const rows = run.layers.reduce((s, l) => s + l.data.length, 0).toLocaleString('en-US');
    const shape = `${run.layers.length} layers × ${run.facts.heads} heads × ${run.tokens.length} × ${run.tokens.length}`;
    const choice = (format: ExportFormat, label: string, description: string, detail: string) =>
      ({ format, label, description, detail, filter: FILTERS[format] }) satisfies FormatChoice<ExportFormat>;
    const choices = [
      choice('png', 'PNG image', viewText, 'Pixels at 1× to 4× (you choose the scale next).'),
      choice('svg', 'SVG image', viewText, 'Vectors: one rectangle per cell, token labels as text.'),
      choice('json', 'JSON', size('json'), `The model, the tokens and every weight (${shape}).`),
      choice('csv', 'CSV', size('csv'), `Long format: layer, head, query, key, weight, token texts (${rows} rows).`),
      choice(
        'npy',
        'NPY',
        size('npy'),
        npyKinds(data)
          ? 'One NumPy float32 file per kind: encoder, decoder and cross [layers, heads, target, source].'
          : `NumPy float32 array [layers, heads, query, key] = [${shape.replace(/ × /g, ', ')}].`,
      ),
    ];
    const target = args.target !== undefined ? toUri(args.target) : undefined;
    return runExport(
      {
        choices,
        pickTitle: note ?? 'Attention Lens: Export',
        pickPlaceholder: note ? 'Export the attention view as…' : 'Export as…',
        ...(args.format ? { format: args.format } : {}),
        ...(target ? { target } : {}),
        sources: sourcesOf(run),
        // The note, unless the format question already said it.
        prepare: (format, asked) => {
          const lead = note && !asked ? [note] : [];
          return format === 'png' || format === 'svg'
            ? this.prepareImage(run, input, spec, format, args, viewText, lead)
            : Promise.resolve(this.prepareData(run, data, format, lead));
        },
      },
      (line) => this.log.appendLine(line),
    );
  }

  /** A run kept for long inputs: the matrix (whole overview or a window), the grid or the head view (its window of
   *  tokens) as images, one head (or a window of it) as NPY / CSV streamed to the file; JSON refused in one line
   *  (export-kept.ts). */
  private async exportKept(
    run: RunSnapshot,
    kept: KeptAttention,
    args: ExportCommandArgs,
    note: string | undefined,
    fail: (message: string) => ExportOutcome,
  ): Promise<ExportOutcome> {
    const layersDone = Array.from({ length: run.facts.layers }, (_, l) => kept.layer(l)).findIndex((o) => !o);
    // A target names the format by its extension (as runExport reads it), JSON included, so that it is refused here.
    const ext = args.target !== undefined ? path.extname(toUri(args.target).path).slice(1).toLowerCase() : '';
    const format = args.format ?? (FORMATS.includes(ext as ExportFormat) ? (ext as ExportFormat) : undefined);
    const plan = planKeptExport(
      {
        tokens: run.tokens.length,
        layers: run.facts.layers,
        heads: run.facts.heads,
        layersDone: layersDone < 0 ? run.facts.layers : layersDone,
        view: run.view,
      },
      // The matrix zoomed in the panel: its visible window (what the user sees is what is exported).
      {
        ...args,
        ...(format ? { format } : {}),
        ...(!args.window && run.view.window && run.view.view === 'matrix' && !args.view
          ? { window: run.view.window }
          : {}),
      },
    );
    if (typeof plan === 'string') return fail(plan);
    if (note) this.log.appendLine(`Export: ${note}`);
    const tokens = labelTokens(run.tokens, run.source.text);
    const settled = new KeptExportMaps(run.facts, run.facts.name, tokens, kept);
    const spec: ViewSpec = {
      view: plan.view,
      layer: plan.layer,
      head: plan.head,
      colorMap: this.colorMap(),
      ...(plan.window ? { window: plan.window } : {}),
    };
    const { data } = plan;
    const size = (b: number) => formatBytes(b);
    const choice = (format: ExportFormat, label: string, description: string, detail: string) =>
      ({ format, label, description, detail, filter: FILTERS[format] }) satisfies FormatChoice<ExportFormat>;
    const choices = [
      choice(
        'png',
        'PNG image',
        plan.viewText,
        plan.view === 'head'
          ? 'Pixels at 1× to 4×; the lines are the window’s exact weights.'
          : 'Pixels at 1× to 4×; beyond a window of exact cells, the overview’s block max.',
      ),
      choice(
        'svg',
        'SVG image',
        plan.viewText,
        plan.view === 'head'
          ? 'Vectors: one line per weight drawn, token labels as text.'
          : 'Vectors: at most 256 cells a side (pooled by block max beyond).',
      ),
      choice('npy', 'NPY', size(data.npyBytes), `NumPy float32 [rows, cols] of ${data.text}, streamed to the file.`),
      choice(
        'csv',
        'CSV',
        `about ${size(data.values * 40)}`,
        `Long format, ${data.values.toLocaleString('en-US')} rows: ${data.text}.`,
      ),
    ];
    const target = args.target !== undefined ? toUri(args.target) : undefined;
    const base = `${safeFileName(run.facts.name)}-${plan.view === 'grid' ? 'grid' : `${plan.view}-${data.fileTag}`}`;
    return runExport(
      {
        choices,
        pickTitle: note ?? `Attention Lens: Export (a run of ${run.tokens.length.toLocaleString('en-US')} tokens)`,
        pickPlaceholder: 'Export as…',
        ...(args.format ? { format: args.format } : {}),
        ...(target ? { target } : {}),
        sources: sourcesOf(run),
        prepare: async (format) => {
          if (format === 'png' || format === 'svg') {
            const draw = (scale: number) => viewFigure(settled.maps, spec, format, scale, run.source.text);
            // Every exact window the drawing reads, fetched first: the head view draws nothing without them.
            await settled.settle(() => draw(args.scale ?? 1));
            let scale = args.scale ?? 1;
            if (format === 'png' && args.scale === undefined && args.target === undefined) {
              const items = PNG_SCALES.map((s) => {
                const { width, height } = pngSize(draw(s).scene, s);
                return { label: `${s}×`, description: `${width} × ${height} px`, scale: s };
              });
              const pick = await vscode.window.showQuickPick(items, {
                title: `Export ${plan.viewText} as PNG`,
                placeHolder: 'Scale',
                ignoreFocusOut: true,
              });
              if (!pick) return undefined;
              scale = pick.scale;
            }
            await settled.settle(() => draw(scale)); // the scale chosen may read other windows (pooled cells)
            const image = await exportImage(settled.maps, spec, { format, scale, source: run.source.text });
            const details = describeImage(image);
            return {
              fileName: `${base}.${format}`,
              saveTitle: `Save ${plan.viewText} as ${format.toUpperCase()} (${details})`,
              produce: async (sink) => {
                await sink.write(image.bytes);
              },
              details: () => details,
              notes: image.notes,
              width: image.width,
              height: image.height,
            } satisfies PreparedExport;
          }
          const rows = keptRows(kept, {
            layer: plan.layer,
            heads: run.facts.heads,
            length: run.tokens.length,
            head: plan.head,
            rows: data.rows,
            cols: data.cols,
          });
          const sizeText = format === 'npy' ? size(data.npyBytes) : `about ${size(data.values * 40)}`;
          const texts = (s: { start: number; end: number }) => tokens.slice(s.start, s.end).map((t) => t.text);
          return {
            fileName: `${base}.${format}`,
            saveTitle: `Save ${data.text} as ${format.toUpperCase()} (${sizeText})`,
            progressTitle: `Attention Lens: exporting ${format.toUpperCase()} (${sizeText})`,
            produce: (sink, control) =>
              format === 'npy'
                ? writeNpyStream(rows, sink, { ...control, squeeze: true })
                : writeCsvStream(
                    rows,
                    {
                      layer: plan.layer,
                      headNames: [plan.head],
                      queryTexts: texts(data.rows),
                      keyTexts: texts(data.cols),
                      rowOffset: data.rows.start,
                      colOffset: data.cols.start,
                    },
                    sink,
                    control,
                  ),
            details: (bytes) => `${data.text}, ${formatBytes(bytes)}`,
            notes: [],
            ...(format === 'npy'
              ? {
                  companion: (file: string) => ({
                    name: npySidecarName(file),
                    text: keptHeadSidecar(file, plan, { ...run.facts }, run.tokens),
                  }),
                }
              : {}),
          } satisfies PreparedExport;
        },
      },
      (line) => this.log.appendLine(line),
    );
  }

  private async prepareImage(
    run: RunSnapshot,
    input: MemoryRunMaps,
    spec: ViewSpec,
    format: ImageFormat,
    args: ExportCommandArgs,
    viewText: string,
    lead: string[],
  ): Promise<PreparedExport | undefined> {
    let scale = args.scale ?? 1;
    if (format === 'png' && args.scale === undefined && args.target === undefined) {
      const items = PNG_SCALES.map((s) => {
        const { width, height } = pngSize(viewFigure(input, spec, 'png', s, run.source.text).scene, s);
        return { label: `${s}×`, description: `${width} × ${height} px`, scale: s };
      });
      const pick = await vscode.window.showQuickPick(items, {
        title: `Export ${viewText} as PNG`,
        placeHolder: 'Scale',
        ignoreFocusOut: true,
      });
      if (!pick) return undefined;
      scale = pick.scale;
    }
    const image = await exportImage(input, spec, { format, scale, source: run.source.text });
    const headTag = typeof spec.head === 'number' ? `H${spec.head}` : spec.head;
    const details = describeImage(image);
    return {
      fileName:
        spec.view === 'grid'
          ? `${safeFileName(run.facts.name)}-grid.${format}`
          : `${safeFileName(run.facts.name)}-${spec.view}-L${spec.layer}-${headTag}.${format}`,
      saveTitle: `Save ${viewText} as ${format.toUpperCase()} (${details})`,
      produce: async (sink) => {
        await sink.write(image.bytes);
      },
      details: () => details,
      notes: [...lead, ...image.notes],
      width: image.width,
      height: image.height,
    };
  }

  private prepareData(run: RunSnapshot, data: RunData, format: DataFormat, lead: string[]): PreparedExport {
    const kinds = npyKinds(data);
    if (run.state === 'running')
      throw new ExportError(
        `The run is still in progress (${run.layers.length} of ${run.facts.layers} layers): export its data when it has finished.`,
      );
    const size = estimateDataSize(data, format);
    const sizeText = `${size.exact ? '' : 'about '}${formatBytes(size.bytes)}`;
    const notes: string[] = [...lead];
    if (run.layers.length < run.facts.layers)
      notes.push(`The run stopped early: ${run.layers.length} of ${run.facts.layers} layers are exported.`);
    return {
      fileName: `${safeFileName(run.facts.name)}-attention.${format}`,
      saveTitle: `Save the run as ${format.toUpperCase()} (${sizeText})`,
      progressTitle: `Attention Lens: exporting ${format.toUpperCase()} (${sizeText})`,
      produce: (sink, control) => writeData(data, format, sink, control),
      details: (bytes) =>
        format === 'csv'
          ? `${size.values.toLocaleString('en-US')} rows, ${formatBytes(bytes)}`
          : format === 'npy' && kinds
            ? `${kinds.map((k) => `${k.kind} ${k.layers.length} × ${k.layers[0].heads} × ${k.layers[0].queryLength} × ${k.layers[0].keyLength}`).join(', ')}, ${formatBytes(bytes)}`
            : `${run.layers.length} × ${run.facts.heads} × ${run.tokens.length} × ${run.tokens.length}, ${formatBytes(bytes)}`,
      notes,
      ...(format === 'npy'
        ? { companion: (file: string) => ({ name: npySidecarName(file), text: npySidecar(data, file) }) }
        : {}),
      // An encoder–decoder run: the chosen file holds the encoder's layers, one file per other kind beside it.
      ...(format === 'npy' && kinds
        ? {
            extraFiles: (file: string) =>
              kinds.slice(1).map((k) => ({
                name: npyKindFile(file, k.kind),
                produce: (sink: ByteSink, control: WriteOptions) => writeNpyKind(data, k.kind, sink, control),
              })),
          }
        : {}),
    };
  }
}
