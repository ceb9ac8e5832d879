// The model manager's vscode-free decisions (extension/model-choices.ts): the Select Model list (recent first with
// what they turned out to be, then cached Hub models, a typed Hub id), display names, download text, idle and
// memory-pressure release.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_MODEL,
  describeInfo,
  displayName,
  downloadDetail,
  downloadMessage,
  idleUnloadMs,
  infoOfFacts,
  modelChoices,
  typedHubChoice,
  underMemoryPressure,
} from '../../../extension/model-choices';
import type { ModelFacts } from '../../../runtime/types';

test('the list: current first, recent with facts, cached Hub models once, no duplicates', () => {
  const list = modelChoices(
    '/models/minilm',
    ['/models/minilm', 'openai-community/gpt2', '/x/model.onnx'],
    { 'openai-community/gpt2': { family: 'gpt2', modelType: 'gpt2', layers: 12, heads: 12, bytes: 548e6 } },
    [
      { id: 'openai-community/gpt2', info: { modelType: 'gpt2' } },
      { id: DEFAULT_MODEL, info: { modelType: 'bert', layers: 6, heads: 12, bytes: 90.9e6 } },
    ],
  );
  assert.deepEqual(
    list.map((c) => [c.value, c.label, c.source]),
    [
      ['/models/minilm', 'minilm', 'recent'],
      ['openai-community/gpt2', 'gpt2', 'recent'],
      ['/x/model.onnx', 'model.onnx', 'recent'],
      [DEFAULT_MODEL, 'all-MiniLM-L6-v2', 'cached'],
    ],
  );
  assert.equal(list[0].description, 'current');
  assert.equal(list[1].description, 'gpt2 · 12 × 12 · 548 MB');
  assert.equal(list[3].description, 'cached · bert · 6 × 12 · 91 MB');
});

test('facts of an imported model show its model_type and that it is an ONNX import', () => {
  const facts = { family: 'onnx', modelType: 't5', layers: 18, heads: 8 } as ModelFacts;
  assert.equal(describeInfo(infoOfFacts(facts, 2.5e9)), 't5 (onnx) · 18 × 8 · 2.5 GB');
  assert.equal(describeInfo(undefined), '');
});

test('a typed Hub id becomes a choice; paths and invalid ids do not', () => {
  assert.equal(typedHubChoice('owner/name@v1.0')?.value, 'owner/name@v1.0');
  assert.equal(typedHubChoice('owner/name@refs/pr/1')?.value, 'owner/name@refs/pr/1');
  // A model's page pasted from the browser is offered as its id.
  assert.equal(typedHubChoice('https://huggingface.co/x/y')?.value, 'x/y');
  assert.equal(typedHubChoice('https://huggingface.co/x/y/tree/v2')?.value, 'x/y@v2');
  for (const t of ['', '/abs/path', './rel', 'gpt2', 'a/b/c', 'https://example.com/x/y', 'own er/name', 'x.onnx'])
    assert.equal(typedHubChoice(t), undefined, t);
});

test('display names: a Hub id’s name without revision, a folder’s or file’s base name', () => {
  assert.equal(displayName('sentence-transformers/all-MiniLM-L6-v2@main'), 'all-MiniLM-L6-v2');
  assert.equal(displayName('/a/b/model-dir/'), 'model-dir');
  assert.equal(displayName('C:\\models\\x.onnx'), 'x.onnx');
  assert.equal(displayName('owner/name@refs/pr/1'), 'name');
});

test('download text, idle time and memory pressure', () => {
  assert.equal(
    downloadMessage({ file: 'model.safetensors', bytes: 12.34e6, total: 90.87e6, bytesPerSecond: 5.1e6 }),
    'downloading model.safetensors: 12.3 of 90.9 MB at 5.1 MB/s',
  );
  // A part never reads as the whole; kB below a megabyte; waiting for another process's download of the file.
  assert.equal(
    downloadMessage({ file: 'model.safetensors', bytes: 1_044_000, total: 1_044_992, bytesPerSecond: 28_000 }),
    'downloading model.safetensors: 1.044 of 1.045 MB at 28 kB/s',
  );
  assert.equal(
    downloadMessage({ file: 'config.json', bytes: 651, total: 651, bytesPerSecond: 0 }),
    'downloading config.json: 651 of 651 bytes',
  );
  assert.equal(
    downloadMessage({ file: 'model.safetensors', bytes: 0, total: 9e6, bytesPerSecond: 0, waitingFor: { pid: 4242 } }),
    'downloading model.safetensors: waiting for another download of it (process 4242)',
  );
  // 0.999999 MB rounds to the whole at every precision: in bytes.
  assert.equal(
    downloadDetail({ overallBytes: 999_999, overallTotal: 1_000_000 }),
    'downloading 999,999 of 1,000,000 bytes',
  );
  assert.equal(downloadDetail({ overallBytes: 12.34e6, overallTotal: 91.2e6 }), 'downloading 12.3 of 91.2 MB');
  assert.equal(idleUnloadMs(15), 900_000);
  assert.equal(idleUnloadMs(0), undefined);
  assert.equal(idleUnloadMs(-3), undefined);
  assert.equal(idleUnloadMs('10'), undefined);
  assert.equal(underMemoryPressure(0.5e9, 16e9), true);
  assert.equal(underMemoryPressure(4e9, 16e9), false);
  assert.equal(underMemoryPressure(1.5e9, 64e9), false, 'over 1 GB free is not pressure');
  assert.equal(underMemoryPressure(0, 0), false);
});
