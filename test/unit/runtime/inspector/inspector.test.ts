// The inspector end to end through its real worker thread (dist/worker.js): stories260K on both backends against
// the independent reference attention in test/fixtures, text input with offsets, cancellation, queued runs,
// disposal, length limits, q/k vectors checked by recomputing softmax(q·kᵀ/√d + causal mask), and worker crashes.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { load } from '../../../../runtime/inspector/load-model';
import type { Inspector, LayerResult } from '../../../../runtime/inspector/api';
import { isLensError, type LensErrorCode } from '../../../../runtime/errors';
import { fixtureModel, repoRoot, storiesReferenceFile } from '../../../helpers/fixtures';

const ROOT = repoRoot;
const MODEL = fixtureModel('stories260K');
const WORKER = path.join(ROOT, 'dist/worker.js');

interface Reference {
  text: string;
  input_ids: number[];
  tokens: string[];
  tokens_decoded: string[];
  shape: [number, number, number, number];
  attn: number[][][][]; // [layer][head][query][key]
}

function reference(): Reference {
  return JSON.parse(readFileSync(storiesReferenceFile, 'utf8')) as Reference;
}

const isCode = (code: LensErrorCode) => (e: unknown) => {
  assert.ok(isLensError(e), `expected a LensError ${code}, got ${String(e)}`);
  assert.equal(e.code, code, e.message);
  return true;
};

async function collect(run: AsyncIterable<LayerResult>): Promise<LayerResult[]> {
  const layers: LayerResult[] = [];
  for await (const l of run) layers.push(l);
  return layers;
}

/** Max |a - b| against the reference for one layer ([heads, query, key] vs a nested list). */
function maxDiff(a: LayerResult, ref: number[][][], queries = a.queryLength): number {
  let worst = 0;
  const n = a.keyLength;
  for (let h = 0; h < a.heads; h++)
    for (let q = 0; q < queries; q++)
      for (let k = 0; k < n; k++)
        worst = Math.max(worst, Math.abs(a.data[(h * a.queryLength + q) * n + k] - ref[h][q][k]));
  return worst;
}

function checkRowsAndCausalZeros(a: LayerResult): void {
  const n = a.keyLength;
  for (let h = 0; h < a.heads; h++)
    for (let q = 0; q < a.queryLength; q++) {
      let sum = 0;
      for (let k = 0; k < n; k++) {
        const p = a.data[(h * a.queryLength + q) * n + k];
        sum += p;
        if (k > q) assert.equal(p, 0, `layer ${a.layer} head ${h}: [${q},${k}] above the diagonal must be exactly 0`);
      }
      assert.ok(Math.abs(sum - 1) <= 1e-5, `layer ${a.layer} head ${h} row ${q} sums to ${sum}`);
    }
}

before(() => {
  reference();
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
});

