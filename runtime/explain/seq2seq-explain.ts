// Explain on an encoder–decoder (marian, bart, mbart, t5): which SOURCE tokens matter for a scalar of the target side
// (seq2seq-target.ts: the whole target's log-probability, one target token's, or a contrast at a target position),
// by the methods of seq2seq-methods.ts side by side, with the same agreement, faithfulness and erasure tables as
// explain.ts. The target is the model's greedy translation, or the given target text scored with teacher forcing.
//   main pass   one run (inspector.run) with the target: encoder, decoder and cross attention and the log-probs
//   methods     raw cross-attention of a decoder layer, the encoder–decoder rollout (analysis/seq2seq-attention.ts),
//               leave-one-out and occlusion on the source: each perturbed source re-runs the encoder, then the decoder
//               teacher-forced on the same target (evaluator.ts with a 'target-logprobs' read)
//   gradients   saliency, gradient × input and Integrated Gradients over the source embeddings, and attention ×
//               gradient on a decoder layer's cross-attention, computed where the model lives (Inspector.seq2seqGradients: the worker's Seq2SeqGradientService) for the same target
//               (a contrast is the −1 weight on B at its row: the same graph)
//   mixing      ALTI+ (the encoder's ALTI rollout composed with the decoder's self and cross contributions) and value
//               zeroing through one decoder layer's cross-attention (Inspector.seq2seqMixing: the worker's
//               Seq2SeqMixingService), rows up to the explained one
//   baselines   uniform over the source tokens; recency = source position (a later source token ranks higher: the
//               causal baseline's rule applied to the source; it has no model in it, which is all it must show)
import type { AttentionRun, Inspector } from '../inspector/api';
import { limitLength, tokensOfIds } from '../inspector/input';
import { computeImportance, type ImportanceContext } from '../analysis/registry';
import type { Seq2SeqAttention } from '../analysis/seq2seq-attention';
import { LensError } from '../errors';
import type { LayerAttention, Token } from '../types';
import { agreementTable, distanceTable, headTable } from './compare';
import { BatchEvaluator } from './evaluator';
import { BASELINE_ID } from './baseline';
import { evaluationTables } from './faithfulness-tables';
import { headSweep } from './head-sweep';
import { explanationNotes } from './notes';
import { resultModel, type ExplainResult } from './result';
import { runMethods } from './run-methods';
import { planSeq2SeqTarget, seq2seqTargetLabel } from './seq2seq-target';
import {
  SEQ2SEQ_DEFAULT_METHODS,
  SEQ2SEQ_GRADIENT_METHODS,
  SEQ2SEQ_MIXING_METHODS,
  seq2seqMethods,
} from './seq2seq-methods';
import { weightedRows } from '../analysis/seq2seq-attention';
import type { Seq2SeqMixingMethod } from '../inspector/seq2seq-mixing-service';
import { GRADIENT_MAX_TOKENS } from '../grad/gradients';
import { attnLrpRefusalFor, GRADIENT_REFUSED_ONNX } from '../grad/family-gradient';
import {
  inputGradients,
  integratedGradientsRequest,
  seq2seqGradientAttribution,
  type Seq2SeqGradientComputer,
  type Seq2SeqGradientMethod,
  type Seq2SeqGradientTarget,
} from '../grad/seq2seq-gradients';
import { parseTargetSpec } from './target-spec';
import { wordScores } from './words';
import { checkLayerOptions, type ExplainInput, type ExplainOptions } from './explain';
import { keepOneToken, keptTokenNote } from './perturb';

/** The source's tokens (text, ids as given, or a run's tokens), cut to the model's length when asked. */
function sourceTokens(inspector: Inspector, input: ExplainInput, options: ExplainOptions) {
  let all: Token[];
  if (typeof input === 'string')
    all = inspector.tokenize(
      input,
      options.sourceLanguage !== undefined ? { sourceLanguage: options.sourceLanguage } : {},
    );
  else if (input.every((t): t is number => typeof t === 'number'))
    all = tokensOfIds(input, inspector.facts, inspector.tokenizer);
  else all = input.map((t) => ({ ...t }));
  return limitLength(all, inspector.facts, { truncate: options.truncate, maxTokens: options.maxTokens });
}

