// The host <-> webview contract of the Attention Lens panel: one discriminated union per direction, tagged by `type`.
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
// shared/notes/performance.md is ~50 ms for all maps at 512 tokens of BERT-base (151 MB) versus ~15 ms for uint8,
// spread over the layers as they stream, which the UI never notices; below 128 tokens it is a few milliseconds.
import type { AttentionKind, ModelFacts, RunTimings } from '../runtime/types';

/** A token as the webview sees it: its vocabulary string and its [start, end) span in the run's input text. */
export interface TokenInfo {
  text: string;
  start: number | null;
  end: number | null;
  special: boolean;
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

/** The query/key vectors of one layer (answer to `requestVectors`); q/k are null with a reason when unavailable. */
export interface VectorsMessage {
  type: 'vectors';
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
}

/** Make a token the panel's selected (query) token: the hover's "Show in panel" link, the tint-at-cursor command. */
export interface FocusTokenMessage {
  type: 'focusToken';
  runId: number;
  index: number;
}

export type HostMessage =
  | FocusTokenMessage
  | SettingsMessage
  | RunStartedMessage
  | LayerMessage
  | VectorsMessage
  | RunFinishedMessage
  | RunFailedMessage
  | NoticeMessage;

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

/** The neuron view needs the query/key vectors of a layer of the current run. */
export interface RequestVectorsMessage {
  type: 'requestVectors';
  runId: number;
  layer: number;
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
}

/** The user pressed Export in the panel: the host asks for the format and the file, then writes it. */
export interface ExportRequestMessage {
  type: 'export';
  runId: number;
}

export type WebviewMessage =
  | ReadyMessage
  | SelectTokenMessage
  | RequestVectorsMessage
  | CancelMessage
  | LogMessage
  | ViewChangedMessage
  | ExportRequestMessage;

/** Longest `log` message the host accepts (characters). */
export const MAX_LOG_LENGTH = 4000;
