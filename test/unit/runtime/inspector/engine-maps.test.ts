// The maps path of StageEngine.run on a real family model (stories260K, grouped-query Llama 2, its k/v repeated per
// query head in the graph): each map equals the independent numpy reference and owns its whole buffer (it is
// transferred to the calling thread as is); the maps' non-finite scan runs only when the stage's hidden_out is not
// finite (Stage.mapsReachHidden), which must still stop a run whose attention overflows, naming the layer and head,
// on both backends. A kept run (the summaries variant) scans its q, k and summaries only when hidden_out is not
// finite either, and must stop on the same overflow, naming the layer and output.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StageEngine } from '../../../../runtime/inspector/engine';
import { buildPlan, readModel } from '../../../../runtime/models/read-model';
import type { LayerAttention } from '../../../../runtime/types';
import { isLensError } from '../../../../runtime/errors';
import { fixtureModel, storiesReferenceFile } from '../../../helpers/fixtures';
import { overflowAttention } from '../../../helpers/broken-models';

interface Reference {
  input_ids: number[];
  /** [layer][head][query][key] */
  attn: number[][][][];
}
const ref = JSON.parse(fs.readFileSync(storiesReferenceFile, 'utf8')) as Reference;
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-engine-maps-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

async function runMaps(dir: string, backend: 'native' | 'wasm'): Promise<LayerAttention[]> {
  const plan = buildPlan(await readModel(dir));
  for (const s of plan.stages) if (s.role === 'layer') assert.equal(s.mapsReachHidden, true);
  const engine = await StageEngine.create(plan, backend, 1);
  try {
    const layers: LayerAttention[] = [];
    await engine.run(ref.input_ids, { withVectors: false, onLayer: (a) => layers.push(a) });
    return layers;
  } finally {
    await engine.release();
  }
}

for (const backend of ['native', 'wasm'] as const) {
  test(`the engine's maps equal reference_attention.json and each owns its buffer (${backend})`, async () => {
    const layers = await runMaps(fixtureModel('stories260K'), backend);
    assert.equal(layers.length, ref.attn.length);
    const buffers = new Set<ArrayBufferLike>();
    for (const a of layers) {
      const want = ref.attn[a.layer].flat(2); // [heads, query, key]
      assert.equal(a.data.length, want.length);
      let diff = 0;
      for (let i = 0; i < want.length; i++) diff = Math.max(diff, Math.abs(a.data[i] - want[i]));
      assert.ok(diff <= 1e-5, `layer ${a.layer}: max diff ${diff}`);
      assert.equal(a.data.byteOffset, 0);
      assert.equal(a.data.byteLength, a.data.buffer.byteLength, 'the map owns its whole buffer (transferable)');
      buffers.add(a.data.buffer);
    }
    assert.equal(buffers.size, layers.length, 'every layer has its own buffer');
  });

  test(`attention that overflows still stops the run, naming layer 1, head 0 (${backend})`, async () => {
    const dir = path.join(TMP, `overflow-${backend}`);
    fs.mkdirSync(dir);
    for (const f of ['config.json', 'model.safetensors'])
      fs.copyFileSync(path.join(fixtureModel('stories260K'), f), path.join(dir, f));
    overflowAttention(dir);
    await assert.rejects(runMaps(dir, backend), (e) => {
      assert.ok(isLensError(e) && e.code === 'NON_FINITE', String(e));
      assert.match(e.message, /^Layer 1, head 0 gave NaN attention/);
      return true;
    });
  });
}

test('a kept run on attention that overflows stops too, naming layer 1 and its first non-finite output', async () => {
  const dir = path.join(TMP, 'overflow-kept');
  fs.mkdirSync(dir);
  for (const f of ['config.json', 'model.safetensors'])
    fs.copyFileSync(path.join(fixtureModel('stories260K'), f), path.join(dir, f));
  overflowAttention(dir);
  const engine = await StageEngine.create(buildPlan(await readModel(dir)), 'native', 1);
  const layers: number[] = [];
  try {
    await assert.rejects(
      engine.run(ref.input_ids, {
        withVectors: false,
        onLayer: () => assert.fail('a kept run streams no maps'),
        summaries: { topK: 4, specials: [0], onSummaries: (t) => layers.push(t.layer) },
      }),
      (e) => {
        assert.ok(isLensError(e) && e.code === 'NON_FINITE', String(e));
        // q and k are finite (scaled by 1e30); their product overflows, so the softmax's weights are NaN.
        assert.match(e.message, /^The model's layer 1's top_weights(_1)? hold NaN/);
        return true;
      },
    );
    assert.deepEqual(layers, [0], 'layer 0 was kept, layer 1 stopped the run before anyone saw it');
  } finally {
    await engine.release();
  }
});
