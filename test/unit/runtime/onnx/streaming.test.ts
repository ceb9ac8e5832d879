// Imported ONNX graphs stream layer by layer: the family graphs of stories260K, tiny-gpt2 and all-MiniLM-L6-v2,
// exported WITHOUT attention outputs, are split into one stage per layer (plus one for the rest), and each layer is
// handed on when its own stage has run and no later one has — seen through the engine's count of stage runs at each
// layer event, not through timing. The streamed maps equal the builder's own attention outputs to 1e-6; a cancel
// after the first layer stops before the second stage; an encoder-decoder pair streams both graphs; and a graph the
// split cannot express (an If node) runs in one piece with the same numbers. Also the split's own bookkeeping on the
// real graphs: every tensor a stage imports is exported by exactly one earlier stage, initializers go where they
// are read.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { isLensError } from '../../../../runtime/errors';
import { AttrType, DataType, encodeModel, type GraphMsg } from '../../../../runtime/formats/onnx-schema';
import { buildPlan, readModel } from '../../../../runtime/models/read-model';
import { ImportEngine } from '../../../../runtime/onnx/import-engine';
import { partitionGraph } from '../../../../runtime/onnx/partition';
import { analyseFile } from '../../../../runtime/onnx/prepare';
import { loadTokenizer } from '../../../../runtime/tokenizers';
import type { LayerAttention } from '../../../../runtime/types';
import { decoderGraph, encDecWeights, encoderGraph, referenceAttention } from '../../../fixtures/onnx/synthetic';
import {
  builderAttention,
  decodeExact,
  exportOnnx,
  maxDiff,
  TEST_MODELS,
  testModelDir,
  writeSeq2Seq,
  type TestModelName,
} from '../../../helpers/onnx-export';

const TMP = mkdtempSync(path.join(tmpdir(), 'lens-onnx-stream-'));
const TEXT = 'Once upon a time, there was a little girl named Lily.';

after(() => rmSync(TMP, { recursive: true, force: true }));

/** The model exported without attention outputs into a fresh folder; returns the folder, source and ids of TEXT. */
async function exported(name: TestModelName, edit?: (file: string) => void) {
  const from = testModelDir(name);
  const source = await readModel(from);
  const out = mkdtempSync(path.join(TMP, `${name}-`));
  exportOnnx(source, from, out);
  edit?.(path.join(out, 'model.onnx'));
  const ids = (await loadTokenizer(from)).encode(TEXT).map((t) => t.id);
  return { out, source, ids };
}

interface Arrival {
  layer: LayerAttention;
  /** Stage sessions that had run, since the run began, when the layer arrived. */
  stagesRun: number;
}

async function runCounting(engine: ImportEngine, ids: number[]): Promise<{ arrivals: Arrival[]; stagesRun: number }> {
  const base = engine.stageRuns;
  const arrivals: Arrival[] = [];
  await engine.run(ids, {
    withVectors: false,
    onLayer: (layer) => arrivals.push({ layer, stagesRun: engine.stageRuns - base }),
  });
  return { arrivals, stagesRun: engine.stageRuns - base };
}

