// E2E: the panel's Explain view in a real VS Code (code-server) driven through its UI with Playwright + Debian's
// chromium, on the default model all-MiniLM-L6-v2 (.cache/models; an encoder without a head, so the only target is
// similarity with a reference text).
//   npx tsx test/e2e/explain.e2e.ts            (alone; after `node scripts/build.mjs`) — or scripts/vscode-tests.mjs
// Screenshots: test-results/screenshots/explain-*.png
//
// 1. Show Attention on a sentence, switch to the Explain view: the target list offers similarity only; an empty
//    reference gets a clear message in the view.
// 2. Explain similarity:<reference> with rollout + leave-one-out + norm + gradient × input + Integrated Gradients +
//    AttnLRP (runtime/grad, in the host's worker): one token-strip row per method plus the
//    uniform baseline, every row covering every token; the scores equal `attention-lens explain` (the CLI) on the same
//    text; the agreement matrix's cells lie in [-1, 1] (top-k overlap in [0, 1]) with 1 on the diagonal; the
//    faithfulness plot has a comprehensiveness and a sufficiency curve per method; the head statistics are six small
//    multiples of 6 layers × 12 heads. The reference's markup stays text. (The figures are painted on canvases; their
//    cells, points and labels are target elements with their values: .strip-method, .strip-token[data-score],
//    .agree-cell[data-value], .curve-point[data-value].)
// 3. Export… → JSON and → PNG 2× through the quick pick and VS Code's save dialog: the files hold the explanation and
//    an image of the size the shared renderer gives. Hovering a head statistic's cell reads out the value the JSON's
//    head table has (and the cell has its colour on the shared scale); clicking it opens the head in the Matrix view.
//    The palette's "Export View or Data…" on the Explain tab exports the same (JSON with the methods' scores, an SVG of
//    the explanation with the six multiples), and in compare mode the comparison.
// 4. Compare: head vs itself gives JSD 0; head 0 vs head 1 and this input vs a second input give a JSD in [0, 1], with
//    the three heatmaps drawn.
// 5. A causal LM (stories260K): next-token targets are offered, the default methods explain the most likely next
//    token, and a target the host refuses (a "next token" that is several tokens) shows the runtime's one-line reason.
//    Before any explanation, the palette's Export… on the Explain tab says so in one line and offers the attention view.
//    The agreement table's column labels stay in view (below the toolbar) when the panel scrolls past its top, its
//    row labels when its box scrolls sideways.
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { decode } from 'fast-png';
import {
  launchBrowser,
  log,
  openWorkbench,
  repoRoot,
  runCommand,
  screenshot,
  spawnSyncOk,
  startCodeServer,
  type E2ETest,
} from '../helpers/code-server';
import {
  REF_TEXT,
  chooseRow,
  panel,
  runIfMain,
  showAttentionOnLine,
  saveAs,
  texts,
  until,
  waitForAllLayers,
  waitForText,
  writeWorkspaceFile,
} from './common';
import type { ExplainResult } from '../../runtime/explain/result';
import { colorLut } from '../../figures/colormap';
import { explainFigure } from '../../figures/explain-figure';
import { EXPORT_OPTIONS } from '../../figures/figure-kit';
import { HEAD_STATS, headStatGrids, statColor, type HeadStatKey } from '../../figures/head-stats';
import { PAPER } from '../../figures/theme';
import { pngSize } from '../../figures/view-figure';

const FILE = 'cat.txt';
const TEXT = 'The cat sat on the mat.';
const REFERENCE = 'A <b>cat</b> was sitting on a mat.';
const SECOND = 'A dog sat on the mat.';
const METHODS = ['rollout', 'loo', 'norm', 'alti', 'grad-x-input', 'integrated-gradients', 'attnlrp'];
const MODEL = join(repoRoot, '.cache', 'models', 'all-MiniLM-L6-v2');
const EXPORT_COMMAND = 'Attention Lens: Export View or Data…';

/** Sets an @vscode-elements control's value (select, textfield, textarea) and fires 'change' as the user would. */
async function setValue(frame: FrameLocator, selector: string, value: string): Promise<void> {
  await frame.locator(selector).evaluate((e, v) => {
    (e as HTMLElement & { value: string }).value = v;
    e.dispatchEvent(new Event('input', { bubbles: true }));
    e.dispatchEvent(new Event('change', { bubbles: true }));
  }, value);
}

