// Select Model's entries for Ollama's and LM Studio's models: after recent and cached models, supported ones first,
// each with the app, family, quantisation and size — or why it cannot run; a recent model is not listed twice.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { modelChoices } from '../../../extension/model-choices';
import type { LocalModel } from '../../../runtime/models/local-models';

const local: LocalModel[] = [
  {
    source: 'ollama',
    id: 'ollama:mamba:1b',
    label: 'mamba:1b',
    file: '/h/.ollama/models/blobs/sha256-aa',
    bytes: 1_200_000_000,
    architecture: 'mamba',
    quantisation: 'Q4_K_M',
    supported: false,
    note: 'architecture mamba is not supported',
  },
  {
    source: 'ollama',
    id: 'ollama:smollm2:135m',
    label: 'smollm2:135m',
    file: '/h/.ollama/models/blobs/sha256-bb',
    bytes: 98_362_432,
    architecture: 'llama',
    quantisation: 'Q4_1',
    supported: true,
  },
  {
    source: 'lmstudio',
    id: '/h/.lmstudio/models/pub/repo/m-Q8_0.gguf',
    label: 'pub/repo/m-Q8_0.gguf',
    file: '/h/.lmstudio/models/pub/repo/m-Q8_0.gguf',
    bytes: 2_500_000_000,
    architecture: 'qwen2',
    quantisation: 'Q8_0',
    supported: true,
  },
];

test('Ollama and LM Studio models follow recent and cached ones, supported first, with what they are', () => {
  const list = modelChoices('ollama:smollm2:135m', [], {}, [{ id: 'a/b', info: { bytes: 1e6 } }], local);
  assert.deepEqual(
    list.map((c) => [c.value, c.source]),
    [
      ['ollama:smollm2:135m', 'recent'],
      ['a/b', 'cached'],
      ['/h/.lmstudio/models/pub/repo/m-Q8_0.gguf', 'lmstudio'],
      ['ollama:mamba:1b', 'ollama'],
    ],
  );
  const lm = list[2];
  assert.equal(lm.description, 'LM Studio · qwen2 · Q8_0 · 2.5 GB');
  assert.equal(lm.detail, '/h/.lmstudio/models/pub/repo/m-Q8_0.gguf');
  assert.match(lm.label, /pub\/repo\/m-Q8_0\.gguf$/);
  assert.equal(list[3].description, 'Ollama · not supported: architecture mamba is not supported · Q4_K_M · 1.2 GB');
  assert.match(list[3].label, /mamba:1b$/);
});

test('without a current model the Ollama entry shows name:tag, family, quantisation and size', () => {
  const list = modelChoices('', [], {}, [], local);
  const smol = list.find((c) => c.value === 'ollama:smollm2:135m')!;
  assert.equal(smol.source, 'ollama');
  assert.equal(smol.description, 'Ollama · llama · Q4_1 · 98 MB');
  assert.match(smol.label, /smollm2:135m$/);
});
