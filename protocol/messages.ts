// The host <-> webview contract of the Attention Lens panel, carried by the request/reply channel
// (runtime/channel/channel.ts; panel-channel.ts puts the two sides together): the one-way notes of each direction as
// one discriminated union tagged by `type` (the tag is the note's name; the rest is its payload), and the requests the
// webview makes of the host (PanelCalls: the neuron view's vectors, the Explain view's explanation and comparison),
// each with its reply and the progress it streams.
//
// Handshake: the webview posts `ready` once its script has started (and again after every reload of the webview,
// e.g. when a hidden panel becomes visible); the host answers with `settings` and then replays the panel's current
// run (`runStarted`, every `layer` received so far, and `runFinished`/`runFailed` if it ended).
//
// Runs are identified by a host-assigned `runId`. A newer `runStarted` replaces everything the webview shows; every
// message about an older run is ignored by the webview, and every webview message naming a run other than the
// panel's current one is dropped by the host.
//
// Attention is sent as float32, one message per layer, as an ArrayBuffer (VS Code >= 1.57 carries ArrayBuffers in
// webview messages without JSON encoding). Why float32 and not a quantised form: the hover and the matrix tooltip
// must show the exact value the runtime computed (String(float32)), and the neuron view compares softmax(q.k/sqrt(d))
// with the stored value; uint8 (error up to 2e-3) would make both lie. The cost measured in
// docs/performance.md is ~50 ms for all maps at 512 tokens of BERT-base (151 MB) versus ~15 ms for uint8,
// spread over the layers as they stream, which the UI never notices; below 128 tokens it is a few milliseconds.
import type { AttentionKind, ModelFacts, RunTimings } from '../runtime/types';
import type { ExplainResult } from '../runtime/explain/result';
import type { Call } from '../runtime/channel/types';

/** The notes of a union of messages tagged by `type`: note name → payload (the message without its tag). */
export type NotesOf<M extends { type: string }> = { [K in M['type']]: Omit<Extract<M, { type: K }>, 'type'> };

/** A token as the webview sees it: its vocabulary string and its [start, end) span in the run's input text. */
export interface TokenInfo {
  text: string;
  start: number | null;
  end: number | null;
  special: boolean;
  /** Written by a chat template around the user's text (no span; drawn dimmer). */
  template?: boolean;
  /** Written by the model after the run's input (the panel's Continue): no span; told apart from the prompt in every
   *  view and export. */
  generated?: boolean;
}

/** Where a run's input came from; persisted in the webview's state so that a restored panel can run it again. */
export interface RunSource {
  /** The document's URI as a string (may be empty for text passed directly). */
  uri: string;
  /** 0-based [line, character] of the selection's start and end. */
  range: [number, number, number, number];
  text: string;
  /** The model folder the run used. */
  modelPath: string;
  /** Whether the input was truncated to the token limit. */
  truncate: boolean;
  /** Run as a user message in the model's chat template (Show Attention as Chat Prompt). */
  chat?: boolean;
  /** A run opened from a file (Open Saved Run): that file's path, which a panel restored after a reload opens again. */
  savedFile?: string;
  /** The ids the model wrote after the input (Continue): a panel restored after a reload runs input + output as one
   * pass and marks the output generated. */
  generated?: number[];
  /** Encoder–decoder models: the target text given to score with teacher forcing (Show Attention with Target…);
   * absent: the model translates. */
  target?: string;
}

export type ColorMapName = 'viridis' | 'magma' | 'blues' | 'greys';
export const COLOR_MAPS: readonly ColorMapName[] = ['viridis', 'magma', 'blues', 'greys'];

// ---------------------------------------------------------------------------------------------------------------
// Host -> webview

/** The panel's display settings (sent after `ready` and whenever the configuration changes). */
export interface SettingsMessage {
  type: 'settings';
  colorMap: ColorMapName;
}

/** A run began: tokens and model facts; the webview clears the previous run and sizes its views. */
export interface RunStartedMessage {
  type: 'runStarted';
  runId: number;
  tokens: TokenInfo[];
  facts: ModelFacts;
  source: RunSource;
  /** Set when the input was truncated: the token count before truncation. */
  truncatedFrom?: number;
  /** Whether the run is kept for long inputs (runtime/inspector/long-runs.ts keepsRun: its layers come as `keptLayer`
   * overviews, exact values asked with `keptWindow`), known before its first layer so that every view lays out for a
   * window from the start instead of for every token. */
  kept: boolean;
}

