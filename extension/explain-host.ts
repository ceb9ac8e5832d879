// The host side of a panel's Explain view: explains the current run's tokens with the loaded model (runtime/explain,
// the same code as `attention-lens explain`), compares two attention maps (two heads of the run, or one head on the
// run's input and on a second input), posts progress and the results to the webview, and exports them (PNG or SVG
// drawn by figures/ and written by writers/, or JSON) to a file the user chooses. One explanation and one comparison at a time: a new
// request of a kind cancels the one in flight, and so do a new run and closing the panel. Every failure reaches the
// view as one line (explain-logic.ts); details go to the log.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { Inspector } from '../runtime/inspector/api';
import type { LayerAttention, ModelFacts } from '../runtime/types';
import { explain } from '../runtime/explain/explain';
import { resultToJson, type ExplainResult } from '../runtime/explain/result';
import { headMap } from '../runtime/explain/compare-maps';
import type {
  AgreementMetric,
  ColorMapName,
  CompareRequestMessage,
  ExplainRequestKind,
  ExplainRequestMessage,
  HostMessage,
  RunSource,
  TokenInfo,
} from '../protocol/messages';
import { compareFigure } from '../figures/compare-figure';
import { explainFigure } from '../figures/explain-figure';
import { EXPORT_OPTIONS, ExportError } from '../figures/figure-kit';
import type { Scene } from '../figures/scene';
import { PAPER } from '../figures/theme';
import { PNG_SCALES, pngSize } from '../figures/view-figure';
import { formatBytes, sceneImage } from '../writers/export-image';
import { writeExport } from './export-file';
import { defaultExportFolder, safeFileName } from './export-location';
import type { ExportOutcome } from './export';
import {
  EMPTY_SECOND_INPUT,
  checkExplainRequest,
  compare,
  compareMessage,
  comparisonJson,
  explainFailure,
  headLabel,
  progressText,
  type Comparison,
} from './explain-logic';

/** What the Explain view needs of the panel's current run. */
export interface ExplainRun {
  runId: number;
  inspector: Inspector;
  ids: readonly number[];
  tokens: readonly TokenInfo[];
  facts: ModelFacts;
  /** The layers received so far. */
  layers: readonly LayerAttention[];
  source: RunSource;
}

export interface ExplainHostDeps {
  post(message: HostMessage): void;
  log(line: string): void;
  colorMap(): ColorMapName;
}

interface Slot {
  runId: number;
  requestId: number;
  abort: AbortController;
}

type ExportFormat = 'png' | 'svg' | 'json';
const EXPORT_FORMATS: readonly ExportFormat[] = ['png', 'svg', 'json'];

/** Answers given in advance (the palette command's arguments): the format, the PNG scale, and for scripts and tests the
 *  file, which skips the save dialog (the format then comes from its extension and the scale defaults to 1). */
export interface ExplainExportOptions {
  format?: ExportFormat;
  scale?: number;
  target?: vscode.Uri;
}

export class ExplainHost {
  private slots: Partial<Record<ExplainRequestKind, Slot>> = {};
  private lastExplain: { runId: number; requestId: number; result: ExplainResult; text: string } | undefined;
  private lastCompare: { runId: number; requestId: number; comparison: Comparison } | undefined;

  constructor(private readonly deps: ExplainHostDeps) {}

  /** Stops whatever is in flight and forgets the results (a new run, or the panel closed). */
  reset(): void {
    for (const slot of Object.values(this.slots)) slot?.abort.abort();
    this.slots = {};
    this.lastExplain = undefined;
    this.lastCompare = undefined;
  }

  /** Posts the last results of this run again (the webview reloaded). */
  replay(runId: number): void {
    const e = this.lastExplain;
    if (e?.runId === runId)
      this.deps.post({ type: 'explainResult', runId, requestId: e.requestId, result: wire(e.result) });
    const c = this.lastCompare;
    if (c?.runId === runId) this.deps.post(compareMessage(runId, c.requestId, c.comparison));
  }

