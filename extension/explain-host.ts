// The host side of a panel's Explain view: answers its `explain` and `compare` requests (protocol/messages.ts
// PanelCalls) — explains the current run's tokens with the loaded model (runtime/explain, the same code as
// `attention-lens explain`), compares two attention maps (two heads of the run, or one head on the run's input and on
// a second input) — streaming progress, and exports the results (PNG or SVG drawn by figures/ and written by
// writers/, or JSON) to a file the user chooses. One explanation and one comparison at a time: a new request of a
// kind cancels the one in flight, and so do the view's Cancel, a new run and closing the panel. A result whose webview reloaded meanwhile is
// posted again as a note. Every failure reaches the view as one line (explain-logic.ts); details go to the log.
import { longestMapsRun, longExplainMessage } from '../runtime/inspector/long-runs';
import { explainKept } from '../runtime/explain/explain-kept';
import type { KeptAttention } from '../runtime/inspector/api';
import * as vscode from 'vscode';
import type { Inspector } from '../runtime/inspector/api';
import type { LayerAttention, ModelFacts } from '../runtime/types';
import { explain } from '../runtime/explain/explain';
import { resultToJson, type ExplainResult } from '../runtime/explain/result';
import { headMap } from '../runtime/explain/compare-maps';
import type {
  AgreementMetric,
  ColorMapName,
  CompareRequest,
  CompareResultMessage,
  ExplainProgress,
  ExplainRequest,
  ExplainRequestKind,
  ExplainResultMessage,
  HostMessage,
  RunSource,
  TokenInfo,
} from '../protocol/messages';
import type { HandlerContext } from '../runtime/channel/channel';
import { isLensError, LensError } from '../runtime/errors';
import { compareFigure } from '../figures/compare-figure';
import { explainFigure } from '../figures/explain-figure';
import { EXPORT_OPTIONS } from '../figures/figure-kit';
import type { Scene } from '../figures/scene';
import { PAPER } from '../figures/theme';
import { PNG_SCALES, pngSize } from '../figures/view-figure';
import { formatBytes, sceneImage } from '../writers/export-image';
import { runExport, sourcesOf, type ExportOutcome, type FormatChoice, type PreparedExport } from './export-flow';
import { safeFileName } from './export-location';
import { maxTokensSetting } from './settings';
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
  /** Set when the model continued the run (Continue): its input's length; generated:N targets count from there. */
  promptLength?: number;
  /** Encoder–decoder runs: the target's ids (the translation shown, or the given target), scored as they are. */
  targetIds?: readonly number[];
  /** A run kept for long inputs: Explain runs raw attention and rollout from it (runtime/explain/explain-kept.ts). */
  kept?: KeptAttention;
  /** A kept run's time (one model pass over its tokens): the methods that refuse state their time from it. */
  passMs?: number;
}

export interface ExplainHostDeps {
  post(message: HostMessage): void;
  log(line: string): void;
  colorMap(): ColorMapName;
}

interface Slot {
  runId: number;
  abort: AbortController;
}

type ExportFormat = 'png' | 'svg' | 'json';

/** Answers given in advance (the palette command's arguments): the format, the PNG scale, and for scripts and tests the
 *  file, which skips the save dialog (the format then comes from its extension and the scale defaults to 1). */
export interface ExplainExportOptions {
  format?: ExportFormat;
  scale?: number;
  target?: vscode.Uri;
}

