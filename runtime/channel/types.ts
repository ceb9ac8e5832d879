// The types of runtime/channel: what each side of a channel declares (Call, End) and what requests, handlers and
// checks look like. Free of globals (AbortSignal is described by its shape), so that protocol/ — which sees neither
// the DOM nor Node — can import them.

import type { LensError } from '../errors';

/** The part of an AbortSignal a channel reads. */
export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** One request: its payload, its reply, and what it may stream before the reply. */
export interface Call<Request, Reply, Event = never> {
  request: Request;
  reply: Reply;
  event: Event;
}

/** What one side of a channel answers (`calls`: name → Call) and hears (`notes`: name → payload). */
export interface End {
  calls: object;
  notes: object;
}

/** A side that answers nothing and hears nothing. */
export interface NoEnd {
  calls: Record<never, never>;
  notes: Record<never, never>;
}

export type Names<M> = keyof M & string;
export type RequestOf<C> = C extends Call<infer Q, unknown, unknown> ? Q : never;
export type ReplyOf<C> = C extends Call<unknown, infer R, unknown> ? R : never;
export type EventOf<C> = C extends Call<unknown, unknown, infer E> ? E : never;

/** The least a channel needs of a MessagePort, a Worker, a worker's parentPort or a webview. */
export interface Port {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  /** Subscribes to received messages; returns the unsubscribe function. */
  onMessage(listener: (message: unknown) => void): () => void;
}

/** Checks of what the other side sends: each returns why the payload is malformed, or undefined when it is fine. */
export interface Checks {
  request?(name: string, payload: unknown): string | undefined;
  reply?(name: string, payload: unknown): string | undefined;
  event?(name: string, payload: unknown): string | undefined;
  note?(name: string, payload: unknown): string | undefined;
}

export interface ChannelOptions {
  checks?: Checks;
  /** The other side, in messages about what it sent ("the panel"). */
  peer?: string;
  /** A received message was dropped (malformed, or nothing listens): one line for a log. */
  onDrop?(reason: string): void;
  /** A request of this side was cancelled, just before the cancel is posted (e.g. to mark shared cancel flags). */
  onCancel?(id: number): void;
  /** A handler's error that is not a LensError, as the requester gets it (default: INFERENCE_FAILED, first line). */
  unexpected?(error: unknown, name: string): LensError;
}

export interface RequestOptions<E> {
  /** Aborting it rejects the request with CANCELLED at once and tells the other side. */
  signal?: AbortSignalLike;
  /** Each event the request streams, in order, before its reply. */
  onEvent?(event: E): void;
  /** Buffers moved (not copied) to the other side with the request. */
  transfer?: ArrayBuffer[];
}

/** What a handler gets besides the payload. */
export interface HandlerContext<E> {
  /** The request's id, the same on both sides (shared cancel flags are keyed by it). */
  readonly id: number;
  /** Aborted when the requester cancels, or the channel closes. */
  readonly signal: AbortSignalLike;
  /** True once the requester is gone (its side restarted): nothing more is sent for this request. */
  readonly detached: boolean;
  /** Streams an event to the requester (dropped once cancelled or detached). */
  emit(event: E, transfer?: ArrayBuffer[]): void;
  /** Buffers to move with the reply. */
  transfer(...buffers: ArrayBuffer[]): void;
}

export type Handler<C> = (payload: RequestOf<C>, ctx: HandlerContext<EventOf<C>>) => ReplyOf<C> | Promise<ReplyOf<C>>;
