// What the panel's export offers for a run kept for long inputs (extension/export-kept.ts, vscode-free): the matrix
// (whole or a window) or the grid as images; one head, the heads' mean or a window as NPY [rows, cols] (its exact
// size) or CSV; the head view on the window the panel shows; refusals in one line for JSON, a head view window that
// is not square or too large, a layer not computed yet, a head or window outside the run. And the NPY's sidecar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keptHeadSidecar, planKeptExport, type KeptExportPlan } from '../../../extension/export-kept';

const run = (view = { view: 'matrix', layer: 3, head: 2 as number | 'mean' | 'max' }) => ({
  tokens: 8192,
  layers: 30,
  heads: 9,
  layersDone: 30,
  view,
});

const oneLine = (x: KeptExportPlan | string, re: RegExp) => {
  assert.equal(typeof x, 'string');
  assert.match(x as string, re);
  assert.ok(!(x as string).includes('\n'));
};

test('a kept run: the matrix of the panel’s layer and head, its NPY one head of 8,192² floats (256 MB) streamed', () => {
  const p = planKeptExport(run(), {}) as KeptExportPlan;
  assert.equal(p.view, 'matrix');
  assert.equal(p.layer, 3);
  assert.equal(p.head, 2);
  assert.equal(p.window, undefined);
  assert.equal(p.viewText, 'the matrix of layer 3, head 2');
  assert.deepEqual(p.data.rows, { start: 0, end: 8192 });
  assert.equal(p.data.npyBytes, 128 + 8192 * 8192 * 4); // the NPY header is 128 bytes for a 2-D shape this long
  assert.equal(p.data.values, 8192 * 8192);
  assert.equal(p.data.fileTag, 'L3-H2');
  assert.equal(p.data.text, 'layer 3, head 2: 8,192 × 8,192');
});

test('a window of the heads’ mean: the image shows it, the data holds its entries', () => {
  const window = { rows: { start: 4096, end: 4608 }, cols: { start: 0, end: 1024 } };
  const p = planKeptExport(run({ view: 'matrix', layer: 0, head: 'mean' }), { layer: 29, window }) as KeptExportPlan;
  assert.deepEqual(p.window, window);
  assert.equal(p.layer, 29);
  assert.equal(p.viewText, 'the matrix of layer 29, mean of heads (rows 4096–4607, columns 0–1023)');
  assert.equal(p.data.values, 512 * 1024);
  assert.equal(p.data.fileTag, 'L29-mean-r4096-4608-c0-1024');
});

test('the grid exports from the overviews; the neuron view exports the matrix', () => {
  assert.equal((planKeptExport(run({ view: 'grid', layer: 0, head: 0 }), {}) as KeptExportPlan).view, 'grid');
  assert.equal((planKeptExport(run({ view: 'neuron', layer: 0, head: 0 }), {}) as KeptExportPlan).view, 'matrix');
});

test('the head view exports the window the panel shows (±64 around the chosen token), its data that square', () => {
  const shown = { rows: { start: 4000, end: 4129 }, cols: { start: 4000, end: 4129 } };
  const p = planKeptExport({ ...run(), view: { view: 'head', layer: 7, head: 'mean', window: shown } }, {});
  assert.equal(typeof p, 'object');
  const plan = p as KeptExportPlan;
  assert.equal(plan.view, 'head');
  assert.deepEqual(plan.window, shown);
  assert.equal(plan.viewText, 'the head view of layer 7, mean of heads (tokens 4000–4128 of 8,192)');
  assert.equal(plan.data.values, 129 * 129);
  assert.equal(plan.data.fileTag, 'L7-mean-t4000-4129');
  // Asked for by name from another view: the first 129 tokens, or the window given.
  const first = planKeptExport(run(), { view: 'head' }) as KeptExportPlan;
  assert.deepEqual(first.window, { rows: { start: 0, end: 129 }, cols: { start: 0, end: 129 } });
  const given = { rows: { start: 10, end: 20 }, cols: { start: 10, end: 20 } };
  assert.deepEqual((planKeptExport(run(), { view: 'head', window: given }) as KeptExportPlan).window, given);
});

test('refusals, one line each', () => {
  oneLine(
    planKeptExport(run(), { format: 'json' }),
    /^JSON of a run of 8,192 tokens \(kept for long inputs\) would hold every map as text; export NPY or CSV of one head .*run --out FOLDER\/`/,
  );
  oneLine(
    planKeptExport(run(), { view: 'head', window: { rows: { start: 0, end: 10 }, cols: { start: 0, end: 20 } } }),
    /^The head view shows the same tokens on both sides: give a window whose rows and columns are equal/,
  );
  oneLine(
    planKeptExport(run(), { view: 'head', window: { rows: { start: 0, end: 2000 }, cols: { start: 0, end: 2000 } } }),
    /^The head view of a run of 8,192 tokens \(kept for long inputs\) draws at most 1,024 tokens a side \(asked 2,000\); export a smaller window, or the matrix\.$/,
  );
  oneLine(planKeptExport({ ...run(), layersDone: 3 }, { layer: 5 }), /^Layer 5 has not been computed yet \(3 of 30\)/);
  oneLine(planKeptExport(run(), { layer: 30 }), /^Layer 30 is outside the model's 30 layers\.$/);
  oneLine(planKeptExport(run(), { head: 9 }), /^Head 9 is outside the layer's 9 heads\.$/);
  oneLine(
    planKeptExport(run(), { window: { rows: { start: 8000, end: 8300 }, cols: { start: 0, end: 10 } } }),
    /^The window's rows 8000\.\.8300 must lie within the run's 8,192 tokens/,
  );
});

test('the NPY sidecar names the array, its layout and the tokens', () => {
  const p = planKeptExport(run(), { window: { rows: { start: 1, end: 3 }, cols: { start: 0, end: 2 } } });
  const side = JSON.parse(
    keptHeadSidecar('m.npy', p as KeptExportPlan, { name: 'm' }, [
      { text: 'a', start: 0, end: 1, special: false },
      { text: 'b', start: 1, end: 2, special: false },
    ]),
  ) as Record<string, unknown>;
  assert.equal(side.format, 'attention-lens-npy-head');
  assert.deepEqual(side.array, { file: 'm.npy', dtype: '<f4', shape: [2, 2], axes: ['query', 'key'] });
  assert.deepEqual(side.rows, { start: 1, end: 3 });
  assert.equal(side.layer, 3);
  assert.equal(side.head, 2);
});