/** One layer's attention, float32 row-major [heads, queryLength, keyLength] in `data`. */
export interface LayerMessage {
  type: 'layer';
  runId: number;
  layer: number;
  kind: AttentionKind;
  heads: number;
  queryLength: number;
  keyLength: number;
  data: ArrayBuffer;
}

/** Encoder–decoder runs: the target side (the translation, or the given target). Sent when the runtime has it (from
 * the first decoder or cross layer on) and replayed with the run. Rows of the decoder and cross maps are `tokens`
 * (row i reads decoderInput[i] and predicts tokens[i]); the run's `tokens` are the source. */
export interface TargetMessage {
  type: 'target';
  runId: number;
  tokens: TokenInfo[];
  /** [decoder start] + tokens[:-1]. */
  decoderInput: TokenInfo[];
  mode: 'teacher-forced' | 'translated';
  /** Translations: why they ended. */
  end?: 'stop' | 'length';
  /** The target as text (the target tokenizer's decoding, or the given text). */
  text: string;
  /** log p(tokens[i]) under the model (teacher-forced on the given target or the translation). */
  logprobs: number[];
  /** Translations by beam search: the beam size (absent: greedy, or a given target). */
  beams?: number;
}

/** Encoder–decoder greedy translations, as they are generated: token `index` of the target, its log-probability, the
 * translation so far as text, and the token's query rows per decoder layer (self [heads, index + 1] and cross
 * [heads, source length], float32). The `target` note and the whole decoder and cross layers follow at the end. */
export interface TargetStepMessage {
  type: 'targetStep';
  runId: number;
  index: number;
  token: TokenInfo;
  logprob: number;
  text: string;
  selfRows: ArrayBuffer[];
  crossRows: ArrayBuffer[];
}

/** A layer of a run kept for long inputs (runtime/inspector/long-runs.ts): no map, the per-head overview (max and
 * mean over `block` × `block` entries, float32 [heads, res, res]); exact entries are asked for with `keptWindow`. */
export interface KeptLayerMessage {
  type: 'keptLayer';
  runId: number;
  layer: number;
  kind: AttentionKind;
  heads: number;
  length: number;
  /** The mask rule of the layer (which entries are exact zeros). */
  causal: boolean;
  window: number | null;
  res: number;
  block: number;
  blockMax: ArrayBuffer;
  blockMean: ArrayBuffer;
}

/** The query/key vectors of one layer (the reply to `vectors`); q/k are null with a reason when unavailable. */
export interface Vectors {
  runId: number;
  layer: number;
  heads: number;
  /** Heads in `k` (fewer than `heads` with grouped-query attention). */
  kvHeads: number;
  queryLength: number;
  keyLength: number;
  headDim: number;
  /** float32 [heads, queryLength, headDim]. */
  q: ArrayBuffer | null;
  /** float32 [kvHeads, keyLength, headDim]. */
  k: ArrayBuffer | null;
  reason?: string;
  /** A kept run's window (VectorsRequest.window): q is the one query token's (queryLength 1), k the keys from
   *  keyStart on (keyLength of them), and lse per head the query row's log-sum-exp over every key of the run, so
   *  that exp(score − lse) is the run's own weight of a key in the window. */
  window?: { query: number; keyStart: number; lse: number[] };
}

/** The run completed; every layer has been posted. */
export interface RunFinishedMessage {
  type: 'runFinished';
  runId: number;
  timings: RunTimings | null;
}

/** The run stopped early: cancelled by the user/a newer run, or failed with a user-facing message. */
export interface RunFailedMessage {
  type: 'runFailed';
  runId: number;
  cancelled: boolean;
  message: string;
}

/** A one-line status for the panel when there is no run to show (loading, no model configured...). */
export interface NoticeMessage {
  type: 'notice';
  text: string;
  /** Work in progress (the model loading for a run): shown in the status line, not as an alert, until the run starts
   *  or another notice replaces it. */
  busy?: boolean;
}

/** Make a token the panel's selected (query) token: the hover's "Show in panel" link, the tint-at-cursor command. */
export interface FocusTokenMessage {
  type: 'focusToken';
  runId: number;
  index: number;
}

// ----- The Explain view (host -> webview). An explanation of the current run's tokens (runtime/explain) and the
// compare mode's two attention maps are the replies to the webview's `explain` and `compare` requests (PanelCalls);
// after a reload of the webview the host posts the last ones again as these notes.

