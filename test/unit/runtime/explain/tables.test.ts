// The explain layer's pure pieces with known answers: target spec parsing, perturbed batch rows (remove / hide /
// mask-token and where the readout goes), the agreement / distance / head tables over candidate tokens, batched
// faithfulness and erasure tables (equal to faithfulness() run directly; the baseline = the mean over random
// orders), and the study summary's statistics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { faithfulness } from '../../../../runtime/analysis/faithfulness';
import { isLensError } from '../../../../runtime/errors';
import { formatTargetSpec, parseTargetSpec, resolveGenerated } from '../../../../runtime/explain/target-spec';
import { logSoftmaxAt, measureRow } from '../../../../runtime/analysis/targets';
import { perturbedRow, trimPadding } from '../../../../runtime/explain/perturb';
import { agreementTable, distanceTable, headTable, sampleSpread } from '../../../../runtime/explain/compare';
import { erasureTable, faithfulnessTable } from '../../../../runtime/explain/faithfulness-tables';
import { randomOrderScores, recencyScores } from '../../../../runtime/explain/baseline';
import { kendallTau } from '../../../../runtime/analysis/agreement';
import type { ExplainResult, MethodScores } from '../../../../runtime/explain/result';
import { resultToJson } from '../../../../runtime/explain/result';
import { quantile, spread, summarizeStudy } from '../../../../runtime/explain/summary';
import { headSweep } from '../../../../runtime/explain/head-sweep';
import type { Token } from '../../../../runtime/types';

const near = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('target specs: every form parses, round-trips, and mistakes are one-line BAD_INPUT errors', () => {
  const cases: [string, unknown][] = [
    ['next', { kind: 'next' }],
    ['next: time', { kind: 'next', token: ' time' }],
    ['token:3:42', { kind: 'token', position: 3, id: 42 }],
    ['mask', { kind: 'mask' }],
    ['mask:paris', { kind: 'mask', token: 'paris' }],
    ['mask@4', { kind: 'mask', position: 4 }],
    ['similarity:A cat: on a mat.', { kind: 'similarity', reference: 'A cat: on a mat.' }],
  ];
  for (const [spec, parsed] of cases) {
    assert.deepEqual(parseTargetSpec(spec), parsed, spec);
    assert.equal(formatTargetSpec(parseTargetSpec(spec)), spec);
  }
  for (const bad of ['', 'nxt', 'token:0:5', 'token:2', 'token:a:1', 'mask@x', 'similarity:  ', 'next:']) {
    assert.throws(
      () => parseTargetSpec(bad),
      (e: unknown) => isLensError(e) && e.code === 'BAD_INPUT' && /Targets: next/.test(e.message),
      bad,
    );
  }
});

