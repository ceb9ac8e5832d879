// Batched forward passes on imported ONNX exports (what leave-one-out, occlusion, erasure and faithfulness re-run):
// the family graphs of stories260K, tiny-gpt2 and all-MiniLM-L6-v2, exported WITHOUT attention outputs, run a
// right-padded batch of three rows of different lengths and must give what the family-built StageEngine gives on the
// same batch (an independent path: its own per-layer graphs and head) — logits and the last hidden state at one
// position per row, the mean-pooled hidden state and every layer's attention, to 1e-5 — in one session call per piece
// for the whole batch; a padded row gives what it gives alone. Also: an optimum-style encoder + decoder pair (inputs
// attention_mask / encoder_attention_mask) against its float64 reference, a graph that cannot take two rows (run
// row by row), one that cannot be split (one piece), the clear refusals (norms, missing logits, padding without an
// attention_mask), and explanations (leave-one-out, through the worker and the CLI) that equal the folder model's.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { isLensError } from '../../../../runtime/errors';
import { explain, type ExplainOptions } from '../../../../runtime/explain/explain';
import { AttrType, DataType, encodeModel } from '../../../../runtime/formats/onnx-schema';
import type { HeadRead } from '../../../../runtime/inspector/api';
import { StageEngine } from '../../../../runtime/inspector/engine';
import { load } from '../../../../runtime/inspector/load-model';
import type { Batch } from '../../../../runtime/models/plan';
import { buildPlan, readModel } from '../../../../runtime/models/read-model';
import { NORMS_REFUSED } from '../../../../runtime/onnx/forward';
import { ImportEngine } from '../../../../runtime/onnx/import-engine';
import { loadTokenizer } from '../../../../runtime/tokenizers';
import {
  decoderGraph,
  encDecWeights,
  encoderGraph,
  patternGraph,
  referenceAttention,
} from '../../../fixtures/onnx/synthetic';
import {
  decodeExact,
  exportOnnx,
  maxDiff,
  TEST_MODELS,
  testModelDir,
  writeSeq2Seq,
  type TestModelName,
} from '../../../helpers/onnx-export';
import { repoRoot } from '../../../helpers/fixtures';

const ROOT = repoRoot;
const WORKER = path.join(ROOT, 'dist/worker.js');
const CLI = path.join(ROOT, 'dist/cli.js');
const TMP = mkdtempSync(path.join(tmpdir(), 'lens-onnx-forward-'));

const TEXTS = [
  'Once upon a time, there was a little girl named Lily.',
  'She liked to play outside.',
  'The sun was warm.',
];
const TOL = 1e-5;

after(() => rmSync(TMP, { recursive: true, force: true }));

/** The model exported without attention outputs into a fresh folder (model.onnx + config + tokenizer). */
async function exported(name: TestModelName, edit?: (file: string) => void) {
  const from = testModelDir(name);
  const source = await readModel(from);
  const out = mkdtempSync(path.join(TMP, `${name}-`));
  exportOnnx(source, from, out);
  edit?.(path.join(out, 'model.onnx'));
  return { from, out, source, file: path.join(out, 'model.onnx') };
}

/** TEXTS tokenized and right-padded to the longest (mask 0 on padding); the lengths of the rows. */
async function paddedBatch(from: string): Promise<{ batch: Batch; lengths: number[] }> {
  const tokenizer = await loadTokenizer(from);
  const rows = TEXTS.map((t) => tokenizer.encode(t).map((tok) => tok.id));
  const lengths = rows.map((r) => r.length);
  const S = Math.max(...lengths);
  assert.equal(new Set(lengths).size, 3, 'three different lengths');
  const pad = tokenizer.special.pad ?? 0;
  return {
    batch: {
      ids: rows.map((r) => [...r, ...Array<number>(S - r.length).fill(pad)]),
      mask: rows.map((r) => [...r.map(() => 1), ...Array<number>(S - r.length).fill(0)]),
    },
    lengths,
  };
}

/** Row b of a [B, width] head. */
const rowOf = (head: Float32Array, b: number, width: number) => head.subarray(b * width, (b + 1) * width);

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

const lensError = (code: string, pattern: RegExp) => (e: unknown) =>
  isLensError(e) && e.code === code && pattern.test(e.message) && !e.message.includes('\n');

