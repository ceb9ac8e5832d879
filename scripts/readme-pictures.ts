// The README's pictures, made from a real run in a real VS Code (code-server + chromium, the e2e harness of
// test/helpers/code-server.ts), never by hand: the hero (docs/images/hero.webp, an animated WebP of Show Attention
// filling the grid layer by layer), one PNG per view (grid, head, matrix, neuron, Explain) and one of the editor
// hover, resized and palette-compressed with sharp. Rerun whenever the panel changes; the outputs are committed and
// the README links them by relative path (vsce rewrites them against the repository URL).
//   npm run build && npx tsx scripts/readme-pictures.ts [--out docs/images]
// Model: SmolLM2-135M-Instruct Q4_1 (GGUF, 30 layers × 9 heads) from .cache/models (npm run fetch-model fetches
// all-MiniLM-L6-v2 only; the GGUF is the one the bench and the GGUF tests use); the Explain picture on stories260K
// (test/fixtures), see there why. Needs code-server
// (node scripts/install-code-server.mjs) and Debian's chromium, as the real-VS-Code tests do.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import type { FrameLocator, Page } from 'playwright-core';
import {
  launchBrowser,
  openWorkbench,
  repoRoot,
  showAttentionOnLine,
  startCodeServer,
  until,
  webviewFrame as panel,
  wordPoint,
  writeSettings,
} from '../test/helpers/code-server';
import { fixtureModel } from '../test/helpers/fixtures';
import { planOutput } from '../runtime/files/output-target';
import { writeOutput } from '../runtime/files/output-file';

const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const OUT = resolve(outIndex >= 0 ? args[outIndex + 1] : join(repoRoot, 'docs', 'images'));
const MODEL = join(repoRoot, '.cache', 'models', 'SmolLM2-135M-Instruct-GGUF', 'SmolLM2-135M-Instruct.Q4_1.gguf');
const LAYERS = 30;
const FILE = 'story.md';
const TEXT = 'The cat sat on the mat because it was warm, and the dog watched it from the door.';
/** Width of the pictures in the README (the screenshots are 1600 × 1000 CSS px). */
const WIDTH = 1200;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A PNG of the page, resized to WIDTH and reduced to a 256-colour palette, through the atomic writer. */
async function savePng(page: Page, name: string): Promise<void> {
  const shot = await page.screenshot({ type: 'png' });
  const png = await sharp(shot)
    .resize({ width: WIDTH })
    .png({ palette: true, quality: 90, compressionLevel: 9, effort: 10 })
    .toBuffer();
  await writeOutput(planOutput(join(OUT, `${name}.png`), [], name), png);
  console.log(`${name}.png: ${(png.length / 1024).toFixed(0)} KiB`);
}

async function runStatus(frame: FrameLocator): Promise<string> {
  return (await frame.locator('#run-status').textContent()) ?? '';
}

/** The run streaming in, recorded with chromium's screencast (a frame whenever the page changes, with its time),
 * until the last layer has arrived; then an animated WebP with the frames' own timing. */
async function hero(page: Page): Promise<void> {
  const frame = panel(page);
  const cdp = await page.context().newCDPSession(page);
  const shots: { png: Buffer; at: number }[] = [];
  cdp.on('Page.screencastFrame', (f) => {
    shots.push({ png: Buffer.from(f.data, 'base64'), at: f.metadata.timestamp ?? Date.now() / 1000 });
    void cdp.send('Page.screencastFrameAck', { sessionId: f.sessionId }).catch(() => undefined);
  });
  await cdp.send('Page.startScreencast', { format: 'png', everyNthFrame: 1 });
  await showAttentionOnLine(page, FILE, 0);
  await until(
    'hero run',
    () => runStatus(frame),
    (t) => t.includes(`layers ${LAYERS}/${LAYERS}`),
    180_000,
  );
  await sleep(1000);
  await cdp.send('Page.stopScreencast');
  await cdp.detach();
  if (shots.length < 2) throw new Error(`the screencast caught ${shots.length} frames`);
  // Keep the frames from the command on, at most 60, evenly spread.
  const step = Math.max(1, Math.ceil(shots.length / 60));
  const kept = shots.filter((_, i) => i % step === 0 || i === shots.length - 1);
  const delays = kept.map((s, i) =>
    i + 1 < kept.length ? Math.max(40, Math.round((kept[i + 1].at - s.at) * 1000)) : 3000,
  );
  const scaled = await Promise.all(
    kept.map((s) => sharp(s.png).resize({ width: 960 }).ensureAlpha().raw().toBuffer({ resolveWithObject: true })),
  );
  const { width, height } = scaled[0].info;
  const webp = await sharp(Buffer.concat(scaled.map((s) => s.data)), {
    raw: { width, height: height * scaled.length, channels: 4, pageHeight: height },
  })
    .webp({ quality: 70, effort: 6, loop: 0, delay: delays, minSize: true })
    .toBuffer();
  await writeOutput(planOutput(join(OUT, 'hero.webp'), [], 'hero'), webp);
  console.log(`hero.webp: ${kept.length} of ${shots.length} frames, ${(webp.length / 1024).toFixed(0)} KiB`);
}

