// The editor hover: over a token of a run's range, in the document version the run saw, it shows the token, what it
// attends to and what attends to it (top 5 with weights, bars and a sparkline) in the view selected in the panel,
// with links to show the token in the panel and to tint the editor. In any language and in notebook cells (the
// selector is every document); after an edit of the analysed text it says the text changed since the run instead of
// showing stale numbers (an edit elsewhere in the document keeps the run: run-range.ts follows its range).
import * as vscode from 'vscode';
import { keptTokenWeights, hoverMarkdown, staleMarkdown, tokenAt } from './hover-logic';
import { mappingCurrent } from './run-range';
import type { RunSnapshot } from './run-snapshot';
import { COMMANDS } from './commands/ids';

/** Commands the hover links run (also the MarkdownString's trusted list). */
export const REVEAL_COMMAND = COMMANDS.revealToken;
export const TINT_COMMAND = COMMANDS.tintToken;

export function commandLink(command: string, args: unknown): string {
  return `command:${command}?${encodeURIComponent(JSON.stringify([args]))}`;
}

/** Where a document position falls in a run (fresh), or that the run no longer matches the document (stale). */
export type RunHit =
  { kind: 'token'; run: RunSnapshot; index: number; range: vscode.Range } | { kind: 'stale'; run: RunSnapshot };

/**
 * The token of `runs` (best first: the active panel's, then newer runs) under `pos`, using only runs whose mapping is
 * for this document version; a stale run is reported only when no fresh run covers the position.
 */
export function findRunHit(
  runs: readonly RunSnapshot[],
  doc: vscode.TextDocument,
  pos: vscode.Position,
): RunHit | undefined {
  const uri = doc.uri.toString();
  let stale: RunSnapshot | undefined;
  for (const run of runs) {
    const m = run.mapping;
    if (!m || m.uri !== uri) continue;
    if (!mappingCurrent(m, doc)) {
      const at = doc.offsetAt(pos);
      if (!stale && at >= m.offset && at <= m.offset + m.length) stale = run;
      continue;
    }
    const offset = doc.offsetAt(pos) - m.offset;
    if (offset < 0 || offset >= run.source.text.length) continue;
    const index = tokenAt(run.tokens, offset);
    if (index === undefined) continue;
    const t = run.tokens[index];
    const range = new vscode.Range(doc.positionAt(m.offset + t.start!), doc.positionAt(m.offset + t.end!));
    return { kind: 'token', run, index, range };
  }
  return stale ? { kind: 'stale', run: stale } : undefined;
}

export class AttentionHoverProvider implements vscode.HoverProvider {
  constructor(private readonly runs: () => RunSnapshot[]) {}

  provideHover(
    doc: vscode.TextDocument,
    pos: vscode.Position,
  ): vscode.Hover | undefined | Promise<vscode.Hover | undefined> {
    const hit = findRunHit(this.runs(), doc, pos);
    if (!hit) return undefined;
    if (hit.kind === 'stale') {
      const md = new vscode.MarkdownString(staleMarkdown(), true);
      return new vscode.Hover(md);
    }
    const args = { runId: hit.run.runId, index: hit.index };
    const links = { reveal: commandLink(REVEAL_COMMAND, args), tint: commandLink(TINT_COMMAND, args) };
    const hover = (kept?: { to: Float64Array; from: Float64Array }) => {
      const md = new vscode.MarkdownString(hoverMarkdown({ run: hit.run, index: hit.index, links, kept }), true);
      md.isTrusted = { enabledCommands: [REVEAL_COMMAND, TINT_COMMAND] };
      md.supportHtml = false;
      return new vscode.Hover(md, hit.range);
    };
    // A run kept for long inputs: the token's row and column computed now, exactly, where the model runs.
    const { kept, view, facts } = hit.run;
    if (kept?.layer(view.layer))
      return keptTokenWeights(kept, facts.heads, view.layer, view.head, hit.index).then(
        (w) => hover(w),
        () => hover(),
      );
    return hover();
  }
}

/** The hover for every document: any scheme and language, notebook cells included. `runs`: best first. */
export function registerHover(runs: () => RunSnapshot[]): vscode.Disposable {
  return vscode.languages.registerHoverProvider(
    [{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: 'vscode-notebook-cell' }, { pattern: '**' }],
    new AttentionHoverProvider(runs),
  );
}
