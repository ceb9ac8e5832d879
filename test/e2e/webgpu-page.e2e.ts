// WebGPU in a page: the panel's in-browser inference path (webview/inference/, dist/webview-inference.js) in Debian's
// headless chromium, whose WebGPU adapter here is SwiftShader (software Vulkan). Golden values: the native backend's
// attention (onnxruntime-node, computed in this process's worker thread) and, for stories260K, the independent numpy
// forward pass in test/fixtures/models/stories260K/reference_attention.json; for the hf-tiny gemma2 and gemma3 (windows,
// soft-capping, q/k norms, two RoPE tables), transformers' own attention. Also the fallbacks: device lost before and
// during a run, a model that does not fit the adapter's limits, and a browser without an adapter. The page runs under
// the panel's Content-Security-Policy for in-webview inference (no 'unsafe-eval'). Continue in the page's worker (its
// `generate`, on WebGPU and on Wasm): stories260K's tokens are the plain-loops reference's greedy decode and each
// token's rows the last row of the native full run on its prefix.
//   node scripts/build.mjs && npx tsx test/e2e/webgpu-page.e2e.ts
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { log, type E2ETest } from '../helpers/code-server';
import { runIfMain } from './common';
import {
  checkModel,
  FAMILY_MODELS,
  idsOf,
  maxAbsDiff,
  MODELS,
  nativeAttention,
  openWebGpuPage,
  type TestModel,
  type WebGpuPage,
} from '../helpers/webgpu-page';
import type { PageRun } from '../helpers/webgpu-page-script';
import { naiveForward } from '../reference/naive-forward';
import { argmax } from '../../runtime/generate/sampling';

const TOLERANCE = 1e-4;
const stories = MODELS[0];

/** Opens a page, runs `fn`, always closes it (console errors are printed when `fn` fails). */
async function withPage(webgpu: boolean, fn: (p: WebGpuPage) => Promise<void>): Promise<void> {
  const p = await openWebGpuPage({ webgpu });
  try {
    await fn(p);
  } catch (e) {
    if (p.logs.length) log(`page logs:\n  ${p.logs.slice(-20).join('\n  ')}`);
    throw e;
  } finally {
    await p.close();
  }
}

/** Every layer exactly once, in order, and equal to native within the tolerance. */
function assertMatchesNative(run: PageRun, native: Float32Array[], what: string): number {
  assert.equal(run.error, undefined, `${what}: run failed: ${JSON.stringify(run.error)}`);
  assert.deepEqual(
    run.layers.map((l) => l.layer),
    native.map((_, i) => i),
    `${what}: layers posted once each, in order`,
  );
  const diff = maxAbsDiff(run.layers, native);
  assert.ok(diff <= TOLERANCE, `${what}: max |webgpu - native| = ${diff} > ${TOLERANCE}`);
  return diff;
}

function modelTest(m: TestModel): E2ETest {
  return {
    name: `${m.name} on WebGPU equals the native backend to ≤ ${TOLERANCE}`,
    timeoutMs: 300_000,
    fn: async () => {
      checkModel(m);
      const ids = await idsOf(m);
      const native = await nativeAttention(m, ids);
      await withPage(true, async (p) => {
        const loaded = await p.load(m);
        assert.ok(loaded.ok, `load failed: ${JSON.stringify(loaded)}`);
        assert.equal(loaded.backend, 'webgpu', `ran on ${loaded.backend}: ${loaded.note}`);
        assert.match(loaded.adapter ?? '', /swiftshader/i, 'the adapter here is SwiftShader');
        const run = await p.run(ids);
        assert.deepEqual(run.fallbacks, [], 'no fallback');
        const diff = assertMatchesNative(run, native, m.name);
        log(
          `${m.name}: ${ids.length} tokens, ${run.layers.length} layers, max diff vs native ${diff.toExponential(2)}`,
        );
        if (FAMILY_MODELS.includes(m)) {
          const ref = JSON.parse(readFileSync(join(m.dir, 'reference_attention.json'), 'utf8')) as {
            input_ids: number[];
            attentions: number[][][][];
          };
          assert.deepEqual(ids, ref.input_ids, 'the tokenizer gives the reference ids');
          const refDiff = maxAbsDiff(
            run.layers,
            ref.attentions.map((layer) => layer.flat(2)),
          );
          assert.ok(refDiff <= TOLERANCE, `max |webgpu - transformers| = ${refDiff}`);
          log(`${m.name}: max diff vs transformers ${refDiff.toExponential(2)}`);
        }
        if (m.name === 'stories260K') {
          const ref = JSON.parse(readFileSync(join(m.dir, 'reference_attention.json'), 'utf8')) as {
            input_ids: number[];
            attn: number[][][][];
          };
          assert.deepEqual(ids, ref.input_ids, 'the tokenizer gives the reference ids');
          const refLayers = ref.attn.map((layer) => layer.flat(2));
          const refDiff = maxAbsDiff(run.layers, refLayers);
          assert.ok(refDiff <= TOLERANCE, `max |webgpu - numpy reference| = ${refDiff}`);
          log(`stories260K: max diff vs the numpy reference ${refDiff.toExponential(2)}`);
        }
      });
    },
  };
}

/** Continue in the page's worker (its `generate`, the panel's Continue): stories260K's greedy tokens equal the
 * plain-loops reference's, and each token's rows the last row of the native full run on its prefix. */
