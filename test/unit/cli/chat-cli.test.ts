// attention-lens --chat as users run it (node dist/cli.js) on SmolLM2-135M-Instruct's GGUF, against transformers
// (test/fixtures/gguf/smollm2-reference.json: apply_chat_template's ids for "What is the capital of France?" and
// the log-probability of the top next token after that prompt), `generate --chat` (that prompt, that token first, stop
// at the end of the turn); and `explain --target next` on causal models
// without a BOS token (tiny-gpt2, SmolLM2), which once failed with "A perturbation removed every token".
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PAPER } from '../../../figures/theme';
import {
  fixtureModel,
  ggufFixturesDir,
  marianDatesDir,
  miniLmDir,
  repoRoot,
  smolLm2Gguf,
} from '../../helpers/fixtures';

const CLI = path.join(repoRoot, 'dist/cli.js');
const SMOL = smolLm2Gguf();
const GPT2 = fixtureModel('tiny-gpt2');
const TMP = mkdtempSync(path.join(tmpdir(), 'lens-chat-cli-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

interface Chat {
  messages: { role: string; content: string }[];
  prompt: string;
  ids: number[];
  offsets: [number, number][];
}
const ref = JSON.parse(readFileSync(path.join(ggufFixturesDir, 'smollm2-reference.json'), 'utf8')) as {
  chats: Chat[];
  next_token: { input_ids: number[]; top5: { id: number; token: string; logprob: number }[] };
};
const chat = ref.chats[0];
const QUESTION = chat.messages[0].content;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface JsonToken {
  id: number;
  text: string;
  start: number | null;
  end: number | null;
  special: boolean;
  template?: boolean;
}

before(() => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'pipe' });
});

