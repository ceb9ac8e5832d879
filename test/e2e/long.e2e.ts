// E2E, long inputs (issue 15's "Done when"): in the real VS Code (code-server + chromium, Playwright), open a
// ~4,000-token document (test/fixtures/long/prose-4k.txt), run SmolLM2-135M-Instruct (the Q4_1 GGUF of
// scripts/fetch-model.mjs) on all of it on the native backend with attentionLens.maxTokens = 4096 — a run kept for long
// inputs (q, k and summaries in the worker, exact values on demand) — open the matrix, zoom in with the keyboard and
// Ctrl+wheel until the cells are single tokens, and read chosen cells' values three ways: the tooltip (4 digits, and
// its exact data-value), the keyboard readout, and the test API's keptValue (answered inside the extension host by
// test/e2e/long.suite.ts through files: see there). Each must equal what Hugging Face transformers computes for that
// cell from the same GGUF file over the same token ids (test/fixtures/long/reference.json, made by
// scripts/make-long-reference.py: eager attention, float32) to ≤ 1e-4; the ids the runtime's tokenizer gives are
// checked equal to the reference's first.
//   node scripts/build.mjs && npx tsx test/e2e/long.e2e.ts     — or: node scripts/vscode-tests.mjs long
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { decode } from 'fast-png';
import type { FrameLocator, Page } from 'playwright-core';
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
  type E2ETest,
} from '../helpers/code-server';
import { SHOW_ATTENTION, chooseRow, panel, runIfMain, saveAs, until, waitForText } from './common';
import type { LongAnswer, LongAsk } from './long.suite';
import { openGguf } from '../../runtime/formats/gguf-file';
import { tokenizerFromGguf } from '../../runtime/tokenizers/from-gguf';
import { formatSig } from '../../figures/labels';

const FIXTURES = join(repoRoot, 'test', 'fixtures', 'long');
const FILE = 'prose-4k.txt';
const GGUF = join(repoRoot, '.cache', 'models', 'SmolLM2-135M-Instruct-GGUF', 'SmolLM2-135M-Instruct.Q4_1.gguf');
const LAYERS = 30;
const TOLERANCE = 1e-4;
/** Zoomed in until a cell is at least this many px a side (single tokens, values readable). */
const CELL_PX = 10;

interface ReferenceCell {
  layer: number;
  head: number;
  query: number;
  key: number;
  value: number;
}
interface Reference {
  tokens: number;
  ids: number[];
  ids_sha256: string;
  cells: ReferenceCell[];
}

function smolGguf(): string {
  if (!existsSync(GGUF)) {
    log('fetching SmolLM2-135M-Instruct (scripts/fetch-model.mjs)');
    spawnSyncOk(process.execPath, [join(repoRoot, 'scripts', 'fetch-model.mjs'), 'smollm2']);
  }
  return GGUF;
}

