import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planDrop, uris } from '../../../webview/drop';
import { MAX_DROPPED_TEXT } from '../../../protocol/messages';

const file = (name: string, size = 10) => ({ name, size });

test('uris: a text/uri-list without its comments and blank lines', () => {
  assert.deepEqual(uris('# from the Explorer\r\nfile:///a/run.npy\r\n\r\nfile:///a/run.npy.json\n'), [
    'file:///a/run.npy',
    'file:///a/run.npy.json',
  ]);
  assert.deepEqual(uris(''), []);
});

test('planDrop: a URI of a JSON run or of either file of an NPY export goes as the URI (the host finds the other)', () => {
  assert.deepEqual(planDrop(['file:///a/run.json'], []), { kind: 'uri', uri: 'file:///a/run.json' });
  assert.deepEqual(planDrop(['vscode-remote://h/a/run.npy'], [file('run.npy')]), {
    kind: 'uri',
    uri: 'vscode-remote://h/a/run.npy',
  });
  assert.deepEqual(planDrop(['file:///a/notes.txt', 'file:///a/run.npy.json'], []), {
    kind: 'uri',
    uri: 'file:///a/run.npy.json',
  });
});

test('planDrop: files without a URI — an NPY export with its sidecar, either alone, a JSON run', () => {
  const npy = file('run.npy');
  const side = file('run.npy.json');
  const other = file('other.json');
  assert.deepEqual(planDrop([], [side, npy]), { kind: 'files', npy, text: side });
  assert.deepEqual(planDrop([], [other, npy, side]), { kind: 'files', npy, text: side }, 'its own sidecar first');
  assert.deepEqual(planDrop([], [npy, other]), { kind: 'files', npy, text: other }, 'a renamed sidecar');
  assert.deepEqual(planDrop([], [npy]), { kind: 'files', npy }, 'alone: the host says the sidecar is missing');
  assert.deepEqual(planDrop([], [side]), { kind: 'files', text: side });
  assert.deepEqual(planDrop(['file:///a/notes.txt'], [other]), { kind: 'files', text: other });
});

test('planDrop: nothing to open, or a file too big to post, says why', () => {
  const none = planDrop([], [], ['text/plain']);
  assert.equal(none.kind, 'none');
  assert.match(none.kind === 'none' ? none.why : '', /without a file \(text\/plain\)/);
  const big = planDrop([], [file('run.npy', MAX_DROPPED_TEXT + 1), file('run.npy.json')]);
  assert.equal(big.kind, 'none');
  assert.match(big.kind === 'none' ? big.why : '', /run\.npy is over .* Open Saved Run/);
});
