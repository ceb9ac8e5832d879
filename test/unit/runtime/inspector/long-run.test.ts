// Long inputs through the real inference worker (dist/worker.js): a kept run (RunOptions.long) streams each layer's
// overview without its map, and the exact values, rows, columns and windows asked of the worker equal the dense maps
// of the same input streamed the usual way (stories260K, 300 tokens: the blocked summaries variant). Cancelling a
// kept run drops it; a newer kept run replaces an older one; each refusal is one line. SmolLM2 over 1,100 tokens
// (its maps past 1 GiB): `auto` keeps the run, and its values equal a dense run of the first 300 tokens. Rollout rows
// of a kept run (a chain of vector–matrix products in the worker) equal the dense rollout; a row estimated above
// the time limit is refused with its cost.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { load } from '../../../../runtime/inspector/load-model';
import type { Inspector, LayerResult } from '../../../../runtime/inspector/api';
import { isLensError } from '../../../../runtime/errors';
import { mulberry32 } from '../../../../runtime/random';
import {
  KEPT_ABOVE_BYTES,
  keepsRun,
  longestMapsRun,
  longExplainMessage,
  mapsBytes,
} from '../../../../runtime/inspector/long-runs';
import { fixtureModel, repoRoot, smolLm2Gguf } from '../../../helpers/fixtures';
import { windowAround } from '../../../../figures/head-figure';
import { neuronScores } from '../../../../webview/neuron-scores';
import { KEPT_VIEW_WINDOW } from '../../../../webview/kept-maps';
import { attentionRollout } from '../../../../runtime/analysis/rollout';

const WORKER = path.join(repoRoot, 'dist/worker.js');
const N = 300;

function ids(n: number, seed: number): number[] {
  const rand = mulberry32(seed);
  return [1, ...Array.from({ length: n - 1 }, () => 3 + Math.floor(rand() * 500))];
}

async function collect(run: AsyncIterable<LayerResult>): Promise<LayerResult[]> {
  const out: LayerResult[] = [];
  for await (const l of run) out.push(l);
  return out;
}

const isLine = (re: RegExp) => (e: unknown) => {
  assert.ok(isLensError(e), `expected a LensError, got ${String(e)}`);
  assert.match(e.message, re);
  assert.ok(!e.message.includes('\n'));
  return true;
};

test('keepsRun: auto keeps when every map together would pass 1 GiB; kept and maps as asked', () => {
  const smol = { layers: 30, heads: 9 };
  assert.equal(mapsBytes(smol, 1024), 30 * 9 * 1024 * 1024 * 4);
  assert.equal(keepsRun('auto', smol, 512), false); // 283 MB
  assert.equal(keepsRun('auto', smol, 1024), true); // 1.13 GB
  assert.equal(keepsRun('auto', smol, 8192), true);
  assert.ok(mapsBytes(smol, 997) <= KEPT_ABOVE_BYTES && mapsBytes(smol, 998) > KEPT_ABOVE_BYTES);
  assert.equal(keepsRun('maps', smol, 8192), false);
  assert.equal(keepsRun('kept', smol, 10), true);
  // The longest run whose maps stay under the threshold, named by the refusals of what needs every map.
  assert.equal(longestMapsRun(smol), 997);
  assert.equal(
    longExplainMessage(smol, 4000),
    "Over 4000 tokens (kept for long inputs) Explain runs raw attention, rollout and the head statistics from what the run kept; comparisons, flow, norms, ALTI, value zeroing, the perturbation and gradient methods and faithfulness would hold every layer's maps (17.3 GB) or run a model pass per token: select at most 997 tokens for them (each method's cost at this length is in its note).",
  );
});

