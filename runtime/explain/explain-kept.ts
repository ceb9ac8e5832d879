// Explain on a run kept for long inputs (no map held anywhere: runtime/inspector/long-runs.ts): the methods that read
// only rows of attention run from the kept q and k where the model runs — raw attention (the target row of the last
// layer, head mean) and attention rollout for the target's row (a chain of vector–matrix products, its cost stated
// and refused above its limit: runtime/attention/kept-rollout.ts) — with the uniform baseline and their agreement,
// and the head statistics from the layers' summaries (kept-head-stats.ts). Every other method says in one line why
// it does not run at this length, what it would cost there and what to do (long-costs.ts). The target's value is
// not computed (it would need a forward pass over the whole input), so it is not shown. A signal cancels it between
// requests, and a request in flight is then no longer waited for (where the model runs it cannot be stopped: its
// answer is dropped).
import type { KeptAttention } from '../inspector/api';
import { longestMapsRun } from '../inspector/long-runs';
import { rolloutCostOf } from '../inspector/kept-runs';
import { rolloutCostText, ROLLOUT_MAX_SECONDS } from '../attention/kept-rollout';
import { uniformRow } from '../analysis/distance';
import { getMethod } from '../analysis/registry';
import { cancelled, isLensError, LensError } from '../errors';
import type { ModelFacts, Token } from '../types';
import type { Tokenizer } from '../tokenizers/tokenizer';
import { agreementTable, distanceTable } from './compare';
import { candidateMask, checkLayerOptions, DEFAULT_METHODS, resolveMethods } from './explain';
import { resultModel, type ExplainResult, type MethodScores } from './result';
import { keptHeadTable } from './kept-head-stats';
import { keptMethodRefusal } from './long-costs';

export { keptMethodRefusal };
import { planTarget } from './target';
import { parseTargetSpec, resolveGenerated, type TargetSpec } from './target-spec';

/** Methods that run on a kept run. */
export const KEPT_METHODS: readonly string[] = ['raw-attention', 'rollout'];

export interface KeptExplainOptions {
  target: string | TargetSpec;
  methods?: readonly string[];
  promptLength?: number;
  /** Before each method: its id and, in words, what it costs ("about 12 s (30 layers over 4,000 tokens)"). */
  onProgress?: (p: { phase: string; cost: string }) => void;
  /** The kept run's own time (one model pass over the input): the refusals turn model passes into a time. */
  passMs?: number;
  /** false: no head statistics (CLI --no-head-stats). */
  headStats?: boolean;
  /** Raw attention's layer (default the last) and head (a number, or the 'mean' / 'max' of the heads; default mean). */
  layer?: number;
  head?: number | 'mean' | 'max';
  /** Rollout's first layer (default 0) and how it pools heads (only 'mean' on a kept run: its rows are recomputed as
   * the head mean). */
  startLayer?: number;
  headReduce?: 'mean' | 'max';
  /** Cancels the explanation (CANCELLED): no request is made after it aborts, the one in flight is not waited for. */
  signal?: AbortSignal;
}

/** One request to where the model runs, asked only while `signal` has not aborted; rejects with the cancelled error as
 *  soon as it aborts (the answer, when it comes, is dropped). */
function request<T>(signal: AbortSignal | undefined, ask: () => Promise<T>): Promise<T> {
  if (!signal) return ask();
  if (signal.aborted) return Promise.reject(cancelled());
  const answer = ask();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelled());
    signal.addEventListener('abort', onAbort, { once: true });
    answer.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** The target's plan on a kept run, or the one-line refusal of a target that reads every token (a similarity): so
 * that a caller can check it before the run (the CLI), as explainKept does after. */
export function keptTargetPlan(
  model: { facts: ModelFacts; tokenizer: Tokenizer | undefined },
  tokens: readonly Token[],
  options: Pick<KeptExplainOptions, 'target' | 'promptLength'>,
): ReturnType<typeof planTarget> {
  const parsed = typeof options.target === 'string' ? parseTargetSpec(options.target) : options.target;
  const ids = tokens.map((t) => t.id);
  const plan = planTarget(resolveGenerated(parsed, ids, options.promptLength), tokens, model.facts, model.tokenizer);
  if (plan.readout === null)
    throw new LensError(
      'TOO_LONG',
      `The target ${plan.spec} reads every token; on a run of ${tokens.length} tokens kept for long inputs Explain needs one target token (next, token:POS, mask@POS), or select at most ${longestMapsRun(model.facts)} tokens.`,
    );
  return plan;
}

/** Raw attention's layer and head and rollout's first layer, defaulted, after checkLayerOptions (one line naming the
 * option outside the model): so that a caller can check them before the run (the CLI), as explainKept does after. */
export function keptMethodOptions(
  facts: ModelFacts,
  options: Pick<KeptExplainOptions, 'layer' | 'head' | 'startLayer'>,
): { layer: number; head: number | 'mean' | 'max'; startLayer: number } {
  checkLayerOptions(facts, options, facts.layers);
  return {
    layer: options.layer ?? facts.layers - 1,
    head: options.head ?? 'mean',
    startLayer: options.startLayer ?? 0,
  };
}

