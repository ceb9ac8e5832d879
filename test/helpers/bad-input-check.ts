// The bad-input catalogue's table format and its check, without a test framework, so that every surface's catalogue
// runs it under the runner it lives in: Node's test runner for the CLI and the Hub (bad-input-catalogue.ts), mocha in
// the real VS Code for the extension (test/integration/suite/bad-input-catalogue.test.ts). Each case is an input the
// surface takes (a command line, a Hub server's behaviour, an editor action), the one line the user must get
// (patterns), and the outcome code; the check asserts that exactly one clear line came back — no stack trace, no
// second error — and the tally prints how many cases gave a clear error, so the catalogue only grows.
import assert from 'node:assert/strict';

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
  /** More checks of the outcome (a file left as it was, nothing printed before the error, a download that resumes...). */
  check?: (o: Outcome) => void | Promise<void>;
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

/** The case's input (calling it when it is a function). */
export function inputOf<I>(c: BadInputCase<I>): I {
  return typeof c.input === 'function' ? (c.input as () => I)() : c.input;
}

/** Asserts that the outcome is what the case says: one clear line (or the warning), no stack trace, then its checks. */
export async function checkOutcome<I>(c: BadInputCase<I>, o: Outcome): Promise<void> {
  const kind = c.kind ?? 'error';
  const context = `\n--- errors:\n${o.raw}\n--- output:\n${o.output.slice(-2000)}`;
  assert.doesNotMatch(o.raw, STACK, `no stack trace${context}`);
  if (c.code !== undefined) assert.equal(o.code, c.code, `exit code${context}`);
  const patterns = Array.isArray(c.expect) ? c.expect : [c.expect];
  if (kind === 'error') {
    assert.equal(o.errors.length, 1, `exactly one error line${context}`);
    assert.doesNotMatch(o.errors[0], /\n/, `one line${context}`);
    for (const p of patterns) assert.match(o.errors[0], p, `the error line${context}`);
  } else {
    assert.equal(o.errors.length, 0, `no error${context}`);
    const hit = o.warnings.find((w) => patterns.every((p) => p.test(w)));
    assert.ok(hit, `a warning matching ${patterns.join(' and ')}${context}`);
  }
  await c.check?.(o);
}

/** Counts the cases that passed; `line()` is what the catalogue prints at the end. */
export class Tally {
  private clear = 0;
  constructor(
    private readonly title: string,
    private readonly cases: number,
  ) {}

  passed(): void {
    this.clear++;
  }

  line(): string {
    return `# bad-input catalogue (${this.title}): ${this.cases} cases, ${this.clear} clear errors`;
  }
}
