// Tests for runtime/hub/hub-id.ts: what a user may type as a Hub model id, and the messages for what they type by
// mistake (paths, URLs, bare names, bad revisions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatHubId, isCommitHash, parseHubId } from '../../../../runtime/hub/hub-id';
import { isLensError } from '../../../../runtime/errors';

function rejects(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseHubId(text),
    (e: unknown) => {
      assert.ok(isLensError(e), String(e));
      assert.equal(e.code, 'BAD_INPUT');
      assert.match(e.message, pattern);
      return true;
    },
  );
}

test('owner/name parses with revision main', () => {
  assert.deepEqual(parseHubId('openai-community/gpt2'), {
    repo: 'openai-community/gpt2',
    owner: 'openai-community',
    name: 'gpt2',
    revision: 'main',
    explicitRevision: false,
  });
  assert.equal(parseHubId('  sentence-transformers/all-MiniLM-L6-v2 ').repo, 'sentence-transformers/all-MiniLM-L6-v2');
  assert.equal(parseHubId('karpathy/tinyllamas').name, 'tinyllamas');
  assert.equal(parseHubId('a_b/c.d-e').repo, 'a_b/c.d-e');
});

test('revisions: branch, tag, commit, refs/pr/N', () => {
  const commit = '0123456789abcdef0123456789abcdef01234567';
  assert.equal(parseHubId(`o/n@${commit}`).revision, commit);
  assert.ok(isCommitHash(commit));
  assert.ok(!isCommitHash('main'));
  assert.equal(parseHubId('o/n@v1.0').revision, 'v1.0');
  assert.equal(parseHubId('o/n@refs/pr/1').revision, 'refs/pr/1');
  const id = parseHubId('o/n@dev');
  assert.equal(id.explicitRevision, true);
  assert.equal(formatHubId(id), 'o/n@dev');
  assert.equal(formatHubId(parseHubId('o/n')), 'o/n');
});

test('paths are rejected as paths', () => {
  for (const p of ['./models/gpt2', '../x/y', '/abs/model', '~/models/x', 'C:\\models\\x', 'C:/models/x', 'a\\b']) {
    rejects(p, /folder path/);
  }
  rejects('models/gpt2/extra', /more than one "\/"/);
});

test("a model's page on huggingface.co is its id; other URLs are rejected with the id they contain", () => {
  const id = (text: string) => formatHubId(parseHubId(text));
  assert.equal(id('https://huggingface.co/openai-community/gpt2'), 'openai-community/gpt2');
  assert.equal(id('https://huggingface.co/openai-community/gpt2/'), 'openai-community/gpt2');
  assert.equal(id('huggingface.co/openai-community/gpt2?library=transformers#top'), 'openai-community/gpt2');
  assert.equal(id('https://hf.co/openai-community/gpt2/tree/v1.0'), 'openai-community/gpt2@v1.0');
  assert.equal(id('https://www.huggingface.co/o/n/tree/refs%2Fpr%2F1'), 'o/n@refs/pr/1');
  assert.equal(id('https://huggingface.co/o/n/blob/main/config.json'), 'o/n@main');
  assert.equal(
    id('https://huggingface.co/o/n/resolve/0123456789abcdef0123456789abcdef01234567/model.safetensors'),
    'o/n@0123456789abcdef0123456789abcdef01234567',
  );
  rejects('https://huggingface.co/datasets/o/n', /that is a dataset, not a model/);
  rejects('https://huggingface.co/spaces/o/n', /that is a Space, not a model/);
  rejects('https://huggingface.co/openai-community', /that page is not a model's/);
  rejects('https://huggingface.co/o/n/discussions/3', /give huggingface\.co\/o\/n \(or its \/tree\/REVISION\)/);
  rejects('https://example.com/huggingface.co/openai-community/gpt2', /URL.*Did you mean openai-community\/gpt2\?/);
  rejects('http://127.0.0.1:8080/x', /URL/);
  rejects('ftp://huggingface.co/o/n', /that is a URL/);
});

test('bad names and revisions', () => {
  rejects('', /empty/);
  rejects('gpt2', /needs an owner/);
  rejects('o/-n', /may not start or end/);
  rejects('o/n.', /may not start or end/);
  rejects('o/a--b', /'--'/);
  rejects('o/a b', /letters, digits/);
  rejects(`o/${'x'.repeat(97)}`, /at most 96/);
  rejects('o/n@', /not a valid revision/);
  rejects('o/n@../../etc', /not a valid revision/);
  rejects('o/n@a b', /not a valid revision/);
  rejects('o/n@/abs', /not a valid revision/);
});