describe('stories260K kept runs through the worker', () => {
  let inspector: Inspector;
  before(async () => {
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'pipe' });
    inspector = await load(fixtureModel('stories260K'), { backend: 'native', threads: 2, workerPath: WORKER });
  });
  after(async () => {
    await inspector.dispose();
  });

  test('exact values, rows, columns and windows from the worker equal the dense maps; overviews stream per layer', async () => {
    const input = ids(N, 7);
    const dense = await collect(inspector.run(input));
    const run = inspector.run(input, { long: 'kept' });
    assert.ok(run.kept, 'a kept run exposes its exact attention');
    const layers = await collect(run);
    assert.deepEqual(
      layers.map((l) => l.layer),
      [0, 1, 2, 3, 4],
    );
    const kept = run.kept;
    const { heads } = inspector.facts;
    let worst = 0;
    for (const l of layers) {
      assert.equal(l.data.length, 0, 'no map crosses to the calling thread');
      assert.equal(l.queryLength, N);
      assert.equal(l.overview?.heads.length, heads);
      assert.equal(kept.layer(l.layer), l.overview);
      const map = dense[l.layer].data; // [heads, N, N]
      const at = (h: number, i: number, j: number) => map[(h * N + i) * N + j];
      for (const h of [0, 5]) {
        const o = l.overview!.heads[h];
        // The overview's block max is the dense map's max over each 64 × 64 block.
        for (const [by, bx] of [
          [0, 0],
          [4, 2],
          [3, 3],
        ]) {
          let m = 0;
          for (let i = by * 64; i < Math.min(N, (by + 1) * 64); i++)
            for (let j = bx * 64; j < Math.min(N, (bx + 1) * 64); j++) m = Math.max(m, at(h, i, j));
          worst = Math.max(worst, Math.abs(o.blockMax[by * o.res + bx] - m));
        }
        for (const [i, j] of [
          [0, 0],
          [17, 3],
          [299, 0],
          [299, 299],
          [150, 149],
        ])
          worst = Math.max(worst, Math.abs((await kept.value(l.layer, h, i, j)) - at(h, i, j)));
        assert.equal(await kept.value(l.layer, h, 10, 11), 0, 'a causal zero is exactly 0');
        const row = await kept.row(l.layer, h, 211);
        const col = await kept.column(l.layer, h, 40);
        for (let j = 0; j < N; j++) worst = Math.max(worst, Math.abs(row[j] - at(h, 211, j)));
        for (let i = 0; i < N; i++) worst = Math.max(worst, Math.abs(col[i] - at(h, i, 40)));
        const win = await kept.window(l.layer, h, { start: 250, end: 300 }, { start: 0, end: 280 }); // [50, 280]
        for (let i = 250; i < 300; i++)
          for (let j = 0; j < 280; j++) worst = Math.max(worst, Math.abs(win[(i - 250) * 280 + j] - at(h, i, j)));
      }
    }
    assert.ok(worst <= 1e-5, `largest difference from the dense maps: ${worst}`);
    await assert.rejects(kept.value(0, heads, 0, 0), isLine(/^Head 8 is outside the layer's 8 heads\.$/));
    await assert.rejects(kept.value(5, 0, 0, 0), isLine(/^Layer 5 is outside the model's 5 layers\.$/));
    await assert.rejects(
      kept.value(0, 0, N, 0),
      isLine(new RegExp(`^Position ${N} is outside the ${N} positions of the run\\.$`)),
    );
  });

  test("the neuron view on a window: the worker's q, the window's k and the row's lse equal the dense run's vectors; exp(score − lse) is its map", async () => {
    const input = ids(N, 7);
    const dense = await collect(inspector.run(input, { withVectors: true }));
    const run = inspector.run(input, { long: 'kept' });
    await collect(run);
    const kept = run.kept!;
    const { heads, kvHeads, headDim: D, attentionScale, attentionSoftcap } = inspector.facts;
    const rule = { scale: attentionScale, softcap: attentionSoftcap };
    const query = 211;
    const keys = windowAround(query, N, KEPT_VIEW_WINDOW); // ±64: [147, 276)
    assert.deepEqual(keys, { start: 147, end: 276 });
    const W = keys.end - keys.start;
    let worstVector = 0;
    let worstMap = 0;
    let worstNeuron = 0;
    for (const l of [0, 2, 4]) {
      const v = await kept.vectors(l, query, keys);
      assert.equal(v.q.length, heads * D);
      assert.equal(v.k.length, kvHeads * W * D);
      assert.equal(v.lse.length, heads);
      const d = dense[l]; // data [heads, N, N]; q, k [heads, N, D] (k repeated per query head)
      const dq = d.q!;
      const dk = d.k!;
      for (let h = 0; h < heads; h++) {
        const kv = Math.floor(h / (heads / kvHeads));
        const qVec = v.q.subarray(h * D, (h + 1) * D);
        for (let x = 0; x < D; x++)
          worstVector = Math.max(worstVector, Math.abs(qVec[x] - dq[(h * N + query) * D + x]));
        const windowKeys = Array.from({ length: W }, (_, j) => v.k.subarray((kv * W + j) * D, (kv * W + j + 1) * D));
        for (let j = 0; j < W; j++)
          for (let x = 0; x < D; x++)
            worstVector = Math.max(worstVector, Math.abs(windowKeys[j][x] - dk[(h * N + keys.start + j) * D + x]));
        // The window's neuron view (softmax over the whole row through its lse) against the map and against the
        // dense neuron view (the softmax of the full row of keys).
        const s = neuronScores(qVec, windowKeys, D, (j) => keys.start + j > query, rule, v.lse[h]);
        const allKeys = Array.from({ length: N }, (_, j) => dk.subarray((h * N + j) * D, (h * N + j + 1) * D));
        const full = neuronScores(
          dq.subarray((h * N + query) * D, (h * N + query + 1) * D),
          allKeys,
          D,
          (j) => j > query,
          rule,
        );
        for (let j = 0; j < W; j++) {
          worstMap = Math.max(worstMap, Math.abs(s.softmax[j] - d.data[(h * N + query) * N + keys.start + j]));
          worstNeuron = Math.max(worstNeuron, Math.abs(s.softmax[j] - full.softmax[keys.start + j]));
          worstNeuron = Math.max(worstNeuron, Math.abs(s.scaled[j] - full.scaled[keys.start + j]));
        }
      }
    }
    // q and k are kept in float32 (not half precision): the same numbers as the dense run's vectors variant.
    assert.ok(worstVector <= 1e-5, `q/k differ from the dense run's by ${worstVector}`);
    assert.ok(worstMap <= 1e-5, `window softmax differs from the map by ${worstMap}`);
    assert.ok(worstNeuron <= 1e-5, `window neuron view differs from the dense neuron view by ${worstNeuron}`);
    await assert.rejects(
      kept.vectors(0, N, keys),
      isLine(new RegExp(`^Position ${N} is outside the ${N} positions of the run\\.$`)),
    );
    await assert.rejects(kept.vectors(0, 5, { start: 290, end: 301 }), isLine(/^Keys 290–301 are not a span inside/));
  });

  test('rollout rows of a kept run, computed in the worker from q and k, equal the dense rollout to 1e-5', async () => {
    const input = ids(N, 11);
    const dense = await collect(inspector.run(input));
    const run = inspector.run(input, { long: 'kept' });
    await collect(run);
    const full = attentionRollout(dense); // [N, N]: every map, then N × N products
    const fromLayer2 = attentionRollout(dense, { startLayer: 2 });
    let worst = 0;
    for (const t of [0, 1, 150, N - 1]) {
      const row = await run.kept!.rollout(t);
      let sum = 0;
      for (let j = 0; j < N; j++) {
        worst = Math.max(worst, Math.abs(row[j] - full[t * N + j]));
        sum += row[j];
      }
      assert.ok(Math.abs(sum - 1) < 1e-9, `row ${t} sums to ${sum}`);
      for (let j = t + 1; j < N; j++) assert.equal(row[j], 0, 'causal: nothing from later tokens');
    }
    const row = await run.kept!.rollout(200, 2);
    for (let j = 0; j < N; j++) worst = Math.max(worst, Math.abs(row[j] - fromLayer2[200 * N + j]));
    assert.ok(worst <= 1e-5, `largest difference from the dense rollout: ${worst}`);
    await assert.rejects(
      run.kept!.rollout(N),
      isLine(new RegExp(`^Position ${N} is outside the ${N} positions of the run\\.$`)),
    );
    await assert.rejects(run.kept!.rollout(0, 5), isLine(/^The rollout's first layer 5 is outside 0\.\.4\.$/));
  });

  test('a newer kept run replaces the older one, whose queries then say to run it again', async () => {
    const first = inspector.run(ids(N, 1), { long: 'kept' });
    await collect(first);
    const second = inspector.run(ids(N, 2), { long: 'kept' });
    await collect(second);
    assert.ok((await second.kept!.value(0, 0, 5, 1)) > 0);
    await assert.rejects(first.kept!.value(0, 0, 5, 1), isLine(/is no longer kept .*; run it again\.$/));
  });

  test('cancelling a kept run stops it and drops what the worker kept; the model runs again afterwards', async () => {
    const controller = new AbortController();
    const run = inspector.run(ids(N, 3), { long: 'kept', signal: controller.signal });
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const l of run) {
          seen.push(l.layer);
          controller.abort();
        }
      })(),
      (e: unknown) => isLensError(e) && e.code === 'CANCELLED',
    );
    assert.deepEqual(seen, [0]);
    await assert.rejects(
      run.kept!.value(0, 0, 5, 1),
      isLine(/^Run \d+ stopped before it finished \(cancelled or failed\); run it again\.$/),
    );
    const again = inspector.run(ids(20, 4), { long: 'kept' });
    assert.equal((await collect(again)).length, 5);
  });
});

