// Wires the hover, the editor tint and the export into the extension (one call from activate()): the commands
// (Export…, Tint at Cursor, Clear Tint, and the hover links' Reveal/Tint Token), the hover provider for every
// document (any language, notebook cells included), and the panel hooks that keep them in step with each panel's
// run and selected view. Each panel keeps its own run; lookups go by document URI and version, so runs of
// different documents and panels never mix.
import * as vscode from 'vscode';
import type { ColorMapName } from '../protocol/messages';
import type { AttentionPanel } from './panel';
import { AttentionHoverProvider, REVEAL_COMMAND, TINT_COMMAND, findRunHit } from './hover';
import { TintController, type TintResult } from './decorations';
import { Exporter, parseExportArgs, toUri, type ExportCommandArgs, type ExportOutcome } from './export';
import type { ExplainExportOptions } from './explain-host';
import type { RunSnapshot } from './run-snapshot';

export interface RunActionsHost {
  panels(): Iterable<AttentionPanel>;
  activePanel(): AttentionPanel | undefined;
  log: vscode.OutputChannel;
  colorMap(): ColorMapName;
}

/** The panel hooks extension.ts forwards (PanelHost). */
export interface RunActionsHooks {
  selectToken(panel: AttentionPanel, index: number): void;
  runChanged(panel: AttentionPanel): void;
  viewChanged(panel: AttentionPanel): void;
  exportRequested(panel: AttentionPanel): void;
  panelDisposed(panel: AttentionPanel): void;
}

export function registerRunActions(context: vscode.ExtensionContext, host: RunActionsHost): RunActionsHooks {
  const tint = new TintController(host.log);
  const exporter = new Exporter(host.log, host.colorMap);

  /** Panels with a run, best first: the active panel, then newer runs. */
  const ordered = (): { panel: AttentionPanel; run: RunSnapshot }[] => {
    const active = host.activePanel();
    const all: { panel: AttentionPanel; run: RunSnapshot }[] = [];
    for (const panel of host.panels()) {
      const run = panel.isDisposed ? undefined : panel.snapshot();
      if (run) all.push({ panel, run });
    }
    return all.sort((a, b) => Number(b.panel === active) - Number(a.panel === active) || b.run.runId - a.run.runId);
  };
  const byRunId = (runId: unknown) => ordered().find((x) => x.run.runId === runId);

  const tintToken = (panel: AttentionPanel, index: number): TintResult => {
    const run = panel.snapshot();
    if (!run) return { ok: false, message: 'The panel has no run.' };
    const r = tint.tint(run, index, panel);
    if (!r.ok) host.log.appendLine(`Tint: ${r.message}`);
    return r;
  };

  const tokenArgs = (a: unknown): { runId: number; index: number } | undefined => {
    const o = Array.isArray(a) ? a[0] : a;
    if (typeof o !== 'object' || o === null) return undefined;
    const { runId, index } = o as Record<string, unknown>;
    return Number.isInteger(runId) && Number.isInteger(index)
      ? { runId: runId as number, index: index as number }
      : undefined;
  };

  context.subscriptions.push(
    tint,
    vscode.languages.registerHoverProvider(
      [{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: 'vscode-notebook-cell' }, { pattern: '**' }],
      new AttentionHoverProvider(() => ordered().map((x) => x.run)),
    ),
    // Exports what the panel shows: on the Explain tab its explanation or comparison (the view's own Export… path),
    // otherwise, or while the Explain view has no result yet (said in one line), the attention view or the run's data.
    vscode.commands.registerCommand('attentionLens.export', (args?: unknown): Promise<ExportOutcome> => {
      const active = host.activePanel();
      const target = active && !active.isDisposed ? active : ordered()[0]?.panel;
      const panel = target?.isDisposed ? undefined : target;
      const run = panel?.snapshot();
      let note: string | undefined;
      const parsed = parseExportArgs(args);
      if (panel && run && panel.shownTab.tab === 'explain' && typeof parsed !== 'string') {
        const options = explainOptions(parsed);
        if (options && panel.hasExplainExport()) return panel.exportExplain(options);
        if (options) note = explainEmpty(panel.shownTab.mode);
      }
      return exporter.export(run, args, note);
    }),
    vscode.commands.registerCommand('attentionLens.tintAtCursor', (): TintResult => {
      const editor = vscode.window.activeTextEditor;
      const fail = (message: string): TintResult => {
        void vscode.window.showWarningMessage(message);
        return { ok: false, message };
      };
      if (!editor) return fail('Put the cursor on a token of a range you ran "Show Attention" on.');
      const hit = findRunHit(
        ordered().map((x) => x.run),
        editor.document,
        editor.selection.active,
      );
      if (!hit)
        return fail('The cursor is not on a token of an Attention Lens run: run "Show Attention" on this text first.');
      if (hit.kind === 'stale')
        return fail('The run is out of date: the document changed after it ran. Run "Show Attention" again.');
      const panel = byRunId(hit.run.runId)!.panel;
      const r = tintToken(panel, hit.index);
      if (!r.ok) return fail(r.message);
      panel.focusToken(hit.index);
      return r;
    }),
    vscode.commands.registerCommand('attentionLens.clearTint', () => tint.clear()),
    vscode.commands.registerCommand(REVEAL_COMMAND, (a?: unknown) => {
      const t = tokenArgs(a);
      const found = t && byRunId(t.runId);
      if (!found) return void vscode.window.showWarningMessage('That run is no longer shown in a panel.');
      found.panel.focusToken(t.index);
    }),
    vscode.commands.registerCommand(TINT_COMMAND, (a?: unknown): TintResult | undefined => {
      const t = tokenArgs(a);
      const found = t && byRunId(t.runId);
      if (!found) return void vscode.window.showWarningMessage('That run is no longer shown in a panel.');
      const r = tintToken(found.panel, t.index);
      if (!r.ok) void vscode.window.showWarningMessage(r.message);
      return r;
    }),
  );

  return {
    selectToken: (panel, index) => {
      const r = tintToken(panel, index);
      if (r.ok) revealChosen(panel, index);
    },
    runChanged: (panel) => tint.clearFor(panel),
    viewChanged: (panel) => tint.retint(panel.snapshot(), panel),
    exportRequested: (panel) => void exporter.export(panel.snapshot()),
    panelDisposed: (panel) => tint.clearFor(panel),
  };
}

