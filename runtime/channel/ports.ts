// Ports for channel.ts over what each platform has: Node's message ports (worker_threads' Worker, parentPort,
// MessageChannel's ports) and the browser's (a Worker, a worker's own scope, a MessagePort). Structural types only, so
// the module loads in Node, in a webview and in a browser worker alike.
import type { Port } from './channel';

/** worker_threads' Worker, parentPort or a MessagePort of node:worker_threads. */
export interface NodeMessagePort {
  postMessage(message: unknown, transfer?: readonly ArrayBuffer[]): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

export function nodePort(p: NodeMessagePort): Port {
  return {
    postMessage: (message, transfer) => p.postMessage(message, transfer),
    onMessage(listener) {
      const on = (m: unknown) => listener(m);
      p.on('message', on);
      return () => void p.off('message', on);
    },
  };
}

/** A browser Worker, a dedicated worker's global scope, or a MessagePort (started here). */
export interface WebMessagePort {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  removeEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  start?(): void;
}

export function webPort(p: WebMessagePort): Port {
  return {
    postMessage: (message, transfer) => p.postMessage(message, transfer),
    onMessage(listener) {
      const on = (e: { data: unknown }) => listener(e.data);
      p.addEventListener('message', on);
      p.start?.();
      return () => p.removeEventListener('message', on);
    },
  };
}
