// One Attention Lens panel: its webview (strict CSP, bundle from dist/ only), the channel with it
// (protocol/panel-channel.ts over runtime/channel: every incoming message checked), and the run it shows. A new run cancels the one in flight; closing the panel cancels the run
// and drops every reference to its data. The host keeps the current run's layers so that a webview that reloads
// (hidden → visible) gets them replayed after its `ready`. Query/key vectors for the neuron view are computed only
// when it asks for a layer (a second pass with that layer's q/k variant): exposing them on every run is costly.
// The Explain view's requests (explain, compare, their export) go to the panel's ExplainHost (explain-host.ts). The panel
// knows which tab the webview shows (tabChanged: the palette's Export… follows it), and keeps its last notice (the model
// loading for the next run, or why that failed) to replay after a reload, until a run replaces it.
import { randomBytes, randomInt } from 'node:crypto';
import * as vscode from 'vscode';
import type { AttentionRun, Inspector, KeptAttention, LayerResult, TargetStep } from '../runtime/inspector/api';
import { targetMessage, targetStepMessage } from './target-message';
import type { ModelFacts, Token } from '../runtime/types';
import { languageSettings, translationBeamsSetting } from './settings';
import { longestMapsRun } from '../runtime/inspector/long-runs';
import type {
  AgreementMetric,
  ColorMapName,
  ExplainRequestKind,
  GenerateReply,
  GenerateRequest,
  GeneratedTokenEvent,
  HostMessage,
  NoticeMessage,
  OpenDroppedMessage,
  PanelTab,
  RunSource,
  TokenInfo,
  Vectors,
  VectorsRequest,
} from '../protocol/messages';
import { hostChecks, type PanelHostEnd, type PanelWebviewEnd } from '../protocol/panel-channel';
import type { RunContext } from '../protocol/validate';
import { Channel, type HandlerContext } from '../runtime/channel/channel';
import { isLensError, LensError } from '../runtime/errors';
import { checkCanGenerate } from '../runtime/generate/can-generate';
import { stopTokenIds } from '../runtime/generate/stop-tokens';
import { decodingOf, generatedIds, generatedToken, restoredInput, restoreProblem } from './generate-logic';
import { GrowingMaps } from '../runtime/generate/grow-maps';
import type { RunSummary } from './api';
import { describeError } from './input';
import { panelHtml } from '../protocol/panel-page';
import { PanelInference } from './panel-inference';
import { ExplainHost, type ExplainExportOptions, type ExplainRun } from './explain-host';
import { heldKept, type Hold } from './model-hold';
import type { ExportOutcome } from './export';
import { mapSource } from './doc-mapping';
import { followEdits, followEolChange, mappingCurrent, STALE_LINE } from './run-range';
import type { SavedRun } from './saved-run';
import { DEFAULT_VIEW, type DocMapping, type PanelViewState, type RunSnapshot } from './run-snapshot';

export const VIEW_TYPE = 'attentionLens.panel';

/** What a run opened from a file lacks. */
export const SAVED_NO_MODEL = 'This run was opened from a file, without its model.';

export interface PanelHost {
  readonly extensionUri: vscode.Uri;
  readonly log: vscode.OutputChannel;
  colorMap(): ColorMapName;
  /** The run's layer stream, as the panel shows it: `received` of `total` layers (total < 0: the run ended). Called
   * as each layer note goes to the webview, before it, so that the status bar never shows less than the panel. */
  progress(panel: AttentionPanel, received: number, total: number): void;
  /** A layer note was handed to the webview (the test API records the status bar's text then). */
  layerSent(panel: AttentionPanel, runId: number, layer: number): void;
  /** The user picked a token in the panel (index into the current run's tokens). */
  selectToken(panel: AttentionPanel, index: number): void;
  /** A run started in the panel (the previous one's hover/tint state is void). */
  runChanged(panel: AttentionPanel): void;
  /** The user chose another view, layer or head. */
  viewChanged(panel: AttentionPanel): void;
  /** The user pressed Export in the panel. */
  exportRequested(panel: AttentionPanel): void;
  /** A file was dropped onto the panel: open it as a saved run there (its URI, or the dropped files). */
  openDropped(panel: AttentionPanel, dropped: Omit<OpenDroppedMessage, 'type'>): void;
  disposed(panel: AttentionPanel): void;
  focused(panel: AttentionPanel): void;
  /** Holds the loaded model while work on it runs (model-hold.ts): explain, compare, Continue, vectors, windows. */
  hold: Hold;
}

