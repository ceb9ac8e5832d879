// E2E: the model manager in a real VS Code (code-server + Debian's chromium, driven through the UI with
// playwright-core). The Hugging Face Hub is a local Hub-shaped server started here (test/helpers/hub-server.ts),
// serving the default model (all-MiniLM-L6-v2, from .cache/models) and the test models of test/fixtures; code-server's extension
// host gets HF_HUB_CACHE = a fresh temp folder and attentionLens.hubEndpoint = that server.
//   npx tsx test/e2e/models.e2e.ts          (alone; after `node scripts/build.mjs`) — or scripts/vscode-tests.mjs models
// Screenshots: test-results/screenshots/models-*.png
//
// 1. First use, declined: with no model configured Show Attention asks (a notification) whether to download the
//    default model; "Not Now" gives a warning that says how to choose one, nothing is downloaded, no panel breaks,
//    and the next Show Attention does not ask again; Select Model still lists the default model, and choosing it works.
// 2. First use, accepted: the download shows its progress (file, MB, speed) in a notification, and the panel says
//    "Loading all-MiniLM-L6-v2… (downloading N of M MB)" until the run replaces it; the panel draws all 6 × 12 heads; the
//    next Show Attention does not ask and downloads nothing; with attentionLens.idleUnloadMinutes set, the idle model
//    is released (status bar) and the next run loads it again from the cache.
// 3. Select Model: the list shows the current and cached models with family, layers × heads and size, and Browse…;
//    choosing a cached model switches (the panel reports 5 layers × 8 heads); typing a Hub id downloads it from the
//    local server (2 × 2); switching while a run is still loading (downloading) its model (the panel, still showing the
//    previous run, says it is loading) cancels it without an error notification, and the run completes on the new model.
// 4. Ollama: with OLLAMA_MODELS pointing at a folder laid out as `ollama pull` leaves it (a manifest whose model layer
//    names a sha256 blob: SmolLM2-135M-Instruct Q4_1, fetched by scripts/fetch-model.mjs), Select Model lists
//    smollm2:135m with Ollama · llama · Q4_1 · size; choosing it runs the GGUF model (30 layers × 9 heads). Then
//    "Show Attention as Chat Prompt" on a selected line runs it inside SmolLM2's own ChatML template (30 × 9 heads
//    again); the head view marks the template's tokens (data-template, drawn dimmer) and only the line's are not.
// 5. The token: with a token stored (Set Hugging Face Token), a gated model, the user's endpoint on one local Hub and
//    the workspace's .vscode/settings.json naming another, the workspace's Hub is never contacted; the user's gets
//    the token only after the modal question is answered "Send Token", and a second model from it is not asked again.
// 6. Restricted Mode: with Workspace Trust on and the folder not trusted, the workspace's attentionLens.modelPath is
//    not loaded: Show Attention says so in one warning and runs the model of the user settings.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import {
  launchBrowser,
  log,
  openFile,
  openWorkbench,
  repoRoot,
  runCommand,
  screenshot,
  sleep,
  spawnSyncOk,
  startCodeServer,
  type BrowserSession,
  type CodeServer,
  type E2ETest,
} from '../helpers/code-server';
import { panel, runIfMain, showAttentionOnLine, until, writeWorkspaceFile } from './common';
import { repoFromFolder, startHubServer, type HubServer } from '../helpers/hub-server';
import { resolveHubModel } from '../../runtime/hub/download';

const FILE = 'notes.txt';
/** Lines with different token counts, so that each run is told apart by the panel's "N tokens" (all-MiniLM-L6-v2:
 * 9, 17, 14, 6 tokens; stories260K: 11, 51, 15, 10; tiny-gpt2: 7, 16, 12, 4 — special tokens included). */
const LINES = [
  'The cat sat on the mat.',
  'Attention shows which words each word looks at when the model reads a sentence.',
  'Once upon a time there was a little girl named Lily.',
  'A short one.',
];
const DEFAULT_ID = 'sentence-transformers/all-MiniLM-L6-v2';
const STORIES_ID = 'test-org/stories260K';
const GPT2_ID = 'test-org/tiny-gpt2';
/** The default model's files under another id, served slowly: a download that is still running when the user switches. */
const SLOW_ID = 'test-org/minilm-slow';
const SELECT_MODEL = 'Attention Lens: Select Model';

const fixtureModels = join(repoRoot, 'test', 'fixtures', 'models');

function minilmDir(): string {
  const dir = join(repoRoot, '.cache', 'models', 'all-MiniLM-L6-v2');
  if (!existsSync(join(dir, 'model.safetensors'))) {
    log('fetching all-MiniLM-L6-v2 (scripts/fetch-model.mjs)');
    spawnSyncOk(process.execPath, [join(repoRoot, 'scripts', 'fetch-model.mjs')]);
  }
  return dir;
}

