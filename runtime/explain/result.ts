// The data of one explanation, shaped for every consumer: the CLI prints it, `--out` writes it as JSON (NaN as null),
// a study aggregates many, and the webview's Explain view will draw it (a token strip per method, the comparison
// tables, the erasure curves, the head table). Plain numbers and arrays only, so it crosses threads and JSON as is.
import type { Token } from '../types';
import type { TargetMeasure } from '../analysis/targets';
import type { MethodKind } from '../analysis/method-kind';
import type { Perturbation } from './perturb';
import type { WordScores } from './words';
import type { HeadSweep } from './head-sweep';

export interface ExplainTarget {
  /** The spec as given (next, mask@3, similarity:…). */
  spec: string;
  kind: 'next' | 'token' | 'mask' | 'similarity' | 'contrast' | 'target';
  measure: TargetMeasure;
  /** One line: what is measured, of which token, where. */
  label: string;
  /** Position the target is read at; null for a pooled target (similarity). */
  readout: number | null;
  /** The explained token (log-prob / prob targets; contrast: A). */
  token?: { id: number; text: string };
  /** contrast: the token B whose log-probability is subtracted (value = log p(A) − log p(B)). */
  contrast?: { id: number; text: string };
  /** similarity: the reference text. */
  reference?: string;
  /** The target on the unperturbed input. */
  value: number;
}

export interface MethodScores {
  id: string;
  label: string;
  kind: MethodKind;
  /** [seq]: one score per token; higher = more important. Empty when the method failed (see error). */
  scores: number[];
  /** Wall time, ms (perturbation methods: including their model passes). */
  ms: number;
  /** Model rows the method asked for (perturbation methods), before the cache. */
  rows?: number;
  /** Why the method gave no scores (e.g. flow over too many tokens). */
  error?: string;
}

export interface AgreementRow {
  a: string;
  b: string;
  /** Kendall τ-b over the candidate tokens (NaN when either vector is constant). */
  kendall: number;
  /** Spearman ρ over the candidate tokens. */
  spearman: number;
  /** |top-k(a) ∩ top-k(b)| / k over the candidate tokens. */
  topK: number;
  k: number;
  /** Pairs with the random baseline: each metric's spread over the random orders (the values above are the means). */
  spread?: Record<'kendall' | 'spearman' | 'topK', SampleSpread>;
}

/** The spread of a metric over seeded random orders: sample standard deviation and the 2.5th–97.5th percentiles. */
export interface SampleSpread {
  sd: number;
  lo: number;
  hi: number;
}

export interface DistanceRow {
  a: string;
  b: string;
  /** Jensen–Shannon divergence in bits (0..1) of the scores normalised over the candidate tokens. */
  jsd: number;
  /** Total variation distance (0..1). */
  tvd: number;
}

export interface FaithfulnessRow {
  method: string;
  /** f(x), every token kept. */
  full: number;
  bins: { percent: number; k: number; comprehensiveness: number; sufficiency: number }[];
  aopcComprehensiveness: number;
  aopcSufficiency: number;
}

export interface ErasureRow {
  method: string;
  /** Candidates erased at each point, most important first. */
  erased: number[];
  fraction: number[];
  value: number[];
  /** Mean drop f(x) − v along the curve (higher: falls earlier). */
  area: number;
}

export interface HeadRow {
  layer: number;
  /** Head index, or -1 for the uniform-attention baseline row of the layer. */
  head: number;
  /** Mean row entropy, nats. */
  entropy: number;
  specialShare: number;
  punctuationShare: number;
  previousToken: number;
  /** Mean attended distance, tokens. */
  meanDistance: number;
  /** Mean JS divergence (bits) of the rows from uniform attention. */
  jsdUniform: number;
}

export interface ExplainTimings {
  totalMs: number;
  /** The unperturbed pass with attention (and value norms). */
  mainPassMs: number;
  /** Gradient methods: the gradient pass at the input (the first one builds the gradient graph and its session). */
  gradientMs?: number;
  faithfulnessMs: number;
  erasureMs: number;
  /** Rows run through the model by perturbations (after the cache), in how many batched calls, taking how long. */
  rows: number;
  batches: number;
  forwardMs: number;
}

/** The target side of an encoder–decoder explanation. */
export interface Seq2SeqExplainTarget {
  /** The target tokens y (labels): the greedy translation, or the given target text's tokens. */
  targetTokens: Token[];
  /** What the decoder read at each row: [decoder start] + y[:-1]. */
  decoderInput: Token[];
  /** log p(y_i | source, y_<i) per row, unperturbed. */
  logprobs: number[];
  mode: 'teacher-forced' | 'translated';
  /** The explained target row (0-based), or null for the whole target. */
  row: number | null;
}

/** The result's model line, from the facts every model reports and the backend it ran on. */
export function resultModel(
  facts: Pick<ExplainResult['model'], 'name' | 'family' | 'modelType' | 'layers' | 'heads'>,
  backend: string,
): ExplainResult['model'] {
  const { name, family, modelType, layers, heads } = facts;
  return { name, family, modelType, layers, heads, backend };
}

export interface ExplainResult {
  model: { name: string; family: string; modelType: string; layers: number; heads: number; backend: string };
  tokens: Token[];
  /** Set when the input was cut to the length limit: its length before. */
  truncatedFrom?: number;
  target: ExplainTarget;
  perturbation: Perturbation;
  /** [seq]: tokens perturbation methods remove and rank (not special tokens, not the target's own [MASK]). */
  candidates: boolean[];
  /** Every method asked for, then the uniform baseline (id 'uniform'). */
  methods: MethodScores[];
  /** Every pair of methods that gave scores; pairs with the baseline: the mean over random orders (chance level).
   * Then each method that is not a baseline against the recency baseline (score = position) and the random one (the
   * mean over seeded random orders, with its spread). */
  agreement: AgreementRow[];
  /** Pairs among methods whose scores are distributions (attention, norm, baseline). */
  distance: DistanceRow[];
  /** Per method; the baseline row 'uniform' is the mean over random orders of the candidates. */
  faithfulness: FaithfulnessRow[];
  erasure: ErasureRow[];
  /** Per layer: every head, then the uniform baseline (head −1). */
  heads: HeadRow[];
  /** With the words option: the tokens grouped into words and every method's scores summed or maxed per word. */
  words?: WordScores;
  /** Every head's attention ranked against a reference method (default leave-one-out, when it ran). */
  headSweep?: HeadSweep;
  timings: ExplainTimings;
  /** Encoder–decoders: `tokens` are the source's (every method scores source tokens); this is the target side. */
  seq2seq?: Seq2SeqExplainTarget;
  /** What a reader must know to read the numbers right (notes.ts): AOPC's definition, bins that are one
   * measurement, unbounded log-probability targets, flow's renormalisation, hide = remove. */
  notes: string[];
}

/** JSON text of a result (NaN and ±Infinity become null). */
export function resultToJson(result: unknown, indent?: number): string {
  return JSON.stringify(result, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), indent);
}