/** The files through which the extension host's suite answers (see long.suite.ts). */
class Bridge {
  readonly dir = mkdtempSync(join(tmpdir(), 'al-long-'));
  private n = 0;
  async ask(ask: LongAsk, ms = 60_000): Promise<LongAnswer> {
    const id = this.n++;
    const file = join(this.dir, `ask-${id}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify(ask));
    copyFileSync(`${file}.tmp`, file);
    const answer = join(this.dir, `answer-${id}.json`);
    await until(
      `the extension host's answer to ${JSON.stringify(ask)}`,
      async () => existsSync(answer),
      (x) => x,
      ms,
    );
    const a = JSON.parse(readFileSync(answer, 'utf8')) as LongAnswer;
    if (a.kind === 'error') throw new Error(`extension host: ${a.message}`);
    return a;
  }
  close(): void {
    writeFileSync(join(this.dir, 'done'), '');
  }
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

interface Geometry {
  cell: number;
  ox: number;
  oy: number;
  rows: number;
  cols: number;
  rowStart: number;
  colStart: number;
}

async function geometry(frame: FrameLocator): Promise<Geometry> {
  return frame.locator('canvas#matrix-canvas').evaluate((c) => ({
    cell: Number(c.getAttribute('data-cell-size')),
    ox: Number(c.getAttribute('data-origin-x')),
    oy: Number(c.getAttribute('data-origin-y')),
    rows: Number(c.getAttribute('data-rows')),
    cols: Number(c.getAttribute('data-cols')),
    rowStart: Number(c.getAttribute('data-row-start')),
    colStart: Number(c.getAttribute('data-col-start')),
  }));
}

/** The tokens the zoomed window shows a side ("queries a–b, keys c–d"), or null at the whole map. */
async function windowSpan(frame: FrameLocator): Promise<{ rows: number; cols: number } | null> {
  const t = (await frame.locator('.zoom-text').textContent()) ?? '';
  const m = /queries (\d+)–(\d+), keys (\d+)–(\d+)/.exec(t);
  return m ? { rows: Number(m[2]) - Number(m[1]) + 1, cols: Number(m[4]) - Number(m[3]) + 1 } : null;
}

/** Moves the matrix's keyboard cell to (query, key) from the nearer corner, as a user would: Ctrl+Home / Ctrl+End,
 *  Home / End, then the arrow keys. */
async function moveCursor(page: Page, n: number, query: number, key: number): Promise<void> {
  const fromTop = query < n / 2;
  await page.keyboard.press(fromTop ? 'Control+Home' : 'Control+End');
  let row = fromTop ? 0 : n - 1;
  let col = fromTop ? 0 : n - 1;
  if (key < col / 2) {
    await page.keyboard.press('Home');
    col = 0;
  }
  for (; row < query; row++) await page.keyboard.press('ArrowDown');
  for (; row > query; row--) await page.keyboard.press('ArrowUp');
  for (; col < key; col++) await page.keyboard.press('ArrowRight');
  for (; col > key; col--) await page.keyboard.press('ArrowLeft');
}

/** The centre of cell (query, key) in page px, or null when the window does not show it. */
async function cellPoint(frame: FrameLocator, query: number, key: number) {
  const g = await geometry(frame);
  if (query < g.rowStart || query >= g.rowStart + g.rows || key < g.colStart || key >= g.colStart + g.cols) return null;
  // The canvas's box in the page (through the webview's iframes): where the mouse goes.
  const box = (await frame.locator('canvas#matrix-canvas').boundingBox())!;
  return {
    x: box.x + g.ox + (key - g.colStart + 0.5) * g.cell,
    y: box.y + g.oy + (query - g.rowStart + 0.5) * g.cell,
  };
}

/** Zooms with '+' (the '=' key, as the view takes either) until single-token cells of at least CELL_PX px, then one Ctrl+wheel notch over the cell. */
async function zoomToCell(page: Page, frame: FrameLocator, query: number, key: number): Promise<Geometry> {
  for (let presses = 0; ; presses++) {
    const g = await geometry(frame);
    const span = await windowSpan(frame);
    if (span && span.rows === g.rows && span.cols === g.cols && g.cell >= CELL_PX) break;
    assert.ok(presses < 40, `the matrix did not reach single cells: ${JSON.stringify({ g, span })}`);
    await page.keyboard.press('=');
    await sleep(150);
  }
  const p = await cellPoint(frame, query, key);
  assert.ok(p, `cell (${query}, ${key}) is in the zoomed window`);
  const before = (await windowSpan(frame))!;
  await page.mouse.move(p.x, p.y);
  await page.keyboard.down('Control');
  await page.mouse.wheel(0, -120);
  await page.keyboard.up('Control');
  // One notch in: fewer tokens a side, still single cells, the hovered cell still shown.
  const span = await until(
    'the window after Ctrl+wheel',
    () => windowSpan(frame),
    (s) => !!s && s.rows < before.rows,
    10_000,
  );
  const g = await geometry(frame);
  assert.ok(span && span.rows === g.rows && span.cols === g.cols, 'single-token cells after the wheel');
  return g;
}

/** The tooltip over (query, key): its exact data-value and its text. Moves within the cell until the exact value
 *  has come from the worker (the tip shows only then). */
async function tooltipAt(page: Page, frame: FrameLocator, query: number, key: number) {
  const tip = frame.locator('#matrix-tooltip');
  let last = '';
  for (let i = 0; i < 100; i++) {
    const p = await cellPoint(frame, query, key);
    assert.ok(p, `cell (${query}, ${key}) is shown`);
    await page.mouse.move(p.x + (i % 3) - 1, p.y + ((i + 1) % 3) - 1);
    await sleep(100);
    const got = await tip.evaluate((t) => ({
      hidden: (t as HTMLElement).hidden,
      value: t.getAttribute('data-value'),
      row: t.getAttribute('data-row'),
      col: t.getAttribute('data-col'),
      text: t.querySelector('.tip-value')?.textContent ?? '',
    }));
    last = JSON.stringify(got);
    if (!got.hidden && got.value !== null && got.row === String(query) && got.col === String(key))
      return { value: Number(got.value), text: got.text };
  }
  throw new Error(`no tooltip for (${query}, ${key}); last ${last}`);
}

/** The number a 4-digit label shows ("0.02601", "2.995e−6"). */
function shown(text: string): number {
  const m = /: ([−-]?[0-9.]+(?:e[−-]?\d+)?)/.exec(text);
  assert.ok(m, `a value in ${JSON.stringify(text)}`);
  return Number(m[1].replace(/−/g, '-'));
}

/** Export… in the panel → the format (and the PNG scale) → VS Code's save dialog, typed into; waits for the file. */
async function exportFromPanel(
  page: Page,
  frame: FrameLocator,
  format: 'PNG image' | 'NPY',
  target: string,
  timeoutMs: number,
): Promise<string> {
  await frame.locator('#export').click();
  await chooseRow(page, format);
  if (format === 'PNG image') await chooseRow(page, /^\s*1×/);
  // The file appears whole (renamed from its temporary file), however long the exact values take.
  await saveAs(page, target, format === 'NPY' ? /\.npy$/ : /\.png$/, timeoutMs);
  const name = basename(target).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return until(
    'the saved notification',
    () => page.locator('.notifications-toasts').innerText(),
    (t) => new RegExp(`Saved ${name} \\(`).test(t),
    30_000,
  );
}

/** An NPY 1.0 float32 file's shape and data. */
function readNpy(file: string): { shape: number[]; data: Float32Array } {
  const b = readFileSync(file);
  assert.equal(b.subarray(0, 6).toString('latin1'), '\x93NUMPY', `${file} is an NPY file`);
  const len = b.readUInt16LE(8);
  const header = b.subarray(10, 10 + len).toString('latin1');
  assert.match(header, /'descr': '<f4'/);
  assert.match(header, /'fortran_order': False/);
  const shape = /'shape': \(([^)]*)\)/
    .exec(header)![1]
    .split(',')
    .filter((x) => x.trim())
    .map(Number);
  const body = b.subarray(10 + len);
  return { shape, data: new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length)) };
}

