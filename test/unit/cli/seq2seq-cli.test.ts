// `attention-lens run` and `export` on an encoder–decoder model as users run them (node dist/cli.js, through the
// Inspector's worker): tiny-marian-dates translates "the 14th of March, 2021" into "2021-03-14" with --translate;
// --out JSON has a kind per entry (encoder, decoder, cross), the source and target token lists, and maps equal to
// transformers' (reference_attention.json, 1e-5); --target-text scores a given translation with teacher forcing
// (log-probabilities of the reference); the same for its optimum ONNX export (tiny-marian-dates-onnx). Bad requests (--target-text on a decoder-only model, both options...):
// bad-input-catalogue.test.ts. `explain --methods saliency,grad-x-input` on ▁2021 (target:1): the --out JSON scores
// over the source are PyTorch autograd's (test/fixtures/gradients/tiny-marian-dates.json) to ≤ 1e-4 relative norm;
// `--methods attnlrp`: LXT's rules' relevances (test/fixtures/attnlrp/tiny-marian-dates.json). An mBART-50 folder
// with --source-lang / --target-lang gives transformers' source ids, translation and target labels
// (test/fixtures/generate/mbart-languages.json).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fixturesDir, marianDatesDir, repoRoot } from '../../helpers/fixtures';
import { safetensorsRows } from '../../helpers/safetensors-rows';
import { gradientTimesInput, saliency } from '../../../runtime/analysis/gradient-methods';
import { crossAttentionTimesGradient } from '../../../runtime/grad/seq2seq-gradients';

const CLI = path.join(repoRoot, 'dist/cli.js');
const TMP = mkdtempSync(path.join(tmpdir(), 'lens-seq2seq-cli-'));
after(() => rmSync(TMP, { recursive: true, force: true }));
const ref = JSON.parse(readFileSync(path.join(marianDatesDir, 'reference_attention.json'), 'utf8')) as {
  source_text: string;
  target_text: string;
  source_tokens: string[];
  target_tokens: string[];
  decoder_input_tokens: string[];
  source_ids: number[];
  target_ids: number[];
  decoder_input_ids: number[];
  target_logprobs: number[];
  encoder_attentions: number[][][][];
  decoder_attentions: number[][][][];
  cross_attentions: number[][][][];
};

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface JsonEntry {
  layer: number;
  kind: string;
  stack_layer: number;
  heads: number;
  data: number[][][];
}

function maxDiff(a: number[][][], b: number[][][]): number {
  let worst = 0;
  assert.equal(a.length, b.length);
  a.forEach((head, h) => {
    assert.equal(head.length, b[h].length, 'rows');
    head.forEach((row, q) => {
      assert.equal(row.length, b[h][q].length, 'keys');
      row.forEach((x, k) => (worst = Math.max(worst, Math.abs(x - b[h][q][k]))));
    });
  });
  return worst;
}