describe('family graphs exported without attention outputs stream one stage per layer', () => {
  for (const name of Object.keys(TEST_MODELS) as TestModelName[]) {
    test(`${name}: layer i arrives after stage i, before any later stage; maps equal the builder's to 1e-6`, async () => {
      const { out, source, ids } = await exported(name);
      const engine = await ImportEngine.create({ model: path.join(out, 'model.onnx'), dir: out }, 'native', 1);
      try {
        const layers = source.config.layers;
        assert.equal(engine.streaming, true, engine.notStreamingWhy);
        assert.deepEqual(engine.stageCounts, [layers + 1], 'one stage per layer and one for the rest');
        assert.equal(engine.stageRuns, 0, 'the probe at load does not count');
        const { arrivals, stagesRun } = await runCounting(engine, ids);
        assert.deepEqual(
          arrivals.map((a) => a.stagesRun),
          Array.from({ length: layers }, (_, i) => i + 1),
          'layer i is handed on when stages 0..i have run and no later one',
        );
        assert.equal(stagesRun, layers + 1, 'the last stage runs after the last layer is handed on');
        const expected = await builderAttention(source, ids);
        const kinds = buildPlan(source).facts.attentionKinds;
        arrivals.forEach(({ layer }, i) => {
          assert.equal(layer.layer, i);
          assert.equal(layer.kind, kinds[i]);
          assert.equal(layer.queryLength, ids.length);
          const d = maxDiff(layer.data, expected[i]);
          assert.ok(d <= 1e-6, `layer ${i}: max |streamed - builder| = ${d}`);
        });
        // A second run on another length streams the same way (the stage inputs are not fixed to the probe's).
        const again = await runCounting(engine, ids.slice(0, 4));
        assert.deepEqual(
          again.arrivals.map((a) => a.layer.queryLength),
          Array.from({ length: layers }, () => 4),
        );
        const expectedShort = await builderAttention(source, ids.slice(0, 4));
        again.arrivals.forEach(({ layer }, i) => assert.ok(maxDiff(layer.data, expectedShort[i]) <= 1e-6));
      } finally {
        await engine.release();
      }
    });
  }
});

test('a cancel seen after the first layer stops the run before the second stage', async () => {
  const { out, ids } = await exported('stories260K');
  const engine = await ImportEngine.create({ model: path.join(out, 'model.onnx'), dir: out }, 'native', 1);
  try {
    const got: number[] = [];
    await assert.rejects(
      engine.run(ids, {
        withVectors: false,
        isCancelled: () => got.length > 0,
        pause: async () => undefined,
        onLayer: (l) => got.push(l.layer),
      }),
      (e: unknown) => isLensError(e) && e.code === 'CANCELLED',
    );
    assert.deepEqual(got, [0]);
    assert.equal(engine.stageRuns, 1, 'only the first stage ran');
  } finally {
    await engine.release();
  }
});

test('encoder + decoder stream both graphs; every map equals the float64 reference', async () => {
  const w = encDecWeights(7);
  const dir = mkdtempSync(path.join(TMP, 'seq2seq-'));
  const layout = writeSeq2Seq(dir, encoderGraph(w), decoderGraph(w));
  const engine = await ImportEngine.create(layout, 'native', 1);
  try {
    assert.equal(engine.streaming, true, engine.notStreamingWhy);
    assert.deepEqual(engine.stageCounts, [2, 5], 'encoder: 1 layer + rest; decoder: 2 × (self, cross) + rest');
    const ids = [2, 4, 5, 6, 7, 10, 8, 9, 3];
    const { arrivals, stagesRun } = await runCounting(engine, ids);
    // The encoder's layer after its first stage; the decoder's after the encoder's two and its own first, second...
    assert.deepEqual(
      arrivals.map((a) => a.stagesRun),
      [1, 3, 4, 5, 6],
    );
    assert.equal(stagesRun, 7);
    assert.deepEqual(
      arrivals.map((a) => a.layer.kind),
      ['self', 'causal', 'cross', 'causal', 'cross'],
    );
    const ref = referenceAttention(w, ids);
    let worst = 0;
    arrivals.forEach(({ layer }, i) => {
      const S = ids.length;
      for (let h = 0; h < layer.heads; h++)
        for (let q = 0; q < S; q++)
          for (let k = 0; k < S; k++)
            worst = Math.max(worst, Math.abs(layer.data[(h * S + q) * S + k] - ref[i][h][q][k]));
    });
    assert.ok(worst <= 1e-5, `max |streamed - reference| = ${worst}`);
  } finally {
    await engine.release();
  }
});