  /** True when run `runId` has an explanation (`explain`) or a comparison (`compare`) to export. */
  hasResult(runId: number, what: ExplainRequestKind): boolean {
    return (what === 'explain' ? this.lastExplain : this.lastCompare)?.runId === runId;
  }

  /** Stops request `requestId` (the view's Cancel). */
  cancel(requestId: number): void {
    for (const slot of Object.values(this.slots)) if (slot?.requestId === requestId) slot.abort.abort();
  }

  private begin(kind: ExplainRequestKind, runId: number, requestId: number): Slot {
    this.slots[kind]?.abort.abort();
    const slot = { runId, requestId, abort: new AbortController() };
    this.slots[kind] = slot;
    return slot;
  }

  private current(kind: ExplainRequestKind, slot: Slot): boolean {
    return this.slots[kind] === slot && !slot.abort.signal.aborted;
  }

  private end(kind: ExplainRequestKind, slot: Slot): void {
    if (this.slots[kind] === slot) delete this.slots[kind];
  }

  private fail(kind: ExplainRequestKind, slot: Slot, message: string, cancelled = false): void {
    this.deps.post({
      type: 'explainError',
      runId: slot.runId,
      requestId: slot.requestId,
      kind,
      cancelled,
      message,
    });
  }

  private progress(kind: ExplainRequestKind, slot: Slot, text: string, done?: number, total?: number): void {
    this.deps.post({
      type: 'explainProgress',
      runId: slot.runId,
      requestId: slot.requestId,
      kind,
      text,
      ...(done !== undefined ? { done } : {}),
      ...(total !== undefined ? { total } : {}),
    });
  }