interface PanelRun {
  runId: number;
  source: RunSource;
  facts: ModelFacts;
  tokens: TokenInfo[];
  truncatedFrom?: number;
  /** Token ids of the run, to recompute a layer with its query/key vectors. */
  ids: number[];
  /** Absent for a run opened from a file (saved-run.ts): no model, so no vectors, Explain or hover. */
  inspector?: Inspector;
  /** The file a saved run was opened from. */
  savedFrom?: string;
  layers: LayerResult[];
  /** Encoder–decoder runs: the target note, once the runtime has the target. */
  target?: HostMessage;
  /** Encoder–decoder runs: the target's ids (Explain scores exactly this target). */
  targetIds?: number[];
  /** A run kept for long inputs: its layers carry overviews (no maps) and exact values come from here. */
  kept?: KeptAttention;
  end?: HostMessage;
  abort: AbortController;
  /** The document version and offset of the run's text when it started (hover, tint). */
  mapping?: DocMapping;
  /** Set once the model continued the run (Continue): the number of tokens of its input; the rest were generated. */
  promptLength?: number;
  /** Set once Continue grew the run: its layers held with room to grow (runtime/generate/grow-maps.ts); `layers` is
   * then its dense() copy, made when something reads it (layersOf). */
  growing?: GrowingMaps;
  /** A Continue in flight: aborted by Stop (the `cancel` note), a newer run or the panel closing. */
  generating?: AbortController;
}

/** The run's layers as plain [heads, S, S] maps (a grown run's made once per size, when first read). */
function layersOf(run: PanelRun): LayerResult[] {
  if (run.growing && run.growing.size !== run.layers[0]?.queryLength) run.layers = run.growing.dense() as LayerResult[];
  return run.layers;
}

/** The panel's line for a run opened from a file. */
export function savedNotice(file: string, saved: SavedRun): string {
  const n = saved.layers.length;
  return `Opened ${file}: ${saved.facts.name}, ${saved.tokens.length} tokens, ${n} of ${saved.facts.layers} layers. ${SAVED_NO_MODEL} No hover, neuron view or Explain.`;
}

/** The ArrayBuffer of exactly this typed array's bytes (no copy when it already spans its whole buffer). */
export function bufferOf(a: Float32Array): ArrayBuffer {
  if (a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) return a.buffer;
  return a.slice().buffer as ArrayBuffer;
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    enableForms: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist')],
    retainContextWhenHidden: false,
    enableFindWidget: true,
  };
}

/** The tab the panel shows (tabChanged), with the Explain view's mode and agreement metric. */
export interface ShownTab {
  tab: PanelTab;
  mode: ExplainRequestKind;
  metric: AgreementMetric;
}