/** Adds an If node (a subgraph, which the split refuses) computing an extra graph output. */
function addIfNode(file: string): void {
  const model = decodeExact(readFileSync(file));
  const branch = (value: number): GraphMsg => ({
    name: `branch_${value}`,
    node: [
      {
        opType: 'Constant',
        input: [],
        output: [`branch_out_${value}`],
        attribute: [
          {
            name: 'value',
            type: AttrType.TENSOR,
            t: { dims: [1], dataType: DataType.FLOAT, rawData: new Uint8Array(Float32Array.of(value).buffer) },
          },
        ],
      },
    ],
    input: [],
    output: [{ name: `branch_out_${value}`, type: { tensorType: { elemType: DataType.FLOAT } } }],
    initializer: [],
  });
  const g = model.graph!;
  g.node.push(
    {
      opType: 'Constant',
      input: [],
      output: ['lens_test_cond'],
      attribute: [
        {
          name: 'value',
          type: AttrType.TENSOR,
          t: { dims: [], dataType: DataType.BOOL, rawData: Uint8Array.of(1) },
        },
      ],
    },
    {
      opType: 'If',
      input: ['lens_test_cond'],
      output: ['lens_test_extra'],
      attribute: [
        { name: 'then_branch', type: AttrType.GRAPH, g: branch(1) } as never,
        { name: 'else_branch', type: AttrType.GRAPH, g: branch(2) } as never,
      ],
    },
  );
  g.output.push({ name: 'lens_test_extra', type: { tensorType: { elemType: DataType.FLOAT } } });
  writeFileSync(file, encodeModel(model));
}

test('a graph the split cannot express (an If node) runs in one piece, with the same numbers', async () => {
  const { out, source, ids } = await exported('tiny-gpt2', addIfNode);
  const engine = await ImportEngine.create({ model: path.join(out, 'model.onnx'), dir: out }, 'native', 1);
  try {
    assert.equal(engine.streaming, false);
    assert.match(engine.notStreamingWhy ?? '', /If\) has a subgraph/);
    assert.deepEqual(engine.stageCounts, [1]);
    const { arrivals, stagesRun } = await runCounting(engine, ids);
    assert.equal(stagesRun, 1);
    assert.deepEqual(
      arrivals.map((a) => a.stagesRun),
      [1, 1],
      'every layer arrives after the single run',
    );
    const expected = await builderAttention(source, ids);
    arrivals.forEach(({ layer }, i) => assert.ok(maxDiff(layer.data, expected[i]) <= 1e-6, `layer ${i}`));
  } finally {
    await engine.release();
  }
});

test('the split of the real graphs: imports come from exactly one earlier stage, initializers where they are read', async () => {
  for (const name of Object.keys(TEST_MODELS) as TestModelName[]) {
    const { out } = await exported(name);
    const a = analyseFile(path.join(out, 'model.onnx'), true);
    const specs = partitionGraph(a.index, a.found.taps, a.found.hidden, name);
    assert.equal(specs.length, a.found.taps.length + 1, name);
    const owner = new Map<number, number>();
    specs.forEach((spec, s) => {
      if (s < a.found.taps.length) {
        assert.deepEqual(spec.taps, [s]);
        assert.ok(spec.nodes.includes(a.found.taps[s].node), `${name}: stage ${s} holds its Softmax`);
      }
      for (const i of spec.nodes) {
        const computed = (a.index.nodes[i].output ?? []).some((o) => o && !a.index.constants.has(o));
        if (!computed) continue; // constant nodes are copied where needed
        assert.ok(!owner.has(i), `${name}: node ${i} is computed by one stage only`);
        owner.set(i, s);
      }
      const read = new Set(spec.nodes.flatMap((i) => a.index.nodes[i].input ?? []));
      assert.deepEqual(
        [...spec.initializers].sort(),
        [...read].filter((x) => a.index.initializerDims.has(x)).sort(),
        `${name}: stage ${s} carries exactly the initializers its nodes read`,
      );
    });
    specs.forEach((spec, s) => {
      for (const x of spec.imports) {
        const from = specs.flatMap((other, t) => (other.exports.includes(x) ? [t] : []));
        assert.equal(from.length, 1, `${name}: ${x} is exported once`);
        assert.ok(from[0] < s, `${name}: ${x} comes from an earlier stage`);
        assert.equal(owner.get(a.index.producer.get(x)!), from[0], `${name}: its producer is in that stage`);
      }
    });
    assert.ok(specs[specs.length - 1].hidden, `${name}: the last stage computes the hidden state`);
  }
});
