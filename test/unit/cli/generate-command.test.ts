// `attention-lens generate` as users run it (node dist/cli.js) on stories260K: the greedy continuation is the
// plain-loops reference's greedy decode (test/reference, float64, no ONNX), --out JSON holds prompt + output with
// every row equal to the reference's attention (and the panel's Open Saved Run reads it), NPY has the run's shape
// over prompt + output and export's sidecar beside it (the pair opens as a run again), a seeded sampled run prints
// its seed and repeats exactly, explain --generate's generated:K is the reference's K-th token and log-probability
// (with --chat, after the chat prompt typed out by hand), and SmolLM2-Instruct stops at <|im_end|>. Bad requests:
// bad-input-catalogue.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadTokenizer } from '../../../runtime/tokenizers/index';
import { parseSavedNpyRun, parseSavedRun } from '../../../extension/saved-run';
import { naiveForward } from '../../reference/naive-forward';
import { fixtureModel, hfTinyModel, repoRoot, smolLm2Gguf } from '../../helpers/fixtures';

const MODEL = fixtureModel('stories260K');
const CLI = path.join(repoRoot, 'dist/cli.js');
const TMP = mkdtempSync(path.join(tmpdir(), 'lens-generate-cli-'));
after(() => rmSync(TMP, { recursive: true, force: true }));
const TEXT = 'Once upon a time, there was a little girl named Lily.';
const NEW = 10;

/** node dist/cli.js ARGS, in the repository. */
function attentionLens(args: string[], timeout = 120_000) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: repoRoot, encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function cli(...args: string[]) {
  return attentionLens(['generate', '--model', MODEL, '--text', TEXT, ...args]);
}

let prompt: number[] = [];
let reference: number[] = []; // prompt + the reference's greedy tokens

before(async () => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'pipe' });
  const tok = await loadTokenizer(MODEL);
  prompt = tok.encode(TEXT).map((t) => t.id);
  reference = [...prompt];
  for (let i = 0; i < NEW; i++) {
    const r = naiveForward(MODEL, reference);
    const V = r.logits!.length / reference.length;
    const last = r.logits!.subarray((reference.length - 1) * V);
    let best = 0;
    for (let v = 1; v < V; v++) if (last[v] > last[best]) best = v;
    reference.push(best);
  }
});