test('contrast targets: A|B as text or #ID, at the next token, @POS or @generated:N; mistakes are one line', () => {
  const cases: [string, unknown][] = [
    ['contrast: mat| hat', { kind: 'contrast', a: ' mat', b: ' hat' }],
    ['contrast:#12|#7', { kind: 'contrast', a: '#12', b: '#7' }],
    ['contrast:##ing|#', { kind: 'contrast', a: '##ing', b: '#' }],
    ['contrast:a@b|c', { kind: 'contrast', a: 'a@b', b: 'c' }],
    ['contrast:#1|#2@5', { kind: 'contrast', a: '#1', b: '#2', position: 5 }],
    ['contrast: x|y@generated:3', { kind: 'contrast', a: ' x', b: 'y', generated: 3 }],
    // '@' in B that is no position: the token "@", a BPE continuation ending in "@@", text after the '@'.
    ['contrast:a|@', { kind: 'contrast', a: 'a', b: '@' }],
    ['contrast:a|hel@@', { kind: 'contrast', a: 'a', b: 'hel@@' }],
    ['contrast:a|x@y', { kind: 'contrast', a: 'a', b: 'x@y' }],
  ];
  for (const [spec, parsed] of cases) {
    assert.deepEqual(parseTargetSpec(spec), parsed, spec);
    assert.equal(formatTargetSpec(parseTargetSpec(spec)), spec);
  }
  const bad: [string, RegExp][] = [
    ['contrast:a', /write contrast:A\|B/],
    ['contrast:a|b|c', /exactly one "\|"/],
    ['contrast:|b', /give both tokens/],
    ['contrast:a|', /give both tokens/],
    ['contrast:a|a', /A and B are the same token/],
    ['contrast:a|b@0', /POS must be at least 1/],
    ['contrast:a|b@generated:x', /N "x" is not a whole number/],
    ['prob:contrast:a|b', /prob: goes before next, token or generated/],
    // A position that is not a whole number from 1 is refused as a position, not read as part of B's text.
    [
      'contrast:a|b@-1',
      /^Bad target "contrast:a\|b@-1": "@-1" is not a position: write @POS \(a whole number from 1\), @generated:N or @target:POS after B/,
    ],
    ['contrast:a|b@', /^Bad target "contrast:a\|b@": "@" is not a position/],
    ['contrast:a|b@1e309', /"@1e309" is not a position/],
    ['contrast:a|b@1.5', /"@1\.5" is not a position/],
    // A number past 2^53 is quoted as written, not as the float it reads as (100000000000000000000).
    ['contrast:#1|#2@99999999999999999999', /POS 99999999999999999999 is too large/],
    [
      'token:1:99999999999999999999',
      /^Bad target "token:1:99999999999999999999": ID 99999999999999999999 is too large/,
    ],
  ];
  for (const [spec, why] of bad)
    assert.throws(
      () => parseTargetSpec(spec),
      (e: unknown) => isLensError(e) && e.code === 'BAD_INPUT' && why.test(e.message) && !e.message.includes('\n'),
      spec,
    );
  // @generated:N resolves to the N-th generated token's position (prompt 3 tokens + 2 generated: N = 2 is position 4).
  const ids = [1, 2, 3, 4, 5];
  assert.deepEqual(resolveGenerated(parseTargetSpec('contrast:#1|#2@generated:2'), ids, 3), {
    kind: 'contrast',
    a: '#1',
    b: '#2',
    position: 4,
  });
  assert.throws(() => resolveGenerated(parseTargetSpec('contrast:#1|#2@generated:3'), ids, 3), /past the 2 generated/);
  assert.throws(
    () => resolveGenerated(parseTargetSpec('contrast:#1|#2@generated:1'), ids, undefined),
    /after a generation/,
  );
  // The measure: log p(A) − log p(B) is the logits' difference, equal to the difference of log-softmaxes.
  const row = [0.5, -1, 2, 3.25];
  near(
    measureRow(row, 0, 4, 'log-odds', { token: 3, contrast: 1 }),
    logSoftmaxAt(row, 3) - logSoftmaxAt(row, 1),
    1e-12,
  );
  assert.throws(() => measureRow(row, 0, 4, 'log-odds', { token: 3 }), /contrast/);
});

test('perturbed rows: remove shifts left and pads, hide masks in place, mask-token writes [MASK]; readouts follow', () => {
  const ids = [10, 11, 12, 13];
  const keep = [true, false, true, true];
  const base = { readout: 3, causal: false, padId: 0, maskId: 99 };
  assert.deepEqual(perturbedRow(ids, keep, { ...base, mode: 'remove' }), {
    ids: [10, 12, 13, 0],
    mask: [1, 1, 1, 0],
    readout: 2,
    length: 3,
  });
  assert.deepEqual(perturbedRow(ids, keep, { ...base, mode: 'hide' }), {
    ids: [10, 11, 12, 13],
    mask: [1, 0, 1, 1],
    readout: 3,
    length: 3,
  });
  assert.deepEqual(perturbedRow(ids, keep, { ...base, mode: 'mask-token' }), {
    ids: [10, 99, 12, 13],
    mask: [1, 1, 1, 1],
    readout: 3,
    length: 4,
  });
  // A removed readout: causal models read the last kept token before it; encoders have none.
  const noLast = [true, true, false, false];
  assert.equal(perturbedRow(ids, noLast, { ...base, causal: true, mode: 'remove' }).readout, 1);
  assert.equal(perturbedRow(ids, noLast, { ...base, causal: true, mode: 'hide' }).readout, 1);
  assert.equal(perturbedRow(ids, noLast, { ...base, mode: 'remove' }).readout, -1);
  // Pooled targets have no readout.
  assert.equal(perturbedRow(ids, keep, { ...base, readout: null, mode: 'remove' }).readout, -1);
  // Trailing all-padding columns go.
  const rows = [
    perturbedRow(ids, noLast, { ...base, mode: 'remove' }),
    perturbedRow(ids, keep, { ...base, mode: 'remove' }),
  ];
  assert.deepEqual(trimPadding(rows), {
    ids: [
      [10, 11, 0],
      [10, 12, 13],
    ],
    mask: [
      [1, 1, 0],
      [1, 1, 1],
    ],
  });
  assert.throws(() => perturbedRow(ids, keep, { ...base, maskId: undefined, mode: 'mask-token' }), /MASK/);
});

