// Type-checks each part under its own tsconfig, so the import rules of ARCHITECTURE.md are enforced by the compiler:
// runtime/ and protocol/ see neither the DOM nor 'vscode', figures/ sees neither the DOM, 'vscode' nor Node,
// writers/ sees Node but not the DOM or 'vscode', webview/ sees no 'vscode' and no Node. The root
// tsconfig.json checks the rest: test/, bench/ and the TypeScript in scripts/.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
// The root project (tests, benches: the largest) first, so that it does not start last.
const projects = [
  'tsconfig.json',
  'runtime/tsconfig.json',
  'protocol/tsconfig.json',
  'figures/tsconfig.json',
  'writers/tsconfig.json',
  'webview/tsconfig.json',
  'extension/tsconfig.json',
  'cli/tsconfig.json',
];
// The projects are independent: they run side by side, as many at a time as the machine has cores, each one's output
// printed whole when it ends.
const parallel = Math.max(1, Math.min(availableParallelism(), 4));
let failed = 0;
let next = 0;
async function worker() {
  while (next < projects.length) {
    const project = projects[next++];
    const { code, output } = await check(project);
    if (output.trim()) process.stdout.write(output);
    if (code !== 0) {
      console.error(`typecheck failed: ${project}`);
      failed++;
    }
  }
}
function check(project) {
  return new Promise((done) => {
    const child = spawn(process.execPath, [tsc, '--noEmit', '-p', project], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => done({ code, output }));
  });
}
await Promise.all(Array.from({ length: parallel }, worker));
if (failed) process.exit(1);
console.log(`typecheck: ${projects.length} projects clean`);
