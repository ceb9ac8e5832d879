// `attention-lens explain`: loads the model in a worker, explains one text for the chosen target with the chosen
// methods, prints every method's score per token and the agreement, distance, faithfulness and erasure tables, and
// optionally writes the whole result as JSON (the data the editor's Explain view draws).
import { load } from '../runtime/inspector/load-model';
import { explain } from '../runtime/explain/explain';
import { resultToJson } from '../runtime/explain/result';
import { writeOutput } from '../runtime/files/output-file';
import type { ExplainArgs } from './explain-args';
import { formatExplain, formatExplainTimings } from './explain-format';
import { formatFacts } from './format';
import { planOut, readCommandText, reportTo, warnOnStderr } from './command-files';
import { effectiveThreads } from './parse-options';

export async function explainCommand(
  args: ExplainArgs,
  stdout: (s: string) => void,
  warn: (s: string) => void = warnOnStderr,
): Promise<void> {
  // Every check of the input and the output comes before the model loads.
  const text = await readCommandText({ ...args, truncate: args.analysis.truncate }, warn);
  const plan = args.out !== undefined ? planOut(args.out, args.model, { '--file': args.file }) : undefined;
  const print = reportTo(plan, stdout);
  const threads = effectiveThreads(args.threads, warn);
  const inspector = await load(args.model, { backend: args.backend, threads, hub: { onWarning: warn } });
  try {
    for (const w of inspector.warnings ?? []) warn(w);
    print(formatFacts(inspector));
    const result = await explain(inspector, text, args.analysis);
    print('');
    print(formatExplain(result, text, args.headStats));
    print('');
    print(formatExplainTimings(result, inspector.loadMs));
    if (plan) {
      await writeOutput(plan, resultToJson({ text, ...result }) + '\n');
      print(`wrote      ${args.out}`);
    }
  } finally {
    await inspector.dispose();
  }
}
