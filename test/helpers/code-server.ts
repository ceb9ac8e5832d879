// Real-VS-Code harness: code-server (VS Code's server + web workbench, installed by
// scripts/install-code-server.mjs into .cache/code-server) + Debian's chromium driven by playwright-core.
// See docs/real-vscode.md for why (desktop VS Code cannot be downloaded on these machines).
//
// Every phase has a deadline and fails with a message naming the phase; code-server (its whole process group)
// and chromium are always stopped, on success, failure, SIGINT/SIGTERM and process exit.
//
// Used by scripts/vscode-tests.mjs (mocha suite in the extension host, e2e UI tests, .vsix test) and by the
// e2e files themselves when run alone: `npx tsx test/e2e/panel.e2e.ts`.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
  createWriteStream,
  readFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page, type FrameLocator } from 'playwright-core';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const codeServerEntry = join(
  repoRoot,
  '.cache',
  'code-server',
  'node_modules',
  'code-server',
  'out',
  'node',
  'entry.js',
);
export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const modelPath = join(repoRoot, 'test', 'fixtures', 'models', 'stories260K');
export const screenshotDir = join(repoRoot, 'test-results', 'screenshots');
export const logDir = join(repoRoot, 'test-results', 'logs');

/** Default deadlines (ms). Slow shared 2-core machines: generous, but never unbounded. */
export const DEADLINES = {
  codeServerStart: 60_000,
  installExtension: 120_000,
  browserLaunch: 60_000,
  workbench: 90_000,
  extensionTests: 180_000,
  stop: 10_000,
};

export function log(msg: string): void {
  const t = new Date().toISOString().slice(11, 19);
  console.log(`[harness ${t}] ${msg}`);
}

/** Rejects with `phase: timed out after N s` when `p` does not settle in time. */
export async function withDeadline<T>(phase: string, ms: number, p: Promise<T> | (() => Promise<T>)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const work = typeof p === 'function' ? p() : p;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${phase}: timed out after ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Cleanup registry: whatever is started is stopped, whatever happens.
type Cleanup = () => Promise<void> | void;
const cleanups = new Set<Cleanup>();
let signalsHooked = false;
function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  const onSignal = (sig: NodeJS.Signals) => {
    log(`${sig}: stopping code-server and chromium`);
    void runCleanups().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Last resort (synchronous): kill process groups still registered.
  process.once('exit', () => {
    for (const pid of liveGroups) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });
}
const liveGroups = new Set<number>();
/** scripts/vscode-tests.mjs passes VSCODE_TESTS_PIDFILE: it kills these process groups if this process is killed hard. */
function notePid(pid: number): void {
  if (process.env.VSCODE_TESTS_PIDFILE) appendFileSync(process.env.VSCODE_TESTS_PIDFILE, `${pid}\n`);
}
let cleaning: Promise<void> | undefined;
/** Stops everything still registered (newest first). Concurrent callers share the same pass. */
export function runCleanups(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.size) {
      const all = [...cleanups].reverse();
      cleanups.clear();
      for (const c of all) {
        try {
          await withDeadline('cleanup', DEADLINES.stop, Promise.resolve().then(c));
        } catch (e) {
          log(`cleanup: ${(e as Error).message}`);
        }
      }
    }
  })().finally(() => (cleaning = undefined));
  return cleaning;
}

// ---------------------------------------------------------------------------------------------------------
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

export interface CodeServerOptions {
  /** Folder to open (created if missing). Default: a fresh temp folder. */
  workspace?: string;
  /** Extra user settings merged over the defaults. */
  settings?: Record<string, unknown>;
  /** .vsix files to install (`--install-extension`) before starting. */
  installVsix?: string[];
  /** Extra environment for code-server and its extension host (inherited by the extension host). */
  env?: Record<string, string>;
  /** Label for the log file (test-results/logs/code-server-<label>.log). */
  label?: string;
  /** Workspace Trust on (off by default): the folder opens with VS Code's trust question (Restricted Mode tests). */
  workspaceTrust?: boolean;
}

