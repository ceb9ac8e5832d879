// Tests for extension/trust-logic.ts: which value of a setting a workspace cannot choose is used (the user's, the
// workspace's named as ignored), and where the Hugging Face token may go — huggingface.co over https, another host
// once confirmed (remembered by origin, so http://host and https://host are asked apart), never in clear text over a
// network, and not again in a session after the user said no.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { confirmQuestion, restrictedModelLine, tokenRule, userValue } from '../../../extension/trust-logic';

test("a setting a workspace cannot choose: the user's value; the workspace's is reported as ignored", () => {
  assert.deepEqual(userValue(undefined), { value: '' });
  assert.deepEqual(userValue({ globalValue: ' https://hf-mirror.com ' }), { value: 'https://hf-mirror.com' });
  assert.deepEqual(userValue({ globalValue: 'a', workspaceValue: 'http://evil.example' }), {
    value: 'a',
    ignored: 'http://evil.example',
  });
  assert.deepEqual(userValue({ workspaceValue: 'w', workspaceFolderValue: 'f' }), { value: '', ignored: 'f' });
  // The same value in both places is not "ignored"; a non-string is no value.
  assert.deepEqual(userValue({ globalValue: 'a', workspaceValue: 'a' }), { value: 'a' });
  assert.deepEqual(userValue({ globalValue: 42, workspaceValue: '' }), { value: '' });
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
