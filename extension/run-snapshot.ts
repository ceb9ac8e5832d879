// What the hover, the editor tint and the export read of a panel's run: a read-only snapshot (tokens, layers so far,
// the view selected in the panel) plus the run's mapping to the document it came from. vscode-free types, so that
// the pure logic beside them can be unit-tested.
import type { LayerAttention, ModelFacts } from '../runtime/types';
import type { KeptAttention } from '../runtime/inspector/api';
import type { PanelView, RunSource, TokenInfo } from '../protocol/messages';

export type HeadChoice = number | 'mean' | 'max';

/** The view, layer and head the user looks at in the panel (webview `viewChanged`). */
export interface PanelViewState {
  view: PanelView;
  layer: number;
  head: HeadChoice;
  /** The matrix zoomed in the panel: the window it shows; a kept run's head view: its tokens (rows = cols). A kept
   *  run's export draws and writes it. */
  window?: { rows: { start: number; end: number }; cols: { start: number; end: number } };
}

export const DEFAULT_VIEW: PanelViewState = { view: 'grid', layer: 0, head: 'mean' };

/**
 * Where the run's text lies in its document, followed through later edits (run-range.ts): token offsets (into the run
 * text) plus `offset` are document offsets while the document is the one the run read (not reopened since), its
 * version is `version` and the mapping is not stale.
 */
export interface DocMapping {
  uri: string;
  /** documentIdentity() (run-range.ts) of the TextDocument the run read: a document closed and opened again is
   *  another object, whose version starts again at 1. */
  document: number;
  /** The document version this mapping describes (updated as edits outside the range arrive). */
  version: number;
  /** Document offset of the run text's first character. */
  offset: number;
  /** The analysed text's length in the document now (the run text's length until an edit inside it). */
  length: number;
  /** An edit touched the analysed text: the run no longer describes the document. */
  stale?: true;
  /** Characters a line break took in the document when the mapping was made or last followed (1: LF, 2: CRLF). */
  eol?: 1 | 2;
}

export interface RunSnapshot {
  runId: number;
  source: RunSource;
  facts: ModelFacts;
  tokens: readonly TokenInfo[];
  /** Token ids, parallel to tokens. */
  ids: readonly number[];
  /** Encoder–decoder runs: the target tokens (queries of cross layers), once known; `tokens` are the source's. */
  targetTokens?: readonly TokenInfo[];
  /** Encoder–decoder runs: the decoder's inputs ([decoder start] + targetTokens[:-1]: keys of decoder layers). */
  decoderInputTokens?: readonly TokenInfo[];
  /** The layers received so far (in order); empty for a kept run (long inputs). */
  layers: readonly LayerAttention[];
  /** A run kept for long inputs: exact values, rows and columns asked of the worker (no maps in the host). */
  kept?: KeptAttention;
  /** 'running' until the run ends; 'done' when every layer arrived. */
  state: 'running' | 'done' | 'stopped';
  /** Absent when the run did not come from an open document (text passed directly, or edited before it started). */
  mapping?: DocMapping;
  view: PanelViewState;
}
