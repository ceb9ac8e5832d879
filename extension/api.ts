// The object activate() returns: a small test API over the runs the extension has made (integration and e2e tests
// drive the commands, then wait for the runs here). Types only besides RunSummary's shape.

/** The outcome of one `Attention Lens: Show Attention` invocation (every invocation gets a runId, even one that
 *  fails before the model runs, e.g. an empty selection). */
export interface RunSummary {
  runId: number;
  state: 'done' | 'cancelled' | 'error';
  /** Layer indices in the order they were posted to the panel. */
  layers: number[];
  /** Heads per layer (0 when the model never ran). */
  heads: number;
  /** The tokens the model saw; start/end are offsets into the input text (null for special tokens). */
  tokens: { text: string; start: number | null; end: number | null; template?: boolean }[];
  /** The user-facing message for 'error' (and 'cancelled'). */
  message?: string;
}

export interface AttentionLensApi {
  /** Every finished invocation, in the order they finished. */
  readonly runs: RunSummary[];
  /**
   * Resolves with the first finished run whose runId > afterRunId. Without afterRunId: the most recently
   * started run (waiting for it to finish), or the next run to finish when none has started.
   */
  waitForRun(afterRunId?: number): Promise<RunSummary>;
  /** The last error message shown to the user (run, load or command), if any. */
  lastError(): string | undefined;
  /** Every error or warning line the extension's notifier has shown, in order (the bad-input catalogue counts them). */
  messages?(): readonly string[];
  /** True while a model is loading (its progress notification open). */
  loading?(): boolean;
  /** The loaded model's backend and the note of why it runs there (webgpu/wasm in the panel, native/wasm in the
   * host); undefined when no model is loaded. */
  backend?(): { name: string; note: string } | undefined;
  /** The status bar item's text now. */
  statusText?(): string;
  /** The status bar item's text as each layer note of a run went to a panel's webview, in order. */
  statusAtLayers?(): readonly { runId: number; layer: number; text: string }[];
  /** The lines of the Output channel 'Attention Lens' so far (the last 2,000). */
  logLines?(): readonly string[];
  /** The User settings file checked for a model path a remote window ignores (undefined in a local window). */
  userSettingsFile?(): string | undefined;
  /** The last notice the active panel was sent since its run started (what its notice line shows). */
  panelNotice?(): string | undefined;
  /** The number of open Attention Lens panels. */
  panelCount?(): number;
  /** Whether the active panel's webview is ready (layers stream to it as they come; before, a run is replayed). */
  panelReady?(): boolean;
  /** Opens what a drop onto the panel sent (the webview's checked `openDropped`) as the panel does; its outcome. */
  openDropped?(dropped: {
    uri?: string;
    text?: string;
    name?: string;
    npy?: ArrayBuffer;
    npyName?: string;
  }): Promise<{ ok: boolean; message: string }>;
  /** The attention of a run a panel still shows ([heads, query, key] per layer), as the host holds it. */
  attention?(
    runId: number,
  ): { layer: number; heads: number; queryLength: number; keyLength: number; data: Float32Array }[] | undefined;
  /** A run kept for long inputs (no maps in the host): one exact value, asked of the worker as the hover does;
   * undefined when no panel shows that run or it is not kept. */
  keptValue?(runId: number, layer: number, head: number, query: number, key: number): Promise<number> | undefined;
}

/**
 * Optional argument of the attentionLens.showAttention command (for tests and other extensions); without it the
 * command uses the active editor's selection, or its current line when the selection is empty.
 */
export interface ShowAttentionArgs {
  /** Text to run instead of the selection. */
  text?: string;
  /** Truncate to the token limit instead of failing with "too long". */
  truncate?: boolean;
  /** Run the text as a user message in the model's chat template (default: the attentionLens.chatPrompt setting,
   * which falls back to the plain text for a model without a template; true fails for such a model). */
  chat?: boolean;
  /** Encoder–decoder models: score this target text with teacher forcing instead of translating (Show Attention
   * with Target…); an empty one is refused. */
  target?: string;
}
