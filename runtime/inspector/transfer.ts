// Moving results out of an inference worker without copying them twice: a typed array that owns its whole buffer
// can be transferred; one that views part of a buffer is copied once first. Shared by the Node worker thread and
// the in-webview worker (no Node imports).
import type { LayerAttention } from '../types';
import type { RunEvent } from './worker-protocol';

/** `a` itself when it spans its whole ArrayBuffer, otherwise a copy that does. */
export function own(a: Float32Array): Float32Array {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer ? a : a.slice();
}

/** A layer event and the buffers to transfer with it (attention, and q/k when the run asked for them). */
export function layerEvent(attention: LayerAttention, q?: Float32Array, k?: Float32Array): [RunEvent, ArrayBuffer[]] {
  const event: RunEvent & { type: 'layer' } = { type: 'layer', attention: { ...attention, data: own(attention.data) } };
  const transfer: ArrayBuffer[] = [event.attention.data.buffer as ArrayBuffer];
  if (q && k) {
    event.q = own(q);
    event.k = own(k);
    transfer.push(event.q.buffer as ArrayBuffer, event.k.buffer as ArrayBuffer);
  }
  return [event, transfer];
}
