// Shared pieces of the e2e tests (Playwright driving the real code-server UI).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { isMain, modelPath, runCleanups, runE2E, sleep, webviewFrame, type E2ETest } from '../helpers/code-server';
// Moved to the harness (scripts/readme-pictures.ts drives the panel too); re-exported for the tests.
import { until } from '../helpers/code-server';
export { showAttentionOnLine, until } from '../helpers/code-server';

/** The reference text of test/fixtures/models/stories260K/reference_attention.json (independent numpy forward pass). */
export const REF_TEXT = 'Once upon a time, there was a little girl named Lily. She';
export const XSS_TEXT = 'Once upon a time, there was a little girl named Lily. <img src=x onerror=alert(1)>';
export const SHOW_ATTENTION = 'Attention Lens: Show Attention';

export interface Reference {
  text: string;
  tokens: string[];
  tokens_decoded: string[];
  shape: [number, number, number, number];
  attn: number[][][][];
}
export function loadReference(): Reference {
  return JSON.parse(readFileSync(join(modelPath, 'reference_attention.json'), 'utf8')) as Reference;
}

/** Polls until `predicate(text)` holds for the locator's text, or throws with the last text seen. */
export async function waitForText(
  what: string,
  loc: Locator,
  predicate: (t: string) => boolean,
  timeoutMs = 60_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '<absent>';
  for (;;) {
    try {
      if ((await loc.count()) > 0) {
        last = (await loc.first().textContent({ timeout: 2000 })) ?? '';
        if (predicate(last)) return last;
      }
    } catch {
      /* frame reloading */
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: condition not met after ${timeoutMs / 1000} s; last text: ${JSON.stringify(last)}`);
    await sleep(200);
  }
}

export async function texts(loc: Locator): Promise<string[]> {
  return loc.evaluateAll((els) => els.map((e) => e.textContent ?? ''));
}

/**
 * Turns a token label into the text it stands for: sentencepiece ▁ → space, byte-fallback <0xHH> → the byte
 * (UTF-8 sequences decoded), byte-level Ġ → space, the panel's ␣ → space and ⏎ → newline. Labels that already show
 * the text are unchanged.
 */
export function labelToText(labels: string[]): string {
  const bytes: number[] = [];
  let out = '';
  const flush = () => {
    if (bytes.length) out += Buffer.from(bytes).toString('utf8');
    bytes.length = 0;
  };
  for (const l of labels) {
    const parts = l.split(/(<0x[0-9A-Fa-f]{2}>)/);
    for (const p of parts) {
      const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(p);
      if (m) bytes.push(parseInt(m[1], 16));
      else if (p) {
        flush();
        out += p.replace(/[▁Ġ␣]/g, ' ').replace(/⏎/g, '\n');
      }
    }
    flush();
  }
  return out;
}

/** Drops special tokens (<s>, </s>, [CLS]...) and all whitespace: what is left must spell the input text. */
export function spelled(labels: string[]): string {
  return labelToText(
    labels.filter((l) => !/^(<\/?s>|<unk>|\[(CLS|SEP|PAD|UNK)\]|<\|endoftext\|>|<bos>|<eos>)$/.test(l.trim())),
  ).replace(/\s+/g, '');
}

export function writeWorkspaceFile(dir: string, name: string, lines: string[]): void {
  writeFileSync(join(dir, name), lines.join('\n') + '\n');
}

export function panel(page: Page): FrameLocator {
  return webviewFrame(page);
}

/** Waits until the panel's status reports every layer of a stories260K run. */
export async function waitForAllLayers(page: Page, timeoutMs = 90_000): Promise<string> {
  const frame = panel(page);
  return waitForText('panel #run-status', frame.locator('#run-status'), (t) => /layers 5\/5/.test(t), timeoutMs);
}

/** Runs an e2e suite when its file is the entry point (`npx tsx test/e2e/<suite>.e2e.ts`): cleans up, writes the
 * result to $VSCODE_TESTS_RESULT when set, and exits non-zero on a failure. */
export function runIfMain(metaUrl: string, suite: string, tests: E2ETest[]): void {
  if (!isMain(metaUrl)) return;
  runE2E(suite, tests)
    .then(async (r) => {
      await runCleanups();
      if (process.env.VSCODE_TESTS_RESULT) writeFileSync(process.env.VSCODE_TESTS_RESULT, JSON.stringify(r));
      process.exit(r.failed ? 1 : 0);
    })
    .catch(async (e) => {
      console.error(e);
      await runCleanups();
      process.exit(1);
    });
}

/** Answers VS Code's save dialog (a quick input once its proposed name matches `proposed`) with `target`, and waits
 * until the file exists. */
export async function saveAs(page: Page, target: string, proposed: RegExp, timeoutMs = 30_000): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  await until(
    'save dialog',
    () => input.inputValue(),
    (v) => proposed.test(v),
  );
  await input.fill(target);
  await sleep(300);
  await page.keyboard.press('Enter');
  await until(
    'the exported file',
    async () => existsSync(target),
    (x) => x,
    timeoutMs,
  );
  await sleep(300);
}

/** Clicks the open quick pick's row that shows `text` and waits until the pick moves on (its title changes, or it
 * closes); a click that changed nothing (the row clicked while the list was still being laid out) is repeated. */
export async function chooseRow(page: Page, text: string | RegExp, timeoutMs = 30_000): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  const title = widget.locator('.quick-input-title');
  const row = widget.locator('.quick-input-list .monaco-list-row').filter({ hasText: text }).first();
  await row.waitFor({ state: 'visible', timeout: timeoutMs });
  const before = await title.innerText();
  const now = async () => ((await widget.isVisible()) ? title.innerText() : '(closed)');
  for (let attempt = 1; ; attempt++) {
    await row.click({ timeout: 5_000 }).catch(() => undefined);
    try {
      await until(
        `the quick pick "${before}" to move on after choosing ${String(text)}`,
        now,
        (t) => t !== before,
        5_000,
      );
      return;
    } catch (e) {
      if (attempt >= 4) throw e;
    }
  }
}