async function main(): Promise<void> {
  if (!existsSync(MODEL)) throw new Error(`${MODEL} is missing (the SmolLM2 GGUF the bench uses)`);
  mkdirSync(OUT, { recursive: true });
  const server = await startCodeServer({
    label: 'readme-pictures',
    settings: {
      'attentionLens.modelPath': MODEL,
      'attentionLens.backend': 'native',
      'workbench.colorTheme': 'Default Dark Modern',
    },
  });
  // The workspace is the harness's scratch folder, not a project output.
  writeFileSync(join(server.workspace, FILE), `${TEXT}\n`);
  const session = await launchBrowser({ echoLogs: false });
  const page = session.page;
  try {
    await openWorkbench(page, server.workbenchUrl({ devPath: repoRoot }));
    // A first run loads the model (download progress, sessions); the hero is the second, streaming run.
    await showAttentionOnLine(page, FILE, 0);
    const frame = panel(page);
    await until(
      'first run',
      () => runStatus(frame),
      (t) => t.includes(`layers ${LAYERS}/${LAYERS}`),
      300_000,
    );
    await hero(page);
    await sleep(800);
    await savePng(page, 'grid');
    for (const view of ['head', 'matrix', 'neuron'] as const) {
      await frame.locator(`[data-view="${view}"]`).click();
      await sleep(view === 'neuron' ? 4000 : 1500);
      await savePng(page, view);
    }
    // The hover: over "mat" in the editor.
    await frame.locator('[data-view="matrix"]').click();
    await page
      .locator('.monaco-editor .view-lines')
      .first()
      .click({ position: { x: 5, y: 5 } });
    const at = await wordPoint(page, 0, 'mat');
    const hover = page.locator('.monaco-hover:visible', { hasText: 'Attention Lens' }).first();
    for (let i = 0; i < 5 && !(await hover.isVisible()); i++) {
      await page.mouse.move(0, 0);
      await page.mouse.move(at.x, at.y);
      await hover.waitFor({ state: 'visible', timeout: 6000 }).catch(() => undefined);
    }
    await savePng(page, 'hover');
    // Explain on stories260K (test/fixtures): SmolLM2's tokenizer adds no BOS, and the faithfulness curves' first
    // step removes every token of such an input (the view refuses it), so the picture uses a model with a BOS.
    writeSettings(server.userDataDir, {
      ...(JSON.parse(readFileSync(join(server.userDataDir, 'User', 'settings.json'), 'utf8')) as object),
      'attentionLens.modelPath': fixtureModel('stories260K'),
    });
    await openWorkbench(page, server.workbenchUrl({ devPath: repoRoot }));
    // The restored panel reruns its text on the new model.
    const frame2 = panel(page);
    const stories = (t: string) => t.includes('stories260K') && t.includes('layers 5/5');
    await until('stories260K run', () => runStatus(frame2), stories, 120_000);
    await frame2.locator('[data-view="explain"]').click();
    await frame2.locator('#explain-run').waitFor({ state: 'visible', timeout: 15_000 });
    // The most likely next token, with the view's default methods.
    await frame2.locator('#explain-target').evaluate((e) => {
      (e as HTMLElement & { value: string }).value = 'next';
      e.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await frame2.locator('#explain-run').click();
    let error = '';
    const explained = async () => {
      error = ((await frame2.locator('#explain-error').textContent()) ?? '').trim();
      return error ? -1 : frame2.locator('#explain-strip .strip-method').count();
    };
    await until('explanation', explained, (n) => n > 1 || n < 0, 180_000);
    if (error) throw new Error(`Explain: ${error}`);
    await sleep(1500);
    await savePng(page, 'explain');
  } catch (e) {
    await page.screenshot({ path: join(tmpdir(), 'readme-pictures-failure.png') }).catch(() => undefined);
    throw e;
  } finally {
    await session.close();
    await server.stop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  },
);
