// The extension's one export writer (extension/export-write.ts) on real files: it refuses the model's own files
// (as the setting names the model and as it was loaded, links included), the document the run read (a notebook
// cell's: its .ipynb) and the Hugging Face cache of a Hub model, writing nothing; a write that fails midway leaves the
// existing file as it was and no temporary file behind; a good write replaces the target and touches nothing else.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { documentPathOf, exportProtects, writeExportFile } from '../../../extension/export-write';
import { isLensError } from '../../../runtime/errors';
import { fixtureModel } from '../../helpers/fixtures';

const root = mkdtempSync(path.join(tmpdir(), 'lens-export-write-'));
after(() => rmSync(root, { recursive: true, force: true }));
const model = path.join(root, 'stories260K');
cpSync(fixtureModel('stories260K'), model, { recursive: true });
const out = path.join(root, 'out');
mkdirSync(out);
const doc = path.join(out, 'notes.txt');
writeFileSync(doc, 'Once upon a time');

const snapshot = (dir: string) =>
  Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(path.join(dir, f)).toString('base64')]));
const bytes = (s: string) => async (sink: { write(c: Uint8Array): unknown }) => {
  await sink.write(new TextEncoder().encode(s));
};
const refused = (why: RegExp) => (e: unknown) =>
  isLensError(e) && e.code === 'BAD_INPUT' && why.test(e.message) && /nothing was written/.test(e.message);

test("the model's own files are refused, by path and through a link; nothing is written", async () => {
  const protect = exportProtects({ modelPath: model, documentPath: doc });
  const before = snapshot(model);
  for (const name of ['config.json', 'model.safetensors', 'tokenizer.json'])
    await assert.rejects(
      writeExportFile(path.join(model, name), protect, bytes('x')),
      refused(/one of the model's own files/),
      name,
    );
  const link = path.join(out, 'config-link.json');
  symlinkSync(path.join(model, 'config.json'), link);
  await assert.rejects(writeExportFile(link, protect, bytes('x')), refused(/one of the model's own files/));
  assert.deepEqual(snapshot(model), before);
});

test('the model as it was loaded (its folder) is protected when the setting names it otherwise', async () => {
  const protect = exportProtects({ modelPath: 'someone/model', modelDir: model });
  await assert.rejects(
    writeExportFile(path.join(model, 'tokenizer_config.json'), protect, bytes('x')),
    refused(/one of the model's own files/),
  );
});

test('the document the run read is refused', async () => {
  const protect = exportProtects({ modelPath: model, documentPath: doc });
  await assert.rejects(writeExportFile(doc, protect, bytes('x')), refused(/the document the run read/));
  assert.equal(readFileSync(doc, 'utf8'), 'Once upon a time');
});

test("a run on a notebook cell: the notebook's file is refused, as a file document is; other schemes name no file here", async () => {
  const notebook = path.join(out, 'analysis.ipynb');
  writeFileSync(notebook, '{"cells": []}\n');
  // vscode.Uri.parse of a cell's URI (vscode-notebook-cell:/…/analysis.ipynb#W0sZmlsZQ==): fsPath is the notebook.
  const cell = { scheme: 'vscode-notebook-cell', fsPath: notebook };
  assert.equal(documentPathOf(cell), notebook);
  const protect = exportProtects({ modelPath: model, documentPath: documentPathOf(cell) });
  await assert.rejects(writeExportFile(notebook, protect, bytes('x')), refused(/the document the run read/));
  assert.equal(readFileSync(notebook, 'utf8'), '{"cells": []}\n');
  assert.equal(documentPathOf({ scheme: 'file', fsPath: doc }), doc);
  // An untitled notebook's cell (vscode-notebook-cell:Untitled-1.ipynb#…), an unsaved document, a virtual file.
  assert.equal(documentPathOf({ scheme: 'vscode-notebook-cell', fsPath: 'Untitled-1.ipynb' }), undefined);
  assert.equal(documentPathOf({ scheme: 'untitled', fsPath: 'Untitled-1' }), undefined);
  assert.equal(documentPathOf({ scheme: 'vscode-vfs', fsPath: '/github/o/r/notes.txt' }), undefined);
});

test('a Hub model: nothing is written into the Hugging Face cache', async () => {
  const cache = path.join(root, 'hf-cache');
  mkdirSync(cache);
  const saved = process.env.HF_HUB_CACHE;
  process.env.HF_HUB_CACHE = cache;
  try {
    const protect = exportProtects({ modelPath: 'sentence-transformers/all-MiniLM-L6-v2' });
    await assert.rejects(
      writeExportFile(path.join(cache, 'x.png'), protect, bytes('x')),
      refused(/inside the Hugging Face cache/),
    );
    assert.deepEqual(readdirSync(cache), []);
  } finally {
    if (saved === undefined) delete process.env.HF_HUB_CACHE;
    else process.env.HF_HUB_CACHE = saved;
  }
});

test('a write that fails midway leaves the existing file intact and no temporary file behind', async () => {
  const target = path.join(out, 'run.csv');
  writeFileSync(target, 'the old export\n');
  const before = snapshot(out);
  const protect = exportProtects({ modelPath: model, documentPath: doc });
  await assert.rejects(
    writeExportFile(target, protect, async (sink) => {
      await sink.write(new TextEncoder().encode('layer,head\n'));
      throw new Error('the disk went away');
    }),
    /the disk went away/,
  );
  assert.deepEqual(snapshot(out), before);
});

test('a good write replaces the target and touches nothing else', async () => {
  const target = path.join(out, 'run.csv');
  writeFileSync(target, 'the old export\n');
  const others = snapshot(out);
  delete others['run.csv'];
  const protect = exportProtects({ modelPath: model, documentPath: doc });
  const n = await writeExportFile(target, protect, bytes('layer,head\n0,0\n'));
  assert.equal(n, 15);
  assert.equal(readFileSync(target, 'utf8'), 'layer,head\n0,0\n');
  const after = snapshot(out);
  delete after['run.csv'];
  assert.deepEqual(after, others);
});

test('a missing folder or a folder as target: one line, nothing created', async () => {
  const protect = exportProtects({ modelPath: model });
  await assert.rejects(
    writeExportFile(path.join(out, 'no-such-folder', 'x.png'), protect, bytes('x')),
    refused(/the folder .*no-such-folder does not exist \(ENOENT\)/),
  );
  await assert.rejects(writeExportFile(out, protect, bytes('x')), refused(/it is a folder/));
  assert.ok(!readdirSync(out).includes('no-such-folder'));
});
