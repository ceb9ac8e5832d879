// One explanation of one input: which tokens matter for a scalar the user chose (target-spec.ts), by several methods
// side by side, and how far those methods agree and how faithful each is. Runs one unperturbed pass with every
// layer's attention (and value norms when a norm method is asked for), then the methods through the registry
// (runtime/analysis/registry.ts), whose perturbation methods get a batched evaluator (evaluator.ts), then the
// comparison tables and faithfulness. The result (result.ts) is plain data for the CLI, JSON and the webview.
import type { Inspector } from '../inspector/api';
import { limitLength, tokensOfIds } from '../inspector/input';
import {
  computeImportance,
  getMethod,
  listMethods,
  type GradientPath,
  type ImportanceContext,
  type ValueNorms,
} from '../analysis/registry';
import { midpointAlphas } from '../analysis/gradient-methods';
import type { GradientBaseline } from '../grad/gradient-service';
import { attnLrpRefusalFor, GRADIENT_REFUSED_ONNX } from '../grad/family-gradient';
import { GRADIENT_MAX_TOKENS } from '../grad/gradients';
import type { HeadReduce } from '../analysis/rollout';
import { valueNormsFromGram } from '../analysis/norm';
import { valueKeepRows, valueZeroingLayer, type MixingLayer } from '../analysis/mixing';
import { measureRow } from '../analysis/targets';
import { LensError } from '../errors';
import { NORMS_REFUSED } from '../onnx/forward';
import type { LayerAttention, ModelFacts, Token } from '../types';
import { agreementTable, distanceTable, headTable } from './compare';
import { BatchEvaluator } from './evaluator';
import { BASELINE_ID } from './baseline';
import { evaluationTables } from './faithfulness-tables';
import { keepOneToken, keptTokenNote, type Perturbation } from './perturb';
import { resultModel, type ExplainResult } from './result';
import { planTarget, targetLabel, targetToken } from './target';
import { explanationNotes } from './notes';
import { wordScores, type WordAggregation } from './words';
import { headSweep } from './head-sweep';
import { parseTargetSpec, resolveGenerated, type TargetSpec } from './target-spec';
import { explainSeq2Seq } from './seq2seq-explain';
import { runMethods } from './run-methods';

export const DEFAULT_METHODS: readonly string[] = ['raw-attention', 'rollout', 'loo', 'norm'];

const ALIASES: Record<string, string> = { raw: 'raw-attention', attention: 'raw-attention', 'leave-one-out': 'loo' };

export interface ExplainProgress {
  phase: 'main-pass' | 'method' | 'faithfulness' | 'erasure' | 'done';
  method?: string;
  done?: number;
  total?: number;
}

