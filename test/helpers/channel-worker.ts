// A worker thread that answers over the request/reply channel (runtime/channel/channel.ts), for the channel's tests:
// `scale` streams `chunks` copies of a float32 array times 1, 2, 3… (each moved in a transfer list) and refuses a
// factor of 0; `stopped` says how many `scale` requests saw their cancel.
import { parentPort } from 'node:worker_threads';
import { Channel, type Call, type NoEnd } from '../../runtime/channel/channel';
import { nodePort } from '../../runtime/channel/ports';
import { LensError } from '../../runtime/errors';

export interface EchoEnd {
  calls: {
    scale: Call<{ data: ArrayBuffer; factor: number; chunks: number }, { chunks: number }, { chunk: ArrayBuffer }>;
    stopped: Call<Record<string, never>, { cancelled: number }>;
  };
  notes: Record<never, never>;
}

if (parentPort) {
  const channel = new Channel<EchoEnd, NoEnd>(nodePort(parentPort));
  let cancelled = 0;
  channel.handle('scale', async ({ data, factor, chunks }, ctx) => {
    if (factor === 0) throw new LensError('BAD_INPUT', 'The factor must not be 0.');
    const input = new Float32Array(data);
    for (let c = 1; c <= chunks; c++) {
      await new Promise((resolve) => setImmediate(resolve));
      if (ctx.signal.aborted) {
        cancelled++;
        throw new LensError('CANCELLED', 'cancelled');
      }
      const out = input.map((x) => x * factor * c);
      ctx.emit({ chunk: out.buffer }, [out.buffer]);
    }
    return { chunks };
  });
  channel.handle('stopped', () => ({ cancelled }));
}
