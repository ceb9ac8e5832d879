// E2E: the Attention Lens panel in a real VS Code (code-server) driven through its UI with Playwright + Debian's
// chromium. The extension is loaded from its development path (the repo, built with `node scripts/build.mjs`).
//   npx tsx test/e2e/panel.e2e.ts            (alone)   — or through scripts/vscode-tests.mjs
// Screenshots: test-results/screenshots/panel-*.png
//
// DOM contract used (webview/): #run-status ("layers 5/5"), .thumb[data-layer][data-head], tabs
// [data-view="grid|head|matrix"], .head-token-left, .matrix-label-row, canvas#matrix-canvas[data-cell-size]
// [data-origin-x][data-origin-y], #matrix-tooltip[data-value][data-row][data-col].
// Expected attention values come from test/fixtures/models/stories260K/reference_attention.json (an independent
// numpy forward pass), for the text REF_TEXT.
import * as assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import {
  launchBrowser,
  log,
  openWorkbench,
  repoRoot,
  screenshot,
  sleep,
  startCodeServer,
  type BrowserSession,
  type CodeServer,
  type E2ETest,
} from '../helpers/code-server';
import {
  REF_TEXT,
  XSS_TEXT,
  loadReference,
  panel,
  showAttentionOnLine,
  spelled,
  texts,
  waitForAllLayers,
  waitForText,
  runIfMain,
  writeWorkspaceFile,
} from './common';

const FILE = 'story.txt';
const LAYER = 2;
const HEAD = 5;
/** The query token the neuron view is checked on. */
const NEURON_QUERY = 10;
/** (row = query, col = key) cells to hover: diagonal, first column, a late row, and a masked (causal) cell. */
const CELLS: [number, number][] = [
  [16, 3],
  [5, 5],
  [10, 0],
  [12, 7],
  [3, 9],
];

async function start(): Promise<{ server: CodeServer; session: BrowserSession; page: Page; dialogs: string[] }> {
  const server = await startCodeServer({ label: 'e2e-panel' });
  writeWorkspaceFile(server.workspace, FILE, [REF_TEXT, XSS_TEXT, '']);
  const session = await launchBrowser({ echoLogs: false });
  const dialogs: string[] = [];
  session.page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss().catch(() => undefined);
  });
  const devPath = process.env.EXT_DEV_PATH ?? repoRoot;
  await openWorkbench(session.page, server.workbenchUrl({ devPath }));
  return { server, session, page: session.page, dialogs };
}

