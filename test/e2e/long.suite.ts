// The extension host's side of the real-VS-Code phase `long` (test/e2e/long.e2e.ts): a mocha suite inside code-server's
// extension host that answers what only the host can read. Playwright drives the UI from outside (the document, Show
// Attention, the matrix's zoom, the tooltip); the finished run (RunSummary) and a kept run's exact value (the test
// API's keptValue, asked of the inference worker as the hover does) come from here, through files in
// $ATTENTION_LENS_LONG_BRIDGE: the phase writes ask-<n>.json, this suite answers answer-<n>.json, and `done` ends it.
// Bundled by scripts/build.mjs into dist/test/long-suite/index.js.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { AttentionLensApi } from '../../extension/api';

const EXTENSION_ID = 'attention-lens.attention-lens';
/** The phase's own deadline is longer; this one only stops a suite whose other side is gone. */
const SERVE_MS = 900_000;

/** What the phase asks: the run that finished after `afterRunId`, or one exact value of a kept run. */
export type LongAsk =
  | { kind: 'run'; afterRunId: number }
  | { kind: 'value'; runId: number; layer: number; head: number; query: number; key: number };
export type LongAnswer =
  | { kind: 'run'; runId: number; state: string; tokens: number; message?: string }
  | { kind: 'value'; value: number | null }
  | { kind: 'error'; message: string };

async function answer(a: AttentionLensApi, ask: LongAsk): Promise<LongAnswer> {
  if (ask.kind === 'run') {
    const run = await a.waitForRun(ask.afterRunId);
    return { kind: 'run', runId: run.runId, state: run.state, tokens: run.tokens.length, message: run.message };
  }
  assert.ok(a.keptValue, 'the test API has keptValue');
  const v = a.keptValue(ask.runId, ask.layer, ask.head, ask.query, ask.key);
  return { kind: 'value', value: v === undefined ? null : await v };
}

function defineTests(): void {
  suite('Long inputs: the test API for the long phase', () => {
    test('answers the phase (runs and kept values) until it is done', async () => {
      const dir = process.env.ATTENTION_LENS_LONG_BRIDGE;
      assert.ok(dir, '$ATTENTION_LENS_LONG_BRIDGE is set');
      const a = await vscode.extensions.getExtension<AttentionLensApi>(EXTENSION_ID)!.activate();
      const answered = new Set<string>();
      const deadline = Date.now() + SERVE_MS;
      while (!existsSync(join(dir, 'done'))) {
        assert.ok(Date.now() < deadline, `the phase did not finish within ${SERVE_MS / 1000} s`);
        for (const f of readdirSync(dir).filter((x) => /^ask-\d+\.json$/.test(x) && !answered.has(x))) {
          answered.add(f);
          const ask = JSON.parse(readFileSync(join(dir, f), 'utf8')) as LongAsk;
          let reply: LongAnswer;
          try {
            reply = await answer(a, ask);
          } catch (e) {
            reply = { kind: 'error', message: (e as Error).message };
          }
          // Written whole, then renamed: the phase never reads half an answer.
          const out = join(dir, f.replace('ask-', 'answer-'));
          writeFileSync(`${out}.tmp`, JSON.stringify(reply));
          renameSync(`${out}.tmp`, out);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    });
  });
}

type MochaModule = typeof import('mocha');

export async function run(): Promise<void> {
  const m = (await import('mocha')) as unknown as { default?: MochaModule } & MochaModule;
  const Mocha = (m.default ?? m) as MochaModule;
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: SERVE_MS + 60_000, reporter: 'spec' });
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