export interface CodeServer {
  port: number;
  origin: string;
  workspace: string;
  root: string;
  home: string;
  userDataDir: string;
  extensionsDir: string;
  logFile: string;
  /** vscode-remote:// URI of an absolute path on the server (what the dev/test payload needs). */
  remoteUri(absPath: string): string;
  /** Workbench URL, optionally with extensionDevelopmentPath/extensionTestsPath payload. */
  workbenchUrl(opts?: { devPath?: string; testsPath?: string; folder?: string }): string;
  stop(): Promise<void>;
}

export function defaultSettings(): Record<string, unknown> {
  return {
    'attentionLens.modelPath': modelPath,
    'attentionLens.backend': 'auto',
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoUpdate': false,
    'extensions.autoCheckUpdates': false,
    'extensions.ignoreRecommendations': true,
    'git.enabled': false,
    'editor.minimap.enabled': false,
    'chat.commandCenter.enabled': false,
    'workbench.colorTheme': 'Default Dark Modern',
    'window.commandCenter': false,
    'files.hotExit': 'off',
    'window.restoreWindows': 'none',
  };
}

export function checkPrerequisites(): void {
  if (!existsSync(codeServerEntry)) {
    throw new Error(`code-server is not installed (${codeServerEntry}). Run: node scripts/install-code-server.mjs`);
  }
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `chromium not found at ${chromiumPath}. Install it: apt-get install -y chromium ripgrep libkrb5-dev (or set CHROMIUM_PATH)`,
    );
  }
}

/**
 * Writes the settings as user settings (User/settings.json) AND as remote settings (Machine/settings.json).
 * code-server's window is a remote window: there, settings of scope `machine` / `machine-overridable`
 * (attentionLens.modelPath is one) are ignored in user settings once the extension's schema is known (e.g. after a
 * reload with an installed extension) and are read from the remote (Machine) settings instead.
 */
export function writeSettings(userDataDir: string, settings: Record<string, unknown>): void {
  const text = JSON.stringify(settings, null, 2);
  writeFileSync(join(userDataDir, 'User', 'settings.json'), text);
  writeFileSync(join(userDataDir, 'Machine', 'settings.json'), text);
}