/** No temporary file of the atomic writer (".NAME.PID-XXXX.partial") is left beside the exports. */
function noTemporaries(dir: string): void {
  const left = readdirSync(dir).filter((f) => f.endsWith('.partial'));
  assert.deepEqual(left, [], `temporary files left in ${dir}`);
}

/** Issue 15's exports of a kept run through the panel's Export… and the save dialog: the zoomed matrix window and
 *  the head view's ±64 window as PNG (decoded; the size the notification states, the title naming the window), and
 *  one whole head as NPY [n, n] streamed to the file, whose cells equal transformers' (reference.json). */
async function exportKept(page: Page, frame: FrameLocator, dir: string, ref: Reference): Promise<void> {
  const n = ref.tokens;
  // 1. The matrix as the loop left it: layer 21, head 7, zoomed to single cells.
  const zoom = (await frame.locator('.zoom-text').textContent()) ?? '';
  const m = /queries (\d+)–(\d+), keys (\d+)–(\d+)/.exec(zoom);
  assert.ok(m, `the matrix is zoomed: ${JSON.stringify(zoom)}`);
  const matrixPng = join(dir, 'long-matrix-window.png');
  let t = Date.now();
  const said = await exportFromPanel(page, frame, 'PNG image', matrixPng, 120_000);
  const png = decode(readFileSync(matrixPng));
  const size = /Saved long-matrix-window\.png \((\d+) × (\d+) px/.exec(said);
  assert.ok(size, said);
  assert.deepEqual([png.width, png.height], [Number(size[1]), Number(size[2])], 'the PNG has the size it was saved at');
  const title = png.text?.Title ?? '';
  assert.match(title, new RegExp(`layer 21 \\(causal\\) · head 7 · ${n} × ${n} tokens`), title);
  log(`long: matrix window ${m[0]} as PNG ${png.width} × ${png.height} px in ${Date.now() - t} ms`);
  noTemporaries(dir);

  // 2. The head view: its ±64 window around the chosen token, exported as the panel draws it. Laid out while hidden
  // (at the run's first layer) with the window's labels only: every token's (2 × n targets, laid out at the run's
  // start and dropped again at the tab switch) took seconds at 8,192 tokens.
  const labels = frame.locator('.head-view .scene-targets > .target');
  const ahead = await labels.count();
  assert.ok(ahead > 0 && ahead <= 2 * 129, `the hidden head view holds ${ahead} token targets for ${n} tokens`);
  await frame.locator('[data-view="head"]').click();
  const head = frame.locator('.head-view');
  const win = await until(
    'the head view of the kept run',
    () =>
      head.evaluate((e) => ({
        start: e.getAttribute('data-window-start'),
        end: e.getAttribute('data-window-end'),
        pending: e.getAttribute('data-pending'),
        lines: Number(e.getAttribute('data-lines')),
      })),
    (w) => w.start !== null && w.pending === 'false' && w.lines > 0,
    60_000,
  );
  const start = Number(win.start);
  const end = Number(win.end);
  assert.equal(end - start, 129, 'the head view shows ±64 tokens');
  assert.equal(await labels.count(), 2 * 129, "the head view's targets: the window's tokens, both columns");
  // The run said it was kept at its start (runStarted.kept): the neuron view's query list (not shown yet) offers a
  // window of 129 tokens (an option per token, 8,192 of them rendered by the dropdown, was most of a kept run's start).
  const queries = await frame
    .locator('#neuron-query vscode-option')
    .evaluateAll((os) => os.map((o) => Number(o.getAttribute('value'))));
  assert.equal(queries.length, 129, `the neuron view lists ${queries.length} queries of ${n}`);
  assert.deepEqual(
    queries,
    Array.from({ length: 129 }, (_, i) => queries[0] + i),
    "the neuron view's queries: one window",
  );
  const headPng = join(dir, 'long-head-window.png');
  t = Date.now();
  await exportFromPanel(page, frame, 'PNG image', headPng, 120_000);
  const hp = decode(readFileSync(headPng));
  assert.match(hp.text?.Title ?? '', new RegExp(` · tokens ${start}[–?]${end - 1} of ${n}$`), hp.text?.Title);
  assert.ok(hp.width > 200 && hp.height > 129 * 10, `head view PNG ${hp.width} × ${hp.height}`);
  log(`long: head view tokens ${start}–${end - 1} (${win.lines} lines) as PNG in ${Date.now() - t} ms`);
  noTemporaries(dir);

  // 3. One whole head of layer 3 as NPY [n, n]: the matrix unzoomed on layer 3, head 2.
  await frame.locator('[data-view="matrix"]').click();
  for (const [id, value] of [
    ['#layer-select', '3'],
    ['#head-select', '2'],
  ]) {
    await frame.locator(id).evaluate((e, v) => {
      (e as HTMLElement & { value: string }).value = v;
      e.dispatchEvent(new Event('change', { bubbles: true }));
    }, value);
  }
  await waitForText('matrix caption', frame.locator('.matrix-caption'), (x) => x.startsWith('Layer 3 · head 2'));
  await frame.locator('.matrix-scroll').focus();
  await page.keyboard.press('0');
  await until(
    'the whole matrix',
    () => windowSpan(frame),
    (s) => s === null,
    10_000,
  );
  const npy = join(dir, 'long-L3-H2.npy');
  t = Date.now();
  const saved = await exportFromPanel(page, frame, 'NPY', npy, 300_000);
  const ms = Date.now() - t;
  const { shape, data } = readNpy(npy);
  assert.deepEqual(shape, [n, n], 'one head [query, key]');
  for (const c of ref.cells.filter((x) => x.layer === 3 && x.head === 2)) {
    const v = data[c.query * n + c.key];
    assert.ok(Math.abs(v - c.value) <= TOLERANCE, `NPY [${c.query}, ${c.key}] = ${v}, transformers ${c.value}`);
    // Its row: a causal softmax row (sums to 1, nothing after the query).
    let sum = 0;
    for (let k = 0; k < n; k++) sum += data[c.query * n + k];
    assert.ok(Math.abs(sum - 1) <= 1e-4, `row ${c.query} sums to ${sum}`);
    assert.equal(data[c.query * n + c.query + 1] ?? 0, 0, `row ${c.query} is masked after the query`);
  }
  const side = JSON.parse(readFileSync(`${npy}.json`, 'utf8')) as { array: { shape: number[] }; layer: number };
  assert.deepEqual(side.array.shape, [n, n]);
  assert.equal(side.layer, 3);
  noTemporaries(dir);
  log(
    `long: NPY of layer 3 head 2 [${n}, ${n}] (${(data.length * 4) / 1e6} MB) in ${ms} ms: ${/Saved [^\n]*/.exec(saved)?.[0] ?? saved}`,
  );
}

export const tests: E2ETest[] = [
  {
    name: 'a ~4,000-token document on SmolLM2: zoomed matrix cells equal transformers (tooltip, readout, keptValue)',
    timeoutMs: 840_000,
    fn: async () => {
      const t0 = Date.now();
      const ref = JSON.parse(readFileSync(join(FIXTURES, 'reference.json'), 'utf8')) as Reference;
      const text = readFileSync(join(FIXTURES, FILE), 'utf8');
      const gguf = smolGguf();
      // The runtime's tokenizer (the extension's) gives exactly the reference's ids.
      const ids = tokenizerFromGguf(openGguf(gguf).meta)
        .encode(text)
        .map((t) => t.id);
      assert.equal(ids.length, ref.tokens);
      assert.equal(createHash('sha256').update(ids.join(',')).digest('hex'), ref.ids_sha256, 'token ids hash');
      assert.deepEqual(ids, ref.ids, 'the token ids of the reference');

      const bridge = new Bridge();
      const results = join(bridge.dir, 'results.json');
      const server = await startCodeServer({
        label: 'e2e-long',
        env: { ATTENTION_LENS_LONG_BRIDGE: bridge.dir, ATTENTION_LENS_TEST_RESULTS: results },
        settings: {
          'attentionLens.modelPath': gguf,
          'attentionLens.backend': 'native',
          'attentionLens.maxTokens': 4096,
          'attentionLens.chatPrompt': false,
        },
      });
      copyFileSync(join(FIXTURES, FILE), join(server.workspace, FILE));
      const session = await launchBrowser({ echoLogs: false });
      const page = session.page;
      let host: { failed: number; failures: unknown[] } | undefined;
      try {
        const testsPath = join(repoRoot, 'dist', 'test', 'long-suite', 'index.js');
        assert.ok(existsSync(testsPath), `${testsPath} is missing: run \`node scripts/build.mjs\` first`);
        await openWorkbench(page, server.workbenchUrl({ devPath: process.env.EXT_DEV_PATH ?? repoRoot, testsPath }));
        // Show Attention on all of the document.
        await openFile(page, FILE);
        await page.locator('.monaco-editor .view-lines').first().click();
        await page.keyboard.press('Control+A');
        const tRun = Date.now();
        await runCommand(page, SHOW_ATTENTION);
        const frame = panel(page);
        const status = await waitForText(
          'panel #run-status',
          frame.locator('#run-status'),
          (t) => (new RegExp(`layers ${LAYERS}/${LAYERS}`).test(t) && /done/.test(t)) || /failed/.test(t),
          600_000,
        );
        assert.doesNotMatch(status, /failed/, 'the model loads and the run ends');
        log(`long: ${status} (${((Date.now() - tRun) / 1000).toFixed(1)} s from the command, model load included)`);
        assert.ok(status.includes(`${ref.tokens} tokens`), status);
        const run = await bridge.ask({ kind: 'run', afterRunId: 0 });
        assert.ok(run.kind === 'run');
        assert.equal(run.state, 'done', run.message ?? '');
        assert.equal(run.tokens, ref.tokens, 'the run saw every token of the document');
        await screenshot(page, 'long-grid');

        await frame.locator('[data-view="matrix"]').click();
        await frame.locator('canvas#matrix-canvas').waitFor({ state: 'visible', timeout: 30_000 });
        const diffs: string[] = [];
        for (const c of ref.cells) {
          // The dropdowns are @vscode-elements single-selects: set the value and fire 'change' as a pick does.
          for (const [id, value] of [
            ['#layer-select', String(c.layer)],
            ['#head-select', String(c.head)],
          ]) {
            await frame.locator(id).evaluate((e, v) => {
              (e as HTMLElement & { value: string }).value = v;
              e.dispatchEvent(new Event('change', { bubbles: true }));
            }, value);
          }
          await waitForText('matrix caption', frame.locator('.matrix-caption'), (t) =>
            t.startsWith(`Layer ${c.layer} · head ${c.head}`),
          );
          // Whole map, then the keyboard to the cell, then zoom in on it.
          const scroll = frame.locator('.matrix-scroll');
          await scroll.focus();
          await page.keyboard.press('0');
          await moveCursor(page, ref.tokens, c.query, c.key);
          await zoomToCell(page, frame, c.query, c.key);
          const tip = await tooltipAt(page, frame, c.query, c.key);
          // The keyboard readout of the same cell (the wheel put the cursor on the hovered cell).
          const readout = await until(
            'matrix readout',
            () =>
              frame.locator('#matrix-readout').evaluate((r) => ({
                row: r.getAttribute('data-row'),
                col: r.getAttribute('data-col'),
                value: r.getAttribute('data-value'),
                text: r.textContent ?? '',
              })),
            (r) =>
              r.row === String(c.query) && r.col === String(c.key) && r.value !== null && !r.text.includes('computing'),
            30_000,
          );
          const kept = await bridge.ask({ kind: 'value', runId: run.runId, ...c });
          assert.ok(kept.kind === 'value' && kept.value !== null, `keptValue for ${JSON.stringify(c)}`);
          const where = `layer ${c.layer} head ${c.head} [${c.query}, ${c.key}]`;
          const dKept = Math.abs(kept.value - c.value);
          const dTip = Math.abs(tip.value - c.value);
          const dReadout = Math.abs(Number(readout.value) - c.value);
          diffs.push(
            `${where}: transformers ${c.value.toExponential(6)}, keptValue ${kept.value.toExponential(6)} ` +
              `(|Δ| ${dKept.toExponential(2)}), tooltip "${tip.text}" (data-value |Δ| ${dTip.toExponential(2)}), ` +
              `readout |Δ| ${dReadout.toExponential(2)}`,
          );
          log(diffs[diffs.length - 1]);
          assert.ok(dKept <= TOLERANCE, `${where}: keptValue ${kept.value}, transformers ${c.value}`);
          assert.ok(dTip <= TOLERANCE, `${where}: tooltip data-value ${tip.value}, transformers ${c.value}`);
          assert.ok(dReadout <= TOLERANCE, `${where}: readout ${readout.value}, transformers ${c.value}`);
          // What the UI shows: 4 significant digits of that value.
          assert.ok(tip.text.endsWith(formatSig(tip.value)), `${where}: tooltip ${JSON.stringify(tip.text)}`);
          const digits = shown(tip.text);
          const unit = 10 ** (Math.floor(Math.log10(Math.abs(c.value))) - 3);
          assert.ok(
            Math.abs(digits - c.value) <= unit / 2 + TOLERANCE * 1e-2,
            `${where}: tooltip shows ${digits}, transformers ${c.value}`,
          );
          assert.ok(readout.text.endsWith(formatSig(Number(readout.value))), readout.text);
        }
        await screenshot(page, 'long-matrix');
        log(`long: ${diffs.length} cells ≤ ${TOLERANCE}; phase ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        await exportKept(page, frame, server.workspace, ref);
        log(`long: exports checked; phase ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      } catch (e) {
        await screenshot(page, 'long-failure');
        throw e;
      } finally {
        bridge.close();
        // The host's suite ends when it sees `done`; its verdict counts too.
        const code = await Promise.race([session.exitCode, sleep(20_000).then(() => undefined)]);
        await session.close();
        await server.stop();
        if (existsSync(results)) host = JSON.parse(readFileSync(results, 'utf8')) as typeof host;
        bridge.remove();
        if (code === undefined) log('long: the extension host suite did not report its exit within 20 s');
      }
      if (host?.failed) throw new Error(`extension host suite: ${JSON.stringify(host.failures)}`);
    },
  },
];

runIfMain(import.meta.url, 'long', tests);