/** Every layer of one run, split by kind (each list indexed by its layer within its stack). */
async function collect(run: AttentionRun): Promise<Seq2SeqAttention> {
  const encoder: LayerAttention[] = [];
  const decoder: LayerAttention[] = [];
  const cross: LayerAttention[] = [];
  for await (const l of run) {
    const entry: LayerAttention = { ...l, layer: l.stackLayer ?? l.layer };
    if (l.kind === 'encoder') encoder.push(entry);
    else if (l.kind === 'decoder') decoder.push(entry);
    else if (l.kind === 'cross') cross.push(entry);
  }
  return { encoder, decoder, cross };
}

/** Explains one source for a target of an encoder–decoder model. `methodIds`: resolved registry ids, or undefined
 * for the defaults. */
export async function explainSeq2Seq(
  inspector: Inspector,
  input: ExplainInput,
  options: ExplainOptions,
  methodIds: readonly string[] | undefined,
): Promise<ExplainResult> {
  const t0 = performance.now();
  const { signal, onProgress } = options;
  const facts = inspector.facts;
  // An imported ONNX export runs as it is: its maps and its passes serve attention and perturbation methods; gradient
  // and context-mixing methods need the graphs Attention Lens builds from the weights.
  const imported = facts.family === 'onnx';
  const ids = seq2seqMethods(methodIds ?? SEQ2SEQ_DEFAULT_METHODS, facts.modelType);
  // AttnLRP asked of an export: refused before any pass, by name, as on a decoder-only export (explain.ts).
  if (imported && ids.includes('attnlrp'))
    throw new LensError('UNSUPPORTED_MODEL', `AttnLRP: ${attnLrpRefusalFor(facts.modelType, facts.family)!}`);
  checkLayerOptions(facts, options, facts.encoderDecoder?.decoderLayers ?? facts.layers);
  const mode = options.perturbation ?? 'remove';
  if (mode === 'hide')
    throw new LensError(
      'BAD_INPUT',
      '--perturb hide needs an attention mask over the source, which the encoder–decoder graphs do not take: use remove or mask-token.',
    );
  const parsed = typeof options.target === 'string' ? parseTargetSpec(options.target) : options.target;
  const prepared = sourceTokens(inspector, input, options);
  const tokens = prepared.tokens;
  const S = tokens.length;

  // The unperturbed run: the target (given or translated) and every kind of attention.
  onProgress?.({ phase: 'main-pass' });
  const tMain = performance.now();
  const run = inspector.run(
    tokens.map((t) => t.id),
    {
      signal,
      ...(options.targetText !== undefined
        ? { target: options.targetText }
        : { translate: options.maxNew !== undefined ? { maxNew: options.maxNew } : true }),
      ...(options.targetLanguage !== undefined ? { targetLanguage: options.targetLanguage } : {}),
    },
  );
  const attention = await collect(run);
  const side = run.target();
  if (!side) throw new LensError('INFERENCE_FAILED', 'The encoder–decoder run gave no target.');
  const mainPassMs = performance.now() - tMain;
  const labels = side.tokens;
  if (labels.length === 0) throw new LensError('EMPTY_TEXT', 'The target has no tokens; nothing to explain.');
  const plan = planSeq2SeqTarget(parsed, labels, facts, inspector.tokenizer);

  const tokenizer = inspector.tokenizer;
  const candidates = tokens.map((t) => options.includeSpecial === true || !t.special);
  const kept = keepOneToken(candidates, false, null, mode);
  const evaluator = new BatchEvaluator(
    inspector,
    tokens.map((t) => t.id),
    {
      measure: plan.measure,
      readout: null,
      seq2seq: { decoderInput: side.decoderInput.map((t) => t.id), picks: plan.picks, combine: plan.combine },
    },
    {
      mode,
      causal: false,
      padId: tokenizer?.special.pad ?? 0,
      maskId: tokenizer?.special.mask ?? tokenizer?.special.unk,
      batched: options.batched,
      maxRows: options.maxBatchRows,
      signal,
    },
  );
  // The target on the unperturbed source, through the same pass as every perturbed row.
  const [value] = await evaluator.evaluate([tokens.map(() => true)]);

  const ctx: ImportanceContext = {
    seq: S,
    target: 0,
    causal: false,
    tokens,
    layer: options.layer,
    head: options.head,
    headReduce: options.headReduce,
    candidates,
    window: options.window,
    stride: options.stride,
    evaluateBatch: evaluator.evaluate,
    seq2seq: { ...attention, rows: plan.rows },
    signal,
  };

  // Gradient methods: the worker's encoder–decoder gradient graphs, for the plan's target.
  const methodNotes: string[] = [];
  let gradientRefusal: string | undefined;
  let gradients: Seq2SeqGradientComputer | undefined;
  let gradientMs: number | undefined;
  // A contrast reads A − B at its row: A takes that row's label (only that row is read; the decoder inputs stay).
  const gradTarget: Seq2SeqGradientTarget = {
    labels: labels.map((t, i) => (i === plan.row && plan.token !== undefined ? plan.token : t.id)),
    ...(plan.row !== null ? { position: plan.row } : {}),
    ...(plan.contrast !== undefined ? { contrast: plan.contrast } : {}),
  };
  const gradRequest = {
    sourceIds: tokens.map((t) => t.id),
    decoderInputIds: side.decoderInput.map((t) => t.id),
    target: gradTarget,
  };
  const gradOptions = {
    steps: options.steps,
    baseline: options.baseline,
    padId: tokenizer?.special.pad ?? 0,
    keep: tokens.map((t) => t.special === true),
    ...(options.layer !== undefined ? { layer: options.layer } : {}),
    ...(typeof options.head === 'number' ? { head: options.head } : {}),
  };
  if (ids.some((id) => SEQ2SEQ_GRADIENT_METHODS.includes(id))) {
    const length = S + (plan.row === null ? labels.length : plan.row + 1);
    if (imported) gradientRefusal = GRADIENT_REFUSED_ONNX;
    else if (!inspector.seq2seqGradients)
      gradientRefusal =
        'Gradient methods run where the model runs in the extension host or the CLI, not in the panel’s WebGPU worker: set attentionLens.backend to native or wasm.';
    else if (length > GRADIENT_MAX_TOKENS)
      gradientRefusal = `Gradient methods run on at most ${GRADIENT_MAX_TOKENS} source + target tokens (memory grows with the square of the length); this has ${length}: select a shorter source or explain an earlier target position.`;
    else {
      const served = inspector.seq2seqGradients.bind(inspector);
      // Saliency and gradient × input ask the same gradient: one pass serves both (requests are kept by content);
      // beside Integrated Gradients it is the α = 1 row of IG's batched path (integratedGradientsRequest), so one
      // gradient graph serves the three.
      const asked = new Map<string, ReturnType<Seq2SeqGradientComputer['compute']>>();
      const once: Seq2SeqGradientComputer['compute'] = (req) => {
        const key = JSON.stringify(req);
        let reply = asked.get(key);
        if (!reply) asked.set(key, (reply = served(req, { signal })));
        return reply;
      };
      const withIg = ids.includes('integrated-gradients');
      gradients = {
        compute: async (req) =>
          withIg && !req.alphas && !req.attention && !req.rules
            ? inputGradients(await once(integratedGradientsRequest(gradRequest, gradOptions)), options.steps ?? 32)
            : once(req),
      };
      // That shared pass, run before the methods so that the timings name it (not the first method that reads it).
      if (withIg && (ids.includes('saliency') || ids.includes('grad-x-input'))) {
        const tGrad = performance.now();
        await gradients.compute(gradRequest);
        gradientMs = performance.now() - tGrad;
      }
      methodNotes.push(
        'Gradient methods: gradients of the target w.r.t. the source token embeddings (the target tokens kept as they are) and, for attention × gradient, w.r.t. a decoder layer’s cross-attention, computed by onnxruntime in float32 through backward graphs built from the encoder–decoder’s own graphs; gradient × input, Integrated Gradients and attention × gradient are signed (negative: the token lowers the target).',
      );
    }
  }

  // Context mixing (ALTI+, value zeroing through cross-attention): the worker's mixing graphs, over the decoder rows
  // up to the explained one (the decoder is causal: later rows change nothing before them).
  const mixRows = plan.row === null ? labels.length : plan.row + 1;
  const mixingRefusal = imported
    ? 'Context mixing (ALTI+, value zeroing) reads the value vectors of graphs this project builds; an imported ONNX export does not say which tensors they are: load the model’s Hugging Face folder instead, or use an attention or perturbation method.'
    : inspector.seq2seqMixing
      ? undefined
      : 'Context mixing runs where the model runs in the extension host or the CLI, not in the panel’s WebGPU worker: set attentionLens.backend to native or wasm.';
  const mixingRows = new Map<string, number>(); // value zeroing: model rows run

  const mixingScores = async (id: string): Promise<Float64Array> => {
    if (mixingRefusal || !inspector.seq2seqMixing) throw new RangeError(mixingRefusal);
    const decoderLayers = facts.encoderDecoder?.decoderLayers ?? 0;
    if (id === 'value-zeroing' && options.layer !== undefined)
      if (!Number.isInteger(options.layer) || options.layer < 0 || options.layer >= decoderLayers)
        throw new RangeError(`decoder layer ${options.layer} is outside 0..${decoderLayers - 1}`);
    const r = await inspector.seq2seqMixing(
      {
        sourceIds: tokens.map((t) => t.id),
        decoderInputIds: side.decoderInput.slice(0, mixRows).map((t) => t.id),
        method: id as Seq2SeqMixingMethod,
        ...(id === 'value-zeroing' && options.layer !== undefined ? { layer: options.layer } : {}),
      },
      { signal },
    );
    const scores = weightedRows(r.source, mixRows, S, plan.rows.slice(0, mixRows)); // [S]
    if (id === 'value-zeroing') mixingRows.set(id, r.rows);
    else {
      const share = scores.reduce((a, b) => a + b, 0);
      methodNotes.push(
        `ALTI+ (Ferrando et al. 2022): ${(share * 100).toFixed(1)} % of the explained rows' contributions come from the source tokens (the encoder's ALTI rollout through each decoder layer's cross-attention); the rest from the decoder's own inputs, the target prefix.`,
      );
    }
    return scores;
  };

  const methods = await runMethods(
    [...ids, BASELINE_ID],
    async (id) => {
      if (SEQ2SEQ_MIXING_METHODS.includes(id)) return mixingScores(id);
      if (!SEQ2SEQ_GRADIENT_METHODS.includes(id)) return computeImportance(id, ctx);
      if (!gradients) throw new RangeError(gradientRefusal);
      const a = await seq2seqGradientAttribution(gradients, gradRequest, id as Seq2SeqGradientMethod, gradOptions);
      if (a.note) methodNotes.push(a.note);
      return a.source; // [S]
    },
    evaluator.stats,
    onProgress,
  );
  for (const m of methods) if (mixingRows.has(m.id)) m.rows = mixingRows.get(m.id);

  const tables = await evaluationTables(methods, evaluator.evaluate, { ...options, candidates, signal }, onProgress);
  const { faithfulness, erasure } = tables;
  const tEnd = tables.end;

  const text = (id: number) => (tokenizer?.target ?? tokenizer)?.idToToken(id) ?? `#${id}`;
  const result: Omit<ExplainResult, 'notes'> = {
    model: resultModel(facts, inspector.backend),
    tokens,
    target: {
      spec: plan.spec,
      kind: plan.kind,
      measure: plan.measure,
      label: seq2seqTargetLabel(plan, labels, text),
      readout: null,
      value,
    },
    perturbation: mode,
    candidates,
    methods,
    agreement: agreementTable(methods, candidates, options.topK),
    distance: distanceTable(methods, candidates),
    faithfulness,
    erasure,
    // The encoder's heads (over the source tokens, like every score here).
    heads: options.headStats === false ? [] : headTable(attention.encoder, tokens),
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
    seq2seq: {
      targetTokens: labels,
      decoderInput: side.decoderInput,
      logprobs: side.logprobs,
      mode: side.mode,
      row: plan.row,
    },
  };
  if (prepared.truncatedFrom !== undefined) result.truncatedFrom = prepared.truncatedFrom;
  if (plan.token !== undefined) result.target.token = { id: plan.token, text: text(plan.token) };
  if (plan.contrast !== undefined) result.target.contrast = { id: plan.contrast, text: text(plan.contrast) };
  // Which cross-attention heads agree with the reference method, for the explained target rows.
  const sweepId =
    options.sweepReference === false
      ? undefined
      : (options.sweepReference ?? (ids.includes('loo') ? 'loo' : undefined));
  const sweepRef = methods.find((m) => m.id === sweepId && m.scores.length === S);
  if (sweepRef) result.headSweep = headSweep(attention.cross, sweepRef, candidates, plan.row ?? 0, plan.rows);
  if (options.words !== undefined)
    result.words = wordScores(
      tokens,
      candidates,
      methods,
      options.words,
      typeof input === 'string' ? input : options.sourceText,
    );
  const notes = [
    ...explanationNotes(result, { causal: false, modelType: facts.modelType }),
    ...seq2seqNotes(result),
    ...methodNotes,
    ...(kept !== null ? [keptTokenNote(kept, tokens, false)] : []),
  ];
  return { ...result, notes };
}