function codeServerArgs(root: string, userDataDir: string, extensionsDir: string, trust = false): string[] {
  return [
    codeServerEntry,
    '--config',
    '/dev/null',
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    ...(trust ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override',
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
  ];
}

export async function startCodeServer(opts: CodeServerOptions = {}): Promise<CodeServer> {
  checkPrerequisites();
  hookSignals();
  const root = mkdtempSync(join(tmpdir(), 'al-vscode-'));
  const home = join(root, 'home');
  const userDataDir = join(root, 'user-data');
  const extensionsDir = join(root, 'extensions');
  const workspace = opts.workspace ?? join(root, 'workspace');
  for (const d of [
    home,
    userDataDir,
    join(userDataDir, 'User'),
    join(userDataDir, 'Machine'),
    extensionsDir,
    workspace,
    logDir,
  ])
    mkdirSync(d, { recursive: true });
  writeSettings(userDataDir, {
    ...defaultSettings(),
    ...(opts.workspaceTrust ? { 'security.workspace.trust.enabled': true } : {}),
    ...opts.settings,
  });
  const label = opts.label ?? 'run';
  const logFile = join(logDir, `code-server-${label}.log`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    ...opts.env,
  };
  // Never let these leak from a developer's shell into the test server.
  delete env.VSCODE_IPC_HOOK_CLI;
  delete env.PASSWORD;
  delete env.HASHED_PASSWORD;
  const baseArgs = codeServerArgs(root, userDataDir, extensionsDir, opts.workspaceTrust);

  let removed = false;
  const removeRoot = () => {
    if (removed || process.env.KEEP_VSCODE_TEST_DIRS) return;
    removed = true;
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  };

  for (const vsix of opts.installVsix ?? []) {
    log(`installing ${vsix}`);
    const r = await withDeadline(`code-server --install-extension ${vsix}`, DEADLINES.installExtension, () =>
      runToEnd(process.execPath, [...baseArgs, '--install-extension', vsix, '--force'], env),
    );
    if (r.code !== 0 || !/was successfully installed|already installed/i.test(r.output)) {
      removeRoot();
      throw new Error(`code-server --install-extension ${vsix} failed (exit ${r.code}):\n${r.output}`);
    }
  }

  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const out = createWriteStream(logFile);
  const child = spawn(process.execPath, [...baseArgs, '--bind-addr', `127.0.0.1:${port}`, workspace], {
    env,
    cwd: root,
    detached: true, // own process group: stop() kills code-server and its extension hosts/pty hosts together
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  const pid = child.pid!;
  liveGroups.add(pid);
  notePid(pid);
  let exited = false;
  const exitPromise = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));

  const stop = async () => {
    if (!exited) {
      killGroup(pid, 'SIGTERM');
      await Promise.race([exitPromise, sleep(3000)]);
      if (!exited) killGroup(pid, 'SIGKILL');
      await Promise.race([exitPromise, sleep(2000)]);
    }
    // Children in the group (extension host) may outlive the leader briefly.
    killGroup(pid, 'SIGKILL');
    liveGroups.delete(pid);
    out.end();
    removeRoot();
  };
  cleanups.add(stop);

  const server: CodeServer = {
    port,
    origin,
    workspace,
    root,
    home,
    userDataDir,
    extensionsDir,
    logFile,
    remoteUri: (p) => `vscode-remote://127.0.0.1:${port}${resolve(p)}`,
    workbenchUrl: ({ devPath, testsPath, folder } = {}) => {
      const q = new URLSearchParams();
      q.set('folder', folder ?? workspace);
      const payload: [string, string][] = [];
      if (devPath) payload.push(['extensionDevelopmentPath', server.remoteUri(devPath)]);
      if (testsPath) payload.push(['extensionTestsPath', server.remoteUri(testsPath)]);
      if (payload.length) q.set('payload', JSON.stringify(payload));
      return `${origin}/?${q.toString()}`;
    },
    stop: async () => {
      cleanups.delete(stop);
      await stop();
    },
  };

  try {
    await withDeadline(`code-server start (port ${port}, log ${logFile})`, DEADLINES.codeServerStart, async () => {
      for (;;) {
        if (exited) throw new Error(`code-server exited early; see ${logFile}:\n${tail(logFile)}`);
        try {
          const res = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(2000) });
          if (res.ok) return;
        } catch {
          /* not up yet */
        }
        await sleep(250);
      }
    });
  } catch (e) {
    await server.stop();
    throw e;
  }
  log(`code-server up on ${origin} (workspace ${workspace})`);
  return server;
}

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    /* already gone */
  }
}

function runToEnd(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> {
  return new Promise((res) => {
    const c: ChildProcess = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    c.stdout!.on('data', (d) => (output += d));
    c.stderr!.on('data', (d) => (output += d));
    liveGroups.add(c.pid!);
    notePid(c.pid!);
    const stop = () => killGroup(c.pid!, 'SIGKILL');
    cleanups.add(stop);
    c.on('exit', (code) => {
      cleanups.delete(stop);
      liveGroups.delete(c.pid!);
      res({ code, output });
    });
  });
}

export function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * Why an extension host ended, as code-server logged it: the host's own stderr lines (a native abort's message) and
 * its exit line ("Extension Host Process exited with code: null, signal: SIGABRT"); '' when the log has none.
 */