  private report(kind: ExplainRequestKind, slot: Slot, e: unknown): void {
    const err = explainFailure(e, kind);
    if (!err.cancelled)
      this.deps.log(
        `${kind === 'explain' ? 'Explain' : 'Compare'} (run ${slot.runId}) failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
      );
    // A request replaced by a newer one ends silently (the view waits for the newer one).
    if (this.slots[kind] === slot || err.cancelled) this.fail(kind, slot, err.message, err.cancelled);
  }

  /** Explains the run's tokens for the request's target with its methods. */
  async explain(run: ExplainRun, m: ExplainRequestMessage): Promise<void> {
    const slot = this.begin('explain', run.runId, m.requestId);
    const problem = checkExplainRequest(run.facts, m.target, m.methods);
    if (problem) {
      this.fail('explain', slot, problem);
      return this.end('explain', slot);
    }
    try {
      this.progress('explain', slot, 'Starting…');
      const result = await explain(run.inspector, [...run.ids], {
        target: m.target,
        methods: m.methods,
        signal: slot.abort.signal,
        onProgress: (p) => {
          if (this.current('explain', slot)) this.progress('explain', slot, progressText(p), p.done, p.total);
        },
      });
      if (!this.current('explain', slot)) return;
      // The run's tokens (with their spans in the document): the explanation ran on exactly their ids.
      result.tokens = result.tokens.map((t, i) => {
        const r = run.tokens[i];
        return r ? { ...t, start: r.start, end: r.end } : t;
      });
      this.lastExplain = { runId: run.runId, requestId: m.requestId, result, text: run.source.text };
      this.deps.post({ type: 'explainResult', runId: run.runId, requestId: m.requestId, result: wire(result) });
    } catch (e) {
      this.report('explain', slot, e);
    } finally {
      this.end('explain', slot);
    }
  }

  /** Compares two maps of one layer: heads a and b of the run, or head a on the run's input and on `text`. */
  async compare(run: ExplainRun, m: CompareRequestMessage): Promise<void> {
    const slot = this.begin('compare', run.runId, m.requestId);
    try {
      const layer = run.layers.find((l) => l.layer === m.layer);
      if (!layer) {
        this.fail('compare', slot, `Layer ${m.layer} has not been computed yet: wait for the run to reach it.`);
        return;
      }
      const causal = layer.kind === 'causal';
      const tokens = [...run.tokens];
      let comparison: Comparison;
      if (m.mode === 'heads') {
        comparison = compare(
          'heads',
          m.layer,
          { label: headLabel(m.a), tokens, causal, map: headMap(layer, m.a) },
          { label: headLabel(m.b), tokens, causal, map: headMap(layer, m.b) },
        );
      } else {
        const text = m.text ?? '';
        if (text.trim() === '') {
          this.fail('compare', slot, EMPTY_SECOND_INPUT);
          return;
        }
        this.progress('compare', slot, 'Running the model on the second input…');
        const maxTokens = vscode.workspace.getConfiguration('attentionLens').get<number>('maxTokens', 512);
        const stream = run.inspector.run(text, {
          signal: slot.abort.signal,
          truncate: true,
          maxTokens: maxTokens > 0 ? maxTokens : undefined,
        });
        let other: LayerAttention | undefined;
        for await (const l of stream) {
          if (l.layer !== m.layer) continue;
          other = l;
          break; // leaving the loop cancels the rest of the pass
        }
        if (!this.current('compare', slot)) return;
        if (!other) throw new Error(`the second input's run ended before layer ${m.layer}`);
        const otherTokens = stream.tokens.map((t) => ({
          text: t.text,
          start: t.start,
          end: t.end,
          special: t.special,
        }));
        comparison = compare(
          'inputs',
          m.layer,
          { label: `this input, ${headLabel(m.a)}`, tokens, causal, map: headMap(layer, m.a) },
          {
            label: `second input, ${headLabel(m.a)}`,
            tokens: otherTokens,
            causal: other.kind === 'causal',
            map: headMap(other, m.a),
          },
        );
        if (stream.truncatedFrom !== undefined) comparison.truncatedFrom = stream.truncatedFrom;
      }
      if (!this.current('compare', slot)) return;
      this.lastCompare = { runId: run.runId, requestId: m.requestId, comparison };
      this.deps.post(compareMessage(run.runId, m.requestId, comparison));
    } catch (e) {
      this.report('compare', slot, e);
    } finally {
      this.end('compare', slot);
    }
  }

  /** Exports the view's explanation or comparison: asks the format (and PNG scale) and the file, then writes it. Both the
   *  view's Export… and, on the Explain tab, the palette's Export… come here. */
  async export(
    run: ExplainRun,
    what: ExplainRequestKind,
    metric: AgreementMetric,
    options: ExplainExportOptions = {},
  ): Promise<ExportOutcome> {
    const explained = what === 'explain' && this.lastExplain?.runId === run.runId ? this.lastExplain : undefined;
    const compared = what === 'compare' && this.lastCompare?.runId === run.runId ? this.lastCompare : undefined;
    if (!explained && !compared) {
      const message = `Nothing to export yet: press ${what === 'explain' ? 'Explain' : 'Compare'} in the panel’s Explain view first.`;
      void vscode.window.showWarningMessage(message);
      return { ok: false, message };
    }
    const cancelled: ExportOutcome = { ok: false, cancelled: true, message: 'Export cancelled.' };
    const whatText = explained
      ? `the explanation of ${explained.result.target.label}`
      : `the comparison of ${compared!.comparison.a.label} and ${compared!.comparison.b.label}`;
    try {
      const items = [
        {
          format: 'png' as ExportFormat,
          label: 'PNG image',
          description: whatText,
          detail: 'Pixels at 1× to 4× (you choose the scale next).',
        },
        { format: 'svg' as ExportFormat, label: 'SVG image', description: whatText, detail: 'Vectors and text.' },
        {
          format: 'json' as ExportFormat,
          label: 'JSON',
          description: whatText,
          detail: explained
            ? 'Every score per token, agreement, distances, faithfulness, erasure curves and head statistics.'
            : 'Both maps, their difference over the aligned tokens and the JSD per row.',
        },
      ];
      let format = options.format;
      if (!format && options.target) {
        const ext = path.extname(options.target.path).slice(1).toLowerCase();
        if (EXPORT_FORMATS.includes(ext as ExportFormat)) format = ext as ExportFormat;
      }
      if (!format) {
        const pick = await vscode.window.showQuickPick(items, {
          title: 'Attention Lens: Export from the Explain view',
          placeHolder: 'Export as…',
        });
        if (!pick) return cancelled;
        format = pick.format;
      }
      const label = items.find((i) => i.format === format)!.label;
      const modelName = run.facts.name;
      let bytes: Uint8Array;
      let details: string;
      let size: { width?: number; height?: number } = {};
      if (format === 'json') {
        const text = explained
          ? resultToJson({ text: explained.text, ...explained.result })
          : resultToJson(comparisonJson(compared!.comparison, modelName));
        bytes = new TextEncoder().encode(text + '\n');
        details = formatBytes(bytes.length);
      } else {
        const figure = explained
          ? explainFigure(explained.result, { metric, colorMap: this.deps.colorMap() }, PAPER, {
              ...EXPORT_OPTIONS,
              source: explained.text,
            })
          : compareFigure(compareData(compared!.comparison, modelName), this.deps.colorMap(), PAPER, {
              ...EXPORT_OPTIONS,
              source: run.source.text,
            });
        const scale = format === 'png' ? (options.scale ?? (options.target ? 1 : await pickScale(figure))) : 1;
        if (scale === undefined) return cancelled;
        const image = await sceneImage(figure, format, scale);
        bytes = image.bytes;
        size = { width: image.width, height: image.height };
        details = `${image.width} × ${image.height} ${format === 'png' ? 'px' : 'units'}, ${formatBytes(bytes.length)}`;
      }
      const name = `${safeFileName(modelName)}-${what === 'explain' ? 'explain' : 'compare'}.${format}`;
      const target =
        options.target ??
        (await vscode.window.showSaveDialog({
          defaultUri: vscode.Uri.joinPath(defaultExportFolder(run.source.uri), name),
          filters: { [label]: [format] },
          title: `Save ${whatText} as ${format.toUpperCase()} (${details})`,
          saveLabel: 'Export',
        }));
      if (!target) return cancelled;
      const written = await writeExport(target, async (sink) => {
        await sink.write(bytes);
      });
      const file = target.scheme === 'file' ? path.basename(target.fsPath) : target.toString();
      const message = `Saved ${file} (${details}).`;
      this.deps.log(`Export: saved ${file} (${details}) → ${target.toString()}`);
      void vscode.window.showInformationMessage(message, 'Open').then((choice) => {
        if (choice === 'Open') void vscode.commands.executeCommand('vscode.open', target);
      });
      return { ok: true, uri: target.toString(), format, bytes: written, ...size, notes: [], message };
    } catch (e) {
      const message =
        e instanceof ExportError || (e as Error).name === 'WriteError'
          ? (e as Error).message
          : `The export failed: ${(e as Error).message ?? String(e)}`;
      this.deps.log(`Export: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      void vscode.window.showErrorMessage(message);
      return { ok: false, message };
    }
  }
}

/** The result as it crosses to the webview: plain JSON values (NaN and ±Infinity as null). */
function wire(result: ExplainResult): ExplainResult {
  return JSON.parse(resultToJson(result)) as ExplainResult;
}

function compareData(c: Comparison, modelName: string) {
  const side = (s: Comparison['a']) => ({ label: s.label, tokens: s.tokens, causal: s.causal, data: s.map });
  return { modelName, ...c, a: side(c.a), b: side(c.b) };
}

async function pickScale(figure: Scene): Promise<number | undefined> {
  const items = PNG_SCALES.map((s) => {
    const { width, height } = pngSize(figure, s);
    return { label: `${s}×`, description: `${width} × ${height} px`, scale: s };
  });
  const pick = await vscode.window.showQuickPick(items, { title: 'Export as PNG', placeHolder: 'Scale' });
  return pick?.scale;
}
