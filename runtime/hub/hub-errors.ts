// The errors a Hub download can end with. Each is a LensError (so every caller already knows how to show it) with a
// stable code (HUB_AUTH, HUB_OFFLINE, DOWNLOAD_FAILED, or the model codes where the repository itself is at fault)
// and a `reason` that tells the UI precisely which kind of failure it was. Messages never contain the token.
import { LensError, type LensErrorCode } from '../errors';

export type HubFailure =
  | 'not-found'
  | 'auth'
  | 'offline'
  | 'network'
  | 'checksum'
  | 'disk-full'
  | 'write-failed'
  | 'no-weights'
  | 'no-config'
  | 'no-tokenizer'
  | 'bad-response'
  | 'cancelled';

const CODES: Record<HubFailure, LensErrorCode> = {
  'not-found': 'MODEL_NOT_FOUND',
  auth: 'HUB_AUTH',
  offline: 'HUB_OFFLINE',
  network: 'DOWNLOAD_FAILED',
  checksum: 'CORRUPT_WEIGHTS',
  'disk-full': 'DOWNLOAD_FAILED',
  'write-failed': 'DOWNLOAD_FAILED',
  'no-weights': 'NO_WEIGHTS',
  'no-config': 'NO_CONFIG',
  'no-tokenizer': 'NO_TOKENIZER',
  'bad-response': 'DOWNLOAD_FAILED',
  cancelled: 'CANCELLED',
};

export class HubError extends LensError {
  constructor(
    readonly reason: HubFailure,
    message: string,
  ) {
    super(CODES[reason], message);
  }
}

/** Replaces every occurrence of the token in text (so also any "Bearer <token>" that reached a message). */
export function redact(text: string, token: string | undefined): string {
  if (!token) return text;
  return text.split(token).join('***');
}

/** Re-throws e with the token removed from its message, whatever it is. */
export function redactError(e: unknown, token: string | undefined): unknown {
  if (!token || !(e instanceof Error) || !e.message.includes(token)) return e;
  e.message = redact(e.message, token);
  if (e.stack) e.stack = redact(e.stack, token);
  return e;
}

/** Megabytes, for messages. */
export function mb(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

/** "12.3 of 91.2 MB" (kB below a megabyte, bytes below a kilobyte), in one unit and with as many decimals as it takes
 * for a part never to read as the whole ("0.999 of 1.000 MB"; bytes when even three decimals round equal). */
export function partOf(done: number, total: number): string {
  const bytes = `${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} bytes`;
  if (total < 1e3) return bytes;
  const [unit, name, first] = total >= 1e9 ? [1e9, 'GB', 2] : total >= 1e6 ? [1e6, 'MB', 1] : [1e3, 'kB', 1];
  for (let d = first; d <= 3; d++) {
    const a = (done / unit).toFixed(d);
    const b = (total / unit).toFixed(d);
    if (a !== b || done === total) return `${a} of ${b} ${name}`;
  }
  return bytes;
}

/** "30 s", "1.5 s". */
export function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/** "25 kB/s", "1.2 MB/s". */
export function rate(bytesPerSecond: number): string {
  return bytesPerSecond >= 1e6
    ? `${Number((bytesPerSecond / 1e6).toFixed(1))} MB/s`
    : `${Number((bytesPerSecond / 1e3).toFixed(1))} kB/s`;
}
