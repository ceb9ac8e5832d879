// Rollout on a kept run (runtime/attention/kept-rollout.ts): one row as a chain of vector–matrix products whose
// rows are recomputed from q and k, against the dense rollout (runtime/analysis/rollout.ts: every map built, then
// n × n products) on the same synthetic layers (SmolLM2-135M's shape: 9 heads of 64, causal; fewer layers). Prints
// median and range of each, their ratio, and the multiply-adds per second of the kept row, the rate
// ROLLOUT_RATE estimates Explain's cost with.
//   npx tsx bench/kept-rollout.ts [--tokens 512] [--layers 4] [--runs 3]
import { ExactAttention } from '../runtime/attention/exact-attention';
import { keptRolloutCost, keptRolloutRow, ROLLOUT_RATE } from '../runtime/attention/kept-rollout';
import type { LayerQK } from '../runtime/attention/layer-qk';
import { attentionRollout } from '../runtime/analysis/rollout';
import { mulberry32 } from '../runtime/random';
import type { LayerAttention } from '../runtime/types';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const n = arg('tokens', 512);
const L = arg('layers', 4);
const runs = arg('runs', 3);
const H = 9;
const D = 64;
const rand = mulberry32(3);
const layers = Array.from({ length: L }, (_, layer): ExactAttention => {
  const qk: LayerQK = {
    layer,
    heads: H,
    kvHeads: 3,
    length: n,
    headDim: D,
    q: Float32Array.from({ length: H * n * D }, () => rand() - 0.5),
    k: Float32Array.from({ length: 3 * n * D }, () => rand() - 0.5),
    rule: { scale: 1 / 8, softcap: null, causal: true, window: null },
  };
  return new ExactAttention(qk);
});

function time(f: () => void): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const range = (a: number[]) => `${Math.min(...a).toFixed(0)}–${Math.max(...a).toFixed(0)} ms`;

const kept: number[] = [];
const dense: number[] = [];
for (let r = 0; r < runs; r++) {
  // Fresh objects each time, so no row's log-sum-exp is reused across runs.
  const fresh = layers.map((l) => new ExactAttention(l.qk));
  kept.push(time(() => keptRolloutRow(fresh, n - 1)));
  dense.push(
    time(() => {
      const maps: LayerAttention[] = layers.map((l, layer) => {
        const data = new Float32Array(H * n * n);
        for (let h = 0; h < H; h++) for (let i = 0; i < n; i++) data.set(l.row(h, i), (h * n + i) * n);
        return { layer, kind: 'causal', heads: H, queryLength: n, keyLength: n, data };
      });
      attentionRollout(maps);
    }),
  );
}
const cost = keptRolloutCost({ layers: L, heads: H, headDim: D, causal: true }, n, n - 1);
const km = median(kept);
console.log(`kept rollout row, ${L} layers × ${H} heads × ${n} tokens: median ${km.toFixed(0)} ms (${range(kept)})`);
console.log(`dense rollout (maps + products): median ${median(dense).toFixed(0)} ms (${range(dense)})`);
console.log(`ratio kept / dense: ${(km / median(dense)).toFixed(2)}×`);
console.log(
  `rate: ${(cost.multiplyAdds / (km / 1000) / 1e6).toFixed(0)} M multiply-adds/s (ROLLOUT_RATE assumes ${ROLLOUT_RATE / 1e6} M; estimate ${cost.seconds.toFixed(2)} s)`,
);
