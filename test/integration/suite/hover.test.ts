// Hover, editor tint and export inside a real VS Code extension host, on stories260K. Expected tokens and colours
// come from test/fixtures/models/stories260K/reference_attention.json (an independent numpy forward pass) for the text
// REF_TEXT: the hover's top token is the reference's argmax for the view the hover names.
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { decode } from 'fast-png';
import { colorAt } from '../../../figures/colormap';
import type { MatrixGeometry } from '../../../figures/matrix-figure';
import { MemoryRunMaps } from '../../../figures/run-maps';
import { PAPER } from '../../../figures/theme';
import { viewFigure } from '../../../figures/view-figure';
import {
  closeAllEditors,
  editorWith,
  ensureModelSetting,
  fire,
  getApi,
  lastRunId,
  withTimeout,
  type RunSummary,
} from './util';

const REF_TEXT = 'Once upon a time, there was a little girl named Lily. She';
const TITLE = 'A story\n';
const CONTENT = `${TITLE}${REF_TEXT}\nThe end.\n`;
const START = TITLE.length;

interface Reference {
  text: string;
  tokens: string[];
  attn: number[][][][];
}

interface ExportOutcome {
  ok: boolean;
  message: string;
  uri?: string;
  bytes?: number;
  width?: number;
  height?: number;
  notes?: string[];
}

interface TintOutcome {
  ok: boolean;
  message?: string;
  token?: string;
  layer?: number;
  head?: number | 'mean' | 'max';
  levels?: number[];
}

let ref: Reference;
const TMP = mkdtempSync(path.join(tmpdir(), 'lens-hover-'));

/** Runs Show Attention on REF_TEXT in a new document; returns the editor and the finished run. */
async function runOnReference(content = CONTENT): Promise<{ editor: vscode.TextEditor; run: RunSummary }> {
  const api = await getApi();
  const editor = await editorWith(content, START, START + REF_TEXT.length);
  const before = lastRunId(api);
  fire('attentionLens.showAttention');
  const run = await withTimeout('run', 90_000, api.waitForRun(before));
  assert.equal(run.state, 'done', `run ended ${run.state}: ${run.message ?? ''}`);
  assert.equal(run.tokens.length, ref.tokens.length, 'the run has the reference tokens');
  return { editor, run };
}

/** The middle of token i (offsets of the run are relative to the selection). */
function tokenPosition(editor: vscode.TextEditor, run: RunSummary, i: number): vscode.Position {
  const t = run.tokens[i];
  assert.ok(t.start !== null && t.end !== null, `token ${i} has a span`);
  return editor.document.positionAt(START + Math.floor((t.start + t.end) / 2));
}

async function lensHover(doc: vscode.TextDocument, pos: vscode.Position): Promise<string | undefined> {
  const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, pos);
  for (const h of hovers ?? [])
    for (const c of h.contents) {
      const text = typeof c === 'string' ? c : c.value;
      if (text.includes('Attention Lens')) return text;
    }
  return undefined;
}

const unescape = (s: string) => s.replace(/\\(.)/g, '$1').replace(/␣/g, ' ');
/** A reference token as the hover labels it (figures/token-display.ts: sentencepiece's ▁ shown as a space). */
const asLabel = (piece: string) => piece.replace(/▁/g, ' ');

/** Row i of the reference for a view: one head, or mean/max over heads. */
function refRow(layer: number, head: number | 'mean' | 'max', row: (m: number[][]) => number[]): number[] {
  const heads = ref.attn[layer].map(row);
  if (typeof head === 'number') return heads[head];
  return heads[0].map((_, k) =>
    head === 'max' ? Math.max(...heads.map((r) => r[k])) : heads.reduce((s, r) => s + r[k], 0) / heads.length,
  );
}
const argmax = (v: number[]) => v.reduce((best, x, i) => (x > v[best] ? i : best), 0);

/** The view a hover names ("layer 2, head 5" or "layer 0, mean of heads"). */
function viewOf(md: string): { layer: number; head: number | 'mean' | 'max' } {
  const m = /layer (\d+), (?:head (\d+)|(mean|max) of heads)/.exec(md);
  assert.ok(m, `the hover names the view: ${md}`);
  return { layer: Number(m[1]), head: m[2] !== undefined ? Number(m[2]) : (m[3] as 'mean') };
}

