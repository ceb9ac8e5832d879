// The Explain view's figures on hand-made inputs: score colours, the agreement matrix, ticks and the faithfulness
// plot layout (figures/explain-scales.ts), the sections and the whole explanation (figures/explain-figure.ts) with its
// head statistics, and the comparison (figures/compare-figure.ts). Expected values are worked out by hand in the
// comments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExplainResult } from '../../../runtime/explain/result';
import { fixtureResult, headsResult } from '../../helpers/explain-fixture';
import { colorLut, colorizeDiverging } from '../../../figures/colormap';
import {
  agreementMatrix,
  baselineAgreement,
  baselineAgreementText,
  curvePlot,
  faithfulnessSeries,
  inkOn,
  maxAbs,
  methodColor,
  niceTicks,
  scoreColor,
  scorePosition,
  scoreScale,
  tickLabel,
} from '../../../figures/explain-scales';
import { agreementFigure, explainFigure, headSweepFigure, stripFigure } from '../../../figures/explain-figure';
import { compareFigure, compareSummary } from '../../../figures/compare-figure';
import { EXPORT_OPTIONS } from '../../../figures/figure-kit';
import { headStatGrids, headSweepGrid, statColor } from '../../../figures/head-stats';
import { formatValue } from '../../../figures/labels';
import { frozenShift, type ImageItem, type Scene, type SceneItem, type TextItem } from '../../../figures/scene';
import { sceneToSvg } from '../../../figures/svg';
import { PAPER } from '../../../figures/theme';

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

