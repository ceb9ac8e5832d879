// The bad-input catalogue's table format and runner, shared by every surface (CLI, Hub, extension): each case is
// an input the surface takes (a command line, a Hub server's behaviour, an editor action), the one line the user must
// get (patterns), and the outcome code; the runner checks that exactly one clear line came back — no stack trace,
// no second error — and prints how many cases gave a clear error, so the catalogue only grows.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

/** What one bad input must produce. */
export interface BadInputCase<I> {
  /** What the user did, in a few words (the test's name). */
  name: string;
  /** The input, in the surface's terms (CLI: the arguments after `attention-lens`). A function is called when the
   * case runs (after the fixtures exist). */
  input: I | (() => I);
  /** Patterns the message line must all match. */
  expect: RegExp | RegExp[];
  /** 'error' (default): the action fails with exactly one message line; 'warning': it succeeds and one of its
   * warning lines matches. */
  kind?: 'error' | 'warning';
  /** Expected exit code (CLI: 2 for an error, 0 for a warning; other surfaces may leave it out). */
  code?: number;
  /** More checks of the outcome (a file left as it was, nothing printed before the error...). */
  check?: (o: Outcome) => void;
  /** Per-case time limit in ms (default 60 s); a hang fails the case. */
  timeoutMs?: number;
}

/** What an action gave back. */
export interface Outcome {
  /** Exit code, or null when it did not end by itself. */
  code: number | null;
  /** The message lines: errors (kind 'error') or warnings (kind 'warning'), in order. */
  errors: string[];
  warnings: string[];
  /** Everything else the surface printed (CLI: stdout), and the raw error stream for the stack-trace check. */
  output: string;
  raw: string;
}

const STACK = /\n\s+at |^\s+at .*:\d+:\d+\)?$/m;

/** Runs the cases as node:test tests under `title`, `concurrency` at a time, and prints the catalogue's count. */
export function catalogue<I>(
  title: string,
  cases: readonly BadInputCase<I>[],
  run: (input: I, c: BadInputCase<I>) => Promise<Outcome>,
  options: { concurrency?: number } = {},
): void {
  let clear = 0;
  // After every test of the file: the count, in the test output.
  after(() => console.log(`# bad-input catalogue (${title}): ${cases.length} cases, ${clear} clear errors`));
  describe(title, { concurrency: options.concurrency ?? 1 }, () => {
    for (const c of cases)
      test(c.name, async () => {
        const input = typeof c.input === 'function' ? (c.input as () => I)() : c.input;
        const o = await run(input, c);
        const kind = c.kind ?? 'error';
        const context = `\n--- errors:\n${o.raw}\n--- output:\n${o.output.slice(-2000)}`;
        assert.doesNotMatch(o.raw, STACK, `no stack trace${context}`);
        if (c.code !== undefined) assert.equal(o.code, c.code, `exit code${context}`);
        const patterns = Array.isArray(c.expect) ? c.expect : [c.expect];
        if (kind === 'error') {
          assert.equal(o.errors.length, 1, `exactly one error line${context}`);
          for (const p of patterns) assert.match(o.errors[0], p, `the error line${context}`);
        } else {
          assert.equal(o.errors.length, 0, `no error${context}`);
          const hit = o.warnings.find((w) => patterns.every((p) => p.test(w)));
          assert.ok(hit, `a warning matching ${patterns.join(' and ')}${context}`);
        }
        c.check?.(o);
        clear++;
      });
  });
}
