// A small hand-made explanation (what runtime/explain/explain.ts returns) for the Explain view's and the protocol's
// unit tests: 4 tokens ([CLS] a <b> [SEP]), methods rollout, loo, a failed flow and the uniform baseline.
import type { ExplainResult } from '../../runtime/explain/result';

/** A small explanation: 4 tokens ([CLS] a <b> [SEP]), methods a (attention), b (perturbation), c (failed), uniform. */
export function fixtureResult(): ExplainResult {
  const tok = (id: number, text: string, special: boolean) => ({ id, text, start: null, end: null, special });
  const bins = (c: number[], s: number[]) =>
    [1, 5, 10, 20, 50].map((percent, i) => ({ percent, k: 1, comprehensiveness: c[i], sufficiency: s[i] }));
  return {
    model: { name: 'tiny', family: 'bert', modelType: 'bert', layers: 2, heads: 2, backend: 'native' },
    tokens: [tok(101, '[CLS]', true), tok(7, 'a', false), tok(8, '<b>', false), tok(102, '[SEP]', true)],
    target: { spec: 'similarity:x', kind: 'similarity', measure: 'cosine', label: 'cos(x)', readout: null, value: 0.9 },
    perturbation: 'remove',
    candidates: [false, true, true, false],
    methods: [
      { id: 'rollout', label: 'Attention rollout', kind: 'attention', scores: [0.5, 0.2, 0.1, 0.2], ms: 1 },
      { id: 'loo', label: 'Leave-one-out', kind: 'perturbation', scores: [0, -0.1, 0.4, 0], ms: 3, rows: 3 },
      { id: 'flow', label: 'Attention flow', kind: 'attention', scores: [], ms: 0, error: 'too many tokens' },
      {
        id: 'uniform',
        label: 'Uniform attention (baseline)',
        kind: 'baseline',
        scores: [0.25, 0.25, 0.25, 0.25],
        ms: 0,
      },
    ],
    agreement: [
      { a: 'rollout', b: 'loo', kendall: -1, spearman: -1, topK: 0.5, k: 2 },
      { a: 'rollout', b: 'uniform', kendall: 0.1, spearman: 0.2, topK: 1, k: 2 },
      { a: 'loo', b: 'uniform', kendall: NaN, spearman: 0.3, topK: 1, k: 2 },
    ],
    distance: [{ a: 'rollout', b: 'uniform', jsd: 0.1, tvd: 0.2 }],
    faithfulness: [
      {
        method: 'rollout',
        full: 0.9,
        bins: bins([0.1, 0.1, 0.2, 0.3, 0.5], [0.4, 0.4, 0.3, 0.2, 0.1]),
        aopcComprehensiveness: 0.24,
        aopcSufficiency: 0.28,
      },
      {
        method: 'loo',
        full: 0.9,
        bins: bins([0.3, 0.3, 0.3, 0.6, NaN], [0.2, 0.2, 0.2, 0.1, 0]),
        aopcComprehensiveness: 0.375,
        aopcSufficiency: 0.14,
      },
      {
        method: 'uniform',
        full: 0.9,
        bins: bins([0, 0, 0.1, 0.1, 0.2], [0.5, 0.5, 0.4, 0.4, 0.3]),
        aopcComprehensiveness: 0.08,
        aopcSufficiency: 0.42,
      },
    ],
    erasure: [],
    heads: [],
    timings: { totalMs: 10, mainPassMs: 2, faithfulnessMs: 3, erasureMs: 1, rows: 12, batches: 2, forwardMs: 4 },
    notes: ['A note for the <reader> & its view.'],
  };
}
