import * as assert from 'node:assert/strict';
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