export interface ExplainOptions {
  /** A target spec string or a parsed spec. */
  target: string | TargetSpec;
  /** Method ids of the registry (default raw-attention, rollout, loo, norm); the uniform baseline is always added. */
  methods?: readonly string[];
  /** How perturbation methods and faithfulness remove tokens (default 'remove'; see perturb.ts). */
  perturbation?: Perturbation;
  /** raw-attention / norm: layer index (default the last); head index or 'mean' / 'max' (default mean / all heads). */
  layer?: number;
  head?: number | HeadReduce;
  /** rollout / flow / norm-rollout: head reduction and first layer. */
  headReduce?: HeadReduce;
  startLayer?: number;
  /** occlusion window and stride. */
  window?: number;
  stride?: number;
  /** Integrated Gradients: steps (default 32) and baseline (default 'zero': the zero embedding; 'pad': the pad
   * token's embedding), special tokens kept as they are. */
  steps?: number;
  baseline?: GradientBaseline;
  /** Faithfulness bins in % of candidates (default 1, 5, 10, 20, 50); false skips faithfulness. */
  percents?: readonly number[];
  faithfulness?: boolean;
  /** Points of the erasure curves (default 10; 0 skips them). */
  erasureSteps?: number;
  /** k of the top-k overlap (default 5). */
  topK?: number;
  /** Random orders averaged for the baseline's faithfulness and erasure rows (default 5; its agreement uses 100). */
  baselineSamples?: number;
  /** Let perturbations remove special tokens too (default false). */
  includeSpecial?: boolean;
  /** false: one model call per perturbed row (comparison); default true. */
  batched?: boolean;
  maxBatchRows?: number;
  truncate?: boolean;
  maxTokens?: number;
  /** Text as a user message in the model's chat template; its template tokens are special (not candidates unless
   * includeSpecial). */
  chat?: boolean;
  /** When the input is a generation's ids (prompt + output): the prompt's length, which generated:N targets need. */
  promptLength?: number;
  /** Encoder–decoders: the target to score with teacher forcing (text, read by the target tokenizer, or label ids);
   * without it the model's greedy translation (at most maxNew tokens) is the target. */
  targetText?: string | number[];
  maxNew?: number;
  /** mBART and mBART-50: the source text's language code and the target's (RunOptions.sourceLanguage /
   * targetLanguage); the translation explained goes into the target language. */
  sourceLanguage?: string;
  targetLanguage?: string;
  /** Per-head statistics table (default true). */
  headStats?: boolean;
  /** Also aggregate every method's token scores to words (words.ts): the sum or the max per word. */
  words?: WordAggregation;
  /** The text the tokens' offsets point into, for word boundaries when the input is ids or tokens. */
  sourceText?: string;
  /** The method every head's attention is ranked against (head-sweep.ts); default loo when it gave scores; false
   * skips the sweep. */
  sweepReference?: string | false;
  signal?: AbortSignal;
  onProgress?: (p: ExplainProgress) => void;
}

/** Registry ids for user-given names (aliases: raw, attention, leave-one-out); a LensError for unknown ones. */
export function resolveMethods(names: readonly string[]): string[] {
  const ids: string[] = [];
  for (const name of names) {
    const id = ALIASES[name] ?? name;
    if (!getMethod(id)) {
      const known = listMethods()
        .map((m) => m.id)
        .filter((m) => m !== BASELINE_ID);
      throw new LensError('BAD_INPUT', `Unknown method "${name}"; known: ${known.join(', ')}.`);
    }
    if (!ids.includes(id) && id !== BASELINE_ID) ids.push(id);
  }
  return ids;
}

/** What explain() takes: text, token ids used as given, or a run's tokens (ids with their spans and their special
 * and chat-template flags, so that the candidates are the run's). */
export type ExplainInput = string | number[] | readonly Token[];

function tokensFor(inspector: Inspector, input: ExplainInput, options: ExplainOptions) {
  let all: Token[];
  if (typeof input === 'string') all = inspector.tokenize(input, { chat: options.chat === true });
  else if (input.every((t): t is number => typeof t === 'number'))
    all = tokensOfIds(input, inspector.facts, inspector.tokenizer);
  else {
    const given = input as readonly Token[];
    const checked = tokensOfIds(
      given.map((t) => t.id),
      inspector.facts,
      inspector.tokenizer,
    );
    all = given.map((t, i) => ({ ...t, special: t.special || checked[i].special }));
  }
  return limitLength(all, inspector.facts, { truncate: options.truncate, maxTokens: options.maxTokens });
}

/** Mean-pooled embedding of a text (similarity targets). [hidden] */
async function embed(inspector: Inspector, text: string, signal?: AbortSignal): Promise<Float32Array> {
  const tokens = limitLength(inspector.tokenize(text), inspector.facts, { truncate: true }).tokens;
  const ids = tokens.map((t) => t.id);
  const out = await inspector.forward(
    { batch: { ids: [ids], mask: [ids.map(() => 1)] }, read: { kind: 'mean-hidden' } },
    { signal },
  );
  return out.head;
}

