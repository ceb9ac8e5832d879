// The Explain view's pure parts on hand-made inputs: score colours, the agreement matrix, ticks and the faithfulness
// plot layout (webview/render/explain-data.ts), the targets offered per model (webview/views/explain-target.ts), and
// the export figures (export-explain.ts, export-compare.ts). Expected values are worked out by hand in the comments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExplainResult } from '../../../../runtime/explain/result';
import { fixtureResult } from '../../../helpers/explain-fixture';
import { parseTargetSpec } from '../../../../runtime/explain/target-spec';
import { colorLut } from '../../../../webview/render/colormap';
import {
  agreementMatrix,
  curvePlot,
  divergingPixels,
  faithfulnessSeries,
  formatValue,
  inkOn,
  maxAbs,
  methodColor,
  niceTicks,
  scoreColor,
  scorePosition,
  scoreScale,
  tickLabel,
} from '../../../../webview/render/explain-data';
import { explainFigure, figureImage, pngText } from '../../../../webview/render/export-explain';
import { compareFigure, compareSummary } from '../../../../webview/render/export-compare';
import {
  defaultMethods,
  maskPositions,
  methodUnavailable,
  modelKind,
  targetOptions,
  targetSpec,
} from '../../../../webview/views/explain-target';
import { checkPanelRequest } from '../../../../protocol/validate';

const near = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('score scale: relative to the largest |score| over the candidates; signed when a candidate is negative', () => {
  const signed = scoreScale([5, -0.2, 0.1, 9], [false, true, true, false]);
  assert.deepEqual(signed, { signed: true, max: 0.2 }); // 5 and 9 are not candidates
  assert.equal(scorePosition(-0.2, signed), -1);
  assert.equal(scorePosition(0.1, signed), 0.5);
  assert.equal(scorePosition(9, signed), 1); // clamped
  const plain = scoreScale([1, 3], [true, true]);
  assert.deepEqual(plain, { signed: false, max: 3 });
  assert.equal(scorePosition(1.5, plain), 0.5);
  assert.equal(scorePosition(NaN, plain), 0);
  assert.equal(scorePosition(1, { signed: false, max: 0 }), 0); // an all-zero method
  // The top of viridis is matplotlib's (0.993248, 0.906157, 0.143936) → (253, 231, 37).
  assert.deepEqual(scoreColor(3, plain, colorLut('viridis')), [253, 231, 37]);
  // Signed: the diverging scale's blue end (ColorBrewer RdBu #2166ac) and red end (#b2182b).
  assert.deepEqual(scoreColor(-0.2, signed, colorLut('viridis')), [33, 102, 172]);
  assert.deepEqual(scoreColor(0.2, signed, colorLut('viridis')), [178, 24, 43]);
});

test('ink: dark on light backgrounds, light on dark ones (WCAG luminance)', () => {
  assert.deepEqual(inkOn([255, 255, 255]), [20, 20, 20]);
  assert.deepEqual(inkOn([0, 0, 0]), [250, 250, 250]);
  // #2166ac: L = 0.2126·0.0152 + 0.7152·0.1329 + 0.0722·0.4125 ≈ 0.128 < 0.35 → light ink.
  assert.deepEqual(inkOn([33, 102, 172]), [250, 250, 250]);
  // viridis' yellow end: L ≈ 0.79 → dark ink.
  assert.deepEqual(inkOn([253, 231, 37]), [20, 20, 20]);
});

test('agreement matrix: symmetric, 1 on the diagonal, failed methods left out, undefined as NaN', () => {
  const r = fixtureResult();
  const k = agreementMatrix(r, 'kendall');
  assert.deepEqual(k.ids, ['rollout', 'loo', 'uniform']);
  assert.deepEqual(k.labels, ['Attention rollout', 'Leave-one-out', 'Uniform attention (baseline)']);
  assert.deepEqual(k.values[0], [1, -1, 0.1]);
  assert.deepEqual(k.values[1].slice(0, 2), [-1, 1]);
  assert.ok(Number.isNaN(k.values[1][2]) && Number.isNaN(k.values[2][1]));
  assert.equal(k.values[2][2], 1);
  const t = agreementMatrix(r, 'topK');
  assert.deepEqual(t.values, [
    [1, 0.5, 1],
    [0.5, 1, 1],
    [1, 1, 1],
  ]);
  assert.equal(t.k, 2);
  // null (a NaN after the JSON crossing) reads as NaN too.
  const wire = JSON.parse(JSON.stringify(r)) as ExplainResult;
  assert.ok(Number.isNaN(agreementMatrix(wire, 'kendall').values[1][2]));
});

