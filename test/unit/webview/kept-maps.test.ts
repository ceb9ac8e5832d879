// The panel's RunMaps over a kept run (webview/kept-maps.ts): layers arrive as overviews only, a tile small enough
// asks the host for exact entries (answered here by a KeptRun over the independent reference forward pass of
// stories260K, as the worker would) and is drawn from the overview until they arrive; then tiles, values and rows
// equal the dense maps of the same input within float32 rounding, and nearby windows are served from the cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeptRun } from '../../../runtime/attention/kept-run';
import { POOL } from '../../../runtime/models/attention-summaries';
import { buildPlan, readModel } from '../../../runtime/models/read-model';
import { MemoryRunMaps } from '../../../figures/run-maps';
import { PendingExact } from '../../../figures/kept-run-maps';
import { RemoteKeptRun } from '../../../webview/kept-maps';
import type { KeptLayerMessage } from '../../../protocol/messages';
import type { Span } from '../../../figures/heads';
import { runPlan } from '../../reference/run-plan';
import { headFigure, windowAround, type HeadState } from '../../../figures/head-figure';
import { EXPORT_OPTIONS } from '../../../figures/figure-kit';
import type { HeadChoice, RunMaps } from '../../../figures/run-maps';
import type { Scene } from '../../../figures/scene';
import { PAPER } from '../../../figures/theme';
import { KEPT_VIEW_WINDOW } from '../../../webview/kept-maps';
import { fixtureModel } from '../../helpers/fixtures';

const N = 300;

function worst(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i] - b[i]));
  return w;
}

/** A kept stories260K run of N tokens as the panel holds it (overviews, exact windows asked of a KeptRun over the
 * reference forward pass, as the worker answers) and the dense maps of the same input. */
async function keptPanelRun() {
  const source = await readModel(fixtureModel('stories260K'));
  const plan = buildPlan(source);
  let x = 5;
  const ids = Array.from({ length: N }, () => 3 + ((x = (x * 48271) % 2147483647) % 500));
  const run = await runPlan(plan, { ids: [ids], mask: [Array(N).fill(1)] }, 'native');
  const { heads, layers } = plan.facts;
  const kept = new KeptRun(plan.facts, { topK: 3, specials: [0], block: POOL });
  const tokens = ids.map((i) => ({ text: String(i) }));
  const dense = new MemoryRunMaps('m', tokens, layers, heads);
  const asked: { layer: number; head: number; rows: Span; cols: Span }[] = [];
  let arrivals = 0;
  const remote = new RemoteKeptRun(
    { layers, heads, attentionKinds: plan.facts.attentionKinds },
    'm',
    tokens,
    async (layer, head, rows, cols) => {
      asked.push({ layer, head, rows, cols });
      return kept.layer(layer)!.exact.window(head, rows, cols); // what the worker answers
    },
    () => arrivals++,
    (e) => assert.fail(String(e)),
  );
  for (let l = 0; l < layers; l++) {
    const attention = { layer: l, kind: plan.facts.attentionKinds[l], heads, queryLength: N, keyLength: N };
    const k = kept.add({ ...attention, data: run.attn[l] }, run.q[l], run.k[l]);
    dense.add({ ...attention, data: run.attn[l] });
    const res = k.heads[0].res;
    const cells = res * res;
    const max = new Float32Array(heads * cells);
    const mean = new Float32Array(heads * cells);
    k.heads.forEach((s, h) => {
      max.set(s.blockMax, h * cells);
      mean.set(s.blockMean, h * cells);
    });
    const m: KeptLayerMessage = {
      type: 'keptLayer',
      runId: 1,
      layer: l,
      kind: 'causal',
      heads,
      length: N,
      causal: true,
      window: null,
      res,
      block: POOL,
      blockMax: max.buffer,
      blockMean: mean.buffer,
    };
    remote.add(m);
  }
  const settle = () => new Promise((r) => setTimeout(r, 0));
  return { maps: remote.maps, dense, asked, heads, arrivals: () => arrivals, settle };
}

