// The editor tint: when a token is selected (in the panel, from the hover, or at the cursor), every token of the
// run's range is tinted by how much the chosen token attends to it in the panel's selected view, the chosen token is
// outlined, and a legend follows the range's last line (0, eight swatches, the largest weight). Colours are theme
// colours contributed in package.json (attentionLens.tint1..8, attentionLens.tintBorder), with defaults for light,
// dark and both high-contrast themes. Editing or closing the document or starting another run in that panel clears it.
import * as vscode from 'vscode';
import {
  TINT_LEVELS,
  escapeMarkdown,
  keptTokenWeights,
  layerOf,
  tintLevels,
  tokenWeights,
  viewLabel,
  weightText,
} from './hover-logic';
import type { LayerAttention } from '../runtime/types';
import type { RunSnapshot } from './run-snapshot';
import { documentIdentity, mappingCurrent, STALE_LINE } from './run-range';
import { escapeIcons } from './icon-text';

export const TINTED_CONTEXT = 'attentionLens.tinted';

export type TintResult =
  | {
      ok: true;
      runId: number;
      index: number;
      token: string;
      layer: number;
      head: number | 'mean' | 'max';
      levels: number[];
    }
  | { ok: false; message: string };

interface Current {
  runId: number;
  panelKey: object;
  index: number;
  uri: string;
  /** documentIdentity() of the tinted document: a document closed and opened again is not tinted. */
  document: number;
  version: number;
  byLevel: vscode.Range[][];
  chosen: vscode.Range | undefined;
  legendAt: vscode.Range;
  legendLabel: string;
  legendMax: string;
}

export class TintController implements vscode.Disposable {
  private readonly levels: vscode.TextEditorDecorationType[] = [];
  private readonly swatches: vscode.TextEditorDecorationType[] = [];
  private readonly chosenType: vscode.TextEditorDecorationType;
  private readonly legendLabelType: vscode.TextEditorDecorationType;
  private readonly legendMaxType: vscode.TextEditorDecorationType;
  private readonly status: vscode.StatusBarItem;
  private readonly subscriptions: vscode.Disposable[] = [];
  private current: Current | undefined;

