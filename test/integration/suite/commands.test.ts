import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { COMMANDS, getApi } from './util';

suite('Attention Lens: activation', () => {
  test('activates and returns the test API', async () => {
    const api = await getApi();
    assert.ok(Array.isArray(api.runs));
  });

  test('registers its commands', async () => {
    await getApi();
    const all = new Set(await vscode.commands.getCommands(true));
    for (const c of COMMANDS) assert.ok(all.has(c), `command ${c} is not registered`);
  });
});
