import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  closeAllEditors,
  editorWith,
  ensureModelSetting,
  fire,
  getApi,
  lastRunId,
  sleep,
  type AttentionLensTestApi,
} from './util';

/** Waits for either a new RunSummary or a new lastError(); returns the error message either carries. */
async function errorOutcome(
  api: AttentionLensTestApi,
  before: number,
  errBefore: string | undefined,
  ms = 30_000,
): Promise<string> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const run = api.runs.find((r) => r.runId > before);
    if (run) {
      assert.equal(run.state, 'error', `expected an error run, got ${run.state}`);
      return run.message ?? api.lastError() ?? '';
    }
    const err = api.lastError();
    if (err && err !== errBefore) return err;
    await sleep(50);
  }
  throw new Error(`no error run and no new lastError() after ${ms / 1000} s (lastError: ${api.lastError()})`);
}

suite('Attention Lens: bad selections', () => {
  suiteSetup(ensureModelSetting);
  teardown(closeAllEditors);

  test('an empty document gives an error that mentions the selection', async () => {
    const api = await getApi();
    await editorWith('', 0, 0);
    const before = lastRunId(api);
    const errBefore = api.lastError();
    fire('attentionLens.showAttention');
    const message = await errorOutcome(api, before, errBefore);
    assert.match(message, /select/i, `error should mention the selection: ${message}`);
  });

  test('a whitespace-only line gives an error that mentions the selection', async () => {
    const api = await getApi();
    // Cursor on a whitespace-only line, no selection: the command falls back to the current line.
    await editorWith('Once upon a time\n    \t  \nthe end\n', 19, 19);
    const before = lastRunId(api);
    const errBefore = api.lastError();
    fire('attentionLens.showAttention');
    const message = await errorOutcome(api, before, errBefore);
    assert.match(message, /select/i, `error should mention the selection: ${message}`);
  });
});

/** A copy of the model folder whose layer-1 queries and keys are scaled by 1e30: q·k overflows and softmax gives NaN. */
function overflowingCopy(model: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-overflow-'));
  for (const f of [
    'config.json',
    'model.safetensors',
    'tokenizer.json',
    'tokenizer_config.json',
    'special_tokens_map.json',
  ])
    fs.copyFileSync(path.join(model, f), path.join(dir, f));
  const file = path.join(dir, 'model.safetensors');
  const bytes = fs.readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  for (const t of ['q_proj', 'k_proj']) {
    const [begin, end] = header[`model.layers.1.self_attn.${t}.weight`].data_offsets as [number, number];
    for (let o = 8 + n + begin; o < 8 + n + end; o += 4) bytes.writeFloatLE(bytes.readFloatLE(o) * 1e30, o);
  }
  fs.writeFileSync(file, bytes);
  return dir;
}

suite('Attention Lens: numbers that are not numbers', () => {
  teardown(closeAllEditors);

  test('attention that overflows to NaN stops the run with the layer and head, and the panel gets that message', async () => {
    const api = await getApi();
    const model = await ensureModelSetting();
    const cfg = vscode.workspace.getConfiguration('attentionLens');
    const dir = overflowingCopy(model);
    await cfg.update('modelPath', dir, vscode.ConfigurationTarget.Global);
    try {
      await editorWith('Once upon a time, there was a little girl', 0, 41);
      const before = lastRunId(api);
      const errBefore = api.lastError();
      fire('attentionLens.showAttention');
      const message = await errorOutcome(api, before, errBefore, 60_000);
      assert.match(message, /^Layer 1, head 0 gave NaN attention \(query 0, key 0\)/, message);
    } finally {
      await cfg.update('modelPath', model, vscode.ConfigurationTarget.Global);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
