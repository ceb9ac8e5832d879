// Chat prompts in the real VS Code: "Show Attention as Chat Prompt" on a copy of stories260K given a hand-written
// chat template (chat_template.jinja), and the attentionLens.chatPrompt setting for plain Show Attention — with a
// template (a chat prompt), and without one (the text as it is). The template's tokens have no range in the
// document; the user's tokens lie in the selection at its own offsets and spell it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  bareToken,
  closeAllEditors,
  editorWith,
  ensureModelSetting,
  fire,
  getApi,
  lastRunId,
  sleep,
  withTimeout,
  type RunSummary,
} from './util';

const TITLE = 'A story\n';
const SENTENCE = 'Once upon a time, there was a little girl';
const CONTENT = `${TITLE}${SENTENCE} named Lily.\n`;
const SEL = [TITLE.length, TITLE.length + SENTENCE.length] as const;
/** By hand: "<s>" + "[INST] " + the selection + " [/INST]" + " Answer:" (the generation prompt). */
const TEMPLATE =
  "{{ bos_token }}[INST] {{ messages[0]['content'] }} [/INST]{% if add_generation_prompt %} Answer:{% endif %}";

const config = () => vscode.workspace.getConfiguration('attentionLens');

async function run(command: string): Promise<RunSummary> {
  const api = await getApi();
  await editorWith(CONTENT, SEL[0], SEL[1]);
  const before = lastRunId(api);
  fire(command);
  const r = await withTimeout(command, 90_000, api.waitForRun(before));
  assert.equal(r.state, 'done', `${command}: ${r.state} ${r.message ?? ''}`);
  return r;
}

/** The user's tokens lie in the selection, in order, and spell it; every other token is the template's. */
function assertChatTokens(r: RunSummary): void {
  const own = r.tokens.filter((t) => !t.template);
  const template = r.tokens.filter((t) => t.template);
  assert.ok(template.length >= 5, `template tokens: ${JSON.stringify(r.tokens)}`);
  assert.ok(
    template.every((t) => t.start === null && t.end === null),
    'template tokens have no range',
  );
  assert.equal(r.tokens[0].text, '<s>');
  assert.equal(r.tokens[0].template, true);
  let at = 0;
  for (const t of own) {
    assert.ok(t.start !== null && t.end !== null && t.start >= at && t.end <= SENTENCE.length, JSON.stringify(t));
    assert.equal(bareToken(SENTENCE.slice(t.start, t.end)), bareToken(t.text), JSON.stringify(t));
    at = t.end;
  }
  assert.equal(own.map((t) => SENTENCE.slice(t.start!, t.end!)).join(''), SENTENCE);
}

suite('Attention Lens: chat prompts', () => {
  let dir = '';
  let plain = '';
  suiteSetup(async () => {
    plain = await ensureModelSetting();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-chat-model-'));
    for (const f of fs.readdirSync(plain)) fs.copyFileSync(path.join(plain, f), path.join(dir, f));
    fs.writeFileSync(path.join(dir, 'chat_template.jinja'), TEMPLATE);
  });
  suiteTeardown(async () => {
    await config().update('chatPrompt', undefined, vscode.ConfigurationTarget.Global);
    await config().update('modelPath', plain, vscode.ConfigurationTarget.Global);
    await sleep(100);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  teardown(closeAllEditors);

  test('Show Attention as Chat Prompt: the template around the selection, its tokens marked and without a range', async () => {
    await config().update('modelPath', dir, vscode.ConfigurationTarget.Global);
    await sleep(100);
    const r = await run('attentionLens.showAttentionAsChat');
    assert.deepEqual(r.layers, [0, 1, 2, 3, 4]);
    assertChatTokens(r);
    // Plain Show Attention (the setting's default, false) runs the selection as it is.
    const p = await run('attentionLens.showAttention');
    assert.ok(p.tokens.every((t) => !t.template));
  });

  test('attentionLens.chatPrompt: plain Show Attention runs a chat prompt, or the text as it is without a template', async () => {
    await config().update('chatPrompt', true, vscode.ConfigurationTarget.Global);
    await config().update('modelPath', dir, vscode.ConfigurationTarget.Global);
    await sleep(100);
    assertChatTokens(await run('attentionLens.showAttention'));
    await config().update('modelPath', plain, vscode.ConfigurationTarget.Global);
    await sleep(100);
    const r = await run('attentionLens.showAttention');
    assert.ok(
      r.tokens.every((t) => !t.template),
      'stories260K has no template: the text as it is',
    );
    assert.equal(r.tokens[0].text, '<s>');
    assert.equal(r.tokens[0].start, null);
    await config().update('chatPrompt', undefined, vscode.ConfigurationTarget.Global);
  });
});
