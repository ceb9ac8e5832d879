// scripts/build.mjs never rewrites a bundle whose bytes are unchanged, and renames a changed one into place: test
// files rebuild dist/ before they run, two at a time, while other files start inference workers and the CLI from it,
// and a worker that read a bundle half-written by esbuild stopped "while loading (exit code 0)" or with a syntax
// error (seen in CI runs; reproduced by rebuilding in a loop beside CLI runs). A rebuild of the same sources must leave
// every bundle's file as it was — same inode, same modification time — and leave no temporary file behind. And it
// skips esbuild for a bundle none of whose inputs changed since it was built (dist/.build-inputs.json), which is
// what makes those rebuilds cheap: checked in a project of two files of its own, never on the repository's sources.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../../helpers/fixtures';

const DIST = path.join(repoRoot, 'dist');
const build = () => execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'pipe' });
const files = ['worker.js', 'cli.js', 'extension.js', 'webview.js', 'webview-inference.js'];

test('a rebuild of unchanged sources leaves every bundle untouched, and no temporary file behind', () => {
  build();
  const before = files.map((f) => fs.statSync(path.join(DIST, f)));
  execFileSync(process.execPath, ['scripts/build.mjs', '--force'], { cwd: repoRoot, stdio: 'pipe' });
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

test('a bundle is rebuilt when one of its inputs changes, and only then (or with --force)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-build-'));
  try {
    // build.mjs builds the entries that exist under its working directory and copies the PNG assets from writers/.
    fs.mkdirSync(path.join(dir, 'cli'));
    fs.cpSync(path.join(repoRoot, 'writers', 'assets'), path.join(dir, 'writers', 'assets'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'cli', 'main.ts'), "import { answer } from './answer';\nconsole.log(answer);\n");
    const setAnswer = (v: string) =>
      fs.writeFileSync(path.join(dir, 'cli', 'answer.ts'), `export const answer = '${v}';\n`);
    // Sources saved shortly before a build may have been saved after esbuild read them: such a bundle is rebuilt
    // next time. These were saved a minute ago.
    const age = (file: string, seconds: number) => {
      const t = new Date(Date.now() - seconds * 1000);
      fs.utimesSync(path.join(dir, 'cli', file), t, t);
    };
    setAnswer('first');
    const run = (...args: string[]) =>
      execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'build.mjs'), ...args], {
        cwd: dir,
        stdio: 'pipe',
      });
    const cli = path.join(dir, 'dist', 'cli.js');
    const bundle = () => fs.readFileSync(cli, 'utf8');
    run();
    assert.match(bundle(), /first/);
    // Mark the bundle: a build that runs esbuild writes it back without the mark; one that skips leaves it.
    const MARK = '\n// not esbuild output\n';
    fs.appendFileSync(cli, MARK);
    run();
    assert.ok(!bundle().endsWith(MARK), 'sources saved just before the last build were trusted');
    age('main.ts', 60);
    age('answer.ts', 60);
    run();
    fs.appendFileSync(cli, MARK);
    run();
    assert.ok(bundle().endsWith(MARK), 'a build with no input changed ran esbuild');
    // An input the entry imports changes (another modification time and other bytes): rebuilt, with the new value.
    setAnswer('second');
    age('answer.ts', 30);
    run();
    assert.match(bundle(), /second/);
    assert.ok(!bundle().endsWith(MARK), 'the rebuilt bundle still has the mark');
    fs.appendFileSync(cli, MARK);
    run('--force');
    assert.ok(!bundle().endsWith(MARK), '--force did not rebuild');
    assert.deepEqual(
      fs.readdirSync(path.join(dir, 'dist')).filter((f) => f.endsWith('.tmp')),
      [],
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
