// Types the webview uses from the protocol and the runtime, gathered in one place.
export type { ColorMapName, HostMessage, RunSource, TokenInfo, Vectors, WebviewMessage } from '../protocol/messages';
export type { ModelFacts as ModelFactsLike } from '../runtime/types';