describe('forward() on imported exports equals the family-built StageEngine on a padded batch', () => {
  for (const name of Object.keys(TEST_MODELS) as TestModelName[]) {
    test(`${name}: every head read and every layer's attention to 1e-5, one session call per piece`, async () => {
      const { from, file, out, source } = await exported(name);
      const { batch, lengths } = await paddedBatch(from);
      const B = batch.ids.length;
      const S = batch.ids[0].length;
      const last = lengths.map((n) => n - 1); // the last real token of each row
      const imported = await ImportEngine.create({ model: file, dir: out }, 'native', 1);
      const family = await StageEngine.create(buildPlan(source), 'native', 1);
      try {
        assert.equal(imported.streaming, true, imported.notStreamingWhy);
        assert.equal(imported.batched, true, 'the family graphs take several rows');
        assert.equal(imported.facts.hasLmHead, family.facts.hasLmHead);
        const reads: HeadRead[] = [
          { kind: 'none' },
          { kind: 'hidden', positions: last },
          { kind: 'mean-hidden' },
          ...(family.facts.hasLmHead ? [{ kind: 'logits', positions: last } as const] : []),
        ];
        for (const read of reads) {
          const before = imported.stageRuns;
          const got = await imported.forward(batch, { read, attention: true });
          assert.equal(imported.stageRuns - before, sum(imported.stageCounts), `${read.kind}: one call per piece`);
          assert.equal(got.stageMs.length, sum(imported.stageCounts));
          const want = await family.forward(batch, { read, attention: true });
          assert.equal(got.rows, B);
          assert.equal(got.seq, S);
          assert.equal(got.width, want.width, `${read.kind}: width`);
          assert.equal(got.head.length, B * want.width);
          const d = maxDiff(got.head, want.head);
          assert.ok(d <= TOL, `${read.kind}: max |imported - family| = ${d}`);
          assert.equal(got.attention?.length, source.config.layers);
          got.attention!.forEach((a, l) => {
            const dl = maxDiff(a, want.attention![l]); // [B,H,S,S]
            assert.ok(dl <= TOL, `${read.kind}: layer ${l} attention differs by ${dl}`);
          });
        }
        // Padding is masked: no real query attends to a padded key, and a padded row reads as the row alone.
        const H = imported.facts.heads;
        const { attention, head, width } = await imported.forward(batch, {
          read: family.facts.hasLmHead ? { kind: 'logits', positions: last } : { kind: 'mean-hidden' },
          attention: true,
        });
        for (const a of attention!)
          for (let b = 0; b < B; b++)
            for (let h = 0; h < H; h++)
              for (let q = 0; q < lengths[b]; q++)
                for (let k = lengths[b]; k < S; k++) assert.equal(a[((b * H + h) * S + q) * S + k], 0);
        for (let b = 1; b < B; b++) {
          const ids = batch.ids[b].slice(0, lengths[b]);
          const alone = await imported.forward(
            { ids: [ids], mask: [ids.map(() => 1)] },
            {
              read: family.facts.hasLmHead ? { kind: 'logits', positions: [ids.length - 1] } : { kind: 'mean-hidden' },
            },
          );
          const d = maxDiff(rowOf(head, b, width), alone.head);
          assert.ok(d <= TOL, `row ${b} in the batch vs alone: ${d}`);
        }
        // What an export cannot give is refused with what is missing.
        await assert.rejects(
          imported.forward(batch, { read: { kind: 'none' }, norms: true }),
          lensError('UNSUPPORTED_MODEL', /safetensors; imported ONNX exports do not expose value vectors/),
        );
        if (!family.facts.hasLmHead)
          await assert.rejects(
            imported.forward(batch, { read: { kind: 'logits', positions: last } }),
            lensError('UNSUPPORTED_MODEL', /model\.onnx has no logits output .*language-model head/),
          );
        await assert.rejects(
          imported.forward(batch, { read: { kind: 'hidden', positions: [0, S, 0] } }),
          lensError('BAD_INPUT', /position/),
        );
      } finally {
        await imported.release();
        await family.release();
      }
    });
  }
});

