// `attention-lens export` of an encoder–decoder run as users run it (node dist/cli.js), on tiny-marian-dates
// translating "the 14th of March, 2021" (--translate): the CSV labels each row with the tokens of its kind — source ×
// source for encoder layers, decoder input × decoder input for decoder layers, decoder input × source for cross
// layers — as the JSON export's token lists (another writer) and transformers' reference
// (test/fixtures/models/tiny-marian-dates/reference_attention.json: "row i of decoder/cross attention is the query at
// decoder input i") say, with a kind column, and its weights are the reference's; the NPY export's summary gives
// each kind's real shape (the reference's shapes), the files hold those shapes, and the files of one export are put
// in place together (a refused decoder file leaves the earlier NPY as it was). NPY of a decoder-only model still
// streams to stdout. The refusals (NPY of an encoder–decoder to stdout, --out ending in /):
// bad-input-catalogue.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fixtureModel, marianDatesDir, repoRoot } from '../../helpers/fixtures';
import { parseCsv, parseNpy } from '../../helpers/parse-exports';

const CLI = path.join(repoRoot, 'dist/cli.js');
const TMP = fs.mkdtempSync(path.join(tmpdir(), 'lens-export-seq2seq-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

interface Reference {
  source_text: string;
  source_tokens: string[];
  decoder_input_tokens: string[];
  target_tokens: string[];
  shapes: Record<'encoder_attentions' | 'decoder_attentions' | 'cross_attentions', number[]>;
  encoder_attentions: number[][][][];
  decoder_attentions: number[][][][];
  cross_attentions: number[][][][];
}
const ref = JSON.parse(fs.readFileSync(path.join(marianDatesDir, 'reference_attention.json'), 'utf8')) as Reference;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: repoRoot,
    encoding: 'buffer',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, out: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}
const exportArgs = (...more: string[]) => [
  'export',
  '--model',
  marianDatesDir,
  '--text',
  ref.source_text,
  '--translate',
  ...more,
];

before(() => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'pipe' });
});

type Side = 'source' | 'target' | 'decoder input';

describe('export --format csv of an encoder–decoder run', () => {
  interface JsonExport {
    tokens: { text: string }[];
    source_tokens: { text: string }[];
    decoder_input_tokens: { text: string }[];
    target_tokens: { text: string }[];
    layers: { layer: number; kind: string; heads: number; queryLength: number; keyLength: number }[];
  }
  let json: JsonExport;
  let header: string[];
  /** CSV records by layer. */
  const byLayer = new Map<number, string[][]>();

  before(() => {
    const jsonOut = path.join(TMP, 'run.json');
    const csvOut = path.join(TMP, 'run.csv');
    const j = cli(...exportArgs('--out', jsonOut));
    assert.equal(j.code, 0, j.stderr);
    const c = cli(...exportArgs('--out', csvOut));
    assert.equal(c.code, 0, c.stderr);
    json = JSON.parse(fs.readFileSync(jsonOut, 'utf8')) as JsonExport;
    const rows = parseCsv(fs.readFileSync(csvOut, 'utf8'));
    header = rows[0];
    for (const r of rows.slice(1)) {
      const l = Number(r[0]);
      if (!byLayer.has(l)) byLayer.set(l, []);
      byLayer.get(l)!.push(r);
    }
  });

  test('the token lists of the JSON export are transformers’ (the independent reference)', () => {
    assert.deepEqual(
      json.source_tokens.map((t) => t.text),
      ref.source_tokens,
    );
    assert.deepEqual(
      json.decoder_input_tokens.map((t) => t.text),
      ref.decoder_input_tokens,
    );
    assert.deepEqual(
      json.target_tokens.map((t) => t.text),
      ref.target_tokens,
    );
  });

  test('a kind column after the seven columns', () => {
    assert.deepEqual(header, ['layer', 'head', 'query', 'key', 'weight', 'query_token', 'key_token', 'kind']);
  });

  const cases: {
    kind: string;
    stack: number;
    refMaps: keyof Reference;
    query: Side;
    key: Side;
  }[] = [
    { kind: 'encoder', stack: 1, refMaps: 'encoder_attentions', query: 'source', key: 'source' },
    // row i predicts target token i; key j is what the decoder read at j (the figures' labels)
    { kind: 'decoder', stack: 0, refMaps: 'decoder_attentions', query: 'target', key: 'decoder input' },
    { kind: 'cross', stack: 1, refMaps: 'cross_attentions', query: 'target', key: 'source' },
  ];
  for (const c of cases)
    test(`${c.kind} layer ${c.stack}: rows labelled ${c.query} × ${c.key} as the JSON lists, weights the reference's`, () => {
      const entry = json.layers.filter((l) => l.kind === c.kind)[c.stack];
      assert.ok(entry, `the JSON export has ${c.kind} layer ${c.stack}`);
      const list = (side: Side) =>
        (side === 'source'
          ? json.source_tokens
          : side === 'target'
            ? json.target_tokens
            : json.decoder_input_tokens
        ).map((t) => t.text);
      const queries = list(c.query);
      const keys = list(c.key);
      const maps = (ref[c.refMaps] as number[][][][])[c.stack];
      const rows = byLayer.get(entry.layer)!;
      assert.equal(rows.length, maps.length * queries.length * keys.length, 'heads × queries × keys rows');
      let worst = 0;
      for (const [, h, q, k, w, qt, kt, kind] of rows) {
        assert.equal(kind, c.kind);
        assert.equal(qt, queries[Number(q)], `query ${q}`);
        assert.equal(kt, keys[Number(k)], `key ${k}`);
        worst = Math.max(worst, Math.abs(Number(w) - maps[Number(h)][Number(q)][Number(k)]));
      }
      assert.ok(worst <= 1e-5, `weights within 1e-5 of transformers (worst ${worst})`);
    });
});

