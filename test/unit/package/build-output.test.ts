// scripts/build.mjs never rewrites a bundle whose bytes are unchanged, and renames a changed one into place: test
// files rebuild dist/ before they run, two at a time, while other files start inference workers and the CLI from it,
// and a worker that read a bundle half-written by esbuild stopped "while loading (exit code 0)" or with a syntax
// error (seen in CI runs; reproduced by rebuilding in a loop beside CLI runs). A rebuild of the same sources must leave
// every bundle's file as it was — same inode, same modification time — and leave no temporary file behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../helpers/fixtures';

const DIST = path.join(repoRoot, 'dist');
const build = () => execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'pipe' });
const files = ['worker.js', 'cli.js', 'extension.js', 'webview.js', 'webview-inference.js'];

test('a rebuild of unchanged sources leaves every bundle untouched, and no temporary file behind', () => {
  build();
  const before = files.map((f) => fs.statSync(path.join(DIST, f)));
  build();
  files.forEach((f, i) => {
    const after = fs.statSync(path.join(DIST, f));
    assert.equal(after.ino, before[i].ino, `${f} was replaced`);
    assert.equal(after.mtimeMs, before[i].mtimeMs, `${f} was rewritten`);
  });
  assert.deepEqual(
    fs.readdirSync(DIST).filter((f) => f.endsWith('.tmp')),
    [],
  );
  assert.equal(fs.statSync(path.join(DIST, 'cli.js')).mode & 0o111, 0o111, 'cli.js stays executable');
});
