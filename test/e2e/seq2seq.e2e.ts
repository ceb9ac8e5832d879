// E2E: an encoder–decoder model in the panel, in a real VS Code (code-server + Debian's chromium, playwright-core).
//   npx tsx test/e2e/seq2seq.e2e.ts          (alone; after `node scripts/build.mjs`) — or scripts/vscode-tests.mjs seq2seq
// With attentionLens.modelPath = test/fixtures/models/tiny-marian-dates (native backend), Show Attention on the line
// "the 14th of March, 2021" translates it: the panel shows "Translation: 2021-03-14" and all 2 + 2 + 2 layers; the
// matrix of the first cross layer is target rows × source columns (labels from the two token lists of the model's
// reference_attention.json, computed by transformers), and with "Alignment path" on, the year token's row (▁2021)
// points at the source's ▁2021 (the readout's data-alignment). The model grid labels its three stacks (encoder,
// decoder, cross: 2 layers × 4 heads each); the head view's encoder–decoder switch moves between the stacks at the
// same stack layer, and in its cross layout (target tokens left, source tokens right) the strongest line of head 0
// from the target token ▁2021 goes to the source's ▁2021 with the reference's weight (≤ 1e-5).
// Then the Explain view offers the translation's targets
// (a target token, the whole target, a contrast) and the source methods; Explain on the year token (target:1) with the
// default methods (raw cross-attention, encoder–decoder rollout, leave-one-out) draws one strip row per method and the
// uniform baseline over the source tokens, and every score equals `attention-lens explain --target target:1` (≤ 1e-5).
// Run again in the same panel, the greedy translation
// streams: the target line (watched from inside the webview) says "translating…" with the translation growing token
// by token — "2021", then longer prefixes — before the finished "Translation (greedy): 2021-03-14".
// Then an mBART-50 (hf-tiny/mbart's weights with transformers' MBart50Tokenizer) with the settings
// attentionLens.sourceLanguage = fr_XX and targetLanguage = ro_RO: the source starts with fr_XX (the encoder matrix's
// first column) and the translation with ro_RO (its first token), as transformers' src_lang and forced_bos_token_id.
// Screenshots: test-results/screenshots/seq2seq-*.png
import * as assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  launchBrowser,
  log,
  openWorkbench,
  repoRoot,
  screenshot,
  spawnSyncOk,
  startCodeServer,
  type E2ETest,
} from '../helpers/code-server';
import { panel, runIfMain, showAttentionOnLine, texts, until, waitForText, writeWorkspaceFile } from './common';
import type { ExplainResult } from '../../runtime/explain/result';

interface Strongest {
  head: number;
  query: number;
  key: number;
  weight: number;
}

const MODEL = join(repoRoot, 'test', 'fixtures', 'models', 'tiny-marian-dates');
const FILE = 'dates.txt';

interface MarianReference {
  source_text: string;
  target_text: string;
  source_tokens: string[];
  target_tokens: string[];
  /** [layer][head][target query][source key]. */
  cross_attentions: number[][][][];
}

