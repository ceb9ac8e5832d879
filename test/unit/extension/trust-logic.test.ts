// Tests for extension/trust-logic.ts: which value of a setting a workspace cannot choose is used (the user's), how a
// workspace's settings files are read, and where the Hugging Face token may go — huggingface.co over https, another host
// once confirmed (remembered by origin, so http://host and https://host are asked apart), never in clear text over a
// network, and not again in a session after the user said no.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  confirmQuestion,
  restrictedModelLine,
  settingInFile,
  tokenRule,
  userValue,
} from '../../../extension/trust-logic';

test("a setting a workspace cannot choose: the user's value, never the workspace's", () => {
  assert.equal(userValue(undefined), '');
  assert.equal(userValue({ globalValue: ' https://hf-mirror.com ' }), 'https://hf-mirror.com');
  assert.equal(userValue({ globalValue: 'a', workspaceValue: 'http://evil.example' }), 'a');
  assert.equal(userValue({ workspaceValue: 'w', workspaceFolderValue: 'f' }), '');
  assert.equal(userValue({ globalValue: 42 }), '');
});

test('the token: huggingface.co over https; other hosts once confirmed; never in clear text over a network', () => {
  assert.deepEqual(tokenRule('https://huggingface.co', []), { kind: 'send' });
  assert.deepEqual(tokenRule('https://huggingface.co/', []), { kind: 'send' });
  // huggingface.co's name on another port, over plain http or under another name is another host.
  assert.deepEqual(tokenRule('https://huggingface.co.evil.example', []), {
    kind: 'ask',
    origin: 'https://huggingface.co.evil.example',
  });
  assert.deepEqual(tokenRule('https://hf-mirror.com/hub', []), { kind: 'ask', origin: 'https://hf-mirror.com' });
  assert.deepEqual(tokenRule('https://hf-mirror.com/hub', ['https://hf-mirror.com']), { kind: 'send' });
  assert.deepEqual(tokenRule('http://127.0.0.1:8080', ['http://127.0.0.1:9090']), {
    kind: 'ask',
    origin: 'http://127.0.0.1:8080',
  });
  assert.deepEqual(tokenRule('http://127.0.0.1:8080', ['http://127.0.0.1:8080']), { kind: 'send' });
  const clear = tokenRule('http://mirror.example', ['http://mirror.example']);
  assert.equal(clear.kind, 'withhold');
  assert.match(
    clear.kind === 'withhold' ? clear.why : '',
    /not sent to http:\/\/mirror\.example: a token goes only over https/,
  );
  const refused = tokenRule('https://hf-mirror.com', [], ['https://hf-mirror.com']);
  assert.match(refused.kind === 'withhold' ? refused.why : '', /you chose not to send it to that host in this session/);
});

test('the question names the host, and the line for a workspace model Restricted Mode does not use says what runs', () => {
  const q = confirmQuestion('http://127.0.0.1:8080');
  assert.equal(q.message, 'Send your Hugging Face token to 127.0.0.1:8080?');
  assert.equal(q.send, 'Send Token to 127.0.0.1:8080');
  assert.match(q.detail, /user settings .* is http:\/\/127\.0\.0\.1:8080/);
  assert.match(
    restrictedModelLine('./evil-model', 'stories260K'),
    /choose the model \.\/evil-model, which is not used in Restricted Mode .*; running stories260K from your user settings\. Trust the workspace/,
  );
  assert.doesNotMatch(restrictedModelLine('./evil-model', ''), /running/);
});

test("a workspace's settings files read as VS Code reads them: comments and trailing commas", () => {
  const text = `{
    // "attentionLens.modelPath": "commented out",
    /* a block
       "attentionLens.modelPath": "also commented" */
    "url": "https://x.example/a//b", // a comment after a string with //
    "attentionLens.modelPath": "./models/evil \\"quoted\\"",
  }`;
  assert.equal(settingInFile(text, 'attentionLens.modelPath'), './models/evil "quoted"');
  assert.equal(settingInFile(text, 'url'), 'https://x.example/a//b');
  assert.equal(settingInFile(text, 'attentionLens.hubEndpoint'), undefined);
  const workspaceFile = '{ "folders": [{ "path": "." }], "settings": { "attentionLens.modelPath": "w", }, }';
  assert.equal(settingInFile(workspaceFile, 'attentionLens.modelPath', true), 'w');
  assert.equal(settingInFile(workspaceFile, 'attentionLens.modelPath'), undefined);
  assert.equal(settingInFile('{ not json', 'attentionLens.modelPath'), undefined);
  assert.equal(settingInFile('{"attentionLens.modelPath": 3}', 'attentionLens.modelPath'), undefined);
});
