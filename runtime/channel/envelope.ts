// What crosses a port for the request/reply channel (channel.ts): six envelope kinds, and the check every received
// message passes before anything reads it — the other side may be a webview, whose messages are never trusted.
import { quoted } from '../errors';

export type Envelope =
  /** Asks the other side to run its handler `name`. */
  | { kind: 'request'; id: number; name: string; payload: unknown }
  /** Something request `id` streams before its reply (a layer, progress). */
  | { kind: 'event'; id: number; payload: unknown }
  /** The answer to request `id`; nothing more comes for it. */
  | { kind: 'reply'; id: number; payload: unknown }
  /** Request `id` failed: a LensError's code and one-line message. */
  | { kind: 'error'; id: number; code: string; message: string }
  /** The requester no longer waits for request `id`. */
  | { kind: 'cancel'; id: number }
  /** A one-way message `name` (no reply). */
  | { kind: 'note'; name: string; payload: unknown };

/** Longest handler or note name, error code and error message accepted. */
const MAX_NAME = 64;
const MAX_MESSAGE = 4000;

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_NAME;

/** Why `raw` is not an envelope, or undefined when it is one. */
export function envelopeProblem(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'not an object';
  const m = raw as Record<string, unknown>;
  switch (m.kind) {
    case 'request':
      return isId(m.id) && isName(m.name) ? undefined : 'a request needs a positive integer id and a name';
    case 'event':
    case 'reply':
    case 'cancel':
      return isId(m.id) ? undefined : `a ${m.kind} needs a positive integer id`;
    case 'error':
      if (!isId(m.id)) return 'an error needs a positive integer id';
      if (typeof m.code !== 'string' || !/^[A-Z][A-Z_]{0,39}$/.test(m.code)) return 'an error needs a code';
      return typeof m.message === 'string' && m.message.length <= MAX_MESSAGE
        ? undefined
        : `an error needs a message of at most ${MAX_MESSAGE} characters`;
    case 'note':
      return isName(m.name) ? undefined : 'a note needs a name';
    default:
      return `unknown kind ${quoted(String(m.kind), 40)}`;
  }
}
