// Attention Lens: the VS Code extension host. Commands (Show Attention, Select Model, Cancel), settings, the model
// manager (one Inspector kept loaded), the status bar, the Output channel, the panels and their serializer.
// Every failure becomes a one-line notification with an action where one helps; details go to the Output channel.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { RunSource, TokenInfo, ColorMapName } from '../protocol/messages';
import { isRunSource } from '../protocol/validate';
import type { AttentionLensApi, RunSummary, ShowAttentionArgs } from './api';
import { RunLog } from './runLog';
import { ModelManager, readModelSettings } from './modelManager';
import { AttentionPanel, VIEW_TYPE, webviewOptions, type PanelHost } from './panel';
import {
  checkText,
  describeError,
  NO_MODEL_MESSAGE,
  pushRecent,
  tokenLimit,
  tooLongMessage,
  type ErrorAction,
} from './input';

const RECENT_KEY = 'attentionLens.recentModels';
const COLOR_MAPS: ColorMapName[] = ['viridis', 'magma', 'blues', 'greys'];

type Action = ErrorAction | 'truncate';

export function activate(context: vscode.ExtensionContext): AttentionLensApi {
  const log = vscode.window.createOutputChannel('Attention Lens');
  const runLog = new RunLog();
  const models = new ModelManager(log);
  const panels = new Set<AttentionPanel>();
  let activePanel: AttentionPanel | undefined;
  const status = vscode.window.createStatusBarItem('attentionLens.status', vscode.StatusBarAlignment.Right, 100);
  status.name = 'Attention Lens';
  status.command = 'attentionLens.selectModel';
  const tokenDecoration = vscode.window.createTextEditorDecorationType({
    backgroundColor: new vscode.ThemeColor('editor.findMatchHighlightBackground'),
    border: '1px solid',
    borderColor: new vscode.ThemeColor('focusBorder'),
  });
  let running: { panel: AttentionPanel; received: number; total: number } | undefined;
  context.subscriptions.push(log, models, status, tokenDecoration);

  // ----- status bar -------------------------------------------------------------------------------------------
  function updateStatus(): void {
    const s = readModelSettings();
    const name = models.current?.facts.name ?? (s.modelPath ? path.basename(s.modelPath) : '');
    if (models.isLoading) {
      status.text = `$(loading~spin) Loading ${models.loadingName ?? name}…`;
      status.tooltip = 'Attention Lens is loading the model (Attention Lens: Cancel stops it).';
    } else if (running) {
      status.text = `$(loading~spin) ${name}: layer ${running.received}/${running.total}`;
      status.tooltip = 'Attention Lens is running (Attention Lens: Cancel stops it).';
    } else if (name) {
      const m = models.current;
      status.text = `$(telescope) ${name}`;
      status.tooltip = m
        ? `Attention Lens model: ${m.facts.dir} (${m.facts.modelType}, ${m.facts.layers}×${m.facts.heads}, ${m.backend}, ${m.threads} threads). Click to change.`
        : `Attention Lens model: ${s.modelPath} (not loaded yet). Click to change.`;
    } else {
      status.text = '$(telescope) Attention Lens: select model';
      status.tooltip = 'No model selected. Click to select a model folder.';
    }
    status.show();
  }
  context.subscriptions.push(models.onDidChange(updateStatus));
  updateStatus();

  // ----- notifications ----------------------------------------------------------------------------------------
  function notify(message: string, actions: Action[], severity: 'error' | 'warning', onTruncate?: () => void): void {
    runLog.noteError(message);
    log.appendLine(`${severity === 'error' ? 'Error' : 'Warning'}: ${message}`);
    const labels: Record<Action, string> = {
      selectModel: 'Select Model…',
      showLog: 'Show Log',
      openSettings: 'Open Settings',
      truncate: 'Truncate and Run',
    };
    const items = actions.map((a) => labels[a]);
    const show = severity === 'error' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
    void Promise.resolve(show(message, ...items)).then((choice) => {
      const action = actions.find((a) => labels[a] === choice);
      if (action === 'selectModel') void vscode.commands.executeCommand('attentionLens.selectModel');
      else if (action === 'showLog') log.show(true);
      else if (action === 'openSettings')
        void vscode.commands.executeCommand('workbench.action.openSettings', 'attentionLens');
      else if (action === 'truncate') onTruncate?.();
    });
  }

  // ----- panels -----------------------------------------------------------------------------------------------
  const host: PanelHost = {
    extensionUri: context.extensionUri,
    log,
    colorMap: () => {
      const c = vscode.workspace.getConfiguration('attentionLens').get<string>('colorMap', 'viridis');
      return (COLOR_MAPS as string[]).includes(c) ? (c as ColorMapName) : 'viridis';
    },
    progress(panel, received, total) {
      running = total < 0 ? (running?.panel === panel ? undefined : running) : { panel, received, total };
      updateStatus();
    },
    selectToken: (source, token) => highlightToken(source, token),
    disposed(panel) {
      panels.delete(panel);
      if (activePanel === panel) activePanel = [...panels].pop();
      if (running?.panel === panel) running = undefined;
      updateStatus();
    },
    focused(panel) {
      activePanel = panel;
    },
  };

  function adopt(panel: AttentionPanel): AttentionPanel {
    panels.add(panel);
    activePanel = panel;
    return panel;
  }

  function panelForRun(): AttentionPanel {
    if (activePanel && !activePanel.isDisposed) {
      activePanel.reveal();
      return activePanel;
    }
    const column = vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
    return adopt(AttentionPanel.create(host, column));
  }

  function highlightToken(source: RunSource, token: TokenInfo | undefined): void {
    if (!token || token.start === null || token.end === null || !source.uri) return;
    const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === source.uri);
    if (!editor) return;
    const doc = editor.document;
    const [l0, c0, l1, c1] = source.range;
    const range = doc.validateRange(new vscode.Range(l0, c0, l1, c1));
    if (doc.getText(range) !== source.text) {
      log.appendLine('The document changed since the run; token highlighting is off until the next run.');
      return;
    }
    const base = doc.offsetAt(range.start);
    const r = new vscode.Range(doc.positionAt(base + token.start), doc.positionAt(base + token.end));
    editor.setDecorations(tokenDecoration, [r]);
    editor.revealRange(r, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  // ----- Show Attention ---------------------------------------------------------------------------------------
  interface RunRequest {
    source?: RunSource;
    panel?: AttentionPanel;
    /** A restored panel re-running: problems go to the panel and the log, not to notifications. */
    quiet?: boolean;
  }

  function parseArgs(args: unknown): ShowAttentionArgs {
    if (typeof args !== 'object' || args === null || args instanceof vscode.Uri) return {};
    const a = args as Record<string, unknown>;
    return {
      text: typeof a.text === 'string' ? a.text : undefined,
      truncate: a.truncate === true,
    };
  }

  function sourceFromEditor(args: ShowAttentionArgs): RunSource | string {
    const editor = vscode.window.activeTextEditor;
    const modelPath = readModelSettings().modelPath;
    if (args.text !== undefined) {
      return { uri: '', range: [0, 0, 0, 0], text: args.text, modelPath, truncate: args.truncate === true };
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
    };
  }

  async function showAttention(args?: unknown, req: RunRequest = {}): Promise<RunSummary> {
    const runId = runLog.start();
    const summary: RunSummary = { runId, state: 'error', layers: [], heads: 0, tokens: [] };
    const finish = (s: RunSummary): RunSummary => {
      runLog.finish(s);
      log.appendLine(
        `Run ${s.runId}: ${s.state}${s.message ? ` (${s.message})` : ''}, ${s.layers.length} layers, ${s.tokens.length} tokens.`,
      );
      return s;
    };
    const fail = (
      message: string,
      actions: Action[],
      severity: 'error' | 'warning' = 'error',
      onTruncate?: () => void,
    ) => {
      if (req.quiet) {
        runLog.noteError(message);
        log.appendLine(`Restored panel: ${message}`);
        req.panel?.notice(message);
      } else notify(message, actions, severity, onTruncate);
      return finish({ ...summary, state: 'error', message });
    };
    try {
      const src = req.source ?? sourceFromEditor(parseArgs(args));
      if (typeof src === 'string') return fail(src, [], 'warning');
      const bad = checkText(src.text);
      if (bad) return fail(bad, [], 'warning');
      const settings = readModelSettings();
      if (!settings.modelPath) return fail(NO_MODEL_MESSAGE, ['selectModel'], 'warning');
      const source: RunSource = { ...src, modelPath: settings.modelPath };

      let inspector;
      try {
        req.panel?.notice(`Loading ${path.basename(settings.modelPath)}…`);
        inspector = await models.get(settings);
      } catch (e) {
        const err = describeError(e);
        if (err.cancelled)
          return finish({ ...summary, state: 'cancelled', message: 'Loading the model was cancelled.' });
        log.appendLine(
          `Loading ${settings.modelPath} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
        );
        return fail(err.message, err.actions.length ? err.actions : ['selectModel', 'showLog']);
      }
      summary.heads = inspector.facts.heads;

      const maxTokens = vscode.workspace.getConfiguration('attentionLens').get<number>('maxTokens', 512);
      const limit = tokenLimit(maxTokens, inspector.facts.maxPositions);
      if (!source.truncate) {
        let count: number;
        try {
          count = inspector.tokenize(source.text).length;
        } catch (e) {
          const err = describeError(e);
          return fail(err.message, err.actions, 'warning');
        }
        if (count > limit) {
          return fail(tooLongMessage(count, limit), ['truncate'], 'warning', () => {
            void showAttention(undefined, { source: { ...source, truncate: true } });
          });
        }
      }

      const panel = req.panel && !req.panel.isDisposed ? req.panel : panelForRun();
      const result = await panel.start(inspector, source, runId, { maxTokens: limit });
      if (result.state === 'error') return fail(result.message ?? 'The run failed.', ['showLog']);
      return finish(result);
    } catch (e) {
      log.appendLine(`Show Attention failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      return fail(describeError(e).message, ['showLog']);
    }
  }

  // ----- Select Model -----------------------------------------------------------------------------------------
  async function setModelPath(p: string): Promise<void> {
    const config = vscode.workspace.getConfiguration('attentionLens');
    const inspect = config.inspect<string>('modelPath');
    const target =
      inspect?.workspaceFolderValue !== undefined || inspect?.workspaceValue !== undefined
        ? vscode.ConfigurationTarget.Workspace
        : vscode.ConfigurationTarget.Global;
    await config.update('modelPath', p, target);
    await context.globalState.update(RECENT_KEY, pushRecent(context.globalState.get<string[]>(RECENT_KEY, []), p));
  }

  /** Loads the configured model now, reporting problems (after Select Model or a settings change). */
  async function preload(): Promise<void> {
    const s = readModelSettings();
    if (!s.modelPath) return;
    try {
      await models.get(s);
    } catch (e) {
      const err = describeError(e);
      if (err.cancelled) return;
      log.appendLine(`Loading ${s.modelPath} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      notify(err.message, err.actions.length ? err.actions : ['selectModel', 'showLog'], 'error');
    }
  }

  async function selectModel(arg?: unknown): Promise<string | undefined> {
    if (typeof arg === 'string' && arg.trim()) {
      await setModelPath(arg.trim());
      await preload();
      return arg.trim();
    }
    const current = readModelSettings().modelPath;
    const recent = context.globalState.get<string[]>(RECENT_KEY, []).filter((p) => typeof p === 'string');
    const folders = [...new Set([current, ...recent].filter((p) => p))];
    type Item = vscode.QuickPickItem & { path?: string };
    const items: Item[] = folders.map((p) => ({
      label: path.basename(p),
      description: p === current ? 'current' : undefined,
      detail: p,
      path: p,
    }));
    items.push({ label: '$(folder-opened) Browse…', alwaysShow: true });
    const pick = await vscode.window.showQuickPick(items, {
      title: 'Attention Lens: Select Model',
      placeHolder: 'A Hugging Face model folder (config.json, weights, tokenizer)',
    });
    if (!pick) return undefined;
    let chosen = pick.path;
    if (!chosen) {
      const uris = await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        canSelectMany: false,
        openLabel: 'Use This Model',
        title: 'Select a model folder',
      });
      if (!uris?.length) return undefined;
      chosen = uris[0].fsPath;
    }
    await setModelPath(chosen);
    void preload();
    return chosen;
  }

  // ----- Cancel -----------------------------------------------------------------------------------------------
  function cancel(): boolean {
    let any = models.cancelLoad();
    for (const p of panels) any = p.cancel() || any;
    if (!any) void vscode.window.showInformationMessage('Attention Lens: nothing to cancel.');
    return any;
  }

  // ----- registration -----------------------------------------------------------------------------------------
  context.subscriptions.push(
    vscode.commands.registerCommand('attentionLens.showAttention', (args?: unknown) => showAttention(args)),
    vscode.commands.registerCommand('attentionLens.selectModel', (arg?: unknown) => selectModel(arg)),
    vscode.commands.registerCommand('attentionLens.cancel', () => cancel()),
    vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
      async deserializeWebviewPanel(webviewPanel: vscode.WebviewPanel, state: unknown) {
        webviewPanel.webview.options = webviewOptions(context.extensionUri);
        const panel = adopt(new AttentionPanel(webviewPanel, host));
        const source = typeof state === 'object' && state !== null ? (state as { source?: unknown }).source : undefined;
        if (isRunSource(source) && source.text.length <= 1_000_000) {
          void showAttention(undefined, { source, panel, quiet: true });
        } else {
          panel.notice('Select some text and run "Attention Lens: Show Attention".');
        }
      },
    }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration('attentionLens.colorMap')) for (const p of panels) p.postSettings();
      if (
        e.affectsConfiguration('attentionLens.modelPath') ||
        e.affectsConfiguration('attentionLens.backend') ||
        e.affectsConfiguration('attentionLens.threads')
      ) {
        if (models.matches(readModelSettings())) return;
        const wasLoaded = models.current !== undefined || models.isLoading;
        await models.unload();
        updateStatus();
        if (wasLoaded) void preload();
      }
    }),
    { dispose: () => panels.forEach((p) => p.cancel()) },
  );

  log.appendLine('Attention Lens activated.');
  return runLog.api();
}

export function deactivate(): void {
  // Everything is in context.subscriptions (the model manager disposes the Inspector and its worker).
}