/** Tokens perturbations may remove: not special (unless asked), not the protected position, not after a causal readout. */
export function candidateMask(
  tokens: readonly Token[],
  protect: number | null,
  causalReadout: number | null,
  includeSpecial: boolean,
): boolean[] {
  return tokens.map(
    (t, j) => (includeSpecial || !t.special) && j !== protect && (causalReadout === null || j <= causalReadout),
  );
}

/** Zeroed rows per model call in value zeroing (each a whole forward pass returning every layer's output). */
export const VALUE_ZEROING_BATCH = 32;

/** Value zeroing's [seq, seq] matrix of each listed layer: every (layer, token) pair zeroed in its own row, in
 * batches that each start with the unzeroed row (the original both sides of a comparison run alike with). */
async function valueZeroingMatrices(
  inspector: Inspector,
  ids: readonly number[],
  layers: readonly number[],
  facts: Inspector['facts'],
  signal: AbortSignal | undefined,
  stats: { rows: number; batches: number; ms: number },
): Promise<Float64Array[]> {
  const S = ids.length;
  const E = facts.hidden;
  const L = facts.layers;
  const pairs = layers.flatMap((layer) => Array.from({ length: S }, (_, token) => ({ layer, token })));
  const zeroed = new Map<string, Float32Array>(); // "layer:token" → [S,E]
  const original = new Map<string, Float32Array>(); // "layer:token" → [S,E], the unzeroed row of its batch
  for (let at = 0; at < pairs.length; at += VALUE_ZEROING_BATCH) {
    signal?.throwIfAborted();
    const chunk = pairs.slice(at, at + VALUE_ZEROING_BATCH);
    const rows = chunk.length + 1;
    const t0 = performance.now();
    const out = await inspector.forward(
      {
        batch: {
          ids: Array.from({ length: rows }, () => [...ids]),
          mask: Array.from({ length: rows }, () => ids.map(() => 1)),
        },
        read: { kind: 'none' },
        mixing: 'outputs',
        valueKeep: valueKeepRows(chunk, L, S),
      },
      { signal },
    );
    stats.ms += performance.now() - t0;
    stats.rows += rows;
    stats.batches++;
    const layerOut = (layer: number, row: number) => out.mixing![layer].out!.subarray(row * S * E, (row + 1) * S * E);
    chunk.forEach((p, r) => {
      original.set(`${p.layer}:${p.token}`, layerOut(p.layer, 0));
      zeroed.set(`${p.layer}:${p.token}`, layerOut(p.layer, r + 1));
    });
  }
  return layers.map((layer) =>
    valueZeroingLayer(
      Array.from({ length: S }, (_, token) => original.get(`${layer}:${token}`)!),
      Array.from({ length: S }, (_, token) => zeroed.get(`${layer}:${token}`)!),
      S,
      E,
    ),
  );
}

/**
 * --layer, --head and --start-layer outside the model, refused before any pass with one line (`layers`: the layers
 * they index — an encoder–decoder's decoder layers). (A method the model cannot run is reported in its entry and the
 * others still run.)
 */
export function checkLayerOptions(
  facts: ModelFacts,
  options: Pick<ExplainOptions, 'layer' | 'head' | 'startLayer'>,
  layers: number,
): void {
  const outside = (what: string, v: number, count: number, unit: string) =>
    new LensError('BAD_INPUT', `${what} ${v} is outside 0..${count - 1}: ${facts.name} has ${count} ${unit}.`);
  const layerUnit = facts.encoderDecoder ? 'decoder layers' : 'layers';
  const { layer, head, startLayer } = options;
  if (layer !== undefined && !(Number.isInteger(layer) && layer >= 0 && layer < layers))
    throw outside('--layer', layer, layers, layerUnit);
  if (typeof head === 'number' && !(Number.isInteger(head) && head >= 0 && head < facts.heads))
    throw outside('--head', head, facts.heads, 'heads');
  if (startLayer !== undefined && !(Number.isInteger(startLayer) && startLayer >= 0 && startLayer < layers))
    throw outside('--start-layer', startLayer, layers, layerUnit);
}

