// Parses the command line of `attention-lens run` into checked options (node:util parseArgs), turning every
// mistake into a one-line LensError that says what to change.
import { INPUT_OPTIONS, inputArgs, TARGET_OPTIONS, targetArgs, type InputArgs, type TargetArgs } from './input-options';
import { bad, parseOptions } from './parse-options';
import type { LongRunChoice } from '../runtime/inspector/long-runs';

export interface RunArgs extends InputArgs, TargetArgs {
  out?: string;
  /** How attention is held (runtime/inspector/long-runs.ts): 'auto' unless --long says otherwise. */
  long: LongRunChoice;
}

const LONG_CHOICES: readonly LongRunChoice[] = ['auto', 'kept', 'maps'];

/** The options of `attention-lens run` (the words after "run"), or 'help' for --help. */
export function parseRunArgs(rest: string[]): RunArgs | 'help' {
  const v = parseOptions(rest, {
    ...INPUT_OPTIONS,
    ...TARGET_OPTIONS,
    out: { type: 'string' },
    long: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) return 'help';
  const long = (v.long ?? 'auto') as LongRunChoice;
  if (!LONG_CHOICES.includes(long)) throw bad(`--long must be auto, kept or maps (got "${String(v.long)}").`);
  return { ...inputArgs(v), ...targetArgs(v), out: v.out, long };
}
