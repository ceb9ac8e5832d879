// `attention-lens explain`: loads the model in a worker, explains one text for the chosen target with the chosen
// methods, prints every method's score per token and the agreement, distance, faithfulness and erasure tables, and
// optionally writes the whole result as JSON (the data the editor's Explain view draws). An input whose maps would
// pass 1 GiB is run kept for long inputs and explained from what is kept (explainLong).
import { load } from '../runtime/inspector/load-model';
import { explain } from '../runtime/explain/explain';
import { resultToJson } from '../runtime/explain/result';
import { writeOutput } from '../runtime/files/output-file';
import type { ExplainArgs } from './explain-args';
import { formatExplain, formatExplainTimings } from './explain-format';
import { formatFacts } from './format';
import { planOut, readCommandText, reportTo, warnOnStderr } from './command-files';
import { effectiveThreads } from './parse-options';
import { downloadReporter } from './download-progress';
import { stopTokenIds } from '../runtime/generate/stop-tokens';
import type { Inspector } from '../runtime/inspector/api';
import { LensError } from '../runtime/errors';
import { keepsRun } from '../runtime/inspector/long-runs';
import { limitLength, tokensOfIds } from '../runtime/inspector/input';
import { explainKept, keptMethodOptions, keptTargetPlan } from '../runtime/explain/explain-kept';
import type { ExplainResult } from '../runtime/explain/result';
import type { Token } from '../runtime/types';

/** The greedy continuation of `text` (args.generate tokens at most) with the model loaded for the explanation: the
 * prompt's tokens as the text gives them (with --chat the user message in the chat template, whose tokens stay out
 * of the candidates) then the output's, and the output's text. */
async function generateFirst(inspector: Inspector, args: ExplainArgs, text: string) {
  const tokenizer = inspector.tokenizer;
  if (!tokenizer) throw new LensError('UNSUPPORTED_MODEL', `${inspector.facts.name} has no tokenizer to decode with.`);
  const promptTokens = inspector.tokenize(text, { chat: args.analysis.chat === true });
  const prompt = promptTokens.map((t) => t.id);
  const ids = [...prompt];
  const stopIds = stopTokenIds(tokenizer, inspector.facts.stopTokenIds);
  await inspector.generate(prompt, {
    maxNew: args.generate!,
    stopIds: [...stopIds],
    rows: false,
    onToken: (t) => ids.push(t.id),
  });
  const generated = ids.slice(prompt.length);
  const tokens: Token[] = [
    ...promptTokens,
    ...(generated.length ? tokensOfIds(generated, inspector.facts, tokenizer) : []),
  ];
  const out = generated.filter((id) => !stopIds.has(id));
  return { ids, tokens, promptLength: prompt.length, count: generated.length, text: tokenizer.decode(out) };
}

/** Long inputs (--long, default auto: maps over 1 GiB): the run is kept (q and k, no map) and explained from what it
 * keeps (runtime/explain/explain-kept.ts): raw attention, rollout and the head statistics; every other method says
 * its cost at this length (its model passes timed by this run) and what to do. Undefined when the run is not kept. */
async function explainLong(
  inspector: Inspector,
  args: ExplainArgs,
  text: string,
  generation: { ids: number[]; tokens: Token[]; promptLength: number } | undefined,
  print: (s: string) => void,
  warn: (s: string) => void,
): Promise<ExplainResult | undefined> {
  const facts = inspector.facts;
  if (facts.encoderDecoder || args.long === 'maps') return undefined;
  const { chat, truncate, maxTokens } = args.analysis;
  const tokens = generation
    ? undefined
    : limitLength(inspector.tokenize(text, { chat: chat === true }), facts, { truncate, maxTokens }).tokens;
  const n = generation ? generation.ids.length : tokens!.length;
  if (!keepsRun(args.long, facts, n)) return undefined;
  // A target that reads every token is refused before the run (minutes at 8,192 tokens), not after.
  if (tokens) keptTargetPlan(inspector, tokens, { target: args.analysis.target });
  const { layer, head, startLayer, headReduce } = args.analysis;
  const methodOptions = {
    ...(layer !== undefined ? { layer } : {}),
    ...(head !== undefined ? { head } : {}),
    ...(startLayer !== undefined ? { startLayer } : {}),
    ...(headReduce !== undefined ? { headReduce } : {}),
  };
  keptMethodOptions(facts, methodOptions);
  const t0 = performance.now();
  const run = inspector.run(generation ? generation.ids : text, {
    long: 'kept',
    ...(truncate ? { truncate } : {}),
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    ...(chat ? { chat } : {}),
  });
  for await (const _ of run);
  const passMs = performance.now() - t0;
  print(
    `kept       ${run.tokens.length} tokens kept for long inputs (q and k, not the maps): run in ${(passMs / 1000).toFixed(1)} s`,
  );
  // A generation's tokens keep the prompt's chat-template flags, which its ids alone do not carry.
  const result = await explainKept(inspector, generation ? generation.tokens : run.tokens, run.kept!, {
    target: args.analysis.target,
    ...(args.analysis.methods ? { methods: args.analysis.methods } : {}),
    ...(generation ? { promptLength: generation.promptLength } : {}),
    ...methodOptions,
    passMs,
    onProgress: (p) => print(`computing  ${p.phase}: ${p.cost}`),
  });
  // A method asked for that does not run at this length: its cost and what to do, as a warning too (stderr).
  for (const m of result.methods) if (m.error) warn(m.error);
  return result;
}

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
  // --generate N: the model continues the text first (greedy, KV-cached) and prompt + output is explained, so that
  // generated:N targets name what the model wrote.
  const inspector = await load(args.model, {
    backend: args.backend,
    threads,
    hub: { onWarning: warn },
    onDownload: downloadReporter(),
    ...(args.generate !== undefined ? { maxTokens: 512 + args.generate, generate: true } : {}),
  });
  try {
    const option =
      args.analysis.targetText !== undefined
        ? '--target-text'
        : args.analysis.maxNew !== undefined
          ? '--max-new'
          : args.analysis.targetLanguage !== undefined
            ? '--target-lang'
            : args.analysis.sourceLanguage !== undefined
              ? '--source-lang'
              : '';
    if (option && !inspector.facts.encoderDecoder)
      throw new LensError(
        'BAD_INPUT',
        `${option} needs an encoder–decoder model (marian, bart, mbart, t5); ${inspector.facts.name} is ${inspector.facts.modelType}, so leave ${option} out.`,
      );
    const generation = args.generate !== undefined ? await generateFirst(inspector, args, text) : undefined;
    for (const w of inspector.warnings ?? []) warn(w);
    print(formatFacts(inspector));
    if (generation) print(`generated  ${generation.count} tokens: ${JSON.stringify(generation.text)}`);
    const result =
      (await explainLong(inspector, args, text, generation, print, warn)) ??
      (generation
        ? await explain(inspector, generation.tokens, {
            ...args.analysis,
            promptLength: generation.promptLength,
            sourceText: text,
          })
        : await explain(inspector, text, args.analysis));
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