// The family builder (safetensors) and the optimum-layout ONNX export of the same weights give the same results.
for (const [i, [name, dir]] of [
  ['family builder', marianDatesDir],
  ['ONNX import', path.join(fixturesDir, 'models', 'tiny-marian-dates-onnx')],
].entries()) {
  test(`${name}: run --translate prints the translation; --out JSON has every kind, both token lists and the reference maps`, () => {
    const out = path.join(TMP, `run-${i}.json`);
    const r = cli('run', '--model', dir, '--text', ref.source_text, '--translate', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^translation 2021-03-14$/m);
    assert.match(r.stdout, /^cross L1 H0 /m);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    // Each line's query→key pairs: decoder and cross rows by the target token each predicts (transformers' target
    // tokens, in order), a decoder key by what the decoder read (one of its input tokens), a cross key by a source token.
    const pairs = (prefix: string) =>
      new RegExp(`^${prefix} H0  entropy \\S+  (.*)$`, 'm')
        .exec(r.stdout)![1]
        .split(' ')
        .map((p) => p.split('→'));
    const dec = pairs('dec L0');
    assert.deepEqual(
      dec.map(([q]) => q),
      ref.target_tokens,
    );
    for (const [, k] of dec) assert.ok(ref.decoder_input_tokens.includes(k), `decoder key ${k}`);
    for (const [, k] of pairs('cross L0'))
      assert.ok(
        ref.source_tokens.map((t) => t.replace(/^▁/, '')).includes(k) || ref.source_tokens.includes(k),
        `cross key ${k}`,
      );
    assert.deepEqual(
      doc.source_tokens.map((t: { id: number }) => t.id),
      ref.source_ids,
    );
    assert.deepEqual(
      doc.target_tokens.map((t: { id: number }) => t.id),
      ref.target_ids,
    );
    assert.deepEqual(
      doc.decoder_input_tokens.map((t: { id: number }) => t.id),
      ref.decoder_input_ids,
    );
    assert.equal(doc.translation, '2021-03-14');
    assert.equal(doc.target_mode, 'translated');
    assert.equal(doc.target_end, 'stop');
    assert.deepEqual(doc.model.attentionKinds, ['encoder', 'encoder', 'decoder', 'decoder', 'cross', 'cross']);
    const entries = doc.attention as JsonEntry[];
    assert.deepEqual(
      entries.map((e) => [e.layer, e.kind, e.stack_layer]),
      [
        [0, 'encoder', 0],
        [1, 'encoder', 1],
        [2, 'decoder', 0],
        [3, 'decoder', 1],
        [4, 'cross', 0],
        [5, 'cross', 1],
      ],
    );
    const want = { encoder: ref.encoder_attentions, decoder: ref.decoder_attentions, cross: ref.cross_attentions };
    for (const e of entries) {
      const d = maxDiff(e.data, want[e.kind as keyof typeof want][e.stack_layer]);
      assert.ok(d <= 1e-5, `${e.kind} ${e.stack_layer}: ${d}`);
    }
    doc.target_logprobs.forEach((lp: number, i: number) => assert.ok(Math.abs(lp - ref.target_logprobs[i]) < 1e-4));
  });

  test(`${name}: run --target-text scores the given translation (teacher forcing) with the reference log-probabilities`, () => {
    const out = path.join(TMP, `forced-${i}.json`);
    const r = cli('run', '--model', dir, '--text', ref.source_text, '--target-text', '2021-03-14', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /^translation/m);
    assert.match(r.stdout, /^target {5}6 tokens, log p /m);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(doc.target_mode, 'teacher-forced');
    assert.deepEqual(
      doc.target_tokens.map((t: { id: number }) => t.id),
      ref.target_ids,
    );
    doc.target_logprobs.forEach((lp: number, i: number) => assert.ok(Math.abs(lp - ref.target_logprobs[i]) < 1e-4));
    const cross = (doc.attention as JsonEntry[]).find((e) => e.kind === 'cross' && e.stack_layer === 1)!;
    assert.ok(maxDiff(cross.data, ref.cross_attentions[1]) <= 1e-5);
  });
}

test('run --beams 4: the beam search translation, said so, with maps of a teacher-forced pass on it (the reference)', () => {
  const out = path.join(TMP, 'beams.json');
  const r = cli('run', '--model', marianDatesDir, '--text', ref.source_text, '--beams', '4', '--out', out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^translation 2021-03-14 {2}\(beam search, 4 beams\)$/m);
  const doc = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(doc.target_beams, 4);
  assert.equal(doc.target_mode, 'translated');
  assert.deepEqual(
    doc.target_tokens.map((t: { id: number }) => t.id),
    ref.target_ids,
  );
  const want = { encoder: ref.encoder_attentions, decoder: ref.decoder_attentions, cross: ref.cross_attentions };
  for (const e of doc.attention as JsonEntry[]) {
    const d = maxDiff(e.data, want[e.kind as keyof typeof want][e.stack_layer]);
    assert.ok(d <= 1e-5, `${e.kind} ${e.stack_layer}: ${d}`);
  }
  doc.target_logprobs.forEach((lp: number, i: number) => assert.ok(Math.abs(lp - ref.target_logprobs[i]) < 1e-4));
});

test('export --format json carries the kinds and the target', () => {
  const out = path.join(TMP, 'export.json');
  const r = cli('export', '--model', marianDatesDir, '--text', ref.source_text, '--translate', '--out', out);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(readFileSync(out, 'utf8'));
  assert.deepEqual(
    doc.layers.map((l: { kind: string }) => l.kind),
    ['encoder', 'encoder', 'decoder', 'decoder', 'cross', 'cross'],
  );
  assert.deepEqual(
    doc.target_tokens.map((t: { id: number }) => t.id),
    ref.target_ids,
  );
  assert.equal(doc.translation, '2021-03-14');
});

