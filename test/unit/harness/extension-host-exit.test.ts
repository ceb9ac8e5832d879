// The real-VS-Code harness says why an extension host ended when a mocha suite wrote no results: the lines code-server
// logged for it (its stderr, then its exit with the signal). A suite lost to a native abort (SIGABRT from
// onnxruntime-node in a terminated worker) was reported only as "wrote no results" before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { extensionHostExit } from '../../helpers/code-server';

test('extensionHostExit: the host stderr and exit lines of code-server’s log, nothing else; none for a clean log', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'al-ehx-'));
  try {
    // Lines as code-server 4.x writes them (test-results/logs/code-server-mocha.log of a lost suite).
    const crashed = [
      '[21:54:42] [127.0.0.1][cde7fa61][ExtensionHostConnection] New connection established.',
      '[21:54:43] [127.0.0.1][cde7fa61][ExtensionHostConnection] <5459> Launched Extension Host Process.',
      '[21:54:47] #1: https://open-vsx.org/vscode/gallery/extensionquery - error POST getaddrinfo ENOTFOUND open-vsx.org',
      "[21:54:56] [127.0.0.1][cde7fa61][ExtensionHostConnection] <5459><stderr> terminate called after throwing an instance of '",
      '[21:54:56] [127.0.0.1][cde7fa61][ExtensionHostConnection] <5459><stderr> Napi::Error',
      '[21:54:56] [127.0.0.1][cde7fa61][ExtensionHostConnection] <5459> Extension Host Process exited with code: null, signal: SIGABRT.',
      '[21:54:57] [127.0.0.1][cde7fa61][ExtensionHostConnection] Unknown reconnection token (seen before).',
    ];
    const file = path.join(dir, 'crashed.log');
    writeFileSync(file, crashed.join('\n') + '\n');
    assert.deepEqual(extensionHostExit(file).split('\n'), [crashed[3], crashed[4], crashed[5]]);
    const clean = path.join(dir, 'clean.log');
    writeFileSync(clean, crashed.slice(0, 3).join('\n') + '\n');
    assert.equal(extensionHostExit(clean), '');
    assert.equal(extensionHostExit(path.join(dir, 'missing.log')), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