/**
 * Integrated Gradients from the pad token's embedding asked of a model without a pad token: refused before any
 * pass (there is no pad embedding to start from; id 0 would be some other token).
 */
export function checkIgBaseline(inspector: Inspector, options: Pick<ExplainOptions, 'baseline' | 'methods'>): void {
  if (options.baseline !== 'pad' || !options.methods) return;
  if (!resolveMethods(options.methods).includes('integrated-gradients')) return;
  if (inspector.tokenizer?.special.pad !== undefined) return;
  throw new LensError(
    'UNSUPPORTED_MODEL',
    `${inspector.facts.name} has no pad token, so Integrated Gradients has no pad embedding to start from; use --ig-baseline zero (the zero embedding).`,
  );
}

/** Explains one input (text, or token ids used as given). */
export async function explain(
  inspector: Inspector,
  input: ExplainInput,
  options: ExplainOptions,
): Promise<ExplainResult> {
  const t0 = performance.now();
  const { signal, onProgress } = options;
  const facts = inspector.facts;
  checkIgBaseline(inspector, options);
  if (facts.encoderDecoder)
    return explainSeq2Seq(inspector, input, options, options.methods ? resolveMethods(options.methods) : undefined);
  if (
    options.targetText !== undefined ||
    options.maxNew !== undefined ||
    options.sourceLanguage !== undefined ||
    options.targetLanguage !== undefined
  )
    throw new LensError(
      'BAD_INPUT',
      `${facts.name} (${facts.modelType}) is not an encoder–decoder model, so it takes no target text, translation length or languages; leave them out.`,
    );
  const methodIds = resolveMethods(options.methods ?? DEFAULT_METHODS);
  // AttnLRP asked of a model outside its rules: refused before any pass, by name (the panel does not offer it).
  const lrpRefusal = methodIds.includes('attnlrp') ? attnLrpRefusalFor(facts.modelType, facts.family) : undefined;
  if (lrpRefusal)
    throw new LensError('UNSUPPORTED_MODEL', facts.family === 'onnx' ? `AttnLRP: ${lrpRefusal}` : lrpRefusal);
  checkLayerOptions(facts, options, facts.layers);
  const parsed = typeof options.target === 'string' ? parseTargetSpec(options.target) : options.target;
  const prepared = tokensFor(inspector, input, options);
  const tokens = prepared.tokens;
  const plan = planTarget(
    resolveGenerated(
      parsed,
      tokens.map((t) => t.id),
      options.promptLength,
    ),
    tokens,
    facts,
    inspector.tokenizer,
  );
  const causal = facts.attentionKinds.some((k) => k === 'causal');
  const S = plan.ids.length;

  // The unperturbed pass: every layer's attention, value Gram matrices for the norm methods, the head at the target.
  onProgress?.({ phase: 'main-pass' });
  const tMain = performance.now();
  const reference = plan.reference !== undefined ? await embed(inspector, plan.reference, signal) : undefined;
  const lastLayer = facts.layers - 1;
  // An imported ONNX export has no value vectors: its norm methods report why instead of failing the explanation.
  const noNorms = facts.family === 'onnx';
  const normLayers = noNorms
    ? false
    : methodIds.includes('norm-rollout')
      ? true
      : methodIds.includes('norm')
        ? [options.layer ?? lastLayer]
        : false;
  // Context-mixing methods (ALTI, value zeroing) read the mixing layer variant; imported ONNX graphs have none.
  const wantsMixing = !noNorms && methodIds.some((id) => getMethod(id)?.needs.mixing);
  const main = await inspector.forward(
    {
      batch: { ids: [plan.ids], mask: [plan.ids.map(() => 1)] },
      read: plan.readout === null ? { kind: 'mean-hidden' } : { kind: 'logits', positions: [plan.readout] },
      attention: true,
      norms: normLayers,
      ...(wantsMixing ? { mixing: true } : {}),
    },
    { signal },
  );
  const mainPassMs = performance.now() - tMain;
  const token = targetToken(plan, main.head, main.width);
  plan.token = token;
  const contrast = plan.contrast;
  const value = measureRow(main.head, 0, main.width, plan.measure, { token, contrast, reference });
  const attention: LayerAttention[] = (main.attention ?? []).map((data, layer) => ({
    layer,
    kind: facts.attentionKinds[layer] ?? 'self',
    heads: facts.heads,
    queryLength: S,
    keyLength: S,
    data, // [heads, query, key]
  }));
  const valueNorms: ValueNorms[] = [];
  (main.grams ?? []).forEach((gram, layer) => {
    if (gram)
      valueNorms.push({
        layer,
        heads: facts.heads,
        data: Float32Array.from(valueNormsFromGram(gram, facts.heads, S)),
        gram,
      });
  });

  const candidates = candidateMask(tokens, plan.protect, causal ? plan.readout : null, options.includeSpecial === true);
  const kept = keepOneToken(candidates, causal, causal ? plan.readout : null, options.perturbation ?? 'remove');
  const tokenizer = inspector.tokenizer;
  const evaluator = new BatchEvaluator(
    inspector,
    plan.ids,
    { measure: plan.measure, token, contrast, reference, readout: plan.readout },
    {
      mode: options.perturbation ?? 'remove',
      causal,
      padId: tokenizer?.special.pad ?? 0,
      maskId: tokenizer?.special.mask ?? tokenizer?.special.unk,
      batched: options.batched,
      maxRows: options.maxBatchRows,
      signal,
    },
  );
  evaluator.seed(
    plan.ids.map(() => true),
    value,
  );

  const mixing: MixingLayer[] | undefined = main.mixing?.map((m, layer) => ({
    heads: facts.heads,
    seq: S,
    hidden: facts.hidden,
    attn: attention[layer].data, // [heads, query, key]
    vectors: m.vectors, // [S,H,E]
    resid: m.resid, // [S,E]
    sum: m.sum, // [S,E]
    ...(m.postNorm ? { postNorm: m.postNorm } : {}),
  }));
  const valueZeroing = mixing
    ? (layers: readonly number[]) => valueZeroingMatrices(inspector, plan.ids, layers, facts, signal, evaluator.stats)
    : undefined;

  const ctx: ImportanceContext = {
    seq: S,
    target: plan.readout ?? 0,
    causal,
    tokens,
    attention,
    layer: options.layer,
    head: options.head,
    headReduce: options.headReduce,
    startLayer: options.startLayer,
    candidates,
    window: options.window,
    stride: options.stride,
    evaluateBatch: evaluator.evaluate,
    valueNorms,
    ...(mixing ? { mixing } : {}),
    ...(valueZeroing ? { valueZeroing } : {}),
    signal,
  };
  if (plan.readout === null) ctx.targetWeights = plan.ids.map(() => 1); // mean pooling over every token

  // Gradient methods: one gradient pass at the input (with every layer's attention gradient for attention ×
  // gradient); Integrated Gradients asks for its path through ctx.gradientPath; AttnLRP runs its own backward pass
  // (runtime/grad/attnlrp-rules.ts), explaining the token's logit (or the cosine with its norms held constant).
  const gradientIds = methodIds.filter((id) => getMethod(id)!.kind === 'gradient');
  const plainGradientIds = gradientIds.filter((id) => id !== 'attnlrp');
  const methodNotes: string[] = [];
  let gradientRefusal: string | undefined;
  let gradientMs: number | undefined;
  if (gradientIds.length) {
    if (facts.family === 'onnx') gradientRefusal = GRADIENT_REFUSED_ONNX;
    else if (!inspector.gradients)
      gradientRefusal =
        'Gradient methods run where the model runs in the extension host or the CLI, not in the panel’s WebGPU worker: set attentionLens.backend to native or wasm.';
    else if (S > GRADIENT_MAX_TOKENS)
      gradientRefusal = `Gradient methods run on at most ${GRADIENT_MAX_TOKENS} tokens (memory grows with the square of the length); this input has ${S}: select a shorter range.`;
    else {
      const gradients = inspector.gradients.bind(inspector);
      // A contrast (log-odds) is log p(A) − log p(B): the log-prob graph read with weight −1 on B.
      const measure = plan.measure === 'log-odds' ? 'log-prob' : plan.measure;
      const target = {
        measure,
        ...(plan.readout !== null ? { readout: plan.readout } : {}),
        ...(token !== undefined ? { token } : {}),
        ...(plan.measure === 'log-odds' ? { contrast: plan.contrast } : {}),
        ...(reference ? { reference } : {}),
      };
      ctx.report = (note) => methodNotes.push(note);
      if (plainGradientIds.length) {
        const baseline = options.baseline ?? 'zero';
        const padId = tokenizer?.special.pad ?? 0;
        const label = baseline === 'pad' ? `pad-token (#${padId})` : 'zero-embedding';
        const steps = (ctx.steps = options.steps ?? 32);
        const along = (alphas: readonly number[], valueOnly?: number) =>
          gradients(
            {
              ids: plan.ids,
              target,
              alphas: [...alphas],
              ...(valueOnly ? { valueOnly } : {}),
              baseline,
              padId,
              keep: tokens.map((t) => t.special === true),
            },
            { signal },
          );
        // What Integrated Gradients asks (registry.ts): the midpoints, then α = 0 read for f(baseline) alone.
        const igAlphas = [...midpointAlphas(steps), 0];
        let igPath: Awaited<ReturnType<GradientPath>> | undefined;
        const tGrad = performance.now();
        if (plainGradientIds.includes('integrated-gradients') && !gradientIds.includes('attn-x-grad')) {
          // The input itself (α = 1) rides IG's batched path as one more point: one gradient graph and session serve
          // the gradient at the input (saliency, gradient × input, IG's f(x)) and the path, not two (a deep model's
          // gradient session takes seconds to create and hundreds of MB to hold; ARCHITECTURE.md).
          const r = await along([...midpointAlphas(steps), 1, 0], 1);
          const n = S * r.hidden; // [S,E] a point
          ctx.gradients = {
            hidden: r.hidden,
            gradient: r.grad.subarray(steps * n, (steps + 1) * n),
            embedding: r.embedding,
            value: r.target[steps],
          };
          igPath = {
            target: [...r.target.slice(0, steps), r.target[steps + 1]],
            grad: r.grad.subarray(0, steps * n),
            baseline: r.baseline!,
            label,
          };
        } else {
          const reply = await gradients(
            { ids: plan.ids, target, attention: gradientIds.includes('attn-x-grad') },
            { signal },
          );
          ctx.gradients = {
            hidden: reply.hidden,
            gradient: reply.grad,
            embedding: reply.embedding,
            value: reply.target[0],
          };
          if (reply.attention && reply.attentionGrad)
            ctx.attentionGradients = reply.attention.map((attention, layer) => ({
              layer,
              heads: facts.heads,
              attention,
              gradient: reply.attentionGrad![layer],
            }));
        }
        gradientMs = performance.now() - tGrad;
        ctx.gradientPath = async (alphas, valueOnly) => {
          const same =
            valueOnly === 1 && alphas.length === igAlphas.length && alphas.every((a, i) => a === igAlphas[i]);
          if (igPath && same) return igPath;
          const r = await along(alphas, valueOnly);
          return { target: r.target, grad: r.grad, baseline: r.baseline!, label };
        };
        methodNotes.push(
          'Gradient methods: gradients of the target w.r.t. the token embeddings, computed by onnxruntime in float32 through backward graphs built from the model’s own graphs (quantised GGUF weights are used dequantised to float32, as in the forward pass); gradient × input and Integrated Gradients are signed (negative: the token lowers the target).',
        );
      }
      if (gradientIds.includes('attnlrp')) {
        const lrpMeasure = measure === 'cosine' ? 'cosine' : 'logit';
        const tLrp = performance.now();
        const reply = await gradients(
          { ids: plan.ids, target: { ...target, measure: lrpMeasure }, rules: 'attnlrp' },
          { signal },
        );
        gradientMs = (gradientMs ?? 0) + performance.now() - tLrp;
        ctx.relevance = {
          hidden: reply.hidden,
          gradient: reply.grad,
          embedding: reply.embedding,
          value: reply.target[0],
          measure: lrpMeasure,
          ...(plan.measure === 'log-odds' ? { contrast: true } : {}),
        };
      }
    }
  }

  const methods = await runMethods(
    [...methodIds, BASELINE_ID],
    async (id, m) => {
      if (noNorms && (m.needs.valueNorms || m.needs.mixing)) throw new RangeError(NORMS_REFUSED);
      if (gradientRefusal && m.kind === 'gradient') throw new RangeError(gradientRefusal);
      return computeImportance(id, ctx);
    },
    evaluator.stats,
    onProgress,
  );

  const tables = await evaluationTables(methods, evaluator.evaluate, { ...options, candidates, signal }, onProgress);
  const { faithfulness, erasure } = tables;
  const tEnd = tables.end;

  const text = (id: number) => tokenizer?.idToToken(id) ?? `#${id}`;
  const result: Omit<ExplainResult, 'notes'> = {
    model: resultModel(facts, inspector.backend),
    tokens,
    target: {
      spec: plan.spec,
      kind: plan.parsed.kind,
      measure: plan.measure,
      label: targetLabel(plan, text),
      readout: plan.readout,
      value,
    },
    perturbation: options.perturbation ?? 'remove',
    candidates,
    methods,
    agreement: agreementTable(methods, candidates, options.topK),
    distance: distanceTable(methods, candidates),
    faithfulness,
    erasure,
    heads: options.headStats === false ? [] : headTable(attention, tokens),
    timings: {
      totalMs: tEnd - t0,
      mainPassMs,
      ...(gradientMs !== undefined ? { gradientMs } : {}),
      faithfulnessMs: tables.faithfulnessMs,
      erasureMs: tables.erasureMs,
      rows: evaluator.stats.rows,
      batches: evaluator.stats.batches,
      forwardMs: evaluator.stats.ms,
    },
  };
  if (prepared.truncatedFrom !== undefined) result.truncatedFrom = prepared.truncatedFrom;
  const sweepId =
    options.sweepReference === false
      ? undefined
      : (options.sweepReference ?? (methodIds.includes('loo') ? 'loo' : undefined));
  const sweepRef = methods.find((m) => m.id === sweepId && m.scores.length === S);
  if (sweepRef && attention.length)
    result.headSweep = headSweep(attention, sweepRef, candidates, plan.readout ?? 0, ctx.targetWeights);
  if (options.words !== undefined)
    result.words = wordScores(
      tokens,
      candidates,
      methods,
      options.words,
      typeof input === 'string' ? input : options.sourceText,
    );
  if (token !== undefined) result.target.token = { id: token, text: text(token) };
  if (contrast !== undefined) result.target.contrast = { id: contrast, text: text(contrast) };
  if (plan.reference !== undefined) result.target.reference = plan.reference;
  const notes = [...explanationNotes(result, { causal, modelType: facts.modelType }), ...methodNotes];
  if (kept !== null) notes.push(keptTokenNote(kept, tokens, causal && kept === plan.readout));
  return { ...result, notes };
}
