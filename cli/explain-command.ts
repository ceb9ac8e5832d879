// `attention-lens explain`: loads the model in a worker, explains one text for the chosen target with the chosen
// methods, prints every method's score per token and the agreement, distance, faithfulness and erasure tables, and
// optionally writes the whole result as JSON (the data the editor's Explain view draws).
import { readFileSync, writeFileSync } from 'node:fs';
import { load } from '../runtime/inspector/load-model';
import { LensError } from '../runtime/errors';
import { explain } from '../runtime/explain/explain';
import { resultToJson } from '../runtime/explain/result';
import type { ExplainArgs } from './explain-args';
import { formatExplain, formatExplainTimings } from './explain-format';
import { formatFacts } from './format';

function readText(args: ExplainArgs): string {
  if (args.text !== undefined) return args.text;
  try {
    return readFileSync(args.file!, 'utf8').replace(/^\uFEFF/, '');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new LensError('BAD_INPUT', `Cannot read --file ${args.file} (${why}); give a readable UTF-8 text file.`);
  }
}

export async function explainCommand(args: ExplainArgs, print: (s: string) => void): Promise<void> {
  const text = readText(args);
  if (text.trim().length === 0)
    throw new LensError('EMPTY_TEXT', 'The text is empty; give some text with --text or --file.');
  const inspector = await load(args.model, { backend: args.backend, threads: args.threads });
  try {
    print(formatFacts(inspector));
    const result = await explain(inspector, text, args.analysis);
    print('');
    print(formatExplain(result, text, args.headStats));
    print('');
    print(formatExplainTimings(result, inspector.loadMs));
    if (args.out !== undefined) {
      try {
        writeFileSync(args.out, resultToJson({ text, ...result }) + '\n');
      } catch (e) {
        throw new LensError('BAD_INPUT', `Cannot write --out ${args.out}: ${(e as Error).message}`);
      }
      print(`wrote      ${args.out}`);
    }
  } finally {
    await inspector.dispose();
  }
}
