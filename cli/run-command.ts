// `attention-lens run`: loads the model in a worker, runs the text, prints facts, tokens, per-head summaries and
// timings as layers arrive, and optionally streams every map to a JSON file.
import { readFileSync } from 'node:fs';
import type { RunArgs } from './run-args';
import { load } from '../runtime/inspector/load-model';
import type { DownloadProgress } from '../runtime/hub/download';
import { LensError } from '../runtime/errors';
import { formatFacts, formatLayer, formatTimings, formatTokens, tokenLabel } from './format';
import { JsonRunWriter } from './json-writer';

function readText(args: RunArgs): string {
  if (args.text !== undefined) return args.text;
  try {
    return readFileSync(args.file!, 'utf8').replace(/^\uFEFF/, '');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new LensError('BAD_INPUT', `Cannot read --file ${args.file} (${why}); give a readable UTF-8 text file.`);
  }
}

/** Download progress of a Hub model on stderr (stdout stays the run's output): a line per file, updated in place on
 * a terminal, and at most every 2 s otherwise. */
export function downloadReporter(
  write: (s: string) => void = (s) => process.stderr.write(s),
): (p: DownloadProgress) => void {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  let file = '';
  return (p) => {
    const now = Date.now();
    const finished = p.bytes === p.total;
    if (p.file === file && !finished && now - last < (tty ? 200 : 2000)) return;
    last = now;
    file = p.file;
    const mb = (n: number) => (n / 1e6).toFixed(1);
    const line = `downloading ${p.file}: ${mb(p.bytes)} of ${mb(p.total)} MB, ${mb(p.bytesPerSecond)} MB/s`;
    write(tty ? `\r${line}\x1b[K${finished ? '\n' : ''}` : `${line}\n`);
  };
}

export async function runCommand(args: RunArgs, print: (s: string) => void): Promise<void> {
  const text = readText(args);
  // Catch text mistakes before paying for the model load where we can.
  if (text.trim().length === 0)
    throw new LensError('EMPTY_TEXT', 'The text is empty; give some text with --text or --file.');
  const writer = args.out !== undefined ? await JsonRunWriter.open(args.out) : undefined;
  let inspector;
  try {
    inspector = await load(args.model, {
      backend: args.backend,
      threads: args.threads,
      onDownload: downloadReporter(),
    });
    print(formatFacts(inspector));
    const run = inspector.run(text, { truncate: args.truncate });
    print(formatTokens(run.tokens, run.truncatedFrom));
    const labels = run.tokens.map((t) => tokenLabel(t, text));
    await writer?.begin({ ...inspector.facts, backend: inspector.backend, threads: inspector.threads }, run.tokens);
    for await (const layer of run) {
      print(formatLayer(layer, labels));
      await writer?.layer(layer);
    }
    await writer?.end();
    print(formatTimings(inspector.loadMs, run.timings()!));
    if (args.out !== undefined) print(`wrote      ${args.out}`);
  } catch (e) {
    writer?.abort();
    throw e;
  } finally {
    await inspector?.dispose();
  }
}
