// A token the panel's inference worker generated (its `generate` event, runtime/inspector/worker-protocol.ts), as the
// event of the host's `inferGenerate` (protocol/inference.ts): the rows as their ArrayBuffers in the transfer list, so
// VS Code carries them to the host without a copy into JSON. Pure and DOM-free, so the unit tests relay through it too.
import type { InferGeneratedToken } from '../../protocol/inference';
import type { GeneratedToken } from '../../runtime/inspector/worker-protocol';

export function relayToken(t: GeneratedToken): [InferGeneratedToken, ArrayBuffer[]] {
  const rows = t.rows.map((r) =>
    r.byteOffset === 0 && r.byteLength === r.buffer.byteLength ? (r.buffer as ArrayBuffer) : r.slice().buffer,
  ); // [heads, position + 1] per layer
  const event: InferGeneratedToken = { index: t.index, id: t.id, position: t.position, rows };
  if (t.end) event.end = t.end;
  return [event, rows];
}