  constructor(private readonly log: vscode.OutputChannel) {
    const border = new vscode.ThemeColor('attentionLens.tintBorder');
    for (let i = 1; i <= TINT_LEVELS; i++) {
      const color = new vscode.ThemeColor(`attentionLens.tint${i}`);
      this.levels.push(
        vscode.window.createTextEditorDecorationType({
          backgroundColor: color,
          border: '1px solid',
          borderColor: border,
          rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
        }),
      );
    }
    this.chosenType = vscode.window.createTextEditorDecorationType({
      border: '2px solid',
      borderColor: new vscode.ThemeColor('attentionLens.selectedTokenBorder'),
      fontWeight: 'bold',
    });
    const legendText = { color: new vscode.ThemeColor('editorCodeLens.foreground'), fontStyle: 'italic' };
    this.legendLabelType = vscode.window.createTextEditorDecorationType({
      after: { ...legendText, margin: '0 0.4em 0 2em' },
    });
    for (let i = 1; i <= TINT_LEVELS; i++)
      this.swatches.push(
        vscode.window.createTextEditorDecorationType({
          after: {
            contentText: '\u2002',
            backgroundColor: new vscode.ThemeColor(`attentionLens.tint${i}`),
            border: '1px solid',
            borderColor: border,
          },
        }),
      );
    this.legendMaxType = vscode.window.createTextEditorDecorationType({
      after: { ...legendText, margin: '0 0 0 0.4em' },
    });
    this.status = vscode.window.createStatusBarItem('attentionLens.tint', vscode.StatusBarAlignment.Right, 99);
    this.status.name = 'Attention Lens tint';
    this.status.command = 'attentionLens.clearTint';
    this.subscriptions.push(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (this.current && e.contentChanges.length && e.document.uri.toString() === this.current.uri) {
          this.log.appendLine('The tinted document changed: the tint is cleared (run Show Attention again).');
          this.clear();
        }
      }),
      // Closed (not a language change, which keeps the document open): its tint is gone with it.
      vscode.workspace.onDidCloseTextDocument((doc) => {
        if (this.current?.document === documentIdentity(doc) && !vscode.workspace.textDocuments.includes(doc))
          this.clear();
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => this.apply()),
    );
  }

  get tintedRun(): { runId: number; panelKey: object; index: number } | undefined {
    return this.current;
  }

  /** Tints the run's document by token `index`'s attention in the panel's view. `panelKey` identifies the panel. */
  tint(run: RunSnapshot, index: number, panelKey: object, keptRow?: Float64Array): TintResult {
    const t = run.tokens[index];
    if (!t) return { ok: false, message: `The run has no token ${index}.` };
    const { layer, head } = run.view;
    const l = keptRow ? { kind: run.facts.attentionKinds[layer] ?? 'causal' } : layerOf(run, layer);
    if (!l) return { ok: false, message: `Layer ${layer} has not been computed yet; wait for the run.` };
    const to = keptRow ?? tokenWeights(l as LayerAttention, head, index).to;
    if (!to) return { ok: false, message: `Token ${index} is not a query of layer ${layer}.` };
    const tag = `L${layer} ${typeof head === 'number' ? `H${head}` : head}`;
    const what = {
      label: `attention from “${t.text}” · ${tag} · 0`,
      status: `$(symbol-color) Tint: ${escapeIcons(t.text)} · ${tag}`,
      tooltip: `every token of the range is tinted by how much **${escapeMarkdown(t.text)}** attends to it (${viewLabel(head, layer, l.kind)})`,
    };
    const levels = this.paint(run, to, index, panelKey, what);
    if (typeof levels === 'string') return { ok: false, message: levels };
    return { ok: true, runId: run.runId, index, token: t.text, layer, head, levels };
  }

  /**
   * Tints the run's tokens by any non-negative score per token (attention now; attribution scores later), outlining
   * token `chosen`. Returns the level of every token, or why it cannot.
   */
  paint(
    run: RunSnapshot,
    scores: ArrayLike<number>,
    chosen: number | undefined,
    panelKey: object,
    what: { label: string; status: string; tooltip: string },
  ): number[] | string {
    const m = run.mapping;
    if (!m)
      return 'This run is not tied to an open document (its text was given directly or changed before it started).';
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === m.uri);
    if (!doc) return 'The run’s document is closed; open it and run Show Attention again.';
    if (!mappingCurrent(m, doc)) return STALE_LINE;
    const levels = tintLevels(scores);
    const byLevel: vscode.Range[][] = Array.from({ length: TINT_LEVELS }, () => []);
    const rangeOf = (i: number) => {
      const tok = run.tokens[i];
      if (tok?.start === null || tok?.end === null || tok === undefined || tok.end <= tok.start) return undefined;
      return new vscode.Range(doc.positionAt(m.offset + tok.start), doc.positionAt(m.offset + tok.end));
    };
    levels.forEach((lv, i) => {
      const r = lv > 0 && i < run.tokens.length ? rangeOf(i) : undefined;
      if (r) byLevel[lv - 1].push(r);
    });
    let max = 0;
    for (let i = 0; i < scores.length; i++) max = Math.max(max, scores[i]);
    const end = doc.positionAt(m.offset + run.source.text.length);
    const lineEnd = doc.lineAt(end.line).range.end;
    this.current = {
      runId: run.runId,
      panelKey,
      index: chosen ?? -1,
      uri: m.uri,
      document: m.document,
      version: m.version,
      byLevel,
      chosen: chosen !== undefined ? rangeOf(chosen) : undefined,
      legendAt: new vscode.Range(lineEnd, lineEnd),
      legendLabel: what.label,
      legendMax: weightText(max),
    };
    this.apply();
    this.status.text = what.status;
    this.status.tooltip = new vscode.MarkdownString(
      `**Attention Lens tint**: ${what.tooltip}, from none to ${weightText(max)} (strongest). Click to clear.`,
    );
    this.status.show();
    void vscode.commands.executeCommand('setContext', TINTED_CONTEXT, true);
    return levels;
  }

  /** tint(), for a run kept for long inputs too: the token's row asked of the worker first (exact). */
  async tintAny(run: RunSnapshot, index: number, panelKey: object): Promise<TintResult> {
    const { kept, view, facts } = run;
    if (!kept) return this.tint(run, index, panelKey);
    if (!kept.layer(view.layer))
      return { ok: false, message: `Layer ${view.layer} has not been computed yet; wait for the run.` };
    if (!run.tokens[index]) return { ok: false, message: `The run has no token ${index}.` };
    const { to } = await keptTokenWeights(kept, facts.heads, view.layer, view.head, index);
    return this.tint(run, index, panelKey, to);
  }

  /** Re-tints with the panel's new view if this panel's run is the tinted one. */
  retint(run: RunSnapshot | undefined, panelKey: object): void {
    const c = this.current;
    if (!c || c.panelKey !== panelKey) return;
    if (!run || run.runId !== c.runId) {
      this.clear();
      return;
    }
    if (c.index < 0) return; // an attribution tint does not follow the view
    void this.tintAny(run, c.index, panelKey).then(
      (r) => {
        if (!r.ok) this.clear();
      },
      () => this.clear(),
    );
  }

  /** Clears the tint when it belongs to this panel (its run changed or it closed). */
  clearFor(panelKey: object): void {
    if (this.current?.panelKey === panelKey) this.clear();
  }

  clear(): boolean {
    const had = this.current !== undefined;
    this.current = undefined;
    this.apply();
    this.status.hide();
    void vscode.commands.executeCommand('setContext', TINTED_CONTEXT, false);
    return had;
  }

  /** Sets (or removes) the decorations on every visible editor of the tinted document. */
  private apply(): void {
    const c = this.current;
    for (const editor of vscode.window.visibleTextEditors) {
      const mine =
        c !== undefined &&
        editor.document.uri.toString() === c.uri &&
        editor.document.version === c.version &&
        documentIdentity(editor.document) === c.document;
      this.levels.forEach((type, i) => editor.setDecorations(type, mine ? c.byLevel[i] : []));
      editor.setDecorations(this.chosenType, mine && c.chosen ? [c.chosen] : []);
      // Legend pieces in order (label, swatches 1..8, maximum), all after the range's last line.
      const at = (contentText: string) => [{ range: c!.legendAt, renderOptions: { after: { contentText } } }];
      editor.setDecorations(this.legendLabelType, mine ? at(c.legendLabel) : []);
      this.swatches.forEach((type) => editor.setDecorations(type, mine ? [c.legendAt] : []));
      editor.setDecorations(this.legendMaxType, mine ? at(c.legendMax) : []);
    }
  }

  dispose(): void {
    for (const d of [
      ...this.levels,
      ...this.swatches,
      this.chosenType,
      this.legendLabelType,
      this.legendMaxType,
      this.status,
      ...this.subscriptions,
    ])
      d.dispose();
  }
}
