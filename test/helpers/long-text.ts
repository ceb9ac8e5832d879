// A text file of a few hundred tokens in a temporary folder, for the CLI tests that interrupt or cut off a run while
// its layers are computed (each layer's stage on SmolLM2 is then a native call of tens of milliseconds).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { repoRoot } from './fixtures';

/** Builds the CLI and runs `body` with a text file of `sentences` sentences (~22 tokens each) in a temporary folder,
 * removed afterwards. */
export async function withLongText(
  sentences: number,
  body: (dir: string, file: string) => Promise<void>,
): Promise<void> {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'pipe' });
  const dir = mkdtempSync(path.join(tmpdir(), 'lens-long-text-'));
  try {
    const file = path.join(dir, 'long.txt');
    writeFileSync(
      file,
      'Once upon a time there was a little girl named Lily who loved to play in the park with her friends. '.repeat(
        sentences,
      ),
    );
    await body(dir, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
