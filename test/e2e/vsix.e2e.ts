// E2E: the packaged extension. Installs a .vsix (scripts/package-vsix.mjs) into a fresh code-server with
// `--install-extension` (no development path) and runs "Attention Lens: Show Attention" through the UI.
//   VSIX_PATH=vsix/attention-lens-0.1.0-linux-x64.vsix VSIX_UNIVERSAL_PATH=vsix/attention-lens-0.1.0.vsix \
//     npx tsx test/e2e/vsix.e2e.ts
//   npx tsx test/e2e/vsix.e2e.ts      (packages both first: build --production + vsce)
// The linux-x64 package runs once on the wasm backend (onnxruntime-web's .wasm from the package) and once on native
// (onnxruntime-node's linux/x64 binding from the package). The universal package (no native binary: the stand-in
// for the platforms this machine cannot run, Intel Macs included) runs on `auto`, which must land on Wasm and say
// in the status bar that the package has no native binary. Screenshots:
// test-results/screenshots/vsix-panel-{wasm,native,universal}.png
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

let packaged: Map<string, string> | undefined;
/** The package of a target: from VSIX_PATH (linux-x64) / VSIX_UNIVERSAL_PATH, else packaged here (both at once). */
function vsixPath(target: 'linux-x64' | 'universal'): string {
  const given = target === 'universal' ? process.env.VSIX_UNIVERSAL_PATH : process.env.VSIX_PATH;
  if (given) return given;
  if (!packaged) {
    const script = join(repoRoot, 'scripts', 'package-vsix.mjs');
    const out = spawnSyncOk(process.execPath, [script, '--target', 'linux-x64', '--target', 'universal']);
    packaged = new Map(
      out.split('\n').flatMap((l) => {
        const m = /^VSIX (\S+) (.+)$/.exec(l);
        return m ? [[m[1], m[2].trim()] as [string, string]] : [];
      }),
    );
  }
  const path = packaged.get(target);
  if (!path) throw new Error(`package-vsix.mjs printed no VSIX line for ${target}`);
  return path;
}

/** The Attention Lens status bar item's hover text ("Attention Lens model: … (…, wasm, 2 threads). Runs on …"). */
async function statusTooltip(page: Page): Promise<string> {
  const item = page.locator('.statusbar-item', { hasText: 'stories260K' }).first();
  await item.waitFor({ state: 'visible', timeout: 30_000 });
  for (let attempt = 0; attempt < 5; attempt++) {
    await page.mouse.move(0, 0);
    await item.hover();
    const hover = page.locator('.workbench-hover, .monaco-hover').filter({ hasText: 'Attention Lens model' }).first();
    try {
      await hover.waitFor({ state: 'visible', timeout: 4000 });
      const text = (await hover.textContent()) ?? '';
      if (/\b(native|wasm|webgpu)\b/.test(text)) return text;
    } catch {
      /* hover not shown yet */
    }
  }
  throw new Error('could not read the status bar item hover');
}

/** Reads the backend from the status bar item's hover. */
async function statusBackend(page: Page): Promise<string> {
  return /\b(native|wasm|webgpu)\b/.exec(await statusTooltip(page))![1];
}

/** The one installed Attention Lens folder in the server's extensions folder. */
function installedFolder(extensionsDir: string): string {
  const installed = readdirSync(extensionsDir).filter((d) => d.startsWith('attention-lens.attention-lens-'));
  assert.equal(
    installed.length,
    1,
    `installed extension folder in ${extensionsDir}: ${readdirSync(extensionsDir).join(', ')}`,
  );
  return join(extensionsDir, installed[0]);
}

export const tests: E2ETest[] = [
  {
    name: 'the .vsix installs with --install-extension; Show Attention reaches layers 5/5 on wasm and on native',
    timeoutMs: 300_000,
    fn: async () => {
      const vsix = vsixPath('linux-x64');
      assert.ok(existsSync(vsix), `${vsix} does not exist`);
      // Start on the wasm backend (onnxruntime-web's .wasm must be in the package), then switch to native.
      const server = await startCodeServer({
        label: 'vsix',
        installVsix: [vsix],
        settings: { 'attentionLens.backend': 'wasm' },
      });
      const binding = join(
        installedFolder(server.extensionsDir),
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
  {
    name: 'the universal .vsix (no native binary) installs; Show Attention on auto runs on Wasm and says why',
    timeoutMs: 240_000,
    fn: async () => {
      const vsix = vsixPath('universal');
      assert.ok(existsSync(vsix), `${vsix} does not exist`);
      const server = await startCodeServer({
        label: 'vsix-universal',
        installVsix: [vsix],
        settings: { 'attentionLens.backend': 'auto' },
      });
      const folder = installedFolder(server.extensionsDir);
      assert.ok(
        !existsSync(join(folder, 'node_modules', 'onnxruntime-node', 'bin')),
        `the universal package installed no onnxruntime-node binary (${folder})`,
      );
      writeWorkspaceFile(server.workspace, 'story.txt', [REF_TEXT, SHORT_TEXT]);
      const session = await launchBrowser();
      const page = session.page;
      try {
        await openWorkbench(page, server.workbenchUrl());
        await showAttentionOnLine(page, 'story.txt', 0);
        const status = await waitForAllLayers(page, 120_000);
        log(`vsix panel status (universal): ${status}`);
        assert.equal(await panel(page).locator('.thumb').count(), 40);
        const tooltip = await statusTooltip(page);
        log(`status bar tooltip (universal): ${tooltip}`);
        assert.equal(await statusBackend(page), 'wasm', 'auto lands on Wasm without a native binary');
        assert.match(tooltip, /No native onnxruntime binary for linux-x64 in this package/);
        await screenshot(page, 'vsix-panel-universal');
      } catch (e) {
        await screenshot(page, 'vsix-universal-failure');
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
    const vsix = vsixPath('linux-x64');
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