test('encoder + decoder (attention_mask, encoder_attention_mask): each padded row equals the float64 reference', async () => {
  const w = encDecWeights(7);
  const dir = mkdtempSync(path.join(TMP, 'seq2seq-'));
  const layout = writeSeq2Seq(dir, encoderGraph(w), decoderGraph(w));
  const engine = await ImportEngine.create(layout, 'native', 1);
  try {
    assert.equal(engine.batched, true);
    const rows = [
      [2, 4, 5, 6, 7, 10, 8, 9, 3],
      [2, 4, 5, 6, 3],
      [2, 7, 8, 1, 9, 3],
    ];
    const S = 9;
    const batch: Batch = {
      ids: rows.map((r) => [...r, ...Array<number>(S - r.length).fill(0)]),
      mask: rows.map((r) => [...r.map(() => 1), ...Array<number>(S - r.length).fill(0)]),
    };
    const before = engine.stageRuns;
    const got = await engine.forward(batch, { read: { kind: 'mean-hidden' }, attention: true });
    assert.equal(engine.stageRuns - before, 7, 'encoder 2 pieces + decoder 5, once each for the batch');
    assert.equal(got.attention?.length, 5);
    let worst = 0;
    rows.forEach((ids, b) => {
      const ref = referenceAttention(w, ids); // [layer][H][Q][K] on the row alone
      got.attention!.forEach((a, l) => {
        const H = ref[l].length;
        for (let h = 0; h < H; h++)
          for (let q = 0; q < ids.length; q++)
            for (let k = 0; k < S; k++) {
              const value = a[((b * H + h) * S + q) * S + k];
              if (k >= ids.length) assert.equal(value, 0, `layer ${l} row ${b}: padded key ${k} is masked`);
              else worst = Math.max(worst, Math.abs(value - ref[l][h][q][k]));
            }
      });
    });
    assert.ok(worst <= TOL, `max |batched - reference| = ${worst}`);
    // The decoder's pooled hidden state of a padded row is the row's alone.
    const alone = await engine.forward(
      { ids: [rows[1]], mask: [rows[1].map(() => 1)] },
      { read: { kind: 'mean-hidden' } },
    );
    assert.ok(maxDiff(rowOf(got.head, 1, got.width), alone.head) <= TOL);
  } finally {
    await engine.release();
  }
});

test('a graph that fixes the batch to one row (BART-style [H,S,S] Reshape) runs a batch row by row', async () => {
  const dir = mkdtempSync(path.join(TMP, 'rank3-'));
  writeFileSync(path.join(dir, 'model.onnx'), patternGraph('rank3'));
  const engine = await ImportEngine.create({ model: path.join(dir, 'model.onnx'), dir }, 'native', 1);
  try {
    assert.equal(engine.streaming, true, engine.notStreamingWhy);
    assert.equal(engine.batched, false, 'the two-row probe cannot run, so rows go one by one');
    const batch: Batch = {
      ids: [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
        [9, 10, 1, 2],
      ],
      mask: [
        [1, 1, 1, 1],
        [1, 1, 1, 1],
        [1, 1, 1, 1],
      ],
    };
    const before = engine.stageRuns;
    const got = await engine.forward(batch, { read: { kind: 'mean-hidden' }, attention: true });
    assert.equal(engine.stageRuns - before, 3 * sum(engine.stageCounts));
    const H = engine.facts.heads;
    const E = got.width;
    for (let b = 0; b < 3; b++) {
      // The streaming run (another path: per-layer events, the hidden state [S,E]) on the row alone.
      const layers: Float32Array[] = [];
      const { lastHidden } = await engine.run(batch.ids[b], {
        withVectors: false,
        onLayer: (l) => layers.push(l.data),
      });
      const a = got.attention![0].subarray(b * H * 16, (b + 1) * H * 16); // [H,4,4] of row b
      assert.ok(maxDiff(a, layers[0]) <= TOL);
      const mean = new Float32Array(E);
      for (let s = 0; s < 4; s++) for (let e = 0; e < E; e++) mean[e] += lastHidden[s * E + e] / 4;
      assert.ok(maxDiff(rowOf(got.head, b, E), mean) <= TOL);
    }
    // No attention_mask input and bidirectional attention: padding would be attended to, so it is refused.
    await assert.rejects(
      engine.forward(
        {
          ids: batch.ids,
          mask: [
            [1, 1, 1, 1],
            [1, 1, 0, 0],
            [1, 1, 1, 1],
          ],
        },
        { read: { kind: 'none' } },
      ),
      lensError('UNSUPPORTED_MODEL', /takes no attention_mask input.*export it with attention_mask/),
    );
  } finally {
    await engine.release();
  }
});

/** Adds an If node (a subgraph: the split refuses it, so the graph runs in one piece) computing an extra output. */
function addIfNode(file: string): void {
  const model = decodeExact(readFileSync(file));
  const scalar = (name: string, dataType: number, raw: Uint8Array) => ({
    opType: 'Constant',
    input: [],
    output: [name],
    attribute: [{ name: 'value', type: AttrType.TENSOR, t: { dims: [], dataType, rawData: raw } }],
  });
  const branch = (v: number) => ({
    name: `branch_${v}`,
    node: [scalar(`branch_out_${v}`, DataType.FLOAT, new Uint8Array(Float32Array.of(v).buffer))],
    input: [],
    output: [{ name: `branch_out_${v}`, type: { tensorType: { elemType: DataType.FLOAT } } }],
    initializer: [],
  });
  model.graph!.node.push(scalar('lens_test_cond', DataType.BOOL, Uint8Array.of(1)), {
    opType: 'If',
    input: ['lens_test_cond'],
    output: ['lens_test_extra'],
    attribute: [
      { name: 'then_branch', type: AttrType.GRAPH, g: branch(1) } as never,
      { name: 'else_branch', type: AttrType.GRAPH, g: branch(2) } as never,
    ],
  });
  model.graph!.output.push({ name: 'lens_test_extra', type: { tensorType: { elemType: DataType.FLOAT } } });
  writeFileSync(file, encodeModel(model));
}

