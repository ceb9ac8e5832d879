// Mocha suite that runs INSIDE a real VS Code extension host, in the `run()` shape @vscode/test-electron expects.
// Bundled by scripts/build.mjs into dist/test/suite/index.js (CommonJS; 'vscode' and 'mocha' external).
//
// Here (offline, no desktop VS Code): scripts/vscode-tests.mjs runs it in code-server through the workbench
// payload [["extensionDevelopmentPath", repo], ["extensionTestsPath", dist/test/suite/index.js]]
// (test/helpers/code-server.ts, runExtensionTests).
//
// On a machine with internet, the same bundle runs in desktop VS Code:
//   npx @vscode/test-electron   — programmatically:
//     import { runTests } from '@vscode/test-electron';
//     await runTests({ extensionDevelopmentPath: repo, extensionTestsPath: `${repo}/dist/test/suite/index.js`,
//                      launchArgs: ['--disable-extensions', '--disable-workspace-trust'] });
//   or @vscode/test-cli (`npx vscode-test`) with .vscode-test.mjs:
//     export default { files: [], extensionDevelopmentPath: '.', extensionTestsPath: 'dist/test/suite/index.js' }
// Settings: the suite sets attentionLens.modelPath itself when it is empty (test/fixtures/models/stories260K).
//
// The test files are imported with literal paths so esbuild bundles them; they are evaluated only after mocha
// has installed its TDD globals (suite/test/setup...) on globalThis.
import { writeFileSync } from 'node:fs';

type MochaModule = typeof import('mocha');

async function loadMocha(): Promise<MochaModule> {
  // mocha 12 is ESM with a CommonJS core; require() of it needs Node >= 20.19 (require(esm)).
  // import() works on every Node that VS Code's extension host uses.
  const m = (await import('mocha')) as unknown as { default?: MochaModule } & MochaModule;
  return (m.default ?? m) as MochaModule;
}

export async function run(): Promise<void> {
  const Mocha = await loadMocha();
  // ATTENTION_LENS_SUITE_GREP: run only the tests whose title matches (while working on one file).
  const grep = process.env.ATTENTION_LENS_SUITE_GREP;
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 60_000, reporter: 'spec', ...(grep ? { grep } : {}) });
  const file = __filename;
  mocha.suite.emit('pre-require', globalThis, file, mocha);
  await import('./commands.test');
  await import('./run.test');
  await import('./hover.test');
  await import('./chat.test');
  await import('./bad-input-catalogue.test');
  await import('./panel-host.test');

  const resultsFile = process.env.ATTENTION_LENS_TEST_RESULTS;
  await new Promise<void>((resolve, reject) => {
    const failures: { title: string; error: string }[] = [];
    let passed = 0;
    const runner = mocha.run((failed) => {
      const summary = { passed, failed: failures.length, failures };
      console.log(`mocha: ${passed} passing, ${failures.length} failing`);
      if (resultsFile) {
        try {
          writeFileSync(resultsFile, JSON.stringify(summary, null, 2));
        } catch (e) {
          console.error(`could not write ${resultsFile}: ${(e as Error).message}`);
        }
      }
      if (failed > 0) reject(new Error(`${failed} tests failed.`));
      else resolve();
    });
    runner.on('pass', () => passed++);
    runner.on('fail', (test, err: Error) =>
      failures.push({ title: test.fullTitle(), error: err?.stack ?? String(err) }),
    );
  });
}
