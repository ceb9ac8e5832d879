import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkText, describeError, pushRecent, tokenLimit, tooLongMessage } from '../../../extension/input';
import { RunLog } from '../../../extension/run-log';
import { contentSecurityPolicy, panelHtml } from '../../../protocol/panel-page';
import { LensError } from '../../../runtime/errors';

test('checkText: empty and whitespace-only selections are refused', () => {
  assert.match(checkText('') ?? '', /Nothing to show/);
  assert.match(checkText(' \n\t ') ?? '', /only whitespace/);
  assert.equal(checkText('<img src=x onerror=alert(1)>'), undefined);
});

test('tokenLimit: the smaller of the setting and the model positions', () => {
  assert.equal(tokenLimit(512, 256), 256);
  assert.equal(tokenLimit(100, 512), 100);
  assert.equal(tokenLimit(0, 512), 512);
  assert.equal(tokenLimit(12.7, 512), 12);
  assert.match(tooLongMessage(600, 512), /600 tokens.*limit is 512/);
  // A hard cap of 8,192 tokens whatever the model allows, said when the model allows more.
  assert.equal(tokenLimit(0, 32768), 8192);
  assert.equal(tokenLimit(8192, 131072), 8192);
  assert.equal(tokenLimit(4096, 8192), 4096);
  assert.equal(
    tooLongMessage(9000, 8192, 32768),
    'The selection is 9000 tokens long; the limit is 8192 (the model allows 32768, but Attention Lens runs at most 8192 tokens for now). Select less text or truncate it to the first 8192 tokens.',
  );
  assert.match(tooLongMessage(9000, 8192, 8192), /limit is 8192 \(attentionLens.maxTokens and the model's positions\)/);
});

test('describeError: model errors offer Select Model, cancellations are quiet, no stack traces', () => {
  assert.deepEqual(describeError(new LensError('NO_CONFIG', 'No config.json in /x.')), {
    message: 'No config.json in /x.',
    actions: ['selectModel', 'showLog'],
    cancelled: false,
  });
  assert.equal(describeError(new LensError('CANCELLED', 'The run was cancelled.')).cancelled, true);
  assert.deepEqual(describeError(new LensError('TOO_LONG', 'long')).actions, ['showLog']);
  const e = new Error('boom\n    at foo (bar.js:1:1)');
  const d = describeError(e);
  assert.equal(d.message, 'Attention Lens failed unexpectedly: boom');
  assert.doesNotMatch(d.message, /at foo/);
});

test('pushRecent: most recent first, unique, bounded', () => {
  assert.deepEqual(pushRecent(['/a', '/b', '/c'], '/b', 3), ['/b', '/a', '/c']);
  assert.deepEqual(pushRecent(['/a', '/b', '/c'], '/d', 3), ['/d', '/a', '/b']);
});

test('RunLog.waitForRun: by id, latest started, and future runs', async () => {
  const log = new RunLog();
  const api = log.api();
  const first = log.start();
  const pending = api.waitForRun(); // the run in flight
  const summary = { runId: first, state: 'done' as const, layers: [0, 1], heads: 8, tokens: [] };
  log.finish(summary);
  assert.equal(await pending, summary);
  assert.equal(await api.waitForRun(), summary); // already finished, still the latest started
  const later = api.waitForRun(first);
  const second = log.start();
  log.finish({ runId: second, state: 'error', layers: [], heads: 0, tokens: [], message: 'nope' });
  assert.equal((await later).runId, second);
  assert.equal(api.lastError(), 'nope');
  assert.equal(api.runs.length, 2);
});

test('CSP: no unsafe-inline/eval, nonce on script and style, nothing remote', () => {
  const csp = contentSecurityPolicy('https://x.vscode-cdn.net', 'N0nce');
  assert.equal(
    csp,
    "default-src 'none'; script-src 'nonce-N0nce'; style-src https://x.vscode-cdn.net 'nonce-N0nce'; img-src https://x.vscode-cdn.net data: blob:; font-src https://x.vscode-cdn.net",
  );
  const html = panelHtml({
    cspSource: 'https://x.vscode-cdn.net',
    scriptUri: 'https://x/w.js',
    styleUri: 'https://x/w.css',
    nonce: 'N0nce',
  });
  assert.match(html, /<script nonce="N0nce" src="https:\/\/x\/w.js"><\/script>/);
  assert.doesNotMatch(html, /unsafe-inline|unsafe-eval|http:\/\//);
});
