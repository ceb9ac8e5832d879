// One request/reply channel for every pair of threads that talk through postMessage: the extension host and a
// panel's webview, the calling thread and the Node inference worker, a webview and its inference worker. Each
// channel declares, in one typed map per side, what that side answers (request name → request payload, reply
// payload, streamed events) and the one-way notes it hears; this helper does the rest the same way everywhere: ids,
// matching replies and events to their request, errors carried as a LensError's code and message, cancellation (an
// AbortSignal on the requester, an aborted signal in the handler), transfer lists, and checks of what arrives from a
// side that is not trusted. Pure TypeScript over a minimal Port, so runtime, webview and extension all use it.
import { cancelled, isLensError, LensError, type LensErrorCode } from '../errors';
import { envelopeProblem, type Envelope } from './envelope';
import type {
  Call,
  ChannelOptions,
  End,
  EventOf,
  Handler,
  HandlerContext,
  Names,
  Port,
  ReplyOf,
  RequestOf,
  RequestOptions,
} from './types';

export type {
  AbortSignalLike,
  Call,
  Checks,
  ChannelOptions,
  End,
  EventOf,
  Handler,
  HandlerContext,
  NoEnd,
  Port,
  ReplyOf,
  RequestOf,
  RequestOptions,
} from './types';

interface Outgoing {
  name: string;
  onEvent?: (event: never) => void;
  resolve(reply: unknown): void;
  reject(error: unknown): void;
  cleanup(): void;
}

interface Incoming {
  abort: AbortController;
  detached: boolean;
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 1000);
}

