// Chat prompts: the selection as a user message in the model's own chat template (runtime/tokenizers/chat-prompt.ts,
// chat-template.ts). References: transformers' apply_chat_template on SmolLM2-135M-Instruct's GGUF
// (test/fixtures/gguf/smollm2-reference.json `chats`: the rendered prompts, their ids and offsets), and hand-written
// templates over tiny-gpt2's tokenizer whose prompts and user spans are worked out by hand below.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { openGguf } from '../../../../runtime/formats/gguf-file';
import { LensError } from '../../../../runtime/errors';
import { encodeChatPrompt } from '../../../../runtime/tokenizers/chat-prompt';
import { renderChat, type ChatMessage } from '../../../../runtime/tokenizers/chat-template';
import { tokenizerFromGguf } from '../../../../runtime/tokenizers/from-gguf';
import { loadTokenizer } from '../../../../runtime/tokenizers/index';
import { fixtureModel, ggufFixturesDir, smolLm2Gguf } from '../../../helpers/fixtures';

interface Chat {
  messages: ChatMessage[];
  prompt: string;
  ids: number[];
  offsets: [number, number][];
}
const ref = JSON.parse(readFileSync(path.join(ggufFixturesDir, 'smollm2-reference.json'), 'utf8')) as {
  chats: Chat[];
};

const smol = tokenizerFromGguf(openGguf(smolLm2Gguf()).meta);

test("SmolLM2's GGUF chat template renders transformers' prompts (a default system prompt, a given one)", () => {
  assert.ok(smol.chatTemplate, 'the GGUF file carries tokenizer.chat_template');
  assert.equal(smol.chatTemplate.specialTokens.bos_token, '<|im_start|>');
  for (const c of ref.chats) assert.equal(renderChat(smol.chatTemplate, c.messages), c.prompt);
});

test("a selection as a chat prompt: transformers' ids; the user's tokens at exact offsets, the rest template tokens", () => {
  for (const c of ref.chats) {
    const user = c.messages[c.messages.length - 1].content;
    // Where transformers' prompt holds the user's text (the last user message, before "<|im_end|>").
    const at = c.prompt.lastIndexOf(`user\n${user}<|im_end|>`) + 'user\n'.length;
    if (c.messages.length > 1) continue; // a system message is not what a selection becomes; its rendering is above
    const tokens = encodeChatPrompt(smol, user, 'SmolLM2');
    assert.deepEqual(
      tokens.map((t) => t.id),
      c.ids,
    );
    tokens.forEach((t, i) => {
      const [s, e] = c.offsets[i];
      const inUser = s >= at && e <= at + user.length;
      assert.equal(t.template === true, !inUser, `token ${i} ${JSON.stringify(t.text)}`);
      if (inUser) {
        assert.deepEqual([t.start, t.end, t.special], [s - at, e - at, false], `offsets of token ${i}`);
      } else {
        assert.deepEqual([t.start, t.end, t.special], [null, null, true], `template token ${i}`);
      }
    });
    const spans = tokens.filter((t) => !t.template).map((t) => user.slice(t.start ?? 0, t.end ?? 0));
    assert.equal(spans.join(''), user);
  }
});

test('a user text with accents, emoji and a newline keeps its UTF-16 offsets in the chat prompt', () => {
  const text = 'Café 🎉 naïve\nline two';
  const tokens = encodeChatPrompt(smol, text, 'SmolLM2');
  const plain = smol.encode(`<|im_start|>user\n${text}<|im_end|>`, { addSpecialTokens: false });
  // The user's tokens are those of the text between "user\n" and "<|im_end|>" (no merge crosses "\n" or a special).
  const base = '<|im_start|>user\n'.length;
  const inner = plain.filter(
    (t) => t.start !== null && t.start >= base && t.end !== null && t.end <= base + text.length,
  );
  assert.deepEqual(
    tokens.filter((t) => !t.template).map((t) => [t.id, t.start, t.end]),
    inner.map((t) => [t.id, (t.start ?? 0) - base, (t.end ?? 0) - base]),
  );
  assert.equal(tokens.filter((t) => !t.template).at(-1)?.end, text.length);
});

// ---- hand-written templates over tiny-gpt2's byte-level BPE tokenizer

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** tiny-gpt2's tokenizer files with `extra` files written beside them. */
function folder(extra: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'al-chat-'));
  dirs.push(dir);
  for (const f of ['tokenizer.json', 'special_tokens_map.json']) {
    cpSync(path.join(fixtureModel('tiny-gpt2'), f), path.join(dir, f));
  }
  for (const [name, text] of Object.entries(extra)) writeFileSync(path.join(dir, name), text);
  return dir;
}

