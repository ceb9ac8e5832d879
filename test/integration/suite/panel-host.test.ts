// The host side of issue 13, inside a real VS Code (code-server) extension host on stories260K: a model path in the
// User settings only keeps working after an unrelated settings change (the colour theme), with no download offer
// (the installed extension's window, which drops the User value, is test/e2e/vsix.e2e.ts); closing the panel while its model loads cancels its run;
// edits outside the analysed text keep the run, edits inside mark it stale in the hover and in the panel.
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
/** The token count of the stories260K reference (test/fixtures/models/stories260K/reference_attention.json). */
const referenceTokens = () =>
  (JSON.parse(readFileSync(path.join(storiesPath(), 'reference_attention.json'), 'utf8')) as { tokens: string[] })
    .tokens.length;
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

/** SmolLM2-135M (GGUF): 30 layers that stream in stages of four after layer 0 (runtime/models/family.ts layerGroups),
 * each layer its own message, slowly enough on this machine to watch the status bar and to close the panel part-way. */
const smolPath = () =>
  path.join(extensionPath(), '.cache', 'models', 'SmolLM2-135M-Instruct-GGUF', 'SmolLM2-135M-Instruct.Q4_1.gguf');
const SMOL_LAYERS = 30;

/** Runs `body` with the model path set to SmolLM2, then puts the original back. */
async function withSmol(body: () => Promise<void>): Promise<void> {
  const cfg = vscode.workspace.getConfiguration('attentionLens');
  const original = modelSetting();
  assert.ok(existsSync(smolPath()), `${smolPath()} (scripts/fetch-model.mjs)`);
  try {
    await cfg.update('modelPath', smolPath(), vscode.ConfigurationTarget.Global);
    await until('the setting', 10_000, () => modelSetting() === smolPath());
    await body();
  } finally {
    await cfg.update('modelPath', original, vscode.ConfigurationTarget.Global);
    await until('the setting restored', 10_000, () => modelSetting() === original);
    await until('no load in progress', 120_000, () => getApi().then((a) => a.loading?.() !== true));
  }
}

/** Reads an NPY 1.0 file of little-endian float32 (the format's spec), independently of the extension's reader. */
function readNpy(file: string): { shape: number[]; data: Float32Array } {
  const b = readFileSync(file);
  assert.deepEqual([...b.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 'NPY 1.0 magic');
  const len = b.readUInt16LE(8);
  const dict = b.subarray(10, 10 + len).toString('latin1');
  assert.match(dict, /'descr': '<f4', 'fortran_order': False/);
  const shape = /'shape': \(([^)]*)\)/
    .exec(dict)![1]
    .split(',')
    .filter((d) => d.trim())
    .map(Number);
  const bytes = b.subarray(10 + len);
  const data = new Float32Array(bytes.length / 4);
  for (let i = 0; i < data.length; i++) data[i] = bytes.readFloatLE(i * 4);
  return { shape, data };
}

