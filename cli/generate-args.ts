// Parses `attention-lens generate …` into checked options; every mistake becomes a one-line LensError that says
// what to change.
import { extname } from 'node:path';
import { MAX_NEW_TOKENS } from '../runtime/generate/kv-generator';
import type { DataFormat } from '../writers/attention-data';
import { INPUT_OPTIONS, inputArgs, type InputArgs } from './input-options';
import { bad, headOption, parseOptions, wholeNumber } from './parse-options';

export interface GenerateArgs extends InputArgs {
  maxNew: number;
  /** Absent: greedy. */
  temperature?: number;
  topP?: number;
  seed?: number;
  /** The layer whose attention is printed (default: the last). */
  layer?: number;
  head: number | 'mean';
  out?: string;
  format?: DataFormat;
}

export const DEFAULT_MAX_NEW = 32;

function number(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw bad(`--${name} must be a number (got "${v}").`);
  return n;
}

export function parseGenerateArgs(argv: string[]): GenerateArgs | 'help' {
  const v = parseOptions(argv, {
    ...INPUT_OPTIONS,
    'max-new': { type: 'string' },
    temperature: { type: 'string' },
    'top-p': { type: 'string' },
    seed: { type: 'string' },
    layer: { type: 'string' },
    head: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) return 'help';
  const input = inputArgs(v);
  if (input.chat && input.truncate)
    throw bad(
      "--truncate would cut the end of the chat template (the assistant's turn) with --chat; shorten the text instead.",
    );
  const maxNew = wholeNumber('max-new', v['max-new'], 1, MAX_NEW_TOKENS) ?? DEFAULT_MAX_NEW;
  const temperature = number('temperature', v.temperature);
  const topP = number('top-p', v['top-p']);
  const seed = wholeNumber('seed', v.seed, 0, 0xffffffff);
  if (temperature !== undefined && temperature < 0)
    throw bad(`--temperature must be 0 or more (0 is greedy), got ${v.temperature}.`);
  if (topP !== undefined && !(topP > 0 && topP <= 1))
    throw bad(`--top-p must be above 0 and at most 1 (1 keeps every token), got ${v['top-p']}.`);
  // Below 1e-300 a value is near float64's subnormal range, which the native backend's threads flush to zero: 1e-310
  // read as greedy, 5e-324 printed as top-p 0 and then refused. Such values decode as the smallest normal ones do.
  if (temperature !== undefined && temperature > 0 && temperature < 1e-300)
    throw bad(`--temperature must be 0 (greedy) or at least 1e-300, got ${v.temperature}.`);
  if (topP !== undefined && topP < 1e-300)
    throw bad(`--top-p must be at least 1e-300 (that already keeps only the most likely token), got ${v['top-p']}.`);
  if ((topP !== undefined || seed !== undefined) && !(temperature !== undefined && temperature > 0))
    throw bad(
      '--top-p and --seed apply to sampling: give --temperature above 0 as well (without it, decoding is greedy).',
    );
  const layer = wholeNumber('layer', v.layer, 0, 10_000);
  const head: number | 'mean' = headOption(v.head, ['mean'], 10_000) ?? 'mean';
  let format: DataFormat | undefined;
  if (v.out !== undefined) {
    const ext = extname(v.out).slice(1).toLowerCase();
    if (ext !== 'json' && ext !== 'csv' && ext !== 'npy')
      throw bad(`Cannot tell the format from --out "${v.out}": end it in .json, .csv or .npy.`);
    format = ext;
  }
  return { ...input, maxNew, temperature, topP, seed, layer, head, out: v.out, format };
}
