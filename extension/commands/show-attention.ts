// Attention Lens: Show Attention — runs the selection (the current line when nothing is selected, or `args.text`) on
// the configured model and streams its attention into a panel. Offers the default model on first use, shows the
// model loading (a download on first use) in the panel the run goes to, offers to truncate an input over the token
// limit, and runs the text again on the new model when the model is switched mid-run. Every outcome is a RunSummary
// (the test API); every failure one notification with the action that helps (or, for a restored panel re-running
// quietly, a line in that panel and the log).
import * as vscode from 'vscode';
import type { RunSource } from '../../protocol/messages';
import type { RunSummary, ShowAttentionArgs } from '../api';
import { offerDefaultModel } from '../default-model-offer';
import { checkTarget, checkText, describeError, NO_MODEL_MESSAGE, tokenLimit, tooLongMessage } from '../input';
import { displayName, loadingLine } from '../model-choices';
import { restrictedModelLine } from '../trust-logic';
import { unreadModelPathLine } from '../model-path-logic';
import { modelKey, readModelSettings, sameModel } from '../model-manager';
import { restrictedModelPath } from '../restricted-mode';
import type { NotifyAction } from '../notifier';
import type { AttentionPanel } from '../panel';
import type { Services } from '../services';
import { chatPromptSetting, maxTokensSetting } from '../settings';
import { COMMANDS } from './ids';

export interface RunRequest {
  source?: RunSource;
  panel?: AttentionPanel;
  /** A restored panel re-running: problems go to the panel and the log, not to notifications. */
  quiet?: boolean;
}

/** The workspace models Restricted Mode kept from running that the user was told about (once each per session). */
const toldRestricted = new Set<string>();
/** The model paths read from User settings the window ignores that the user was told about (once each per session). */
const toldUnread = new Set<string>();

export function registerShowAttention(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(COMMANDS.showAttention, (args?: unknown) => showAttention(s, args));
}

function parseArgs(args: unknown): ShowAttentionArgs {
  if (typeof args !== 'object' || args === null || args instanceof vscode.Uri) return {};
  const a = args as Record<string, unknown>;
  return {
    text: typeof a.text === 'string' ? a.text : undefined,
    truncate: a.truncate === true,
    chat: typeof a.chat === 'boolean' ? a.chat : undefined,
    target: typeof a.target === 'string' ? a.target : undefined,
  };
}

/** The text to run: `args.text`, the selection, or the current line; a string says why there is none. A chat
 * prompt when args.chat says so, else when the attentionLens.chatPrompt setting does. */
function sourceFromEditor(args: ShowAttentionArgs): RunSource | string {
  const editor = vscode.window.activeTextEditor;
  const modelPath = readModelSettings().modelPath;
  const chat = args.chat ?? chatPromptSetting();
  const target = args.target !== undefined ? { target: args.target } : {};
  if (args.text !== undefined) {
    return {
      uri: '',
      range: [0, 0, 0, 0],
      text: args.text,
      modelPath,
      truncate: args.truncate === true,
      chat,
      ...target,
    };
  }
  if (!editor) return 'Open a file and select the text to inspect, then run "Attention Lens: Show Attention".';
  const doc = editor.document;
  const sel = editor.selection;
  const range = sel.isEmpty ? doc.lineAt(sel.active.line).range : new vscode.Range(sel.start, sel.end);
  return {
    uri: doc.uri.toString(),
    range: [range.start.line, range.start.character, range.end.line, range.end.character],
    text: doc.getText(range),
    modelPath,
    truncate: args.truncate === true,
    chat,
    ...target,
  };
}

