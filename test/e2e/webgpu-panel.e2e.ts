// WebGPU in the real VS Code panel: code-server with attentionLens.backend = webgpu, the workbench in Debian's
// chromium with WebGPU enabled (SwiftShader), and the mocha suite test/e2e/webgpu-panel.suite.ts inside the extension
// host (bundled to dist/test/webgpu-suite/index.js by scripts/build.mjs).
//   node scripts/build.mjs && npx tsx test/e2e/webgpu-panel.e2e.ts
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type E2EResult, isMain, log, repoRoot, runCleanups, runExtensionTests } from '../helpers/code-server';

export async function main(): Promise<E2EResult> {
  const testsPath = join(repoRoot, 'dist', 'test', 'webgpu-suite', 'index.js');
  for (const f of [testsPath, join(repoRoot, 'dist', 'webview-inference.js')])
    if (!existsSync(f)) throw new Error(`${f} is missing: run \`node scripts/build.mjs\` first`);
  const t0 = Date.now();
  const r = await runExtensionTests({
    devPath: repoRoot,
    testsPath,
    label: 'mocha-webgpu',
    settings: { 'attentionLens.backend': 'webgpu' },
    browserArgs: ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'],
    deadlineMs: 900_000,
  });
  log(
    `webgpu panel suite: exit ${r.exitCode}, ${r.passed} passed, ${r.failed} failed (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
  );
  for (const f of r.failures) console.log(`  ✘ ${f.title}\n${f.error.replace(/^/gm, '      ')}`);
  const failed = r.exitCode !== 0 && r.failed === 0 ? 1 : r.failed;
  return { passed: r.passed, failed, failures: r.failures.map((x) => ({ name: x.title, error: x.error })) };
}

if (isMain(import.meta.url)) {
  main()
    .catch((e: Error) => {
      console.error(`webgpu panel suite: ${e.message}`);
      return { passed: 0, failed: 1, failures: [{ name: 'webgpu panel suite', error: e.message }] };
    })
    .then(async (res) => {
      await runCleanups();
      if (process.env.VSCODE_TESTS_RESULT) writeFileSync(process.env.VSCODE_TESTS_RESULT, JSON.stringify(res));
      process.exit(res.failed ? 1 : 0);
    });
}
