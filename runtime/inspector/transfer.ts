// Moving results out of an inference worker without copying them twice: a typed array that owns its whole buffer
// can be transferred; one that views part of a buffer is copied once first. Shared by the Node worker thread and
// the in-webview worker (no Node imports).
import type { LayerAttention } from '../types';
import type { LayerMessage } from './worker-protocol';

/** `a` itself when it spans its whole ArrayBuffer, otherwise a copy that does. */
export function own(a: Float32Array): Float32Array {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer ? a : a.slice();
}

/** A layer message and the buffers to transfer with it (attention, and q/k when the run asked for them). */
export function layerMessage(
  runId: number,
  attention: LayerAttention,
  q?: Float32Array,
  k?: Float32Array,
): [LayerMessage, ArrayBuffer[]] {
  const msg: LayerMessage = { type: 'layer', runId, attention: { ...attention, data: own(attention.data) } };
  const transfer: ArrayBuffer[] = [msg.attention.data.buffer as ArrayBuffer];
  if (q && k) {
    msg.q = own(q);
    msg.k = own(k);
    transfer.push(msg.q.buffer as ArrayBuffer, msg.k.buffer as ArrayBuffer);
  }
  return [msg, transfer];
}