export class ExplainHost {
  private slots: Partial<Record<ExplainRequestKind, Slot>> = {};
  private lastExplain: { runId: number; result: ExplainResult; text: string } | undefined;
  private lastCompare: { runId: number; comparison: Comparison } | undefined;

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
    if (e?.runId === runId) this.deps.post(explainMessage(runId, e.result));
    const c = this.lastCompare;
    if (c?.runId === runId) this.deps.post(compareMessage(runId, c.comparison));
  }

  /** True when run `runId` has an explanation (`explain`) or a comparison (`compare`) to export. */
  hasResult(runId: number, what: ExplainRequestKind): boolean {
    return (what === 'explain' ? this.lastExplain : this.lastCompare)?.runId === runId;
  }

  /** A new request of `kind` (the one in flight is cancelled), cancelled too when the view cancels it. */
  private begin(kind: ExplainRequestKind, runId: number, ctx: HandlerContext<ExplainProgress>): Slot {
    this.slots[kind]?.abort.abort();
    const slot = { runId, abort: new AbortController() };
    this.slots[kind] = slot;
    ctx.signal.addEventListener('abort', () => slot.abort.abort(), { once: true });
    return slot;
  }

  private current(kind: ExplainRequestKind, slot: Slot): boolean {
    return this.slots[kind] === slot && !slot.abort.signal.aborted;
  }

  private end(kind: ExplainRequestKind, slot: Slot): void {
    if (this.slots[kind] === slot) delete this.slots[kind];
  }

  /** The failure as the view gets it: one line, CANCELLED when it was cancelled; the details to the log. */
  private failure(kind: ExplainRequestKind, slot: Slot, e: unknown): LensError {
    const err = explainFailure(e, kind);
    if (!err.cancelled)
      this.deps.log(
        `${kind === 'explain' ? 'Explain' : 'Compare'} (run ${slot.runId}) failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
      );
    return new LensError(err.cancelled ? 'CANCELLED' : isLensError(e) ? e.code : 'INFERENCE_FAILED', err.message);
  }

  /** Explains the run's tokens for the request's target with its methods. */
  async explain(
    run: ExplainRun,
    m: ExplainRequest,
    ctx: HandlerContext<ExplainProgress>,
  ): Promise<Omit<ExplainResultMessage, 'type'>> {
    const slot = this.begin('explain', run.runId, ctx);
    try {
      const problem = checkExplainRequest(run.facts, m.target, m.methods);
      if (problem) throw new LensError('BAD_INPUT', problem);
      ctx.emit({ text: 'Starting…' });
      // The run's tokens: their ids, and the special and chat-template flags that keep tokens out of the candidates.
      const tokens = run.ids.map((id, i) => ({ ...run.tokens[i], id }));
      const onKept = (p: { phase: string; cost: string }) => {
        if (this.current('explain', slot))
          ctx.emit({
            text: `Computing ${p.phase === 'rollout' ? 'rollout' : 'raw attention'} from the kept q and k: ${p.cost}…`,
          });
      };
      const result = run.kept
        ? await explainKept(run.inspector, tokens, run.kept, {
            target: m.target,
            methods: m.methods,
            ...(run.promptLength !== undefined ? { promptLength: run.promptLength } : {}),
            ...(run.passMs !== undefined ? { passMs: run.passMs } : {}),
            signal: slot.abort.signal,
            onProgress: onKept,
          })
        : await explain(run.inspector, tokens, {
            ...(run.promptLength !== undefined ? { promptLength: run.promptLength } : {}),
            ...(run.targetIds ? { targetText: [...run.targetIds] } : {}),
            target: m.target,
            methods: m.methods,
            signal: slot.abort.signal,
            onProgress: (p) => {
              if (!this.current('explain', slot)) return;
              ctx.emit({
                text: progressText(p),
                ...(p.done !== undefined ? { done: p.done } : {}),
                ...(p.total !== undefined ? { total: p.total } : {}),
              });
            },
          });
      if (!this.current('explain', slot)) throw new LensError('CANCELLED', 'The explanation was cancelled.');
      // The run's tokens (with their spans in the document): the explanation ran on exactly their ids.
      result.tokens = result.tokens.map((t, i) => {
        const r = run.tokens[i];
        return r ? { ...t, start: r.start, end: r.end } : t;
      });
      this.lastExplain = { runId: run.runId, result, text: run.source.text };
      const message = explainMessage(run.runId, result);
      // The view that asked reloaded meanwhile: the new one gets the result as a note.
      if (ctx.detached) this.deps.post(message);
      return { runId: message.runId, result: message.result };
    } catch (e) {
      throw this.failure('explain', slot, e);
    } finally {
      this.end('explain', slot);
    }
  }

  /** Compares two maps of one layer: heads a and b of the run, or head a on the run's input and on `text`. */
  async compare(
    run: ExplainRun,
    m: CompareRequest,
    ctx: HandlerContext<ExplainProgress>,
  ): Promise<Omit<CompareResultMessage, 'type'>> {
    const slot = this.begin('compare', run.runId, ctx);
    try {
      if (run.kept) throw new LensError('TOO_LONG', longExplainMessage(run.facts, run.tokens.length));
      const layer = run.layers.find((l) => l.layer === m.layer);
      if (!layer)
        throw new LensError('BAD_INPUT', `Layer ${m.layer} has not been computed yet: wait for the run to reach it.`);
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
        if (text.trim() === '') throw new LensError('BAD_INPUT', EMPTY_SECOND_INPUT);
        ctx.emit({ text: 'Running the model on the second input…' });
        const maxTokens = maxTokensSetting();
        const stream = run.inspector.run(text, {
          signal: slot.abort.signal,
          truncate: true,
          // Its maps are held whole (the comparison reads one layer's map): no longer than a run that is not kept.
          maxTokens: Math.min(maxTokens > 0 ? maxTokens : Infinity, longestMapsRun(run.facts)),
          chat: run.source.chat === true,
        });
        let other: LayerAttention | undefined;
        for await (const l of stream) {
          if (l.layer !== m.layer) continue;
          other = l;
          break; // leaving the loop cancels the rest of the pass
        }
        if (!this.current('compare', slot)) throw new LensError('CANCELLED', 'The comparison was cancelled.');
        if (!other) throw new Error(`the second input's run ended before layer ${m.layer}`);
        const otherTokens = stream.tokens.map((t) => ({
          text: t.text,
          start: t.start,
          end: t.end,
          special: t.special,
          ...(t.template ? { template: true } : {}),
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
      if (!this.current('compare', slot)) throw new LensError('CANCELLED', 'The comparison was cancelled.');
      this.lastCompare = { runId: run.runId, comparison };
      const message = compareMessage(run.runId, comparison);
      if (ctx.detached) this.deps.post(message);
      const { type: _type, ...answer } = message;
      return answer;
    } catch (e) {
      throw this.failure('compare', slot, e);
    } finally {
      this.end('compare', slot);
    }
  }

  /** Exports the view's explanation or comparison through the one export flow (export-flow.ts): PNG (at a scale),
   *  SVG or JSON. Both the view's Export… and, on the Explain tab, the palette's Export… come here. */
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
    const whatText = explained
      ? `the explanation of ${explained.result.target.label}`
      : `the comparison of ${compared!.comparison.a.label} and ${compared!.comparison.b.label}`;
    const modelName = run.facts.name;
    const choice = (format: ExportFormat, label: string, detail: string): FormatChoice<ExportFormat> => ({
      format,
      label,
      description: whatText,
      detail,
      filter: { [label]: [format] },
    });
    const choices = [
      choice('png', 'PNG image', 'Pixels at 1× to 4× (you choose the scale next).'),
      choice('svg', 'SVG image', 'Vectors and text.'),
      choice(
        'json',
        'JSON',
        explained
          ? 'Every score per token, agreement, distances, faithfulness, erasure curves and head statistics.'
          : 'Both maps, their difference over the aligned tokens and the JSD per row.',
      ),
    ];
    const prepare = async (format: ExportFormat): Promise<PreparedExport | undefined> => {
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
        if (scale === undefined) return undefined;
        const image = await sceneImage(figure, format, scale);
        bytes = image.bytes;
        size = { width: image.width, height: image.height };
        details = `${image.width} × ${image.height} ${format === 'png' ? 'px' : 'units'}, ${formatBytes(bytes.length)}`;
      }
      return {
        fileName: `${safeFileName(modelName)}-${what === 'explain' ? 'explain' : 'compare'}.${format}`,
        saveTitle: `Save ${whatText} as ${format.toUpperCase()} (${details})`,
        produce: async (sink) => {
          await sink.write(bytes);
        },
        details: () => details,
        ...size,
      };
    };
    return runExport(
      {
        choices,
        pickTitle: 'Attention Lens: Export from the Explain view',
        pickPlaceholder: 'Export as…',
        ...(options.format ? { format: options.format } : {}),
        ...(options.target ? { target: options.target } : {}),
        sources: sourcesOf(run),
        prepare,
      },
      this.deps.log,
    );
  }
}

/** The result as it crosses to the webview: plain JSON values (NaN and ±Infinity as null). */
function explainMessage(runId: number, result: ExplainResult): ExplainResultMessage {
  return { type: 'explainResult', runId, result: JSON.parse(resultToJson(result)) as ExplainResult };
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
  // ignoreFocusOut: VS Code hands focus back to the panel as the format pick closes, which on a slow machine can land
  // after this pick opens and would close it (the export cancelled without a word).
  const pick = await vscode.window.showQuickPick(items, {
    title: 'Export as PNG',
    placeHolder: 'Scale',
    ignoreFocusOut: true,
  });
  return pick?.scale;
}