const config = (chatTemplate: unknown) =>
  JSON.stringify({ bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', chat_template: chatTemplate });

test('a hand-written template in tokenizer_config.json: bos_token, roles, trim, the generation prompt', async () => {
  const tpl =
    "{{ bos_token }}{% for m in messages %}[{{ m['role'] }}]: {{ m['content'] | trim }}\n{% endfor %}" +
    '{% if add_generation_prompt %}[bot]:{% endif %}';
  const tok = await loadTokenizer(folder({ 'tokenizer_config.json': config(tpl) }));
  assert.ok(tok.chatTemplate);
  assert.equal(tok.chatTemplate.origin, 'tokenizer_config.json');
  const text = '  hi there ';
  // By hand: "<|endoftext|>" + "[user]: " + "hi there" (trimmed) + "\n" + "[bot]:".
  const prompt = '<|endoftext|>[user]: hi there\n[bot]:';
  assert.equal(renderChat(tok.chatTemplate, [{ role: 'user', content: text }]), prompt);
  const tokens = encodeChatPrompt(tok, text, 'tiny-gpt2');
  // The ids are those of the whole prompt, as apply_chat_template tokenizes it (no BOS of the post-processor added).
  assert.deepEqual(
    tokens.map((t) => t.id),
    tok.encode(prompt, { addSpecialTokens: false }).map((t) => t.id),
  );
  assert.equal(tokens[0].id, tok.tokenToId('<|endoftext|>'));
  assert.equal(tokens[0].template, true);
  // The user's part is "hi there" at [2, 10) of the selection: GPT-2's " hi" starts at the template's space before
  // it, so the first user token keeps only "hi" ([2, 4)); then " there" [4, 10).
  const user = tokens.filter((t) => !t.template);
  assert.deepEqual(
    user.map((t) => [t.start, t.end]),
    [
      [2, 4],
      [4, 10],
    ],
  );
  assert.equal(user[0].id, tok.tokenToId('Ġhi'));
  assert.ok(tokens.filter((t) => t.template).every((t) => t.start === null && t.end === null && t.special));
});

test('chat_template.jinja is preferred; a list of named templates gives the "default" one', async () => {
  const jinja = await loadTokenizer(
    folder({
      'tokenizer_config.json': config('A{{ messages[0].content }}'),
      'chat_template.jinja': 'B{{ messages[0].content }}',
    }),
  );
  assert.equal(jinja.chatTemplate?.origin, 'chat_template.jinja');
  assert.equal(renderChat(jinja.chatTemplate, [{ role: 'user', content: 'x' }]), 'Bx');
  const list = await loadTokenizer(
    folder({
      'tokenizer_config.json': config([
        { name: 'tool_use', template: 'T{{ messages[0].content }}' },
        { name: 'default', template: 'D{{ messages[0].content }}' },
      ]),
    }),
  );
  assert.equal(renderChat(list.chatTemplate!, [{ role: 'user', content: 'x' }]), 'Dx');
});

function lensError(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof LensError, String(e));
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
}

test('a model without a template, a template that rewrites the text, one that raises: one line each', async () => {
  const none = await loadTokenizer(folder({ 'tokenizer_config.json': config(undefined) }));
  assert.equal(none.chatTemplate, undefined);
  lensError(() => encodeChatPrompt(none, 'hi', 'tiny-gpt2'), 'NO_CHAT_TEMPLATE', /tiny-gpt2 has no chat template/);
  const upper = await loadTokenizer(folder({ 'tokenizer_config.json': config('{{ messages[0].content | upper }}') }));
  lensError(() => encodeChatPrompt(upper, 'hi', 'tiny-gpt2'), 'BAD_CHAT_TEMPLATE', /rewrites the user's text/);
  const raises = await loadTokenizer(
    folder({ 'tokenizer_config.json': config("{{ raise_exception('Conversation roles must alternate') }}") }),
  );
  lensError(() => encodeChatPrompt(raises, 'hi', 'tiny-gpt2'), 'BAD_CHAT_TEMPLATE', /roles must alternate/);
  const broken = await loadTokenizer(folder({ 'tokenizer_config.json': config('{% for m in messages %}') }));
  lensError(() => encodeChatPrompt(broken, 'hi', 'tiny-gpt2'), 'BAD_CHAT_TEMPLATE', /cannot be read|fails/);
  await assert.rejects(loadTokenizer(folder({ 'tokenizer_config.json': config(42) })), /chat_template is neither/);
});

test('range() in a template: as Python counts it, and a huge or nested one is one line (it aborted the process)', async () => {
  // range(2, 11, 3) = 2, 5, 8 and range(3, 0, -1) = 3, 2, 1 (Python's), around the user's message.
  const counts = await loadTokenizer(
    folder({
      'tokenizer_config.json': config(
        '{% for i in range(2, 11, 3) %}{{ i }}{% endfor %}{{ messages[0].content }}{% for i in range(3, 0, -1) %}{{ i }}{% endfor %}',
      ),
    }),
  );
  assert.equal(renderChat(counts.chatTemplate!, [{ role: 'user', content: 'hi' }]), '258hi321');
  // strftime_now, as Llama 3.1's template dates its system prompt: today, %Y-%m-%d.
  const dated = await loadTokenizer(
    folder({ 'tokenizer_config.json': config("{{ strftime_now('%Y-%m-%d') }} {{ messages[0].content }}") }),
  );
  const d = new Date();
  const today = [d.getFullYear(), d.getMonth() + 1, d.getDate()].map((x) => String(x).padStart(2, '0')).join('-');
  assert.equal(renderChat(dated.chatTemplate!, [{ role: 'user', content: 'hi' }]), `${today} hi`);
  const huge = await loadTokenizer(
    folder({ 'tokenizer_config.json': config('{% for i in range(10**12) %}x{% endfor %}{{ messages[0].content }}') }),
  );
  lensError(
    () => encodeChatPrompt(huge, 'hi', 'tiny-gpt2'),
    'BAD_CHAT_TEMPLATE',
    /range\(\) asks for 1,000,000,000,000 numbers/,
  );
  const nested = await loadTokenizer(
    folder({
      'tokenizer_config.json': config(
        '{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}{{ messages[0].content }}',
      ),
    }),
  );
  lensError(() => encodeChatPrompt(nested, 'hi', 'tiny-gpt2'), 'BAD_CHAT_TEMPLATE', /at most 1,000,000 in all/);
});