test('export --view head of a cross layer (SVG): target tokens left, source tokens right; --view grid labels the three stacks', () => {
  const head = path.join(TMP, 'head-cross.svg');
  const r = cli(
    'export',
    '--model',
    marianDatesDir,
    '--text',
    ref.source_text,
    '--translate',
    '--view',
    'head',
    '--layer',
    '4',
    '--head',
    '0',
    '--format',
    'svg',
    '--out',
    head,
  );
  assert.equal(r.code, 0, r.stderr);
  const svg = readFileSync(head, 'utf8');
  const labels = (cls: string) =>
    [...svg.matchAll(new RegExp(`<text class="${cls}"[^>]*>([^<]*)</text>`, 'g'))].map((m) => m[1]);
  const plain = (xs: string[]) =>
    xs.map((x) => x.replace(/[▁␣]/g, ' ').trim().replace('&lt;', '<').replace('&gt;', '>'));
  assert.deepEqual(plain(labels('label-left')), plain(ref.target_tokens));
  assert.deepEqual(plain(labels('label-right')), plain(ref.source_tokens));
  assert.deepEqual(labels('axis-title'), ['target (query)', 'source (key)']);
  assert.match(svg, /layer 4: cross-attention 0 · head 0 · 6 × 8 tokens/);
  const grid = path.join(TMP, 'grid.svg');
  const g = cli(
    'export',
    '--model',
    marianDatesDir,
    '--text',
    ref.source_text,
    '--translate',
    '--view',
    'grid',
    '--format',
    'svg',
    '--out',
    grid,
  );
  assert.equal(g.code, 0, g.stderr);
  const gs = readFileSync(grid, 'utf8');
  assert.deepEqual(
    [...gs.matchAll(/<text class="stack-title"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]),
    [
      'Encoder self-attention (source → source)',
      'Decoder self-attention (target → target, masked)',
      'Cross-attention (target → source)',
    ],
  );
  assert.match(gs, /model grid: 6 layers \(2 encoder, 2 decoder, 2 cross\) × 4 heads · 8 source \+ 6 target tokens/);
});

test('explain --methods saliency,grad-x-input on ▁2021 (target:1): the source scores are PyTorch autograd’s ≤ 1e-4', () => {
  const grad = JSON.parse(readFileSync(path.join(fixturesDir, 'gradients', 'tiny-marian-dates.json'), 'utf8')) as {
    source_ids: number[];
    labels: number[];
    position: number;
    hidden: number;
    token: { grad_source: number[] };
  };
  const out = path.join(TMP, 'explain-gradients.json');
  const r = cli(
    'explain',
    '--model',
    marianDatesDir,
    '--text',
    ref.source_text,
    '--target',
    `target:${grad.position + 1}`,
    '--methods',
    'saliency,grad-x-input,integrated-gradients',
    '--out',
    out,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^note {7}Integrated Gradients \(32 steps, source-side zero-embedding baseline\): Σ attributions/m,
  );
  const doc = JSON.parse(readFileSync(out, 'utf8'));
  assert.deepEqual(
    doc.tokens.map((t: { id: number }) => t.id),
    grad.source_ids,
  );
  assert.deepEqual(
    doc.seq2seq.targetTokens.map((t: { id: number }) => t.id),
    grad.labels,
  );
  const S = grad.source_ids.length;
  const E = grad.hidden;
  const x = safetensorsRows(path.join(marianDatesDir, 'model.safetensors'), 'model.shared.weight', grad.source_ids);
  const want: Record<string, Float64Array> = {
    saliency: saliency(grad.token.grad_source, S, E),
    'grad-x-input': gradientTimesInput(grad.token.grad_source, x, S, E),
  };
  for (const [id, w] of Object.entries(want)) {
    const got = (doc.methods as { id: string; scores: number[] }[]).find((m) => m.id === id)!.scores;
    let d = 0;
    let n = 0;
    got.forEach((v, s) => ((d += (v - w[s]) ** 2), (n += w[s] ** 2)));
    assert.ok(Math.sqrt(d / n) <= 1e-4, `${id}: relative error ${Math.sqrt(d / n)}`);
  }
});