test('baselines beside the matrix: each method vs recency and random (mean, 2.5–97.5 % range), as one line', () => {
  const r = fixtureResult();
  const spreadOf = (lo: number, hi: number) => ({ sd: 0.1, lo, hi });
  r.agreement.push(
    { a: 'loo', b: 'recency', kendall: 0.62, spearman: 0.7, topK: 1, k: 2 },
    {
      a: 'loo',
      b: 'random',
      kendall: 0.01,
      spearman: 0.02,
      topK: 0.5,
      k: 2,
      spread: { kendall: spreadOf(-0.4, 0.42), spearman: spreadOf(-0.5, 0.5), topK: spreadOf(0, 1) },
    },
  );
  // Matrix untouched: the baselines are not methods of the result.
  assert.deepEqual(agreementMatrix(r, 'kendall').ids, ['rollout', 'loo', 'uniform']);
  const b = baselineAgreement(r, 'kendall');
  assert.deepEqual(b, [{ id: 'loo', recency: 0.62, random: 0.01, lo: -0.4, hi: 0.42 }]);
  assert.equal(baselineAgreementText(b[0], 'Leave-one-out'), 'Leave-one-out: recency 0.62 · random 0.01 [−0.40, 0.42]');
  assert.deepEqual(baselineAgreement(r, 'topK')[0], { id: 'loo', recency: 1, random: 0.5, lo: 0, hi: 1 });
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

test('diverging colours: ±vmax at the ends, white at 0, the masked colour for NaN', () => {
  const d = colorizeDiverging([1, -1, 0, NaN], 1, [1, 2, 3]);
  assert.deepEqual(Array.from(d.rgba), [178, 24, 43, 255, 33, 102, 172, 255, 247, 247, 247, 255, 1, 2, 3, 255]);
  assert.deepEqual(Array.from(d.masked), [0, 0, 0, 1]);
  assert.equal(maxAbs([0.1, -0.3, NaN, 0.2]), 0.3);
  assert.equal(maxAbs([0, 0]), 1e-12);
});

const ofRole = (scene: Scene, role: string): SceneItem[] => scene.items.filter((it) => it.role === role);
const exportExplain = (r: ExplainResult) =>
  explainFigure(r, { metric: 'kendall', colorMap: 'viridis' }, PAPER, { ...EXPORT_OPTIONS, source: 'a <b>' });

test('explanation figure: a cell per method and token, the agreement matrix, two curves per method', () => {
  const r = fixtureResult();
  const fig = exportExplain(r);
  const role = (name: string) => ofRole(fig, name);
  assert.equal(role('score').length, 3 * 4, 'rollout, loo and uniform × 4 tokens (flow failed)');
  assert.equal(role('method-error').length, 1);
  assert.equal(role('agreement').length, 3 * 3);
  assert.deepEqual(
    role('agreement-value').map((t) => (t.kind === 'text' ? t.text : '')),
    ['1.00', '−1.00', '0.10', '−1.00', '1.00', '—', '0.10', '—', '1.00'],
  );
  // One polyline per method and kind through its finite points: comprehensiveness 5, 4, 5, sufficiency 5, 5, 5.
  assert.deepEqual(
    role('curve').map((c) => (c.kind === 'polyline' ? c.points.length : 0)),
    [5, 4, 5, 5, 5, 5],
  );
  // Non-candidates ([CLS], [SEP]) are framed.
  const framed = role('score').filter((it) => it.kind === 'rect' && it.stroke);
  assert.equal(framed.length, 3 * 2);
  // Every cell is a target with its score; every point with its value.
  const cells = fig.targets.filter((t) => t.role.startsWith('strip-token'));
  assert.equal(cells.length, 12);
  assert.deepEqual(
    cells.filter((t) => t.data?.method === 'loo').map((t) => Number(t.data?.score)),
    [0, -0.1, 0.4, 0],
  );
  assert.equal(fig.targets.filter((t) => t.role === 'curve-point').length, 5 + 4 + 5 + 5 + 5 + 5);
  // The caption: the model, the target, its value; the source sentence below.
  const caption = role('caption')[0];
  assert.ok(caption.kind === 'text' && caption.text === 'tiny · cos(x) = 0.9000');
  assert.ok(role('source').some((t) => t.kind === 'text' && t.text === '“a <b>”'));
  const svg = sceneToSvg(fig);
  assert.ok(svg.includes('&lt;b&gt;') && !svg.includes('<b>'), 'token text is escaped in the SVG');
  assert.ok(svg.includes('Kendall τ'));
});

test('explanation sections: the token strip wraps to the width it is given', () => {
  const r = fixtureResult();
  const wide = stripFigure(r, 'viridis', 2000, PAPER);
  const narrow = stripFigure(r, 'viridis', 10, PAPER);
  const rows = (s: Scene) => new Set(ofRole(s, 'score').map((it) => (it.kind === 'rect' ? it.y : -1))).size;
  assert.equal(rows(wide), 3, 'one row per method with scores');
  assert.equal(rows(narrow), 3 * 4, 'one token a chunk: four chunks of three rows');
  assert.ok(narrow.height > wide.height);
  // The agreement section alone has the same cells as in the whole figure.
  assert.equal(ofRole(agreementFigure(r, 'spearman', PAPER), 'agreement').length, 9);
});

test('agreement table: its header bands (column labels above, row labels left) hold the labels and no cell', () => {
  const r = fixtureResult();
  const scene = agreementFigure(r, 'kendall', PAPER);
  const f = scene.frozen;
  assert.ok(f, 'the table says which bands stay in view');
  const cells = ofRole(scene, 'agreement').map((it) => (it.kind === 'rect' ? it : assert.fail('a cell is a rect')));
  assert.equal(cells.length, 9);
  // The bands end where the cells begin: the first row and column of cells touch them, none reaches into them.
  assert.equal(Math.min(...cells.map((c) => c.y)), f.top);
  assert.equal(Math.min(...cells.map((c) => c.x)), f.left);
  const measure = (t: TextItem) => PAPER.measure(t.text, t.size);
  const texts = (role: string) => scene.items.filter((it): it is TextItem => it.kind === 'text' && it.role === role);
  const cols = texts('label-col');
  const rows = texts('label-row');
  assert.equal(cols.length, 3);
  assert.equal(rows.length, 3);
  // Column labels: vertical, written upwards from their anchor, wholly inside the top band, over the cells' columns.
  for (const t of cols) {
    assert.ok(t.vertical, `${t.text} is vertical`);
    assert.ok(t.y <= f.top && t.y - measure(t) >= 0, `${t.text} within 0..${f.top}`);
    assert.ok(t.x > f.left, `${t.text} over a column of cells`);
  }
  // Row labels: right-aligned at the left band's edge, wholly inside it, beside the cells' rows.
  for (const t of rows) {
    assert.equal(t.anchor, 'end');
    assert.ok(t.x <= f.left && t.x - measure(t) >= 0, `${t.text} within 0..${f.left}`);
    assert.ok(t.y > f.top, `${t.text} beside a row of cells`);
  }
  // The export draws the same scene: the bands change nothing of what is drawn.
  const { frozen: _f, ...plain } = scene;
  assert.equal(sceneToSvg({ ...plain }), sceneToSvg(scene));
});

test('frozenShift: the header bands follow the scroll within the table, and stop at its last row and column', () => {
  const size = { width: 300, height: 200 };
  const f = { top: 50, left: 80 };
  assert.deepEqual(frozenShift(size, f, { x: -10, y: -20 }), { dx: 0, dy: 0 }, 'the table’s corner in view');
  assert.deepEqual(frozenShift(size, f, { x: 30, y: 70 }), { dx: 30, dy: 70 }, 'scrolled into the table');
  // Past the table: the top band rests on the last row (200 − 50), the left band against the last column (300 − 80).
  assert.deepEqual(frozenShift(size, f, { x: 500, y: 500 }), { dx: 220, dy: 150 });
  // Bands as large as the table never move.
  assert.deepEqual(frozenShift({ width: 60, height: 40 }, f, { x: 30, y: 30 }), { dx: 0, dy: 0 });
});

test("explanation sections: a chat template's tokens are dimmer in the token strip (ink halfway to the cell)", () => {
  const r = fixtureResult();
  // As a chat prompt: [CLS] and [SEP] written by the template.
  r.tokens = r.tokens.map((t) => (t.special ? { ...t, template: true } : t));
  const texts = stripFigure(r, 'viridis', 2000, PAPER).items.filter(
    (it): it is TextItem => it.kind === 'text' && it.role === 'token',
  );
  const cells = ofRole(stripFigure(r, 'viridis', 2000, PAPER), 'score');
  assert.equal(texts.length, 12);
  texts.forEach((t, n) => {
    const cell = cells[n];
    assert.ok(cell.kind === 'rect' && cell.fill);
    const fill = cell.fill;
    // Non-candidates ([CLS], [SEP]) are written in the muted ink on the masked grey; candidates in the cell's ink.
    const ink = r.candidates[n % r.tokens.length] ? inkOn(fill) : PAPER.muted;
    const template = t.attrs?.['data-template'] === 'true';
    assert.equal(template, n % 4 === 0 || n % 4 === 3, `token ${n}`);
    assert.deepEqual(t.color, template ? ink.map((c, k) => Math.round((c + fill[k]) / 2)) : ink);
  });
});

test('explanation figure: the head statistics as six multiples with legends and baseline marks', () => {
  const r = headsResult();
  const fig = exportExplain(r);
  const grids = headStatGrids(r);
  const cells = fig.items.filter((it): it is ImageItem => it.kind === 'image' && it.role === 'head-stat');
  assert.equal(cells.length, 6);
  const lut = colorLut('viridis');
  cells.forEach((c, n) => {
    assert.equal(c.rows, 2);
    assert.equal(c.cols, 3);
    assert.equal(c.cellW, 14);
    assert.equal(c.attrs?.['data-stat'], grids[n].stat.key);
    // Every cell has its value's colour, or the masked grey where there is none.
    grids[n].values.forEach((v, i) => {
      const want = statColor(v, grids[n].domain, lut) ?? PAPER.masked;
      assert.deepEqual(Array.from(c.rgba.subarray(i * 4, i * 4 + 3)), [...want], `${grids[n].stat.key}[${i}]`);
      assert.equal(c.masked?.[i], Number.isNaN(v) ? 1 : 0);
    });
  });
  // Entropy (1) + special (1) + punctuation (1) + previous token (0) + distance (2) + JSD (1).
  assert.equal(ofRole(fig, 'baseline-mark').length, 6);
  assert.deepEqual(
    ofRole(fig, 'head-stat-title').map((it) => (it.kind === 'text' ? it.text : '')),
    [
      'Entropy (nats)',
      'Special-token share',
      'Punctuation share',
      'Previous-token score',
      'Mean attended distance (tokens)',
      'JSD from uniform (bits)',
    ],
  );
  // The multiples lie inside the figure; each has its hit region.
  for (const c of cells) assert.ok(c.x + c.cols * c.cellW <= fig.width && c.y + c.rows * c.cellH <= fig.height);
  assert.deepEqual(
    fig.regions.map((g) => g.id),
    grids.map((g) => `head-stat:${g.stat.key}`),
  );
  const plain = exportExplain(fixtureResult());
  assert.ok(fig.height > plain.height, 'the section adds height');
  assert.equal(ofRole(plain, 'head-stat').length, 0, 'no head table, no section');
  const svg = sceneToSvg(fig);
  assert.ok(svg.includes('data-stat="entropy"') && svg.includes('Head statistics'));
  assert.ok(svg.includes('data-masked="1"'), 'the missing entropy is marked as such');
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
  const fig = compareFigure(data, 'viridis', PAPER, EXPORT_OPTIONS);
  const cells = fig.items.filter((it): it is ImageItem => it.kind === 'image' && it.role !== 'legend');
  assert.deepEqual(
    cells.map((c) => c.role),
    ['matrix', 'matrix', 'difference'],
  );
  // b − a = −1 → the blue end, +1 → the red end, 0 → white.
  assert.deepEqual(
    Array.from(cells[2].rgba),
    [33, 102, 172, 255, 178, 24, 43, 255, 247, 247, 247, 255, 247, 247, 247, 255],
  );
  assert.ok(fig.title.includes('head 0 vs head 1'));
  assert.deepEqual(
    fig.regions.map((r) => r.id),
    ['a', 'b', 'diff'],
  );
});

test('token strip: non-candidates grey with muted text; the flat uniform row at the bottom of its scale, not the top', () => {
  const r = fixtureResult();
  const strip = stripFigure(r, 'viridis', 2000, PAPER);
  const cells = ofRole(strip, 'score').filter((it) => it.kind === 'rect');
  // Rows: rollout, loo, uniform (flow failed, no cells); 4 tokens each; tokens 0 and 3 are not candidates.
  assert.equal(cells.length, 12);
  const fill = (row: number, token: number) => {
    const it = cells[row * 4 + token];
    return it.kind === 'rect' ? it.fill : null;
  };
  for (const row of [0, 1, 2])
    for (const token of [0, 3]) assert.deepEqual(fill(row, token), PAPER.masked, `row ${row} token ${token}`);
  const lut = colorLut('viridis');
  const first: [number, number, number] = [lut[0], lut[1], lut[2]];
  const last: [number, number, number] = [lut[1020], lut[1021], lut[1022]];
  // Uniform: 0.25 everywhere → the colour map's first colour, never its last.
  assert.deepEqual(fill(2, 1), first);
  assert.deepEqual(fill(2, 2), first);
  // Rollout over the candidates [0.2, 0.1]: 0.2 is the row's maximum → the last colour.
  assert.deepEqual(fill(0, 1), last);
  // Every method's meaning and unit is written under the strip: loo in the target's unit (cosine here).
  const meanings = ofRole(strip, 'method-meaning').map((t) => (t.kind === 'text' ? t.text : ''));
  assert.equal(meanings.length, 4);
  assert.ok(meanings[1].startsWith('Leave-one-out: ') && meanings[1].includes('cosine similarity'), meanings[1]);
  assert.ok(meanings[3].includes('1/n'), meanings[3]);
});

test('faithfulness plots carry a y-axis title with the target unit', () => {
  const fig = exportExplain(fixtureResult());
  const titles = ofRole(fig, 'axis-title').filter((t) => t.kind === 'text' && t.vertical);
  assert.deepEqual(
    titles.map((t) => (t.kind === 'text' ? t.text : '')),
    ['drop of the target (cosine)', 'drop of the target (cosine)'],
  );
});

test('head sweep multiple: layers × heads cells of τ on [−1, 1], its own role and region, recency on the legend', () => {
  const sweep = { reference: 'loo', layers: [0, 1], heads: 3, values: [1, 0, -1, 0.5, NaN, -0.5], recency: 0.25 };
  const grid = headSweepGrid(sweep);
  assert.deepEqual(
    [grid.stat.key, grid.domain, grid.marks, grid.baselineLabel],
    ['sweep', { lo: -1, hi: 1 }, [0.25], 'recency'],
  );
  const fig = headSweepFigure(grid, 'viridis', PAPER);
  const cells = fig.items.filter((it): it is ImageItem => it.kind === 'image' && it.role === 'head-sweep');
  assert.equal(cells.length, 1);
  assert.deepEqual([cells[0].rows, cells[0].cols], [2, 3]);
  assert.deepEqual(Array.from(cells[0].values!).slice(0, 4), [1, 0, -1, 0.5]);
  assert.equal(cells[0].masked![4], 1); // NaN: masked
  assert.equal(fig.items.filter((it) => it.role === 'head-stat').length, 0);
  assert.deepEqual(
    fig.regions.map((r) => r.id),
    ['head-sweep'],
  );
  const texts = fig.items.filter((it): it is TextItem => it.kind === 'text').map((t) => t.text);
  assert.ok(texts.includes('Kendall τ with loo'), texts.join(' | '));
  assert.ok(texts.includes('recency: 0.250'), texts.join(' | '));
  // The export adds it before the head statistics when the result has a sweep.
  const r = { ...fixtureResult(), headSweep: { ...sweep, metric: 'kendall' as const } };
  const svg = sceneToSvg(explainFigure(r, { metric: 'kendall', colorMap: 'viridis' }, PAPER, EXPORT_OPTIONS));
  assert.match(svg, /Which heads agree with loo\?/);
});