describe('export --format npy of an encoder–decoder run', () => {
  test('the summary gives each kind’s shape, as the files hold them', () => {
    const out = path.join(TMP, 'run.npy');
    const r = cli(...exportArgs('--out', out));
    assert.equal(r.code, 0, r.stderr);
    const [E, D, X] = [ref.shapes.encoder_attentions, ref.shapes.decoder_attentions, ref.shapes.cross_attentions];
    const words = (s: number[]) => `${s[0]} layers × ${s[1]} heads × ${s[2]} × ${s[3]}`;
    const lines = r.out.split('\n');
    const line = (file: string) => lines.find((l) => l.startsWith(`wrote      ${file} (`));
    assert.match(line(out) ?? '', new RegExp(`NPY: encoder ${words(E)} \\(source × source\\)`));
    assert.match(
      line(path.join(TMP, 'run.decoder.npy')) ?? '',
      new RegExp(`NPY: decoder ${words(D)} \\(target × target\\)`),
    );
    assert.match(
      line(path.join(TMP, 'run.cross.npy')) ?? '',
      new RegExp(`NPY: cross ${words(X)} \\(target × source\\)`),
    );
    assert.doesNotMatch(r.out, /6 layers × 4 heads × 8 × 8/);
    assert.deepEqual(parseNpy(fs.readFileSync(out)).shape, E);
    assert.deepEqual(parseNpy(fs.readFileSync(path.join(TMP, 'run.decoder.npy'))).shape, D);
    assert.deepEqual(parseNpy(fs.readFileSync(path.join(TMP, 'run.cross.npy'))).shape, X);
  });

  test('a decoder file that cannot be written leaves the earlier NPY and sidecar as they were', () => {
    const dir = path.join(TMP, 'together');
    fs.mkdirSync(dir);
    const out = path.join(dir, 'run.npy');
    fs.writeFileSync(out, 'an earlier export');
    fs.writeFileSync(out + '.json', '{"earlier": true}\n');
    fs.mkdirSync(path.join(dir, 'run.decoder.npy')); // a folder where the decoder's file would go
    const r = cli(...exportArgs('--out', out));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Cannot write --out .*run\.decoder\.npy: it is a folder/);
    assert.equal(fs.readFileSync(out, 'utf8'), 'an earlier export');
    assert.equal(fs.readFileSync(out + '.json', 'utf8'), '{"earlier": true}\n');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['run.decoder.npy', 'run.npy', 'run.npy.json']);
  });

  test('a decoder-only model’s NPY still streams to stdout: the same bytes as the file', () => {
    const file = path.join(TMP, 'stories.npy');
    const args = ['export', '--model', fixtureModel('stories260K'), '--text', 'Once upon a time', '--format', 'npy'];
    assert.equal(cli(...args, '--out', file).code, 0);
    const r = cli(...args, '--out', '/dev/stdout');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Buffer.compare(r.stdout, fs.readFileSync(file)) === 0, 'stdout holds the NPY');
  });
});
