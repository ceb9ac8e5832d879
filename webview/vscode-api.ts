// The webview's side of the channel: acquireVsCodeApi (once), typed posting and persisted state.
import type { RunSource, WebviewMessage } from '../protocol/messages';
import type { InferWebviewMessage } from '../protocol/inference';

/** What the webview persists (VS Code keeps it across reloads and hands it to the panel serializer). */
export interface PersistedState {
  source?: RunSource;
  view?: string;
  layer?: number;
  head?: string;
  query?: number;
}

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

let api: VsCodeApi | undefined;
function vscode(): VsCodeApi {
  if (!api) {
    api =
      typeof acquireVsCodeApi === 'function'
        ? acquireVsCodeApi()
        : { postMessage: () => undefined, getState: () => undefined, setState: () => undefined };
  }
  return api;
}

export function post(message: WebviewMessage): void {
  vscode().postMessage(message);
}

/** Posts a message of the in-webview inference channel (protocol/inference.ts). */
export function postInference(message: InferWebviewMessage): void {
  vscode().postMessage(message);
}

export function loadState(): PersistedState {
  const s = vscode().getState();
  return typeof s === 'object' && s !== null ? (s as PersistedState) : {};
}

export function saveState(patch: Partial<PersistedState>): void {
  vscode().setState({ ...loadState(), ...patch });
}
