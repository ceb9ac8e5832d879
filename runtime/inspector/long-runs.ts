// When a run is kept for long inputs instead of streaming its maps, and the hard cap on input length. Measured
// (ARCHITECTURE.md "Long inputs"; bench/long-layer.ts, bench/long-inputs.ts): every map costs layers × heads × n² × 4
// bytes, which for SmolLM2-135M passes 1 GB at about 1,000 tokens, where the dense run's peak RSS was 3.6–8 GB; below
// that the summaries variant costs time (1.5× per layer without the arena at 512 tokens) and buys nothing. So a run is
// kept when its maps would exceed KEPT_ABOVE_BYTES, or when the caller asks for it.
import type { ModelFacts } from '../types';

/** Bytes of [layers, heads, n, n] float32 maps above which 'auto' keeps the run (1 GiB). */
export const KEPT_ABOVE_BYTES = 2 ** 30;

/** The longest input any run takes, whatever the model allows (the kept run at 8,192 tokens is what was measured). */
export const MAX_INPUT_TOKENS = 8192;

/** Keys per query the worker keeps of a long run (top-k summaries): the top key and its weight, which each row's
 * log-sum-exp is read from. Every other weight is exact on demand from q and k (a row, a column, a window), and no
 * view or analysis reads more of the top keys (the overview omits them), while the top 8 cost a heap selection over
 * every entry of every block: SmolLM2 at 512 tokens, CPU 1.27× → 1.13× raw for the layer stages (bench/kept-path.ts;
 * onnxruntime's TopK with k = 1 is one comparison per entry). */
export const KEPT_TOP_K = 1;

/** How a run's attention is delivered: 'maps' streams every layer's [heads, n, n] (the default), 'kept' keeps q, k
 * and the summaries in the worker (LayerResult.overview, AttentionRun.kept), 'auto' keeps when the maps would
 * exceed KEPT_ABOVE_BYTES. */
export type LongRunChoice = 'maps' | 'kept' | 'auto';

/** Bytes of every layer's maps at `n` tokens. */
export function mapsBytes(facts: Pick<ModelFacts, 'layers' | 'heads'>, n: number): number {
  return facts.layers * facts.heads * n * n * 4;
}

/** Whether a run of `n` tokens is kept. */
export function keepsRun(choice: LongRunChoice, facts: Pick<ModelFacts, 'layers' | 'heads'>, n: number): boolean {
  return choice === 'kept' || (choice === 'auto' && mapsBytes(facts, n) > KEPT_ABOVE_BYTES);
}

/** The longest input whose every map stays under the kept-run threshold (1 GiB), for the messages below. */
export function longestMapsRun(facts: Pick<ModelFacts, 'layers' | 'heads'>): number {
  return Math.floor(Math.sqrt(KEPT_ABOVE_BYTES / (facts.layers * facts.heads * 4)));
}

/** What Explain does on a kept run (runtime/explain/explain-kept.ts: raw attention and rollout from q and k, the head
 * statistics from the summaries) and what refuses there (comparisons, flow, norms, mixing, perturbation and gradient
 * methods, faithfulness; each method's own cost: runtime/explain/long-costs.ts). */
export function longExplainMessage(facts: Pick<ModelFacts, 'layers' | 'heads'>, tokens: number): string {
  const gb = (mapsBytes(facts, tokens) / 1e9).toFixed(1);
  return `Over ${tokens} tokens (kept for long inputs) Explain runs raw attention, rollout and the head statistics from what the run kept; comparisons, flow, norms, ALTI, value zeroing, the perturbation and gradient methods and faithfulness would hold every layer's maps (${gb} GB) or run a model pass per token: select at most ${longestMapsRun(facts)} tokens for them (each method's cost at this length is in its note).`;
}