/** What a reader of an encoder–decoder explanation must know. */
function seq2seqNotes(r: Omit<ExplainResult, 'notes'>): string[] {
  const notes = [
    `Scores are over the ${r.tokens.length} source tokens; the target (${r.seq2seq!.mode === 'translated' ? "the model's greedy translation" : 'the target tokens given'}) stays fixed: a perturbed source re-runs the encoder, then the decoder teacher-forced on the same target tokens.`,
    'The recency baseline ranks later source tokens higher (score = source position); on a translation it has no special meaning, and is kept as a model-free bar.',
  ];
  const rollout = r.methods.find((m) => m.id === 'cross-rollout' && m.scores.length > 0);
  if (rollout) {
    const share = rollout.scores.reduce((a, b) => a + b, 0);
    notes.push(
      `Encoder–decoder rollout: ${(share * 100).toFixed(1)} % of the explained rows' rollout reaches the source through cross-attention; the rest stays with the decoder's own inputs (residuals counted as half of each sublayer, as in Abnar & Zuidema).`,
    );
  }
  if (r.methods.some((m) => m.id === 'cross-attention' && m.scores.length > 0))
    notes.push(
      r.seq2seq!.row === null
        ? 'Raw cross-attention of the whole target is the mean of its rows (every target token alike).'
        : `Raw cross-attention is row ${r.seq2seq!.row} of the chosen decoder layer: the decoder reading ${JSON.stringify(r.seq2seq!.decoderInput[r.seq2seq!.row].text)} while predicting ${JSON.stringify(r.seq2seq!.targetTokens[r.seq2seq!.row].text)}.`,
    );
  return notes;
}
