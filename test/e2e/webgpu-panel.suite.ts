// Mocha suite INSIDE a real VS Code extension host (code-server), with the workbench in a chromium that exposes WebGPU
// (SwiftShader here) and attentionLens.backend = webgpu: Show Attention runs each model in the panel's webview on
// WebGPU; the attention the host received (what the hover and export read) must equal the native backend's, computed
// here in the extension host, to ≤ 1e-4. Then the device-lost fallback, and 'auto' choosing WebGPU.
// Bundled by scripts/build.mjs into dist/test/webgpu-suite/index.js; run by test/e2e/webgpu-panel.e2e.ts.
import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { load } from '../../runtime/inspector/load-model';
import type { AttentionLensApi, RunSummary } from '../../extension/api';
import { maxAbsDiff, testModels, type TestModel } from '../helpers/webgpu-models';

const EXTENSION_ID = 'attention-lens.attention-lens';
const TOLERANCE = 1e-4;

function extensionPath(): string {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not loaded`);
  return ext.extensionPath;
}

async function api(): Promise<AttentionLensApi> {
  const a = await vscode.extensions.getExtension<AttentionLensApi>(EXTENSION_ID)!.activate();
  assert.ok(a.backend && a.attention, 'the test API has backend() and attention()');
  return a;
}

/** Workspace settings win over the user/machine settings the harness wrote. */
async function configure(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('attentionLens').update(key, value, vscode.ConfigurationTarget.Workspace);
}

async function waitRun(a: AttentionLensApi, after: number, ms: number): Promise<RunSummary> {
  const deadline = Date.now() + ms;
  for (;;) {
    const run = a.runs.find((r) => r.runId > after);
    if (run) return run;
    if (Date.now() > deadline) throw new Error(`no run finished within ${ms / 1000} s (last error: ${a.lastError()})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs Show Attention on `text` (no editor needed) and returns the finished run. */
async function show(a: AttentionLensApi, text: string): Promise<RunSummary> {
  const before = a.runs.reduce((m, r) => Math.max(m, r.runId), 0);
  void vscode.commands.executeCommand('attentionLens.showAttention', { text });
  const run = await waitRun(a, before, 240_000);
  assert.equal(run.state, 'done', `run ended ${run.state}: ${run.message ?? a.lastError() ?? ''}`);
  return run;
}

async function native(m: TestModel): Promise<Float32Array[]> {
  const insp = await load(m.dir, {
    backend: 'native',
    threads: 2,
    workerPath: join(extensionPath(), 'dist', 'worker.js'),
  });
  try {
    const layers: Float32Array[] = [];
    for await (const l of insp.run(m.text)) layers[l.layer] = l.data;
    return layers;
  } finally {
    await insp.dispose();
  }
}

function assertEqualsNative(a: AttentionLensApi, run: RunSummary, want: Float32Array[], what: string): void {
  const got = a.attention!(run.runId);
  assert.ok(got, `${what}: the host holds the run's attention`);
  assert.deepEqual(
    got.map((l) => l.layer),
    want.map((_, i) => i),
  );
  const diff = maxAbsDiff(got, want);
  console.log(`[webgpu-suite] ${what}: max |panel - native| = ${diff.toExponential(2)}`);
  assert.ok(diff <= TOLERANCE, `${what}: max |panel - native| = ${diff}`);
}

function defineTests(): void {
  suite('WebGPU in the real panel', () => {
    suiteSetup(async () => {
      await configure('backend', 'webgpu');
    });

    for (const m of testModels(extensionPath())) {
      test(`${m.name}: runs on WebGPU in the panel and equals native to ≤ ${TOLERANCE}`, async () => {
        await configure('modelPath', m.dir);
        const a = await api();
        const run = await show(a, m.text);
        const backend = a.backend!();
        assert.equal(backend?.name, 'webgpu', `backend: ${JSON.stringify(backend)}`);
        assert.match(backend!.note, /WebGPU in the panel on google swiftshader/);
        assertEqualsNative(a, run, await native(m), m.name);
      });
    }

    test('a lost GPU device: the next run falls back to Wasm in the panel, says so, and equals native', async () => {
      const m = testModels(extensionPath())[0];
      await configure('modelPath', m.dir);
      const a = await api();
      await show(a, m.text);
      assert.equal(a.backend!()?.name, 'webgpu');
      // After layer 0: its stage ran on the GPU, the next stage (layers 1-4 of this narrow model) has not.
      assert.equal(await vscode.commands.executeCommand('attentionLens.test.loseGpuDevice', 0), true);
      const run = await show(a, m.text);
      const backend = a.backend!();
      assert.equal(backend?.name, 'wasm', `backend after the loss: ${JSON.stringify(backend)}`);
      assert.match(backend!.note, /Wasm in the panel: the GPU device was lost|failed on the GPU/);
      assert.match(a.lastError() ?? '', /Wasm in the panel now/, 'the user was told');
      assertEqualsNative(a, run, await native(m), 'after the device loss');
    });

    test("'auto' picks WebGPU in the panel when the webview has an adapter", async () => {
      const m = testModels(extensionPath())[1];
      await configure('backend', 'auto');
      await configure('modelPath', m.dir);
      const a = await api();
      const run = await show(a, m.text);
      const backend = a.backend!();
      assert.equal(backend?.name, 'webgpu', JSON.stringify(backend));
      assert.match(backend!.note, /auto prefers the GPU/);
      assertEqualsNative(a, run, await native(m), 'auto');
    });
  });
}

type MochaModule = typeof import('mocha');

export async function run(): Promise<void> {
  const m = (await import('mocha')) as unknown as { default?: MochaModule } & MochaModule;
  const Mocha = (m.default ?? m) as MochaModule;
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 300_000, reporter: 'spec' });
  mocha.suite.emit('pre-require', globalThis, __filename, mocha);
  defineTests();
  const failures: { title: string; error: string }[] = [];
  let passed = 0;
  await new Promise<void>((resolve, reject) => {
    const runner = mocha.run((failed) => {
      const file = process.env.ATTENTION_LENS_TEST_RESULTS;
      if (file) writeFileSync(file, JSON.stringify({ passed, failed: failures.length, failures }, null, 2));
      if (failed > 0) reject(new Error(`${failed} tests failed.`));
      else resolve();
    });
    runner.on('pass', () => passed++);
    runner.on('fail', (t, err: Error) => failures.push({ title: t.fullTitle(), error: err?.stack ?? String(err) }));
  });
}
