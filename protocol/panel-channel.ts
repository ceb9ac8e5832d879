// The host ↔ webview channel of one panel, as both sides declare it to runtime/channel: what the host answers and
// hears (the webview's requests and notes: messages.ts; the inference worker's end: inference.ts), what the webview
// answers and hears (the inference requests; the host's notes), and the checks each side applies to what the other
// sends (validate.ts, inference-validate.ts). Every message a webview sends is checked before the host reads it.
import type { Checks } from '../runtime/channel/types';
import type { InferenceCalls, InferenceNotes } from './inference';
import type { HostMessage, NotesOf, PanelCalls, WebviewMessage } from './messages';
import { checkInferEvent, checkInferNote, checkInferReply, checkInferRequest } from './inference-validate';
import {
  checkPanelEvent,
  checkPanelReply,
  checkPanelRequest,
  validateHostMessage,
  validateWebviewMessage,
  type RunContext,
} from './validate';

/** The host's end: it answers the webview's requests and hears its notes. */
export interface PanelHostEnd {
  calls: PanelCalls;
  notes: NotesOf<WebviewMessage> & InferenceNotes;
}

/** The webview's end: it answers the inference requests and hears the host's notes. */
export interface PanelWebviewEnd {
  calls: InferenceCalls;
  notes: NotesOf<HostMessage>;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A note as the message validators take it: its payload tagged with its name. */
function tagged(name: string, payload: unknown): unknown {
  return isObj(payload) && !('type' in payload) ? { ...payload, type: name } : undefined;
}

/** What the host checks of a webview's messages, against the panel's current run. */
export function hostChecks(run: () => RunContext): Checks {
  return {
    request: (name, payload) => checkPanelRequest(name, payload, run()),
    reply: checkInferReply,
    event: checkInferEvent,
    note: (name, payload) => {
      if (name.startsWith('infer')) return checkInferNote(name, payload);
      const v = validateWebviewMessage(tagged(name, payload), run());
      return v.ok ? undefined : v.reason;
    },
  };
}

/** What the webview checks of the host's messages. */
export function webviewChecks(): Checks {
  return {
    request: checkInferRequest,
    reply: checkPanelReply,
    event: checkPanelEvent,
    note: (name, payload) => {
      const v = validateHostMessage(tagged(name, payload));
      return v.ok ? undefined : v.reason;
    },
  };
}