test('a graph that runs in one piece takes the batch in one call, with the family numbers', async () => {
  const { from, file, out, source } = await exported('tiny-gpt2', addIfNode);
  const { batch, lengths } = await paddedBatch(from);
  const imported = await ImportEngine.create({ model: file, dir: out }, 'native', 1);
  const family = await StageEngine.create(buildPlan(source), 'native', 1);
  try {
    assert.equal(imported.streaming, false);
    assert.equal(imported.batched, true);
    const read = { kind: 'logits', positions: lengths.map((n) => n - 1) } as const;
    const before = imported.stageRuns;
    const got = await imported.forward(batch, { read, attention: true });
    assert.equal(imported.stageRuns - before, 1);
    const want = await family.forward(batch, { read, attention: true });
    assert.ok(maxDiff(got.head, want.head) <= TOL);
    got.attention!.forEach((a, l) => assert.ok(maxDiff(a, want.attention![l]) <= TOL, `layer ${l}`));
  } finally {
    await imported.release();
    await family.release();
  }
});

describe('explanations on an imported export equal those on the folder model (through the worker)', () => {
  before(() => {
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
  });
  const options = (target: string, methods: string[]): ExplainOptions => ({
    target,
    methods,
    faithfulness: false,
    erasureSteps: 0,
    headStats: false,
  });

  async function both(name: TestModelName, options: ExplainOptions) {
    const { from, out } = await exported(name);
    const folder = await load(from, { workerPath: WORKER, backend: 'native', threads: 1 });
    const imported = await load(out, { workerPath: WORKER, backend: 'native', threads: 1 });
    try {
      assert.equal(imported.facts.family, 'onnx');
      return { folder: await explain(folder, TEXTS[0], options), imported: await explain(imported, TEXTS[0], options) };
    } finally {
      await folder.dispose();
      await imported.dispose();
    }
  }

  function sameScores(a: number[], b: number[], what: string): void {
    assert.equal(a.length, b.length);
    const d = Math.max(...a.map((x, i) => Math.abs(x - b[i])));
    assert.ok(d <= 1e-4, `${what}: max |imported - folder| = ${d}`);
  }

  test('stories260K, next token: LOO and occlusion equal; norm says why it cannot run', async () => {
    const { folder, imported } = await both('stories260K', options('next', ['loo', 'occlusion', 'norm']));
    assert.equal(imported.target.token?.id, folder.target.token?.id);
    assert.ok(Math.abs(imported.target.value - folder.target.value) <= 1e-4);
    for (const id of ['loo', 'occlusion']) {
      const a = imported.methods.find((m) => m.id === id)!;
      assert.equal(a.error, undefined, a.error);
      sameScores(a.scores, folder.methods.find((m) => m.id === id)!.scores, id);
    }
    assert.ok(imported.timings.rows > imported.timings.batches, 'the perturbed rows ran in batches');
    assert.equal(imported.methods.find((m) => m.id === 'norm')!.error, NORMS_REFUSED);
    assert.ok(folder.methods.find((m) => m.id === 'norm')!.scores.length > 0);
  });

  test('all-MiniLM-L6-v2, similarity: LOO equals', async () => {
    const { folder, imported } = await both('all-MiniLM-L6-v2', options('similarity:A girl played outside.', ['loo']));
    assert.ok(Math.abs(imported.target.value - folder.target.value) <= 1e-4);
    const loo = imported.methods.find((m) => m.id === 'loo')!;
    assert.equal(loo.error, undefined, loo.error);
    sameScores(loo.scores, folder.methods.find((m) => m.id === 'loo')!.scores, 'loo');
  });

  test('the CLI explains an .onnx file end to end', async () => {
    const { file } = await exported('stories260K');
    const r = spawnSync(
      process.execPath,
      [CLI, 'explain', '--model', file, '--text', TEXTS[0], '--target', 'next', '--methods', 'loo,norm'],
      { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\(onnx, model_type llama\)/);
    assert.match(r.stdout, /#\s+token\s+loo\s+uniform/);
    assert.match(r.stdout, /norm gave no scores: Norm-based attribution needs a model folder with safetensors/);
  });
});
