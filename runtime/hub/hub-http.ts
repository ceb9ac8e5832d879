// Requests to the Hub with what every one needs: the token only for the Hub's own origin (redirects to a CDN on
// another origin drop it, as browsers do) and never in clear text, a bounded time to the response headers and
// between body chunks, an optional overall deadline, the caller's AbortSignal, and HTTP statuses turned into messages
// that say what to do. Nothing here logs.
import { HubError, redact, seconds } from './hub-errors';
import { tokenTransport } from './hub-settings';

export interface HttpContext {
  endpoint: string;
  token?: string;
  /** Why a token the user has was not sent (for the messages of a refused download). */
  tokenNote?: string;
  fetchImpl: typeof fetch;
  signal?: AbortSignal;
  /** Longest wait for the response headers, and for each body chunk. */
  timeoutMs: number;
  repo: string;
  revision: string;
}

export interface OpenResponse {
  response: Response;
  /** Restarts the idle timer; call whenever body data arrives. */
  touch(): void;
  /** Stops the timer and the abort listener. */
  done(): void;
  /** Starts the overall deadline again, ms from now (a resume answered with the whole file needs the whole time). */
  restartDeadline(ms: number): void;
  /** Why the request was aborted, if it was: the caller's signal, no data for timeoutMs, or the overall deadline. */
  abortReason(): AbortReason | undefined;
}

export type AbortReason = 'cancelled' | 'timeout' | 'deadline';

const MAX_REDIRECTS = 10;

export function cancelledError(what: string): HubError {
  return new HubError(
    'cancelled',
    `Download of ${what} cancelled. The partial download is kept: run it again to resume.`,
  );
}

function causeText(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e as Error).message ?? String(e);
}

export function networkError(ctx: HttpContext, e: unknown, during?: string): HubError {
  const detail = redact(causeText(e), ctx.token);
  return new HubError(
    'network',
    `Could not reach ${ctx.endpoint}${during ? ` ${during}` : ''} (${detail}). Check the connection or the endpoint ` +
      `(attentionLens.hubEndpoint / HF_ENDPOINT); with HF_HUB_OFFLINE=1 only models already in the cache are used.`,
  );
}

/** GET url (following redirects by hand); rejects only for network failure, timeout or cancellation. With deadlineMs
 * the request and its body are aborted (reason 'deadline') that long after it starts, however the data trickles. */
export async function hubRequest(
  ctx: HttpContext,
  url: string,
  headers: Record<string, string> = {},
  deadlineMs?: number,
): Promise<OpenResponse> {
  if (ctx.signal?.aborted) throw cancelledError(ctx.repo);
  const controller = new AbortController();
  let reason: AbortReason | undefined;
  const onAbort = () => {
    reason ??= 'cancelled';
    controller.abort();
  };
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      reason ??= 'timeout';
      controller.abort();
    }, ctx.timeoutMs);
  };
  const startDeadline = (ms: number) =>
    setTimeout(() => {
      reason ??= 'deadline';
      controller.abort();
    }, ms);
  let deadline = deadlineMs === undefined ? undefined : startDeadline(deadlineMs);
  const restartDeadline = (ms: number) => {
    clearTimeout(deadline);
    deadline = startDeadline(ms);
  };
  const done = () => {
    clearTimeout(timer);
    clearTimeout(deadline);
    ctx.signal?.removeEventListener('abort', onAbort);
  };
  const origin = new URL(ctx.endpoint).origin;
  let current = url;
  touch();
  try {
    for (let hop = 0; ; hop++) {
      const h: Record<string, string> = { 'user-agent': 'attention-lens (huggingface_hub-compatible)', ...headers };
      // Only to the endpoint's own origin, and never in clear text (download.ts already keeps it back from a
      // plain-http endpoint; this also covers a redirect from https to http on the same host).
      if (ctx.token && new URL(current).origin === origin && tokenTransport(current) !== 'clear')
        h.authorization = `Bearer ${ctx.token}`;
      const response = await ctx.fetchImpl(current, { headers: h, redirect: 'manual', signal: controller.signal });
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel().catch(() => undefined);
        if (hop >= MAX_REDIRECTS) throw new HubError('bad-response', `Too many redirects fetching ${url}.`);
        current = new URL(location, current).toString();
        continue;
      }
      return { response, touch, done, restartDeadline, abortReason: () => reason };
    }
  } catch (e) {
    done();
    if (e instanceof HubError) throw e;
    if (reason === 'cancelled') throw cancelledError(ctx.repo);
    if (reason === 'timeout') throw networkError(ctx, { cause: { code: `no answer in ${seconds(ctx.timeoutMs)}` } });
    if (reason === 'deadline') throw networkError(ctx, { cause: { code: `no answer in ${seconds(deadlineMs!)}` } });
    throw networkError(ctx, e);
  }
}

/** The error for a non-2xx answer; `file` when it was a file download, undefined for the API listing. */
export function statusError(ctx: HttpContext, response: Response, file?: string): HubError {
  const status = response.status;
  const errorCode = response.headers.get('x-error-code') ?? '';
  const page = `${ctx.endpoint}/${ctx.repo}`;
  // The extension keeps the token in secret storage (its Set Hugging Face Token command); the CLI reads HF_TOKEN.
  const setToken = (which: string) =>
    `set ${which} with the command "Attention Lens: Set Hugging Face Token" (or the HF_TOKEN environment variable ` +
    `for the CLI)${ctx.token ? '; the token given was refused' : ''}${ctx.tokenNote ? `. ${ctx.tokenNote.replace(/\.$/, '')}` : ''}`;
  if (status === 401 || status === 403) {
    if (errorCode === 'GatedRepo' || status === 403) {
      return new HubError(
        'auth',
        `${ctx.repo} requires accepting its terms and a token (HTTP ${status}): accept them at ${page}, then ` +
          `${setToken('a token of that account')}.`,
      );
    }
    return new HubError(
      'auth',
      `${ctx.repo} was refused (HTTP ${status}): it is private, gated or does not exist. If you have access, ` +
        `${setToken('a read token')}; otherwise check the id.`,
    );
  }
  if (status === 404) {
    if (errorCode === 'RevisionNotFound' || (!file && errorCode !== 'RepoNotFound' && ctx.revision !== 'main')) {
      return new HubError(
        'not-found',
        `${ctx.repo} has no revision "${ctx.revision}" (HTTP 404); check the branch, tag or commit.`,
      );
    }
    if (file) return new HubError('not-found', `${ctx.repo} has no file ${file} at ${ctx.revision} (HTTP 404).`);
    return new HubError('not-found', `No model ${ctx.repo} on ${ctx.endpoint} (HTTP 404): check the id at ${page}.`);
  }
  if (status === 429)
    return new HubError(
      'network',
      `${ctx.endpoint} is rate-limiting requests (HTTP 429): wait a minute and try again.`,
    );
  if (status >= 500) return new HubError('network', `${ctx.endpoint} failed (HTTP ${status}); try again later.`);
  return new HubError('bad-response', `${ctx.endpoint} answered HTTP ${status} for ${file ?? ctx.repo}.`);
}