function smolGguf(): string {
  const file = join(repoRoot, '.cache', 'models', 'SmolLM2-135M-Instruct-GGUF', 'SmolLM2-135M-Instruct.Q4_1.gguf');
  if (!existsSync(file)) {
    log('fetching SmolLM2-135M-Instruct (scripts/fetch-model.mjs)');
    spawnSyncOk(process.execPath, [join(repoRoot, 'scripts', 'fetch-model.mjs'), 'smollm2']);
  }
  return file;
}

/** Gated repositories (served only with the Hub's token), for the token test. */
const GATED_STORIES = 'test-org/gated-stories';
const GATED_GPT2 = 'test-org/gated-gpt2';
const HUB_TOKEN = 'hf_e2eTOKEN0123456789abcdef';

async function startHub(): Promise<HubServer> {
  const minilm = minilmDir();
  const hub = await startHubServer(
    {
      [DEFAULT_ID]: repoFromFolder(DEFAULT_ID, minilm),
      [SLOW_ID]: repoFromFolder(SLOW_ID, minilm),
      [STORIES_ID]: repoFromFolder(STORIES_ID, join(fixtureModels, 'stories260K')),
      [GPT2_ID]: repoFromFolder(GPT2_ID, join(fixtureModels, 'tiny-gpt2')),
      [GATED_STORIES]: repoFromFolder(GATED_STORIES, join(fixtureModels, 'stories260K')),
      [GATED_GPT2]: repoFromFolder(GATED_GPT2, join(fixtureModels, 'tiny-gpt2')),
    },
    HUB_TOKEN,
  );
  hub.faults.gated.add(GATED_STORIES);
  hub.faults.gated.add(GATED_GPT2);
  return hub;
}

interface Env {
  hub: HubServer;
  cache: string;
  server: CodeServer;
  session: BrowserSession;
  page: Page;
  close(): Promise<void>;
}

