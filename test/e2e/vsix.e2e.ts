// E2E: the packaged extension. Installs the .vsix (scripts/package-vsix.mjs) into a fresh code-server with
// `--install-extension` (no development path) and runs "Attention Lens: Show Attention" through the UI.
//   VSIX_PATH=attention-lens-0.1.0-linux-x64.vsix npx tsx test/e2e/vsix.e2e.ts
//   npx tsx test/e2e/vsix.e2e.ts      (packages first: build --production + vsce)
// Runs once on the wasm backend (onnxruntime-web's .wasm from the package) and once on native (onnxruntime-node's
// linux/x64 binding from the package). Screenshots: test-results/screenshots/vsix-panel-{wasm,native}.png
import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { join } from 'node:path';
import {
  launchBrowser,
  log,
  openWorkbench,
  repoRoot,
  screenshot,
  spawnSyncOk,
  startCodeServer,
  writeSettings,
  type E2ETest,
} from '../helpers/code-server';
import {
  REF_TEXT,
  panel,
  runIfMain,
  showAttentionOnLine,
  waitForAllLayers,
  waitForText,
  writeWorkspaceFile,
} from './common';

const SHORT_TEXT = 'Once upon a time, there was a little girl';

let packaged: string | undefined;
function vsixPath(): string {
  if (process.env.VSIX_PATH) return process.env.VSIX_PATH;
  if (packaged) return packaged;
  const out = spawnSyncOk(process.execPath, [join(repoRoot, 'scripts', 'package-vsix.mjs')]);
  const line = out.split('\n').find((l) => l.startsWith('VSIX '));
  if (!line) throw new Error(`package-vsix.mjs printed no VSIX line:\n${out}`);
  packaged = line.slice(5).trim();
  return packaged;
}

/** Reads the backend from the Attention Lens status bar item's hover ("…, wasm, 2 threads…"). */
async function statusBackend(page: Page): Promise<string> {
  const item = page.locator('.statusbar-item', { hasText: 'stories260K' }).first();
  await item.waitFor({ state: 'visible', timeout: 30_000 });
  for (let attempt = 0; attempt < 5; attempt++) {
    await page.mouse.move(0, 0);
    await item.hover();
    const hover = page.locator('.workbench-hover, .monaco-hover').filter({ hasText: 'Attention Lens model' }).first();
    try {
      await hover.waitFor({ state: 'visible', timeout: 4000 });
      const text = (await hover.textContent()) ?? '';
      const m = /\b(native|wasm)\b/.exec(text);
      if (m) return m[1];
    } catch {
      /* hover not shown yet */
    }
  }
  throw new Error('could not read the backend from the status bar item hover');
}

export const tests: E2ETest[] = [
  {
    name: 'the .vsix installs with --install-extension; Show Attention reaches layers 5/5 on wasm and on native',
    timeoutMs: 300_000,
    fn: async () => {
      const vsix = vsixPath();
      assert.ok(existsSync(vsix), `${vsix} does not exist`);
      // Start on the wasm backend (onnxruntime-web's .wasm must be in the package), then switch to native.
      const server = await startCodeServer({
        label: 'vsix',
        installVsix: [vsix],
        settings: { 'attentionLens.backend': 'wasm' },
      });
      const installed = readdirSync(server.extensionsDir).filter((d) => d.startsWith('attention-lens.attention-lens-'));
      assert.equal(
        installed.length,
        1,
        `installed extension folder in ${server.extensionsDir}: ${readdirSync(server.extensionsDir).join(', ')}`,
      );
      const binding = join(
        server.extensionsDir,
        installed[0],
        'node_modules',
        'onnxruntime-node',
        'bin',
        'napi-v6',
        'linux',
        'x64',
        'onnxruntime_binding.node',
      );
      assert.ok(existsSync(binding), `onnxruntime-node's binding was installed with the extension (${binding})`);
      writeWorkspaceFile(server.workspace, 'story.txt', [REF_TEXT, SHORT_TEXT]);
      const session = await launchBrowser();
      const page = session.page;
      try {
        await openWorkbench(page, server.workbenchUrl()); // no extensionDevelopmentPath: the installed copy runs
        await showAttentionOnLine(page, 'story.txt', 0);
        const status1 = await waitForAllLayers(page, 120_000);
        log(`vsix panel status (wasm): ${status1}`);
        assert.equal(await panel(page).locator('.thumb').count(), 40);
        const title = await page.title();
        assert.ok(
          !title.includes('Extension Development Host'),
          `the installed extension ran, not a development copy (title: ${title})`,
        );
        assert.equal(await statusBackend(page), 'wasm', 'first run on the wasm backend');
        await screenshot(page, 'vsix-panel-wasm');

        // Switch to the native backend: rewrite the user settings file and reload the window (code-server does
        // not pick up outside edits of the user settings file while the window is open).
        const settings = JSON.parse(readFileSync(join(server.userDataDir, 'User', 'settings.json'), 'utf8')) as Record<
          string,
          unknown
        >;
        writeSettings(server.userDataDir, { ...settings, 'attentionLens.backend': 'native' });
        await openWorkbench(page, server.workbenchUrl());
        await showAttentionOnLine(page, 'story.txt', 1);
        const status2 = await waitForText(
          'panel #run-status after the second run',
          panel(page).locator('#run-status'),
          (t) => /\b13 tokens\b/.test(t) && /layers 5\/5/.test(t),
          120_000,
        );
        log(`vsix panel status (native): ${status2}`);
        assert.equal(
          await statusBackend(page),
          'native',
          'second run on the native backend (onnxruntime-node binding from the package)',
        );
        await screenshot(page, 'vsix-panel-native');
      } catch (e) {
        await screenshot(page, 'vsix-failure');
        throw e;
      }
    },
  },
];