const m = (id: string, kind: MethodScores['kind'], scores: number[]): MethodScores => ({
  id,
  label: id,
  kind,
  scores,
  ms: 0,
});

test('agreement and distance tables: over candidates only; distances only for distribution-valued methods', () => {
  const candidates = [false, true, true, true, true];
  const methods = [
    m('a', 'attention', [9, 0.1, 0.2, 0.3, 0.4]),
    m('b', 'perturbation', [-9, 1, 2, 3, 4]),
    m('c', 'norm', [0, 0.4, 0.3, 0.2, 0.1]),
    m('uniform', 'baseline', [0.2, 0.2, 0.2, 0.2, 0.2]),
    m('broken', 'attention', []),
  ];
  const rows = agreementTable(methods, candidates, 2, 5);
  assert.deepEqual(
    rows.map((r) => `${r.a}-${r.b}`),
    [
      'a-b',
      'a-c',
      'a-uniform',
      'b-c',
      'b-uniform',
      'c-uniform',
      'a-recency',
      'a-random',
      'b-recency',
      'b-random',
      'c-recency',
      'c-random',
    ],
  );
  const ab = rows[0];
  assert.deepEqual([ab.kendall, ab.spearman, ab.topK, ab.k], [1, 1, 1, 2]); // position 0 (9 vs −9) is not a candidate
  const ac = rows[1];
  near(ac.kendall, -1);
  near(ac.spearman, -1);
  assert.equal(ac.topK, 0);
  // The baseline ranks nothing: its agreement is the mean over 5 random orders of the candidates (chance level).
  const chance =
    [1, 2, 3, 4, 5]
      .map((s) => kendallTau([0.1, 0.2, 0.3, 0.4], randomOrderScores(candidates, s).slice(1)))
      .reduce((x, y) => x + y, 0) / 5;
  near(rows[2].kendall, chance);
  assert.ok(Math.abs(chance) < 1);
  // By default 100 orders: over 30 candidates the chance level is near τ = 0 and top-k overlap near k / 30.
  const many = Array.from({ length: 30 }, (_, i) => i);
  const chanceRow = agreementTable(
    [
      m('x', 'attention', many),
      m(
        'uniform',
        'baseline',
        many.map(() => 1),
      ),
    ],
    many.map(() => true),
    6,
  )[0];
  assert.ok(Math.abs(chanceRow.kendall) < 0.05, String(chanceRow.kendall));
  assert.ok(Math.abs(chanceRow.topK - 6 / 30) < 0.05, String(chanceRow.topK));
  const d = distanceTable(methods, candidates);
  assert.deepEqual(
    d.map((r) => `${r.a}-${r.b}`),
    ['a-c', 'a-uniform', 'c-uniform'],
  );
  // a and c over the candidates: [.1 .2 .3 .4] and its reverse: TVD = ½(.3+.1+.1+.3) = .4
  near(d[0].tvd, 0.4, 1e-12);
  near(d[1].tvd, 0.2, 1e-12); // vs uniform .25: ½(.15+.05+.05+.15)
  assert.ok(d[0].jsd > 0 && d[0].jsd <= 1);
});