export class AttentionPanel {
  private ready = false;
  private shown: ShownTab = { tab: 'grid', mode: 'explain', metric: 'kendall' };
  /** The last notice since the current run started: replayed after `ready` (a panel opened while a model loads). */
  private lastNotice: NoticeMessage | undefined;
  private disposed = false;
  private run: PanelRun | undefined;
  private view: PanelViewState = DEFAULT_VIEW;
  /** A token to select once a (re)loading webview is ready. */
  private pendingFocus: number | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];
  /** The channel with the webview: its notes and requests, the host's notes, the in-webview inference requests. */
  private readonly channel: Channel<PanelHostEnd, PanelWebviewEnd>;
  /** In-webview inference (backend webgpu/auto): the port a WebviewInspector talks to. */
  readonly inference: PanelInference;
  /** The Explain view's explanations and comparisons of the current run. */
  private readonly explainHost: ExplainHost;

  static create(host: PanelHost, column: vscode.ViewColumn): AttentionPanel {
    const panel = vscode.window.createWebviewPanel(
      VIEW_TYPE,
      'Attention Lens',
      { viewColumn: column, preserveFocus: true },
      webviewOptions(host.extensionUri),
    );
    return new AttentionPanel(panel, host);
  }

  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly host: PanelHost,
  ) {
    const webview = panel.webview;
    webview.options = webviewOptions(host.extensionUri);
    this.channel = new Channel<PanelHostEnd, PanelWebviewEnd>(
      {
        postMessage: (message) => this.send(message),
        onMessage: (listener) => {
          const subscription = webview.onDidReceiveMessage(listener);
          return () => subscription.dispose();
        },
      },
      {
        peer: 'the panel',
        checks: hostChecks(() => this.runContext()),
        onDrop: (reason) => host.log.appendLine(`Dropped a webview message: ${reason}`),
      },
    );
    this.inference = new PanelInference(
      this.channel,
      panel,
      host.extensionUri,
      (inference) => this.render(inference),
      () => this.ready,
    );
    this.explainHost = new ExplainHost({
      post: (m) => this.post(m),
      log: (line) => host.log.appendLine(line),
      colorMap: () => host.colorMap(),
    });
    this.listen();
    this.render(false);
    this.subscriptions.push(
      panel.onDidChangeViewState(() => {
        // A hidden webview is destroyed (no retainContextWhenHidden); it sends `ready` again when shown.
        if (!panel.visible) {
          this.ready = false;
          this.inference.hidden();
          this.channel.restart(new LensError('INFERENCE_FAILED', 'The panel was hidden; its page was discarded.'));
        }
        if (panel.active) host.focused(this);
      }),
      panel.onDidDispose(() => this.onDisposed()),
    );
  }

  get isDisposed(): boolean {
    return this.disposed;
  }
  /** Whether the webview said `ready` and takes notes as they come (until then a run is replayed after it). */
  get isReady(): boolean {
    return this.ready && !this.disposed;
  }
  get currentRunId(): number | undefined {
    return this.run?.runId;
  }
  get isRunning(): boolean {
    return this.run !== undefined && this.run.end === undefined;
  }

  /** Cancels the run in flight (or the Continue in flight), if any. */
  cancel(): boolean {
    if (this.run?.generating && !this.run.generating.signal.aborted) {
      this.run.generating.abort();
      return true;
    }
    if (!this.run || this.run.end || this.run.abort.signal.aborted) return false;
    this.run.abort.abort();
    return true;
  }

  postSettings(): void {
    this.post({ type: 'settings', colorMap: this.host.colorMap() });
  }

  /** A one-line status; `busy` for work in progress (the model loading for the next run). */
  notice(text: string, busy = false): void {
    this.lastNotice = { type: 'notice', text, ...(busy ? { busy } : {}) };
    this.post(this.lastNotice);
  }

  /** The text of the last notice since the current run started (the panel's notice line). */
  get noticeText(): string | undefined {
    return this.lastNotice?.text;
  }

  /** The tab the webview last reported. */
  get shownTab(): ShownTab {
    return this.shown;
  }

  /** True when the Explain view has a result of the current run to export in the mode it shows. */
  hasExplainExport(): boolean {
    return this.run !== undefined && this.explainHost.hasResult(this.run.runId, this.shown.mode);
  }

  /** Exports the Explain view's result, as its own Export… button does (the palette's Export… on the Explain tab). */
  exportExplain(options: ExplainExportOptions = {}): Promise<ExportOutcome> {
    const run = this.run;
    if (!run) return Promise.resolve({ ok: false, message: 'The panel has no run.' });
    return this.explainHost.export(this.explainRun(run), this.shown.mode, this.shown.metric, options);
  }

  /** Runs `source.text` on the inspector, streaming every layer to the webview as it arrives. */
  async start(
    inspector: Inspector,
    source: RunSource,
    runId: number,
    options: { maxTokens?: number },
  ): Promise<RunSummary> {
    this.cancel();
    this.explainHost.reset();
    const abort = new AbortController();
    const summary: RunSummary = { runId, state: 'error', layers: [], heads: inspector.facts.heads, tokens: [] };
    let stream;
    // A panel restored with its output (Continue before a reload): prompt + output as one pass, the output marked.
    const restoring = this.restoredOutput(inspector, source, options.maxTokens);
    const restored = restoring && 'ids' in restoring ? restoring : undefined;
    const notRestored = restoring && 'why' in restoring ? restoring.why : undefined;
    if (source.generated && !restored) source = { ...source, generated: undefined };
    // Encoder–decoder runs: a given target is scored; otherwise the model translates, by beam search when the
    // setting asks for beams, else greedily with each token streamed to the webview as its step returns.
    const seq2seq = inspector.facts.encoderDecoder !== undefined;
    const beams = seq2seq && source.target === undefined ? translationBeamsSetting() : 1;
    // mBART models: the languages the settings name (other models have no codes: the settings do not apply).
    const languages = seq2seq && inspector.tokenizer?.languages ? languageSettings() : {};
    const sofar: Token[] = [];
    const onTargetStep = (step: TargetStep) => {
      const shown = this.run;
      if (!shown || shown.runId !== runId || this.disposed || shown.abort.signal.aborted) return;
      sofar.push(step.token);
      this.post(targetStepMessage(runId, step, sofar, inspector.tokenizer));
    };
    try {
      stream = inspector.run(restored ? restored.ids : source.text, {
        signal: abort.signal,
        truncate: source.truncate,
        maxTokens: options.maxTokens,
        chat: !restored && source.chat === true,
        // Long inputs: above 1 GiB of maps the worker keeps q/k and the webview asks for what it draws.
        long: 'auto',
        ...(source.target !== undefined ? { target: source.target } : {}),
        ...languages,
        ...(beams > 1 ? { beams } : {}),
        ...(seq2seq && source.target === undefined && beams === 1 ? { onTargetStep } : {}),
      });
    } catch (e) {
      const err = describeError(e);
      return { ...summary, state: err.cancelled ? 'cancelled' : 'error', message: err.message };
    }
    const tokens: TokenInfo[] = restored
      ? restored.tokens
      : stream.tokens.map((t) => ({
          text: t.text,
          start: t.start,
          end: t.end,
          special: t.special,
          ...(t.template ? { template: true } : {}),
        }));
    summary.tokens = tokens.map(({ text, start, end, template }) => ({
      text,
      start,
      end,
      ...(template ? { template } : {}),
    }));
    const run: PanelRun = {
      runId,
      source,
      facts: inspector.facts,
      tokens,
      ids: stream.tokens.map((t) => t.id),
      inspector,
      truncatedFrom: stream.truncatedFrom,
      layers: [],
      abort,
      mapping: mapSource(source),
      // Every later request to the kept run (the panel's, the hover's, the tint's, the export's) holds the model.
      ...(stream.kept ? { kept: heldKept(stream.kept, this.host.hold) } : {}),
      ...(restored ? { promptLength: restored.promptLength } : {}),
    };
    this.run = run;
    this.lastNotice = undefined;
    this.host.runChanged(this);
    if (this.disposed) abort.abort();
    this.post(this.startedMessage(run));
    if (notRestored)
      this.notice(`The generated tokens were not restored (${notRestored}): the prompt alone ran; Continue again.`);
    const isCurrent = () => this.run === run && !this.disposed;
    try {
      for await (const layer of stream) {
        if (abort.signal.aborted || !isCurrent()) break;
        run.layers.push(layer);
        summary.layers.push(layer.layer);
        // One stream: the status bar's count and the panel's layer note come from this layer, status first.
        this.host.progress(this, run.layers.length, run.facts.layers);
        this.postTarget(run, stream, inspector);
        this.post(this.layerMessage(run, layer));
      }
      this.postTarget(run, stream, inspector);
      if (abort.signal.aborted || !isCurrent()) {
        summary.state = 'cancelled';
        summary.message = 'The run was cancelled.';
      } else {
        summary.state = 'done';
        const t = stream.timings();
        run.end = { type: 'runFinished', runId, timings: t ?? null };
        this.post(run.end);
      }
    } catch (e) {
      const err = describeError(e);
      summary.state = err.cancelled || abort.signal.aborted ? 'cancelled' : 'error';
      summary.message = err.message;
      if (summary.state === 'error')
        this.host.log.appendLine(`Run ${runId} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
    if (summary.state !== 'done') {
      run.end = { type: 'runFailed', runId, cancelled: summary.state === 'cancelled', message: summary.message ?? '' };
      if (isCurrent()) this.post(run.end);
    }
    if (this.disposed) run.layers = [];
    this.host.progress(this, run.layers.length, -1);
    return summary;
  }

  /** Shows a run read from a file (saved-run.ts): every layer at once, no model behind it (no hover, Explain or
   * query/key vectors; the panel says so). */
  showSaved(saved: SavedRun, runId: number, file: string): void {
    this.cancel();
    this.explainHost.reset();
    const run: PanelRun = {
      runId,
      source: saved.source,
      facts: saved.facts,
      tokens: saved.tokens,
      ids: saved.ids,
      savedFrom: file,
      layers: saved.layers,
      abort: new AbortController(),
      end: { type: 'runFinished', runId, timings: null },
    };
    this.run = run;
    this.lastNotice = undefined;
    this.host.runChanged(this);
    this.post(this.startedMessage(run));
    for (const l of layersOf(run)) this.post(this.layerMessage(run, l));
    this.post(run.end!);
    this.notice(savedNotice(file, saved));
  }

  /** Records a run that failed before it reached the model (shown in the panel too). */
  failBeforeRun(message: string): void {
    this.notice(message);
  }

  private startedMessage(run: PanelRun): HostMessage {
    return {
      type: 'runStarted',
      runId: run.runId,
      tokens: run.tokens,
      facts: run.facts,
      source: run.source,
      ...(run.truncatedFrom !== undefined ? { truncatedFrom: run.truncatedFrom } : {}),
      // The worker's own decision (keepsRun, made when the run started): the views lay out for a window from the start.
      kept: run.kept !== undefined,
    };
  }

  /** Encoder–decoder runs: sends the target (the translation) once the runtime has it, before the layers that need
   * it as row labels. */
  private postTarget(run: PanelRun, stream: AttentionRun, inspector: Inspector): void {
    if (run.target || !run.facts.encoderDecoder) return;
    const t = stream.target();
    if (!t) return;
    run.target = targetMessage(run.runId, t, inspector.tokenizer);
    run.targetIds = t.tokens.map((x) => x.id);
    this.post(run.target);
  }

  private layerMessage(run: PanelRun, l: LayerResult): HostMessage {
    if (l.overview) {
      const o = l.overview;
      const heads = o.heads;
      const res = heads[0].res;
      const cells = res * res;
      const max = new Float32Array(heads.length * cells); // [heads, res, res]
      const mean = new Float32Array(heads.length * cells);
      heads.forEach((h, i) => {
        max.set(h.blockMax, i * cells);
        mean.set(h.blockMean, i * cells);
      });
      return {
        type: 'keptLayer',
        runId: run.runId,
        layer: l.layer,
        kind: l.kind,
        heads: heads.length,
        length: o.length,
        causal: l.kind === 'causal',
        window: run.facts.slidingWindows?.[l.layer] ?? null,
        res,
        block: heads[0].block,
        blockMax: max.buffer,
        blockMean: mean.buffer,
      };
    }
    return {
      type: 'layer',
      runId: run.runId,
      layer: l.layer,
      kind: l.kind,
      heads: l.heads,
      queryLength: l.queryLength,
      keyLength: l.keyLength,
      data: bufferOf(l.data),
    };
  }

  /** Sends a note to the webview (dropped while it is not ready: it gets the run replayed after `ready`). */
  private post(message: HostMessage): void {
    const { type, ...payload } = message;
    const sent = this.ready && !this.disposed;
    this.channel.notify(type, payload as never);
    if (sent && (message.type === 'layer' || message.type === 'keptLayer'))
      this.host.layerSent(this, message.runId, message.layer);
  }

  /** The channel's port: posts to the webview while it is ready. */
  private send(message: unknown): void {
    if (!this.ready || this.disposed) return;
    const what = (message as { name?: string; kind?: string }).name ?? (message as { kind?: string }).kind;
    this.panel.webview.postMessage(message).then(
      (ok) => {
        // A panel closed meanwhile takes nothing (its run was cancelled): not worth a line.
        if (!ok && what !== 'layer' && !this.disposed)
          this.host.log.appendLine(`Panel did not take a '${what}' message.`);
      },
      (e: unknown) => this.host.log.appendLine(`Posting '${what}' failed: ${String(e)}`),
    );
  }

  /** After `ready`: settings, then the current run as it stands. */
  private replay(): void {
    this.postSettings();
    const run = this.run;
    if (!run) {
      if (this.lastNotice) this.post(this.lastNotice);
      return;
    }
    this.post(this.startedMessage(run));
    if (run.target) this.post(run.target);
    for (const l of layersOf(run)) this.post(this.layerMessage(run, l));
    if (run.end) this.post(run.end);
    this.explainHost.replay(run.runId);
    if (this.pendingFocus !== undefined) this.post({ type: 'focusToken', runId: run.runId, index: this.pendingFocus });
    this.pendingFocus = undefined;
    if (this.lastNotice) this.post(this.lastNotice);
  }

  /** Sets the page (reloads the webview); `inference` adds what running a model in it needs to the CSP. */
  private render(inference: boolean): void {
    const webview = this.panel.webview;
    const dist = vscode.Uri.joinPath(this.host.extensionUri, 'dist');
    this.ready = false;
    webview.html = panelHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.css')).toString(),
      nonce: randomBytes(18).toString('base64url'),
      inference,
    });
  }

  /** What the panel's current run allows webview messages to name. */
  private runContext(): RunContext {
    const run = this.run;
    return {
      runId: run?.runId,
      layers: run?.facts.layers ?? 0,
      tokens: run?.tokens.length ?? 0,
      heads: run?.facts.heads,
    };
  }

  /** The webview's notes and requests (each checked by the channel against the current run first). */
  private listen(): void {
    const c = this.channel;
    c.on('ready', () => {
      this.ready = true;
      this.inference.webviewReady();
      // What the previous page asked is answered to nobody; what was asked of it is lost.
      c.restart(new LensError('INFERENCE_FAILED', 'The panel reloaded.'));
      this.replay();
    });
    c.on('selectToken', (m) => {
      if (this.run) this.host.selectToken(this, m.index);
    });
    c.on('viewChanged', (m) => {
      this.view = { view: m.view, layer: m.layer, head: m.head, ...(m.window ? { window: m.window } : {}) };
      this.host.viewChanged(this);
    });
    c.on('tabChanged', (m) => {
      this.shown = { tab: m.tab, mode: m.mode, metric: m.metric };
    });
    c.on('export', () => this.host.exportRequested(this));
    c.on('openDropped', (m) => this.host.openDropped(this, m));
    c.on('cancel', () => this.cancel());
    c.on('log', (m) => this.host.log.appendLine(`[webview ${m.level}] ${m.message}`));
    c.on('exportExplain', (m) => {
      if (this.run) void this.explainHost.export(this.explainRun(this.run), m.what, m.metric);
    });
    // What runs the model after the run holds it, so that the idle time or a memory check does not release it midway.
    const hold = this.host.hold;
    c.handle('vectors', (m) => hold(() => this.vectors(this.current(), m.layer, m.window)));
    c.handle('keptWindow', async (m, ctx) => {
      const kept = this.current().kept;
      if (!kept) throw new LensError('BAD_INPUT', 'This run is not kept for long inputs; its maps are in the panel.');
      const data = bufferOf(await kept.window(m.layer, m.head, m.rows, m.cols)); // [rows, cols]; held (heldKept)
      ctx.transfer(data);
      return { ...m, data };
    });
    c.handle('explain', (m, ctx) => hold(() => this.explainHost.explain(this.explainRun(this.current()), m, ctx)));
    c.handle('compare', (m, ctx) => hold(() => this.explainHost.compare(this.explainRun(this.current()), m, ctx)));
    c.handle('generate', (m, ctx) => hold(() => this.generate(this.current(), m, ctx)));
    c.on('generatedText', (m) => {
      if (this.run) void this.useGeneratedText(this.run, m.action);
    });
  }

  /** Continue: the model writes up to `m.maxNew` tokens after the run's tokens (KV-cached, in the worker that holds
   * it); each token grows the run here (its tokens, ids and every layer's map) and is streamed to the webview, which
   * grows its copy the same way. Stop (`cancel`), a newer run or a reloaded webview ends it between tokens; the
   * tokens already sent stay in the run. */
  private async generate(
    run: PanelRun,
    m: GenerateRequest,
    ctx: HandlerContext<GeneratedTokenEvent>,
  ): Promise<GenerateReply> {
    const inspector = run.inspector;
    if (!inspector) throw new LensError('BAD_INPUT', `${SAVED_NO_MODEL} Continue needs it.`);
    if (run.end?.type !== 'runFinished' || run.layers.length !== run.facts.layers)
      throw new LensError(
        'BAD_INPUT',
        'Continue needs a finished run (every layer computed); run Show Attention again.',
      );
    if (run.generating) throw new LensError('BAD_INPUT', 'The model is already continuing this run; Stop it first.');
    if (run.kept)
      throw new LensError(
        'TOO_LONG',
        `Continue is not available for runs of ${run.tokens.length} tokens yet (kept for long inputs); select at most ${longestMapsRun(run.facts)} tokens, or use the CLI's generate.`,
      );
    checkCanGenerate(run.facts);
    const tokenizer = inspector.tokenizer;
    if (!tokenizer) throw new LensError('NO_TOKENIZER', `${run.facts.name} has no tokenizer to write text with.`);
    const decoding = decodingOf(m, () => randomInt(0, 2 ** 31));
    const stops = stopTokenIds(tokenizer, run.facts.stopTokenIds);
    const abort = new AbortController();
    run.generating = abort;
    if (ctx.signal.aborted) abort.abort();
    else ctx.signal.addEventListener('abort', () => abort.abort(), { once: true });
    const promptLength = run.promptLength ?? run.tokens.length;
    // Room for the tokens asked for: each token writes its rows in place (one copy of the maps per Continue).
    if (run.growing) run.growing.reserve(m.maxNew);
    else run.growing = new GrowingMaps(layersOf(run), m.maxNew);
    const growing = run.growing;
    let count = 0;
    let end: GenerateReply['end'] = 'length';
    try {
      const done = await inspector.generate([...run.ids], {
        maxNew: m.maxNew,
        ...(decoding.kind === 'sample'
          ? { temperature: decoding.temperature, topP: decoding.topP, seed: decoding.seed }
          : {}),
        stopIds: [...stops],
        signal: abort.signal,
        onToken: (t) => {
          // A newer run, a closed panel or a reloaded webview (which got the run replayed as it stood): stop here.
          if (this.run !== run || this.disposed || ctx.detached) return abort.abort();
          if (t.position !== run.tokens.length) return abort.abort();
          const token = generatedToken(tokenizer.idToToken(t.id) ?? `#${t.id}`, stops.has(t.id));
          growing.append(t.rows);
          run.ids.push(t.id);
          run.tokens.push(token);
          run.promptLength = promptLength;
          count++;
          ctx.emit({ runId: run.runId, position: t.position, token, rows: t.rows.map(bufferOf) });
        },
      });
      end = done.end;
    } catch (e) {
      // Stop keeps what was written; anything else is the request's error.
      if (!(isLensError(e) && e.code === 'CANCELLED' && abort.signal.aborted)) throw e;
      end = 'stopped';
    } finally {
      run.generating = undefined;
    }
    const text = tokenizer.decode(generatedIds(run.ids, promptLength, stops));
    if (count > 0) run.source = { ...run.source, generated: run.ids.slice(promptLength) };
    this.host.log.appendLine(
      `Run ${run.runId}: continued by ${count} token${count === 1 ? '' : 's'} (${end}; ${decoding.kind === 'sample' ? `temperature ${decoding.temperature}, top-p ${decoding.topP}, seed ${decoding.seed}` : 'greedy'}).`,
    );
    return { runId: run.runId, count, end, decoding, text, source: run.source };
  }

  /** The input of a run whose source carries output ids (a restored panel), or why the text alone runs. */
  private restoredOutput(
    inspector: Inspector,
    source: RunSource,
    maxTokens: number | undefined,
  ): ReturnType<typeof restoredInput> | { why: string } | undefined {
    const output = source.generated;
    if (!output?.length || source.savedFile !== undefined) return undefined;
    const tokenizer = inspector.tokenizer;
    if (!tokenizer) return { why: `${inspector.facts.name} has no tokenizer` };
    let prompt;
    try {
      prompt = inspector.tokenize(source.text, { chat: source.chat === true });
    } catch {
      return { why: 'the text no longer tokenizes' }; // the text alone runs, and says what is wrong with it
    }
    const why = restoreProblem(prompt.length, output, maxTokens ?? Infinity, inspector.facts);
    return why
      ? { why }
      : restoredInput(
          prompt,
          output,
          (id) => tokenizer.idToToken(id),
          stopTokenIds(tokenizer, inspector.facts.stopTokenIds),
        );
  }

  /** The run's generated text (stop tokens left out), decoded from its own ids. */
  generatedText(): string | undefined {
    const run = this.run;
    const tokenizer = run?.inspector?.tokenizer;
    if (!run || run.promptLength === undefined || !tokenizer) return undefined;
    return tokenizer.decode(generatedIds(run.ids, run.promptLength, stopTokenIds(tokenizer, run.facts.stopTokenIds)));
  }

  /** Insert into editor (after the analysed text, while the run still describes the document) or Copy. */
  private async useGeneratedText(run: PanelRun, action: 'insert' | 'copy'): Promise<void> {
    const text = this.generatedText();
    if (text === undefined || this.run !== run) return;
    if (action === 'copy') {
      await vscode.env.clipboard.writeText(text);
      this.notice('Copied the generated text.');
      return;
    }
    const m = run.mapping;
    const doc = m && vscode.workspace.textDocuments.find((d) => d.uri.toString() === m.uri);
    if (!m || !doc || !mappingCurrent(m, doc)) {
      this.notice(
        'The analysed text is not where the run found it (edited, closed, or not from a document): use Copy instead.',
      );
      return;
    }
    const edit = new vscode.WorkspaceEdit();
    edit.insert(doc.uri, doc.positionAt(m.offset + m.length), text);
    if (!(await vscode.workspace.applyEdit(edit))) this.notice('The editor did not take the generated text.');
  }

  /** The current run (the channel's checks refuse requests about any other). */
  private current(): PanelRun {
    if (!this.run) throw new LensError('BAD_INPUT', 'The panel has no run.');
    return this.run;
  }

  private explainRun(run: PanelRun): ExplainRun {
    const { runId, inspector, ids, tokens, facts, source, promptLength, targetIds } = run;
    const layers = layersOf(run); // a continued run's maps, grown to prompt + output
    if (!inspector) throw new LensError('BAD_INPUT', `${SAVED_NO_MODEL} Explain needs it.`);
    const timings = run.end?.type === 'runFinished' ? run.end.timings : null;
    return {
      ...(run.kept ? { kept: run.kept } : {}),
      // A kept run's own time: one model pass over its tokens, which the refusals turn into a time per method.
      ...(run.kept && timings ? { passMs: timings.totalMs } : {}),
      runId,
      inspector,
      ids,
      tokens,
      facts,
      layers,
      source,
      ...(promptLength !== undefined ? { promptLength } : {}),
      ...(targetIds ? { targetIds } : {}),
    };
  }

  /** Runs the input again with `layer`'s query/key vectors and keeps them on that layer. */
  private async computeVectors(run: PanelRun, l: LayerResult): Promise<void> {
    if (!run.inspector) return;
    const stream = run.inspector.run(run.ids, { withVectors: [l.layer], signal: run.abort.signal });
    for await (const x of stream) {
      if (x.layer !== l.layer) continue;
      l.q = x.q;
      l.k = x.k;
      break; // leaving the loop cancels the rest of the pass
    }
  }

  /** The query/key vectors of `layer` (computed on the first request after the run), or why there are none. */
  private async vectors(run: PanelRun, layer: number, window?: VectorsRequest['window']): Promise<Vectors> {
    const l = layersOf(run).find((x) => x.layer === layer);
    if (run.kept) {
      const base = {
        runId: run.runId,
        layer,
        heads: run.facts.heads,
        kvHeads: run.facts.kvHeads || run.facts.heads,
        queryLength: 1,
        keyLength: window ? window.keys.end - window.keys.start : run.tokens.length,
        headDim: run.facts.headDim,
      };
      // A long run: the one query token's q and a window of keys, from what the worker keeps (float32, exact).
      if (!window)
        return {
          ...base,
          q: null,
          k: null,
          reason: `A run of ${run.tokens.length} tokens (kept for long inputs) shows the neuron view on a window of keys; ask for one.`,
        };
      const v = await run.kept.vectors(layer, window.query, window.keys);
      const kvHeads = v.k.length / (base.keyLength * base.headDim);
      return {
        ...base,
        kvHeads,
        q: bufferOf(v.q),
        k: bufferOf(v.k),
        window: { query: window.query, keyStart: window.keys.start, lse: Array.from(v.lse) },
      };
    }
    if (l && (!l.q || !l.k) && run.end?.type === 'runFinished') {
      try {
        await this.computeVectors(run, l);
      } catch (e) {
        this.host.log.appendLine(`Query/key vectors of layer ${layer} failed: ${describeError(e).message}`);
      }
    }
    const d = run.facts.headDim;
    const base = {
      runId: run.runId,
      layer,
      heads: l?.heads ?? run.facts.heads,
      kvHeads: run.facts.kvHeads || run.facts.heads,
      queryLength: l?.queryLength ?? run.tokens.length,
      keyLength: l?.keyLength ?? run.tokens.length,
      headDim: d,
    };
    if (!l) return { ...base, q: null, k: null, reason: 'This layer has not been computed yet.' };
    if (!run.inspector) return { ...base, q: null, k: null, reason: `${SAVED_NO_MODEL} The neuron view needs it.` };
    if (!l.q || !l.k)
      return { ...base, q: null, k: null, reason: 'The runtime returned no query/key vectors for this run.' };
    const kvHeads = l.k.length / (l.keyLength * d);
    if (l.q.length !== l.heads * l.queryLength * d || !Number.isInteger(kvHeads) || kvHeads < 1) {
      this.host.log.appendLine(`Vectors of layer ${layer} have unexpected sizes (q ${l.q.length}, k ${l.k.length}).`);
      return { ...base, q: null, k: null, reason: 'The query/key vectors have unexpected sizes (see the log).' };
    }
    return { ...base, kvHeads, q: bufferOf(l.q), k: bufferOf(l.k) };
  }

  private onDisposed(): void {
    this.inference.dispose();
    this.channel.close(new LensError('INFERENCE_FAILED', 'The panel was closed.'));
    this.explainHost.reset();
    this.disposed = true;
    this.ready = false;
    if (this.run) {
      this.run.abort.abort();
      this.run.layers = [];
      this.run.growing = undefined;
    }
    for (const s of this.subscriptions) s.dispose();
    this.subscriptions.length = 0;
    this.host.disposed(this);
  }

  reveal(): void {
    this.panel.reveal(undefined, true);
  }

  /** An edit of some document: the run's range follows it; an edit inside the analysed text marks the run stale,
   * which the panel shows (the hover and the tint say the same). */
  documentChanged(e: vscode.TextDocumentChangeEvent): void {
    const run = this.run;
    const m = run?.mapping;
    if (!run || !m || m.uri !== e.document.uri.toString() || e.contentChanges.length === 0) return;
    const doc = e.document;
    const eol = doc.eol === vscode.EndOfLine.CRLF ? 2 : 1;
    if (m.eol !== eol) {
      // The line endings changed (Change End of Line Sequence; a file reloaded with others): VS Code reports it as the
      // whole document replaced. The text moves by the line breaks before it; it stays the run's only where the
      // document still holds the run's text there (otherwise more than the line endings changed): stale if not.
      const lineStart = (line: number) => doc.offsetAt(new vscode.Position(line, 0));
      const next = followEolChange(m, run.source.text, { lineCount: doc.lineCount, lineStart }, eol, doc.version);
      const at = (o: number) => doc.positionAt(o);
      const same = doc.getText(new vscode.Range(at(next.offset), at(next.offset + next.length))) === run.source.text;
      run.mapping = next.stale || same ? next : { ...next, stale: true };
    } else {
      const edits = e.contentChanges.map((c) => ({
        offset: c.rangeOffset,
        removed: c.rangeLength,
        inserted: c.text.length,
      }));
      run.mapping = followEdits(m, edits, doc.version);
    }
    if (run.mapping.stale && !m.stale) {
      this.host.log.appendLine(`Run ${run.runId}: the text it analysed was edited; it is out of date.`);
      this.notice(STALE_LINE);
    }
  }

  /** The current run as the hover, tint and export read it (undefined before the first run). */
  snapshot(): RunSnapshot | undefined {
    const run = this.run;
    if (!run) return undefined;
    const state = !run.end ? 'running' : run.end.type === 'runFinished' ? 'done' : 'stopped';
    return {
      runId: run.runId,
      source: run.source,
      facts: run.facts,
      tokens: run.tokens,
      ids: run.ids,
      ...(run.target?.type === 'target'
        ? { targetTokens: run.target.tokens, decoderInputTokens: run.target.decoderInput }
        : {}),
      // A kept run's layers hold no maps: what reads the snapshot asks `kept` for exact values.
      layers: run.kept ? [] : layersOf(run),
      ...(run.kept ? { kept: run.kept } : {}),
      state,
      mapping: run.mapping,
      view: this.view,
    };
  }

  /** Reveals the panel and selects token `index` of the current run there. */
  focusToken(index: number): void {
    const run = this.run;
    if (!run || index < 0 || index >= run.tokens.length) return;
    this.panel.reveal(undefined, false);
    if (this.ready) this.post({ type: 'focusToken', runId: run.runId, index });
    else this.pendingFocus = index;
  }
}
