// `npx tsx bench/tokenizer-load.ts [--runs N]`: what rewriting a Llama-3-style pre-tokenizer regex for JavaScript
// costs when a tokenizer loads (runtime/tokenizers/oniguruma-to-js.ts builds its case-fold tables once per process).
// Each run is a fresh process that times its first loadTokenizer() of test/fixtures/models/hf-tiny/llama (the Llama 3
// pattern, with (?i:'s|'t|...)) and, as the baseline, of the same tokenizer.json with that group made
// case-sensitive (the same translation otherwise, no fold tables); runs alternate. Prints median (min–max) ms and
// the ratio to the baseline.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadTokenizer } from '../runtime/tokenizers/index';
import { fmt, summarize, table } from './stats';

const { values: argv } = parseArgs({ options: { runs: { type: 'string' }, child: { type: 'string' } } });

async function child(dir: string): Promise<void> {
  const t0 = performance.now();
  await loadTokenizer(dir);
  process.stdout.write(String(performance.now() - t0));
}

function main(): void {
  const runs = Number(argv.runs ?? 9);
  const llama = path.resolve(__dirname, '../test/fixtures/models/hf-tiny/llama');
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-bench-tok-'));
  try {
    const json = JSON.parse(fs.readFileSync(path.join(llama, 'tokenizer.json'), 'utf8'));
    const split = json.pre_tokenizer.pretokenizers[0];
    split.pattern.Regex = split.pattern.Regex.replace("(?i:'s|'t|'re|'ve|'m|'ll|'d)", "(?:'s|'t|'re|'ve|'m|'ll|'d)");
    fs.writeFileSync(path.join(base, 'tokenizer.json'), JSON.stringify(json));
    const cases: [string, string][] = [
      ['Llama 3 pattern, (?i:...) group', llama],
      ['same, group case-sensitive (baseline)', base],
    ];
    const times = cases.map((): number[] => []);
    for (let r = 0; r < runs; r++)
      cases.forEach(([, dir], i) => {
        const out = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--child', dir], { encoding: 'utf8' });
        if (out.status !== 0) throw new Error(out.stderr);
        times[i].push(Number(out.stdout));
      });
    const s = times.map(summarize);
    console.log(`First loadTokenizer() in a fresh process, ms: median (min–max) over ${runs} runs.\n`);
    console.log(
      table(
        ['tokenizer', '', 'load ms', 'ratio'],
        cases.map(([label], i) => [label, '', fmt(s[i], 1), (s[i].median / s[1].median).toFixed(2)]),
      ),
    );
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}

if (argv.child) void child(argv.child);
else main();
