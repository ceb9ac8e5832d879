// `attention-lens run --out FOLDER/` as users run it (node dist/cli.js): one NPY per layer [heads, query, key] and
// a sidecar listing them. stories260K on a short text: every file equals the independent numpy reference attention;
// over 300 tokens forced to a kept run (--long kept: only q and k are kept, each layer's rows are recomputed block
// by block from them): every file equals the dense maps of the same input (--long maps) to 1e-5. tiny-marian-dates:
// encoder-, decoder- and cross- files whose maps equal transformers' reference (the cross file is [heads, target,
// source]). Refusals (a file, the model's own folder, JSON of a kept run): bad-input-catalogue.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fixtureModel, marianDatesDir, repoRoot, storiesReferenceFile } from '../../helpers/fixtures';

const CLI = path.join(repoRoot, 'dist/cli.js');
const MODEL = fixtureModel('stories260K');
const TMP = mkdtempSync(path.join(tmpdir(), 'lens-run-folder-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** An NPY 1.0 float32 file: its shape and data (parsed here, independently of the writer). */
function readNpy(file: string): { shape: number[]; data: Float32Array } {
  const b = readFileSync(file);
  assert.equal(b.subarray(0, 6).toString('latin1'), '\x93NUMPY');
  const headerLength = b.readUInt16LE(8);
  const header = b.subarray(10, 10 + headerLength).toString('latin1');
  assert.match(header, /'descr': '<f4', 'fortran_order': False/);
  const shape = /'shape': \(([^)]*)\)/
    .exec(header)![1]
    .split(',')
    .filter((s) => s.trim())
    .map(Number);
  const start = 10 + headerLength;
  assert.equal(start % 64, 0);
  const data = new Float32Array(b.buffer.slice(b.byteOffset + start, b.byteOffset + b.length));
  assert.equal(
    data.length,
    shape.reduce((a, x) => a * x, 1),
  );
  return { shape, data };
}

interface Sidecar {
  format: string;
  kept: boolean;
  tokens: { text: string }[];
  source_tokens?: unknown[];
  target_tokens?: { id: number }[];
  files: { file: string; layer: number; kind: string; stack_layer?: number; shape: number[]; axes: string[] }[];
}
const sidecar = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'attention-lens.json'), 'utf8')) as Sidecar;

function worst(a: Float32Array, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i] - b[i]));
  return w;
}

before(() => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'pipe' });
});

test('a short run: one NPY per layer equal to the reference attention, and the sidecar lists them', () => {
  const ref = JSON.parse(readFileSync(storiesReferenceFile, 'utf8')) as { text: string; attn: number[][][][] };
  const out = path.join(TMP, 'short') + '/';
  const r = cli('run', '--model', MODEL, '--text', ref.text, '--out', out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote +.*short\/ \(5 NPY files \[heads, query, key\] and attention-lens\.json\)/);
  const side = sidecar(out);
  assert.equal(side.format, 'attention-lens-npy-layers');
  assert.equal(side.kept, false);
  assert.deepEqual(
    side.files.map((f) => f.file),
    ['layer-00.npy', 'layer-01.npy', 'layer-02.npy', 'layer-03.npy', 'layer-04.npy'],
  );
  assert.deepEqual(readdirSync(out).sort(), ['attention-lens.json', ...side.files.map((f) => f.file)].sort());
  let w = 0;
  for (const f of side.files) {
    const { shape, data } = readNpy(path.join(out, f.file));
    assert.deepEqual(shape, f.shape);
    assert.deepEqual(f.axes, ['head', 'query', 'key']);
    w = Math.max(w, worst(data, ref.attn[f.layer].flat(2)));
  }
  assert.ok(w <= 1e-5, `largest difference from the reference: ${w}`);
});

test('a kept run (300 tokens, --long kept): every NPY, streamed from q and k, equals the dense maps to 1e-5', () => {
  const text = 'Once upon a time, there was a little girl named Lily. She liked to play in the park. '.repeat(14);
  const dense = path.join(TMP, 'dense/');
  const kept = path.join(TMP, 'kept/');
  const a = cli('run', '--model', MODEL, '--text', text, '--truncate', '--long', 'maps', '--out', dense);
  assert.equal(a.code, 0, a.stderr);
  const b = cli('run', '--model', MODEL, '--text', text, '--truncate', '--long', 'kept', '--out', kept);
  assert.equal(b.code, 0, b.stderr);
  const d = sidecar(dense);
  const k = sidecar(kept);
  assert.equal(d.kept, false);
  assert.equal(k.kept, true);
  const n = k.tokens.length;
  assert.ok(n > 240, `the kept run takes the blocked summaries variant (${n} tokens)`);
  assert.deepEqual(k.files, d.files);
  let w = 0;
  for (const f of k.files) {
    assert.deepEqual(f.shape, [8, n, n]);
    const x = readNpy(path.join(kept, f.file));
    const y = readNpy(path.join(dense, f.file));
    w = Math.max(w, worst(x.data, y.data));
  }
  assert.ok(w <= 1e-5, `largest difference from the dense maps: ${w}`);
});