test('recency and random baselines: recency ranks by position; random is the mean over seeds with its spread', () => {
  const candidates = [false, true, true, true, true];
  const methods = [
    m('up', 'attention', [9, 0.1, 0.2, 0.3, 0.4]),
    m('down', 'perturbation', [9, 4, 3, 2, 1]),
    m('uniform', 'baseline', [0.2, 0.2, 0.2, 0.2, 0.2]),
  ];
  const rows = agreementTable(methods, candidates, 2, 7);
  const get = (a: string, b: string) => rows.find((r) => r.a === a && r.b === b)!;
  // Recency scores positions 1..4 at the candidates: 'up' is the same order, 'down' its reverse.
  assert.deepEqual(recencyScores(candidates), [0, 2, 3, 4, 5]);
  const up = get('up', 'recency');
  assert.deepEqual([up.kendall, up.spearman, up.topK, up.spread], [1, 1, 1, undefined]);
  const down = get('down', 'recency');
  assert.deepEqual([down.kendall, down.spearman, down.topK], [-1, -1, 0]);
  // No baseline is compared with another baseline.
  assert.equal(rows.filter((r) => r.a === 'uniform' && (r.b === 'recency' || r.b === 'random')).length, 0);
  // Random: 7 seeded orders; its mean equals the uniform row's (the same orders), its spread is over those 7.
  const taus = [1, 2, 3, 4, 5, 6, 7].map((s) =>
    kendallTau([0.1, 0.2, 0.3, 0.4], randomOrderScores(candidates, s).slice(1)),
  );
  const mu = taus.reduce((x, y) => x + y, 0) / 7;
  const sd = Math.sqrt(taus.reduce((x, t) => x + (t - mu) ** 2, 0) / 6);
  const r = get('up', 'random');
  near(r.kendall, mu);
  near(r.kendall, get('up', 'uniform').kendall);
  near(r.spread!.kendall.sd, sd);
  const sorted = [...taus].sort((x, y) => x - y);
  near(r.spread!.kendall.lo, quantile(sorted, 0.025));
  near(r.spread!.kendall.hi, quantile(sorted, 0.975));
  assert.ok(r.spread!.kendall.lo <= mu && mu <= r.spread!.kendall.hi);
  // Spread by hand on three values: sd of [0, 1, 2] is 1; percentiles by linear interpolation.
  assert.deepEqual(sampleSpread([2, 0, 1, NaN]), { sd: 1, lo: 0.05, hi: 1.95 });
});

test('head sweep: each head’s attention row ranked against the reference over the candidates; recency beside', () => {
  // Two layers, two heads, three tokens; target row 2. Candidates 1 and 2 only... and 0.
  const layer = (l: number, rows: number[][]) => ({
    layer: l,
    kind: 'self' as const,
    heads: 2,
    queryLength: 3,
    keyLength: 3,
    data: Float32Array.from(rows.flat()), // [heads, query, key]
  });
  const pad = [0, 0, 0];
  const a = layer(0, [pad, pad, [0.1, 0.3, 0.6], pad, pad, [0.6, 0.3, 0.1]]);
  const b = layer(1, [pad, pad, [0.2, 0.2, 0.6], pad, pad, [0.5, 0.25, 0.25]]);
  const reference = { id: 'loo', scores: [1, 2, 3] };
  const sw = headSweep([a, b], reference, [true, true, true], 2);
  assert.deepEqual([sw.reference, sw.layers, sw.heads, sw.recency], ['loo', [0, 1], 2, 1]);
  // Layer 0: head 0 the same order (τ 1), head 1 reversed (−1); layer 1: ties, τ-b by hand.
  near(sw.values[0], 1);
  near(sw.values[1], -1);
  near(sw.values[2], kendallTau([0.2, 0.2, 0.6], [1, 2, 3]));
  near(sw.values[3], kendallTau([0.5, 0.25, 0.25], [1, 2, 3]));
  // A pooled target: the weighted mean of the rows (here only row 2 weighs).
  const pooled = headSweep([a], reference, [true, true, true], 0, [0, 0, 2]);
  near(pooled.values[0], 1);
  // Over the candidates only: with token 0 left out, layer 0 head 1 ranks (0.3, 0.1) against (2, 3): τ = −1.
  near(headSweep([a], reference, [false, true, true], 2).values[1], -1);
});

test('head table: each head, then uniform attention per layer (entropy ln n, mean distance by hand)', () => {
  const tokens: Token[] = ['[CLS]', 'a', ',', 'b'].map((text, i) => ({
    id: i,
    text,
    start: null,
    end: null,
    special: i === 0,
  }));
  // One head attending to the previous token (row 0 to itself).
  const data = new Float32Array(16);
  for (let i = 0; i < 4; i++) data[i * 4 + Math.max(0, i - 1)] = 1;
  const rows = headTable([{ layer: 0, kind: 'self', heads: 1, queryLength: 4, keyLength: 4, data }], tokens);
  assert.equal(rows.length, 2);
  const [h, u] = rows;
  assert.deepEqual([h.head, h.entropy, h.previousToken, h.meanDistance], [0, 0, 1, 0.75]);
  near(h.specialShare, 0.5); // rows 0 and 1 look at [CLS]
  near(h.punctuationShare, 0.25); // row 3 looks at ','
  assert.equal(u.head, -1);
  near(u.entropy, Math.log(4), 1e-6);
  near(u.jsdUniform, 0, 1e-9);
  near(u.meanDistance, (6 + 4 + 4 + 6) / 16, 1e-6); // Σ|i−j|/4 per row: 1.5, 1, 1, 1.5
});