export const tests: E2ETest[] = [
  {
    name: 'Show Attention from the palette fills the panel; head, matrix views and values match the reference',
    timeoutMs: 240_000,
    fn: async () => {
      const ref = loadReference();
      assert.equal(ref.text, REF_TEXT);
      const { page, dialogs, session } = await start();
      try {
        await showAttentionOnLine(page, FILE, 0);
        const frame = panel(page);
        const status = await waitForAllLayers(page);
        log(`panel status: ${status}`);
        await sleep(300); // let the last layer's thumbnails paint before the screenshot
        await screenshot(page, 'panel-grid');

        // Model grid: exactly 5 × 8 thumbnails, one per (layer, head).
        const thumbs = frame.locator('.thumb');
        assert.equal(await thumbs.count(), 5 * 8, 'thumbnail count');
        const pairs = await thumbs.evaluateAll((els) =>
          els.map((e) => `${e.getAttribute('data-layer')}:${e.getAttribute('data-head')}`),
        );
        const expected = [];
        for (let l = 0; l < 5; l++) for (let h = 0; h < 8; h++) expected.push(`${l}:${h}`);
        assert.deepEqual([...pairs].sort(), expected.sort(), 'thumbnails cover every layer and head once');

        // Head view: the left token column shows the run's tokens.
        await frame.locator('[data-view="head"]').click();
        const left = frame.locator('.head-token-left');
        await left.first().waitFor({ state: 'visible', timeout: 15_000 });
        const headTokens = await texts(left);
        assert.equal(
          headTokens.length,
          ref.tokens.length,
          `head view tokens ${JSON.stringify(headTokens)} vs reference ${JSON.stringify(ref.tokens)}`,
        );
        assert.equal(
          spelled(headTokens),
          REF_TEXT.replace(/\s+/g, ''),
          `head view tokens spell the selection: ${JSON.stringify(headTokens)}`,
        );
        await screenshot(page, 'panel-head');

        // Matrix: labels are the tokens in order.
        await frame.locator('[data-view="matrix"]').click();
        const rows = frame.locator('.matrix-label-row');
        await rows.first().waitFor({ state: 'visible', timeout: 15_000 });
        const rowTokens = await texts(rows);
        assert.deepEqual(rowTokens, headTokens, 'matrix row labels equal the head view tokens');
        ref.tokens_decoded.forEach((t, i) => {
          if (i === 0) return; // <s>
          assert.equal(rowTokens[i].replace(/[▁Ġ␣]/g, ' ').trim(), t.trim(), `matrix label ${i}`);
        });

        // Open layer LAYER head HEAD from the grid (click on its thumbnail opens the matrix).
        await frame.locator('[data-view="grid"]').click();
        await frame.locator(`.thumb[data-layer="${LAYER}"][data-head="${HEAD}"]`).click();
        const canvas = frame.locator('canvas#matrix-canvas');
        await canvas.waitFor({ state: 'visible', timeout: 15_000 });
        await waitForText(
          'matrix caption',
          frame.locator('.matrix-caption'),
          (t) => t.includes(`Layer ${LAYER}`) && t.includes(`head ${HEAD}`),
          15_000,
        ).catch(async () => {
          // No caption contract: fall back to the matrix tab (the thumbnail click selected the head).
          await frame.locator('[data-view="matrix"]').click();
        });
        const geo = await canvas.evaluate((c) => ({
          cell: Number(c.getAttribute('data-cell-size')),
          ox: Number(c.getAttribute('data-origin-x')),
          oy: Number(c.getAttribute('data-origin-y')),
        }));
        assert.ok(
          geo.cell > 0 && Number.isFinite(geo.ox) && Number.isFinite(geo.oy),
          `matrix geometry attributes: ${JSON.stringify(geo)}`,
        );
        const tooltip = frame.locator('#matrix-tooltip');
        for (const [row, col] of CELLS) {
          const expectedValue = ref.attn[LAYER][HEAD][row][col];
          await canvas.hover({
            position: { x: geo.ox + (col + 0.5) * geo.cell, y: geo.oy + (row + 0.5) * geo.cell },
            force: true,
          });
          const deadline = Date.now() + 10_000;
          let got: { value: string | null; row: string | null; col: string | null } = {
            value: null,
            row: null,
            col: null,
          };
          while (Date.now() < deadline) {
            got = await tooltip.evaluate((t) => ({
              value: t.getAttribute('data-value'),
              row: t.getAttribute('data-row'),
              col: t.getAttribute('data-col'),
            }));
            if (got.value !== null && (got.row === null || (got.row === String(row) && got.col === String(col)))) break;
            await sleep(100);
          }
          assert.ok(got.value !== null, `no #matrix-tooltip[data-value] after hovering (${row}, ${col})`);
          if (got.row !== null) assert.deepEqual([got.row, got.col], [String(row), String(col)], 'hovered cell');
          const value = Number(got.value);
          assert.ok(
            Math.abs(value - expectedValue) < 2e-5,
            `L${LAYER} H${HEAD} [${row}, ${col}]: panel ${value}, reference ${expectedValue}`,
          );
          if (col > row) assert.equal(value, 0, 'masked (causal) cell is exactly 0');
        }
        await screenshot(page, 'panel-matrix-hover');

        // Neuron view: the host computes this layer's q/k on request (a second pass with the q/k variant); the
        // softmax the view recomputes from them must equal the independent reference row.
        await frame.locator('[data-view="neuron"]').click();
        await frame.locator('#neuron-query').evaluate((e, v) => {
          (e as HTMLElement & { value: string }).value = v;
          e.dispatchEvent(new Event('change', { bubbles: true }));
        }, String(NEURON_QUERY));
        // The table of this query, layer and head (not one drawn before the change reached the view).
        const neuronRows = frame.locator(
          `.neuron-table[data-query="${NEURON_QUERY}"][data-layer="${LAYER}"][data-head="${HEAD}"] tbody tr`,
        );
        const neuronDeadline = Date.now() + 30_000;
        let softmax: number[] = [];
        while (Date.now() < neuronDeadline) {
          const cells = await neuronRows
            .evaluateAll((trs) => trs.map((tr) => tr.querySelectorAll('td')[4]?.textContent ?? ''))
            .catch(() => [] as string[]);
          softmax = cells.map(Number);
          const caption = await frame.locator('.neuron-caption').textContent();
          if (softmax.length === ref.tokens.length && caption?.includes(`head ${HEAD}`)) break;
          await sleep(200);
        }
        assert.equal(softmax.length, ref.tokens.length, 'neuron view lists every key');
        softmax.forEach((s, j) => {
          const expected = ref.attn[LAYER][HEAD][NEURON_QUERY][j];
          assert.ok(Math.abs(s - expected) <= 6e-5, `neuron softmax [${NEURON_QUERY}, ${j}]: ${s} vs ${expected}`);
        });
        await screenshot(page, 'panel-neuron');

        // XSS: a selection containing markup is shown as text, never parsed.
        await showAttentionOnLine(page, FILE, 1);
        const wanted = XSS_TEXT.replace(/\s+/g, '');
        await frame.locator('[data-view="matrix"]').click();
        const deadline = Date.now() + 90_000;
        let labels: string[] = [];
        while (Date.now() < deadline) {
          labels = await texts(frame.locator('.matrix-label-row')).catch(() => []);
          if (spelled(labels) === wanted) break;
          await sleep(250);
        }
        assert.equal(
          spelled(labels),
          wanted,
          `matrix labels of the markup line spell it literally: ${JSON.stringify(labels)}`,
        );
        await waitForAllLayers(page);
        const joined = labels.join('');
        assert.ok(/[<>]|<0x3C>/i.test(joined), `labels show the literal markup characters: ${JSON.stringify(labels)}`);
        assert.equal(await frame.locator('img').count(), 0, 'no <img> element was created in the panel');
        assert.equal(await frame.locator('.matrix-label-row *').count(), 0, 'labels contain no elements, only text');
        assert.deepEqual(dialogs, [], 'no alert() ran');
        await screenshot(page, 'panel-xss');

        const pageErrors = session.logs.filter((l) => l.startsWith('[pageerror]') && /attention|webview/i.test(l));
        assert.deepEqual(pageErrors, [], 'no page errors from the panel');
      } catch (e) {
        await screenshot(page, 'panel-failure');
        throw e;
      }
    },
  },
];

runIfMain(import.meta.url, 'panel', tests);
