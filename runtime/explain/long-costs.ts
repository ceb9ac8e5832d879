// What each Explain method would cost on a run kept for long inputs (issue 15: analyses "state their cost at this
// length and either run or refuse with what to do"), in one line a user can act on. A kept run holds q and k, not
// the maps, so what runs there is what reads rows (raw attention, rollout: explain-kept.ts) or the per-head
// summaries (the head statistics: kept-head-stats.ts). The rest would hold every layer's maps, run the model once per
// token, or backpropagate through every map; the line says which, how much (bytes, model passes over n tokens and,
// when a pass over this input was timed, the time), and what to do instead: fewer tokens, or the maps written by the
// CLI (`attention-lens run --out FOLDER/`, one NPY per layer, streamed) for the methods that need only maps.
import { getMethod } from '../analysis/registry';
import { longestMapsRun, mapsBytes } from '../inspector/long-runs';
import type { ModelFacts } from '../types';

type Facts = Pick<ModelFacts, 'layers' | 'heads' | 'hidden'>;

export interface LongCostContext {
  /** Tokens of the run. */
  n: number;
  /** Tokens a perturbation may remove (default n). */
  candidates?: number;
  /** One model pass over the n tokens, measured (the kept run's own time): turns passes into a time. */
  passMs?: number;
  /** Integrated Gradients' steps (default 32). */
  steps?: number;
}

export interface LongCost {
  /** "runs the model once per candidate token: 3,999 passes over 4,000 tokens". */
  what: string;
  bytes?: number;
  passes?: number;
  /** passes × passMs, when passMs is known. */
  seconds?: number;
  /** The method reads only every layer's maps: `run --out FOLDER/` writes what it needs. */
  mapsOnly: boolean;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** "2,304", "2.5 T". */
function countText(x: number): string {
  return x >= 1e12 ? `${(x / 1e12).toFixed(1)} T` : x >= 1e9 ? `${(x / 1e9).toFixed(1)} G` : fmt(x);
}

/** "17.3 GB", "840 MB". */
export function bytesText(b: number): string {
  return b >= 1e9 ? `${(b / 1e9).toFixed(1)} GB` : `${Math.max(1, Math.round(b / 1e6))} MB`;
}

/** "about 40 s", "about 3.2 h", "about 12 days". */
export function durationText(s: number): string {
  if (s < 90) return `about ${Math.max(1, Math.round(s))} s`;
  if (s < 5400) return `about ${Math.round(s / 60)} min`;
  if (s < 3 * 86400) return `about ${(s / 3600).toFixed(1)} h`;
  return `about ${fmt(s / 86400)} days`;
}

/** "0.83 s", "4.2 s", "300 s". */
function passText(ms: number): string {
  const s = ms / 1000;
  return s < 1 ? `${s.toFixed(2)} s` : s < 10 ? `${s.toFixed(1)} s` : `${fmt(s)} s`;
}

/** The cost of method `id` at n tokens (the methods that do not run on a kept run). */
export function longCost(facts: Facts, id: string, ctx: LongCostContext): LongCost {
  const { n } = ctx;
  const maps = mapsBytes(facts, n); // [layers, heads, n, n] float32
  const c = ctx.candidates ?? n;
  const passes = (p: number, what: string, bytes?: number, mapsOnly = false): LongCost => ({
    what: `${what}: ${fmt(p)} pass${p === 1 ? '' : 'es'} over ${fmt(n)} tokens`,
    passes: p,
    ...(ctx.passMs !== undefined ? { seconds: (p * ctx.passMs) / 1000 } : {}),
    ...(bytes !== undefined ? { bytes } : {}),
    mapsOnly,
  });
  const kind = getMethod(id)?.kind;
  switch (id) {
    case 'loo':
      return passes(c, 'runs the model once per candidate token');
    case 'occlusion':
      return passes(c, 'runs the model once per window of candidate tokens');
    case 'value-zeroing':
      return passes(1 + n, 'runs the model once per token with its values zeroed', maps);
    case 'value-zeroing-rollout':
      return passes(1 + facts.layers * n, 'runs the model once per layer and token with its values zeroed', maps);
    case 'alti': {
      const vectors = facts.layers * n * facts.heads * facts.hidden * 4; // [seq, heads, hidden] per layer
      return {
        what: `holds every layer's maps and per-head value vectors and does ${countText(facts.layers * n * n * facts.heads * facts.hidden)} multiply-adds`,
        bytes: maps + vectors,
        mapsOnly: false,
      };
    }
    case 'norm':
    case 'norm-rollout':
      return { what: "holds every layer's maps and value norms", bytes: 2 * maps, mapsOnly: false };
    case 'flow':
      return {
        what: `holds every layer's maps and solves a max-flow over ${fmt(facts.layers * n)} nodes and ${fmt(facts.layers * n * n)} edges`,
        bytes: maps,
        mapsOnly: true,
      };
    case 'integrated-gradients': {
      const steps = ctx.steps ?? 32;
      return {
        ...passes(steps + 1, "backpropagates through every layer's maps at each point of the path"),
        bytes: 2 * maps,
      };
    }
    default:
      if (kind === 'gradient')
        return { ...passes(1, "backpropagates through every layer's maps"), bytes: 2 * maps, mapsOnly: false };
      return { what: "holds every layer's maps", bytes: maps, mapsOnly: kind === 'attention' };
  }
}

/** Why method `id` does not run on a kept run of `n` tokens, its cost there and what to do, in one line. */
export function keptMethodRefusal(facts: Facts, id: string, n: number, ctx: Omit<LongCostContext, 'n'> = {}): string {
  const label = getMethod(id)?.label ?? id;
  const cost = longCost(facts, id, { ...ctx, n });
  const amounts = [
    ...(cost.bytes !== undefined ? [bytesText(cost.bytes)] : []),
    ...(cost.seconds !== undefined ? [`${durationText(cost.seconds)} at ${passText(ctx.passMs!)} a pass`] : []),
  ];
  const most = longestMapsRun(facts);
  const elsewhere = cost.mapsOnly
    ? `, or write the maps with \`attention-lens run --out FOLDER/\` (one NPY per layer, ${bytesText(mapsBytes(facts, n))}) and compute it from them`
    : '';
  return (
    `${label} does not run on ${fmt(n)} tokens kept for long inputs: it ${cost.what}` +
    `${amounts.length ? ` (${amounts.join(', ')})` : ''}; ${n <= most ? 'run with the maps (--long auto or maps) for it' : `select at most ${fmt(most)} tokens for it${elsewhere}`}. ` +
    'Raw attention, rollout and the head statistics run here.'
  );
}