test('stories260K, 300 tokens: overview first, exact entries from the host once asked, equal to the dense maps', async () => {
  const { maps, dense, asked, settle, arrivals: arrived } = await keptPanelRun();

  // The whole matrix over every head is drawn from the overview: nothing is asked.
  const whole = maps.tile(2, 'mean', { start: 0, end: N }, { start: 0, end: N }, 50, 50);
  assert.equal(asked.length, 0);
  assert.equal(whole.values.length, 2500);
  // Its masked cells (the causal rule per bin, in closed form) are the dense map's; nothing waited for the host.
  assert.deepEqual(whole.masked, dense.tile(2, 'mean', { start: 0, end: N }, { start: 0, end: N }, 50, 50).masked);
  assert.equal(maps.fallbacks, 0);

  // A zoomed window of one head: the overview now, one request (widened to 64-aligned ends), exact afterwards.
  const rows = { start: 130, end: 170 };
  const cols = { start: 100, end: 140 };
  const before = maps.tile(3, 5, rows, cols, 40, 40);
  assert.equal(asked.length, 1);
  assert.deepEqual(asked[0], { layer: 3, head: 5, rows: { start: 128, end: 192 }, cols: { start: 64, end: 192 } });
  const exact = dense.tile(3, 5, rows, cols, 40, 40);
  assert.ok(worst(before.values, exact.values) > 1e-3, 'the first drawing is the overview, not exact values');
  assert.equal(maps.fallbacks, 1, 'a view that drew it redraws when the values arrive (exactArrived)');
  await settle();
  assert.equal(arrived(), 1);
  const after = maps.tile(3, 5, rows, cols, 40, 40);
  assert.ok(worst(after.values, exact.values) <= 1e-5);
  assert.deepEqual(after.masked, exact.masked);
  assert.equal(maps.fallbacks, 1);
  // Panning inside the fetched window asks nothing more; a value inside it is exact at once.
  maps.tile(3, 5, { start: 140, end: 180 }, { start: 120, end: 160 }, 40, 40);
  assert.ok(Math.abs(maps.value(3, 5, 150, 101) - dense.value(3, 5, 150, 101)) <= 1e-5);
  assert.equal(asked.length, 1);

  // A value or row elsewhere: PendingExact until it arrives, then exact (a causal zero exactly 0).
  assert.throws(() => maps.value(0, 1, 299, 0), PendingExact);
  assert.throws(() => maps.row(4, 'mean', 10), PendingExact);
  await settle();
  assert.ok(Math.abs(maps.value(0, 1, 299, 0) - dense.value(0, 1, 299, 0)) <= 1e-5);
  assert.equal(maps.value(0, 1, 10, 11), 0);
  assert.ok(worst(maps.row(4, 'mean', 10), dense.row(4, 'mean', 10)) <= 1e-5);
  assert.equal(maps.shape(4)?.queryLength, N);
  assert.equal(maps.shape(4)?.mask.causal, true);
});

test("the head view of a kept run: a window of ±64 tokens around the chosen one, exact weights asked of the host, equal to the dense maps' head view of that window", async () => {
  const { maps, dense, asked, heads, settle } = await keptPanelRun();
  const query = 211;
  const window = windowAround(query, N, KEPT_VIEW_WINDOW);
  assert.deepEqual(window, { start: 147, end: 276 });
  for (const [layer, head] of [
    [1, 'mean'],
    [3, 5],
    [4, 'max'],
  ] as [number, HeadChoice][]) {
    const draw = (m: RunMaps, focus: HeadState['focus'] = null) =>
      headFigure(m, { layer, head, window, focus }, { maxHeight: 20 * 129 }, PAPER, EXPORT_OPTIONS);
    const before = asked.length;
    // Nothing drawn from the overview: the figure waits for the exact weights (one request per head).
    assert.throws(() => draw(maps), PendingExact);
    assert.equal(asked.length - before, typeof head === 'number' ? 1 : heads);
    await settle();
    for (const focus of [null, { side: 'left' as const, index: query }, { side: 'right' as const, index: 200 }]) {
      const kept = draw(maps, focus);
      const full = draw(dense, focus);
      const lines = (s: Scene) =>
        s.items.flatMap((it) =>
          it.kind === 'line' && it.role === 'link'
            ? [
                [
                  Number(it.attrs!['data-head']),
                  Number(it.attrs!['data-query']),
                  Number(it.attrs!['data-key']),
                  it.opacity,
                ],
              ]
            : [],
        );
      const a = lines(kept.scene);
      const b = lines(full.scene);
      const where = `layer ${layer} head ${head} focus ${JSON.stringify(focus)}`;
      assert.ok(a.length > 0, where);
      assert.deepEqual(
        a.map((l) => l.slice(0, 3)),
        b.map((l) => l.slice(0, 3)),
        `${where}: the same lines`,
      );
      assert.ok(
        worst(
          a.map((l) => l[3]),
          b.map((l) => l[3]),
        ) <= 1e-5,
        `${where}: the same weights`,
      );
      // Every line is between tokens of the window, its weight the dense map's value.
      for (const [h, q, k, w] of a) {
        assert.ok(q >= 147 && q < 276 && k >= 147 && k < 276, `${where}: line ${q} → ${k} inside the window`);
        // Lines are per head (mean and max draw every head's), so h is the head whose weight it is.
        assert.ok(Math.abs(w - Math.min(1, dense.value(layer, h, q, k))) <= 1e-5, `${where}: ${q} → ${k}`);
      }
      assert.equal(kept.geometry.first, 147);
      assert.ok(kept.scene.notes.some((n) => n.startsWith('Showing tokens 147–275 of 300')));
      assert.match(kept.scene.title, /tokens 147–275 of 300$/);
    }
  }
});
