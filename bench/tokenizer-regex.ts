// `npx tsx bench/tokenizer-regex.ts [--runs N]`: what running a tokenizer file's regular expressions on the helper
// thread with a time limit (runtime/tokenizers/regex-thread.ts) costs per encode, against matching them on the
// calling thread (the baseline, no limit), on test/fixtures/models/hf-tiny/llama (Llama 3's Split pattern) over texts
// of ~60, ~4,000 and ~40,000 characters. Both in one process, runs alternating, each after a warm-up encode. Prints
// median (min–max) ms per encode and the ratio to the baseline.
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadTokenizer } from '../runtime/tokenizers/index';
import { threadRegexRunner } from '../runtime/tokenizers/regex-thread';
import { matchSpansHere, setRegexRunner, type RegexRunner } from '../runtime/tokenizers/tokenizer-regex';
import { fmt, summarize, table } from './stats';

const { values: argv } = parseArgs({ options: { runs: { type: 'string' } } });

const here: RegexRunner = { warm: () => undefined, spans: (re, text) => matchSpansHere(re, text) };

async function main(): Promise<void> {
  const runs = Number(argv.runs ?? 15);
  const tok = await loadTokenizer(path.resolve(__dirname, '../test/fixtures/models/hf-tiny/llama'));
  const line = "Once upon a time, there was a little girl named Lily. She's 7 — and it's 2021! Ünïcödé 日本語 ";
  const texts: [string, string][] = [
    ['~60 characters', line.slice(0, 60)],
    ['~4,000 characters', line.repeat(44)],
    ['~40,000 characters', line.repeat(440)],
  ];
  const runners: [string, RegexRunner][] = [
    ['helper thread, 5 s limit', threadRegexRunner],
    ['calling thread (baseline)', here],
  ];
  const rows: string[][] = [];
  for (const [label, text] of texts) {
    const times = runners.map((): number[] => []);
    for (const [, r] of runners) {
      setRegexRunner(r);
      tok.encode(text); // warm-up
    }
    for (let k = 0; k < runs; k++)
      runners.forEach(([, r], i) => {
        setRegexRunner(r);
        const t0 = performance.now();
        tok.encode(text);
        times[i].push(performance.now() - t0);
      });
    const s = times.map(summarize);
    runners.forEach(([name], i) =>
      rows.push([label, name, fmt(s[i], 2), (s[i].median / s[runners.length - 1].median).toFixed(2)]),
    );
  }
  setRegexRunner(threadRegexRunner);
  console.log(`encode() of hf-tiny/llama, ms: median (min–max) over ${runs} runs.\n`);
  console.log(table(['text', 'patterns run on', 'encode ms', 'ratio'], rows));
}

void main();
