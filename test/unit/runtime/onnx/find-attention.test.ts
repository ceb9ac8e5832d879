// Finding attention in imported graphs of every export style, without running them: Softmax → Dropout/Cast/Where
// → MatMul(V), BART's [B·H,S,S] layout, topological (not file) order; and the clear errors: fused com.microsoft
// operators, no attention at all, a classifier's Softmax, merged decoders (layers inside If), graphs with cycles,
// and external data that is missing, truncated or points outside the model's folder.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { isLensError } from '../../../../runtime/errors';
import { encodeModel, ModelProto, type GraphMsg, type ModelMsg } from '../../../../runtime/formats/onnx-schema';
import { analyseGraph, indexGraph, parseOnnx, readOnnxFile } from '../../../../runtime/onnx/index';
import { decoderGraph, encDecWeights, patternGraph, type Pattern } from '../../../fixtures/onnx/synthetic';

const TMP = mkdtempSync(path.join(tmpdir(), 'lens-onnx-patterns-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

/** Decoded without default values, so encodeModel writes back exactly what the graph had. */
function decode(bytes: Uint8Array): ModelMsg {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, arrays: true, bytes: Uint8Array }) as ModelMsg;
}

function analyse(bytes: Uint8Array, label = 'model.onnx') {
  const { graph } = parseOnnx(bytes, label);
  return analyseGraph(indexGraph(graph, label), label, false);
}

function expectError(fn: () => unknown, code: string, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isLensError(e), `a LensError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.ok(!e.message.includes('\n'), 'one line');
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

for (const pattern of ['plain', 'dropout-cast-where', 'rank3'] as Pattern[]) {
  test(`${pattern}: the one attention Softmax is found`, () => {
    const found = analyse(patternGraph(pattern));
    assert.equal(found.taps.length, 1);
    assert.deepEqual(
      found.inputs.map((i) => [i.name, i.role]),
      [['input_ids', 'ids']],
    );
    assert.equal(found.hidden, 'last_hidden_state');
    assert.equal(found.vocabSize, 11);
  });
}

test('decoder: self and cross attention in topological order, even when the file lists nodes backwards', () => {
  const bytes = decoderGraph(encDecWeights(3));
  const ordered = analyse(bytes).taps.map((t) => t.tensor);
  assert.equal(ordered.length, 4);
  const model = decode(bytes);
  model.graph!.node.reverse();
  const shuffled = analyse(encodeModel(model)).taps.map((t) => t.tensor);
  assert.deepEqual(shuffled, ordered);
  const found = analyse(bytes);
  assert.deepEqual(
    found.inputs.map((i) => i.role),
    ['ids', 'encoder_mask', 'encoder_hidden'],
  );
});

test('a fused com.microsoft Attention operator: FUSED_ATTENTION naming it and how to export without fusion', () => {
  const model = decode(patternGraph('fused'));
  for (const n of model.graph!.node) if (n.opType === 'Attention') n.domain = 'com.microsoft';
  model.opsetImport!.push({ domain: 'com.microsoft', version: 1 });
  expectError(
    () => analyse(encodeModel(model), 'fused.onnx'),
    'FUSED_ATTENTION',
    /fused\.onnx/,
    /com\.microsoft\.Attention \(1 node\)/,
    /without attention fusion/,
  );
  for (const op of ['MultiHeadAttention', 'GroupQueryAttention']) {
    for (const n of model.graph!.node) if (n.domain === 'com.microsoft') n.opType = op;
    expectError(() => analyse(encodeModel(model)), 'FUSED_ATTENTION', new RegExp(`com\\.microsoft\\.${op}`));
  }
});

test('no Softmax at all, or only a classifier’s: FUSED_ATTENTION that says what was found', () => {
  expectError(() => analyse(patternGraph('no-softmax')), 'FUSED_ATTENTION', /no attention/i, /has no Softmax/);
  expectError(
    () => analyse(patternGraph('classifier-only')),
    'FUSED_ATTENTION',
    /1 Softmax node does not feed a MatMul/,
  );
});

test('a merged decoder (layers inside If branches) is refused with what to export instead', () => {
  const plain = decode(patternGraph('plain')).graph as GraphMsg;
  const branch: GraphMsg = { ...plain, name: 'branch', input: [] };
  const model: ModelMsg = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'merged',
      input: [...plain.input, { name: 'use_cache_branch', type: { tensorType: { elemType: 9, shape: { dim: [] } } } }],
      output: plain.output,
      initializer: [],
      node: [
        {
          opType: 'If',
          input: ['use_cache_branch'],
          output: ['last_hidden_state'],
          attribute: [
            { name: 'then_branch', type: 5, g: branch } as never,
            { name: 'else_branch', type: 5, g: branch } as never,
          ],
        },
      ],
    },
  };
  expectError(() => analyse(encodeModel(model)), 'FUSED_ATTENTION', /If\/Loop subgraphs/, /text-generation/);
});

test('a graph with a cycle is BAD_ONNX; random bytes are BAD_ONNX', () => {
  const model = decode(patternGraph('plain'));
  const nodes = model.graph!.node;
  nodes[1].input[0] = nodes[nodes.length - 1].output[0]; // feeds the last node's output back into the second
  expectError(() => analyse(encodeModel(model)), 'BAD_ONNX', /cycle/);
  expectError(() => analyse(new Uint8Array([0xff, 0xff, 0xff])), 'BAD_ONNX', /not a valid ONNX model/);
  expectError(() => analyse(new Uint8Array(0)), 'BAD_ONNX', /no graph/);
});

/** plain's embedding moved to external data at `location` (bytes written to `file` when given). */
function withExternal(dir: string, location: string, data?: Uint8Array, length?: number): string {
  const model = decode(patternGraph('plain'));
  const emb = model.graph!.initializer.find((t) => t.name === 'emb')!;
  const raw = emb.rawData!;
  emb.externalData = [
    { key: 'location', value: location },
    { key: 'offset', value: '0' },
    { key: 'length', value: String(length ?? raw.length) },
  ];
  emb.dataLocation = 1;
  delete emb.rawData;
  const file = path.join(dir, 'model.onnx');
  writeFileSync(file, encodeModel(model));
  if (data) writeFileSync(path.join(dir, location), data);
  return file;
}

test('external data: inlined when present; missing, truncated or outside the folder are clear errors', () => {
  const dir = mkdtempSync(path.join(TMP, 'ext-'));
  const emb = decode(patternGraph('plain')).graph!.initializer.find((t) => t.name === 'emb')!.rawData!;
  const ok = readOnnxFile(withExternal(dir, 'weights.bin', emb));
  const inlined = decode(ok.bytes).graph!.initializer.find((t) => t.name === 'emb')!;
  assert.deepEqual(Buffer.from(inlined.rawData!), Buffer.from(emb));
  assert.equal(inlined.dataLocation ?? 0, 0);
  assert.equal(inlined.externalData?.length ?? 0, 0);

  expectError(() => readOnnxFile(withExternal(dir, 'absent.bin')), 'NO_WEIGHTS', /absent\.bin/, /missing/);
  expectError(
    () => readOnnxFile(withExternal(dir, 'short.bin', emb.subarray(0, 10))),
    'CORRUPT_WEIGHTS',
    /short\.bin is truncated/,
  );
  for (const bad of ['../outside.bin', '/etc/passwd', 'sub/../../x.bin']) {
    expectError(() => readOnnxFile(withExternal(dir, bad)), 'BAD_ONNX', /not a file beside it/);
  }
});