function generateTest(webgpu: boolean): E2ETest {
  const tolerance = webgpu ? TOLERANCE : 1e-5;
  return {
    name: `Continue on ${webgpu ? 'WebGPU' : 'Wasm'} in the page: the reference greedy tokens, rows ≤ ${tolerance}`,
    timeoutMs: 240_000,
    fn: async () => {
      checkModel(stories);
      const prompt = await idsOf(stories);
      const maxNew = 8;
      const ids = [...prompt];
      for (let i = 0; i < maxNew; i++) {
        const r = naiveForward(stories.dir, ids);
        const V = r.logits!.length / ids.length;
        ids.push(argmax(r.logits!.subarray((ids.length - 1) * V)));
      }
      await withPage(webgpu, async (p) => {
        const loaded = await p.load(stories);
        assert.ok(loaded.ok && loaded.backend === (webgpu ? 'webgpu' : 'wasm'), JSON.stringify(loaded));
        const gen = await p.generate(prompt, maxNew);
        assert.equal(gen.error, undefined, JSON.stringify(gen.error));
        assert.equal(gen.end, 'length');
        assert.deepEqual(
          gen.tokens.map((t) => t.id),
          ids.slice(prompt.length),
          'the reference greedy tokens',
        );
        let worst = 0;
        for (const t of [gen.tokens[0], gen.tokens[maxNew - 1]]) {
          const S = t.position + 1;
          const native = await nativeAttention(stories, ids.slice(0, S)); // [H,S,S] per layer
          t.rows.forEach((row, l) => {
            const H = row.length / S;
            for (let h = 0; h < H; h++)
              for (let k = 0; k < S; k++)
                worst = Math.max(worst, Math.abs(row[h * S + k] - native[l][(h * S + S - 1) * S + k]));
          });
        }
        assert.ok(worst <= tolerance, `max |row - native last row| = ${worst}`);
        log(
          `Continue on ${loaded.backend}: ${maxNew} tokens in ${gen.ms.toFixed(0)} ms, rows within ${worst.toExponential(2)}`,
        );
      });
    },
  };
}

export const tests: E2ETest[] = [
  ...[...MODELS, ...FAMILY_MODELS].map(modelTest),
  generateTest(false),
  generateTest(true),
  {
    name: 'device lost before a run: that run falls back to Wasm with a message, and equals native',
    timeoutMs: 240_000,
    fn: async () => {
      checkModel(stories);
      const ids = await idsOf(stories);
      const native = await nativeAttention(stories, ids);
      await withPage(true, async (p) => {
        const loaded = await p.load(stories);
        assert.ok(loaded.ok && loaded.backend === 'webgpu', JSON.stringify(loaded));
        assertMatchesNative(await p.run(ids), native, 'before the loss');
        await p.loseDevice();
        const run = await p.run(ids);
        assert.equal(run.fallbacks.length, 1, `one fallback message: ${JSON.stringify(run.fallbacks)}`);
        assert.match(run.fallbacks[0].reason, /GPU device was lost/);
        assertMatchesNative(run, native, 'after the loss');
        const again = await p.run(ids);
        assert.deepEqual(again.fallbacks, [], 'later runs stay on Wasm without new messages');
        assertMatchesNative(again, native, 'the run after');
      });
    },
  },
  {
    name: 'device lost in the middle of a run: the run completes on Wasm, each layer posted once',
    timeoutMs: 240_000,
    fn: async () => {
      checkModel(stories);
      const ids = await idsOf(stories);
      const native = await nativeAttention(stories, ids);
      await withPage(true, async (p) => {
        const loaded = await p.load(stories);
        assert.ok(loaded.ok && loaded.backend === 'webgpu', JSON.stringify(loaded));
        // After layer 0: its stage ran on the GPU, the next stage (layers 1-4 of this narrow model) has not.
        await p.loseDevice(0);
        const run = await p.run(ids);
        assert.equal(run.fallbacks.length, 1, `one fallback message: ${JSON.stringify(run.fallbacks)}`);
        assert.match(run.fallbacks[0].reason, /GPU device was lost|failed on the GPU/);
        assertMatchesNative(run, native, 'mid-run loss');
      });
    },
  },
  {
    name: 'a model that does not fit the adapter limits runs on Wasm (or fails the load when asked), saying why',
    timeoutMs: 180_000,
    fn: async () => {
      checkModel(stories);
      const ids = await idsOf(stories);
      const native = await nativeAttention(stories, ids);
      await withPage(true, async (p) => {
        const limits = { maxStorageBufferBindingSize: 4096 };
        const loaded = await p.load(stories, { limits });
        assert.ok(loaded.ok, JSON.stringify(loaded));
        assert.equal(loaded.backend, 'wasm');
        assert.match(loaded.note, /does not fit the GPU's limits/);
        assertMatchesNative(await p.run(ids), native, 'wasm in the page');
        const refused = await p.load(stories, { limits, fallback: 'fail' });
        assert.ok(!refused.ok, 'the load fails when no fallback is wanted');
        assert.equal(refused.error.code, 'BACKEND_UNAVAILABLE');
        assert.match(refused.error.message, /WebGPU not used: the model does not fit/);
      });
    },
  },
  {
    name: 'a browser without a WebGPU adapter runs the model on Wasm, saying why',
    timeoutMs: 180_000,
    fn: async () => {
      checkModel(stories);
      const ids = await idsOf(stories);
      const native = await nativeAttention(stories, ids);
      await withPage(false, async (p) => {
        const loaded = await p.load(stories);
        assert.ok(loaded.ok, JSON.stringify(loaded));
        assert.equal(loaded.backend, 'wasm');
        assert.match(loaded.note, /no WebGPU|no GPU adapter/);
        assertMatchesNative(await p.run(ids), native, 'no adapter');
      });
    },
  },
];

runIfMain(import.meta.url, 'webgpu-page', tests);