test('faithfulness and erasure tables: equal to the analysis functions; the baseline is the mean over random orders', async () => {
  const w = [0, 3, 1, 2, 5, 0.5];
  const candidates = [false, true, true, true, true, true];
  const seen = new Set<string>();
  const evaluate = async (masks: boolean[][]) =>
    masks.map((keep) => {
      seen.add(keep.join());
      return w.reduce((s, x, j) => s + (keep[j] ? x : 0), 0);
    });
  const methods = [m('good', 'perturbation', w), m('uniform', 'baseline', [1, 1, 1, 1, 1, 1])];
  const rows = await faithfulnessTable(methods, evaluate, { candidates, baselineSamples: 3 });
  const exclude = candidates.map((c) => !c);
  const one = async (keep: boolean[]) => (await evaluate([keep]))[0];
  const direct = await faithfulness(w, one, { exclude });
  assert.equal(rows[0].method, 'good');
  near(rows[0].aopcComprehensiveness, direct.aopcComprehensiveness);
  near(rows[0].aopcSufficiency, direct.aopcSufficiency);
  const samples = await Promise.all(
    [1, 2, 3].map((s) => faithfulness(randomOrderScores(candidates, s), one, { exclude })),
  );
  near(rows[1].aopcComprehensiveness, samples.reduce((a, r) => a + r.aopcComprehensiveness, 0) / 3);
  // Random orders rank only candidates, and differ between seeds.
  assert.equal(randomOrderScores(candidates, 1)[0], 0);
  assert.notDeepEqual(randomOrderScores(candidates, 1), randomOrderScores(candidates, 2));

  const curves = await erasureTable(methods, evaluate, { candidates, steps: 5, baselineSamples: 2 });
  // good: erase 4 (5), 1 (3), 3 (2), 2 (1), 5 (.5): 11.5, 6.5, 3.5, 1.5, .5, 0
  assert.deepEqual(curves[0].value, [11.5, 6.5, 3.5, 1.5, 0.5, 0]);
  assert.equal(curves[1].method, 'uniform');
  assert.equal(curves[1].value[0], 11.5);
  assert.equal(curves[1].value[5], 0);
});

test('degenerate tables: a constant method is ranked as the baseline (random orders) for faithfulness and erasure and has no agreement; top-k ≥ the candidates and one-candidate distances are not shown', async () => {
  const w = [0, 3, 1, 2, 5, 0.5];
  const candidates = [false, true, true, true, true, true];
  const evaluate = async (masks: boolean[][]) => masks.map((keep) => w.reduce((s, x, j) => s + (keep[j] ? x : 0), 0));
  // "flat" scores every candidate 7 (its position 0 is not a candidate): it ranks nothing. Tie-broken by position it
  // would erase tokens 1, 2, 3, … first; instead its rows equal the uniform baseline's, whose random orders it shares.
  const flat = m('flat', 'perturbation', [9, 7, 7, 7, 7, 7]);
  const methods = [m('good', 'perturbation', w), flat, m('uniform', 'baseline', [1, 1, 1, 1, 1, 1])];
  const faith = await faithfulnessTable(methods, evaluate, { candidates, baselineSamples: 3 });
  assert.equal(faith[1].method, 'flat');
  assert.equal(faith[1].aopcComprehensiveness, faith[2].aopcComprehensiveness);
  assert.equal(faith[1].aopcSufficiency, faith[2].aopcSufficiency);
  const byPosition = await faithfulness([9, 5, 4, 3, 2, 1], async (keep) => (await evaluate([keep]))[0], {
    exclude: candidates.map((c) => !c),
  });
  assert.notEqual(faith[1].aopcComprehensiveness, byPosition.aopcComprehensiveness);
  const curves = await erasureTable(methods, evaluate, { candidates, steps: 5, baselineSamples: 2 });
  assert.deepEqual(curves[1].value, curves[2].value);
  // Its agreement is undefined (τ, ρ, and top-k, which would be its first tokens).
  const agree = agreementTable(methods, candidates, 2, 5);
  const row = (a: string, b: string) => agree.find((r) => r.a === a && r.b === b)!;
  for (const metric of ['kendall', 'spearman', 'topK'] as const)
    assert.ok(Number.isNaN(row('good', 'flat')[metric]), metric);
  assert.ok(Number.isFinite(row('good', 'uniform').topK));
  // k = 5 of 5 candidates: every top-k set is all of them.
  for (const r of agreementTable(methods, candidates, 5, 5)) assert.ok(Number.isNaN(r.topK), `${r.a} vs ${r.b}`);
  for (const r of agreementTable(methods, candidates, 4, 5))
    assert.equal(Number.isFinite(r.topK), r.a !== 'flat' && r.b !== 'flat', `top-4: ${r.a} vs ${r.b}`);
  // One candidate: every distribution over it is [1]; no distance rows.
  const one = [false, true, false];
  assert.deepEqual(
    distanceTable([m('a', 'attention', [0.5, 0.2, 0.3]), m('b', 'attention', [0.1, 0.8, 0.1])], one),
    [],
  );
  assert.equal(
    distanceTable([m('a', 'attention', [0.5, 0.2, 0.3]), m('b', 'attention', [0.1, 0.8, 0.1])], [false, true, true])
      .length,
    1,
  );
});