/** What an explanation or comparison in flight is doing (one line for the view's status), streamed by the request. */
export interface ExplainProgress {
  text: string;
  /** Steps done and in all, when known (methods). */
  done?: number;
  total?: number;
}

/** An explanation: [seq] score vectors as plain numbers (NaN as null), no attention maps. */
export interface ExplainResultMessage {
  type: 'explainResult';
  runId: number;
  result: ExplainResult;
}

/** One side of a comparison: a [tokens, tokens] attention map. */
export interface CompareMap {
  /** What the map is ("layer 3, head 5", "this input", "the second input"). */
  label: string;
  tokens: TokenInfo[];
  causal: boolean;
  /** float32 [tokens, tokens] row-major (query, key). */
  data: ArrayBuffer;
}

/** A comparison: maps a and b, and b − a over the tokens they share, with JSD per query row. */
export interface CompareResultMessage {
  type: 'compareResult';
  runId: number;
  mode: CompareMode;
  layer: number;
  a: CompareMap;
  b: CompareMap;
  /** int32 [m]: positions in a, and in b, of the m aligned tokens (all of them for head vs head). */
  alignA: ArrayBuffer;
  alignB: ArrayBuffer;
  /** float32 [m, m]: b − a of the rows restricted to the aligned keys and renormalised (aligned queries × keys). */
  diff: ArrayBuffer;
  /** float32 [m]: Jensen–Shannon divergence (bits, 0..1) of each aligned query row; NaN where undefined. */
  rowJsd: ArrayBuffer;
  /** Mean of rowJsd over the rows where it is defined (bits, 0..1); null when none is. */
  jsd: number | null;
  /** Mean total variation distance over the same rows; null when none is. */
  tvd: number | null;
  /** Set when the second input was cut to the length limit: its length before. */
  truncatedFrom?: number;
}

export type HostMessage =
  | FocusTokenMessage
  | SettingsMessage
  | RunStartedMessage
  | LayerMessage
  | TargetMessage
  | TargetStepMessage
  | KeptLayerMessage
  | RunFinishedMessage
  | RunFailedMessage
  | NoticeMessage
  | ExplainResultMessage
  | CompareResultMessage;

// ---------------------------------------------------------------------------------------------------------------
// Webview -> host

/** The webview's script is running and listening; the host answers with settings and the current run. */
export interface ReadyMessage {
  type: 'ready';
}

/** The user picked a token in a view; the host highlights its range in the editor. */
export interface SelectTokenMessage {
  type: 'selectToken';
  runId: number;
  index: number;
}

/** The user pressed Cancel in the panel. */
export interface CancelMessage {
  type: 'cancel';
  runId: number;
}

/** A line for the "Attention Lens" output channel (webview-side errors and diagnostics). */
export interface LogMessage {
  type: 'log';
  level: 'info' | 'warn' | 'error';
  message: string;
}

/** The panel's views (ViewName in webview/store.ts). */
export type PanelView = 'grid' | 'head' | 'matrix' | 'neuron';
export const PANEL_VIEWS: readonly PanelView[] = ['grid', 'head', 'matrix', 'neuron'];

/** The view, layer and head the user is looking at (after every change and after `runStarted`): the editor hover,
 *  the tint and the export follow it. */
export interface ViewChangedMessage {
  type: 'viewChanged';
  runId: number;
  view: PanelView;
  layer: number;
  head: number | 'mean' | 'max';
  /** The matrix zoomed: the rows (queries) and columns (keys) it shows, [start, end) each (what its export draws);
   *  a kept run's head view: the window of tokens it shows (rows = cols). */
  window?: { rows: { start: number; end: number }; cols: { start: number; end: number } };
}

/** The panel's tabs: the attention views, then the Explain view. */
export type PanelTab = PanelView | 'explain';
export const PANEL_TABS: readonly PanelTab[] = [...PANEL_VIEWS, 'explain'];

/** The tab shown, with the Explain view's mode and agreement metric (at start and on every change): the palette's Export… exports it. */
export interface TabChangedMessage {
  type: 'tabChanged';
  tab: PanelTab;
  mode: ExplainRequestKind;
  metric: AgreementMetric;
}

/** The user pressed Export in the panel: the host asks for the format and the file, then writes it. */
export interface ExportRequestMessage {
  type: 'export';
  runId: number;
}

