// What each Explain method would cost on a run kept for long inputs (runtime/explain/long-costs.ts), for
// SmolLM2-135M's shape (30 layers × 9 heads, hidden 576) at 4,000 tokens, every number worked out by hand here:
// maps 30 · 9 · 4,000² · 4 B = 17.28 GB; a pass timed at 300 s; the line names the cost and what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { durationText, keptMethodRefusal, longCost } from '../../../../runtime/explain/long-costs';

const smol = { layers: 30, heads: 9, hidden: 576 };
const N = 4000;
const TAIL = 'Raw attention, rollout and the head statistics run here.';

test('perturbations: one model pass per candidate, timed by the run’s own pass', () => {
  assert.equal(
    keptMethodRefusal(smol, 'loo', N, { candidates: 3999, passMs: 300_000 }),
    // 3,999 × 300 s = 1,199,700 s = 13.9 days
    `Leave-one-out does not run on 4,000 tokens kept for long inputs: it runs the model once per candidate token: 3,999 passes over 4,000 tokens (about 14 days at 300 s a pass); select at most 997 tokens for it. ${TAIL}`,
  );
  // A run kept at a length whose maps fit (--long kept asked): the maps, not fewer tokens. 997 tokens of SmolLM2's
  // maps are 30 · 9 · 997² · 4 B = 1.07 GB, the most under the 1 GiB rule.
  assert.match(keptMethodRefusal(smol, 'loo', 997), /; run with the maps \(--long auto or maps\) for it\. /);
  assert.match(keptMethodRefusal(smol, 'loo', 998), /; select at most 997 tokens for it\. /);
  // Without a timed pass the count alone.
  assert.match(keptMethodRefusal(smol, 'occlusion', N), /: 4,000 passes over 4,000 tokens; select at most 997 tokens/);
  const vz = longCost(smol, 'value-zeroing-rollout', { n: N });
  assert.equal(vz.passes, 1 + 30 * 4000);
  assert.equal(longCost(smol, 'value-zeroing', { n: N, passMs: 2000 }).seconds, 4001 * 2);
});

test('map-reading methods: their memory, and the maps written by run --out FOLDER/ for flow', () => {
  assert.equal(
    keptMethodRefusal(smol, 'flow', N),
    "Attention flow does not run on 4,000 tokens kept for long inputs: it holds every layer's maps and solves a max-flow over 120,000 nodes and 480,000,000 edges (17.3 GB); select at most 997 tokens for it, or write the maps with `attention-lens run --out FOLDER/` (one NPY per layer, 17.3 GB) and compute it from them. " +
      TAIL,
  );
  // ALTI: the maps and [seq, heads, hidden] per layer (30 · 4,000 · 9 · 576 · 4 B = 2.49 GB), 2.5 T multiply-adds.
  assert.match(
    keptMethodRefusal(smol, 'alti', N),
    /ALTI does not run on 4,000 tokens .*: it holds every layer's maps and per-head value vectors and does 2\.5 T multiply-adds \(19\.8 GB\); select at most 997 tokens for it\. /,
  );
  assert.match(keptMethodRefusal(smol, 'norm', N), /holds every layer's maps and value norms \(34\.6 GB\)/);
});

test('gradient methods: backpropagation through every map (maps and their gradients), IG once per step', () => {
  assert.match(
    keptMethodRefusal(smol, 'saliency', N, { passMs: 300_000 }),
    /: it backpropagates through every layer's maps: 1 pass over 4,000 tokens \(34\.6 GB, about 5 min at 300 s a pass\); select at most 997 tokens for it\. /,
  );
  assert.equal(longCost(smol, 'integrated-gradients', { n: N, steps: 16 }).passes, 17);
  assert.ok(!keptMethodRefusal(smol, 'attn-x-grad', N).includes('\n'), 'one line');
});

test('durations in words', () => {
  assert.equal(durationText(0.2), 'about 1 s');
  assert.equal(durationText(89), 'about 89 s');
  assert.equal(durationText(600), 'about 10 min');
  assert.equal(durationText(7200), 'about 2.0 h');
  assert.equal(durationText(30 * 86400), 'about 30 days');
});
