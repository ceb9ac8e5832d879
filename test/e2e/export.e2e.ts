// E2E: hover, tint and export driven through the real code-server UI with Playwright + Debian's chromium.
//   npx tsx test/e2e/export.e2e.ts            (alone; after `node scripts/build.mjs`) — or scripts/vscode-tests.mjs
// Screenshots: test-results/screenshots/export-*.png
//
// 1. Show Attention on REF_TEXT, pick the matrix view, layer 2, head 5 in the panel.
// 2. Hover "Lily" in the editor: the hover names layer 2, head 5 and its first "attends to" token is the
//    reference's argmax (test/fixtures/models/stories260K/reference_attention.json, an independent numpy pass).
// 3. The hover's "Tint the editor" link tints the range (status bar item), "Show in panel" selects the token there.
// 4. Export… in the panel → PNG → 2× → the save dialog (VS Code's own, typed into) → the file's pixels carry the
//    reference colours.
// 5. Clicking a token in the panel's matrix tints the editor by that token.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { decode } from 'fast-png';
import {
  defaultSettings,
  launchBrowser,
  log,
  openWorkbench,
  repoRoot,
  screenshot,
  sleep,
  startCodeServer,
  writeSettings,
  wordPoint,
  type E2ETest,
} from '../helpers/code-server';
import {
  REF_TEXT,
  chooseRow,
  loadReference,
  panel,
  runIfMain,
  saveAs,
  showAttentionOnLine,
  until,
  waitForAllLayers,
  writeWorkspaceFile,
} from './common';
import { colorAt } from '../../figures/colormap';
import type { MatrixGeometry } from '../../figures/matrix-figure';
import { MemoryRunMaps } from '../../figures/run-maps';
import { PAPER } from '../../figures/theme';
import { pngSize, viewFigure } from '../../figures/view-figure';

const FILE = 'story.txt';
const LAYER = 2;
const HEAD = 5;
const TOKEN = 14; // ▁Lily

/** [r, g, b, a] of #rrggbb(aa) or rgb(a)(…), as VS Code writes CSS colour variables. */
function rgba(css: string): number[] {
  const c = css.trim().toLowerCase();
  const hex = /^#([0-9a-f]{6})([0-9a-f]{2})?$/.exec(c);
  if (hex)
    return [0, 2, 4].map((i) => parseInt(hex[1].slice(i, i + 2), 16)).concat(hex[2] ? parseInt(hex[2], 16) / 255 : 1);
  const fn = /^rgba?\(([^)]*)\)$/.exec(c);
  if (!fn) return [NaN, NaN, NaN, NaN];
  const v = fn[1].split(',').map(Number);
  return [v[0], v[1], v[2], v[3] ?? 1];
}
const sameColor = (a: string, b: string) => rgba(a).every((v, i) => Math.abs(v - rgba(b)[i]) <= (i === 3 ? 0.01 : 0));

/** Hovers the point and returns the Attention Lens hover's text. */
async function hoverAt(page: Page, at: { x: number; y: number }, word: string): Promise<string> {
  const hover = page.locator('.monaco-hover:visible', { hasText: 'Attention Lens' });
  for (let attempt = 0; attempt < 4; attempt++) {
    await page.mouse.move(at.x + 200, at.y - 60);
    await sleep(300);
    await page.mouse.move(at.x, at.y);
    try {
      await hover.first().waitFor({ state: 'visible', timeout: 6000 });
      return (await hover.first().innerText()) ?? '';
    } catch {
      /* hover delay: try again */
    }
  }
  throw new Error(`no Attention Lens hover over "${word}"`);
}