// ----- The Explain view (webview -> host)

export type ExplainRequestKind = 'explain' | 'compare';
export type CompareMode = 'heads' | 'inputs';
export type AgreementMetric = 'kendall' | 'spearman' | 'topK';
export const AGREEMENT_METRICS: readonly AgreementMetric[] = ['kendall', 'spearman', 'topK'];

/** The importance methods the Explain view offers (ids of runtime/analysis/registry.ts; a unit test keeps them in
 *  step). The uniform baseline is always added by the host. */
export const EXPLAIN_METHODS: readonly {
  id: string;
  label: string;
  kind: 'attention' | 'perturbation' | 'norm' | 'mixing' | 'gradient';
  /** Encoder–decoders: 'also' runs on them too, 'only' on them alone (absent: not on them). A unit test keeps this
   * equal to runtime/explain/seq2seq-methods.ts. */
  seq2seq?: 'also' | 'only';
}[] = [
  { id: 'raw-attention', label: 'Raw attention', kind: 'attention' },
  { id: 'rollout', label: 'Attention rollout', kind: 'attention' },
  { id: 'flow', label: 'Attention flow', kind: 'attention' },
  { id: 'loo', label: 'Leave-one-out', kind: 'perturbation', seq2seq: 'also' },
  { id: 'occlusion', label: 'Occlusion', kind: 'perturbation', seq2seq: 'also' },
  { id: 'norm', label: 'Norm ‖αf(x)‖', kind: 'norm' },
  { id: 'norm-rollout', label: 'Norm rollout', kind: 'norm' },
  { id: 'alti', label: 'ALTI', kind: 'mixing', seq2seq: 'also' },
  { id: 'value-zeroing', label: 'Value zeroing', kind: 'mixing', seq2seq: 'also' },
  { id: 'value-zeroing-rollout', label: 'Value zeroing rollout', kind: 'mixing' },
  { id: 'saliency', label: 'Saliency ‖∇‖', kind: 'gradient', seq2seq: 'also' },
  { id: 'grad-x-input', label: 'Gradient × input', kind: 'gradient', seq2seq: 'also' },
  { id: 'integrated-gradients', label: 'Integrated Gradients', kind: 'gradient', seq2seq: 'also' },
  { id: 'attn-x-grad', label: 'Attention × gradient', kind: 'gradient', seq2seq: 'also' },
  { id: 'attnlrp', label: 'AttnLRP', kind: 'gradient', seq2seq: 'also' },
  // Encoder–decoders (runtime/explain/seq2seq-methods.ts): scores over the source tokens.
  { id: 'cross-attention', label: 'Raw cross-attention', kind: 'attention', seq2seq: 'only' },
  { id: 'cross-rollout', label: 'Encoder–decoder rollout', kind: 'attention', seq2seq: 'only' },
];
/** Longest target spec (similarity:TEXT carries a reference text) and second input the host accepts (characters). */
export const MAX_TARGET_LENGTH = 10_000;
export const MAX_COMPARE_TEXT_LENGTH = 100_000;

/** Explain the run's tokens for a target spec (runtime/explain/target-spec.ts) with the chosen EXPLAIN_METHODS. */
export interface ExplainRequest {
  runId: number;
  target: string;
  methods: string[];
}

/** Compare two attention maps of one layer: head a vs head b of this run, or head a on this input vs on `text`. */
export interface CompareRequest {
  runId: number;
  mode: CompareMode;
  layer: number;
  a: number | 'mean' | 'max';
  b: number | 'mean' | 'max';
  /** mode 'inputs': the second input text. */
  text?: string;
}

/** Export the Explain view's explanation or comparison: the host asks PNG, SVG or JSON and where, then writes it. */
export interface ExportExplainMessage {
  type: 'exportExplain';
  runId: number;
  what: ExplainRequestKind;
  /** The agreement metric the view shows (the image draws that matrix). */
  metric: AgreementMetric;
}

/** Longest dropped file the panel sends as text (characters) or bytes (an .npy), and longest dropped URI. */
export const MAX_DROPPED_TEXT = 256 * 2 ** 20;
export const MAX_DROPPED_URI = 8192;

/** A file dropped onto the panel, to open as a saved run: its URI (from the Explorer or the OS, a file: or
 *  vscode-remote: URI of a .json or .npy file: the host finds an NPY export's other file beside it) or, when the drop
 *  gives no URI, the files themselves: a JSON run's text and name, or an NPY export's array (`npy`, `npyName`) with
 *  its sidecar's text and name when that was dropped with it. */
