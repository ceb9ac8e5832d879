// `npx tsx bench/continue-growth.ts [--layers N] [--heads N] [--prompt N] [--new N] [--runs N]`: what the panel's
// Continue costs per token besides the decode step (bench/generate.ts measures the step): the host growing its copy
// of the run, the token's rows crossing a MessageChannel (transferred, as the host → webview message is), and the
// webview growing its copy and reading one view's worth back (the mean-over-heads map of the shown layer, as the
// matrix redraws). Two ways of growing, interleaved in one process: reallocating every layer's [heads, S, S] map per
// token (appendQueryRow, the baseline: O(L·H·S²)) against growing in place (GrowingMaps with the Continue's tokens
// reserved: O(L·H·S)). Synthetic softmax rows, no model: the cost depends only on the shapes. Defaults: SmolLM2-135M
// (30 layers × 9 heads), a 512-token prompt, 64 new tokens.
import { parseArgs } from 'node:util';
import { MessageChannel } from 'node:worker_threads';
import { MemoryRunMaps } from '../figures/run-maps';
import { appendQueryRow, GrowingMaps } from '../runtime/generate/grow-maps';
import { mulberry32 } from '../runtime/random';
import type { LayerAttention } from '../runtime/types';
import { fmt, summarize, table } from './stats';

const { values: argv } = parseArgs({
  options: {
    layers: { type: 'string' },
    heads: { type: 'string' },
    prompt: { type: 'string' },
    new: { type: 'string' },
    runs: { type: 'string' },
  },
});
const L = Number(argv.layers ?? 30);
const H = Number(argv.heads ?? 9);
const P = Number(argv.prompt ?? 512);
const N = Number(argv.new ?? 64);
const runs = Number(argv.runs ?? 3);

const rand = mulberry32(1);

/** A causal [H, S, S] map with softmax-like rows. */
function promptLayer(layer: number, S: number): LayerAttention {
  const data = new Float32Array(H * S * S);
  for (let h = 0; h < H; h++)
    for (let q = 0; q < S; q++) for (let k = 0; k <= q; k++) data[(h * S + q) * S + k] = 1 / (q + 1);
  return { layer, kind: 'causal', heads: H, queryLength: S, keyLength: S, data };
}

function rowsFor(S: number): Float32Array[] {
  return Array.from({ length: L }, () => Float32Array.from({ length: H * S }, () => rand() / S)); // [H, S] per layer
}

/** Sends the rows through a MessageChannel (moved, not copied) and waits for them on the other side. */
async function send(rows: Float32Array[]): Promise<Float32Array[]> {
  const { port1, port2 } = new MessageChannel();
  const got = new Promise<ArrayBuffer[]>((resolve) => port2.once('message', resolve));
  port1.postMessage(
    rows.map((r) => r.buffer),
    rows.map((r) => r.buffer as ArrayBuffer),
  );
  const buffers = await got;
  port1.close();
  port2.close();
  return buffers.map((b) => new Float32Array(b));
}

interface Side {
  append(rows: Float32Array[]): void;
  layers(): LayerAttention[];
}

function realloc(prompt: LayerAttention[]): Side {
  let layers = prompt;
  return {
    append: (rows) => (layers = layers.map((l, i) => appendQueryRow(l, rows[i]))),
    layers: () => layers,
  };
}

function inPlace(prompt: LayerAttention[]): Side {
  const g = new GrowingMaps(prompt, N);
  return { append: (rows) => g.append(rows), layers: () => [...g.views()] };
}

/** Mean per-token ms of: host growth, message, webview growth + the shown layer's mean map (host and webview hold
 * their own copies, as in the panel). */
async function once(make: (p: LayerAttention[]) => Side): Promise<{ host: number; message: number; webview: number }> {
  const prompt = Array.from({ length: L }, (_, l) => promptLayer(l, P));
  const host = make(prompt);
  const webview = make(prompt.map((l) => ({ ...l, data: l.data.slice() })));
  const tokens = Array.from({ length: P + N }, (_, i) => ({ text: `t${i}` }));
  const maps = new MemoryRunMaps('m', tokens, L, H);
  let tHost = 0;
  let tMsg = 0;
  let tView = 0;
  for (let t = 0; t < N; t++) {
    const S = P + t + 1;
    const rows = rowsFor(S);
    let t0 = performance.now();
    host.append(rows);
    tHost += performance.now() - t0;
    t0 = performance.now();
    const arrived = await send(rows.map((r) => r.slice()));
    tMsg += performance.now() - t0;
    t0 = performance.now();
    webview.append(arrived);
    for (const l of webview.layers()) maps.add(l);
    maps.tile(0, 'mean', { start: 0, end: S }, { start: 0, end: S }, 256, 256); // the matrix redraws layer 0
    tView += performance.now() - t0;
  }
  return { host: tHost / N, message: tMsg / N, webview: tView / N };
}

async function main(): Promise<void> {
  const ways = { 'reallocate per token': realloc, 'grow in place': inPlace };
  const names = Object.keys(ways) as (keyof typeof ways)[];
  const samples: Record<string, { host: number; message: number; webview: number }[]> = {};
  for (const n of names) samples[n] = [];
  for (let i = 0; i < runs; i++)
    for (let j = 0; j < names.length; j++) {
      const name = names[(i + j) % names.length];
      samples[name].push(await once(ways[name]));
    }
  const total = (s: { host: number; message: number; webview: number }) => s.host + s.message + s.webview;
  const base = summarize(samples['reallocate per token'].map(total)).median;
  console.log(
    `\nContinue's panel path per token: ${L} layers × ${H} heads, ${P}-token prompt, ${N} new tokens, ${runs} runs ` +
      'interleaved (median (min–max) of the per-run mean, ms)',
  );
  console.log(
    table(
      ['growth', 'host', 'message', 'webview + matrix', 'total', 'ratio'],
      names.map((n) => {
        const s = samples[n];
        const tot = summarize(s.map(total));
        return [
          n,
          fmt(summarize(s.map((x) => x.host)), 1),
          fmt(summarize(s.map((x) => x.message)), 1),
          fmt(summarize(s.map((x) => x.webview)), 1),
          fmt(tot, 1),
          `${(tot.median / base).toFixed(3)}×`,
        ];
      }),
    ),
  );
}

void main();