/** The one line the palette's Export… gives when the Explain tab has nothing to export yet. */
export function explainEmpty(mode: 'explain' | 'compare'): string {
  return `The Explain view has no ${mode === 'explain' ? 'explanation' : 'comparison'} yet: exporting the attention view instead.`;
}

/** The command's arguments as Explain export options; undefined when they ask for the attention view (a view, layer or
 *  head, or a format only the run's data has: CSV, NPY). */
function explainOptions(a: ExportCommandArgs): ExplainExportOptions | undefined {
  if (a.view !== undefined || a.layer !== undefined || a.head !== undefined) return undefined;
  const target = a.target !== undefined ? toUri(a.target) : undefined;
  const format = a.format ?? (target && /\.(csv|npy)$/i.test(target.path) ? 'csv' : undefined);
  if (format === 'csv' || format === 'npy') return undefined;
  return {
    ...(format ? { format } : {}),
    ...(a.scale !== undefined ? { scale: a.scale } : {}),
    ...(target ? { target } : {}),
  };
}

/** Scrolls the run's document to the chosen token when it is visible in an editor. */
function revealChosen(panel: AttentionPanel, index: number): void {
  const run = panel.snapshot();
  const m = run?.mapping;
  const t = run?.tokens[index];
  if (!m || !t || t.start === null || t.end === null) return;
  const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === m.uri);
  if (!editor || editor.document.version !== m.version) return;
  const r = new vscode.Range(
    editor.document.positionAt(m.offset + t.start),
    editor.document.positionAt(m.offset + t.end),
  );
  editor.revealRange(r, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}
