// Streaming one attention array to a file by blocks of rows (writers/attention-stream.ts) and drawing the exported
// figure of a kept run (writers/kept-export-maps.ts), on stories260K through the real inference worker: the same
// 300-token input run dense (every map) and kept (q and k only, long: 'kept'). The NPY of a head, a window, the
// heads' mean and a whole layer written from the kept run's exact windows equals the dense map to 1e-5, in blocks
// no larger than asked; the CSV's weights equal it too; a kept matrix's exported scene (whole and zoomed) is the
// scene the same figure draws from the dense maps; the exported head view of the panel's ±64 window draws the dense
// map's weights (≤ 1e-5) between those tokens.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { load } from '../../../runtime/inspector/load-model';
import type { Inspector, LayerResult } from '../../../runtime/inspector/api';
import { denseRows, keptRows, writeCsvStream, writeNpyStream, type RowSource } from '../../../writers/attention-stream';
import { KeptExportMaps } from '../../../writers/kept-export-maps';
import { MemoryRunMaps } from '../../../figures/run-maps';
import { viewFigure, type ViewSpec } from '../../../figures/view-figure';
import { KEPT_VIEW_WINDOW, windowAround } from '../../../figures/head-figure';
import { fixtureModel, repoRoot } from '../../helpers/fixtures';
import { mulberry32 } from '../../../runtime/random';
import { parseNpy } from '../../helpers/parse-exports';

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

/** Collects a writer's chunks. */
function memorySink() {
  const chunks: Uint8Array[] = [];
  return {
    sink: { write: (c: Uint8Array) => void chunks.push(c.slice()) },
    bytes: () => Buffer.concat(chunks),
  };
}

/** Counts the rows asked of a source per call. */
function counted(source: RowSource): { source: RowSource; largest: () => number } {
  let largest = 0;
  return {
    source: {
      ...source,
      rows: (h, s, e) => {
        largest = Math.max(largest, e - s);
        return source.rows(h, s, e);
      },
    },
    largest: () => largest,
  };
}