test('SmolLM2 over 1,100 tokens: auto keeps the run (maps over 1 GiB), and its exact values equal a dense run of the first 300 tokens (causal)', async () => {
  const inspector = await load(smolLm2Gguf(), { backend: 'native', threads: 2, workerPath: WORKER, maxTokens: 1100 });
  try {
    const input = [1, ...Array.from({ length: 1099 }, (_, i) => 100 + ((i * 7919) % 40000))];
    assert.ok(mapsBytes(inspector.facts, input.length) > KEPT_ABOVE_BYTES);
    const run = inspector.run(input, { long: 'auto' });
    const layers = await collect(run);
    assert.equal(layers.length, 30);
    assert.ok(run.kept && layers.every((l) => l.data.length === 0 && l.overview?.heads.length === 9));
    // A causal model's first 300 rows do not see the rest: the dense maps of the prefix are the same numbers.
    const dense = await collect(inspector.run(input.slice(0, 300)));
    let worst = 0;
    for (const [l, h, q, k] of [
      [0, 0, 299, 0],
      [5, 3, 200, 17],
      [15, 4, 150, 150],
      [29, 8, 299, 298],
      [29, 0, 250, 3],
    ])
      worst = Math.max(worst, Math.abs((await run.kept.value(l, h, q, k)) - dense[l].data[(h * 300 + q) * 300 + k]));
    const row = await run.kept.row(12, 6, 280);
    for (let k = 0; k < 300; k++) worst = Math.max(worst, Math.abs(row[k] - dense[12].data[(6 * 300 + 280) * 300 + k]));
    for (let k = 281; k < 1100; k++) assert.equal(row[k], 0);
    // Rollout too: row 299 reads only the first 300 tokens, so it is the dense rollout of the prefix.
    const rollout = await run.kept.rollout(299);
    const prefix = attentionRollout(dense);
    for (let k = 0; k < 300; k++) worst = Math.max(worst, Math.abs(rollout[k] - prefix[299 * 300 + k]));
    // The last token's row over 1,100 tokens is estimated above the limit: refused, with the cost and what to do.
    await assert.rejects(
      run.kept.rollout(1099),
      isLine(
        /^Rollout for this token would take about \d+ s \(30 layers over 1,100 tokens\), more than the 60 s allowed; choose an earlier target token or select fewer tokens\.$/,
      ),
    );
    assert.ok(worst <= 1e-5, `largest difference ${worst}`);
  } finally {
    await inspector.dispose();
  }
});
