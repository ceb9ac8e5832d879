// What acts on the runs the panels show: the editor tint, the export, and the lookups the hover and the commands use
// (panels with a run, best first; a run by id). Each panel keeps its own run; lookups go by document URI and version,
// so runs of different documents and panels never mix. The panel events that keep tint and export in step with each
// panel's run and selected view come here (activate() wires them).
import * as vscode from 'vscode';
import type { AttentionPanel } from './panel';
import type { Panels } from './panels';
import { TintController, type TintResult } from './decorations';
import { Exporter } from './export';
import type { RunSnapshot } from './run-snapshot';
import { mappingCurrent } from './run-range';
import { colorMapSetting } from './settings';
import { describeError } from './input';

export interface PanelRun {
  panel: AttentionPanel;
  run: RunSnapshot;
}

export class RunActions implements vscode.Disposable {
  readonly tint: TintController;
  readonly exporter: Exporter;

  constructor(
    private readonly panels: Panels,
    private readonly log: vscode.OutputChannel,
  ) {
    this.tint = new TintController(log);
    this.exporter = new Exporter(log, colorMapSetting);
  }

  /** Panels with a run, best first: the active panel, then newer runs. */
  ordered(): PanelRun[] {
    const active = this.panels.active();
    const all: PanelRun[] = [];
    for (const panel of this.panels.list()) {
      const run = panel.isDisposed ? undefined : panel.snapshot();
      if (run) all.push({ panel, run });
    }
    return all.sort((a, b) => Number(b.panel === active) - Number(a.panel === active) || b.run.runId - a.run.runId);
  }

  /** The runs, best first (the hover reads them). */
  runs(): RunSnapshot[] {
    return this.ordered().map((x) => x.run);
  }

  byRunId(runId: unknown): PanelRun | undefined {
    return this.ordered().find((x) => x.run.runId === runId);
  }

  /** Tints the editor by how much token `index` of the panel's run attends to each token. */
  async tintToken(panel: AttentionPanel, index: number): Promise<TintResult> {
    const run = panel.snapshot();
    if (!run) return { ok: false, message: 'The panel has no run.' };
    const r = await this.tint
      .tintAny(run, index, panel)
      .catch((e: unknown): TintResult => ({ ok: false, message: describeError(e).message }));
    if (!r.ok) this.log.appendLine(`Tint: ${r.message}`);
    return r;
  }

  // ----- panel events

  /** The user picked a token in the panel: tint by it and scroll the editor to it. */
  selectToken(panel: AttentionPanel, index: number): void {
    void this.tintToken(panel, index).then((r) => {
      if (r.ok) revealChosen(panel, index);
    });
  }

  runChanged(panel: AttentionPanel): void {
    this.tint.clearFor(panel);
  }

  viewChanged(panel: AttentionPanel): void {
    this.tint.retint(panel.snapshot(), panel);
  }

  exportRequested(panel: AttentionPanel): void {
    void this.exporter.export(panel.snapshot());
  }

  panelDisposed(panel: AttentionPanel): void {
    this.tint.clearFor(panel);
  }

  dispose(): void {
    this.tint.dispose();
  }
}

/** Scrolls the run's document to the chosen token when it is visible in an editor. */
function revealChosen(panel: AttentionPanel, index: number): void {
  const run = panel.snapshot();
  const m = run?.mapping;
  const t = run?.tokens[index];
  if (!m || !t || t.start === null || t.end === null) return;
  const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === m.uri);
  if (!editor || !mappingCurrent(m, editor.document)) return;
  const r = new vscode.Range(
    editor.document.positionAt(m.offset + t.start),
    editor.document.positionAt(m.offset + t.end),
  );
  editor.revealRange(r, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}
