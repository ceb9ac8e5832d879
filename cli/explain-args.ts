// Parses `attention-lens explain …` and `attention-lens study …` into checked options (node:util parseArgs); both
// share the analysis options. Every mistake becomes a one-line LensError that says what to change.
import type { BackendName } from '../runtime/types';
import type { ExplainOptions } from '../runtime/explain/explain';
import { PERTURBATIONS, type Perturbation } from '../runtime/explain/perturb';
import { parseTargetSpec } from '../runtime/explain/target-spec';
import { EACH_TARGET_TOKEN } from '../runtime/explain/seq2seq-target';
import { SEQ2SEQ_DEFAULT_METHODS, seq2seqMethodId } from '../runtime/explain/seq2seq-methods';
import { DEFAULT_METHODS, resolveMethods } from '../runtime/explain/explain';
import { WORD_AGGREGATIONS, type WordAggregation } from '../runtime/explain/words';
import { MAX_NEW_TOKENS } from '../runtime/generate/kv-generator';
import { targetArgs } from './input-options';
import { backendOption, bad, headOption, inputLimitOption, parseOptions, wholeNumber } from './parse-options';
import type { LongRunChoice } from '../runtime/inspector/long-runs';

const LONG_CHOICES: readonly LongRunChoice[] = ['auto', 'kept', 'maps'];

/** The analysis options of both commands, as explain() takes them (target kept as the spec string). */
export type AnalysisOptions = Omit<ExplainOptions, 'signal' | 'onProgress'> & { target: string };

interface Common {
  model: string;
  backend: BackendName | 'auto';
  threads?: number;
  /** Most bytes read from --file, or held for one --data line. */
  inputLimit: number;
  analysis: AnalysisOptions;
}

export interface ExplainArgs extends Common {
  text?: string;
  file?: string;
  /** Print the per-head statistics table. */
  headStats: boolean;
  out?: string;
  /** Generate this many tokens greedily first and explain prompt + output (generated:N targets). */
  generate?: number;
  /** How attention is held (runtime/inspector/long-runs.ts): 'auto' keeps a run whose maps would pass 1 GiB, and
   *  explains it from what is kept (runtime/explain/explain-kept.ts); 'kept' always, 'maps' never. */
  long: LongRunChoice;
}

export interface StudyArgs extends Common {
  data: string;
  /** Only the first N examples. */
  limit?: number;
  out?: string;
  /** The method paired agreement comparisons are made against (default loo when it runs). */
  reference?: string;
  /** The model-randomisation sanity check: re-run with this many top layers re-initialised. */
  randomizeTop?: number;
}

