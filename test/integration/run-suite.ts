// Phase (a) of scripts/vscode-tests.mjs: the mocha suite (dist/test/suite/index.js) inside code-server's
// extension host, with the extension loaded from its development path (the repo; no install).
//   npx tsx test/integration/run-suite.ts                      (after `node scripts/build.mjs`)
//   EXT_DEV_PATH=/tmp/fake-ext EXT_TESTS_PATH=/tmp/fake-ext/suite/index.js npx tsx test/integration/run-suite.ts
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type E2EResult, isMain, log, repoRoot, runCleanups, runExtensionTests } from '../helpers/code-server';

export async function main(): Promise<E2EResult> {
  const devPath = process.env.EXT_DEV_PATH ?? repoRoot;
  const testsPath = process.env.EXT_TESTS_PATH ?? join(repoRoot, 'dist', 'test', 'suite', 'index.js');
  for (const p of [join(devPath, 'package.json'), testsPath]) {
    if (!existsSync(p)) throw new Error(`${p} is missing: run \`node scripts/build.mjs\` first`);
  }
  const t0 = Date.now();
  const r = await runExtensionTests({ devPath, testsPath });
  log(
    `mocha suite: exit ${r.exitCode}, ${r.passed} passed, ${r.failed} failed (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
  );
  for (const f of r.failures) console.log(`  ✘ ${f.title}\n${f.error.replace(/^/gm, '      ')}`);
  // The exit code is authoritative: a suite that crashed before counting still fails.
  const failed = r.exitCode !== 0 && r.failed === 0 ? 1 : r.failed;
  return { passed: r.passed, failed, failures: r.failures.map((x) => ({ name: x.title, error: x.error })) };
}

if (isMain(import.meta.url)) {
  main()
    .catch((e: Error) => {
      console.error(`mocha suite: ${e.message}`);
      return { passed: 0, failed: 1, failures: [{ name: 'mocha suite', error: e.message }] };
    })
    .then(async (res) => {
      await runCleanups();
      if (process.env.VSCODE_TESTS_RESULT) writeFileSync(process.env.VSCODE_TESTS_RESULT, JSON.stringify(res));
      process.exit(res.failed ? 1 : 0);
    });
}