describe('--chat on SmolLM2 (GGUF)', () => {
  test("run --chat: transformers' prompt ids, template tokens marked, the question's tokens at its own offsets", () => {
    const out = path.join(TMP, 'run.json');
    const r = cli('run', '--model', SMOL, '--text', QUESTION, '--chat', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    const tokens = (JSON.parse(readFileSync(out, 'utf8')) as { tokens: JsonToken[] }).tokens;
    assert.deepEqual(
      tokens.map((t) => t.id),
      chat.ids,
    );
    const at = chat.prompt.indexOf(`user\n${QUESTION}`) + 'user\n'.length;
    tokens.forEach((t, i) => {
      const [s, e] = chat.offsets[i];
      if (s >= at && e <= at + QUESTION.length)
        assert.deepEqual([t.start, t.end, t.template], [s - at, e - at, undefined]);
      else assert.deepEqual([t.start, t.end, t.template], [null, null, true], `token ${i}`);
    });
    // The printed token list says which tokens the template wrote.
    assert.match(r.stdout, /"<\|im_start\|>"\s+template/);
    assert.match(r.stdout, /"What"\s+\[0,4\)/);
  });

  test("explain --chat --target next: transformers' top next token and its log-probability; candidates are the question's", () => {
    const out = path.join(TMP, 'explain.json');
    const r = cli(
      'explain',
      '--model',
      SMOL,
      '--text',
      QUESTION,
      '--chat',
      '--target',
      'next',
      '--methods',
      'raw-attention',
      '--no-faithfulness',
      '--erasure-steps',
      '0',
      '--out',
      out,
    );
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(readFileSync(out, 'utf8')) as {
      target: { value: number; token: { id: number } };
      tokens: JsonToken[];
      candidates: boolean[];
    };
    const top = ref.next_token.top5[0];
    assert.deepEqual(
      result.tokens.map((t) => t.id),
      ref.next_token.input_ids,
    );
    assert.equal(result.target.token.id, top.id);
    // Q4_1 weights dequantized to float32 on both sides; float32 sums in another order (observed: 2e-5).
    assert.ok(Math.abs(result.target.value - top.logprob) < 1e-3, `${result.target.value} vs ${top.logprob}`);
    assert.deepEqual(
      result.candidates,
      result.tokens.map((t) => t.template !== true),
    );
  });

  test('export --chat: the matrix labels of template tokens are drawn dimmer (the theme muted ink)', () => {
    const out = path.join(TMP, 'matrix.svg');
    const r = cli('export', '--model', SMOL, '--text', 'Hi there', '--chat', '--out', out, '--layer', '3');
    assert.equal(r.code, 0, r.stderr);
    const svg = readFileSync(out, 'utf8');
    const hex = (c: readonly number[]) => '#' + c.map((v) => v.toString(16).padStart(2, '0')).join('');
    const labels = [
      ...svg.matchAll(/<text class="label-row"[^>]*fill="(#[0-9a-f]{6})"[^>]*?( data-template="true")?>([^<]*)/g),
    ];
    // "Hi there" is 2 tokens between the template's (32 in all: the default system prompt, the markers).
    assert.equal(labels.length, 32);
    const user = labels.filter((m) => m[2] === undefined).map((m) => [m[3], m[1]]);
    assert.deepEqual(user, [
      ['Hi', hex(PAPER.ink)],
      ['␣there', hex(PAPER.ink)], // the label (figures/token-display.ts) shows the piece Ġthere as ␣there
    ]);
    assert.ok(labels.filter((m) => m[2]).every((m) => m[1] === hex(PAPER.muted)));
  });
});

describe('generate --chat on SmolLM2 (GGUF)', () => {
  test("generate --chat: transformers' prompt ids, its top next token first, and the output stops at the end of the turn", () => {
    const out = path.join(TMP, 'generate.json');
    const r = cli('generate', '--model', SMOL, '--text', QUESTION, '--chat', '--max-new', '40', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^prompt {5}\d+ tokens \(chat: \d+ of the template\)$/m);
    assert.match(r.stdout, /^stopped {4}at the end of the turn; \d+ tokens/m);
    const json = JSON.parse(readFileSync(out, 'utf8')) as {
      tokens: JsonToken[];
      source: { chat?: boolean; generated: { promptTokens: number; generatedTokens: number } };
    };
    const P = json.source.generated.promptTokens;
    assert.equal(json.source.chat, true);
    assert.deepEqual(
      json.tokens.slice(0, P).map((t) => t.id),
      chat.ids,
    );
    assert.equal(json.tokens[P].id, ref.next_token.top5[0].id, 'greedy: the top token transformers gives');
    assert.equal(json.tokens[json.tokens.length - 1].text, '<|im_end|>');
    assert.ok(json.tokens.slice(0, P).some((t) => t.template === true));
  });
});

describe('explain --target next on causal models without a BOS token', () => {
  for (const [name, model] of [
    ['tiny-gpt2', GPT2],
    ['SmolLM2 (GGUF)', SMOL],
  ] as const) {
    test(name, () => {
      const out = path.join(TMP, `next-${name.replace(/\W+/g, '-')}.json`);
      const r = cli('explain', '--model', model, '--text', 'The cat sat on the mat', '--target', 'next', '--out', out);
      assert.equal(r.code, 0, `exit code (stderr: ${r.stderr})`);
      const result = JSON.parse(readFileSync(out, 'utf8')) as {
        tokens: JsonToken[];
        candidates: boolean[];
        erasure: unknown[];
        faithfulness: unknown[];
        notes: string[];
      };
      assert.ok(
        result.tokens.every((t) => !t.special),
        'no BOS or other special token',
      );
      // The token the prediction is read at stays; every other token is a candidate.
      const last = result.tokens.length - 1;
      assert.deepEqual(
        result.candidates,
        result.tokens.map((_, i) => i !== last),
      );
      assert.ok(result.faithfulness.length > 0 && result.erasure.length > 0);
      assert.ok(result.notes.some((n) => /where the prediction is read, is not a candidate/.test(n)));
    });
  }
});

describe('explain when every token is a candidate: one token stays, so that no perturbed input is empty', () => {
  const explainJson = (name: string, ...args: string[]) => {
    const out = path.join(TMP, `${name}.json`);
    const r = cli('explain', ...args, '--methods', 'loo', '--out', out);
    assert.equal(r.code, 0, `exit code (stderr: ${r.stderr})`);
    return JSON.parse(readFileSync(out, 'utf8')) as {
      tokens: JsonToken[];
      candidates: boolean[];
      target: { value: number };
      erasure: { method: string; value: number[] }[];
      notes: string[];
    };
  };
  const lastStays = (json: ReturnType<typeof explainJson>) => {
    const last = json.tokens.length - 1;
    assert.deepEqual(
      json.candidates,
      json.tokens.map((_, i) => i !== last),
    );
    assert.ok(json.notes.some((n) => /stays in every perturbed input and is not a candidate/.test(n)));
  };

  test('a similarity target on SmolLM2 (no BOS): the last erasure point is the text of the last token alone', () => {
    const json = explainJson(
      'sim-smol',
      '--model',
      SMOL,
      '--text',
      'The cat sat on the mat',
      '--target',
      'similarity:a dog',
    );
    lastStays(json);
    // every candidate erased leaves " mat", which is one token: its value run as a text of its own
    const alone = explainJson('sim-smol-mat', '--model', SMOL, '--text', ' mat', '--target', 'similarity:a dog');
    assert.deepEqual(
      alone.tokens.map((t) => t.id),
      [json.tokens[json.tokens.length - 1].id],
    );
    const erased = json.erasure.find((e) => e.method === 'loo')!.value;
    assert.ok(
      Math.abs(erased[erased.length - 1] - alone.target.value) < 1e-6,
      `${erased.at(-1)} vs ${alone.target.value}`,
    );
  });

  test('--include-special on all-MiniLM-L6-v2 (similarity) and tiny-marian-dates (target): the last token stays', () => {
    lastStays(
      explainJson(
        'sim-minilm',
        '--model',
        miniLmDir(),
        '--text',
        'The cat sat on the mat.',
        '--target',
        'similarity:a dog',
        '--include-special',
      ),
    );
    lastStays(
      explainJson(
        'marian-special',
        '--model',
        marianDatesDir,
        '--text',
        'the 14th of March, 2021',
        '--target',
        'target',
        '--include-special',
      ),
    );
  });
});