suite('Attention Lens: panel host (issue 13)', function () {
  this.timeout(240_000);
  teardown(closeAllEditors);
  // The files the tests export, in one folder removed after the suite.
  const tmp = mkdtempSync(path.join(tmpdir(), 'lens-panel-host-'));
  const folder = (name: string) => {
    const dir = path.join(tmp, name);
    mkdirSync(dir);
    return dir;
  };
  suiteTeardown(() => rmSync(tmp, { recursive: true, force: true }));

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
    // The line endings changed (LF → CRLF: a new version without a content change): every line break before the text
    // is one character longer, the range moves with them and the run stays.
    assert.ok(await editor.edit((b) => b.setEndOfLine(vscode.EndOfLine.CRLF)), 'the line endings changed');
    assert.equal(doc.eol, vscode.EndOfLine.CRLF);
    md = await lensHover(doc, lilyAt());
    assert.equal(hoverToken(md), String(lily), `CRLF line endings keep the run: ${md}`);
    assert.notEqual(api.panelNotice?.(), STALE, 'the panel does not say stale after CRLF');

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

  test('a model path in User settings that the window does not read: used, no download offer, said once, copied on request', async () => {
    const api = await getApi();
    const userFile = api.userSettingsFile?.();
    assert.ok(userFile && existsSync(userFile), `code-server's window is remote: its User settings file (${userFile})`);
    const machineFile = path.join(path.dirname(path.dirname(userFile)), 'Machine', 'settings.json');
    assert.ok(existsSync(machineFile), machineFile);
    const userText = readFileSync(userFile, 'utf8');
    const machineText = readFileSync(machineFile, 'utf8');
    const stories = storiesPath();
    const cfg = () => vscode.workspace.getConfiguration('attentionLens');
    const workbench = vscode.workspace.getConfiguration('workbench');
    const theme = workbench.get<string>('colorTheme');
    try {
      // VS Code reads no model path in this window: none in the Remote settings (Global's target here), none in the
      // User settings (edited in the User settings editor and saved, as a user would, with the theme changed too).
      await cfg().update('modelPath', undefined, vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('workbench.action.openSettingsJson');
      const settingsEditor = vscode.window.activeTextEditor;
      assert.ok(settingsEditor, 'the User settings editor');
      const user = JSON.parse(settingsEditor.document.getText()) as Record<string, unknown>;
      delete user['attentionLens.modelPath'];
      user['workbench.colorTheme'] = 'Default Light Modern';
      const doc = settingsEditor.document;
      await settingsEditor.edit((b) =>
        b.replace(
          new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)),
          JSON.stringify(user, null, 2),
        ),
      );
      await vscode.commands.executeCommand('workbench.action.files.save');
      await until('saved', 10_000, () => !doc.isDirty);
      await until('no model path read', 15_000, () => cfg().inspect('modelPath')?.globalValue === undefined);
      // ...while the User settings file names one (written outside the window, which does not re-read it: the state a
      // remote window is in when it ignores a machine setting there).
      const now = JSON.parse(readFileSync(userFile, 'utf8')) as Record<string, unknown>;
      assert.equal(now['workbench.colorTheme'], 'Default Light Modern');
      writeFileSync(userFile, JSON.stringify({ ...now, 'attentionLens.modelPath': stories }, null, 2));
      await sleep(1500);
      assert.equal(modelSetting(), '', 'VS Code does not read the outside edit');

      await editorWith(CONTENT, START, START + REF_TEXT.length);
      const shown = api.messages?.().length ?? 0;
      for (const n of [1, 2]) {
        const before = lastRunId(api);
        fire('attentionLens.showAttention');
        const run = await withTimeout('run', 90_000, api.waitForRun(before));
        assert.equal(run.state, 'done', `run ${n} uses the model: ${run.state} ${run.message ?? ''}`);
        assert.equal(run.tokens.length, referenceTokens(), 'the tokens of the stories260K reference');
      }
      const said = (api.messages?.() ?? []).slice(shown);
      assert.ok(!said.some((m) => /Download|No model/.test(m)), `no download offer: ${said.join(' | ')}`);
      assert.equal(
        said.filter((m) =>
          /^attentionLens\.modelPath \(stories260K\) is in your User settings.*Copy to Remote Settings/.test(m),
        ).length,
        1,
        `said once where the path belongs: ${said.join(' | ')}`,
      );
      assert.match(
        api.statusText?.() ?? '',
        /^\$\(warning\) stories260K/,
        'the status bar: the model the run used, marked',
      );

      const copied = await vscode.commands.executeCommand<{ ok: boolean; message: string }>(
        'attentionLens.copyModelPath',
      );
      assert.equal(copied.ok, true, copied.message);
      await until('VS Code reads the copied value', 15_000, () => modelSetting() === stories);
      const remote = JSON.parse(readFileSync(machineFile, 'utf8')) as Record<string, unknown>;
      assert.equal(remote['attentionLens.modelPath'], stories, 'copied to the Remote (Machine) settings');
      await until('the status bar unmarked', 5_000, () =>
        /^\$\(telescope\) stories260K/.test(api.statusText?.() ?? ''),
      );
    } finally {
      await workbench.update('colorTheme', theme, vscode.ConfigurationTarget.Global);
      await cfg().update('modelPath', stories, vscode.ConfigurationTarget.Global);
      writeFileSync(machineFile, machineText);
      writeFileSync(userFile, userText);
      await until('settings restored', 15_000, () => modelSetting() === stories);
    }
  });

  test('Open Saved Run: an exported JSON run opens again with every layer, the reference attention, and no hover', async () => {
    const api = await getApi();
    const editor = await editorWith(CONTENT, START, START + REF_TEXT.length);
    const before = lastRunId(api);
    fire('attentionLens.showAttention');
    const run = await withTimeout('run', 90_000, api.waitForRun(before));
    assert.equal(run.state, 'done', run.message);
    const file = path.join(folder('saved'), 'story-run.json');
    const exported = await vscode.commands.executeCommand<{ ok: boolean; message: string }>('attentionLens.export', {
      format: 'json',
      target: file,
    });
    assert.equal(exported.ok, true, exported.message);
    await closeAllEditors(); // the panel too: the saved run opens in a new one, without the model's run

    const opened = await vscode.commands.executeCommand<{ ok: boolean; message: string; runId?: number }>(
      'attentionLens.openSavedRun',
      file,
    );
    assert.equal(opened.ok, true, opened.message);
    assert.match(
      api.panelNotice?.() ?? '',
      /^Opened story-run\.json: stories260K, \d+ tokens, 5 of 5 layers\. .*without its model/,
    );
    const summary = api.runs.find((r) => r.runId === opened.runId);
    assert.ok(summary && summary.state === 'done');
    assert.deepEqual(summary.tokens, run.tokens, 'the tokens of the run, with their offsets');
    // The numbers are the independent reference's (test/fixtures/models/stories260K/reference_attention.json).
    const ref = JSON.parse(readFileSync(path.join(storiesPath(), 'reference_attention.json'), 'utf8')) as {
      attn: number[][][][];
    };
    const layers = api.attention?.(opened.runId!);
    assert.ok(layers && layers.length === ref.attn.length, 'every layer');
    let worst = 0;
    for (const l of layers) {
      assert.equal(l.heads, ref.attn[l.layer].length);
      for (let h = 0; h < l.heads; h++)
        for (let q = 0; q < l.queryLength; q++)
          for (let k = 0; k < l.keyLength; k++)
            worst = Math.max(
              worst,
              Math.abs(l.data[(h * l.queryLength + q) * l.keyLength + k] - ref.attn[l.layer][h][q][k]),
            );
    }
    assert.ok(worst < 1e-4, `the opened run matches the reference attention (max |Δ| ${worst})`);
    // Hover-free: the saved run is tied to no document.
    const doc = (await editorWith(CONTENT, START, START)).document;
    assert.equal(await lensHover(doc, doc.positionAt(doc.getText().indexOf('Lily') + 1)), undefined);
    assert.ok(editor);
  });

  test('NPY export: the .npy and its sidecar open as the run again, from either file, with the reference attention', async () => {
    const api = await getApi();
    await editorWith(CONTENT, START, START + REF_TEXT.length);
    const before = lastRunId(api);
    fire('attentionLens.showAttention');
    const run = await withTimeout('run', 90_000, api.waitForRun(before));
    assert.equal(run.state, 'done', run.message);
    const dir = folder('npy');
    const file = path.join(dir, 'story.npy');
    const exported = await vscode.commands.executeCommand<{ ok: boolean; message: string }>('attentionLens.export', {
      format: 'npy',
      target: file,
    });
    assert.equal(exported.ok, true, exported.message);
    assert.match(exported.message, /Its tokens and layout: story\.npy\.json\./);
    const sidecarFile = path.join(dir, 'story.npy.json');
    assert.ok(existsSync(sidecarFile), 'the sidecar beside the .npy');
    const sidecar = JSON.parse(readFileSync(sidecarFile, 'utf8')) as {
      format: string;
      array: { file: string; shape: number[] };
      tokens: { text: string; start: number | null; end: number | null }[];
      layers: { layer: number; heads: number; queryLength: number; keyLength: number }[];
    };
    const n = run.tokens.length;
    assert.equal(sidecar.format, 'attention-lens-npy-sidecar');
    assert.deepEqual(sidecar.array.file, 'story.npy');
    assert.deepEqual(sidecar.array.shape, [5, 8, n, n]);
    assert.deepEqual(
      sidecar.tokens.map(({ text, start, end }) => ({ text, start, end })),
      run.tokens,
      'the tokens with their offsets',
    );
    assert.deepEqual(
      sidecar.layers.map((l) => [l.layer, l.heads, l.queryLength, l.keyLength]),
      [0, 1, 2, 3, 4].map((l) => [l, 8, n, n]),
    );
    // The array holds the reference attention (test/fixtures/models/stories260K/reference_attention.json).
    const ref = JSON.parse(readFileSync(path.join(storiesPath(), 'reference_attention.json'), 'utf8')) as {
      attn: number[][][][];
    };
    const npy = readNpy(file);
    assert.deepEqual(npy.shape, sidecar.array.shape);
    const flat = ref.attn.flat(3);
    assert.equal(npy.data.length, flat.length);
    assert.ok(
      flat.every((v, i) => Math.abs(v - npy.data[i]) < 1e-4),
      'the .npy holds the reference attention [layers, heads, query, key]',
    );
    await closeAllEditors();

    for (const open of [file, sidecarFile]) {
      const opened = await vscode.commands.executeCommand<{ ok: boolean; message: string; runId?: number }>(
        'attentionLens.openSavedRun',
        open,
      );
      assert.equal(opened.ok, true, `${path.basename(open)}: ${opened.message}`);
      const summary = api.runs.find((r) => r.runId === opened.runId);
      assert.deepEqual(summary?.tokens, run.tokens, 'the tokens of the run');
      const layers = api.attention?.(opened.runId!);
      assert.equal(layers?.length, 5, 'every layer');
      let worst = 0;
      for (const l of layers!)
        for (let h = 0; h < l.heads; h++)
          for (let q = 0; q < l.queryLength; q++)
            for (let k = 0; k < l.keyLength; k++)
              worst = Math.max(
                worst,
                Math.abs(l.data[(h * l.queryLength + q) * l.keyLength + k] - ref.attn[l.layer][h][q][k]),
              );
      assert.ok(worst < 1e-4, `${path.basename(open)}: the reference attention (max |Δ| ${worst})`);
      assert.match(api.panelNotice?.() ?? '', /^Opened story\.npy(\.json)?: stories260K, \d+ tokens, 5 of 5 layers\./);
    }
  });

  test('the status bar follows the panel layer by layer during a long run (SmolLM2, one stage per layer)', async () => {
    const api = await getApi();
    await withSmol(async () => {
      await editorWith(CONTENT, START, START + REF_TEXT.length);
      // Layers stream to a webview that said `ready`; one that is still loading gets the run replayed afterwards. On
      // a loaded machine a fresh panel's webview can take longer than this 14-token run, so a first run opens the
      // panel and the streamed run is the second, once the webview is ready.
      const opened = lastRunId(api);
      fire('attentionLens.showAttention');
      assert.equal((await withTimeout('first run', 200_000, api.waitForRun(opened))).state, 'done');
      await until('the panel ready', 60_000, () => api.panelReady?.() === true);
      await editorWith(CONTENT, START, START + REF_TEXT.length);
      const before = lastRunId(api);
      fire('attentionLens.showAttention');
      const run = await withTimeout('run', 200_000, api.waitForRun(before));
      assert.equal(run.state, 'done', run.message);
      assert.equal(run.layers.length, SMOL_LAYERS);
      const seen = new Set<number>();
      const atLayers = (api.statusAtLayers?.() ?? []).filter((r) => {
        if (r.runId !== run.runId || seen.has(r.layer)) return false; // the stream, not a replay after a reload
        seen.add(r.layer);
        return true;
      });
      assert.ok(atLayers.length >= SMOL_LAYERS - 2, `the panel received the layers as they came (${atLayers.length})`);
      const disagree = atLayers.filter((r) => !r.text.endsWith(`: layer ${r.layer + 1}/${SMOL_LAYERS}`));
      assert.deepEqual(
        disagree.map((r) => `layer ${r.layer + 1}: "${r.text}"`),
        [],
        'the status bar says the layer the panel receives',
      );
      await until('the status bar back to the model', 5_000, () => !/layer \d+\//.test(api.statusText?.() ?? ''));
    });
  });

  test('closing the panel while its run streams cancels the run, and the log has no "Panel did not take" line', async () => {
    const api = await getApi();
    await withSmol(async () => {
      // A long selection (~500 tokens): each layer takes a while, so the panel closes with layers still to come.
      const long = Array.from({ length: 30 }, () => REF_TEXT).join(' ');
      await editorWith(`${TITLE}${long}\n`, START, START + long.length);
      const before = lastRunId(api);
      const logFrom = api.logLines?.().length ?? 0;
      fire('attentionLens.showAttention');
      // Part-way: the status bar counts a layer the panel received, and more are to come.
      await until('a few layers streamed', 200_000, () => /: layer ([1-9]|1\d)\/30$/.test(api.statusText?.() ?? ''));
      await vscode.window.tabGroups.close(panelTabs());
      const run = await withTimeout('run', 60_000, api.waitForRun(before));
      assert.equal(run.state, 'cancelled', `the run ended ${run.state}: ${run.message ?? ''}`);
      assert.ok(run.layers.length < SMOL_LAYERS, `stopped part-way (${run.layers.length} layers)`);
      assert.equal(api.panelCount?.(), 0);
      await sleep(1000); // the posts in flight when it closed have settled
      const lines = (api.logLines?.() ?? []).slice(logFrom);
      assert.deepEqual(
        lines.filter((l) => /did not take|Posting '.*' failed/.test(l)),
        [],
        `the log: ${lines.join(' | ')}`,
      );
      await until('the status bar back to the model', 5_000, () => !/layer \d+\//.test(api.statusText?.() ?? ''));
    });
  });
});