for (const backend of ['native', 'wasm'] as const) {
  describe(`stories260K on ${backend}`, () => {
    let inspector: Inspector;
    before(async () => {
      inspector = await load(MODEL, { backend, threads: 2, workerPath: WORKER });
    });

    test('reports the model facts and backend', () => {
      assert.equal(inspector.backend, backend);
      assert.equal(inspector.threads, 2);
      assert.equal(inspector.facts.family, 'llama');
      assert.equal(inspector.facts.layers, 5);
      assert.equal(inspector.facts.heads, 8);
      assert.equal(inspector.facts.kvHeads, 4);
      assert.equal(inspector.facts.name, 'stories260K');
      assert.deepEqual(inspector.facts.attentionKinds, Array(5).fill('causal'));
      assert.ok(inspector.loadMs > 0);
    });

    test('ids from the reference: every layer in order, equal to the reference ≤ 1e-5, rows sum to 1, causal zeros exact', async () => {
      const ref = reference();
      const run = inspector.run(ref.input_ids);
      const layers = await collect(run);
      assert.deepEqual(
        layers.map((l) => l.layer),
        [0, 1, 2, 3, 4],
      );
      for (const l of layers) {
        assert.equal(l.kind, 'causal');
        assert.equal(l.data.length, 8 * 17 * 17);
        assert.equal(l.q, undefined);
        const d = maxDiff(l, ref.attn[l.layer]);
        assert.ok(d <= 1e-5, `layer ${l.layer}: max diff ${d}`);
        checkRowsAndCausalZeros(l);
      }
      const t = run.timings();
      assert.ok(t && t.totalMs >= t.firstLayerMs && t.stageMs.length === 2);
      assert.equal(run.lastHidden()?.length, 17 * inspector.facts.hidden);
    });

    test('text input: the tokenizer’s tokens with offsets, and the reference attention', async () => {
      const ref = reference();
      const run = inspector.run(ref.text);
      assert.deepEqual(
        run.tokens.map((t) => t.id),
        ref.input_ids,
      );
      assert.deepEqual(
        run.tokens.map((t) => t.text),
        ref.tokens,
      );
      assert.equal(run.tokens[0].special, true);
      assert.equal(run.tokens[0].start, null);
      for (const [i, t] of run.tokens.entries()) {
        if (t.special) continue;
        assert.equal(ref.text.slice(t.start!, t.end!).trim(), ref.tokens_decoded[i], `token ${i} offsets`);
      }
      const layers = await collect(run);
      assert.equal(layers.length, 5);
      for (const l of layers) assert.ok(maxDiff(l, ref.attn[l.layer]) <= 1e-5);
    });

    test('withVectors: q/k sizes, and softmax(q·kᵀ/√d + causal mask) from them equals the attention', async () => {
      const ref = reference();
      const layers = await collect(inspector.run(ref.input_ids, { withVectors: true }));
      const { heads, headDim: d } = inspector.facts;
      const s = ref.input_ids.length;
      for (const l of layers) {
        assert.equal(l.q?.length, heads * s * d);
        assert.equal(l.k?.length, heads * s * d);
        let worst = 0;
        for (let h = 0; h < heads; h++)
          for (let i = 0; i < s; i++) {
            const logits: number[] = [];
            for (let j = 0; j <= i; j++) {
              let dot = 0;
              for (let c = 0; c < d; c++) dot += l.q![(h * s + i) * d + c] * l.k![(h * s + j) * d + c];
              logits.push(dot / Math.sqrt(d));
            }
            const m = Math.max(...logits);
            const e = logits.map((v) => Math.exp(v - m));
            const z = e.reduce((a, b) => a + b, 0);
            for (let j = 0; j < s; j++) {
              const want = j <= i ? e[j] / z : 0;
              worst = Math.max(worst, Math.abs(l.data[(h * s + i) * s + j] - want));
            }
          }
        assert.ok(worst <= 1e-5, `layer ${l.layer}: recomputed attention differs by ${worst}`);
      }
    });

    test('withVectors as a list inside a multi-layer stage: q/k for that layer only, every map still exact', async () => {
      const ref = reference();
      const layers = await collect(inspector.run(ref.input_ids, { withVectors: [2] }));
      assert.deepEqual(
        layers.map((l) => [l.layer, l.q !== undefined, l.k !== undefined]),
        [
          [0, false, false],
          [1, false, false],
          [2, true, true],
          [3, false, false],
          [4, false, false],
        ],
      );
      for (const l of layers) assert.ok(maxDiff(l, ref.attn[l.layer]) <= 1e-5, `layer ${l.layer}`);
    });

    test('abort after the first layer rejects with CANCELLED; the next run still works', async () => {
      const ref = reference();
      const ac = new AbortController();
      const run = inspector.run(ref.input_ids, { signal: ac.signal });
      const seen: number[] = [];
      await assert.rejects(async () => {
        for await (const l of run) {
          seen.push(l.layer);
          ac.abort();
        }
      }, isCode('CANCELLED'));
      assert.deepEqual(seen, [0]);
      const layers = await collect(inspector.run(ref.input_ids));
      assert.equal(layers.length, 5);
      assert.ok(maxDiff(layers[4], ref.attn[4]) <= 1e-5);
    });

    test('a run whose signal is already aborted rejects with CANCELLED', async () => {
      await assert.rejects(
        collect(inspector.run(reference().input_ids, { signal: AbortSignal.abort() })),
        isCode('CANCELLED'),
      );
    });

    test('runs started together are queued and each gets its own, correct layers', async () => {
      const ref = reference();
      const short = ref.input_ids.slice(0, 6);
      const [a, b] = await Promise.all([collect(inspector.run(ref.input_ids)), collect(inspector.run(short))]);
      assert.equal(a.length, 5);
      assert.equal(b.length, 5);
      assert.equal(b[0].queryLength, 6);
      // Causal: the first 6 queries of the full run equal the 6-token run.
      for (const l of b) assert.ok(maxDiff(l, ref.attn[l.layer]) <= 1e-5);
    });

    test('TOO_LONG names the token count and the limit; truncate cuts to the limit', async () => {
      const ref = reference();
      assert.throws(
        () => inspector.run(ref.text, { maxTokens: 5 }),
        (e: unknown) =>
          isCode('TOO_LONG')(e) &&
          /17/.test((e as Error).message) &&
          /\b5\b/.test((e as Error).message) &&
          /truncate/.test((e as Error).message),
      );
      const long = 'Once upon a time. '.repeat(200);
      assert.throws(
        () => inspector.run(long),
        (e: unknown) => isCode('TOO_LONG')(e) && /512/.test((e as Error).message),
      );
      const run = inspector.run(ref.text, { maxTokens: 5, truncate: true });
      assert.equal(run.tokens.length, 5);
      assert.equal(run.truncatedFrom, 17);
      const layers = await collect(run);
      // Causal attention over the first 5 tokens is the reference's top-left 5×5 block.
      for (const l of layers) assert.ok(maxDiff(l, ref.attn[l.layer]) <= 1e-5);
    });

    test('empty or whitespace-only text → EMPTY_TEXT; ids outside the vocabulary → BAD_INPUT', () => {
      assert.throws(() => inspector.run(''), isCode('EMPTY_TEXT'));
      assert.throws(() => inspector.run('  \n\t '), isCode('EMPTY_TEXT'));
      assert.throws(() => inspector.run([]), isCode('EMPTY_TEXT'));
      assert.throws(() => inspector.run([1, 512]), isCode('BAD_INPUT'));
    });

    test('dispose: a run in flight rejects, later calls fail with DISPOSED', async () => {
      const rejected = assert.rejects(collect(inspector.run(reference().input_ids)), isCode('DISPOSED'));
      await inspector.dispose();
      await rejected;
      assert.throws(() => inspector.run([1, 2, 3]), isCode('DISPOSED'));
      assert.throws(() => inspector.tokenize('hi'), isCode('DISPOSED'));
      await inspector.dispose(); // twice is fine
    });
  });
}