export const tests: E2ETest[] = [
  {
    name: 'hover names the panel view and the reference top token; tint; export PNG from the panel',
    timeoutMs: 240_000,
    fn: async () => {
      const ref = loadReference();
      const server = await startCodeServer({ label: 'e2e-export' });
      writeWorkspaceFile(server.workspace, FILE, [REF_TEXT, '']);
      const session = await launchBrowser({ echoLogs: false });
      const page = session.page;
      try {
        await openWorkbench(page, server.workbenchUrl({ devPath: process.env.EXT_DEV_PATH ?? repoRoot }));
        await showAttentionOnLine(page, FILE, 0);
        await waitForAllLayers(page);
        const frame = panel(page);

        // 1. The view in the panel: matrix, layer 2, head 5.
        await frame.locator('[data-view="matrix"]').click();
        // The dropdowns are @vscode-elements single-selects: set the value and fire 'change' as a pick does.
        for (const [id, value] of [
          ['#layer-select', String(LAYER)],
          ['#head-select', String(HEAD)],
        ]) {
          await frame.locator(id).evaluate((e, v) => {
            (e as HTMLElement & { value: string }).value = v;
            e.dispatchEvent(new Event('change', { bubbles: true }));
          }, value);
        }
        await until(
          'matrix caption',
          () => frame.locator('.matrix-caption').innerText(),
          (t) => t.includes(`Layer ${LAYER}`) && t.includes(`head ${HEAD}`),
        );

        // 2. Hover "Lily" in the editor (click the editor first so the hover belongs to it).
        await page
          .locator('.monaco-editor .view-lines')
          .first()
          .click({ position: { x: 5, y: 5 } });
        const lily = await wordPoint(page, 0, 'Lily');
        const text = await hoverAt(page, lily, 'Lily');
        log(`hover: ${text.replace(/\n/g, ' ⏎ ').slice(0, 300)}`);
        await screenshot(page, 'export-hover');
        assert.match(text, new RegExp(`token ${TOKEN} of ${ref.tokens.length}`));
        assert.match(text, new RegExp(`layer ${LAYER}, head ${HEAD} \\(causal\\), as selected in the panel`));
        const rows = await page
          .locator('.monaco-hover:visible table tbody tr')
          .evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')));
        assert.ok(rows.length >= 1, 'the hover has the top-5 table');
        const row = ref.attn[LAYER][HEAD][TOKEN];
        const top = row.indexOf(Math.max(...row));
        // The hover labels tokens as the panel does: sentencepiece's ▁ (a leading space) reads ␣.
        assert.equal(
          rows[0][0].trim(),
          ref.tokens[top].replace(/▁/g, '␣'),
          `top attended token (table ${JSON.stringify(rows)})`,
        );
        assert.ok(Math.abs(Number(rows[0][1].trim().split(/\s/)[0]) - row[top]) < 1e-3, `weight ${rows[0][1]}`);

        // 3. The hover's links: tint the editor, then show the token in the panel.
        await page.locator('.monaco-hover:visible a', { hasText: 'Tint the editor' }).first().click();
        await until(
          'tint status bar item',
          () => page.locator('.statusbar-item', { hasText: 'Tint:' }).first().innerText(),
          (t) => t.includes('Lily') && t.includes(`L${LAYER} H${HEAD}`),
        );
        await page.mouse.move(10, 10);
        await page.keyboard.press('Control+B'); // hide the side bar: room for the legend after the line
        await page.setViewportSize({ width: 2400, height: 1000 });
        await sleep(800);
        await screenshot(page, 'export-tint');
        await page.setViewportSize({ width: 1600, height: 1000 });

        // The tint colours resolve in every kind of theme (package.json defaults for dark, light, high contrast).
        const colors = (
          JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
            contributes: { colors: { id: string; defaults: Record<string, string> }[] };
          }
        ).contributes.colors;
        const tint8 = colors.find((c) => c.id === 'attentionLens.tint8')!.defaults;
        const themes: [string, string][] = [
          ['Default Light Modern', 'light'],
          ['Default High Contrast', 'highContrast'],
          ['Default High Contrast Light', 'highContrastLight'],
          ['Default Dark Modern', 'dark'],
        ];
        for (const [theme, kind] of themes) {
          writeSettings(server.userDataDir, { ...defaultSettings(), 'workbench.colorTheme': theme });
          const css = await until(
            `--vscode-attentionLens-tint8 in ${theme}`,
            () =>
              page.evaluate(() =>
                getComputedStyle(document.querySelector('.monaco-workbench')!).getPropertyValue(
                  '--vscode-attentionLens-tint8',
                ),
              ),
            (v) => sameColor(v, tint8[kind]),
          );
          log(`${theme}: --vscode-attentionLens-tint8 = ${css.trim()}`);
          await sleep(400);
          await screenshot(page, `export-tint-${kind}`);
        }
        await hoverAt(page, await wordPoint(page, 0, 'Lily'), 'Lily');
        await page.locator('.monaco-hover:visible a', { hasText: 'Show in panel' }).first().click();
        await until(
          'selected token in the panel',
          () => frame.locator('#selected-token').innerText(),
          (t) => t === `Query token ${TOKEN}: ${ref.tokens[TOKEN].replace(/▁/g, '␣')}`,
        );

        // 4. Export… → PNG → 2× → the save dialog.
        await page.keyboard.press('Escape');
        await page.mouse.move(10, 500);
        await until(
          'the hover to close',
          () => page.locator('.monaco-hover:visible').count(),
          (n) => n === 0,
        );
        const target = join(server.workspace, 'lily-matrix.png');
        await frame.locator('#export').click();
        await chooseRow(page, 'PNG image');
        // A click in the panel while the scale pick is open (VS Code itself hands focus back to the panel as the
        // format pick closes, late on a slow machine): the pick stays open, and the export goes on.
        await until(
          'the scale pick',
          () => page.locator('.quick-input-widget .quick-input-title').innerText(),
          (t) => t.endsWith('as PNG'),
          20_000,
        );
        const webview = (await page.locator('iframe.webview.ready').last().boundingBox())!;
        await page.mouse.click(webview.x + webview.width - 40, webview.y + webview.height - 40);
        await sleep(800);
        assert.ok(
          await page.locator('.quick-input-widget').isVisible(),
          'the scale pick is still open after a click in the panel',
        );
        await chooseRow(page, '2×');
        await until(
          'save dialog',
          () => page.locator('.quick-input-widget input').inputValue(),
          (v) => v.endsWith('.png'),
        );
        await screenshot(page, 'export-save-dialog');
        await saveAs(page, target, /\.png$/);
        const img = decode(readFileSync(target));
        const layers = ref.attn.map((l, i) => ({
          layer: i,
          kind: 'causal' as const,
          heads: 8,
          queryLength: 17,
          keyLength: 17,
          data: Float32Array.from(l.flat(2)),
        }));
        // The figure the export draws (its caption quotes the analysed text, REF_TEXT).
        const expected = viewFigure(
          new MemoryRunMaps(
            'stories260K',
            ref.tokens.map((t) => ({ text: t })),
            layers,
            8,
          ),
          { view: 'matrix', layer: LAYER, head: HEAD, colorMap: 'viridis' },
          'png',
          2,
          REF_TEXT,
        );
        const size = pngSize(expected.scene, 2);
        assert.deepEqual([img.width, img.height], [size.width, size.height], 'matrix PNG at 2×');
        const g = expected.geometry as MatrixGeometry;
        const m = ref.attn[LAYER][HEAD];
        const vmax = Math.max(...m.flat());
        for (let q = 0; q < 17; q++)
          for (let k = 0; k < 17; k++) {
            const x = Math.floor((g.x + (k + 0.5) * g.cell) * 2);
            const y = Math.floor((g.y + (q + 0.5) * g.cell) * 2);
            const p = (y * img.width + x) * img.channels;
            const got = Array.from(img.data.subarray(p, p + 3));
            const want = k > q ? PAPER.masked : colorAt('viridis', m[q][k] / vmax);
            assert.ok(
              got.every((v, c) => Math.abs(v - want[c]) <= 4),
              `cell (${q}, ${k}): ${got} vs ${want}`,
            );
          }
        await until(
          'the saved notification',
          () => page.locator('.notifications-toasts').innerText(),
          (t) => /Saved lily-matrix\.png \(\d+ × \d+ px/.test(t),
        );
        await screenshot(page, 'export-done');

        // 5. Picking a token in the panel tints the editor by that token.
        await frame.locator('.matrix-label-row').nth(9).click();
        await until(
          'tint from the panel',
          () => page.locator('.statusbar-item', { hasText: 'Tint:' }).first().innerText(),
          (t) => t.includes(ref.tokens[9]),
        );
      } catch (e) {
        await screenshot(page, 'export-failure');
        throw e;
      }
    },
  },
];

runIfMain(import.meta.url, 'export', tests);