export function extensionHostExit(logFile: string): string {
  return tail(logFile, 2000)
    .split('\n')
    .filter((l) => /\[ExtensionHostConnection\] <\d+>(<stderr>| Extension Host Process exited)/.test(l))
    .slice(-12)
    .join('\n');
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------------
export interface BrowserSession {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Messages from codeAutomationLog and the page console (errors), for diagnostics. */
  logs: string[];
  /** Resolves with the exit code that the workbench reports through codeAutomationExit. */
  exitCode: Promise<number>;
  close(): Promise<void>;
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export async function launchBrowser(
  opts: { echoLogs?: boolean; /** Extra chromium flags (e.g. WebGPU's). */ args?: string[] } = {},
): Promise<BrowserSession> {
  checkPrerequisites();
  hookSignals();
  const browser = await withDeadline('chromium launch', DEADLINES.browserLaunch, () =>
    chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(opts.args ?? [])],
      timeout: DEADLINES.browserLaunch,
    }),
  );
  const close = async () => {
    await browser.close().catch(() => undefined);
  };
  cleanups.add(close);
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const logs: string[] = [];
  let resolveExit!: (code: number) => void;
  const exitCode = new Promise<number>((r) => (resolveExit = r));
  await page.exposeFunction('codeAutomationExit', (code: number) => {
    resolveExit(Number(code));
  });
  await page.exposeFunction('codeAutomationLog', (type: unknown, args: unknown[]) => {
    // eslint-disable-next-line no-control-regex
    const line = format(...(Array.isArray(args) ? args : [args])).replace(/\x1b\[[0-9;]*m/g, '');
    logs.push(line);
    if (opts.echoLogs) console.log(`  ${line}`);
    void type;
  });
  page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') logs.push(`[console.error] ${m.text()}`);
  });
  return {
    browser,
    context,
    page,
    logs,
    exitCode,
    close: async () => {
      cleanups.delete(close);
      await close();
    },
  };
}

/** Opens the workbench and waits until the editor area and the status bar exist. */
export async function openWorkbench(page: Page, url: string): Promise<void> {
  await withDeadline(`workbench load (${url})`, DEADLINES.workbench, async () => {
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: DEADLINES.workbench });
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: DEADLINES.workbench });
    await page.locator('.statusbar').waitFor({ state: 'visible', timeout: DEADLINES.workbench });
  });
}

/** A webview's content: two iframes deep. */
export function webviewFrame(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
}

/** Runs a command from the palette by its title (F1, type, Enter). */
export async function runCommand(page: Page, title: string): Promise<void> {
  // The palette lists the commands known when it opens: right after a (re)load on a busy machine an extension's may
  // come later, so the palette is closed and opened again until the row shows (90 s in all).
  for (let attempt = 0; ; attempt++) {
    try {
      await pickCommand(page, title, 15_000);
      return;
    } catch (e) {
      if (attempt >= 5) throw e;
      await page.keyboard.press('Escape');
      await sleep(500);
    }
  }
}

