import * as assert from 'node:assert/strict';
import {
  bareToken,
  closeAllEditors,
  editorWith,
  ensureModelSetting,
  fire,
  getApi,
  lastRunId,
  sleep,
  waitForRunId,
  withTimeout,
  type RunSummary,
} from './util';

// stories260K: 5 layers, 8 query heads (4 kv heads), sentencepiece BPE with a BOS token.
const TITLE = 'A story\n';
const SENTENCE = 'Once upon a time, there was a little girl';
const CONTENT = `${TITLE}${SENTENCE} named Lily. She liked to play outside in the park with her dog.\n`;
const SEL_START = TITLE.length;
const SEL_END = SEL_START + SENTENCE.length;
/** 16 tokens: ×31 stays under stories260K's 512 positions (with BOS). */
const LONG_SENTENCE = 'Once upon a time, there was a little girl named Lily. ';

/**
 * Token offsets are offsets into the input text (the selection), null for special tokens (BOS): every token with a
 * range must match the selected text there, in order, and together they must spell the selection.
 */
function assertTokensMatchSelection(run: RunSummary): void {
  assert.ok(run.tokens.length > 0, 'run has no tokens');
  const spans = run.tokens.filter(
    (t): t is { text: string; start: number; end: number } => t.start !== null && t.end !== null && t.end > t.start,
  );
  assert.ok(spans.length >= 9, `expected the sentence's words as tokens, got ${JSON.stringify(run.tokens)}`);
  for (const t of spans) {
    assert.ok(
      t.start >= 0 && t.end <= SENTENCE.length,
      `token ${JSON.stringify(t)} lies outside the selection (length ${SENTENCE.length})`,
    );
    assert.equal(
      bareToken(SENTENCE.slice(t.start, t.end)),
      bareToken(t.text),
      `token ${JSON.stringify(t)} does not match the selected text ${JSON.stringify(SENTENCE.slice(t.start, t.end))}`,
    );
  }
  for (let i = 1; i < spans.length; i++)
    assert.ok(spans[i].start >= spans[i - 1].end, `tokens overlap or are out of order at ${i}`);
  assert.equal(
    spans
      .map((t) => SENTENCE.slice(t.start, t.end))
      .join('')
      .replace(/\s+/g, ''),
    SENTENCE.replace(/\s+/g, ''),
  );
  // Nothing but special tokens lacks a range.
  for (const t of run.tokens.filter((x) => x.start === null))
    assert.match(t.text, /^<.*>$|^\[.*\]$/, `token without range: ${JSON.stringify(t)}`);
}

suite('Attention Lens: runs on stories260K', () => {
  suiteSetup(async () => {
    await ensureModelSetting();
  });
  teardown(closeAllEditors);

  test('Show Attention on a selection posts layers 0..4 with 8 heads and the selection tokens', async () => {
    const api = await getApi();
    await editorWith(CONTENT, SEL_START, SEL_END);
    const before = lastRunId(api);
    fire('attentionLens.showAttention');
    const run = await withTimeout('first run (includes model load)', 90_000, api.waitForRun(before));
    assert.equal(run.state, 'done', `run ended ${run.state}: ${run.message ?? api.lastError() ?? ''}`);
    assert.deepEqual(run.layers, [0, 1, 2, 3, 4]);
    assert.equal(run.heads, 8);
    assertTokensMatchSelection(run);
  });

  test('a second run cancels the first; attentionLens.cancel cancels a run', async () => {
    const api = await getApi();
    await editorWith(CONTENT, SEL_START, SEL_END);

    // (a) A newer run cancels the older one.
    let before = lastRunId(api);
    fire('attentionLens.showAttention');
    fire('attentionLens.showAttention');
    const first = await waitForRunId(api, before + 1, 60_000);
    const second = await waitForRunId(api, before + 2, 60_000);
    assert.equal(
      first.state,
      'cancelled',
      `first run should be cancelled by the second, got ${first.state} (layers ${first.layers})`,
    );
    assert.equal(second.state, 'done', `second run: ${second.state} ${second.message ?? ''}`);
    assert.deepEqual(second.layers, [0, 1, 2, 3, 4]);

    // (b) The cancel command, on a run in flight. A run on stories260K takes milliseconds, so the cancel has to
    // land while the worker computes: a long input (hundreds of tokens) and a short delay after the start; if the
    // run still wins the race, retry with other delays. Every attempt must end 'done' or 'cancelled'.
    const outcomes: string[] = [];
    let cancelledRun: RunSummary | undefined;
    for (const [reps, delayMs] of [
      [31, 0],
      [31, 0],
      [31, 2],
      [31, 5],
      [31, 10],
    ] as const) {
      before = lastRunId(api);
      fire('attentionLens.showAttention', { text: LONG_SENTENCE.repeat(reps), truncate: true });
      await sleep(delayMs);
      fire('attentionLens.cancel');
      const r = await waitForRunId(api, before + 1, 60_000);
      outcomes.push(`${reps}x/${delayMs}ms: ${r.state} (${r.layers.length} layers)`);
      assert.ok(r.state === 'done' || r.state === 'cancelled', `run ended ${r.state}: ${r.message ?? ''}`);
      if (r.state === 'cancelled') {
        cancelledRun = r;
        break;
      }
    }
    assert.ok(cancelledRun, `attentionLens.cancel never cancelled a run in flight: ${outcomes.join('; ')}`);
    console.log(`[suite] cancel: ${outcomes.join('; ')}`);

    // And the extension still works afterwards.
    before = lastRunId(api);
    fire('attentionLens.showAttention');
    const after = await withTimeout('run after cancel', 60_000, api.waitForRun(before));
    assert.equal(after.state, 'done');
  });
});
