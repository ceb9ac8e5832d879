// The protocol messages of the hover/tint/export features: webview `viewChanged` and `export` (validated against
// the panel's current run: run id, view name, layer and head ranges, no extra fields) and host `focusToken`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateHostMessage, validateWebviewMessage, type RunContext } from '../../../protocol/validate';

const ctx: RunContext = { runId: 4, layers: 5, tokens: 17, heads: 8 };

test('viewChanged: accepted for the current run with a known view, layer and head', () => {
  for (const head of [0, 7, 'mean', 'max'] as const)
    assert.deepEqual(validateWebviewMessage({ type: 'viewChanged', runId: 4, view: 'matrix', layer: 4, head }, ctx), {
      ok: true,
      message: { type: 'viewChanged', runId: 4, view: 'matrix', layer: 4, head },
    });
});

test('viewChanged: the matrix zoomed carries its window (what a kept run’s export draws and writes)', () => {
  const window = { rows: { start: 2, end: 9 }, cols: { start: 0, end: 17 } };
  assert.deepEqual(
    validateWebviewMessage({ type: 'viewChanged', runId: 4, view: 'matrix', layer: 1, head: 3, window }, ctx),
    {
      ok: true,
      message: { type: 'viewChanged', runId: 4, view: 'matrix', layer: 1, head: 3, window },
    },
  );
});

test('viewChanged: rejected with a reason for bad fields', () => {
  const base = { type: 'viewChanged', runId: 4, view: 'grid', layer: 0, head: 0 };
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...base, runId: 3 }, /not the panel's current run/],
    [{ ...base, view: 'table' }, /view must be one of grid, head, matrix, neuron/],
    [{ ...base, layer: 5 }, /layer must be an integer in \[0, 5\)/],
    [{ ...base, head: 8 }, /head must be 'mean', 'max' or an integer in \[0, 8\)/],
    [{ ...base, head: 'sum' }, /head must be/],
    [{ ...base, head: -1 }, /head must be/],
    [{ ...base, extra: 1 }, /unexpected field 'extra'/],
    [{ ...base, window: { rows: { start: 3, end: 3 }, cols: { start: 0, end: 2 } } }, /window must be \{ rows/],
    [{ ...base, window: { rows: { start: 0, end: 2 } } }, /window must be/],
    [{ ...base, window: { rows: { start: 0, end: 2 }, cols: { start: -1, end: 2 } } }, /window must be/],
    [{ ...base, window: { rows: { start: 0, end: 2 }, cols: { start: 0, end: 2, x: 1 } } }, /window must be/],
  ];
  for (const [m, why] of cases) {
    const v = validateWebviewMessage(m, ctx);
    assert.equal(v.ok, false, JSON.stringify(m));
    if (!v.ok) assert.match(v.reason, why);
  }
});

test('export: only for the current run, no payload', () => {
  assert.deepEqual(validateWebviewMessage({ type: 'export', runId: 4 }, ctx), {
    ok: true,
    message: { type: 'export', runId: 4 },
  });
  assert.equal(validateWebviewMessage({ type: 'export', runId: 4, path: '/etc/passwd' }, ctx).ok, false);
  assert.equal(validateWebviewMessage({ type: 'export', runId: 1 }, { ...ctx, runId: undefined }).ok, false);
});

test('focusToken (host → webview): integer run id and non-negative index', () => {
  assert.equal(validateHostMessage({ type: 'focusToken', runId: 4, index: 2 }).ok, true);
  assert.equal(validateHostMessage({ type: 'focusToken', runId: 4, index: -1 }).ok, false);
  assert.equal(validateHostMessage({ type: 'focusToken', runId: '4', index: 0 }).ok, false);
});
