// Attention Lens: Export View or Data… — exports what the active panel shows: on the Explain tab its explanation or
// comparison (the view's own Export… path); otherwise, or while the Explain view has no result yet (said in one
// line), the attention view or the run's data. Arguments (tests, scripts) answer the questions in advance.
import * as vscode from 'vscode';
import type { ExplainExportOptions } from '../explain-host';
import { parseExportArgs, toUri, type ExportCommandArgs, type ExportOutcome } from '../export';
import type { Services } from '../services';
import { COMMANDS } from './ids';

export function registerExport(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(COMMANDS.export, (args?: unknown) => exportShown(s, args));
}

function exportShown(s: Services, args?: unknown): Promise<ExportOutcome> {
  const active = s.panels.active();
  const target = active && !active.isDisposed ? active : s.runActions.ordered()[0]?.panel;
  const panel = target?.isDisposed ? undefined : target;
  const run = panel?.snapshot();
  let note: string | undefined;
  const parsed = parseExportArgs(args);
  if (panel && run && panel.shownTab.tab === 'explain' && typeof parsed !== 'string') {
    const options = explainOptions(parsed);
    if (options && panel.hasExplainExport()) return panel.exportExplain(options);
    if (options) note = explainEmpty(panel.shownTab.mode);
  }
  return s.runActions.exporter.export(run, args, note);
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
