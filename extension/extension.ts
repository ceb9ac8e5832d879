// Attention Lens: the VS Code extension host. Commands (Show Attention, Select Model, Cancel), settings, the model
// manager (one Inspector kept loaded), the status bar, the Output channel, the panels and their serializer.
// Every failure becomes a one-line notification with an action where one helps; details go to the Output channel.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { RunSource, ColorMapName } from '../protocol/messages';
import { isRunSource } from '../protocol/validate';
import type { AttentionLensApi, RunSummary, ShowAttentionArgs } from './api';
import { RunLog } from './run-log';
import { ModelManager, modelKey, readModelSettings, sameModel } from './model-manager';
import { backendLabel, backendLoader, runsInWebview } from './backend-loader';
import { WebviewInspector } from './webview-inspector';
import { load } from '../runtime/inspector/load-model';
import { summarizeFolder } from '../runtime/models/source-resolver';
import type { Inspector } from '../runtime/inspector/api';
import { pickModel } from './model-picker';
import {
  DEFAULT_MODEL,
  DEFAULT_MODEL_MB,
  displayName,
  infoOfFacts,
  loadingLine,
  type ModelInfo,
} from './model-choices';
import { AttentionPanel, VIEW_TYPE, webviewOptions, type PanelHost } from './panel';
import { registerRunActions } from './run-actions';
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
/** Facts of models that loaded once (family, layers × heads), for the Select Model list. */
const INFO_KEY = 'attentionLens.modelInfo';
/** Set once the user answered the first-use offer of the default model. */
const DEFAULT_ASKED_KEY = 'attentionLens.defaultModelOffered';
/** The Hugging Face token, in SecretStorage (never in settings, never logged). */
const TOKEN_SECRET = 'attentionLens.hubToken';
const COLOR_MAPS: ColorMapName[] = ['viridis', 'magma', 'blues', 'greys'];

type Action = ErrorAction | 'truncate';

