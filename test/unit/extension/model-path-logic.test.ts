// unreadModelPath (extension/model-path-logic.ts): the User settings file's model path is used only when VS Code
// applies no value of the setting in any scope; hand-written settings files (JSON with comments).
import test from 'node:test';
import * as assert from 'node:assert/strict';
import { unreadModelPath, unreadModelPathLine } from '../../../extension/model-path-logic';

const FILE = `{
  // the model
  "attentionLens.modelPath": "  /models/stories260K ",
  "workbench.colorTheme": "Default Light Modern",
}`;

test('no value in any scope, the file names one: that one (trimmed)', () => {
  assert.equal(unreadModelPath({}, FILE), '/models/stories260K');
  assert.equal(unreadModelPath(undefined, FILE), '/models/stories260K');
});

test('a value VS Code applies in some scope, even an empty one, wins: nothing from the file', () => {
  assert.equal(unreadModelPath({ globalValue: '/other' }, FILE), undefined);
  assert.equal(unreadModelPath({ workspaceValue: '' }, FILE), undefined);
  assert.equal(unreadModelPath({ workspaceFolderValue: '/f' }, FILE), undefined);
});

test('no file, a file without the setting, an empty value or a broken file: nothing', () => {
  assert.equal(unreadModelPath({}, undefined), undefined);
  assert.equal(unreadModelPath({}, '{ "editor.fontSize": 12 }'), undefined);
  assert.equal(unreadModelPath({}, '{ "attentionLens.modelPath": "  " }'), undefined);
  assert.equal(unreadModelPath({}, '{ "attentionLens.modelPath": '), undefined);
  assert.equal(unreadModelPath({}, '{ "attentionLens.modelPath": 3 }'), undefined);
});

test('the line names the model, where it is, why it is not read and what to do', () => {
  const line = unreadModelPathLine('stories260K', 'ssh-remote');
  assert.match(
    line,
    /^attentionLens\.modelPath \(stories260K\) is in your User settings, which this remote window \(ssh-remote\) ignores/,
  );
  assert.match(line, /Copy to Remote Settings/);
  assert.doesNotMatch(line, /\n/);
});