export interface OpenDroppedMessage {
  type: 'openDropped';
  uri?: string;
  text?: string;
  name?: string;
  /** The bytes of a dropped .npy (an NPY export's array), at most MAX_DROPPED_TEXT. */
  npy?: ArrayBuffer;
  npyName?: string;
}

/** The generated text of the current run, into the editor after the analysed text, or onto the clipboard (the host
 *  decodes it from the run's own token ids). */
export interface GeneratedTextMessage {
  type: 'generatedText';
  runId: number;
  action: 'insert' | 'copy';
}

export type WebviewMessage =
  | ReadyMessage
  | GeneratedTextMessage
  | OpenDroppedMessage
  | SelectTokenMessage
  | CancelMessage
  | LogMessage
  | ViewChangedMessage
  | TabChangedMessage
  | ExportRequestMessage
  | ExportExplainMessage;

/** The neuron view needs the query/key vectors of a layer of the current run. */
export interface VectorsRequest {
  runId: number;
  layer: number;
  /** A run kept for long inputs: one query token and a window of keys [start, end) (at most MAX_VECTOR_KEYS). */
  window?: { query: number; keys: { start: number; end: number } };
}

/** Keys of one kept run's vectors request at most (the neuron view's window). */
export const MAX_VECTOR_KEYS = 4096;

/** Most tokens one Continue asks for, and the panel's default. */
export const MAX_CONTINUE_TOKENS = 1024;
export const DEFAULT_CONTINUE_TOKENS = 32;

/** Continue the current (finished, causal LM) run: up to maxNew tokens after its tokens, greedy unless a temperature
 *  above 0 is given (then nucleus sampling with topP and a seed; the host picks a seed when none is given and says
 *  which in the reply, so the run can be repeated). */
export interface GenerateRequest {
  runId: number;
  maxNew: number;
  temperature?: number;
  topP?: number;
  seed?: number;
}

/** One generated token: the run grows by it — its token, and per layer its query row over every key up to itself,
 *  float32 [heads, position + 1] (the new row of the map; the earlier rows get a 0 for the new key). */
export interface GeneratedTokenEvent {
  runId: number;
  /** Its position in the run's tokens (the run had exactly this many before it). */
  position: number;
  token: TokenInfo;
  rows: ArrayBuffer[];
}

/** A Continue ended: how many tokens, why (a stop token — EOS, end of turn —, maxNew reached, or Stop), how it chose them,
 *  and the text of every generated token of the run so far (stop tokens left out). */
export interface GenerateReply {
  runId: number;
  count: number;
  /** 'stopped': the user pressed Stop (the tokens sent before it stay). */
  end: 'stop' | 'length' | 'stopped';
  decoding: { kind: 'greedy' } | { kind: 'sample'; temperature: number; topP: number; seed: number };
  text: string;
  /** The run's source with the output's ids (`generated`), which the webview keeps for a reload. */
  source: RunSource;
}

/** Exact entries of one head of a kept run: rows × cols (at most MAX_KEPT_WINDOW entries). */
export interface KeptWindowRequest {
  runId: number;
  layer: number;
  head: number;
  rows: { start: number; end: number };
  cols: { start: number; end: number };
}

/** The reply: float32 [rows, cols] in `data`. */
export interface KeptWindow extends KeptWindowRequest {
  data: ArrayBuffer;
}

/** Entries of one keptWindow request at most (the zoomed matrix asks for what it shows). */
export const MAX_KEPT_WINDOW = 1 << 21;

/** What the webview asks of the host: each request with its reply and what it streams. A cancel (the Explain view's
 *  Cancel, a newer request) stops the work on the host. */
export interface PanelCalls {
  vectors: Call<VectorsRequest, Vectors>;
  keptWindow: Call<KeptWindowRequest, KeptWindow>;
  explain: Call<ExplainRequest, Omit<ExplainResultMessage, 'type'>, ExplainProgress>;
  compare: Call<CompareRequest, Omit<CompareResultMessage, 'type'>, ExplainProgress>;
  /** Continue: each token streamed as it is generated; a cancel (Stop) ends it between tokens. */
  generate: Call<GenerateRequest, GenerateReply, GeneratedTokenEvent>;
}

/** Longest `log` message the host accepts (characters). */
export const MAX_LOG_LENGTH = 4000;