test('greedy: the text of the reference greedy decode, one line per token, --out JSON rows equal the reference', async () => {
  const out = path.join(TMP, 'gen.json');
  const r = cli('--max-new', String(NEW), '--out', out, '--layer', '2', '--head', '3');
  assert.equal(r.code, 0, r.stderr);
  const tok = await loadTokenizer(MODEL);
  const text = tok.decode(reference.slice(prompt.length));
  assert.match(
    r.stdout,
    new RegExp(`^generated  ${JSON.stringify(text).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'),
  );
  assert.match(r.stdout, /^sampling {3}greedy$/m);
  assert.match(r.stdout, /layer 2, head 3/);
  assert.equal(r.stdout.match(/^ {2}\+\d+ /gm)?.length, NEW);

  const json = JSON.parse(readFileSync(out, 'utf8'));
  const S = reference.length;
  assert.deepEqual(
    json.tokens.map((t: { id: number }) => t.id),
    reference,
  );
  assert.deepEqual(json.source.generated, { promptTokens: prompt.length, generatedTokens: NEW, decoding: 'greedy' });
  assert.equal(json.layers.length, 5);
  // Every query row of the matrix (prompt rows from the prefill, generated rows from the steps) against the
  // reference's attention on the whole sequence: causal rows do not depend on later tokens.
  const ref = naiveForward(MODEL, reference);
  let worst = 0;
  json.layers.forEach((l: { queryLength: number; keyLength: number; attention: number[][][] }, li: number) => {
    assert.deepEqual([l.queryLength, l.keyLength], [S, S]);
    l.attention.forEach((head, h) =>
      head.forEach((row, q) =>
        row.forEach((x, k) => (worst = Math.max(worst, Math.abs(x - ref.attention[li][(h * S + q) * S + k])))),
      ),
    );
  });
  assert.ok(worst <= 1e-5, `largest difference ${worst}`);

  // The panel's Open Saved Run reads it back: prompt + output tokens, every layer over all of them.
  const saved = parseSavedRun(readFileSync(out, 'utf8'), 'gen.json');
  assert.equal(saved.tokens.length, S);
  assert.deepEqual(saved.ids, reference);
  assert.deepEqual(
    saved.layers.map((l) => [l.queryLength, l.keyLength]),
    json.layers.map(() => [S, S]),
  );
});

test('--out NPY is float32 [layers, heads, prompt + output, prompt + output]', () => {
  const out = path.join(TMP, 'gen.npy');
  const r = cli('--max-new', '4', '--out', out);
  assert.equal(r.code, 0, r.stderr);
  const bytes = readFileSync(out);
  const S = prompt.length + 4;
  assert.match(
    bytes.subarray(10, 10 + bytes.readUInt16LE(8)).toString('latin1'),
    new RegExp(`'shape': \\(5, 8, ${S}, ${S}\\)`),
  );
  assert.equal(bytes.length, 10 + bytes.readUInt16LE(8) + 5 * 8 * S * S * 4);
  // Beside it, export's JSON sidecar: the pair opens as a run again (the panel's Open Saved Run), prompt + the
  // reference's greedy tokens, the model's marked as generated.
  assert.match(r.stdout, /^wrote {6}.*gen\.npy\.json \(its tokens, model and layer layout\)$/m);
  const saved = parseSavedNpyRun(readFileSync(out + '.json', 'utf8'), 'gen.npy.json', bytes, 'gen.npy');
  assert.deepEqual(saved.ids, reference.slice(0, S));
  assert.deepEqual(
    saved.tokens.map((t) => t.generated === true),
    reference.slice(0, S).map((_, i) => i >= prompt.length),
  );
  assert.deepEqual(
    saved.layers.map((l) => [l.heads, l.queryLength, l.keyLength]),
    Array.from({ length: 5 }, () => [8, S, S]),
  );
});

test('sampling: the seed is printed, and the same seed gives the same tokens', () => {
  const a = cli('--max-new', '8', '--temperature', '1.2', '--top-p', '0.9', '--seed', '42');
  const b = cli('--max-new', '8', '--temperature', '1.2', '--top-p', '0.9', '--seed', '42');
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /^sampling {3}temperature 1\.2, top-p 0\.9, seed 42$/m);
  const generated = (s: string) => /^generated .*$/m.exec(s)?.[0];
  assert.equal(generated(a.stdout), generated(b.stdout));
  const c = cli('--max-new', '2', '--temperature', '1');
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stdout, /^sampling {3}temperature 1, top-p 1, seed \d+$/m);
});

test('explain --generate N --target generated:K explains the K-th token the model wrote', () => {
  const out = path.join(TMP, 'explain.json');
  const r = attentionLens([
    'explain',
    '--model',
    MODEL,
    '--text',
    TEXT,
    '--generate',
    '4',
    '--target',
    'generated:3',
    '--methods',
    'loo',
    '--out',
    out,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const P = prompt.length;
  const json = JSON.parse(readFileSync(out, 'utf8'));
  // The third generated token sits at P + 2; its log-probability is read from the reference logits at P + 1.
  assert.equal(json.target.spec, `token:${P + 2}:${reference[P + 2]}`);
  assert.deepEqual(
    json.tokens.map((t: { id: number }) => t.id),
    reference.slice(0, P + 4),
  );
  const ref = naiveForward(MODEL, reference.slice(0, P + 2));
  const V = ref.logits!.length / (P + 2);
  const row = Array.from(ref.logits!.subarray((P + 1) * V, (P + 2) * V));
  const max = Math.max(...row);
  const logp = row[reference[P + 2]] - max - Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
  assert.ok(Math.abs(json.target.value - logp) < 1e-4, `${json.target.value} vs ${logp}`);
});

test('a chat model stops at its end-of-turn token (SmolLM2-135M-Instruct, a ChatML prompt as plain text)', () => {
  const chat = '<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n';
  const r = attentionLens(['generate', '--model', smolLm2Gguf(), '--text', chat, '--max-new', '40'], 300_000);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ {2}\+\d+ +"<\|im_end\|>" /m);
  assert.match(r.stdout, /^stopped {4}at an end-of-text token; \d+ tokens/m);
  assert.doesNotMatch(r.stdout, /^generated .*im_end/m); // the stop token is not part of the text
  assert.match(r.stdout, /^generated {2}".*Paris.*"$/m);
});

test('explain --chat --generate N continues the chat prompt, whose template tokens are not candidates (SmolLM2)', async () => {
  // SmolLM2-135M-Instruct's chat template with its default system message, typed out: the prompt must be this.
  const chatml =
    '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' +
    '<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n';
  const out = path.join(TMP, 'explain-chat.json');
  const r = attentionLens(
    [
      'explain',
      '--model',
      smolLm2Gguf(),
      '--chat',
      '--text',
      'What is the capital of France?',
      '--generate',
      '3',
      '--target',
      'generated:2',
      '--methods',
      'loo',
      '--out',
      out,
    ],
    300_000,
  );
  assert.equal(r.code, 0, r.stderr);
  const g = attentionLens(
    ['generate', '--model', smolLm2Gguf(), '--text', chatml, '--max-new', '3', '--out', path.join(TMP, 'g.json')],
    300_000,
  );
  assert.equal(g.code, 0, g.stderr);
  const generated = JSON.parse(readFileSync(path.join(TMP, 'g.json'), 'utf8'));
  const json = JSON.parse(readFileSync(out, 'utf8'));
  const ids = (ts: { id: number }[]) => ts.map((t) => t.id);
  // the same prompt and the same three greedy tokens as generate on the typed-out prompt
  assert.deepEqual(ids(json.tokens), ids(generated.tokens));
  const P = ids(json.tokens).length - 3;
  assert.equal(json.target.spec, `token:${P + 1}:${json.tokens[P + 1].id}`);
  // candidates: the user's words only (the template's tokens and the tokens after the target are not)
  const user = json.tokens
    .map((t: { start: number | null }, i: number) => (t.start !== null ? i : -1))
    .filter((i: number) => i >= 0);
  assert.ok(user.length >= 6, `the user's message has its offsets: ${user.length} tokens`);
  json.tokens
    .slice(0, P)
    .forEach((t: { template?: boolean; start: number | null }, i: number) =>
      assert.equal(json.candidates[i], t.start !== null, `token ${i} (${JSON.stringify(t)})`),
    );
  assert.ok(json.tokens.slice(0, P).filter((t: { template?: boolean }) => t.template).length >= 20);
});

test("generation stops at every id of the model's eos_token_id list (generation_config.json, else config.json), as transformers' generate does", () => {
  // hf-tiny qwen3 (random weights) continues "hello world" greedily with the same token every step; with that token
  // in the model's eos_token_id list, generate stops after it (transformers 5.25.0: new tokens [305] there).
  const dir = path.join(TMP, 'qwen3-eos');
  cpSync(hfTinyModel('qwen3'), dir, { recursive: true });
  const gen = (...more: string[]) =>
    attentionLens(['generate', '--model', dir, '--text', 'hello world', '--max-new', '6', ...more]);
  const plain = gen('--out', path.join(TMP, 'plain.json'));
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /^stopped {4}after 6 tokens \(--max-new\)/m);
  const first = JSON.parse(readFileSync(path.join(TMP, 'plain.json'), 'utf8')).tokens.find(
    (t: { generated?: boolean }) => t.generated,
  ).id as number;
  const setEos = (file: string, eos: unknown) => {
    const json = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    json.eos_token_id = eos;
    writeFileSync(path.join(dir, file), JSON.stringify(json));
  };
  setEos('generation_config.json', [600, first]);
  const list = gen();
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^stopped {4}at an end-of-text token; 1 tokens/m);
  // without generation_config.json's field, config.json's list
  const generation = JSON.parse(readFileSync(path.join(dir, 'generation_config.json'), 'utf8'));
  delete generation.eos_token_id;
  writeFileSync(path.join(dir, 'generation_config.json'), JSON.stringify(generation));
  setEos('config.json', [first, 600]);
  const fallback = gen();
  assert.equal(fallback.code, 0, fallback.stderr);
  assert.match(fallback.stdout, /^stopped {4}at an end-of-text token; 1 tokens/m);
});
