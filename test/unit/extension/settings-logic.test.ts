// Settings checked against their declarations in the real package.json (extension/settings-logic.ts): a value of the
// wrong type, outside its enum or its range is replaced by the declared default and named in one line that says what
// the setting takes; a valid or unset value is used as it is. Values are what a hand-edited settings.json holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { checkedSetting, declaredSettings, settingProblem } from '../../../extension/settings-logic';
import { repoRoot } from '../../helpers/fixtures';

const declared = declaredSettings(JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')));
const check = (key: string, value: unknown) => {
  const name = `attentionLens.${key}`;
  assert.ok(declared.has(name), `${name} is declared`);
  return checkedSetting<unknown>(name, declared.get(name), value);
};

test('every declared attentionLens setting is read, and its default is valid by its own declaration', () => {
  const names = [...declared.keys()].filter((n) => n.startsWith('attentionLens.')).sort();
  assert.deepEqual(names, [
    'attentionLens.backend',
    'attentionLens.chatPrompt',
    'attentionLens.colorMap',
    'attentionLens.hubEndpoint',
    'attentionLens.idleUnloadMinutes',
    'attentionLens.maxTokens',
    'attentionLens.modelPath',
    'attentionLens.sourceLanguage',
    'attentionLens.targetLanguage',
    'attentionLens.threads',
    'attentionLens.translationBeams',
  ]);
  for (const n of names) assert.equal(settingProblem(n, declared.get(n)!, declared.get(n)!.default), undefined, n);
});

test('wrong values fall back to the default with one line saying what the setting takes', () => {
  const cases: [string, unknown, unknown, RegExp][] = [
    ['chatPrompt', 'true', false, /chatPrompt is "true"; it takes true or false\. Using false/],
    ['chatPrompt', 1, false, /takes true or false/],
    ['maxTokens', '64', 512, /maxTokens is "64"; it takes a whole number from 1 to 8192\. Using 512/],
    ['maxTokens', 0, 512, /from 1 to 8192/],
    ['maxTokens', 64.5, 512, /a whole number/],
    ['maxTokens', 9000, 512, /from 1 to 8192/],
    ['idleUnloadMinutes', '30', 15, /a number from 0 to 1440\. Using 15/],
    ['idleUnloadMinutes', -5, 15, /from 0 to 1440/],
    ['backend', 'gpu', 'auto', /backend is "gpu"; it takes one of auto, native, wasm, webgpu\. Using "auto"/],
    ['threads', 65, 0, /a whole number from 0 to 64/],
    ['translationBeams', 0, 1, /from 1 to 16/],
    ['colorMap', 'Viridis', 'viridis', /one of viridis, magma, blues, greys/],
    ['modelPath', 42, '', /modelPath is 42; it takes a string in quotes\. Using ""/],
    ['sourceLanguage', null, '', /sourceLanguage is null/],
  ];
  for (const [key, value, fallback, message] of cases) {
    const r = check(key, value);
    assert.deepEqual(r.value, fallback, `${key} = ${JSON.stringify(value)}`);
    assert.match(r.problem ?? '', message, `${key} = ${JSON.stringify(value)}`);
    assert.ok(!r.problem!.includes('\n'), 'one line');
  }
});

test('valid and unset values are used without a problem', () => {
  const cases: [string, unknown, unknown][] = [
    ['chatPrompt', true, true],
    ['maxTokens', 4096, 4096],
    ['idleUnloadMinutes', 0.5, 0.5],
    ['idleUnloadMinutes', 0, 0],
    ['backend', 'wasm', 'wasm'],
    ['threads', 0, 0],
    ['colorMap', 'magma', 'magma'],
    ['modelPath', '/models/x.gguf', '/models/x.gguf'],
    ['maxTokens', undefined, 512],
    ['chatPrompt', undefined, false],
  ];
  for (const [key, value, used] of cases) {
    const r = check(key, value);
    assert.deepEqual(r, { value: used }, `${key} = ${JSON.stringify(value)}`);
  }
});