async function setChecked(frame: FrameLocator, method: string, checked: boolean): Promise<void> {
  await frame.locator(`vscode-checkbox[data-method="${method}"]`).evaluate((e, c) => {
    (e as HTMLElement & { checked: boolean }).checked = c;
    e.dispatchEvent(new Event('change', { bubbles: true }));
  }, checked);
}

async function agreementValues(frame: FrameLocator): Promise<{ a: string; b: string; v: number }[]> {
  return frame.locator('#agreement-table .agree-cell').evaluateAll((tds) =>
    tds.map((td) => ({
      a: td.getAttribute('data-a')!,
      b: td.getAttribute('data-b')!,
      v: Number(td.getAttribute('data-value')),
    })),
  );
}

/** The title of the quick pick shown now. */
async function quickPickTitle(page: Page, want: RegExp): Promise<string> {
  return until(
    `a quick pick titled ${want}`,
    () => page.locator('.quick-input-widget .quick-input-title').innerText(),
    (t) => want.test(t),
    20_000,
  );
}

/** Export… in the Explain view (or, with `palette`, the command palette's Export View or Data…) → `choice`
 *  (→ `scale`) → VS Code's save dialog → `target`. */
async function exportVia(
  page: Page,
  frame: FrameLocator,
  choice: string,
  target: string,
  scale?: string,
  palette = false,
): Promise<void> {
  if (palette) await runCommand(page, EXPORT_COMMAND);
  else await frame.locator('#explain-export').click();
  // The Explain view's own formats, whichever way the export was asked for.
  await quickPickTitle(page, /Export from the Explain view/);
  await chooseRow(page, choice);
  if (scale) await chooseRow(page, scale);
  await saveAs(page, target, /\.(json|png|svg)$/);
}

/** Counts the non-transparent pixels of a canvas in the panel. */
async function paintedPixels(frame: FrameLocator, id: string): Promise<number> {
  return frame.locator(id).evaluate((c) => {
    const canvas = c as HTMLCanvasElement;
    const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  });
}

/** Hovers cell (layer, head) of a head statistic's multiple; returns the readout's data and the cell's pixel. */
async function hoverHeadStat(
  frame: FrameLocator,
  stat: HeadStatKey,
  layer: number,
  head: number,
): Promise<{
  readout: Record<string, string | undefined>;
  text: string;
  pixel: number[];
  at: { x: number; y: number };
}> {
  const canvas = frame.locator(`#head-stat-${stat}`);
  await canvas.scrollIntoViewIfNeeded();
  const geo = await canvas.evaluate((c) => {
    const d = (c as HTMLCanvasElement).dataset;
    return { cell: Number(d.cell), x: Number(d.gridX), y: Number(d.gridY) };
  });
  const at = { x: geo.x + (head + 0.5) * geo.cell, y: geo.y + (layer + 0.5) * geo.cell };
  await canvas.hover({ position: at });
  const readout = frame.locator('#head-stats-readout');
  const data = await until(
    `the readout of ${stat} at layer ${layer}, head ${head}`,
    () => readout.evaluate((e) => ({ ...(e as HTMLElement).dataset })),
    (d) => d.stat === stat && d.layer === String(layer) && d.head === String(head),
    10_000,
  );
  const pixel = await canvas.evaluate((c, p) => {
    const canvas = c as HTMLCanvasElement;
    const k = canvas.width / parseFloat(canvas.style.width);
    const d = canvas.getContext('2d')!.getImageData(Math.floor(p.x * k), Math.floor(p.y * k), 1, 1).data;
    return [d[0], d[1], d[2]];
  }, at);
  return { readout: data, text: await readout.innerText(), pixel, at };
}

async function compareJsd(frame: FrameLocator, before: string | null): Promise<number> {
  await frame.locator('#compare-run').click();
  const value = await until(
    'compare JSD',
    () => frame.locator('#compare-jsd').getAttribute('data-value'),
    (v) => v !== null && v !== before,
  );
  return Number(value);
}

