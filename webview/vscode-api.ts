// The webview's side of the panel's channel (protocol/panel-channel.ts over runtime/channel): acquireVsCodeApi (once),
// the channel to the host, typed posting of notes, and persisted state.
import type { RunSource, WebviewMessage } from '../protocol/messages';
import { webviewChecks, type PanelHostEnd, type PanelWebviewEnd } from '../protocol/panel-channel';
import { Channel } from '../runtime/channel/channel';

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

let channel: Channel<PanelWebviewEnd, PanelHostEnd> | undefined;
let dropped = 0;

/** The channel to the host (created on first use). Messages from the host are checked before anything reads them. */
export function hostChannel(): Channel<PanelWebviewEnd, PanelHostEnd> {
  channel ??= new Channel<PanelWebviewEnd, PanelHostEnd>(
    {
      // VS Code carries ArrayBuffers to the host itself: no transfer list.
      postMessage: (message) => vscode().postMessage(message),
      onMessage(listener) {
        const on = (e: MessageEvent) => listener(e.data);
        window.addEventListener('message', on);
        return () => window.removeEventListener('message', on);
      },
    },
    {
      peer: 'the host',
      checks: webviewChecks(),
      onDrop: (reason) => {
        if (dropped++ < 20) post({ type: 'log', level: 'warn', message: `webview dropped a message: ${reason}` });
      },
    },
  );
  return channel;
}

/** Sends a note to the host. */
export function post(message: WebviewMessage): void {
  const { type, ...payload } = message;
  hostChannel().notify(type, payload as never);
}

export function loadState(): PersistedState {
  const s = vscode().getState();
  return typeof s === 'object' && s !== null ? (s as PersistedState) : {};
}

export function saveState(patch: Partial<PersistedState>): void {
  vscode().setState({ ...loadState(), ...patch });
}