async function pickCommand(page: Page, title: string, timeoutMs: number): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 15_000 });
  await input.fill(`>${title}`);
  // Wait until the palette lists the command (extension may still be activating its contributions): the row whose
  // label is the title exactly, after an optional category ("Show Attention", not "Show Attention as Chat Prompt",
  // which a recently used command may put first; "Focus Last Editor Group" is listed as "View: Focus Last Editor
  // Group").
  const exact = new RegExp(`^(?:[^:]+: )?${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  const row = page
    .locator('.quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: exact }) })
    .first();
  await row.waitFor({ state: 'visible', timeout: timeoutMs });
  if ((await row.getAttribute('class'))?.split(/\s+/).includes('focused')) await page.keyboard.press('Enter');
  else await row.click();
}

/** Opens a workspace file through Quick Open (ctrl+p) in the first editor group, where a user edits, and waits for
 * its editor tab. Quick Open opens in the active group: after a click in the panel that is the panel's group, and a
 * file opened there hides the panel, whose webview then starts afresh on its next reveal. */
export async function openFile(page: Page, name: string): Promise<void> {
  await runCommand(page, 'View: Focus First Editor Group');
  await withDeadline(`open ${name}`, 45_000, async () => {
    for (let attempt = 0; ; attempt++) {
      await page.keyboard.press('Control+P');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', timeout: 15_000 });
      await input.fill(name);
      const row = page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first();
      try {
        await row.waitFor({ state: 'visible', timeout: 8_000 });
        await page.keyboard.press('Enter');
        await page
          .locator(`.tabs-container .tab[aria-label*="${name}"]`)
          .first()
          .waitFor({ state: 'visible', timeout: 10_000 });
        return;
      } catch (e) {
        // The file index may not be ready yet right after start: close the picker and retry.
        await page.keyboard.press('Escape');
        if (attempt >= 3) throw e;
        await sleep(1000);
      }
    }
  });
  await page.locator('.monaco-editor .view-lines').first().waitFor({ state: 'visible' });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const file = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file }).catch((e) => log(`screenshot ${name} failed: ${(e as Error).message}`));
  return file;
}

// ---------------------------------------------------------------------------------------------------------
export interface ExtensionTestResult {
  exitCode: number;
  passed: number;
  failed: number;
  failures: { title: string; error: string }[];
  logs: string[];
}

/**
 * Runs the mocha suite (extensionTestsPath, in the `run()` shape of @vscode/test-electron) inside code-server's
 * extension host, with the extension loaded from extensionDevelopmentPath. The suite writes its counts to
 * $ATTENTION_LENS_TEST_RESULTS (the extension host inherits code-server's environment); the exit code comes
 * from codeAutomationExit.
 */
export async function runExtensionTests(opts: {
  devPath: string;
  testsPath: string;
  workspace?: string;
  echoLogs?: boolean;
  /** The code-server log's name (test-results/logs/code-server-LABEL.log): one per suite, so none overwrites another. */
  label?: string;
  /** Extra user settings, extra chromium flags (e.g. WebGPU's), a longer deadline for the suite. */
  settings?: Record<string, unknown>;
  browserArgs?: string[];
  deadlineMs?: number;
}): Promise<ExtensionTestResult> {
  const resultsFile = join(mkdtempSync(join(tmpdir(), 'al-results-')), 'results.json');
  const server = await startCodeServer({
    workspace: opts.workspace,
    label: opts.label ?? 'mocha',
    // No Hugging Face token from the shell: the suite's local Hub must never get (or ask about) one.
    env: { ATTENTION_LENS_TEST_RESULTS: resultsFile, HF_TOKEN: '', HUGGING_FACE_HUB_TOKEN: '' },
    ...(opts.settings ? { settings: opts.settings } : {}),
  });
  let session: BrowserSession | undefined;
  try {
    session = await launchBrowser({ echoLogs: opts.echoLogs ?? true, args: opts.browserArgs });
    const url = server.workbenchUrl({ devPath: opts.devPath, testsPath: opts.testsPath });
    log(`workbench: ${url}`);
    await session.page.goto(url, { waitUntil: 'domcontentloaded', timeout: DEADLINES.workbench });
    const exitCode = await withDeadline(
      'extension tests (mocha in the extension host)',
      opts.deadlineMs ?? DEADLINES.extensionTests,
      session.exitCode,
    ).catch(async (e) => {
      await screenshot(session!.page, 'mocha-timeout');
      throw new Error(
        `${(e as Error).message}\n--- last logs ---\n${session!.logs.slice(-40).join('\n')}\n--- code-server log ---\n${tail(server.logFile)}`,
      );
    });
    let counts = { passed: 0, failed: 0, failures: [] as { title: string; error: string }[] };
    if (existsSync(resultsFile)) counts = JSON.parse(readFileSync(resultsFile, 'utf8'));
    else {
      // The suite writes its results when mocha ends: without them its tests did not all run, whatever the exit code
      // (an extension host that ends early reports 0 too).
      const exit = extensionHostExit(server.logFile);
      const error = `the suite wrote no results (exit ${exitCode}): the extension host ended before its tests did${exit ? `\n${exit}` : ''}`;
      log(`${error}\n--- last logs ---\n${session.logs.slice(-20).join('\n')}`);
      counts = { passed: 0, failed: 1, failures: [{ title: 'the mocha suite', error }] };
    }
    return { exitCode, ...counts, logs: session.logs };
  } finally {
    await session?.close();
    await server.stop();
    rmSync(dirname(resultsFile), { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------
// A tiny test runner for the e2e files (no @playwright/test on these machines).
export interface E2ETest {
  name: string;
  timeoutMs: number;
  fn: () => Promise<void>;
}
export interface E2EResult {
  passed: number;
  failed: number;
  failures: { name: string; error: string }[];
}

export async function runE2E(suite: string, tests: E2ETest[]): Promise<E2EResult> {
  const result: E2EResult = { passed: 0, failed: 0, failures: [] };
  // E2E_ONLY=TEXT runs only the tests whose name contains TEXT (while working on one of them).
  const only = process.env.E2E_ONLY;
  for (const t of tests.filter((x) => !only || x.name.includes(only))) {
    const t0 = Date.now();
    try {
      await withDeadline(`${suite} › ${t.name}`, t.timeoutMs, t.fn);
      result.passed++;
      console.log(`  ✔ ${suite} › ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      result.failed++;
      const error = (e as Error).stack ?? String(e);
      result.failures.push({ name: `${suite} › ${t.name}`, error });
      console.log(`  ✘ ${suite} › ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n${indent(error)}`);
    } finally {
      await runCleanups();
    }
  }
  return result;
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');
}