const COMMON = {
  model: { type: 'string' },
  target: { type: 'string' },
  methods: { type: 'string' },
  perturb: { type: 'string' },
  layer: { type: 'string' },
  head: { type: 'string' },
  'head-reduce': { type: 'string' },
  'start-layer': { type: 'string' },
  window: { type: 'string' },
  stride: { type: 'string' },
  'ig-steps': { type: 'string' },
  'ig-baseline': { type: 'string' },
  topk: { type: 'string' },
  percents: { type: 'string' },
  'erasure-steps': { type: 'string' },
  'baseline-samples': { type: 'string' },
  'no-faithfulness': { type: 'boolean' },
  'include-special': { type: 'boolean' },
  'no-batch': { type: 'boolean' },
  'max-batch': { type: 'string' },
  backend: { type: 'string' },
  threads: { type: 'string' },
  truncate: { type: 'boolean' },
  chat: { type: 'boolean' },
  'max-tokens': { type: 'string' },
  'max-input-mb': { type: 'string' },
  words: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const int = wholeNumber;

function parse<T extends Record<string, { type: 'string' | 'boolean'; short?: string }>>(argv: string[], extra: T) {
  return parseOptions(argv, { ...COMMON, ...extra });
}

function common(v: Record<string, string | boolean | undefined>): Common {
  const str = (k: string) => v[k] as string | undefined;
  const model = str('model');
  if (!model) throw bad('Missing --model DIR: give the model folder.');
  const target = str('target');
  if (target === undefined) throw bad('Missing --target SPEC, e.g. --target next or --target "similarity:a text".');
  if (target !== EACH_TARGET_TOKEN) parseTargetSpec(target); // fail early, before loading the model
  const backend = backendOption(str('backend'));
  const perturb = str('perturb') ?? 'remove';
  if (!PERTURBATIONS.includes(perturb as Perturbation))
    throw bad(`Unknown --perturb "${perturb}"; use ${PERTURBATIONS.join(', ')}.`);
  const head: ExplainOptions['head'] = headOption(str('head'), ['mean', 'max']);
  const reduce = str('head-reduce');
  if (reduce !== undefined && reduce !== 'mean' && reduce !== 'max')
    throw bad(`--head-reduce must be mean or max (got "${reduce}").`);
  const igBaseline = str('ig-baseline');
  if (igBaseline !== undefined && igBaseline !== 'zero' && igBaseline !== 'pad')
    throw bad(`--ig-baseline must be zero or pad (got "${igBaseline}").`);
  let percents: number[] | undefined;
  if (str('percents') !== undefined) {
    percents = str('percents')!
      .split(',')
      .map((p) => Number(p.trim()));
    if (percents.some((p) => !(p > 0 && p <= 100)))
      throw bad(`--percents must be numbers in (0, 100] separated by commas (got "${str('percents')}").`);
    if (new Set(percents).size !== percents.length)
      throw bad(`--percents names a bin twice (got "${str('percents')}"); give each percentage once.`);
  }
  const methods = str('methods')
    ?.split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  if (methods !== undefined && methods.length === 0) throw bad('--methods is empty; give e.g. rollout,loo,norm.');
  if (methods !== undefined) resolveMethods(methods); // unknown names fail here, before the model loads
  const words = str('words');
  if (words !== undefined && !WORD_AGGREGATIONS.includes(words as WordAggregation))
    throw bad(`--words must be ${WORD_AGGREGATIONS.join(' or ')} (got "${words}"): how a word's token scores combine.`);
  const analysis: AnalysisOptions = {
    target,
    methods,
    perturbation: perturb as Perturbation,
    layer: int('layer', str('layer'), 0),
    head,
    headReduce: reduce as 'mean' | 'max' | undefined,
    startLayer: int('start-layer', str('start-layer'), 0),
    window: int('window', str('window'), 1),
    stride: int('stride', str('stride'), 1),
    steps: int('ig-steps', str('ig-steps'), 1, 1024),
    baseline: igBaseline as 'zero' | 'pad' | undefined,
    topK: int('topk', str('topk'), 1),
    percents,
    erasureSteps: int('erasure-steps', str('erasure-steps'), 0, 1000),
    baselineSamples: int('baseline-samples', str('baseline-samples'), 1, 100),
    faithfulness: v['no-faithfulness'] !== true,
    includeSpecial: v['include-special'] === true,
    batched: v['no-batch'] !== true,
    maxBatchRows: int('max-batch', str('max-batch'), 1),
    truncate: v.truncate === true,
    chat: v.chat === true,
    maxTokens: int('max-tokens', str('max-tokens'), 1),
    words: words as WordAggregation | undefined,
  };
  for (const k of Object.keys(analysis) as (keyof AnalysisOptions)[]) if (analysis[k] === undefined) delete analysis[k];
  return {
    model,
    backend,
    threads: int('threads', str('threads'), 1, 256),
    inputLimit: inputLimitOption(str('max-input-mb')),
    analysis,
  };
}

export function parseExplainArgs(argv: string[]): ExplainArgs | 'help' {
  const v = parse(argv, {
    text: { type: 'string' },
    file: { type: 'string' },
    'head-stats': { type: 'boolean' },
    generate: { type: 'string' },
    'target-text': { type: 'string' },
    'max-new': { type: 'string' },
    'source-lang': { type: 'string' },
    'target-lang': { type: 'string' },
    long: { type: 'string' },
  });
  if (v.help) return 'help';
  const c = common(v);
  const long = (v.long ?? 'auto') as LongRunChoice;
  if (!LONG_CHOICES.includes(long)) throw bad(`--long must be auto, kept or maps (got "${String(v.long)}").`);
  if (v.text !== undefined && v.file !== undefined) throw bad('Give either --text or --file, not both.');
  if (v.text === undefined && v.file === undefined) throw bad('Give the text with --text TEXT or --file PATH.');
  const generate = wholeNumber('generate', v.generate, 1, MAX_NEW_TOKENS);
  if (c.analysis.target === EACH_TARGET_TOKEN)
    throw bad(
      `--target ${EACH_TARGET_TOKEN} (every target token in turn) is for study; explain one with --target target:POS.`,
    );
  const target = parseTargetSpec(c.analysis.target);
  const index = target.kind === 'generated' ? target.index : target.kind === 'contrast' ? target.generated : undefined;
  if (index !== undefined && generate === undefined)
    throw bad(`--target ${c.analysis.target} names a generated token: add --generate N (N ≥ ${index}).`);
  if (index !== undefined && index > generate!)
    throw bad(`--target ${c.analysis.target} is past the ${generate} tokens --generate asks for.`);
  // Encoder–decoders: the target to score (teacher-forced), or the greedy translation of at most --max-new tokens.
  const targetText = v['target-text'];
  if (targetText !== undefined && targetText.trim() === '')
    throw bad('--target-text is empty; give the translation to score, or leave it out to explain the model’s own.');
  if (targetText !== undefined && generate !== undefined)
    throw bad('--target-text is for encoder–decoder models and --generate for decoder-only ones: give one of them.');
  const maxNew = wholeNumber('max-new', v['max-new'], 1, MAX_NEW_TOKENS);
  if (maxNew !== undefined && targetText !== undefined)
    throw bad('--max-new caps the translation; with --target-text there is none: give one of them.');
  if (targetText !== undefined) c.analysis.targetText = targetText;
  if (maxNew !== undefined) c.analysis.maxNew = maxNew;
  const languages = targetArgs({ 'source-lang': v['source-lang'], 'target-lang': v['target-lang'] });
  if (languages.sourceLanguage !== undefined) c.analysis.sourceLanguage = languages.sourceLanguage;
  if (languages.targetLanguage !== undefined) c.analysis.targetLanguage = languages.targetLanguage;
  return {
    ...c,
    text: v.text,
    file: v.file,
    headStats: v['head-stats'] === true,
    out: v.out,
    ...(generate !== undefined ? { generate } : {}),
    long,
  };
}

export function parseStudyArgs(argv: string[]): StudyArgs | 'help' {
  const v = parse(argv, {
    data: { type: 'string' },
    limit: { type: 'string' },
    reference: { type: 'string' },
    'randomize-top': { type: 'string' },
  });
  if (v.help) return 'help';
  const c = common(v);
  if (!v.data) throw bad('Missing --data FILE.jsonl: one text per line (a JSON string, or {"text": …}).');
  let reference: string | undefined;
  if (v.reference !== undefined) {
    reference = resolveMethods([v.reference])[0];
    // Without --methods the defaults run: DEFAULT_METHODS, or on an encoder–decoder SEQ2SEQ_DEFAULT_METHODS.
    const methods = c.analysis.methods
      ? resolveMethods(c.analysis.methods)
      : [...DEFAULT_METHODS, ...SEQ2SEQ_DEFAULT_METHODS.filter((m) => !DEFAULT_METHODS.includes(m))];
    // The model is not known yet: on an encoder–decoder raw-attention and rollout run as cross-attention and
    // cross-rollout, so either name of one method is accepted here (the study checks it again once the model loads).
    const asRun = methods.map(seq2seqMethodId);
    if (!methods.includes(reference) && !asRun.includes(seq2seqMethodId(reference)))
      throw bad(`--reference ${v.reference} is not among the methods (${methods.join(', ')}); add it to --methods.`);
  }
  const randomizeTop = int('randomize-top', v['randomize-top'], 1);
  return {
    ...c,
    data: v.data,
    limit: int('limit', v.limit, 1),
    out: v.out,
    ...(reference ? { reference } : {}),
    ...(randomizeTop !== undefined ? { randomizeTop } : {}),
  };
}