test('explain --methods attn-x-grad,alti,value-zeroing on ▁2021 (target:1): --out JSON equals PyTorch autograd (≤ 1e-4) and the float64 mixing reference (≤ 1e-5)', () => {
  const grad = JSON.parse(readFileSync(path.join(fixturesDir, 'gradients', 'tiny-marian-dates.json'), 'utf8')) as {
    source_ids: number[];
    decoder_input_ids: number[];
    position: number;
    token: { cross_attention: number[][]; grad_cross: number[][] };
  };
  const mix = JSON.parse(readFileSync(path.join(fixturesDir, 'mixing', 'seq2seq-tiny-marian-dates.json'), 'utf8')) as {
    alti_plus_source: number[];
    value_zeroing: number[][];
  };
  const out = path.join(TMP, 'explain-mixing.json');
  const r = cli(
    'explain',
    '--model',
    marianDatesDir,
    '--text',
    ref.source_text,
    '--target',
    `target:${grad.position + 1}`,
    '--methods',
    'attn-x-grad,alti,value-zeroing',
    '--layer',
    '0',
    '--out',
    out,
  );
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(readFileSync(out, 'utf8'));
  assert.deepEqual(
    doc.tokens.map((t: { id: number }) => t.id),
    grad.source_ids,
  );
  const S = grad.source_ids.length;
  const T = grad.decoder_input_ids.length;
  const scores = (id: string) => (doc.methods as { id: string; scores: number[] }[]).find((m) => m.id === id)!.scores;
  // --layer 0: attention × gradient and value zeroing read decoder layer 0; ALTI+ reads every layer.
  const heads = grad.token.grad_cross[0].length / (T * S);
  const axg = crossAttentionTimesGradient(grad.token.cross_attention[0], grad.token.grad_cross[0], heads, T, S, 'mean');
  let d = 0;
  let n = 0;
  scores('attn-x-grad').forEach((v, s) => ((d += (v - axg[s]) ** 2), (n += axg[s] ** 2)));
  assert.ok(Math.sqrt(d / n) <= 1e-4, `attn-x-grad: relative error ${Math.sqrt(d / n)}`);
  const row0 = (m: number[]) => m.slice(0, S);
  const close = (got: number[], want: number[]) => Math.max(...got.map((v, j) => Math.abs(v - want[j])));
  assert.ok(close(scores('alti'), row0(mix.alti_plus_source)) <= 1e-5);
  assert.ok(close(scores('value-zeroing'), row0(mix.value_zeroing[0])) <= 1e-5);
});

test('explain --methods attnlrp on ▁2021 (target:1): the source relevances are LXT’s rules’ (≤ 1e-4), its conservation note printed', () => {
  const lrp = JSON.parse(readFileSync(path.join(fixturesDir, 'attnlrp', 'tiny-marian-dates.json'), 'utf8')) as {
    source_ids: number[];
    position: number;
    target: number;
    relevance_source: number[];
  };
  const out = path.join(TMP, 'explain-attnlrp.json');
  const r = cli(
    'explain',
    '--model',
    marianDatesDir,
    '--text',
    ref.source_text,
    '--target',
    `target:${lrp.position + 1}`,
    '--methods',
    'grad-x-input,attnlrp',
    '--out',
    out,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^note {7}AttnLRP \(Achtibat et al\. 2024, LXT’s rules\) explains the token’s logit: Σ relevance = /m,
  );
  const doc = JSON.parse(readFileSync(out, 'utf8'));
  assert.deepEqual(
    doc.tokens.map((t: { id: number }) => t.id),
    lrp.source_ids,
  );
  const got = (doc.methods as { id: string; scores: number[] }[]).find((m) => m.id === 'attnlrp')!.scores;
  let d = 0;
  let n = 0;
  got.forEach((v, s) => ((d += (v - lrp.relevance_source[s]) ** 2), (n += lrp.relevance_source[s] ** 2)));
  assert.ok(Math.sqrt(d / n) <= 1e-4, `attnlrp: relative error ${Math.sqrt(d / n)}`);
});

/** hf-tiny/mbart's weights with transformers' own MBart50Tokenizer (as scripts/make-mbart-language-fixture.py), and
 * the fixture's fr_XX → ro_RO case on "Hello world". */
function mbart50() {
  const dir = path.join(TMP, 'mbart50');
  mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'generation_config.json', 'model.safetensors'])
    copyFileSync(path.join(fixturesDir, 'models', 'hf-tiny', 'mbart', f), path.join(dir, f));
  for (const f of ['tokenizer.json', 'tokenizer_config.json'])
    copyFileSync(path.join(fixturesDir, 'tokenizers', 'mbart', 'mbart-50', f), path.join(dir, f));
  const c = (
    JSON.parse(readFileSync(path.join(fixturesDir, 'generate', 'mbart-languages.json'), 'utf8')) as {
      cases: {
        tokenizer: string;
        src_lang: string;
        tgt_lang: string;
        text: string;
        source_ids: number[];
        greedy: number[];
        target_text: string;
        labels: number[];
        label_logprobs: number[];
      }[];
    }
  ).cases.find((x) => x.tokenizer === 'mbart-50' && x.src_lang === 'fr_XX' && x.text === 'Hello world')!;
  return { dir, c, languages: ['--source-lang', c.src_lang, '--target-lang', c.tgt_lang] };
}