export const tests: E2ETest[] = [
  {
    name: 'Explain view: similarity target with rollout, leave-one-out and norm; agreement, faithfulness, export, compare',
    timeoutMs: 280_000,
    fn: async () => {
      assert.ok(existsSync(join(MODEL, 'model.safetensors')), `the default model in ${MODEL} (npm run fetch-model)`);
      const server = await startCodeServer({
        label: 'e2e-explain',
        settings: { 'attentionLens.modelPath': MODEL, 'attentionLens.backend': 'native' },
      });
      writeWorkspaceFile(server.workspace, FILE, [TEXT, '']);
      const session = await launchBrowser({ echoLogs: false });
      const page = session.page;
      const dialogs: string[] = [];
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss().catch(() => undefined);
      });
      const scratch = mkdtempSync(join(tmpdir(), 'al-explain-'));
      try {
        await openWorkbench(page, server.workbenchUrl({ devPath: process.env.EXT_DEV_PATH ?? repoRoot }));
        await showAttentionOnLine(page, FILE, 0);
        const frame = panel(page);
        await waitForText('panel #run-status', frame.locator('#run-status'), (t) => /layers 6\/6/.test(t), 120_000);

        // 1. The Explain view: an encoder without a head offers similarity only.
        await frame.locator('[data-view="explain"]').click();
        await frame.locator('#explain-run').waitFor({ state: 'visible', timeout: 15_000 });
        const targets = await frame
          .locator('#explain-target vscode-option')
          .evaluateAll((os) => os.map((o) => o.getAttribute('value')));
        assert.deepEqual(targets, ['similarity'], 'targets offered for all-MiniLM-L6-v2');
        await setValue(frame, '#explain-reference', '   ');
        await frame.locator('#explain-run').click();
        await waitForText(
          'empty reference message',
          frame.locator('#explain-error'),
          (t) => /reference text/i.test(t),
          10_000,
        );
        await screenshot(page, 'explain-empty-reference');

        // 2. Explain with rollout + leave-one-out + norm.
        await setValue(frame, '#explain-reference', REFERENCE);
        for (const m of ['raw-attention', 'flow', 'occlusion', 'norm-rollout']) await setChecked(frame, m, false);
        for (const m of METHODS) await setChecked(frame, m, true);
        await frame.locator('#explain-run').click();
        const rows = frame.locator('#explain-strip .strip-method');
        await until(
          'token strip rows',
          () => rows.count(),
          (n) => n === METHODS.length + 1,
          120_000,
        );
        assert.equal(await frame.locator('#explain-error').isVisible(), false, 'no error after Explain');
        const ids = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-method')));
        assert.deepEqual(ids, [...METHODS, 'uniform'], 'one row per method, then the uniform baseline');
        const headTokens = await texts(frame.locator('.strip-token'));
        const perRow = headTokens.length / ids.length;
        assert.ok(Number.isInteger(perRow) && perRow >= 9, `every row covers every token (${headTokens.length} cells)`);
        const first = headTokens.slice(0, perRow);
        assert.equal(first.join(' '), '[CLS] the cat sat on the mat . [SEP]', 'strip tokens');
        const scores: Record<string, number[]> = {};
        for (const id of ids) {
          scores[id!] = await frame
            .locator(`#explain-strip .strip-token[data-method="${id}"]`)
            .evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-score'))));
          assert.ok(scores[id!].every(Number.isFinite), `${id} scores are numbers`);
        }
        const summary = await frame.locator('#explain-summary').innerText();
        log(`explain summary: ${summary}`);
        assert.ok(summary.includes(REFERENCE), 'the reference (with its markup) is shown as text');
        assert.equal(
          await frame.locator('#explain-summary b, .explain-view b, .explain-view img').count(),
          0,
          'no markup',
        );

        // The same explanation from the CLI (the runtime the host calls) gives the same scores.
        const cliOut = join(scratch, 'cli.json');
        spawnSyncOk(process.execPath, [
          join(repoRoot, 'dist', 'cli.js'),
          'explain',
          '--model',
          MODEL,
          '--text',
          TEXT,
          '--target',
          `similarity:${REFERENCE}`,
          '--methods',
          METHODS.join(','),
          '--backend',
          'native',
          '--out',
          cliOut,
        ]);
        const cli = JSON.parse(readFileSync(cliOut, 'utf8')) as ExplainResult;
        // The notes that say how to read the numbers (AOPC's definition, bins of one k...) are the CLI's, as text.
        const notes = await texts(frame.locator('#explain-notes li'));
        assert.ok(
          cli.notes.some((n) => /AOPC is ERASER's/.test(n)),
          `CLI notes: ${cli.notes.join(' | ')}`,
        );
        assert.deepEqual(notes, cli.notes, 'the Explain view shows the notes of the explanation');
        for (const m of cli.methods) {
          const panelScores = scores[m.id];
          assert.ok(panelScores, `panel row for ${m.id}`);
          m.scores.forEach((s, i) =>
            assert.ok(
              Math.abs(panelScores[i] - s) <= 1e-5 * Math.max(1, Math.abs(s)),
              `${m.id}[${i}]: panel ${panelScores[i]}, CLI ${s}`,
            ),
          );
        }

        // Agreement matrix: Kendall τ and Spearman ρ in [-1, 1], top-k overlap in [0, 1], 1 on the diagonal.
        for (const [metric, lo] of [
          ['kendall', -1],
          ['spearman', -1],
          ['topK', 0],
        ] as const) {
          await setValue(frame, '#agreement-metric', metric);
          await until(
            `agreement table for ${metric}`,
            () => frame.locator('#agreement-table').getAttribute('data-metric'),
            (m) => m === metric,
            10_000,
          );
          const cells = await agreementValues(frame);
          assert.equal(cells.length, ids.length * ids.length, `${metric}: a cell per pair of methods`);
          for (const c of cells) {
            if (c.a === c.b) assert.equal(c.v, 1, `${metric} diagonal ${c.a}`);
            else assert.ok(Number.isFinite(c.v) && c.v >= lo && c.v <= 1, `${metric} ${c.a} vs ${c.b} = ${c.v}`);
          }
          const cli2 = cli.agreement.find((r) => r.a === 'loo' && r.b === 'norm')!;
          const cell = cells.find((c) => c.a === 'loo' && c.b === 'norm')!;
          assert.ok(
            Math.abs(cell.v - cli2[metric]) < 1e-9,
            `${metric} loo vs norm: panel ${cell.v}, CLI ${cli2[metric]}`,
          );
        }
        await setValue(frame, '#agreement-metric', 'kendall');

        // Faithfulness plot: a comprehensiveness and a sufficiency curve per method (with the baseline), 5 points each,
        // each point a target with its bin and value, inside the plot.
        const points = await frame.locator('#faithfulness-plot .curve-point').evaluateAll((ps) =>
          ps.map((p) => ({
            curve: `${p.getAttribute('data-method')}/${p.getAttribute('data-kind')}`,
            percent: Number(p.getAttribute('data-percent')),
            value: Number(p.getAttribute('data-value')),
            x: (p as HTMLElement).offsetLeft,
            y: (p as HTMLElement).offsetTop,
          })),
        );
        const curves = new Map<string, typeof points>();
        for (const p of points) curves.set(p.curve, [...(curves.get(p.curve) ?? []), p]);
        assert.equal(curves.size, 2 * ids.length, 'two curves per method');
        for (const [id, pts] of curves) {
          assert.deepEqual(
            pts.map((p) => p.percent),
            [1, 5, 10, 20, 50],
            `${id}: a point per bin (1, 5, 10, 20, 50 %)`,
          );
          assert.ok(
            pts.every((p) => Number.isFinite(p.value) && p.x > 0 && p.y > 0),
            `${id} points`,
          );
        }
        const box = await frame.locator('#faithfulness-plot').boundingBox();
        assert.ok(box && box.width > 200 && box.height > 100, `the plot is drawn (${JSON.stringify(box)})`);
        await frame.locator('#faithfulness-plot').scrollIntoViewIfNeeded();
        await screenshot(page, 'explain-result');

        // Head statistics: six small multiples, each a grid of 6 layers × 12 heads, drawn.
        const multiples = await frame.locator('#head-stats canvas.head-stat-canvas').evaluateAll((cs) =>
          cs.map((c) => ({
            stat: c.getAttribute('data-stat'),
            layers: Number(c.getAttribute('data-layers')),
            heads: Number(c.getAttribute('data-heads')),
            cell: Number(c.getAttribute('data-cell')),
            width: c.getBoundingClientRect().width,
          })),
        );
        assert.deepEqual(
          multiples.map((m) => m.stat),
          HEAD_STATS.map((s) => s.key),
          'one multiple per statistic',
        );
        for (const m of multiples) {
          assert.deepEqual([m.layers, m.heads], [6, 12], `${m.stat}: 6 layers × 12 heads`);
          assert.ok(m.cell >= 3 && m.width >= 12 * m.cell, `${m.stat}: the grid fits its canvas`);
          assert.ok((await paintedPixels(frame, `#head-stat-${m.stat}`)) > 6 * 12 * m.cell * m.cell, `${m.stat} drawn`);
        }

        // 3. Export: JSON, then PNG at 2×.
        const json = join(server.workspace, 'explain.json');
        await exportVia(page, frame, 'JSON', json);
        const saved = JSON.parse(readFileSync(json, 'utf8')) as ExplainResult & { text: string };
        assert.equal(saved.text, TEXT, 'JSON: the text');
        assert.equal(saved.target.spec, `similarity:${REFERENCE}`, 'JSON: the target');
        assert.deepEqual(
          saved.methods.map((m) => m.id),
          [...METHODS, 'uniform'],
          'JSON: the methods',
        );
        assert.ok(Math.abs(saved.target.value - cli.target.value) < 1e-6, 'JSON: the target value equals the CLI’s');

        // Hovering a head statistic's cell: the readout's value is the JSON head table's, and so is uniform attention's;
        // the cell is painted in its value's colour on the statistic's own scale (the shared renderer's).
        assert.equal(saved.heads.length, 6 * 13, 'JSON: 12 heads and the uniform row per layer');
        const grids = headStatGrids(saved);
        for (const [stat, layer, head] of [
          ['entropy', 2, 5],
          ['previousToken', 5, 11],
          ['specialShare', 0, 0],
        ] as const) {
          const h = await hoverHeadStat(frame, stat, layer, head);
          const row = saved.heads.find((r) => r.layer === layer && r.head === head)!;
          const uniform = saved.heads.find((r) => r.layer === layer && r.head === -1)!;
          log(`head statistic readout: ${h.text}`);
          assert.equal(
            Number(h.readout.value),
            row[stat],
            `${stat} at layer ${layer}, head ${head}: JSON ${row[stat]}`,
          );
          assert.equal(Number(h.readout.baseline), uniform[stat], `${stat}: uniform attention in layer ${layer}`);
          assert.ok(h.text.startsWith(`Layer ${layer}, head ${head} · `), `readout text: ${h.text}`);
          // The text shows about 4 significant digits (data-value above keeps the exact value).
          const shown = String(Number(row[stat].toPrecision(4)));
          assert.ok(h.text.includes(shown), `the readout shows ${shown}: ${h.text}`);
          const grid = grids.find((g) => g.stat.key === stat)!;
          const want = statColor(row[stat], grid.domain, colorLut('viridis'))!;
          assert.ok(
            h.pixel.every((c, i) => Math.abs(c - want[i]) <= 2),
            `${stat} (${layer}, ${head}) colour ${h.pixel} vs ${want}`,
          );
          if (stat === 'entropy') await screenshot(page, 'explain-head-stats');
        }
        // A click on a cell opens that head in the Matrix view; then back to the explanation.
        const entropyCell = await hoverHeadStat(frame, 'entropy', 2, 5);
        await frame.locator('#head-stat-entropy').click({ position: entropyCell.at });
        await until(
          'the matrix view on layer 2, head 5',
          () => frame.locator('.matrix-caption').innerText(),
          (t) => t.includes('Layer 2') && t.includes('head 5'),
          10_000,
        );
        await frame.locator('[data-view="explain"]').click();
        await frame.locator('#head-stats').waitFor({ state: 'visible', timeout: 10_000 });
        const png = join(server.workspace, 'explain.png');
        await exportVia(page, frame, 'PNG image', png, '2×');
        const img = decode(readFileSync(png));
        const figure = (result: ExplainResult) =>
          explainFigure(result, { metric: 'kendall', colorMap: 'viridis' }, PAPER, { ...EXPORT_OPTIONS, source: TEXT });
        const want = pngSize(figure(saved), 2);
        assert.deepEqual([img.width, img.height], [want.width, want.height], 'PNG size of the explanation at 2×');
        await until(
          'the saved notification',
          () => page.locator('.notifications-toasts').innerText(),
          (t) => /Saved explain\.png/.test(t),
        );
        await screenshot(page, 'explain-exported');

        // The palette's Export… while the Explain tab shows: the explanation, not the attention view.
        const paletteJson = join(server.workspace, 'palette-explain.json');
        await exportVia(page, frame, 'JSON', paletteJson, undefined, true);
        const fromPalette = JSON.parse(readFileSync(paletteJson, 'utf8')) as ExplainResult & { text: string };
        assert.equal(fromPalette.target.spec, `similarity:${REFERENCE}`, 'palette JSON: the explanation’s target');
        for (const id of METHODS) {
          const m = fromPalette.methods.find((x) => x.id === id);
          assert.ok(m, `palette JSON: method ${id}`);
          assert.equal(m.scores.length, scores[id].length, `palette JSON: a ${id} score per token`);
          m.scores.forEach((v, i) =>
            assert.ok(
              Math.abs(v - scores[id][i]) <= 1e-5 * Math.max(1, Math.abs(v)),
              `palette JSON ${id}[${i}]: ${v}, panel ${scores[id][i]}`,
            ),
          );
        }
        const paletteSvg = join(server.workspace, 'palette-explain.svg');
        await exportVia(page, frame, 'SVG image', paletteSvg, undefined, true);
        const svgText = readFileSync(paletteSvg, 'utf8');
        const paletteFigure = figure(saved);
        assert.match(
          svgText,
          new RegExp(`<svg[^>]* width="${paletteFigure.width}" height="${paletteFigure.height}"`),
          `palette SVG: the explanation's size ${paletteFigure.width} × ${paletteFigure.height}`,
        );
        assert.ok(svgText.includes('perturbations never remove them'), 'palette SVG: the explanation’s legend');
        const svgMultiples = svgText.match(/<g class="head-stat" data-stat="\w+"[^>]* data-rows="6" data-cols="12">/g);
        assert.equal(svgMultiples?.length, 6, 'palette SVG: six head-statistic grids of 6 × 12');

        // 4. Compare: a head against itself, two heads, two inputs.
        await frame.locator('[data-explain-mode="compare"]').click();
        await frame.locator('#compare-run').waitFor({ state: 'visible', timeout: 10_000 });
        await setValue(frame, '#compare-kind', 'heads');
        await setValue(frame, '#compare-layer', '2');
        await setValue(frame, '#compare-head-a', '3');
        await setValue(frame, '#compare-head-b', '3');
        let jsd = await compareJsd(frame, null);
        assert.equal(jsd, 0, 'a head compared with itself: JSD 0');
        await setValue(frame, '#compare-head-a', '0');
        await setValue(frame, '#compare-head-b', '1');
        jsd = await compareJsd(frame, String(jsd));
        assert.ok(jsd > 0 && jsd <= 1, `head 0 vs head 1: JSD ${jsd} in (0, 1]`);
        for (const id of ['#compare-a', '#compare-b', '#compare-diff'])
          assert.ok((await paintedPixels(frame, id)) > 0, `${id} is drawn`);
        await screenshot(page, 'explain-compare-heads');
        await setValue(frame, '#compare-kind', 'inputs');
        await setValue(frame, '#compare-text', SECOND);
        const before = String(jsd);
        jsd = await compareJsd(frame, before);
        assert.ok(jsd >= 0 && jsd <= 1, `this input vs "${SECOND}": JSD ${jsd} in [0, 1]`);
        const jsdText = await frame.locator('#compare-jsd').innerText();
        log(`compare inputs: ${jsdText}`);
        assert.match(jsdText, /aligned tokens of 9 and 9|9 tokens/, 'the summary names the aligned tokens');
        for (const id of ['#compare-a', '#compare-b', '#compare-diff'])
          assert.ok((await paintedPixels(frame, id)) > 0, `${id} is drawn`);
        await screenshot(page, 'explain-compare-inputs');

        // The palette's Export… in compare mode: the comparison.
        const compareJson = join(server.workspace, 'palette-compare.json');
        await exportVia(page, frame, 'JSON', compareJson, undefined, true);
        const comparison = JSON.parse(readFileSync(compareJson, 'utf8')) as {
          mode: string;
          b: { tokens: { text: string }[] };
          jsd: number;
        };
        assert.equal(comparison.mode, 'inputs', 'palette JSON in compare mode: the comparison');
        assert.ok(
          comparison.b.tokens.some((t) => t.text === 'dog'),
          'palette JSON in compare mode: the second input',
        );
        assert.ok(Math.abs(comparison.jsd - jsd) < 1e-5, `palette JSON in compare mode: JSD ${comparison.jsd}`);

        assert.deepEqual(dialogs, [], 'no alert() ran');
        const pageErrors = session.logs.filter((l) => l.startsWith('[pageerror]') && /attention|webview/i.test(l));
        assert.deepEqual(pageErrors, [], 'no page errors from the panel');
      } catch (e) {
        await screenshot(page, 'explain-failure');
        throw e;
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'Explain view on a causal LM: next-token targets, default methods, a refused target explained in the view',
    timeoutMs: 200_000,
    fn: async () => {
      const server = await startCodeServer({
        label: 'e2e-explain-causal',
        settings: { 'attentionLens.backend': 'native' },
      });
      writeWorkspaceFile(server.workspace, 'story.txt', [REF_TEXT, '']);
      const session = await launchBrowser({ echoLogs: false });
      const page = session.page;
      try {
        await openWorkbench(page, server.workbenchUrl({ devPath: process.env.EXT_DEV_PATH ?? repoRoot }));
        await showAttentionOnLine(page, 'story.txt', 0);
        await waitForAllLayers(page);
        const frame = panel(page);
        await frame.locator('[data-view="explain"]').click();
        await frame.locator('#explain-run').waitFor({ state: 'visible', timeout: 15_000 });
        const targets = await frame
          .locator('#explain-target vscode-option')
          .evaluateAll((os) => os.map((o) => o.getAttribute('value')));
        assert.deepEqual(
          targets,
          ['next', 'next-prob', 'next-token', 'next-token-prob', 'contrast', 'similarity'],
          'targets offered for a causal LM',
        );

        // Nothing explained yet: the palette's Export… says so in one line and offers the attention view instead.
        await runCommand(page, EXPORT_COMMAND);
        const title = await quickPickTitle(page, /no explanation yet/);
        log(`palette export with no explanation: ${title}`);
        assert.match(title, /^The Explain view has no explanation yet: exporting the attention view instead\.$/);
        const offered = await page
          .locator('.quick-input-widget .quick-input-list .monaco-list-row')
          .evaluateAll((els) => els.map((e) => (e as HTMLElement).innerText.replace(/\s+/g, ' ')));
        assert.ok(
          offered.some((r) => r.startsWith('PNG image') && /model grid|matrix|head view/.test(r)) &&
            offered.some((r) => r.startsWith('NPY')),
          `the attention view's formats: ${JSON.stringify(offered)}`,
        );
        await screenshot(page, 'explain-palette-export-empty');
        await page.keyboard.press('Escape');

        // A "next token" of several tokens: the runtime refuses it with one line, shown in the view.
        await setValue(frame, '#explain-target', 'next-token');
        await setValue(frame, '#explain-next-token', 'xyzzy qwerty');
        await frame.locator('#explain-run').click();
        const refused = await waitForText(
          'refused target',
          frame.locator('#explain-error'),
          (t) => t.length > 0,
          60_000,
        );
        log(`refused: ${refused}`);
        assert.match(refused, /is \d+ tokens .*not one/, 'the runtime’s reason');
        assert.ok(!/\bat .*\.(ts|js):\d+/.test(refused), 'no stack trace');
        await screenshot(page, 'explain-causal-refused');

        // The default: the most likely next token, with raw attention, rollout, leave-one-out and norm.
        await setValue(frame, '#explain-target', 'next');
        await frame.locator('#explain-run').click();
        const rows = frame.locator('#explain-strip .strip-method');
        await until(
          'token strip rows',
          () => rows.count(),
          (n) => n === 5,
          90_000,
        );
        const ids = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-method')));
        assert.deepEqual(ids, ['raw-attention', 'rollout', 'loo', 'norm', 'uniform']);
        const summary = await frame.locator('#explain-summary').innerText();
        log(`causal summary: ${summary}`);
        assert.match(summary, /^log p\(.* next \| input\)/, 'the target is the next token’s log-probability');
        assert.equal(await frame.locator('#explain-error').isVisible(), false, 'the error is gone');
        const causalStats = await frame
          .locator('#head-stats canvas.head-stat-canvas')
          .evaluateAll((cs) =>
            cs.map((c) => Number(c.getAttribute('data-layers')) * Number(c.getAttribute('data-heads'))),
          );
        assert.equal(causalStats.length, 6, 'the head statistics of the causal LM: six multiples');
        assert.ok(
          causalStats.every((n) => n > 0 && n === causalStats[0]),
          `every multiple has every head: ${causalStats}`,
        );
        await screenshot(page, 'explain-causal-result');

        // The agreement table's column labels stay in view when the panel scrolls past the table's top (issue 13
        // item 2): its header band moves down under the toolbar, and it is what the panel shows there.
        const sticky = await frame.locator('#agreement-table').evaluate(async (root) => {
          const bar = document.querySelector('.toolbar')!.getBoundingClientRect().bottom;
          const header = root.querySelector('.scene-header-top')!;
          const rest = { shift: root.dataset.headerShift, top: header.getBoundingClientRect().top };
          const table = root.getBoundingClientRect();
          const labels = root.querySelector('.scene-header-left')!.getBoundingClientRect().width;
          document.scrollingElement!.scrollTop += table.top - bar + 30; // 30 px of the table under the toolbar
          await new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(res)));
          const r = root.getBoundingClientRect();
          const h = header.getBoundingClientRect();
          const seen = document.elementFromPoint(r.left + labels + 20, bar + 4);
          return {
            bar,
            rest,
            tableTop: r.top,
            tableBottom: r.bottom,
            headerTop: h.top,
            headerBottom: h.bottom,
            shift: root.dataset.headerShift,
            seen: seen === header ? 'header' : (seen?.className ?? String(seen)),
          };
        });
        log(`agreement header after a scroll: ${JSON.stringify(sticky)}`);
        await screenshot(page, 'explain-causal-sticky-header');
        assert.equal(sticky.rest.shift, '0,0', `the header in place before the scroll: ${JSON.stringify(sticky)}`);
        assert.ok(
          sticky.tableTop < sticky.bar - 20,
          `the table's top scrolled under the toolbar: ${JSON.stringify(sticky)}`,
        );
        assert.ok(
          sticky.tableBottom > sticky.headerBottom,
          `the table's cells still in view: ${JSON.stringify(sticky)}`,
        );
        assert.ok(
          Math.abs(sticky.headerTop - sticky.bar) <= 1,
          `the header just below the toolbar: ${JSON.stringify(sticky)}`,
        );
        assert.equal(sticky.seen, 'header', `the column labels are what shows there: ${JSON.stringify(sticky)}`);
        await frame.locator('body').evaluate(() => (document.scrollingElement!.scrollTop = 0));
        // Sideways, in a box narrower than the table (a narrow panel): the row labels stay at the box's left edge.
        const side = await frame.locator('#agreement-table').evaluate(async (root) => {
          root.scrollIntoView({ block: 'center' });
          const box = root.parentElement!;
          const labels = root.querySelector('.scene-header-left')!;
          box.style.width = `${Math.round(labels.getBoundingClientRect().width + 80)}px`;
          box.scrollLeft = 60;
          await new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(res)));
          const b = box.getBoundingClientRect();
          const l = labels.getBoundingClientRect();
          const seen = document.elementFromPoint(b.left + 4, l.top + 0.8 * l.height); // beside the last rows
          const out = {
            scrolled: box.scrollLeft,
            boxLeft: b.left + box.clientLeft,
            labelsLeft: l.left,
            tableLeft: root.getBoundingClientRect().left,
            seen: seen === labels ? 'labels' : (seen?.className ?? String(seen)),
          };
          box.style.width = '';
          box.scrollLeft = 0;
          document.scrollingElement!.scrollTop = 0;
          return out;
        });
        log(`agreement row labels after a sideways scroll: ${JSON.stringify(side)}`);
        assert.equal(side.scrolled, 60, `the box scrolls sideways: ${JSON.stringify(side)}`);
        assert.ok(
          Math.abs(side.labelsLeft - side.boxLeft) <= 1,
          `row labels at the box's left: ${JSON.stringify(side)}`,
        );
        assert.equal(side.seen, 'labels', `the row labels are what shows there: ${JSON.stringify(side)}`);
        const logNotes = await texts(frame.locator('#explain-notes li'));
        assert.ok(
          logNotes.some((n) => /log-probability .*unbounded/.test(n)),
          `a note says the log-probability is unbounded: ${logNotes.join(' | ')}`,
        );

        // The probability instead: bounded, and the note about unbounded values is gone.
        await setValue(frame, '#explain-target', 'next-prob');
        await frame.locator('#explain-run').click();
        await waitForText(
          'probability target',
          frame.locator('#explain-summary'),
          (t) => /^p\(.* next \| input\)/.test(t),
          90_000,
        );
        const probNotes = await texts(frame.locator('#explain-notes li'));
        assert.ok(
          probNotes.some((n) => /AOPC is ERASER's/.test(n)),
          `AOPC note: ${probNotes.join(' | ')}`,
        );
        assert.ok(!probNotes.some((n) => /unbounded/.test(n)), `no unbounded note: ${probNotes.join(' | ')}`);
      } catch (e) {
        await screenshot(page, 'explain-causal-failure');
        throw e;
      }
    },
  },
];

runIfMain(import.meta.url, 'explain', tests);