/** Runs `args` (or `req.source`) and resolves with the run's outcome. */
export async function showAttention(s: Services, args?: unknown, req: RunRequest = {}): Promise<RunSummary> {
  const { log, runLog, models, panels } = s;
  const runId = runLog.start();
  const summary: RunSummary = { runId, state: 'error', layers: [], heads: 0, tokens: [] };
  const finish = (r: RunSummary): RunSummary => {
    runLog.finish(r);
    log.appendLine(
      `Run ${r.runId}: ${r.state}${r.message ? ` (${r.message})` : ''}, ${r.layers.length} layers, ${r.tokens.length} tokens.`,
    );
    return r;
  };
  /** The panel that shows the model loading for this run (until the run starts, or says why it did not). */
  let statusPanel: AttentionPanel | undefined;
  const fail = (
    message: string,
    actions: NotifyAction[],
    severity: 'error' | 'warning' = 'error',
    onTruncate?: () => void,
    panelText = message,
  ) => {
    if (req.quiet) {
      runLog.noteError(message);
      log.appendLine(`Restored panel: ${message}`);
      req.panel?.notice(panelText);
    } else {
      if (statusPanel && !statusPanel.isDisposed) statusPanel.notice(panelText);
      s.notifier.notify(message, actions, severity, onTruncate);
    }
    return finish({ ...summary, state: 'error', message });
  };
  try {
    const parsed = parseArgs(args);
    const src = req.source ?? sourceFromEditor(parsed);
    if (typeof src === 'string') return fail(src, [], 'warning');
    const bad = checkText(src.text) ?? (src.target !== undefined ? checkTarget(src.target) : undefined);
    if (bad) return fail(bad, [], 'warning');
    const settings = readModelSettings();
    // Restricted Mode: the workspace's own model is not loaded; said once per model, and instead of the first-use
    // offer when the user has none.
    const restricted = await restrictedModelPath();
    if (restricted) {
      const line = restrictedModelLine(restricted, settings.modelPath && displayName(settings.modelPath));
      if (!settings.modelPath) return fail(line, ['selectModel'], 'warning');
      if (!toldRestricted.has(restricted)) {
        toldRestricted.add(restricted);
        s.notifier.notify(line, ['selectModel'], 'warning');
      }
    }
    // A model path this (remote) window ignores in the User settings: used, never a download offer; said once.
    if (settings.unreadFrom && !toldUnread.has(settings.modelPath)) {
      toldUnread.add(settings.modelPath);
      s.notifier.notify(
        unreadModelPathLine(displayName(settings.modelPath), vscode.env.remoteName),
        ['copyModelPath'],
        'warning',
      );
    }
    if (!settings.modelPath) {
      const chosen = req.quiet ? undefined : await offerDefaultModel(s.context.globalState, s.recent, log);
      if (!chosen) return fail(NO_MODEL_MESSAGE, ['selectModel'], 'warning');
      settings.modelPath = chosen;
    }
    let source: RunSource = { ...src, modelPath: settings.modelPath };
    // Another model chosen while this run loaded or ran (its run was cancelled): run the text on that one instead.
    const rerunOnSwitch = (r: RunSummary): RunSummary | Promise<RunSummary> => {
      const now = readModelSettings();
      if (!now.modelPath || sameModel(now, settings)) return finish(r);
      finish({ ...r, state: 'cancelled', message: `The model was switched to ${displayName(now.modelPath)}.` });
      return showAttention(s, undefined, { ...req, source });
    };

    let inspector;
    const name = displayName(settings.modelPath);
    // A model to load first (a download on first use): the panel the run goes to (opened now when there is none)
    // says so, with the download's progress, until the run replaces it.
    let progress: vscode.Disposable | undefined;
    if (!models.manager.isLoaded(settings)) {
      statusPanel = req.panel && !req.panel.isDisposed ? req.panel : req.quiet ? undefined : panels.forRun();
      const target = statusPanel;
      if (target) {
        const key = modelKey(settings);
        let last = 0;
        let shown = '';
        target.notice(loadingLine(name), true);
        progress = models.manager.onDidProgress((p) => {
          if (p.key !== key || target.isDisposed || p.detail === shown) return;
          // Download counts at most 5 times a second; a new phase at once.
          const now = Date.now();
          if (p.detail.startsWith('downloading') && shown.startsWith('downloading') && now - last < 200) return;
          last = now;
          shown = p.detail;
          target.notice(loadingLine(name, p.detail), true);
        });
      }
    }
    try {
      inspector = await models.forRun(settings).finally(() => progress?.dispose());
    } catch (e) {
      const err = describeError(e);
      if (err.cancelled) {
        if (statusPanel && !statusPanel.isDisposed) statusPanel.notice(`Loading ${name} was cancelled.`);
        return rerunOnSwitch({ ...summary, state: 'cancelled', message: 'Loading the model was cancelled.' });
      }
      log.appendLine(
        `Loading ${settings.modelPath} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
      );
      return fail(
        err.message,
        err.actions.length ? err.actions : ['selectModel', 'showLog'],
        'error',
        undefined,
        `Loading ${name} failed: ${err.message}`,
      );
    }
    summary.heads = inspector.facts.heads;
    // The setting asks for chat prompts only where the model has a template; the command asks for one (and says so).
    if (source.chat && !inspector.tokenizer?.chatTemplate && !req.source && parsed.chat === undefined) {
      source = { ...source, chat: false };
    }

    const limit = tokenLimit(maxTokensSetting(), inspector.facts.maxPositions);
    if (!source.truncate) {
      let count: number;
      try {
        count = inspector.tokenize(source.text, { chat: source.chat === true }).length;
      } catch (e) {
        const err = describeError(e);
        return fail(err.message, err.actions, 'warning');
      }
      if (count > limit) {
        return fail(tooLongMessage(count, limit, inspector.facts.maxPositions), ['truncate'], 'warning', () => {
          void showAttention(s, undefined, { source: { ...source, truncate: true } });
        });
      }
    }

    // The panel that showed the load was closed meanwhile: closing a panel cancels its run (no new panel opens).
    const closed = statusPanel ?? req.panel;
    if (closed?.isDisposed) {
      log.appendLine(`Run ${runId}: its panel was closed while the model loaded; the run is cancelled.`);
      return finish({ ...summary, state: 'cancelled', message: 'The panel was closed.' });
    }
    const panel = req.panel && !req.panel.isDisposed ? req.panel : panels.forRun();
    const result = await models.manager.track(panel.start(inspector, source, runId, { maxTokens: limit }));
    if (result.state !== 'done' && !sameModel(readModelSettings(), settings))
      return rerunOnSwitch({ ...result, state: 'cancelled' });
    if (result.state === 'error') return fail(result.message ?? 'The run failed.', ['showLog']);
    return finish(result);
  } catch (e) {
    log.appendLine(`Show Attention failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return fail(describeError(e).message, ['showLog']);
  }
}
