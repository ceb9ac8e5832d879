// Context mixing on real models through the real worker (dist/worker.js), against the independent float64
// references of test/reference/mixing-reference.ts (ALTI and value zeroing from their definitions on the naive
// forward pass): every layer's ALTI matrix from the mixing variant's tensors, and the registered methods (alti,
// value-zeroing, value-zeroing-rollout) through explain(), on stories260K (Llama, pre-RMSNorm, grouped-query
// attention, causal), tiny-gpt2 (GPT-2: Conv1D weights [in, out], one fused c_attn split into q, k, v) and
// all-MiniLM-L6-v2 (BERT, post-LN, bidirectional; a pooled similarity target), to ≤ 1e-5.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { load } from '../../../../runtime/inspector/load-model';
import type { Inspector } from '../../../../runtime/inspector/api';
import { explain } from '../../../../runtime/explain/explain';
import { altiLayer } from '../../../../runtime/analysis/mixing';
import { fixtureModel, miniLmDir, repoRoot } from '../../../helpers/fixtures';
import { referenceAltiLayers, referenceRollout, referenceValueZeroing } from '../../../reference/mixing-reference';

const WORKER = path.join(repoRoot, 'dist/worker.js');
const STORIES = fixtureModel('stories260K');
const TOL = 1e-5;

before(() => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'pipe' });
});

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The pooled row (mean over every query row) of a [seq][seq] matrix. */
const meanRow = (m: number[][]) => m[0].map((_, j) => m.reduce((s, row) => s + row[j], 0) / m.length);

const cases = [
  {
    name: 'stories260K (llama, pre-RMSNorm, GQA, causal)',
    dir: () => STORIES,
    ids: () =>
      (JSON.parse(fs.readFileSync(path.join(STORIES, 'reference_attention.json'), 'utf8')) as { input_ids: number[] })
        .input_ids,
    target: 'next',
    row: (m: number[][]) => m[m.length - 1],
  },
  {
    name: 'tiny-gpt2 (gpt2, pre-LN, Conv1D weights, fused c_attn, causal)',
    dir: () => fixtureModel('tiny-gpt2'),
    ids: () => [464, 3290, 318, 257, 1332, 13, 383, 3797],
    target: 'next',
    row: (m: number[][]) => m[m.length - 1],
  },
  {
    name: 'all-MiniLM-L6-v2 (bert, post-LN, bidirectional)',
    dir: miniLmDir,
    ids: () => [101, 1996, 4937, 2938, 2006, 1996, 13523, 102], // [CLS] the cat sat on the mat [SEP]
    target: 'similarity:a dog',
    row: meanRow,
  },
];

for (const c of cases)
  describe(`context mixing: ${c.name}`, () => {
    let inspector: Inspector;
    const ids = c.ids();
    const S = ids.length;
    before(async () => {
      inspector = await load(c.dir(), { backend: 'native', threads: 2, workerPath: WORKER });
    });
    after(() => inspector?.dispose());

    test('every layer’s ALTI matrix from the mixing variant equals the float64 reference, every row', async () => {
      const out = await inspector.forward({
        batch: { ids: [ids], mask: [ids.map(() => 1)] },
        read: { kind: 'none' },
        attention: true,
        mixing: true,
      });
      const { heads, hidden } = inspector.facts;
      const ref = referenceAltiLayers(c.dir(), ids);
      assert.equal(out.mixing!.length, ref.length);
      out.mixing!.forEach((m, l) => {
        const got = altiLayer({ heads, seq: S, hidden, attn: out.attention![l], ...m });
        const d = maxDiff(got, ref[l].flat());
        assert.ok(d <= TOL, `layer ${l}: max |ALTI − reference| = ${d}`);
        for (let i = 0; i < S; i++) {
          const rowSum = got.slice(i * S, (i + 1) * S).reduce((a, b) => a + b, 0);
          assert.ok(Math.abs(rowSum - 1) < 1e-9, `layer ${l} row ${i} sums to ${rowSum}`);
        }
      });
    });

    test('alti, value-zeroing and value-zeroing-rollout through explain() equal the references', async () => {
      const r = await explain(inspector, ids, {
        target: c.target,
        methods: ['alti', 'value-zeroing', 'value-zeroing-rollout'],
        faithfulness: false,
        erasureSteps: 0,
        headStats: false,
      });
      const scores = (id: string) => {
        const m = r.methods.find((x) => x.id === id)!;
        assert.equal(m.error, undefined, `${id}: ${m.error}`);
        assert.equal(m.kind, 'mixing');
        return m.scores;
      };
      const L = inspector.facts.layers;
      const alti = c.row(referenceRollout(referenceAltiLayers(c.dir(), ids)));
      assert.ok(maxDiff(scores('alti'), alti) <= TOL, `alti: ${maxDiff(scores('alti'), alti)}`);
      const vz = Array.from({ length: L }, (_, l) => referenceValueZeroing(c.dir(), ids, l));
      const last = c.row(vz[L - 1]);
      assert.ok(
        maxDiff(scores('value-zeroing'), last) <= TOL,
        `value zeroing: ${maxDiff(scores('value-zeroing'), last)}`,
      );
      const roll = c.row(referenceRollout(vz));
      const dr = maxDiff(scores('value-zeroing-rollout'), roll);
      assert.ok(dr <= TOL, `value zeroing rollout: ${dr}`);
      // The rows ran batched: L·S zeroed rows and one unzeroed row per batch of ≤ 32 (value-zeroing asked for its
      // layer's S rows, the rollout every layer's).
      assert.ok(r.timings.batches >= Math.ceil((L * S) / 32));
    });
  });