test('the notes say which numbers are not shown or are random-order means, and why', async () => {
  const { explanationNotes } = await import('../../../../runtime/explain/notes');
  const result = (candidates: boolean[], k: number, methods: MethodScores[]) =>
    ({
      candidates,
      methods,
      agreement: [{ a: 'x', b: 'y', kendall: NaN, spearman: NaN, topK: NaN, k }],
      faithfulness: [],
      target: { measure: 'log-prob', kind: 'next', spec: 'next' },
      perturbation: 'remove',
    }) as unknown as Omit<ExplainResult, 'notes'>;
  const facts = { causal: true, modelType: 'llama' };
  const flat = m('occlusion', 'perturbation', [9, 7.7912, 7.7912]);
  const notes = explanationNotes(result([false, true, true], 2, [flat]), facts);
  assert.ok(
    notes.some((n) => /^Top-k overlap is not shown: with 2 candidate tokens, the top 2 are all of them/.test(n)),
  );
  assert.ok(
    notes.some((n) => /^occlusion gives every candidate token the same score \(7\.79\): it ranks nothing/.test(n)),
  );
  const single = explanationNotes(result([false, true], 1, [m('a', 'attention', [0.4, 0.6])]), facts);
  assert.ok(
    single.includes('JSD and TVD are not shown: over one candidate token every distribution is the same, [1].'),
  );
  const fine = explanationNotes(
    result([true, true, true, true], 2, [m('a', 'attention', [0.1, 0.2, 0.3, 0.4])]),
    facts,
  );
  assert.ok(!fine.some((n) => /not shown|ranks nothing/.test(n)), fine.join(' | '));
});

test('study statistics: spread with numpy quantiles, NaN counted as missing; summaries per pair and method', () => {
  const s = spread([4, 1, NaN, 3, 2]);
  assert.deepEqual([s.n, s.missing, s.mean, s.min, s.q1, s.median, s.q3, s.max], [4, 1, 2.5, 1, 1.75, 2.5, 3.25, 4]);
  near(s.std, Math.sqrt(5 / 3));
  assert.ok(Number.isNaN(spread([]).mean) && Number.isNaN(spread([1]).std));
  near(quantile([0, 10], 0.3), 3);
  const fake = (tau: number, comp: number): ExplainResult =>
    ({
      target: { value: tau },
      agreement: [{ a: 'x', b: 'y', kendall: tau, spearman: 2 * tau, topK: 1, k: 1 }],
      distance: [],
      faithfulness: [{ method: 'x', full: 0, bins: [], aopcComprehensiveness: comp, aopcSufficiency: -comp }],
      erasure: [{ method: 'x', erased: [], fraction: [], value: [], area: comp }],
      timings: { totalMs: 10 },
    }) as unknown as ExplainResult;
  const sum = summarizeStudy([fake(0.5, 1), fake(-0.5, 3)]);
  assert.equal(sum.examples, 2);
  assert.deepEqual(
    sum.agreement.map((a) => [a.metric, a.spread.mean]),
    [
      ['kendall', 0],
      ['spearman', 0],
      ['topK', 1],
    ],
  );
  assert.deepEqual(
    sum.faithfulness.map((f) => [f.metric, f.spread.mean]),
    [
      ['aopcComprehensiveness', 2],
      ['aopcSufficiency', -2],
    ],
  );
  assert.equal(sum.erasure[0].spread.mean, 2);
  assert.equal(resultToJson({ a: NaN, b: [1, Infinity] }), '{"a":null,"b":[1,null]}');
});