describe('loading', () => {
  test('an aborted load rejects with CANCELLED', async () => {
    const ac = new AbortController();
    const loading = load(MODEL, { workerPath: WORKER, signal: ac.signal });
    ac.abort();
    await assert.rejects(loading, isCode('CANCELLED'));
  });

  test('load errors keep their code across the thread boundary', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lens-'));
    try {
      await assert.rejects(load(dir, { workerPath: WORKER }), isCode('NO_CONFIG'));
      await assert.rejects(load(path.join(dir, 'missing'), { workerPath: WORKER }), isCode('MODEL_NOT_FOUND'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('progress events end with ready', async () => {
    const phases: string[] = [];
    const inspector = await load(MODEL, {
      workerPath: WORKER,
      backend: 'native',
      onProgress: (p) => phases.push(p.phase),
    });
    await inspector.dispose();
    assert.ok(phases.includes('creating-sessions'));
    assert.equal(phases.at(-1), 'ready');
  });

  test('a worker that dies mid-run rejects the pending run with a clear error, and later runs fail too', async () => {
    // A stand-in worker speaking the channel's envelopes (runtime/channel/envelope.ts): answers the load, then exits
    // on the first run request.
    const dir = mkdtempSync(path.join(tmpdir(), 'lens-worker-'));
    const fake = path.join(dir, 'worker.js');
    const facts = {
      family: 'llama',
      modelType: 'llama',
      layers: 5,
      heads: 8,
      kvHeads: 4,
      headDim: 8,
      hidden: 64,
      vocabSize: 512,
      maxPositions: 512,
      attentionKinds: [],
      hasLmHead: true,
    };
    writeFileSync(
      fake,
      `const { parentPort } = require('node:worker_threads');
       parentPort.on('message', (m) => {
         if (m.kind === 'request' && m.name === 'load') parentPort.postMessage({ kind: 'reply', id: m.id, payload: { facts: ${JSON.stringify(facts)}, backend: 'native', threads: 1, timings: { readMs: 0, planMs: 0, sessionsMs: 0 } } });
         if (m.kind === 'request' && m.name === 'run') process.exit(3);
       });`,
    );
    const inspector = await load(MODEL, { workerPath: fake });
    await assert.rejects(
      collect(inspector.run([1, 2, 3])),
      (e: unknown) => isCode('INFERENCE_FAILED')(e) && /worker/.test((e as Error).message),
    );
    assert.throws(() => inspector.run([1, 2]), isCode('INFERENCE_FAILED'));
    await inspector.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
});
