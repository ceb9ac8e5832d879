// Parses the command line of `attention-lens run` into checked options (node:util parseArgs), turning every
// mistake into a one-line LensError that says what to change.
import { INPUT_OPTIONS, inputArgs, TARGET_OPTIONS, targetArgs, type InputArgs, type TargetArgs } from './input-options';
import { parseOptions } from './parse-options';

export interface RunArgs extends InputArgs, TargetArgs {
  out?: string;
}

/** The options of `attention-lens run` (the words after "run"), or 'help' for --help. */
export function parseRunArgs(rest: string[]): RunArgs | 'help' {
  const v = parseOptions(rest, {
    ...INPUT_OPTIONS,
    ...TARGET_OPTIONS,
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) return 'help';
  return { ...inputArgs(v), ...targetArgs(v), out: v.out };
}