export function activate(context: vscode.ExtensionContext): AttentionLensApi {
  const log = vscode.window.createOutputChannel('Attention Lens');
  const runLog = new RunLog();
  // Where the model runs (attentionLens.backend): the host, or the panel's webview (WebGPU); the note says why.
  const backendNotes = new WeakMap<Inspector, string>();
  /** Show Attention calls loading the model for a run (they may open the panel an in-webview model runs in). */
  let loadingForRun = 0;
  const livePanel = () => (activePanel && !activePanel.isDisposed ? activePanel : undefined);
  const loader = backendLoader({
    hostLoad: load,
    port: () => (livePanel() ?? (loadingForRun > 0 ? panelForRun() : undefined))?.inference,
    maxTokens: () => vscode.workspace.getConfiguration('attentionLens').get<number>('maxTokens', 512),
    loaded: (insp, note) => {
      backendNotes.set(insp, note);
      log.appendLine(`Backend for ${insp.facts.name}: ${note}`);
      if (insp instanceof WebviewInspector) watchWebview(insp);
    },
  });
  /** The GPU went away (runs go on with Wasm in the panel), or the panel's model ended (unload it). */
  function watchWebview(insp: WebviewInspector): void {
    insp.onEvent((e) => {
      if (e.kind === 'fallback') {
        backendNotes.set(insp, insp.note);
        notify(
          `${e.reason[0].toUpperCase()}${e.reason.slice(1)}; Attention Lens runs the model on Wasm in the panel now.`,
          ['showLog'],
          'warning',
        );
        updateStatus();
      } else {
        log.appendLine(e.reason);
        if (models.current === insp) void models.unload().then(updateStatus);
      }
    });
  }
  const models = new ModelManager(log, loader, {
    hubToken: () => context.secrets.get(TOKEN_SECRET),
    idleMinutes: vscode.workspace.getConfiguration('attentionLens').get<number>('idleUnloadMinutes', 15),
  });
  const panels = new Set<AttentionPanel>();
  let activePanel: AttentionPanel | undefined;
  const status = vscode.window.createStatusBarItem('attentionLens.status', vscode.StatusBarAlignment.Right, 100);
  status.name = 'Attention Lens';
  status.command = 'attentionLens.selectModel';
  let running: { panel: AttentionPanel; received: number; total: number } | undefined;
  context.subscriptions.push(log, models, status);

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
      status.text = m ? `$(telescope) ${name} · ${backendLabel(m.backend)}` : `$(telescope) ${name}`;
      const note = m ? backendNotes.get(m) : undefined;
      status.tooltip = m
        ? `Attention Lens model: ${m.facts.dir} (${m.facts.modelType}, ${m.facts.layers}×${m.facts.heads}, ${m.backend}, ${m.threads} threads).${note ? ` Runs on ${note}` : ''} Click to change.`
        : `Attention Lens model: ${s.modelPath} (not loaded yet). Click to change.`;
    } else {
      status.text = '$(telescope) Attention Lens: select model';
      status.tooltip = 'No model selected. Click to select a model: a folder, an .onnx file or a Hugging Face id.';
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
      setToken: 'Set Hugging Face Token…',
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
      else if (action === 'setToken') void vscode.commands.executeCommand('attentionLens.setHubToken');
    });
  }

  // ----- panels -----------------------------------------------------------------------------------------------
  // Hover, editor tint and export (extension/run-actions.ts), kept in step with the panels through the hooks below.
  const runActions = registerRunActions(context, {
    panels: () => panels,
    activePanel: () => activePanel,
    log,
    colorMap: () => host.colorMap(),
  });
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
    selectToken: (panel, index) => runActions.selectToken(panel, index),
    runChanged: (panel) => runActions.runChanged(panel),
    viewChanged: (panel) => runActions.viewChanged(panel),
    exportRequested: (panel) => runActions.exportRequested(panel),
    disposed(panel) {
      runActions.panelDisposed(panel);
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
    /** The panel that shows the model loading for this run (until the run starts, or says why it did not). */
    let statusPanel: AttentionPanel | undefined;
    const fail = (
      message: string,
      actions: Action[],
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
        notify(message, actions, severity, onTruncate);
      }
      return finish({ ...summary, state: 'error', message });
    };
    try {
      const src = req.source ?? sourceFromEditor(parseArgs(args));
      if (typeof src === 'string') return fail(src, [], 'warning');
      const bad = checkText(src.text);
      if (bad) return fail(bad, [], 'warning');
      const settings = readModelSettings();
      if (!settings.modelPath) {
        const chosen = req.quiet ? undefined : await offerDefaultModel();
        if (!chosen) return fail(NO_MODEL_MESSAGE, ['selectModel'], 'warning');
        settings.modelPath = chosen;
      }
      const source: RunSource = { ...src, modelPath: settings.modelPath };
      // Another model chosen while this run loaded or ran (its run was cancelled): run the text on that one instead.
      const rerunOnSwitch = (s: RunSummary): RunSummary | Promise<RunSummary> => {
        const now = readModelSettings();
        if (!now.modelPath || sameModel(now, settings)) return finish(s);
        finish({ ...s, state: 'cancelled', message: `The model was switched to ${displayName(now.modelPath)}.` });
        return showAttention(undefined, { ...req, source });
      };

      let inspector;
      const name = displayName(settings.modelPath);
      // A model to load first (a download on first use): the panel the run goes to (opened now when there is none)
      // says so, with the download's progress, until the run replaces it.
      let progress: vscode.Disposable | undefined;
      if (!models.isLoaded(settings)) {
        statusPanel = req.panel && !req.panel.isDisposed ? req.panel : req.quiet ? undefined : panelForRun();
        const target = statusPanel;
        if (target) {
          const key = modelKey(settings);
          let last = 0;
          let shown = '';
          target.notice(loadingLine(name), true);
          progress = models.onDidProgress((p) => {
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
        loadingForRun++;
        inspector = await models.get(settings).finally(() => {
          loadingForRun--;
          progress?.dispose();
        });
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
      const result = await models.track(panel.start(inspector, source, runId, { maxTokens: limit }));
      if (result.state !== 'done' && !sameModel(readModelSettings(), settings))
        return rerunOnSwitch({ ...result, state: 'cancelled' });
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
    // webgpu/auto load into a panel: without one open, the first run loads the model (and opens the panel).
    if (runsInWebview(s.backend) && !livePanel()) return;
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
    const chosen = await pickModel({
      current: readModelSettings().modelPath,
      recent: context.globalState.get<string[]>(RECENT_KEY, []).filter((p) => typeof p === 'string'),
      info: context.globalState.get<Record<string, ModelInfo>>(INFO_KEY, {}),
    });
    if (!chosen) return undefined;
    // Switching models mid-run: the settings change cancels the runs (see onDidChangeConfiguration) and they run again
    // on the new model (showAttention's rerunOnSwitch).
    await setModelPath(chosen);
    void preload();
    return chosen;
  }

  /** First use with nothing configured: offers the default model once; returns it when accepted (now configured). */
  async function offerDefaultModel(): Promise<string | undefined> {
    if (context.globalState.get<boolean>(DEFAULT_ASKED_KEY, false)) return undefined;
    const download = `Download ${displayName(DEFAULT_MODEL)}`;
    const choice = await vscode.window.showInformationMessage(
      `Attention Lens needs a model. Download ${DEFAULT_MODEL} (a 6-layer × 12-head BERT, ${DEFAULT_MODEL_MB} MB) from ` +
        'the Hugging Face Hub now, or select one you have?',
      download,
      'Select Model…',
      'Not Now',
    );
    // Asked once: any answer, closing the notification included, is remembered (Select Model lists the default too).
    await context.globalState.update(DEFAULT_ASKED_KEY, true);
    if (choice !== download) {
      log.appendLine(`The default model was not downloaded (${choice ?? 'the question was closed'}).`);
      if (choice === 'Select Model…') void vscode.commands.executeCommand('attentionLens.selectModel');
      return undefined;
    }
    await setModelPath(DEFAULT_MODEL);
    return DEFAULT_MODEL;
  }

  /** Stores (or with an empty answer, deletes) the Hugging Face token in SecretStorage. */
  async function setHubToken(): Promise<void> {
    const value = await vscode.window.showInputBox({
      title: 'Attention Lens: Hugging Face token',
      prompt: 'A read token for gated or private models (kept in VS Code’s secret storage). Empty removes it.',
      password: true,
      ignoreFocusOut: true,
    });
    if (value === undefined) return;
    if (value.trim()) await context.secrets.store(TOKEN_SECRET, value.trim());
    else await context.secrets.delete(TOKEN_SECRET);
    log.appendLine(value.trim() ? 'Hugging Face token stored.' : 'Hugging Face token removed.');
  }

  // Remember what each model turned out to be (family, layers × heads, size) for the Select Model list; a model that
  // loaded is a recent one, however it was configured.
  context.subscriptions.push(
    models.onDidChange(() => {
      const m = models.current;
      const key = readModelSettings().modelPath;
      if (!m || !key) return;
      const info = { ...context.globalState.get<Record<string, ModelInfo>>(INFO_KEY, {}) };
      info[key] = infoOfFacts(m.facts, summarizeFolder(m.facts.dir).bytes || undefined);
      const recent = pushRecent(context.globalState.get<string[]>(RECENT_KEY, []), key);
      void context.globalState.update(RECENT_KEY, recent);
      const keep = new Set(recent);
      for (const k of Object.keys(info)) if (!keep.has(k)) delete info[k];
      void context.globalState.update(INFO_KEY, info);
    }),
  );

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
    // Tests: destroy the GPU device of the panel's model (now, or after layer N of the next run).
    vscode.commands.registerCommand('attentionLens.test.loseGpuDevice', (afterLayer?: number) => {
      const port = livePanel()?.inference;
      port?.postInference(
        typeof afterLayer === 'number' ? { type: 'inferLoseDevice', afterLayer } : { type: 'inferLoseDevice' },
      );
      return port !== undefined;
    }),
    vscode.commands.registerCommand('attentionLens.setHubToken', () => setHubToken()),
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
      if (e.affectsConfiguration('attentionLens.idleUnloadMinutes'))
        models.setIdleMinutes(vscode.workspace.getConfiguration('attentionLens').get<number>('idleUnloadMinutes', 15));
      if (
        e.affectsConfiguration('attentionLens.modelPath') ||
        e.affectsConfiguration('attentionLens.backend') ||
        e.affectsConfiguration('attentionLens.threads')
      ) {
        if (models.matches(readModelSettings())) return;
        const wasLoaded = models.current !== undefined || models.isLoading;
        // Runs on the old model stop cleanly (cancelled, then run again on the new one) before it is released.
        for (const p of panels) p.cancel();
        await models.unload();
        updateStatus();
        if (wasLoaded) void preload();
      }
    }),
    { dispose: () => panels.forEach((p) => p.cancel()) },
  );

  log.appendLine('Attention Lens activated.');
  return {
    ...runLog.api(),
    backend: () => {
      const m = models.current;
      return m ? { name: m.backend, note: backendNotes.get(m) ?? '' } : undefined;
    },
    attention: (runId: number) =>
      [...panels]
        .map((p) => p.snapshot())
        .find((snap) => snap?.runId === runId)
        ?.layers.map((l) => ({
          layer: l.layer,
          heads: l.heads,
          queryLength: l.queryLength,
          keyLength: l.keyLength,
          data: l.data,
        })),
  };
}

export function deactivate(): void {
  // Everything is in context.subscriptions (the model manager disposes the Inspector and its worker).
}