export async function explainKept(
  model: { facts: ModelFacts; backend: string; tokenizer: Tokenizer | undefined },
  tokens: readonly Token[],
  kept: KeptAttention,
  options: KeptExplainOptions,
): Promise<ExplainResult> {
  const t0 = performance.now();
  const { facts, tokenizer } = model;
  const n = tokens.length;
  const methodIds = resolveMethods(options.methods ?? DEFAULT_METHODS);
  const plan = keptTargetPlan(model, tokens, options);
  const ids = tokens.map((t) => t.id);
  const readout = plan.readout!;
  const causal = facts.attentionKinds.some((k) => k === 'causal');
  const candidates = candidateMask(tokens, plan.protect, causal ? readout : null, false);
  const { layer, head, startLayer } = keptMethodOptions(facts, options);
  const { signal } = options;
  const methods: MethodScores[] = [];
  for (const id of methodIds) {
    if (signal?.aborted) throw cancelled();
    const m = getMethod(id)!;
    const entry: MethodScores = { id, label: m.label, kind: m.kind, scores: [], ms: 0 };
    const t = performance.now();
    if (!KEPT_METHODS.includes(id))
      entry.error = keptMethodRefusal(facts, id, n, {
        candidates: candidates.filter(Boolean).length,
        ...(options.passMs !== undefined ? { passMs: options.passMs } : {}),
      });
    else
      try {
        const cost =
          id === 'rollout'
            ? rolloutCostText(rolloutCostOf(facts, n, readout))
            : `${facts.heads} rows of ${n.toLocaleString('en-US')} keys`;
        options.onProgress?.({ phase: id, cost });
        if (id === 'raw-attention') {
          // The target's row of the chosen layer, one head or the mean / max of the heads, exact from q and k.
          if (typeof head === 'number')
            entry.scores = Array.from(await request(signal, () => kept.row(layer, head, readout)));
          else {
            const scores = new Float64Array(n).fill(head === 'max' ? -Infinity : 0); // [seq]
            for (let h = 0; h < facts.heads; h++) {
              const row = await request(signal, () => kept.row(layer, h, readout));
              for (let j = 0; j < n; j++)
                scores[j] = head === 'max' ? Math.max(scores[j], row[j]) : scores[j] + row[j] / facts.heads;
            }
            entry.scores = Array.from(scores);
          }
        } else if (options.headReduce === 'max')
          entry.error = `Rollout with the max of the heads does not run on a run kept for long inputs (its rows are recomputed from q and k as the head mean): leave --head-reduce out, or select at most ${longestMapsRun(facts)} tokens.`;
        else entry.scores = Array.from(await request(signal, () => kept.rollout(readout, startLayer, signal)));
      } catch (e) {
        if (!isLensError(e) || e.code !== 'TOO_LONG') throw e;
        entry.error = e.message;
      }
    entry.ms = performance.now() - t;
    methods.push(entry);
  }
  methods.push({
    id: 'uniform',
    label: getMethod('uniform')!.label,
    kind: 'baseline',
    scores: Array.from(uniformRow(n, readout, causal)),
    ms: 0,
  });
  const text = (id: number) => tokenizer?.idToToken(id) ?? `#${id}`;
  const cost = rolloutCostOf(facts, n, readout);
  const result: ExplainResult = {
    model: resultModel(facts, model.backend),
    tokens: [...tokens],
    target: {
      spec: plan.spec,
      kind: plan.parsed.kind as ExplainResult['target']['kind'],
      measure: plan.measure,
      label: `the attention to position ${readout} (${JSON.stringify(text(ids[readout]))}), where ${plan.spec} is read; its value is not computed on a kept run`,
      readout,
      ...(plan.token !== undefined ? { token: { id: plan.token, text: text(plan.token) } } : {}),
      value: NaN,
    },
    perturbation: 'remove',
    candidates,
    methods,
    agreement: agreementTable(methods, candidates),
    distance: distanceTable(methods, candidates),
    faithfulness: [],
    erasure: [],
    heads:
      options.headStats === false
        ? []
        : keptHeadTable(
            Array.from({ length: facts.layers }, (_, l) => kept.layer(l)),
            facts.attentionKinds,
            tokens,
          ),
    timings: {
      totalMs: performance.now() - t0,
      mainPassMs: 0,
      faithfulnessMs: 0,
      erasureMs: 0,
      rows: 0,
      batches: 0,
      forwardMs: 0,
    },
    notes: [
      `This run of ${n} tokens is kept for long inputs (q and k, not the maps): raw attention and rollout are computed from them where the model runs; rollout of position ${readout} costs ${rolloutCostText(cost)} and is refused above ${ROLLOUT_MAX_SECONDS} s. The head statistics come from the summaries computed during the run (entropy, special tokens, previous token, distance; punctuation and divergence from uniform are not kept). Faithfulness and erasure need a model pass per token: select at most ${longestMapsRun(facts)} tokens for them.`,
    ],
  };
  return result;
}
