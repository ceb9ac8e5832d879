// What every view gets from main.ts: the store, notes and requests to the host, a way to ask for a redraw, and
// selection/navigation.
import type { PanelHostEnd, PanelWebviewEnd } from '../../protocol/panel-channel';
import type { Channel } from '../../runtime/channel/channel';
import type { HeadChoice, Store, ViewName } from '../store';
import type { Span } from '../../figures/heads';
import type { WebviewMessage } from '../types';
import type { VectorsRequest } from '../../protocol/messages';

export interface ViewContext {
  store: Store;
  post(message: WebviewMessage): void;
  /** Asks the host (PanelCalls); rejects with its LensError, or CANCELLED once `options.signal` aborts. */
  request: Channel<PanelWebviewEnd, PanelHostEnd>['request'];
  /** Asks for the query/key vectors of a layer of run `runId` (they land in store.vectors; the neuron view redraws);
   *  a kept run's for one query token and a window of keys. */
  requestVectors(runId: number, layer: number, window?: VectorsRequest['window']): void;
  /** Asks main.ts to redraw the views on the next animation frame (coalesced). */
  invalidate(): void;
  select(layer: number, head: HeadChoice): void;
  selectQuery(index: number): void;
  show(view: ViewName): void;
  /** The matrix's window after it was drawn (null: the whole map), which the host's export follows. */
  matrixWindow(window: { rows: Span; cols: Span } | null): void;
}

export interface View {
  readonly root: HTMLElement;
  /** A new run began: rebuild the structure (token labels, thumbnails...). */
  runStarted(): void;
  /** A layer arrived. */
  layerArrived(layer: number): void;
  /** Exact entries of a kept run's layer arrived (default: as layerArrived). A view redraws only if what it drew
   * waited for them: at 8,192 tokens a redraw of the whole matrix or grid costs more than the 50 ms of a hover. */
  exactArrived?(layer: number): void;
  /** The selected layer/head/query token changed. */
  selectionChanged(): void;
  /** The colour map or the theme changed: everything must be redrawn. */
  restyle(): void;
  /** Draw what changed (called in an animation frame while the view is visible). */
  draw(): void;
}