test('tiny-marian-dates: encoder, decoder and cross files equal the reference; the cross file is [heads, target, source]', () => {
  const ref = JSON.parse(readFileSync(path.join(marianDatesDir, 'reference_attention.json'), 'utf8')) as {
    source_text: string;
    target_text: string;
    target_ids: number[];
    encoder_attentions: number[][][][];
    decoder_attentions: number[][][][];
    cross_attentions: number[][][][];
  };
  const out = path.join(TMP, 'marian/');
  // --long kept: an encoder–decoder streams its maps anyway, and the sidecar says they were not kept.
  const r = cli(
    'run',
    '--model',
    marianDatesDir,
    '--text',
    ref.source_text,
    '--translate',
    '--long',
    'kept',
    '--out',
    out,
  );
  assert.equal(r.code, 0, r.stderr);
  const side = sidecar(out);
  assert.equal(side.kept, false);
  // and as JSON too: nothing is kept, so nothing is refused
  const json = path.join(TMP, 'marian-kept.json');
  const j = cli('run', '--model', marianDatesDir, '--text', ref.source_text, '--long', 'kept', '--out', json);
  assert.equal(j.code, 0, j.stderr);
  assert.equal(JSON.parse(readFileSync(json, 'utf8')).attention.length, 6);
  assert.deepEqual(
    side.files.map((f) => f.file),
    ['encoder-00.npy', 'encoder-01.npy', 'decoder-00.npy', 'decoder-01.npy', 'cross-00.npy', 'cross-01.npy'],
  );
  assert.deepEqual(
    side.target_tokens?.map((t) => t.id),
    ref.target_ids,
  );
  assert.ok(side.source_tokens);
  const S = 8;
  const T = ref.target_ids.length;
  let w = 0;
  for (const f of side.files) {
    const { shape, data } = readNpy(path.join(out, f.file));
    const refs = { encoder: ref.encoder_attentions, decoder: ref.decoder_attentions, cross: ref.cross_attentions };
    const expected = refs[f.kind as keyof typeof refs][f.stack_layer!];
    const dims = { encoder: [4, S, S], decoder: [4, T, T], cross: [4, T, S] }[f.kind as keyof typeof refs];
    assert.deepEqual(shape, dims, f.file);
    assert.deepEqual(
      f.axes,
      f.kind === 'cross'
        ? ['head', 'target', 'source']
        : f.kind === 'decoder'
          ? ['head', 'target', 'target']
          : ['head', 'query', 'key'],
    );
    w = Math.max(w, worst(data, expected.flat(2)));
  }
  assert.ok(w <= 1e-5, `largest difference from transformers: ${w}`);
});

test('tiny-marian-dates export: NPY per kind (the cross file [layers, heads, target, source]) equal to the reference; an SVG titled with its kind', () => {
  const ref = JSON.parse(readFileSync(path.join(marianDatesDir, 'reference_attention.json'), 'utf8')) as {
    source_text: string;
    encoder_attentions: number[][][][];
    decoder_attentions: number[][][][];
    cross_attentions: number[][][][];
  };
  const out = path.join(TMP, 'marian-export.npy');
  const r = cli('export', '--model', marianDatesDir, '--text', ref.source_text, '--translate', '--out', out);
  assert.equal(r.code, 0, r.stderr);
  const side = JSON.parse(readFileSync(out + '.json', 'utf8')) as {
    arrays: { kind: string; file: string; shape: number[]; axes: string[] }[];
    target_tokens: unknown[];
  };
  assert.deepEqual(
    side.arrays.map((a) => [a.kind, a.file, a.shape, a.axes]),
    [
      ['encoder', 'marian-export.npy', [2, 4, 8, 8], ['layer', 'head', 'source', 'source']],
      ['decoder', 'marian-export.decoder.npy', [2, 4, 6, 6], ['layer', 'head', 'target', 'target']],
      ['cross', 'marian-export.cross.npy', [2, 4, 6, 8], ['layer', 'head', 'target', 'source']],
    ],
  );
  assert.equal(side.target_tokens.length, 6);
  const refs: Record<string, number[][][][]> = {
    encoder: ref.encoder_attentions,
    decoder: ref.decoder_attentions,
    cross: ref.cross_attentions,
  };
  let w = 0;
  for (const a of side.arrays) {
    const { shape, data } = readNpy(path.join(TMP, a.file));
    assert.deepEqual(shape, a.shape);
    w = Math.max(w, worst(data, refs[a.kind].flat(3)));
  }
  assert.ok(w <= 1e-5, `largest difference from transformers: ${w}`);
  const svg = path.join(TMP, 'marian-cross.svg');
  const s = cli(
    'export',
    '--model',
    marianDatesDir,
    '--text',
    ref.source_text,
    '--translate',
    '--layer',
    '4',
    '--head',
    '0',
    '--out',
    svg,
  );
  assert.equal(s.code, 0, s.stderr);
  assert.match(readFileSync(svg, 'utf8'), /layer 4: cross-attention 0 · head 0 · 6 × 8 tokens/);
});
