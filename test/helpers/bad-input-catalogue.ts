// The bad-input catalogue's runner for Node's test runner (the CLI's and the Hub's catalogues): each case of the
// table (bad-input-check.ts, shared with the extension's catalogue in the real VS Code) becomes a test, and the
// catalogue's count is printed after the file's tests, so the catalogue only grows.
import { after, describe, test } from 'node:test';
import { checkOutcome, inputOf, Tally, type BadInputCase, type Outcome } from './bad-input-check';

export type { BadInputCase, Outcome } from './bad-input-check';

/** Runs the cases as node:test tests under `title`, `concurrency` at a time, and prints the catalogue's count. */
export function catalogue<I>(
  title: string,
  cases: readonly BadInputCase<I>[],
  run: (input: I, c: BadInputCase<I>) => Promise<Outcome>,
  options: { concurrency?: number } = {},
): void {
  const tally = new Tally(title, cases.length);
  // After every test of the file: the count, in the test output.
  after(() => console.log(tally.line()));
  describe(title, { concurrency: options.concurrency ?? 1 }, () => {
    for (const c of cases)
      test(c.name, { timeout: c.timeoutMs ?? 60_000 }, async () => {
        await checkOutcome(c, await run(inputOf(c), c));
        tally.passed();
      });
  });
}
