// Checks the float max-flow against networkx.maximum_flow_value on random graphs and a textbook graph, and attention
// flow against networkx on Abnar & Zuidema's layer graph (fixture: scripts/make-analysis-fixtures.py) and by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { FlowNetwork, flowScores } from '../../../../runtime/analysis/flow';
import { layersFromArrays, rolloutScores } from '../../../../runtime/analysis/rollout';
import { isLensError } from '../../../../runtime/errors';
import { fixturesDir } from '../../../helpers/fixtures';
import { computeImportance } from '../../../../runtime/analysis/registry';

interface Graph {
  nodes: number;
  edges: [number, number, number][];
  flows: [number, number, number][];
}
interface Stack {
  layers: number;
  heads: number;
  seq: number;
  causal: boolean;
  data: number[][];
  flowMean: number[][];
  flowMaxStart1: number[][] | null;
}
const fixture = JSON.parse(readFileSync(path.join(fixturesDir, 'analysis', 'flow.json'), 'utf8')) as {
  graphs: Graph[];
  stacks: Stack[];
};

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what} length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

test('max flow of the CLRS example network is 23', () => {
  const net = new FlowNetwork(6);
  const edges: [number, number, number][] = [
    [0, 1, 16],
    [0, 2, 13],
    [1, 3, 12],
    [2, 1, 4],
    [2, 4, 14],
    [3, 2, 9],
    [3, 5, 20],
    [4, 3, 7],
    [4, 5, 4],
  ];
  for (const [u, v, c] of edges) net.addEdge(u, v, c);
  assert.equal(net.maxFlow(0, 5), 23);
  assert.equal(net.maxFlow(0, 5), 23, 'a second call starts from zero flow again');
  assert.equal(net.maxFlow(5, 0), 0, 'no path back');
});

test('max flow matches networkx on random float-capacity graphs (every source/sink pair)', () => {
  for (const g of fixture.graphs) {
    const net = new FlowNetwork(g.nodes);
    for (const [u, v, c] of g.edges) net.addEdge(u, v, c);
    for (const [s, t, expected] of g.flows) {
      const got = net.maxFlow(s, t);
      assert.ok(Math.abs(got - expected) < 1e-9, `${g.nodes} nodes, ${s}→${t}: ${got} vs networkx ${expected}`);
    }
  }
});

test('one layer: the flow to input j is the single edge Ã[target, j]', () => {
  const layers = layersFromArrays([Float32Array.from([1, 0, 0.5, 0.5])], 1, 2);
  close(flowScores(layers, 0), [1, 0], 1e-12, 'target 0');
  close(flowScores(layers, 1), [0.25, 0.75], 1e-12, 'target 1');
});

test('two layers by hand: flow is bounded by capacities, rollout by products', () => {
  // Ã_0 = [[1, 0], [.5, .5]], Ã_1 = [[.5, .5], [0, 1]] (see the rollout test). From (2, 0): to (0, 0) along
  // (1, 0) carries min(.5, 1) = .5 and along (1, 1) min(.5, .5) = .5 → 1; to (0, 1) only via (1, 1): .5.
  const layers = layersFromArrays([Float32Array.from([1, 0, 1, 0]), Float32Array.from([0, 1, 0, 1])], 1, 2);
  close(flowScores(layers, 0), [1, 0.5], 1e-12, 'flow');
  close(rolloutScores(layers, 0), [0.75, 0.25], 1e-12, 'rollout');
  close(flowScores(layers, 0, { startLayer: 1 }), [0.5, 0.5], 1e-12, 'start layer 1');
});

test('random stacks match networkx on the layer graph (head mean; head max from layer 1)', () => {
  for (const s of fixture.stacks) {
    const layers = layersFromArrays(
      s.data.map((d) => Float32Array.from(d)),
      s.heads,
      s.seq,
      s.causal ? 'causal' : 'self',
    );
    for (let t = 0; t < s.seq; t++) {
      const what = `${s.layers}×${s.heads}×${s.seq} target ${t}`;
      const got = flowScores(layers, t);
      close(got, s.flowMean[t], 1e-8, `${what} mean`);
      if (s.causal)
        for (let j = t + 1; j < s.seq; j++) assert.equal(got[j], 0, `${what}: no flow from later token ${j}`);
      if (s.flowMaxStart1)
        close(flowScores(layers, t, { heads: 'max', startLayer: 1 }), s.flowMaxStart1[t], 1e-8, what);
    }
  }
});

test('the flow method renormalises per output node, as Abnar & Zuidema’s compute_flows does (networkx values)', async () => {
  for (const s of fixture.stacks) {
    const attention = layersFromArrays(
      s.data.map((d) => Float32Array.from(d)),
      s.heads,
      s.seq,
      s.causal ? 'causal' : 'self',
    );
    for (let t = 0; t < s.seq; t++) {
      // compute_flows: flow_values[u] /= flow_values[u].sum(), over the input nodes.
      const total = s.flowMean[t].reduce((a, b) => a + b, 0);
      const expected = s.flowMean[t].map((f) => f / total);
      const got = await computeImportance('flow', { seq: s.seq, target: t, attention });
      close(got, expected, 1e-8, `${s.layers}×${s.heads}×${s.seq} target ${t}`);
      close([got.reduce((a, b) => a + b, 0)], [1], 1e-12, 'sums to 1');
    }
  }
});

test('inputs above the size limit are refused with a TOO_LONG error that points to rollout', () => {
  const seq = 40;
  const layers = layersFromArrays(
    Array.from({ length: 30 }, () => new Float32Array(seq * seq).fill(1 / seq)),
    1,
    seq,
  );
  assert.throws(
    () => flowScores(layers, 0),
    (e: unknown) => isLensError(e) && e.code === 'TOO_LONG' && /rollout/.test(e.message),
  );
  assert.throws(() => flowScores(layers.slice(0, 2), 0, { maxLayerTokens: 79 }), /exceeds the limit of 79/);
  assert.equal(flowScores(layers.slice(0, 2), 0, { maxLayerTokens: 80 }).length, seq);
  assert.throws(() => flowScores(layers.slice(0, 2), seq), RangeError);
});
