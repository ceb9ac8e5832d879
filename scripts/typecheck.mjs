// Type-checks each part under its own tsconfig, so the import rules of ARCHITECTURE.md are enforced by the compiler:
// runtime/ and protocol/ see neither the DOM nor 'vscode', figures/ sees neither the DOM, 'vscode' nor Node,
// writers/ sees Node but not the DOM or 'vscode', webview/ sees no 'vscode' and no Node. The root
// tsconfig.json checks the rest: test/, bench/ and the TypeScript in scripts/.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const projects = [
  'runtime/tsconfig.json',
  'protocol/tsconfig.json',
  'figures/tsconfig.json',
  'writers/tsconfig.json',
  'webview/tsconfig.json',
  'extension/tsconfig.json',
  'cli/tsconfig.json',
  'tsconfig.json',
];
let failed = 0;
for (const project of projects) {
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', project], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`typecheck failed: ${project}`);
    failed++;
  }
}
if (failed) process.exit(1);
console.log(`typecheck: ${projects.length} projects clean`);