/** Largest difference between two scenes' numbers (same structure asserted). */
function sceneDiff(a: unknown, b: unknown, where = 'scene'): number {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b);
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b))
    return sceneDiff(Array.from(a as Uint8Array), Array.from(b as Uint8Array), where);
  if (Array.isArray(a) && Array.isArray(b)) {
    assert.equal(a.length, b.length, `${where}: length`);
    return a.reduce((m: number, x, i) => Math.max(m, sceneDiff(x, b[i], `${where}[${i}]`)), 0);
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    assert.deepEqual(ka, Object.keys(b).sort(), `${where}: keys`);
    return ka.reduce(
      (m, k) =>
        Math.max(m, sceneDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${where}.${k}`)),
      0,
    );
  }
  assert.equal(a, b, where);
  return 0;
}

describe('stories260K: a kept run streamed to files and drawn for export', () => {
  let inspector: Inspector;
  let dense: LayerResult[];
  let kept: NonNullable<ReturnType<Inspector['run']>['kept']>;
  const input = ids(N, 21);

  before(async () => {
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'pipe' });
    inspector = await load(fixtureModel('stories260K'), {
      backend: 'native',
      threads: 2,
      workerPath: path.join(repoRoot, 'dist/worker.js'),
    });
    dense = await collect(inspector.run(input));
    const run = inspector.run(input, { long: 'kept' });
    await collect(run);
    kept = run.kept!;
  });
  after(async () => {
    await inspector.dispose();
  });

  const at = (l: number, h: number, i: number, j: number) => dense[l].data[(h * N + i) * N + j];

  test('NPY of one head, a window, the mean of the heads and a whole layer equal the dense maps, in blocks of rows', async () => {
    const { heads } = inspector.facts;
    let worst = 0;
    // One head, squeezed to [query, key], in blocks of 37 rows.
    const head = counted(keptRows(kept, { layer: 2, heads, length: N, head: 5 }));
    const a = memorySink();
    await writeNpyStream(head.source, a.sink, { squeeze: true, blockRows: 37 });
    const one = parseNpy(a.bytes());
    assert.deepEqual(one.shape, [N, N]);
    assert.equal(head.largest(), 37);
    for (let i = 0; i < N; i++)
      for (let j = 0; j < N; j++) worst = Math.max(worst, Math.abs(one.data[i * N + j] - at(2, 5, i, j)));
    // A window of head 1, layer 4.
    const rows = { start: 250, end: 300 };
    const cols = { start: 10, end: 200 };
    const b = memorySink();
    await writeNpyStream(keptRows(kept, { layer: 4, heads, length: N, head: 1, rows, cols }), b.sink, {
      squeeze: true,
      blockRows: 16,
    });
    const win = parseNpy(b.bytes());
    assert.deepEqual(win.shape, [50, 190]);
    for (let i = 0; i < 50; i++)
      for (let j = 0; j < 190; j++)
        worst = Math.max(worst, Math.abs(win.data[i * 190 + j] - at(4, 1, 250 + i, 10 + j)));
    // The mean of the heads of layer 0.
    const c = memorySink();
    await writeNpyStream(keptRows(kept, { layer: 0, heads, length: N, head: 'mean' }), c.sink, { squeeze: true });
    const mean = parseNpy(c.bytes());
    for (const [i, j] of [
      [0, 0],
      [150, 20],
      [299, 299],
      [299, 0],
    ]) {
      let m = 0;
      for (let h = 0; h < heads; h++) m += at(0, h, i, j) / heads;
      worst = Math.max(worst, Math.abs(mean.data[i * N + j] - m));
    }
    // A whole layer [heads, query, key], as the CLI's run --out FOLDER/ writes it; and a dense layer the same way.
    const d = memorySink();
    await writeNpyStream(keptRows(kept, { layer: 3, heads, length: N }), d.sink, { blockRows: 64 });
    const layer = parseNpy(d.bytes());
    assert.deepEqual(layer.shape, [heads, N, N]);
    for (let x = 0; x < layer.data.length; x++) worst = Math.max(worst, Math.abs(layer.data[x] - dense[3].data[x]));
    const e = memorySink();
    await writeNpyStream(denseRows(dense[3]), e.sink);
    assert.deepEqual(parseNpy(e.bytes()).data, dense[3].data);
    assert.ok(worst <= 1e-5, `largest difference from the dense maps: ${worst}`);
  });

  test('CSV of a window: one line per entry, its weight equal to the dense map, token texts beside it', async () => {
    const rows = { start: 290, end: 300 };
    const cols = { start: 0, end: 300 };
    const s = memorySink();
    await writeCsvStream(
      keptRows(kept, { layer: 1, heads: inspector.facts.heads, length: N, head: 7, rows, cols }),
      {
        layer: 1,
        headNames: [7],
        queryTexts: Array.from({ length: 10 }, (_, i) => `q${290 + i}`),
        keyTexts: Array.from({ length: 300 }, (_, j) => `k${j}`),
        rowOffset: 290,
      },
      s.sink,
      { blockRows: 3 },
    );
    const lines = s.bytes().toString('utf8').trimEnd().split('\n');
    assert.equal(lines[0], 'layer,head,query,key,weight,query_token,key_token');
    assert.equal(lines.length, 1 + 10 * 300);
    let worst = 0;
    for (const line of lines.slice(1)) {
      const [l, h, q, k, w, qt, kt] = line.split(',');
      assert.equal(l, '1');
      assert.equal(h, '7');
      assert.equal(qt, `q${q}`);
      assert.equal(kt, `k${k}`);
      worst = Math.max(worst, Math.abs(Number(w) - at(1, 7, Number(q), Number(k))));
    }
    assert.ok(worst <= 1e-5, `largest difference: ${worst}`);
  });

  test('the exported matrix of a kept run (whole, and a zoomed window) is the scene drawn from the dense maps', async () => {
    const tokens = input.map((id) => ({ text: `t${id}` }));
    const facts = inspector.facts;
    const memory = new MemoryRunMaps(facts.name, tokens, facts.layers, facts.heads, facts.slidingWindows ?? []);
    for (const l of dense) memory.add(l);
    const settled = new KeptExportMaps(facts, facts.name, tokens, kept);
    for (const spec of [
      { view: 'matrix', layer: 2, head: 3, colorMap: 'viridis' },
      {
        view: 'matrix',
        layer: 4,
        head: 'mean',
        colorMap: 'viridis',
        window: { rows: { start: 200, end: 300 }, cols: { start: 100, end: 300 } },
      },
      { view: 'grid', layer: 0, head: 0, colorMap: 'viridis' },
    ] as ViewSpec[]) {
      const fromKept = await settled.settle(() => viewFigure(settled.maps, spec, 'svg', 1, 'a story'));
      const fromDense = viewFigure(memory, spec, 'svg', 1, 'a story');
      // Colours are bytes: exact values within 1e-5 may round a channel by one.
      const diff = sceneDiff(fromKept.scene, fromDense.scene);
      assert.ok(diff <= 1, `${spec.view} ${JSON.stringify(spec.window ?? 'whole')}: scenes differ by ${diff}`);
    }
  });

  test('the exported head view of a kept run draws the panel’s ±64 window: its lines are the dense map’s weights', async () => {
    const tokens = input.map((id) => ({ text: `t${id}` }));
    const facts = inspector.facts;
    const memory = new MemoryRunMaps(facts.name, tokens, facts.layers, facts.heads, facts.slidingWindows ?? []);
    for (const l of dense) memory.add(l);
    const settled = new KeptExportMaps(facts, facts.name, tokens, kept);
    // The window the panel's head view shows around token 150 (webview/views/head.ts): tokens 86–214.
    const win = windowAround(150, N, KEPT_VIEW_WINDOW);
    assert.deepEqual(win, { start: 86, end: 215 });
    for (const head of [3, 'mean'] as const) {
      const spec: ViewSpec = { view: 'head', layer: 1, head, colorMap: 'viridis', window: { rows: win, cols: win } };
      const fromKept = await settled.settle(() => viewFigure(settled.maps, spec, 'png', 2, 'a story'));
      const fromDense = viewFigure(memory, spec, 'png', 2, 'a story');
      // The title says which tokens are shown, as the panel's note does.
      assert.match(fromKept.scene.title ?? '', / · tokens 86–214 of 300$/);
      assert.equal(fromKept.scene.width, fromDense.scene.width);
      assert.equal(fromKept.scene.height, fromDense.scene.height);
      const lines = (sc: typeof fromKept.scene) =>
        sc.items.filter((i) => i.kind === 'line' && i.role === 'link') as Extract<
          (typeof sc.items)[number],
          { kind: 'line' }
        >[];
      const got = lines(fromKept.scene);
      const want = lines(fromDense.scene);
      assert.ok(got.length > 100, `${head}: ${got.length} lines`);
      const keyOf = (l: (typeof got)[number]) =>
        `${l.attrs!['data-head']}:${l.attrs!['data-query']}:${l.attrs!['data-key']}`;
      assert.deepEqual(got.map(keyOf).sort(), want.map(keyOf).sort(), `${head}: the same lines`);
      let worst = 0;
      for (const l of got) {
        const [h, q, k] = ['data-head', 'data-query', 'data-key'].map((a) => Number(l.attrs![a]));
        assert.ok(q >= win.start && q < win.end && k >= win.start && k < win.end, `line ${q}→${k} inside the window`);
        // Every head's line for 'mean' (its colour per head), the one head's otherwise: the dense map's entry.
        worst = Math.max(worst, Math.abs(l.opacity! - Math.min(1, at(1, h, q, k))));
      }
      assert.ok(worst <= 1e-5, `${head}: largest difference ${worst}`);
      assert.ok(sceneDiff(fromKept.scene, fromDense.scene) <= 1e-5, `${head}: the scenes differ`);
    }
  });
});