export class Channel<Here extends End, There extends End> {
  private nextId = 1;
  private readonly outgoing = new Map<number, Outgoing>();
  private readonly incoming = new Map<number, Incoming>();
  private readonly handlers = new Map<string, Handler<never>>();
  private readonly listeners = new Map<string, Set<(payload: never) => void>>();
  private closedWith: LensError | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly port: Port,
    private readonly options: ChannelOptions = {},
  ) {
    this.unsubscribe = port.onMessage((m) => this.receive(m));
  }

  /** Requests in flight from this side. */
  get pending(): number {
    return this.outgoing.size;
  }

  /** Asks the other side to run `name`; resolves with its reply, rejects with its LensError. */
  request<N extends Names<There['calls']>>(
    name: N,
    payload: RequestOf<There['calls'][N]>,
    options: RequestOptions<EventOf<There['calls'][N]>> = {},
  ): Promise<ReplyOf<There['calls'][N]>> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(cancelled());
    const id = this.nextId++;
    return new Promise<ReplyOf<There['calls'][N]>>((resolve, reject) => {
      const onAbort = () => this.cancel(id, cancelled());
      this.outgoing.set(id, {
        name,
        onEvent: options.onEvent as ((event: never) => void) | undefined,
        resolve: resolve as (reply: unknown) => void,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        this.port.postMessage({ kind: 'request', id, name, payload } satisfies Envelope, options.transfer ?? []);
      } catch (e) {
        this.settle(id)?.reject(new LensError('INFERENCE_FAILED', `Could not send "${name}": ${firstLine(e)}`));
      }
    });
  }

  /** Sends the one-way note `name`. */
  notify<N extends Names<There['notes']>>(name: N, payload: There['notes'][N], transfer: ArrayBuffer[] = []): void {
    if (this.closedWith) return;
    this.port.postMessage({ kind: 'note', name, payload } satisfies Envelope, transfer);
  }

  /** Answers requests `name` with `handler` (one handler per name; a later one replaces it). */
  handle<N extends Names<Here['calls']>>(name: N, handler: Handler<Here['calls'][N]>): void {
    this.handlers.set(name, handler as Handler<never>);
  }

  /** Listens to notes `name`; returns the unsubscribe function. */
  on<N extends Names<Here['notes']>>(name: N, listener: (payload: Here['notes'][N]) => void): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  /** Stops waiting for every request of this side (each rejects with `error`) and tells the other side. */
  cancelAll(error: LensError): void {
    for (const id of [...this.outgoing.keys()]) this.cancel(id, error);
  }

  /**
   * The other side started again (a reloaded webview): its requests of this side are detached (their handlers run
   * on, but nothing more is sent for them) and this side's requests to it reject with `error`.
   */
  restart(error: LensError): void {
    for (const entry of this.incoming.values()) entry.detached = true;
    this.incoming.clear();
    for (const id of [...this.outgoing.keys()]) this.settle(id)?.reject(error);
  }

  /** The port is gone (the worker ended, the panel closed): everything in flight fails with `error`, for good. */
  close(error: LensError): void {
    if (this.closedWith) return;
    this.closedWith = error;
    for (const entry of this.incoming.values()) entry.abort.abort();
    this.restart(error);
    this.unsubscribe();
  }

  private cancel(id: number, error: unknown): void {
    const out = this.settle(id);
    if (!out) return;
    out.reject(error);
    this.options.onCancel?.(id);
    if (!this.closedWith) this.port.postMessage({ kind: 'cancel', id } satisfies Envelope, []);
  }

  private settle(id: number): Outgoing | undefined {
    const out = this.outgoing.get(id);
    if (!out) return undefined;
    this.outgoing.delete(id);
    out.cleanup();
    return out;
  }

  private drop(reason: string): void {
    this.options.onDrop?.(reason);
  }

  private receive(raw: unknown): void {
    const problem = envelopeProblem(raw);
    if (problem) return this.drop(`not a channel message: ${problem}`);
    const m = raw as Envelope;
    switch (m.kind) {
      case 'request':
        return this.serve(m.id, m.name, m.payload);
      case 'cancel':
        this.incoming.get(m.id)?.abort.abort();
        return;
      case 'note':
        return this.hear(m.name, m.payload);
      default:
        return this.answer(m);
    }
  }

  /** An event, reply or error for a request of this side (one no longer waited for is ignored). */
  private answer(m: Extract<Envelope, { kind: 'event' | 'reply' | 'error' }>): void {
    const out = this.outgoing.get(m.id);
    if (!out) return;
    if (m.kind === 'error') {
      this.settle(m.id);
      out.reject(new LensError(m.code as LensErrorCode, m.message));
      return;
    }
    const what = m.kind === 'event' ? 'event' : 'reply';
    const problem = this.options.checks?.[what]?.(out.name, m.payload);
    if (problem) {
      const peer = this.options.peer ?? 'the other side';
      this.drop(`${peer} sent a malformed ${what} for "${out.name}": ${problem}`);
      this.cancel(
        m.id,
        new LensError('INFERENCE_FAILED', `${peer} sent a malformed ${what} for "${out.name}": ${problem}.`),
      );
      return;
    }
    if (m.kind === 'reply') {
      this.settle(m.id);
      out.resolve(m.payload);
      return;
    }
    try {
      out.onEvent?.(m.payload as never);
    } catch (e) {
      // The consumer failed on an event (e.g. a non-finite value): the request fails and the other side stops.
      this.cancel(m.id, e);
    }
  }

  private hear(name: string, payload: unknown): void {
    const set = this.listeners.get(name);
    const problem = this.options.checks?.note?.(name, payload);
    if (problem) return this.drop(`dropped the note "${name}": ${problem}`);
    if (!set?.size) return;
    for (const listener of [...set]) listener(payload as never);
  }

  private serve(id: number, name: string, payload: unknown): void {
    const fail = (code: LensErrorCode, message: string) =>
      this.port.postMessage({ kind: 'error', id, code, message } satisfies Envelope, []);
    const handler = this.handlers.get(name);
    if (!handler) {
      this.drop(`nothing answers "${name}"`);
      return fail('BAD_INPUT', `Nothing answers "${name}" here.`);
    }
    const problem = this.options.checks?.request?.(name, payload);
    if (problem) {
      this.drop(`dropped a malformed "${name}" request: ${problem}`);
      return fail('BAD_INPUT', `The "${name}" request is malformed: ${problem}.`);
    }
    const entry: Incoming = { abort: new AbortController(), detached: false };
    this.incoming.set(id, entry);
    const live = () => !entry.detached && !entry.abort.signal.aborted && !this.closedWith;
    const replyTransfer: ArrayBuffer[] = [];
    const ctx: HandlerContext<never> = {
      id,
      signal: entry.abort.signal,
      get detached() {
        return entry.detached;
      },
      emit: (event, transfer = []) => {
        if (live()) this.port.postMessage({ kind: 'event', id, payload: event } satisfies Envelope, transfer);
      },
      transfer: (...buffers) => void replyTransfer.push(...buffers),
    };
    const done = () => {
      if (this.incoming.get(id) === entry) this.incoming.delete(id);
    };
    const failed = (e: unknown) => {
      done();
      if (!live()) return;
      const err = isLensError(e)
        ? e
        : (this.options.unexpected?.(e, name) ?? new LensError('INFERENCE_FAILED', firstLine(e)));
      fail(err.code, err.message.slice(0, 4000));
    };
    let result: unknown;
    try {
      result = (handler as Handler<Call<unknown, unknown, unknown>>)(payload, ctx as HandlerContext<unknown>);
    } catch (e) {
      return failed(e);
    }
    Promise.resolve(result).then((reply) => {
      done();
      if (!live()) return;
      try {
        this.port.postMessage({ kind: 'reply', id, payload: reply } satisfies Envelope, replyTransfer);
      } catch (e) {
        fail('INFERENCE_FAILED', `Could not send the reply to "${name}": ${firstLine(e)}`);
      }
    }, failed);
  }
}