/** Notification toasts' texts. */
async function toastTexts(page: Page): Promise<string[]> {
  return page
    .locator('.notifications-toasts .notification-toast')
    .evaluateAll((els) => els.map((e) => (e as HTMLElement).innerText.replace(/\s+/g, ' ').trim()));
}

tests.push({
  name: 'a model path in User settings only: after a colour theme change and a reload the next run still uses it',
  timeoutMs: 300_000,
  fn: async () => {
    const vsix = vsixPath();
    const server = await startCodeServer({
      label: 'vsix-remote-settings',
      installVsix: [vsix],
      settings: { 'attentionLens.backend': 'wasm' },
    });
    // The model path in the User settings only, as a user sets it; the Remote (Machine) settings do not have it.
    const machineFile = join(server.userDataDir, 'Machine', 'settings.json');
    assert.ok(existsSync(machineFile));
    const machine = JSON.parse(readFileSync(machineFile, 'utf8')) as Record<string, unknown>;
    delete machine['attentionLens.modelPath'];
    writeFileSync(machineFile, JSON.stringify(machine, null, 2));
    writeWorkspaceFile(server.workspace, 'story.txt', [REF_TEXT, SHORT_TEXT]);
    const session = await launchBrowser();
    const page = session.page;
    try {
      await openWorkbench(page, server.workbenchUrl());
      await showAttentionOnLine(page, 'story.txt', 0);
      await waitForAllLayers(page, 120_000);
      // An unrelated settings change: the colour theme, in the User settings file, then the window reloads (code-server
      // reads an outside edit of that file on reload). VS Code now knows the setting's scope and drops the User value.
      const userFile = join(server.userDataDir, 'User', 'settings.json');
      const user = JSON.parse(readFileSync(userFile, 'utf8')) as Record<string, unknown>;
      writeFileSync(userFile, JSON.stringify({ ...user, 'workbench.colorTheme': 'Default Light Modern' }, null, 2));
      await openWorkbench(page, server.workbenchUrl());
      await showAttentionOnLine(page, 'story.txt', 1);
      const status = await waitForText(
        'panel #run-status after the theme change',
        panel(page).locator('#run-status'),
        (t) => /\b13 tokens\b/.test(t) && /layers 5\/5/.test(t),
        120_000,
      );
      log(`after the theme change: ${status}`);
      const said = await toastTexts(page);
      log(`notifications: ${said.join(' | ')}`);
      assert.ok(!said.some((t) => /No model selected|Download/.test(t)), `no download offer: ${said.join(' | ')}`);
      const statusItem = page.locator('.statusbar-item', { hasText: 'stories260K' }).first();
      await statusItem.waitFor({ state: 'visible', timeout: 30_000 });
      await screenshot(page, 'vsix-model-path-after-theme');
    } catch (e) {
      await screenshot(page, 'vsix-remote-settings-failure');
      throw e;
    }
  },
});

runIfMain(import.meta.url, 'vsix', tests);
