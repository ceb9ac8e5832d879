// One parser for every command's options (node:util parseArgs, strict), whose mistakes become one line that says
// what to change — parseArgs' own messages run over three lines and talk about "ambiguous arguments" — plus the
// checks every command shares: whole numbers in a range, the backend, threads and the input size limit.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { availableParallelism } from 'node:os';
import type { BackendName } from '../runtime/types';
import { LensError, quoted } from '../runtime/errors';
import { DEFAULT_INPUT_LIMIT } from '../runtime/files/read-input';

export const bad = (message: string) => new LensError('BAD_INPUT', message);

type Options = NonNullable<ParseArgsConfig['options']>;

/** The one-line message for a parseArgs error. */
export function optionError(e: unknown, argv: readonly string[]): string {
  const msg = e instanceof Error ? e.message : String(e);
  const see = 'See `attention-lens --help`.';
  const ambiguous = /^Option '(-[\w-]+)' argument is ambiguous/.exec(msg);
  if (ambiguous) {
    const opt = ambiguous[1];
    const value = argv[argv.indexOf(opt) + 1] ?? '';
    return `${opt} ${value}: a value that starts with "-" is taken for an option; write ${opt}=${value} if that value is meant. ${see}`;
  }
  const missing = /^Option '(-[\w-]+)(?: <value>)?' argument missing/.exec(msg);
  if (missing) return `${missing[1]} needs a value (${missing[1]} VALUE). ${see}`;
  const unknown = /^Unknown option '([^']+)'/.exec(msg);
  if (unknown) return `Unknown option ${unknown[1]}. ${see}`;
  const positional = /^Unexpected argument '([^']*)'/.exec(msg);
  if (positional)
    return `Unexpected argument "${positional[1]}": every value follows its option (e.g. --text "…"). ${see}`;
  const noValue = /^Option '(-[\w-]+)' does not take an argument/.exec(msg);
  if (noValue) return `${noValue[1]} takes no value. ${see}`;
  return `${msg.split('\n')[0].replace(/\.$/, '')}. ${see}`;
}

/** parseArgs in strict mode; every mistake is one LensError line. An option given twice with different values is
 * one too: parseArgs keeps the last, and `--text A … --text B` would analyse B without a word about A. */
export function parseOptions<T extends Options>(argv: string[], options: T) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, strict: true, allowPositionals: false, options, tokens: true });
  } catch (e) {
    throw bad(optionError(e, argv));
  }
  const seen = new Map<string, string>();
  for (const t of parsed.tokens) {
    if (t.kind !== 'option' || t.value === undefined || options[t.name]?.multiple) continue;
    const before = seen.get(t.name);
    if (before !== undefined && before !== t.value)
      throw bad(
        `--${t.name} is given twice (${quoted(before)} and ${quoted(t.value)}): give it once. See \`attention-lens --help\`.`,
      );
    seen.set(t.name, t.value);
  }
  return parsed.values;
}

/** A whole number from `min` to `max`, or undefined when the option is absent. */
export function wholeNumber(name: string, v: string | undefined, min: number, max = 1e9): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || n < min || n > max)
    throw bad(`--${name} must be a whole number from ${min}${max !== 1e9 ? ` to ${max}` : ''} (got "${v}").`);
  return n;
}

/** --head: one of `named` (mean, max) or a head number from 0 to `max`; undefined when absent. The message lists
 * every accepted form, and the range for a number past `max` (the model's own head count is checked once it is
 * loaded). */
export function headOption<N extends string>(
  v: string | undefined,
  named: readonly N[],
  max = 1e9,
): N | number | undefined {
  if (v === undefined) return undefined;
  const name = named.find((n) => n === v);
  if (name !== undefined) return name;
  const digits = /^\d+$/.test(v.trim());
  if (digits && Number(v) <= max) return Number(v);
  throw bad(`--head must be ${named.join(', ')} or a head number${digits ? ` from 0 to ${max}` : ''} (got "${v}").`);
}

export function backendOption(v: string | undefined): BackendName | 'auto' {
  const backend = v ?? 'auto';
  if (backend !== 'auto' && backend !== 'native' && backend !== 'wasm')
    throw bad(`Unknown --backend "${backend}"; use auto, native or wasm.`);
  return backend;
}

/** --max-input-mb: the input size limit in bytes (default 1 MB). */
export function inputLimitOption(v: string | undefined): number {
  if (v === undefined) return DEFAULT_INPUT_LIMIT;
  const mb = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v.trim()) || !(mb > 0) || mb > 4096)
    throw bad(`--max-input-mb must be a number of megabytes above 0, at most 4096 (got "${v}").`);
  return Math.floor(mb * 2 ** 20);
}

/** Inference threads: more than the machine's cores only slows a run down (5× on Wasm), so they are capped there;
 * `warn` says so. */
export function effectiveThreads(
  threads: number | undefined,
  warn: (s: string) => void,
  cores = availableParallelism(),
): number | undefined {
  if (threads === undefined || threads <= cores) return threads;
  warn(`--threads ${threads} is more than the ${cores} cores of this machine; using ${cores}.`);
  return cores;
}