export const tests: E2ETest[] = [
  {
    name: 'Show Attention with tiny-marian-dates: the translation, the cross-attention matrix, the alignment of the year',
    timeoutMs: 240_000,
    fn: async () => {
      const ref = JSON.parse(readFileSync(join(MODEL, 'reference_attention.json'), 'utf8')) as MarianReference;
      const server = await startCodeServer({
        label: 'e2e-seq2seq',
        settings: { 'attentionLens.modelPath': MODEL, 'attentionLens.backend': 'native' },
      });
      writeWorkspaceFile(server.workspace, FILE, [ref.source_text]);
      const session = await launchBrowser({ echoLogs: false });
      const page = session.page;
      try {
        await openWorkbench(page, server.workbenchUrl({ devPath: process.env.EXT_DEV_PATH ?? repoRoot }));
        await showAttentionOnLine(page, FILE, 0);
        const frame = panel(page);
        const status = await waitForText(
          'panel status: every layer',
          frame.locator('#run-status'),
          (t) => /layers 6\/6/.test(t),
          60_000,
        );
        log(`run: ${status}`);
        await waitForText('the translation', frame.locator('#translation .translation-text'), (t) =>
          t.startsWith(`Translation (greedy): ${ref.target_text}`),
        );
        // Entries: encoder 0–1, decoder 2–3, cross 4–5: the grid's three sections, titled, 2 layers × 4 heads each.
        const stacks = frame.locator('.grid-stack');
        await stacks.first().waitFor({ state: 'attached', timeout: 15_000 });
        const sections = await stacks.evaluateAll((els) =>
          els.map((e) => [(e as HTMLElement).dataset.stack, (e as HTMLElement).dataset.layers, e.textContent]),
        );
        assert.deepEqual(
          sections,
          [
            ['encoder', '2', 'Encoder self-attention (source → source)'],
            ['decoder', '2', 'Decoder self-attention (target → target, masked)'],
            ['cross', '2', 'Cross-attention (target → source)'],
          ],
          'the grid labels its stacks',
        );
        for (const [stack, first] of [
          ['encoder', 0],
          ['decoder', 2],
          ['cross', 4],
        ] as const) {
          const thumbs = frame.locator(`.thumb[data-stack="${stack}"]`);
          assert.equal(await thumbs.count(), 2 * 4, `${stack}: 2 layers × 4 heads`);
          const layers = await thumbs.evaluateAll((els) =>
            els.map((e) => [Number((e as HTMLElement).dataset.layer), Number((e as HTMLElement).dataset.stackLayer)]),
          );
          for (const [layer, stackLayer] of layers) assert.equal(layer - first, stackLayer, `${stack} layer ${layer}`);
        }
        log(`grid sections: ${JSON.stringify(sections.map((x) => x[0]))}`);
        await screenshot(page, 'seq2seq-grid');
        // A grid thumbnail opens its layer and head in the matrix.
        await frame.locator('.thumb[data-layer="4"][data-head="0"]').click();
        const rows = frame.locator('.matrix-label-row');
        await rows.first().waitFor({ state: 'visible', timeout: 15_000 });
        const norm = (xs: string[]) => xs.map((x) => x.replace(/[▁␣]/g, ' ').trim());
        assert.deepEqual(norm(await texts(rows)), norm(ref.target_tokens), 'cross rows: the target tokens');
        assert.deepEqual(
          norm(await texts(frame.locator('.matrix-label-col'))),
          norm(ref.source_tokens),
          'cross columns: the source tokens',
        );
        await frame.locator('#matrix-alignment-toggle').check();
        const readout = frame.locator('#matrix-alignment');
        await readout.waitFor({ state: 'visible', timeout: 15_000 });
        const path = JSON.parse((await readout.getAttribute('data-alignment')) ?? '[]') as number[];
        const year = ref.target_tokens.indexOf('▁2021');
        assert.equal(path.length, ref.target_tokens.length, `one alignment per target token: ${JSON.stringify(path)}`);
        assert.equal(ref.source_tokens[path[year]], '▁2021', `the year's row points at ${path[year]}`);
        log(`alignment: ${await readout.textContent()}`);
        await screenshot(page, 'seq2seq-cross');

        // The head view's encoder–decoder layout: the switch keeps the stack layer (cross 0 → encoder 0 → cross 0).
        await frame.locator('[data-view="head"]').click();
        const layerValue = () =>
          frame.locator('#layer-select').evaluate((e) => (e as HTMLElement & { value: string }).value);
        await frame.locator('.head-kind[data-kind="encoder"]').click();
        await until('encoder layer 0', layerValue, (v) => v === '0');
        assert.equal(await frame.locator('.head-kind[data-kind="encoder"]').getAttribute('aria-pressed'), 'true');
        await frame.locator('.head-kind[data-kind="cross"]').click();
        await until('cross layer 0', layerValue, (v) => v === '4');
        // Head 0 alone; the columns: target tokens (queries) left, source tokens (keys) right.
        await frame.locator('.head-swatch').first().click();
        const left = frame.locator('.head-token-left');
        await until(
          'target tokens on the left',
          () => texts(left),
          (t) => t.length === ref.target_tokens.length,
        );
        assert.deepEqual(norm(await texts(left)), norm(ref.target_tokens), 'cross: target tokens left');
        assert.deepEqual(
          norm(await texts(frame.locator('.head-token-right'))),
          norm(ref.source_tokens),
          'source right',
        );
        // Hover the target's ▁2021: its lines alone; the strongest goes to the source's ▁2021.
        await left.nth(year).hover();
        const view = frame.locator('.head-view');
        const found = await until(
          'the strongest line of the focused token',
          async () => JSON.parse((await view.getAttribute('data-strongest')) ?? 'null') as Strongest | null,
          (x) => x !== null && x.query === year && x.head === 0,
        );
        const strongest = found!;
        const srcYear = ref.source_tokens.indexOf('▁2021');
        assert.equal(strongest.key, srcYear, `▁2021 → source ${strongest.key} (${ref.source_tokens[strongest.key]})`);
        const want = ref.cross_attentions[0][0][year][srcYear];
        assert.ok(Math.abs(strongest.weight - want) <= 1e-5, `weight ${strongest.weight} vs reference ${want}`);
        log(`head view cross: ▁2021 → ${ref.source_tokens[strongest.key]} ${strongest.weight} (reference ${want})`);
        await screenshot(page, 'seq2seq-head-cross');
        // Explain on the year token, against the CLI's JSON.
        await frame.locator('[data-view="explain"]').click();
        await frame.locator('#explain-run').waitFor({ state: 'visible', timeout: 15_000 });
        const targets = await frame
          .locator('#explain-target vscode-option')
          .evaluateAll((os) => os.map((o) => o.getAttribute('value')));
        assert.deepEqual(targets, ['target-token', 'target-all', 'target-contrast'], 'targets of an encoder–decoder');
        assert.equal(await frame.locator('#explain-target-position').isVisible(), true, 'the target token list shows');
        const positions = await texts(frame.locator('#explain-target-position vscode-option'));
        assert.equal(positions.length, ref.target_tokens.length, `target positions: ${positions.join(' | ')}`);
        const ticked = await frame
          .locator('vscode-checkbox[data-method]')
          .evaluateAll((cs) =>
            cs
              .filter((c) => (c as HTMLElement & { checked: boolean }).checked)
              .map((c) => c.getAttribute('data-method')),
          );
        assert.deepEqual(ticked, ['loo', 'cross-attention', 'cross-rollout'], 'default methods (registry order)');
        await frame.locator('#explain-run').click();
        const strip = frame.locator('#explain-strip .strip-method');
        await until(
          'token strip rows',
          () => strip.count(),
          (n) => n === 4,
          60_000,
        );
        const ids = await strip.evaluateAll((els) => els.map((e) => e.getAttribute('data-method')!));
        const scores: Record<string, number[]> = {};
        for (const id of ids)
          scores[id] = await frame
            .locator(`#explain-strip .strip-token[data-method="${id}"]`)
            .evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-score'))));
        const scratch = mkdtempSync(join(tmpdir(), 'al-seq2seq-'));
        const cliOut = join(scratch, 'cli.json');
        spawnSyncOk(process.execPath, [
          join(repoRoot, 'dist', 'cli.js'),
          'explain',
          '--model',
          MODEL,
          '--text',
          ref.source_text,
          '--target',
          'target:1',
          '--methods',
          'loo,cross-attention,cross-rollout',
          '--backend',
          'native',
          '--out',
          cliOut,
        ]);
        const cli = JSON.parse(readFileSync(cliOut, 'utf8')) as ExplainResult;
        rmSync(scratch, { recursive: true, force: true });
        assert.deepEqual(ids.sort(), cli.methods.map((m) => m.id).sort(), 'the panel explains with the CLI’s methods');
        for (const m of cli.methods) {
          assert.equal(scores[m.id].length, ref.source_tokens.length, `${m.id}: one score per source token`);
          m.scores.forEach((v, i) =>
            assert.ok(Math.abs(scores[m.id][i] - v) <= 1e-5, `${m.id}[${i}]: panel ${scores[m.id][i]}, CLI ${v}`),
          );
        }
        const sourceYear = ref.source_tokens.indexOf('▁2021');
        const loo = scores.loo;
        assert.equal(loo.indexOf(Math.max(...loo)), sourceYear, 'leave-one-out ranks the source year first');
        log(`explain: ${await frame.locator('#explain-summary').innerText()}`);
        await screenshot(page, 'seq2seq-explain');

        // The same line again in the same panel: every state of the target line is recorded as it changes.
        await frame.locator('#translation').evaluate((node) => {
          const seen: string[] = [];
          (window as unknown as { targetLines: string[] }).targetLines = seen;
          new MutationObserver(() => {
            const t = node.querySelector('.translation-text')?.textContent ?? '';
            if (t && seen[seen.length - 1] !== t) seen.push(t);
          }).observe(node, { childList: true, subtree: true, characterData: true });
        });
        await showAttentionOnLine(page, FILE, 0);
        // The line still shows the first run's translation until the second run starts: wait for the finished line
        // among the recorded changes, not for the text on screen.
        const lines = await until(
          'the translation again',
          () =>
            frame
              .locator('#translation')
              .evaluate((): string[] => (window as unknown as { targetLines: string[] }).targetLines.slice()),
          (seen) => seen.some((l) => l.startsWith(`Translation (greedy): ${ref.target_text}`)),
        );
        log(`target line states: ${JSON.stringify(lines)}`);
        const streamed = lines.filter((l) => l.startsWith('Translation (greedy, translating…): '));
        assert.ok(streamed.length >= 2, `intermediate states: ${JSON.stringify(lines)}`);
        assert.match(streamed[0], /^Translation \(greedy, translating…\): 2021 {2}· log p -\d/);
        const prefixes = streamed.map((l) => l.slice('Translation (greedy, translating…): '.length).split('  · ')[0]);
        prefixes.forEach(
          (t, i) => i > 0 && assert.ok(t.startsWith(prefixes[i - 1]), `grows: ${JSON.stringify(prefixes)}`),
        );
        assert.ok(
          lines.indexOf(streamed[streamed.length - 1]) < lines.findIndex((l) => l.startsWith('Translation (greedy): ')),
        );
      } catch (e) {
        await screenshot(page, 'seq2seq-failure');
        throw e;
      }
    },
  },
  {
    name: 'An mBART-50 with attentionLens.sourceLanguage / targetLanguage: the source read as fr_XX, translated into ro_RO',
    timeoutMs: 180_000,
    fn: async () => {
      // hf-tiny/mbart's weights beside transformers' own MBart50Tokenizer (scripts/make-mbart-language-fixture.py):
      // its source's first token is the source language's code and its translation's first the target's
      // (transformers' forced_bos_token_id), where without the settings they are en_XX and no code at all.
      const dir = mkdtempSync(join(tmpdir(), 'lens-e2e-mbart50-'));
      try {
        for (const f of ['config.json', 'generation_config.json', 'model.safetensors'])
          copyFileSync(join(repoRoot, 'test', 'fixtures', 'models', 'hf-tiny', 'mbart', f), join(dir, f));
        for (const f of ['tokenizer.json', 'tokenizer_config.json'])
          copyFileSync(join(repoRoot, 'test', 'fixtures', 'tokenizers', 'mbart', 'mbart-50', f), join(dir, f));
        const server = await startCodeServer({
          label: 'e2e-seq2seq-languages',
          settings: {
            'attentionLens.modelPath': dir,
            'attentionLens.backend': 'native',
            'attentionLens.sourceLanguage': 'fr_XX',
            'attentionLens.targetLanguage': 'ro_RO',
          },
        });
        writeWorkspaceFile(server.workspace, 'hello.txt', ['Hello world']);
        const session = await launchBrowser({ echoLogs: false });
        const page = session.page;
        try {
          await openWorkbench(page, server.workbenchUrl({ devPath: process.env.EXT_DEV_PATH ?? repoRoot }));
          await showAttentionOnLine(page, 'hello.txt', 0);
          const frame = panel(page);
          await waitForText('every layer', frame.locator('#run-status'), (t) => /layers 6\/6/.test(t), 60_000);
          await waitForText('the translation', frame.locator('#translation .translation-text'), (t) =>
            t.startsWith('Translation (greedy)'),
          );
          const target = await texts(frame.locator('#translation .translation-label'));
          assert.equal(target[0], 'ro_RO', `the translation starts with the target language: ${target.slice(0, 3)}`);
          // The encoder's matrix: source rows × source columns, the source language's code first.
          await frame.locator('.thumb[data-layer="0"][data-head="0"]').click();
          const cols = frame.locator('.matrix-label-col');
          await cols.first().waitFor({ state: 'visible', timeout: 15_000 });
          const source = await texts(cols);
          assert.equal(source[0], 'fr_XX', `the source: ${JSON.stringify(source)}`);
          assert.equal(source[source.length - 1], '</s>');
          log(`source ${JSON.stringify(source)}; translation starts ${JSON.stringify(target.slice(0, 3))}`);
          await screenshot(page, 'seq2seq-languages');
        } catch (e) {
          await screenshot(page, 'seq2seq-languages-failure');
          throw e;
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
];

runIfMain(import.meta.url, 'seq2seq', tests);