/** True when the file is being run directly (`npx tsx test/e2e/x.e2e.ts`). */
export function isMain(metaUrl: string): boolean {
  return !!process.argv[1] && resolve(process.argv[1]) === fileURLToPath(metaUrl);
}

export function spawnSyncOk(cmd: string, args: string[], cwd = repoRoot): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 300_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// ---------------------------------------------------------------------------------------------------------
// Driving the editor and the panel (the e2e tests and scripts/readme-pictures.ts).

/** Polls `get` until `predicate` holds; throws with `what` and the last value after `ms`. */
export async function until<T>(
  what: string,
  get: () => Promise<T>,
  predicate: (v: T) => boolean,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  for (;;) {
    try {
      last = await get();
      if (predicate(last)) return last;
    } catch {
      /* not there yet */
    }
    if (Date.now() > deadline) throw new Error(`${what}: not after ${ms / 1000} s (last: ${JSON.stringify(last)})`);
    await sleep(200);
  }
}

/** Opens the workspace file, selects line `line` (0-based) entirely, runs Show Attention (or `command`). */
export async function showAttentionOnLine(
  page: Page,
  fileName: string,
  line: number,
  command = 'Attention Lens: Show Attention',
): Promise<void> {
  await openFile(page, fileName);
  const editor = page.locator('.monaco-editor .view-lines').first();
  await editor.click();
  await page.keyboard.press('Control+Home');
  for (let i = 0; i < line; i++) await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+End');
  await runCommand(page, command);
}

/** Screen coordinates of the middle of `word` on editor line `line` (0-based): a DOM Range over its characters. */
export async function wordPoint(page: Page, line: number, word: string): Promise<{ x: number; y: number }> {
  const lineEl = page.locator('.monaco-editor .view-lines .view-line').nth(line);
  const r = await lineEl.evaluate((el, w) => {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    const nodes: Text[] = [];
    let text = '';
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      nodes.push(n as Text);
      text += n.textContent ?? '';
    }
    let at = text.indexOf(w);
    if (at < 0) return null;
    at += Math.floor(w.length / 2);
    for (const n of nodes) {
      const len = n.textContent?.length ?? 0;
      if (at < len) {
        const range = document.createRange();
        range.setStart(n, at);
        range.setEnd(n, at + 1);
        const b = range.getBoundingClientRect();
        return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
      }
      at -= len;
    }
    return null;
  }, word);
  assert.ok(r, `"${word}" on editor line ${line}`);
  return r;
}