/** The local Hub, an empty (or pre-filled) HF cache, code-server with no model configured, the workbench. */
async function start(
  label: string,
  opts: {
    modelPath?: string;
    precache?: string[];
    env?: Record<string, string>;
    /** The workspace's .vscode/settings.json. */
    workspaceSettings?: Record<string, unknown>;
    /** Workspace Trust on: the folder opens untrusted (Restricted Mode) after the trust question. */
    workspaceTrust?: boolean;
  } = {},
): Promise<Env> {
  const hub = await startHub();
  const cache = mkdtempSync(join(tmpdir(), 'al-hf-cache-'));
  let server: CodeServer | undefined;
  try {
    for (const id of opts.precache ?? [])
      await resolveHubModel(id, { endpoint: hub.url, cacheDir: cache, token: null });
    hub.requests.length = 0;
    server = await startCodeServer({
      label,
      workspaceTrust: opts.workspaceTrust,
      settings: {
        'attentionLens.modelPath': opts.modelPath ?? '',
        'attentionLens.hubEndpoint': hub.url,
        'attentionLens.idleUnloadMinutes': 15,
      },
      // The extension host inherits code-server's environment: the cache, and no Hub settings from outside.
      env: {
        HF_HUB_CACHE: cache,
        HF_ENDPOINT: '',
        HF_HUB_OFFLINE: '',
        HF_TOKEN: '',
        HUGGING_FACE_HUB_TOKEN: '',
        OLLAMA_MODELS: join(cache, 'no-ollama'),
        ...opts.env,
      },
    });
    writeWorkspaceFile(server.workspace, FILE, [...LINES, '']);
    if (opts.workspaceSettings) {
      mkdirSync(join(server.workspace, '.vscode'), { recursive: true });
      writeFileSync(
        join(server.workspace, '.vscode', 'settings.json'),
        JSON.stringify(opts.workspaceSettings, null, 2),
      );
    }
    const session = await launchBrowser({ echoLogs: false });
    session.page.on('dialog', (d) => void d.dismiss().catch(() => undefined));
    await openWorkbench(session.page, server.workbenchUrl({ devPath: process.env.EXT_DEV_PATH ?? repoRoot }));
    const srv = server;
    return {
      hub,
      cache,
      server: srv,
      session,
      page: session.page,
      close: async () => {
        await session.close();
        await srv.stop();
        await hub.close();
        rmSync(cache, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await server?.stop();
    await hub.close();
    rmSync(cache, { recursive: true, force: true });
    throw e;
  }
}

const toasts = (page: Page) => page.locator('.notifications-toasts .notification-toast');
const toast = (page: Page, text: string | RegExp) => toasts(page).filter({ hasText: text });
async function toastTexts(page: Page): Promise<string[]> {
  return toasts(page).evaluateAll((els) => els.map((e) => (e as HTMLElement).innerText.replace(/\s+/g, ' ').trim()));
}
/** Error notifications currently shown as toasts. */
async function errorToasts(page: Page): Promise<string[]> {
  return toasts(page)
    .filter({ has: page.locator('.codicon-error') })
    .evaluateAll((els) => els.map((e) => (e as HTMLElement).innerText.replace(/\s+/g, ' ').trim()));
}
/** Every notification still listed in the notification center (toasts that timed out included). */
async function allNotifications(page: Page): Promise<{ text: string; error: boolean }[]> {
  // On a loaded machine the command may run before the workbench has settled focus after the palette closes, and
  // the center stays hidden: the command is run again (three tries) before the test gives up.
  const center = page.locator('.notifications-center');
  for (let attempt = 0; ; attempt++) {
    await runCommand(page, 'Notifications: Show Notifications');
    try {
      await center.waitFor({ state: 'visible', timeout: 10_000 });
      break;
    } catch (e) {
      if (attempt >= 2) throw e;
      log(`notification center not shown (try ${attempt + 1}); running the command again`);
      await page.keyboard.press('Escape');
      await sleep(1000);
    }
  }
  const rows = page.locator('.notifications-center .monaco-list-row');
  await sleep(300);
  const all = await rows.evaluateAll((els) =>
    els.map((e) => ({
      text: (e as HTMLElement).innerText.replace(/\s+/g, ' ').trim(),
      error: !!e.querySelector('.codicon-error'),
    })),
  );
  await page.keyboard.press('Escape');
  return all;
}
async function clearNotifications(page: Page): Promise<void> {
  await runCommand(page, 'Notifications: Clear All Notifications');
  await until(
    'notifications cleared',
    () => toasts(page).count(),
    (n) => n === 0,
    15_000,
  );
}

/** The extension's status bar item (the one with the telescope icon; a spinner while loading or running). */
function statusItem(page: Page): Locator {
  return page
    .locator('.statusbar-item')
    .filter({ hasText: /Attention Lens|stories260K|tiny-gpt2|MiniLM|minilm|smollm2|gated-/ });
}
async function statusText(page: Page): Promise<string> {
  return ((await statusItem(page).first().innerText()) ?? '').trim();
}

/** The panel's run status once it reports `tokens` tokens and the run is done ("name · N tokens · layers L/L · done …"). */
async function waitForRun(page: Page, name: string, tokens: number, layers: number, ms = 120_000): Promise<string> {
  const status = panel(page).locator('#run-status');
  return until(
    `panel run of ${name} (${tokens} tokens, ${layers} layers)`,
    async () => (await status.first().textContent({ timeout: 2000 })) ?? '',
    (t) =>
      t.startsWith(`${name} ·`) &&
      t.includes(` ${tokens} tokens`) &&
      t.includes(`layers ${layers}/${layers}`) &&
      /done/.test(t),
    ms,
  );
}
async function thumbCount(page: Page): Promise<number> {
  return panel(page).locator('.thumb').count();
}

/** The rows of the open quick pick: label, description, detail as shown. */
async function quickPickRows(page: Page): Promise<string[]> {
  const rows = page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
  await rows.first().waitFor({ state: 'visible', timeout: 15_000 });
  await sleep(300);
  return rows.evaluateAll((els) => els.map((e) => (e as HTMLElement).innerText.replace(/\s+/g, ' ').trim()));
}
async function openSelectModel(page: Page): Promise<void> {
  await runCommand(page, SELECT_MODEL);
  await until(
    'the Select Model quick pick',
    () => page.locator('.quick-input-widget .quick-input-title').innerText(),
    (t) => t.includes('Select Model'),
    20_000,
  );
}
async function pickRow(page: Page, text: string | RegExp): Promise<void> {
  const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row').filter({ hasText: text }).first();
  await row.waitFor({ state: 'visible', timeout: 15_000 });
  await row.click();
}

/** Merges `patch` into the user and remote (Machine) settings files as code-server has them now. */
function patchSettings(server: CodeServer, patch: Record<string, unknown>): void {
  for (const f of [
    join(server.userDataDir, 'User', 'settings.json'),
    join(server.userDataDir, 'Machine', 'settings.json'),
  ]) {
    const now = existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8') || '{}') as Record<string, unknown>) : {};
    writeFileSync(f, JSON.stringify({ ...now, ...patch }, null, 2));
  }
}

function cachedSnapshot(cache: string, id: string): string | undefined {
  const root = join(cache, `models--${id.replace('/', '--')}`);
  try {
    const commit = readFileSync(join(root, 'refs', 'main'), 'utf8').trim();
    const dir = join(root, 'snapshots', commit);
    return existsSync(join(dir, 'model.safetensors')) ? dir : undefined;
  } catch {
    return undefined;
  }
}
const fileRequests = (hub: HubServer, id: string) => hub.fileRequests().filter((r) => r.file?.startsWith(`${id}/`));

export const tests: E2ETest[] = [
  {
    name: 'first use, declined: asks once, says how to choose a model, downloads nothing; Select Model still offers it',
    timeoutMs: 180_000,
    fn: async () => {
      const env = await start('models-decline');
      const { page, hub } = env;
      try {
        await showAttentionOnLine(page, FILE, 0);
        const offer = toast(page, /needs a model/);
        await offer.first().waitFor({ state: 'visible', timeout: 60_000 });
        const offerText = (await toastTexts(page)).find((t) => t.includes('needs a model')) ?? '';
        log(`offer: ${offerText}`);
        assert.match(offerText, /Download sentence-transformers\/all-MiniLM-L6-v2/);
        assert.match(offerText, /Not Now/);
        await screenshot(page, 'models-offer');
        await offer.locator('.monaco-button', { hasText: 'Not Now' }).first().click();

        const warning = await until(
          'the no-model warning',
          () => toastTexts(page),
          (ts) => ts.some((t) => t.includes('No model selected')),
          30_000,
        );
        log(`after declining: ${JSON.stringify(warning)}`);
        assert.ok(
          warning.some((t) => /No model selected.*Select Model/.test(t)),
          'the warning says how to choose a model and offers Select Model…',
        );
        assert.deepEqual(await errorToasts(page), [], 'no error notification');
        assert.equal(hub.fileRequests().length, 0, 'nothing was downloaded');
        assert.match(await statusText(page), /select model/i, 'status bar: no model');
        await screenshot(page, 'models-declined');

        // Asked once: the next Show Attention only warns.
        await clearNotifications(page);
        await showAttentionOnLine(page, FILE, 1);
        await until(
          'the no-model warning again',
          () => toastTexts(page),
          (ts) => ts.some((t) => t.includes('No model selected')),
          30_000,
        );
        await sleep(1500);
        const after = await toastTexts(page);
        assert.ok(!after.some((t) => t.includes('needs a model')), `not asked again: ${JSON.stringify(after)}`);
        assert.deepEqual(await errorToasts(page), [], 'no error notification');
        assert.equal(hub.requests.length, 0, 'the Hub was never contacted');
        assert.equal(await page.locator('iframe.webview').count(), 0, 'no panel was opened without a model');

        // Nothing is lost by declining: Select Model still offers the default model, and it works.
        await clearNotifications(page);
        await openSelectModel(page);
        const rows = await quickPickRows(page);
        log(`Select Model rows: ${JSON.stringify(rows)}`);
        assert.ok(
          rows.some((r) => r.includes(DEFAULT_ID) && /Hugging Face Hub · bert · 6 × 12 · 91 MB/.test(r)),
          `the default model is offered: ${JSON.stringify(rows)}`,
        );
        await pickRow(page, DEFAULT_ID);
        // The setting is written asynchronously: run once the status bar names the chosen model.
        await until(
          'status bar: all-MiniLM-L6-v2',
          () => statusText(page),
          (t) => t.includes('all-MiniLM-L6-v2'),
          30_000,
        );
        await showAttentionOnLine(page, FILE, 0);
        await waitForRun(page, 'all-MiniLM-L6-v2', 9, 6);
        assert.equal(await thumbCount(page), 6 * 12);
        assert.ok(
          fileRequests(hub, DEFAULT_ID).some((r) => r.file === `${DEFAULT_ID}/model.safetensors`),
          'downloaded once chosen',
        );
        assert.deepEqual(await errorToasts(page), [], 'no error notification');
      } catch (e) {
        await screenshot(page, 'models-decline-failure');
        throw e;
      } finally {
        await env.close();
      }
    },
  },
  {
    name: 'first use, accepted: download progress, the panel draws; not asked again; idle release and reload',
    timeoutMs: 300_000,
    fn: async () => {
      const env = await start('models-first-use');
      const { page, hub, cache, server } = env;
      try {
        // The transfer is slowed down so that its progress can be seen (91 MB in 1 MB steps, 100 ms apart).
        hub.faults.slow = { bytes: 1024 * 1024, delayMs: 100 };
        await showAttentionOnLine(page, FILE, 0);
        const offer = toast(page, /needs a model/);
        await offer.first().waitFor({ state: 'visible', timeout: 60_000 });
        await offer.locator('.monaco-button', { hasText: 'Download all-MiniLM-L6-v2' }).first().click();

        // The notification and the panel both show the download while it runs.
        const DOWNLOADING = /downloading model\.safetensors: [\d.]+ of 90\.9 MB at [\d.]+ MB\/s/;
        const PANEL_LOADING = /^Loading all-MiniLM-L6-v2… \(downloading [\d.]+ of [\d.]+ MB\)$/;
        let progress: string[] = [];
        let panelLine = '';
        await until(
          'download progress in a notification and in the panel',
          async () => {
            const ts = await toastTexts(page);
            if (ts.some((t) => DOWNLOADING.test(t))) progress = ts;
            const line = await panel(page)
              .locator('#run-status')
              .first()
              .textContent({ timeout: 1000 })
              .catch(() => '');
            if (line && PANEL_LOADING.test(line.trim())) panelLine = line.trim();
            return { notification: progress.length > 0, panel: panelLine };
          },
          (v) => v.notification && v.panel !== '',
          60_000,
        );
        log(`progress: ${progress.find((t) => t.includes('downloading'))}`);
        log(`panel while downloading: ${panelLine}`);
        assert.ok(
          progress.some((t) => /loading all-MiniLM-L6-v2/.test(t)),
          'the notification names the model',
        );
        assert.ok(
          progress.some((t) => /Cancel/.test(t) && /loading all-MiniLM-L6-v2/.test(t)),
          'the progress can be cancelled',
        );
        await screenshot(page, 'models-download-progress');
        hub.faults.slow = undefined;

        const status = await waitForRun(page, 'all-MiniLM-L6-v2', 9, 6);
        log(`panel: ${status}`);
        assert.equal(await thumbCount(page), 6 * 12, 'a thumbnail for each of the 6 layers × 12 heads');
        await screenshot(page, 'models-first-run');
        const snapshot = cachedSnapshot(cache, DEFAULT_ID);
        assert.ok(snapshot, 'the model is in the HF_HUB_CACHE folder, in the Hugging Face layout');
        const downloaded = fileRequests(hub, DEFAULT_ID).map((r) => r.file);
        assert.ok(downloaded.includes(`${DEFAULT_ID}/model.safetensors`), `downloaded: ${downloaded.join(', ')}`);
        assert.deepEqual(await errorToasts(page), [], 'no error notification');

        // Not asked again; nothing downloaded again.
        const files = hub.fileRequests().length;
        await showAttentionOnLine(page, FILE, 1);
        await waitForRun(page, 'all-MiniLM-L6-v2', 17, 6);
        const ts = await toastTexts(page);
        assert.ok(!ts.some((t) => t.includes('needs a model')), `the second run did not ask: ${JSON.stringify(ts)}`);
        assert.equal(hub.fileRequests().length, files, 'the second run downloaded nothing');
        assert.match(await statusText(page), /all-MiniLM-L6-v2 · (native|Wasm)/, 'status bar: the loaded model');

        // Idle release (attentionLens.idleUnloadMinutes; a fraction of a minute here, so the test need not wait 1 min).
        patchSettings(server, { 'attentionLens.idleUnloadMinutes': 0.05 });
        const released = await until(
          'the idle model to be released',
          () => statusText(page),
          (t) => /all-MiniLM-L6-v2/.test(t) && !/·/.test(t),
          60_000,
        );
        log(`status after idle release: ${released}`);
        await screenshot(page, 'models-idle-released');
        patchSettings(server, { 'attentionLens.idleUnloadMinutes': 15 });
        await sleep(1000);
        await showAttentionOnLine(page, FILE, 2);
        await waitForRun(page, 'all-MiniLM-L6-v2', 14, 6);
        assert.match(await statusText(page), /all-MiniLM-L6-v2 · /, 'loaded again');
        assert.equal(hub.fileRequests().length, files, 'reloaded from the cache, not downloaded');
        assert.deepEqual(await errorToasts(page), [], 'no error notification');
        const all = await allNotifications(page);
        assert.deepEqual(
          all.filter((n) => n.error),
          [],
          `no error notification in the notification center: ${JSON.stringify(all)}`,
        );
      } catch (e) {
        await screenshot(page, 'models-first-use-failure');
        throw e;
      } finally {
        await env.close();
      }
    },
  },
  {
    name: 'Select Model: recent and cached models with facts, Browse…, a cached model, a Hub id, switching mid-load',
    timeoutMs: 420_000,
    fn: async () => {
      const env = await start('models-select', { modelPath: DEFAULT_ID, precache: [DEFAULT_ID, STORIES_ID] });
      const { page, hub, cache } = env;
      try {
        await showAttentionOnLine(page, FILE, 0);
        await waitForRun(page, 'all-MiniLM-L6-v2', 9, 6);
        assert.equal(hub.fileRequests().length, 0, 'the configured Hub id came from the cache');

        // The list: the current model with what it turned out to be, the cached one with its config's facts, Browse….
        await openSelectModel(page);
        let rows = await quickPickRows(page);
        log(`Select Model rows: ${JSON.stringify(rows)}`);
        await screenshot(page, 'models-select-list');
        const minilm = rows.find((r) => r.startsWith('all-MiniLM-L6-v2'));
        assert.ok(minilm, `the current model is listed: ${JSON.stringify(rows)}`);
        assert.match(minilm, /current · bert · 6 × 12 · 91 MB/);
        const stories = rows.find((r) => r.startsWith('stories260K'));
        assert.ok(stories, `the cached model is listed: ${JSON.stringify(rows)}`);
        assert.match(stories, /cached · llama · 5 × 8 · 1 MB/);
        assert.match(stories, /test-org\/stories260K/);
        assert.ok(
          rows.some((r) => /Browse for a model folder…/.test(r)),
          'Browse… for a folder',
        );
        assert.ok(
          rows.some((r) => /Browse for an \.onnx or \.gguf file…/.test(r)),
          'Browse… for an .onnx or .gguf file',
        );

        // Choose the cached model: the next run is on it (5 layers × 8 heads).
        await pickRow(page, /^stories260K/);
        await until(
          'status bar: stories260K',
          () => statusText(page),
          (t) => t.includes('stories260K'),
          60_000,
        );
        await showAttentionOnLine(page, FILE, 2);
        const storiesRun = await waitForRun(page, 'stories260K', 15, 5);
        log(`panel: ${storiesRun}`);
        assert.equal(await thumbCount(page), 5 * 8, 'thumbnails for 5 layers × 8 heads');
        assert.equal(fileRequests(hub, STORIES_ID).length, 0, 'the cached model was not downloaded');
        await screenshot(page, 'models-cached-chosen');

        // A Hub id typed in the picker: downloaded from the (local) Hub, then run (gpt2, 2 layers × 2 heads).
        await openSelectModel(page);
        await page.locator('.quick-input-widget input').fill(GPT2_ID);
        const typed = await until(
          'the typed Hub id entry',
          () => quickPickRows(page),
          (r) => r[0]?.includes(GPT2_ID) && /Hugging Face Hub/.test(r[0]),
          15_000,
        );
        log(`typed: ${typed[0]}`);
        await page.keyboard.press('Enter');
        await until(
          'status bar: tiny-gpt2',
          () => statusText(page),
          (t) => t.includes('tiny-gpt2'),
          30_000,
        );
        await showAttentionOnLine(page, FILE, 3);
        const gptRun = await waitForRun(page, 'tiny-gpt2', 4, 2);
        log(`panel: ${gptRun}`);
        assert.equal(await thumbCount(page), 2 * 2, 'thumbnails for 2 layers × 2 heads');
        const got = fileRequests(hub, GPT2_ID).map((r) => r.file);
        assert.ok(got.includes(`${GPT2_ID}/model.safetensors`), `tiny-gpt2 downloaded: ${got.join(', ')}`);
        assert.ok(cachedSnapshot(cache, GPT2_ID), 'tiny-gpt2 is in the cache');

        // Now all three are recent, with their facts.
        await openSelectModel(page);
        rows = await quickPickRows(page);
        log(`Select Model rows: ${JSON.stringify(rows)}`);
        assert.match(rows.find((r) => r.startsWith('tiny-gpt2')) ?? '', /current · gpt2 · 2 × 2 · \d+ kB/);
        assert.match(rows.find((r) => r.startsWith('stories260K')) ?? '', /llama · 5 × 8 · 1 MB/);
        assert.match(rows.find((r) => r.startsWith('all-MiniLM-L6-v2')) ?? '', /bert · 6 × 12 · 91 MB/);
        await page.keyboard.press('Escape');

        // Switching mid-run: a run whose model is still downloading, then another model chosen.
        await clearNotifications(page);
        hub.faults.slow = { bytes: 128 * 1024, delayMs: 200 }; // ~140 s for the 91 MB: still running when we switch
        await openSelectModel(page);
        await page.locator('.quick-input-widget input').fill(SLOW_ID);
        await until(
          'the typed slow Hub id',
          () => quickPickRows(page),
          (r) => r[0]?.includes(SLOW_ID),
          15_000,
        );
        await page.keyboard.press('Enter');
        await until(
          'status bar: minilm-slow',
          () => statusText(page),
          (t) => t.includes('minilm-slow'),
          30_000,
        );
        await showAttentionOnLine(page, FILE, 1);
        await until(
          'the slow download to be under way',
          () => toastTexts(page),
          (ts) => ts.some((t) => /loading minilm-slow.*downloading model\.safetensors: [\d.]+ of 90\.9 MB/.test(t)),
          60_000,
        );
        assert.match(await statusText(page), /Loading minilm-slow/, 'status bar: loading');
        const loadingLine = await until(
          'the panel (showing the previous run) to say the model is loading',
          async () => ((await panel(page).locator('#run-status').first().textContent({ timeout: 1000 })) ?? '').trim(),
          (t) => /^Loading minilm-slow… \(downloading [\d.]+ of [\d.]+ MB\)$/.test(t),
          30_000,
        );
        log(`panel while switching: ${loadingLine}`);
        await screenshot(page, 'models-switch-before');
        await openSelectModel(page);
        await pickRow(page, /^stories260K/);
        const switched = await waitForRun(page, 'stories260K', 51, 5);
        log(`after the switch: ${switched}`);
        assert.equal(await thumbCount(page), 5 * 8, 'the run completed on the new model');
        hub.faults.slow = undefined;
        await screenshot(page, 'models-switch-after');

        const slow = fileRequests(hub, SLOW_ID).filter((r) => r.file === `${SLOW_ID}/model.safetensors`);
        assert.ok(slow.length > 0, 'the slow download had started');
        const size = hub.repos.get(SLOW_ID)!.files.get('model.safetensors')!.size;
        assert.ok(
          slow.every((r) => r.bytes < size),
          `the download was stopped: ${slow.map((r) => r.bytes).join(', ')} of ${size}`,
        );
        assert.equal(cachedSnapshot(cache, SLOW_ID), undefined, 'a partial download is never taken for a model');
        const partial = join(cache, `models--${SLOW_ID.replace('/', '--')}`, 'blobs');
        log(`partial blobs: ${existsSync(partial) ? readdirSync(partial).join(', ') : '(none)'}`);
        assert.match(await statusText(page), /stories260K · /, 'status bar: the new model');
        assert.deepEqual(await errorToasts(page), [], 'no error notification');
        const all = await allNotifications(page);
        log(`notifications: ${JSON.stringify(all)}`);
        assert.deepEqual(
          // "cancelled", not "Cancel": a progress notification still closing shows its Cancel button in its text.
          all.filter((n) => n.error || /cancell?ed|unloaded|fail/i.test(n.text)),
          [],
          'no error or cancellation notification after the switch',
        );
      } catch (e) {
        await screenshot(page, 'models-select-failure');
        throw e;
      } finally {
        await env.close();
      }
    },
  },
  {
    name: 'Select Model: an Ollama model (GGUF) with its quantisation, chosen and run',
    timeoutMs: 300_000,
    fn: async () => {
      // `ollama pull smollm2:135m` as Ollama lays it out, the blob being SmolLM2's GGUF file (linked, not copied).
      const gguf = smolGguf();
      const models = mkdtempSync(join(tmpdir(), 'al-ollama-'));
      const hex = createHash('sha256').update(readFileSync(gguf)).digest('hex');
      mkdirSync(join(models, 'blobs'));
      symlinkSync(gguf, join(models, 'blobs', `sha256-${hex}`));
      const manifests = join(models, 'manifests', 'registry.ollama.ai', 'library', 'smollm2');
      mkdirSync(manifests, { recursive: true });
      writeFileSync(
        join(manifests, '135m'),
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
          config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: `sha256:${'0'.repeat(64)}` },
          layers: [
            { mediaType: 'application/vnd.ollama.image.model', digest: `sha256:${hex}`, size: 98362432 },
            { mediaType: 'application/vnd.ollama.image.template', digest: `sha256:${'1'.repeat(64)}`, size: 10 },
          ],
        }),
      );
      const env = await start('models-ollama', { env: { OLLAMA_MODELS: models } });
      const { page } = env;
      try {
        // As a user starts: a file open (the extension's commands are listed once an editor has opened).
        await openFile(page, FILE);
        await openSelectModel(page);
        const rows = await quickPickRows(page);
        log(`Select Model rows: ${JSON.stringify(rows)}`);
        await screenshot(page, 'models-ollama-list');
        const row = rows.find((r) => r.includes('smollm2:135m'));
        assert.ok(row, `the Ollama model is listed: ${JSON.stringify(rows)}`);
        assert.match(row, /Ollama · llama · Q4_1 · 98 MB/);
        await pickRow(page, 'smollm2:135m');
        await until(
          'status bar: smollm2:135m',
          () => statusText(page),
          (t) => t.includes('smollm2'),
          60_000,
        );
        // "The cat sat on the mat." is 7 SmolLM2 tokens (no BOS).
        await showAttentionOnLine(page, FILE, 0);
        const run = await waitForRun(page, 'smollm2:135m', 7, 30, 180_000);
        log(`panel: ${run}`);
        assert.equal(await thumbCount(page), 30 * 9, 'thumbnails for 30 layers × 9 heads');
        assert.deepEqual(await errorToasts(page), [], 'no error notification');
        await screenshot(page, 'models-ollama-run');

        // The same line as a chat prompt: transformers' apply_chat_template for SmolLM2 writes 24 tokens before the
        // user's text (the default system prompt, "<|im_start|>user\n") and 6 after it ("<|im_end|>\n" and the
        // generation prompt "<|im_start|>assistant\n"; test/fixtures/gguf/smollm2-reference.json): 24 + 7 + 6 = 37.
        await showAttentionOnLine(page, FILE, 0, 'Attention Lens: Show Attention as Chat Prompt');
        const chat = await waitForRun(page, 'smollm2:135m', 37, 30, 180_000);
        log(`panel (chat prompt): ${chat}`);
        assert.equal(await thumbCount(page), 30 * 9, 'thumbnails for 30 layers × 9 heads (chat prompt)');
        const frame = panel(page);
        await frame.locator('[data-view="head"]').click();
        const left = frame.locator('.head-token-left');
        await left.first().waitFor({ state: 'visible', timeout: 15_000 });
        assert.equal(await left.count(), 37, 'the head view lists every token of the prompt');
        const marked = await left.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.template === 'true'));
        assert.deepEqual(
          marked,
          Array.from({ length: 37 }, (_, i) => i < 24 || i >= 31),
          "template tokens are marked; the line's are not",
        );
        const own = await frame.locator('.head-token-left:not([data-template])').allTextContents();
        // The labels show spaces as ␣ (figures/token-display.ts): read back, they spell the line.
        assert.equal(own.join('').replace(/[Ġ␣]/g, ' ').trim(), LINES[0], `the line's tokens: ${JSON.stringify(own)}`);
        assert.deepEqual(await errorToasts(page), [], 'no error notification (chat prompt)');
        await screenshot(page, 'models-ollama-chat');
      } catch (e) {
        await screenshot(page, 'models-ollama-failure');
        throw e;
      } finally {
        await env.close();
        rmSync(models, { recursive: true, force: true });
      }
    },
  },
  {
    name: "the token: never to a workspace's endpoint; to the user's once the host is confirmed, then without asking",
    timeoutMs: 240_000,
    fn: async () => {
      // The workspace's Hub would serve the gated model for the same token: only the rule keeps it from getting it.
      const other = await startHubServer(
        { [GATED_STORIES]: repoFromFolder(GATED_STORIES, join(fixtureModels, 'stories260K')) },
        HUB_TOKEN,
      );
      other.faults.gated.add(GATED_STORIES);
      const env = await start('models-token', {
        modelPath: GATED_STORIES,
        workspaceSettings: { 'attentionLens.hubEndpoint': other.url },
      });
      const { page, hub } = env;
      const host = new URL(hub.url).host;
      const dialog = page.locator('.monaco-dialog-box');
      try {
        await openFile(page, FILE);
        await runCommand(page, 'Attention Lens: Set Hugging Face Token');
        const input = page.locator('.quick-input-widget input');
        await input.waitFor({ state: 'visible', timeout: 15_000 });
        await input.fill(HUB_TOKEN);
        await page.keyboard.press('Enter');

        await showAttentionOnLine(page, FILE, 0);
        await dialog.waitFor({ state: 'visible', timeout: 60_000 });
        const question = (await dialog.innerText()).replace(/\s+/g, ' ');
        log(`question: ${question}`);
        assert.match(question, new RegExp(`Send your Hugging Face token to ${host.replace(/\./g, '\\.')}\\?`));
        assert.equal(hub.requests.length, 0, 'nothing was asked of the Hub before the answer');
        await screenshot(page, 'models-token-question');
        await dialog.locator('.monaco-button', { hasText: `Send Token to ${host}` }).click();
        const run = await waitForRun(page, 'gated-stories', 11, 5);
        log(`panel: ${run}`);
        assert.equal(other.requests.length, 0, "the workspace's Hub was never contacted");
        const asked = hub.requests.filter((r) => r.server === 'hub');
        assert.ok(asked.length > 1, 'the listing and the files came from the user’s Hub');
        for (const r of asked) assert.equal(r.authorization, `Bearer ${HUB_TOKEN}`, r.path);

        // Remembered: a second gated model from the same host downloads without a question.
        const before = hub.requests.length;
        patchSettings(env.server, { 'attentionLens.modelPath': GATED_GPT2 });
        await until(
          'status bar: gated-gpt2',
          () => statusText(page),
          (t) => t.includes('gated-gpt2'),
          60_000,
        );
        await showAttentionOnLine(page, FILE, 3);
        await waitForRun(page, 'gated-gpt2', 4, 2);
        assert.equal(await dialog.count(), 0, 'no second question');
        const second = hub.requests.slice(before).filter((r) => r.path.includes(GATED_GPT2));
        assert.ok(second.length > 1);
        for (const r of second) assert.equal(r.authorization, `Bearer ${HUB_TOKEN}`, r.path);
        assert.equal(other.requests.length, 0, "the workspace's Hub was never contacted");
        assert.deepEqual(await errorToasts(page), [], 'no error notification');
      } catch (e) {
        await screenshot(page, 'models-token-failure');
        throw e;
      } finally {
        await env.close();
        await other.close();
      }
    },
  },
  {
    name: "Restricted Mode: the workspace's model is not loaded; one warning says so and the user's model runs",
    timeoutMs: 180_000,
    fn: async () => {
      const env = await start('models-restricted', {
        modelPath: join(fixtureModels, 'stories260K'),
        workspaceSettings: { 'attentionLens.modelPath': join(fixtureModels, 'tiny-gpt2') },
        workspaceTrust: true,
      });
      const { page } = env;
      try {
        // VS Code asks whether the folder's authors are trusted: no.
        const trust = page.locator('.monaco-dialog-box');
        await trust.waitFor({ state: 'visible', timeout: 60_000 });
        log(`trust question: ${(await trust.innerText()).replace(/\s+/g, ' ')}`);
        await trust.locator('.monaco-button', { hasText: /No, I don.t trust/ }).click();
        await showAttentionOnLine(page, FILE, 0);
        const run = await waitForRun(page, 'stories260K', 11, 5);
        log(`panel: ${run}`);
        const warnings = await until(
          'the Restricted Mode warning',
          () => toastTexts(page),
          (ts) => ts.some((t) => t.includes('Restricted Mode')),
          30_000,
        );
        log(`notifications: ${JSON.stringify(warnings)}`);
        const line = warnings.find((t) => t.includes('Restricted Mode'))!;
        assert.match(
          line,
          /This workspace's settings choose the model .*tiny-gpt2, which is not used in Restricted Mode/,
        );
        assert.match(line, /running stories260K from your user settings/);
        assert.deepEqual(await errorToasts(page), [], 'no error notification');
        await screenshot(page, 'models-restricted');
      } catch (e) {
        await screenshot(page, 'models-restricted-failure');
        throw e;
      } finally {
        await env.close();
      }
    },
  },
];

runIfMain(import.meta.url, 'models', tests);