test('mBART-50: run --source-lang --target-lang reads the source as that language and scores a target in the other, as transformers does', () => {
  const { dir, c, languages } = mbart50();
  const out = path.join(TMP, 'mbart50-translate.json');
  const r = cli('run', '--model', dir, '--text', c.text, ...languages, '--out', out);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(readFileSync(out, 'utf8'));
  assert.deepEqual(
    doc.source_tokens.map((t: { id: number }) => t.id),
    c.source_ids,
  );
  assert.equal(doc.source_tokens[0].text, c.src_lang);
  // transformers' tokens up to its limit of 10 (where it forced eos): the target language's code first.
  assert.deepEqual(
    doc.target_tokens.slice(0, 9).map((t: { id: number }) => t.id),
    c.greedy.slice(0, 9),
  );
  assert.equal(doc.target_tokens[0].text, c.tgt_lang);
  const forcedOut = path.join(TMP, 'mbart50-forced.json');
  const f = cli(
    'run',
    '--model',
    dir,
    '--text',
    c.text,
    ...languages,
    '--target-text',
    c.target_text,
    '--out',
    forcedOut,
  );
  assert.equal(f.code, 0, f.stderr);
  const forced = JSON.parse(readFileSync(forcedOut, 'utf8'));
  assert.deepEqual(
    forced.target_tokens.map((t: { id: number }) => t.id),
    c.labels,
  );
  forced.target_logprobs.forEach((lp: number, i: number) => assert.ok(Math.abs(lp - c.label_logprobs[i]) < 1e-4));
});

test('mBART-50: explain --source-lang --target-lang --target-text explains transformers’ target: its labels and log p', () => {
  const { dir, c, languages } = mbart50();
  const out = path.join(TMP, 'mbart50-explain.json');
  const r = cli(
    'explain',
    '--model',
    dir,
    '--text',
    c.text,
    ...languages,
    '--target-text',
    c.target_text,
    '--target',
    'target',
    '--out',
    out,
  );
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(readFileSync(out, 'utf8'));
  assert.deepEqual(
    doc.tokens.map((t: { id: number }) => t.id),
    c.source_ids,
  );
  assert.deepEqual(
    doc.seq2seq.targetTokens.map((t: { id: number }) => t.id),
    c.labels,
  );
  const sum = c.label_logprobs.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(doc.target.value - sum) < 1e-3, `log p ${doc.target.value} vs ${sum}`);
});

test('explain on optimum’s exports of tiny-marian-dates (with and without a cache) scores the source as the family graphs do; gradient and mixing methods are refused by name', () => {
  const methods = ['--methods', 'cross-attention,cross-rollout,loo,occlusion,saliency,alti'];
  const args = ['--text', ref.source_text, '--target', 'target:1', ...methods];
  const scores = (model: string) => {
    const out = path.join(TMP, `explain-${path.basename(model)}.json`);
    const r = cli('explain', '--model', model, ...args, '--out', out);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(readFileSync(out, 'utf8')) as {
      target: { value: number };
      methods: { id: string; scores: number[]; error?: string }[];
    };
  };
  const family = scores(marianDatesDir);
  for (const layout of ['tiny-marian-dates-onnx', 'tiny-marian-dates-onnx-past']) {
    const imported = scores(path.join(fixturesDir, 'models', layout));
    assert.ok(Math.abs(imported.target.value - family.target.value) < 1e-5, layout);
    for (const id of ['cross-attention', 'cross-rollout', 'loo', 'occlusion']) {
      const a = family.methods.find((m) => m.id === id)!.scores;
      const b = imported.methods.find((m) => m.id === id)!.scores;
      assert.equal(b.length, ref.source_ids.length);
      b.forEach((x, i) => assert.ok(Math.abs(x - a[i]) <= 1e-5, `${layout} ${id}[${i}]: ${x} vs ${a[i]}`));
    }
    assert.match(imported.methods.find((m) => m.id === 'saliency')!.error ?? '', /cannot be differentiated/);
    assert.match(imported.methods.find((m) => m.id === 'alti')!.error ?? '', /does not say which tensors they are/);
  }
});

test('the merged export on Wasm: the translation, and nothing but the tool’s own lines on stderr', () => {
  const r = cli(
    'run',
    '--model',
    path.join(fixturesDir, 'models', 'tiny-marian-dates-onnx-merged'),
    '--text',
    ref.source_text,
    '--backend',
    'wasm',
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^translation ${ref.target_text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
  // onnxruntime-web's own warnings (unused initializers of the merged decoder) are not printed
  assert.doesNotMatch(r.stderr, /onnxruntime/);
});