suite('Attention Lens: hover, tint and export', () => {
  suiteSetup(async () => {
    const model = await ensureModelSetting();
    ref = JSON.parse(readFileSync(path.join(model, 'reference_attention.json'), 'utf8')) as Reference;
    assert.equal(ref.text, REF_TEXT);
  });
  suiteTeardown(() => rmSync(TMP, { recursive: true, force: true }));
  teardown(async () => {
    await vscode.commands.executeCommand('attentionLens.clearTint');
    await closeAllEditors();
  });

  test('export before any run: a clear message, nothing written', async () => {
    await closeAllEditors();
    const target = path.join(TMP, 'before.png');
    const r = await vscode.commands.executeCommand<ExportOutcome>('attentionLens.export', { format: 'png', target });
    assert.equal(r.ok, false);
    assert.match(r.message, /Nothing to export yet: run "Attention Lens: Show Attention"/);
    assert.ok(!existsSync(target));
  });

  test('hovering a token shows its top attended tokens (reference argmax) for the panel view', async () => {
    const { editor, run } = await runOnReference();
    for (const i of [14, 5, 9]) {
      const md = await lensHover(editor.document, tokenPosition(editor, run, i));
      assert.ok(md, `an Attention Lens hover over token ${i}`);
      assert.match(md, new RegExp(`token ${i} of ${ref.tokens.length}: \\*\\*`));
      const { layer, head } = viewOf(md);
      const rows = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| attends'));
      const [toText, toWeight, , fromText] = rows[0].slice(2).split(' | ');
      const to = refRow(layer, head, (m) => m[i]);
      const from = refRow(layer, head, (m) => m.map((r) => r[i]));
      assert.equal(
        unescape(toText),
        asLabel(ref.tokens[argmax(to)]),
        `token ${i} attends most to the reference argmax`,
      );
      assert.ok(Math.abs(Number(toWeight.split(' ')[0]) - Math.max(...to)) < 1e-3, `weight ${toWeight}`);
      assert.equal(
        unescape(fromText),
        asLabel(ref.tokens[argmax(from)]),
        `token ${i} is attended most by the reference argmax`,
      );
      assert.match(md, /\[Show in panel\]\(command:attentionLens\.revealToken\?/);
    }
    // Outside the range (the title line) there is no Attention Lens hover.
    assert.equal(await lensHover(editor.document, new vscode.Position(0, 3)), undefined);
  });

  test('editing the analysed text makes the hover say the text changed since the run', async () => {
    const { editor, run } = await runOnReference();
    const pos = tokenPosition(editor, run, 14);
    assert.ok(await lensHover(editor.document, pos));
    await editor.edit((b) => b.insert(editor.document.positionAt(START + 5), 'Long ago. '));
    const md = await lensHover(editor.document, pos);
    assert.ok(md, 'a hover inside the range');
    assert.match(md.replace(/\\/g, ''), /The text changed since this run — Show Attention again/);
    assert.doesNotMatch(md, /attends to/, 'no stale numbers');
    const tint = await vscode.commands.executeCommand<TintOutcome>('attentionLens.tintAtCursor');
    assert.equal(tint.ok, false);
  });

  test('runs of different documents do not mix: the hover follows the document of the run', async () => {
    const a = await runOnReference();
    const b = await runOnReference(`${CONTENT}\n`); // a second document with the same text, run last
    assert.notEqual(a.editor.document.uri.toString(), b.editor.document.uri.toString());
    assert.equal(await lensHover(a.editor.document, tokenPosition(a.editor, a.run, 14)), undefined, 'document A');
    assert.ok(await lensHover(b.editor.document, tokenPosition(b.editor, b.run, 14)), 'document B');
  });

  test('notebook cells: a run on a cell shows the hover in that cell', async () => {
    const api = await getApi();
    const cellText = `# ${REF_TEXT}`;
    const data = new vscode.NotebookData([
      new vscode.NotebookCellData(vscode.NotebookCellKind.Code, 'print(1)', 'python'),
      new vscode.NotebookCellData(vscode.NotebookCellKind.Code, cellText, 'python'),
    ]);
    const nb = await vscode.workspace.openNotebookDocument('jupyter-notebook', data);
    await vscode.window.showNotebookDocument(nb);
    const cell = nb.cellAt(1).document;
    assert.equal(cell.uri.scheme, 'vscode-notebook-cell');
    const editor = await vscode.window.showTextDocument(cell);
    editor.selection = new vscode.Selection(cell.positionAt(2), cell.positionAt(2 + REF_TEXT.length));
    const before = lastRunId(api);
    fire('attentionLens.showAttention');
    const run = await withTimeout('notebook run', 90_000, api.waitForRun(before));
    assert.equal(run.state, 'done', run.message);
    const t = run.tokens[14];
    const md = await lensHover(cell, cell.positionAt(2 + Math.floor((t.start! + t.end!) / 2)));
    assert.ok(md, 'an Attention Lens hover in the notebook cell');
    assert.match(md, /token 14 of 17: \*\*␣Lily\*\*/); // the panel's label: ▁ shown as ␣
    assert.equal(await lensHover(nb.cellAt(0).document, new vscode.Position(0, 2)), undefined, 'not in another cell');
  });

  test('tint at the cursor: the most attended token gets the strongest tint; clear removes it', async () => {
    const { editor, run } = await runOnReference();
    editor.selection = new vscode.Selection(tokenPosition(editor, run, 13), tokenPosition(editor, run, 13));
    const r = await vscode.commands.executeCommand<TintOutcome>('attentionLens.tintAtCursor');
    assert.ok(r.ok, r.message);
    assert.equal(r.token, ref.tokens[13]);
    const to = refRow(r.layer!, r.head!, (m) => m[13]);
    assert.equal(r.levels!.length, ref.tokens.length);
    assert.equal(r.levels![argmax(to)], 8, `levels ${r.levels} vs weights ${to.map((w) => w.toFixed(3))}`);
    to.forEach((w, k) => {
      if (k > 13) assert.equal(r.levels![k], 0, 'later tokens (masked) are not tinted');
      else assert.equal(r.levels![k], Math.round((8 * w) / Math.max(...to)), `level of token ${k}`);
    });
    assert.equal(await vscode.commands.executeCommand('attentionLens.clearTint'), true);
    assert.equal(await vscode.commands.executeCommand('attentionLens.clearTint'), false);
  });

  test('export from the panel: PNG cells carry the reference colours; SVG, CSV, NPY; bad path', async () => {
    await runOnReference();
    const png = path.join(TMP, 'matrix.png');
    const r = await vscode.commands.executeCommand<ExportOutcome>('attentionLens.export', {
      format: 'png',
      scale: 2,
      view: 'matrix',
      layer: 2,
      head: 5,
      target: png,
    });
    assert.ok(r.ok, r.message);
    assert.match(r.message, /Saved matrix\.png \(\d+ × \d+ px, [\d.]+ KB\)/);
    const img = decode(readFileSync(png));
    assert.deepEqual([img.width, img.height], [r.width, r.height]);
    const layers = ref.attn.map((l, i) => ({
      layer: i,
      kind: 'causal' as const,
      heads: 8,
      queryLength: 17,
      keyLength: 17,
      data: Float32Array.from(l.flat(2)),
    }));
    // The figure's geometry (the export captions the run's text, which moves the cells down).
    const maps = new MemoryRunMaps(
      'stories260K',
      ref.tokens.map((text) => ({ text })),
      layers,
      8,
    );
    const g = viewFigure(maps, { view: 'matrix', layer: 2, head: 5, colorMap: 'viridis' }, 'png', 2, REF_TEXT)
      .geometry as MatrixGeometry;
    const m = ref.attn[2][5];
    const vmax = Math.max(...m.flat());
    for (const [q, k] of [
      [0, 0],
      [16, 3],
      [10, 9],
      [3, 9],
    ]) {
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

    const svg = path.join(TMP, 'view.svg');
    const s = await vscode.commands.executeCommand<ExportOutcome>('attentionLens.export', {
      format: 'svg',
      target: svg,
    });
    assert.ok(s.ok, s.message);
    assert.match(
      readFileSync(svg, 'utf8'),
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/,
    );

    const csv = path.join(TMP, 'run.csv');
    const c = await vscode.commands.executeCommand<ExportOutcome>('attentionLens.export', {
      format: 'csv',
      target: csv,
    });
    assert.ok(c.ok, c.message);
    assert.equal(readFileSync(csv, 'utf8').trimEnd().split('\n').length - 1, 5 * 8 * 17 * 17);

    const npy = path.join(TMP, 'run.npy');
    const n = await vscode.commands.executeCommand<ExportOutcome>('attentionLens.export', {
      format: 'npy',
      target: npy,
    });
    assert.ok(n.ok, n.message);
    const bytes = readFileSync(npy);
    assert.match(
      bytes.subarray(10, 128).toString('latin1'),
      /'descr': '<f4', 'fortran_order': False, 'shape': \(5, 8, 17, 17\)/,
    );
    assert.equal(bytes.length, 128 + 5 * 8 * 17 * 17 * 4);

    const bad = path.join(TMP, 'no-such-folder', 'x.png');
    const b = await vscode.commands.executeCommand<ExportOutcome>('attentionLens.export', {
      format: 'png',
      target: bad,
    });
    assert.equal(b.ok, false);
    assert.match(
      b.message,
      /Cannot write .*x\.png: the folder .*no-such-folder does not exist \(ENOENT\)\. Choose another/,
    );
    assert.ok(!existsSync(path.dirname(bad)));
  });

  test('export never replaces the document the run read (nor a model file: test/unit/extension/export-write.test.ts)', async () => {
    const dir = mkdtempSync(path.join(TMP, 'doc-'));
    const docPath = path.join(dir, 'story.txt');
    writeFileSync(docPath, CONTENT);
    const doc = await vscode.workspace.openTextDocument(docPath);
    const editor = await vscode.window.showTextDocument(doc, { preview: false, viewColumn: vscode.ViewColumn.One });
    editor.selection = new vscode.Selection(doc.positionAt(START), doc.positionAt(START + REF_TEXT.length));
    const api = await getApi();
    const before = lastRunId(api);
    fire('attentionLens.showAttention');
    const run = await withTimeout('run', 90_000, api.waitForRun(before));
    assert.equal(run.state, 'done', run.message);
    const r = await vscode.commands.executeCommand<ExportOutcome>('attentionLens.export', {
      format: 'csv',
      target: docPath,
    });
    assert.equal(r.ok, false);
    assert.match(r.message, /Cannot write .*story\.txt: it is the document the run read .*nothing was written/);
    assert.equal(readFileSync(docPath, 'utf8'), CONTENT);
    assert.deepEqual(readdirSync(dir), ['story.txt'], 'no temporary or probe file left');
  });
});
