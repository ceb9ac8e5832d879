// The host side of issue 13, inside a real VS Code (code-server) extension host on stories260K: a model path in the
// User settings only keeps working after an unrelated settings change (the colour theme), with no download offer
// (the installed extension's window, which drops the User value, is test/e2e/vsix.e2e.ts); closing the panel while its model loads cancels its run;
// edits outside the analysed text keep the run, edits inside mark it stale in the hover and in the panel.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { closeAllEditors, editorWith, EXTENSION_ID, fire, getApi, lastRunId, sleep, withTimeout } from './util';

const REF_TEXT = 'Once upon a time, there was a little girl named Lily. She';
const TITLE = 'A story\n';
const CONTENT = `${TITLE}${REF_TEXT}\nThe end.\n`;
const START = TITLE.length;
const STALE = 'The text changed since this run — Show Attention again.';

const extensionPath = () => vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath;
const storiesPath = () => path.join(extensionPath(), 'test', 'fixtures', 'models', 'stories260K');
const modelSetting = () => vscode.workspace.getConfiguration('attentionLens').get<string>('modelPath') ?? '';

async function until(what: string, ms: number, ok: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what}: not after ${ms / 1000} s`);
    await sleep(50);
  }
}

async function lensHover(doc: vscode.TextDocument, pos: vscode.Position): Promise<string | undefined> {
  const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, pos);
  for (const h of hovers ?? [])
    for (const c of h.contents) {
      const text = typeof c === 'string' ? c : c.value;
      if (text.includes('Attention Lens')) return text;
    }
  return undefined;
}

/** The open Attention Lens panels' tabs. */
function panelTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('attentionLens.panel'));
}

suite('Attention Lens: panel host (issue 13)', function () {
  this.timeout(240_000);
  teardown(closeAllEditors);

  test('stale runs: edits outside the analysed text keep the run, edits inside mark it in the hover and the panel', async () => {
    const api = await getApi();
    const editor = await editorWith(CONTENT, START, START + REF_TEXT.length);
    const before = lastRunId(api);
    fire('attentionLens.showAttention');
    const run = await withTimeout('run', 90_000, api.waitForRun(before));
    assert.equal(run.state, 'done', run.message);
    const lily = run.tokens.findIndex((t) => t.text.includes('Lily'));
    assert.ok(lily > 0, 'the run has the token Lily');
    const doc = editor.document;
    const lilyAt = () => doc.positionAt(doc.getText().indexOf('Lily') + 1);
    const hoverToken = (md: string | undefined) => /token (\d+) of/.exec(md ?? '')?.[1];
    assert.equal(hoverToken(await lensHover(doc, lilyAt())), String(lily));

    // After the text: the run stays, the hover still shows the numbers.
    await editor.edit((b) => b.insert(doc.positionAt(doc.getText().length), 'More text after.\n'));
    let md = await lensHover(doc, lilyAt());
    assert.equal(hoverToken(md), String(lily), `an edit after the range keeps the run: ${md}`);
    assert.match(md!, /attends to/);
    // Before the text (on the title line, and at its very first character): the range moves with it.
    await editor.edit((b) => b.insert(new vscode.Position(0, 0), 'Long ago. '));
    await editor.edit((b) => b.insert(doc.positionAt(START + 'Long ago. '.length), '\n'));
    md = await lensHover(doc, lilyAt());
    assert.equal(hoverToken(md), String(lily), `an edit before the range shifts it: ${md}`);
    assert.notEqual(api.panelNotice?.(), STALE, 'the panel does not say stale');

    // Inside the text: the hover and the panel say it in words, without numbers or versions.
    const at = lilyAt();
    await editor.edit((b) => b.replace(new vscode.Range(at, at.translate(0, 3)), 'ucy'));
    md = await lensHover(doc, at);
    assert.ok(md?.replace(/\\/g, '').includes(STALE), `the hover says the text changed: ${md}`);
    assert.doesNotMatch(md!, /attends to|version/);
    assert.equal(api.panelNotice?.(), STALE, 'the panel shows the same marker');
  });

  test('closing the panel while its model loads cancels its run; no panel opens again', async () => {
    const api = await getApi();
    const cfg = vscode.workspace.getConfiguration('attentionLens');
    const original = modelSetting();
    const miniLm = path.join(extensionPath(), '.cache', 'models', 'all-MiniLM-L6-v2');
    assert.ok(existsSync(path.join(miniLm, 'model.safetensors')), `${miniLm} holds all-MiniLM-L6-v2 (a slow load)`);
    try {
      await cfg.update('modelPath', miniLm, vscode.ConfigurationTarget.Global);
      await until('the setting', 10_000, () => modelSetting() === miniLm);
      await editorWith(CONTENT, START, START + REF_TEXT.length);
      const before = lastRunId(api);
      fire('attentionLens.showAttention');
      await until('a panel showing the load', 30_000, () => panelTabs().length === 1 && api.loading?.() === true);
      await vscode.window.tabGroups.close(panelTabs());
      const run = await withTimeout('run', 120_000, api.waitForRun(before));
      assert.equal(run.state, 'cancelled', `the run ended ${run.state}: ${run.message ?? ''}`);
      assert.equal(run.layers.length, 0);
      assert.equal(panelTabs().length, 0, 'no panel opened again');
      assert.equal(api.panelCount?.(), 0);
    } finally {
      await cfg.update('modelPath', original, vscode.ConfigurationTarget.Global);
      await until('the setting restored', 10_000, () => modelSetting() === original);
      await until('the load ended', 120_000, () => api.loading?.() !== true);
    }
  });

  test('a model path in User settings that the remote window stops reading after a theme change keeps working', async () => {
    const api = await getApi();
    const userFile = api.userSettingsFile?.();
    assert.ok(userFile && existsSync(userFile), `code-server's window is remote: its User settings file (${userFile})`);
    const machineFile = path.join(path.dirname(path.dirname(userFile)), 'Machine', 'settings.json');
    assert.ok(existsSync(machineFile), machineFile);
    const userText = readFileSync(userFile, 'utf8');
    const machineText = readFileSync(machineFile, 'utf8');
    const stories = storiesPath();
    const workbench = vscode.workspace.getConfiguration('workbench');
    const theme = workbench.get<string>('colorTheme');
    try {
      // The model path only in the User settings (as a user sets it), none in the Remote settings.
      const user = JSON.parse(userText) as Record<string, unknown>;
      const machine = JSON.parse(machineText) as Record<string, unknown>;
      delete machine['attentionLens.modelPath'];
      writeFileSync(machineFile, JSON.stringify(machine, null, 2));
      writeFileSync(userFile, JSON.stringify({ ...user, 'attentionLens.modelPath': stories }, null, 2));
      // An unrelated settings change: VS Code re-reads the User settings and drops the machine setting.
      await workbench.update('colorTheme', 'Default Light Modern', vscode.ConfigurationTarget.Global);
      await until('the theme', 15_000, () => workbench.get<string>('colorTheme') === 'Default Light Modern');

      const editor = await editorWith(CONTENT, START, START + REF_TEXT.length);
      assert.ok(editor);
      const before = lastRunId(api);
      const shown = api.messages?.().length ?? 0;
      fire('attentionLens.showAttention');
      const run = await withTimeout('run', 90_000, api.waitForRun(before));
      assert.equal(run.state, 'done', `the next run uses the model: ${run.state} ${run.message ?? ''}`);
      assert.equal(run.tokens.length, 15, 'stories260K tokens');
      const said = (api.messages?.() ?? []).slice(shown);
      assert.ok(!said.some((m) => /Download|No model/.test(m)), `no download offer: ${said.join(' | ')}`);
      assert.match(api.statusText?.() ?? '', /stories260K/, 'the status bar names the model the run used');
      // Whether this window still reads the User value (a development host does; an installed extension's window
      // drops it — test/e2e/vsix.e2e.ts), the status bar and the run read the same settings.
      if (modelSetting() === '') assert.match(api.statusText?.() ?? '', /warning/);
    } finally {
      writeFileSync(machineFile, machineText);
      writeFileSync(userFile, userText);
      await until('settings restored', 15_000, () => modelSetting() === stories);
      assert.equal(workbench.get<string>('colorTheme'), theme);
    }
  });
});