test('value text: two decimals, a real minus sign, no negative zero, a dash for NaN', () => {
  assert.equal(formatValue(-0.52), '−0.52');
  assert.equal(formatValue(0.625, 3), '0.625');
  assert.equal(formatValue(-0.004), '0.00');
  assert.equal(formatValue(NaN), '—');
  assert.equal(formatValue(Infinity), '—');
});

test('ticks: steps of 1, 2 or 5 × 10^k enclosing the range', () => {
  // range 0.87 / 4 = 0.2175 → 2.175 × 0.1 → step 0.2
  assert.deepEqual(niceTicks(0, 0.87), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  // range 0.51 / 4 = 0.1275 → 1.275 × 0.1 → step 0.1, from −0.1 to 0.5
  assert.deepEqual(niceTicks(-0.03, 0.48), [-0.1, 0, 0.1, 0.2, 0.3, 0.4, 0.5]);
  // range 70 / 4 = 17.5 → 1.75 × 10 → step 20
  assert.deepEqual(niceTicks(0, 70), [0, 20, 40, 60, 80]);
  assert.deepEqual(niceTicks(0, 0), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(2, 2), [1.4, 1.6, 1.8, 2, 2.2, 2.4, 2.6]); // widened to [1.5, 2.5]
  assert.deepEqual(niceTicks(NaN, 1), [0, 1]);
  assert.equal(tickLabel(0.2, [0, 0.2, 0.4]), '0.2');
  assert.equal(tickLabel(-0.1, [-0.1, 0, 0.1]), '−0.1');
  assert.equal(tickLabel(40, [0, 20, 40]), '40');
});

test('curve plot: bins spaced evenly, y from the ticks, non-finite values left out', () => {
  const box = { x: 0, y: 0, width: 100, height: 100 };
  const series = [
    {
      id: 'm',
      label: 'M',
      color: [0, 0, 0] as const,
      aopc: 0.5,
      points: [
        { percent: 1, value: 0 },
        { percent: 50, value: 1 },
      ],
    },
    {
      id: 'n',
      label: 'N',
      color: [1, 1, 1] as const,
      aopc: NaN,
      points: [
        { percent: 1, value: NaN },
        { percent: 50, value: 0.5 },
      ],
    },
  ];
  const p = curvePlot(series, box);
  // Two bins: x = (0 + 0.5)·100/2 = 25 and (1 + 0.5)·100/2 = 75. Ticks 0..1 by 0.2: y(v) = 100·(1 − v).
  assert.deepEqual(
    p.xs.map((x) => [x.x, x.label]),
    [
      [25, '1%'],
      [75, '50%'],
    ],
  );
  assert.equal(p.yMin, 0);
  assert.equal(p.yMax, 1);
  assert.deepEqual(p.lines[0].points, [
    [25, 100],
    [75, 0],
  ]);
  assert.deepEqual(p.lines[1].points, [[75, 50]]);
  near(p.yTicks[1].y, 80);
  assert.equal(p.yTicks[1].label, '0.2');
});

test('faithfulness series: one per method with its colour, label, AOPC and bins', () => {
  const r = fixtureResult();
  const comp = faithfulnessSeries(r, 'comprehensiveness');
  assert.deepEqual(
    comp.map((s) => [s.id, s.label, s.aopc]),
    [
      ['rollout', 'Attention rollout', 0.24],
      ['loo', 'Leave-one-out', 0.375],
      ['uniform', 'Uniform attention (baseline)', 0.08],
    ],
  );
  assert.deepEqual(comp[0].color, methodColor('rollout', 0));
  assert.deepEqual(comp[2].color, [127, 127, 127]); // the baseline is grey
  assert.deepEqual(
    comp[1].points.map((p) => p.percent),
    [1, 5, 10, 20, 50],
  );
  assert.ok(Number.isNaN(comp[1].points[4].value));
  assert.equal(faithfulnessSeries(r, 'sufficiency')[1].aopc, 0.14);
});

test('diverging pixels: ±vmax at the ends, white at 0, transparent for NaN', () => {
  const px = divergingPixels([1, -1, 0, NaN], 2, 2, 1);
  assert.deepEqual(Array.from(px), [178, 24, 43, 255, 33, 102, 172, 255, 247, 247, 247, 255, 0, 0, 0, 0]);
  assert.equal(maxAbs([0.1, -0.3, NaN, 0.2]), 0.3);
  assert.equal(maxAbs([0, 0]), 1e-12);
});

test('targets per model: next token for causal LMs, masks for masked LMs, similarity for everything', () => {
  assert.equal(modelKind({ hasLmHead: false, attentionKinds: ['self', 'self'] }), 'encoder');
  assert.equal(modelKind({ hasLmHead: true, attentionKinds: ['causal'] }), 'causal-lm');
  assert.equal(modelKind({ hasLmHead: true, attentionKinds: ['self'] }), 'masked-lm');
  assert.deepEqual(
    targetOptions('encoder').map((o) => o.kind),
    ['similarity'],
  );
  assert.deepEqual(
    targetOptions('causal-lm').map((o) => o.kind),
    ['next', 'next-prob', 'next-token', 'next-token-prob', 'similarity'],
  );
  assert.deepEqual(
    targetOptions('masked-lm').map((o) => o.kind),
    ['mask-at', 'mask', 'similarity'],
  );
  const tokens = fixtureResult().tokens;
  assert.deepEqual(maskPositions(tokens), [1, 2]);
});

test('target specs: what the runtime parses, or what the user must add', () => {
  const f = { token: '', position: NaN, reference: '' };
  assert.deepEqual(targetSpec('next', f), { spec: 'next' });
  assert.deepEqual(targetSpec('mask', f), { spec: 'mask' });
  assert.ok('error' in targetSpec('next-token', f));
  assert.ok('error' in targetSpec('mask-at', f));
  assert.ok('error' in targetSpec('similarity', { ...f, reference: '  \n ' }));
  const cases: [Parameters<typeof targetSpec>[0], Partial<typeof f>, string, object][] = [
    ['next-token', { token: ' mat' }, 'next: mat', { kind: 'next', token: ' mat' }],
    ['next-token-prob', { token: ' mat' }, 'prob:next: mat', { kind: 'next', token: ' mat', prob: true }],
    ['next-prob', {}, 'prob:next', { kind: 'next', prob: true }],
    ['mask-at', { position: 3 }, 'mask@3', { kind: 'mask', position: 3 }],
    [
      'similarity',
      { reference: 'A <b>cat</b>' },
      'similarity:A <b>cat</b>',
      { kind: 'similarity', reference: 'A <b>cat</b>' },
    ],
  ];
  for (const [kind, fields, spec, parsed] of cases) {
    const t = targetSpec(kind, { ...f, ...fields });
    assert.deepEqual(t, { spec });
    assert.deepEqual(parseTargetSpec(spec), parsed);
    // And the host's validator lets the request through.
    const ctx = { runId: 1, layers: 2, tokens: 4, heads: 2 };
    assert.equal(checkPanelRequest('explain', { runId: 1, target: spec, methods: ['loo'] }, ctx), undefined);
  }
});

test('methods per model: imported ONNX exports have no value vectors, so no norm methods', () => {
  assert.match(methodUnavailable({ family: 'onnx' }, 'norm') ?? '', /value vectors/);
  assert.match(methodUnavailable({ family: 'onnx' }, 'norm-rollout') ?? '', /ONNX/);
  assert.equal(methodUnavailable({ family: 'onnx' }, 'loo'), undefined);
  assert.equal(methodUnavailable({ family: 'bert' }, 'norm'), undefined);
  assert.ok(methodUnavailable({ family: 'bert' }, 'gradient'));
  assert.deepEqual(defaultMethods({ family: 'bert' }), ['raw-attention', 'rollout', 'loo', 'norm']);
  assert.deepEqual(defaultMethods({ family: 'onnx' }), ['raw-attention', 'rollout', 'loo']);
});

test('PNG text: the symbols the bitmap font lacks are spelled in ASCII', () => {
  assert.equal(
    pngText('Kendall τ, Spearman ρ: −0.52; Norm ‖αf(x)‖ ±1'),
    'Kendall tau, Spearman rho: -0.52; Norm ||af(x)|| +/-1',
  );
});

test('explanation figure: a cell per method and token, the agreement matrix, two curves per method', () => {
  const r = fixtureResult();
  const fig = explainFigure(r, { metric: 'kendall', colorMap: 'viridis' });
  const role = (name: string) => fig.items.filter((it) => it.role === name);
  assert.equal(role('score').length, 3 * 4, 'rollout, loo and uniform × 4 tokens (flow failed)');
  assert.equal(role('method-error').length, 1);
  assert.equal(role('agreement').length, 3 * 3);
  assert.deepEqual(
    role('agreement-value').map((t) => (t.kind === 'text' ? t.text : '')),
    ['1.00', '−1.00', '0.10', '−1.00', '1.00', '—', '0.10', '—', '1.00'],
  );
  // Segments between consecutive finite points, drawn twice (2 px): comprehensiveness 4 + 3 + 4, sufficiency 4 + 4 + 4.
  assert.equal(role('curve').length, 2 * (4 + 3 + 4 + 4 + 4 + 4));
  // Non-candidates ([CLS], [SEP]) are framed.
  const framed = role('score').filter((it) => it.kind === 'rect' && it.stroke);
  assert.equal(framed.length, 3 * 2);
  const svg = new TextDecoder().decode(figureImage(fig, 'svg').bytes);
  assert.ok(svg.includes('&lt;b&gt;') && !svg.includes('<b>'), 'token text is escaped in the SVG');
  assert.ok(svg.includes('Kendall τ'));
  const png = figureImage(fig, 'png', 2);
  assert.equal(png.width, Math.ceil(fig.width * 2));
  assert.deepEqual(Array.from(png.bytes.subarray(1, 4)), [0x50, 0x4e, 0x47]); // "PNG"
});

test('comparison figure: maps a and b, their difference, and the JSD in the summary', () => {
  const a = Float32Array.from([1, 0, 0.5, 0.5]);
  const b = Float32Array.from([0, 1, 0.5, 0.5]);
  const tokens = [{ text: 'x' }, { text: 'y' }];
  const data = {
    modelName: 'tiny',
    mode: 'heads' as const,
    layer: 1,
    a: { label: 'head 0', tokens, causal: false, data: a },
    b: { label: 'head 1', tokens, causal: false, data: b },
    alignA: [0, 1],
    alignB: [0, 1],
    diff: Float32Array.from([-1, 1, 0, 0]),
    rowJsd: Float32Array.from([1, 0]),
    jsd: 0.5,
    tvd: 0.5,
  };
  assert.equal(compareSummary(data), 'JSD 0.500 bits, TVD 0.500 (mean over 2 query rows; 2 tokens)');
  const fig = compareFigure(data, 'viridis');
  const cells = fig.items.filter((it) => it.kind === 'cells' && it.role !== 'legend');
  assert.deepEqual(
    cells.map((c) => c.role),
    ['matrix', 'matrix', 'difference'],
  );
  const diff = cells[2];
  assert.ok(diff.kind === 'cells');
  // b − a = −1 → the blue end, +1 → the red end, 0 → white.
  assert.deepEqual(Array.from(diff.colors), [33, 102, 172, 178, 24, 43, 247, 247, 247, 247, 247, 247]);
  assert.ok(fig.title.includes('head 0 vs head 1'));
});
