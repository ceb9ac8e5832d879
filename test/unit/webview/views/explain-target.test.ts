// The Explain view's choices per model (webview/views/explain-target.ts): the targets offered, the target specs they
// make (checked against the runtime's parser and the host's validator) and the methods a model allows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureResult } from '../../../helpers/explain-fixture';
import { parseTargetSpec } from '../../../../runtime/explain/target-spec';
import {
  defaultMethods,
  maskPositions,
  methodUnavailable,
  modelKind,
  targetOptions,
  targetSpec,
} from '../../../../webview/views/explain-target';
import { checkPanelRequest } from '../../../../protocol/validate';

test('targets per model: next token for causal LMs, masks for masked LMs, similarity for everything', () => {
  assert.equal(modelKind({ hasLmHead: false, attentionKinds: ['self', 'self'] }), 'encoder');
  assert.equal(modelKind({ hasLmHead: true, attentionKinds: ['causal'] }), 'causal-lm');
  assert.equal(modelKind({ hasLmHead: true, attentionKinds: ['self'] }), 'masked-lm');
  assert.deepEqual(
    targetOptions('encoder').map((o) => o.kind),
    ['similarity'],
  );
  assert.deepEqual(
    targetOptions('causal-lm').map((o) => o.kind),
    ['next', 'next-prob', 'next-token', 'next-token-prob', 'contrast', 'similarity'],
  );
  assert.deepEqual(
    targetOptions('masked-lm').map((o) => o.kind),
    ['mask-at', 'mask', 'similarity'],
  );
  const tokens = fixtureResult().tokens;
  assert.deepEqual(maskPositions('masked-lm', tokens), [1, 2]);
  // No other kind's targets take a position: none listed (a long causal run's start built one option per token).
  for (const kind of ['causal-lm', 'encoder', 'seq2seq'] as const) assert.deepEqual(maskPositions(kind, tokens), []);
});

test('target specs: what the runtime parses, or what the user must add', () => {
  const f = { token: '', contrast: '', position: NaN, reference: '' };
  assert.deepEqual(targetSpec('next', f), { spec: 'next' });
  assert.deepEqual(targetSpec('mask', f), { spec: 'mask' });
  assert.ok('error' in targetSpec('next-token', f));
  assert.ok('error' in targetSpec('mask-at', f));
  assert.ok('error' in targetSpec('similarity', { ...f, reference: '  \n ' }));
  assert.ok('error' in targetSpec('contrast', { ...f, token: ' a' }));
  assert.ok('error' in targetSpec('contrast', { ...f, token: ' a', contrast: ' a' }));
  assert.ok('error' in targetSpec('contrast', { ...f, token: 'a|b', contrast: ' a' }));
  const cases: [Parameters<typeof targetSpec>[0], Partial<typeof f>, string, object][] = [
    ['next-token', { token: ' mat' }, 'next: mat', { kind: 'next', token: ' mat' }],
    ['next-token-prob', { token: ' mat' }, 'prob:next: mat', { kind: 'next', token: ' mat', prob: true }],
    ['next-prob', {}, 'prob:next', { kind: 'next', prob: true }],
    ['mask-at', { position: 3 }, 'mask@3', { kind: 'mask', position: 3 }],
    ['contrast', { token: ' mat', contrast: '#42' }, 'contrast: mat|#42', { kind: 'contrast', a: ' mat', b: '#42' }],
    [
      'similarity',
      { reference: 'A <b>cat</b>' },
      'similarity:A <b>cat</b>',
      { kind: 'similarity', reference: 'A <b>cat</b>' },
    ],
  ];
  for (const [kind, fields, spec, parsed] of cases) {
    const t = targetSpec(kind, { ...f, ...fields });
    assert.deepEqual(t, { spec });
    assert.deepEqual(parseTargetSpec(spec), parsed);
    // And the host's validator lets the request through.
    const ctx = { runId: 1, layers: 2, tokens: 4, heads: 2 };
    assert.equal(checkPanelRequest('explain', { runId: 1, target: spec, methods: ['loo'] }, ctx), undefined);
  }
});

test('methods per model: imported ONNX exports have no value vectors, so no norm methods', () => {
  assert.match(methodUnavailable({ family: 'onnx' }, 'norm') ?? '', /value vectors/);
  assert.match(methodUnavailable({ family: 'onnx' }, 'norm-rollout') ?? '', /ONNX/);
  assert.equal(methodUnavailable({ family: 'onnx' }, 'loo'), undefined);
  assert.equal(methodUnavailable({ family: 'bert' }, 'norm'), undefined);
  assert.ok(methodUnavailable({ family: 'bert' }, 'gradient'));
  assert.deepEqual(defaultMethods({ family: 'bert' }), ['raw-attention', 'rollout', 'loo', 'norm']);
  assert.deepEqual(defaultMethods({ family: 'onnx' }), ['raw-attention', 'rollout', 'loo']);
});

test('methods per model: imported ONNX exports cannot be differentiated, so no gradient methods', () => {
  for (const id of ['saliency', 'grad-x-input', 'integrated-gradients', 'attn-x-grad', 'attnlrp']) {
    assert.match(methodUnavailable({ family: 'onnx' }, id) ?? '', /cannot be differentiated/, id);
    assert.equal(methodUnavailable({ family: 'llama' }, id), undefined, id);
  }
});

test('methods per model: AttnLRP only on the model types its rules cover (llama, qwen3, gpt2, bert, marian, bart, t5, mbart), never on ONNX', () => {
  assert.equal(methodUnavailable({ family: 'llama', modelType: 'llama' }, 'attnlrp'), undefined);
  assert.equal(methodUnavailable({ family: 'bert', modelType: 'bert' }, 'attnlrp'), undefined);
  assert.equal(methodUnavailable({ family: 'gpt2', modelType: 'gpt2' }, 'attnlrp'), undefined);
  assert.match(
    methodUnavailable({ family: 'llama', modelType: 'gemma2' }, 'attnlrp') ?? '',
    /llama, qwen3, gpt2, bert, marian, bart, t5 and mbart.*this model is gemma2/,
  );
  assert.match(methodUnavailable({ family: 'onnx', modelType: 'llama' }, 'attnlrp') ?? '', /cannot be differentiated/);
  assert.equal(methodUnavailable({ family: 'gpt2', modelType: 'gpt2' }, 'grad-x-input'), undefined);
});

test('encoder–decoders: target-token, whole target and contrast at a target position; source methods only', () => {
  const facts = {
    hasLmHead: true,
    attentionKinds: ['encoder', 'decoder', 'cross'] as ('encoder' | 'decoder' | 'cross')[],
    family: 'marian' as const,
    encoderDecoder: { encoderLayers: 1, decoderLayers: 1, decoderStartTokenId: 399, eosTokenId: 0 },
  };
  assert.equal(modelKind(facts), 'seq2seq');
  assert.deepEqual(
    targetOptions('seq2seq').map((o) => o.kind),
    ['target-token', 'target-all', 'target-contrast'],
  );
  const fields = { token: '▁2021', contrast: '▁2012', position: NaN, reference: '', targetPosition: 1 };
  const specs = [
    targetSpec('target-token', fields),
    targetSpec('target-all', fields),
    targetSpec('target-contrast', fields),
  ];
  assert.deepEqual(specs, [{ spec: 'target:1' }, { spec: 'target' }, { spec: 'contrast:▁2021|▁2012@target:1' }]);
  for (const s of specs) if ('spec' in s) parseTargetSpec(s.spec); // the runtime reads each
  assert.deepEqual(parseTargetSpec('contrast:▁2021|▁2012@target:1'), {
    kind: 'contrast',
    a: '▁2021',
    b: '▁2012',
    target: 1,
  });
  assert.ok('error' in targetSpec('target-token', { ...fields, targetPosition: undefined }));
  assert.deepEqual(defaultMethods(facts), ['cross-attention', 'cross-rollout', 'loo']);
  for (const id of [
    'saliency',
    'grad-x-input',
    'integrated-gradients',
    'attn-x-grad',
    'attnlrp',
    'alti',
    'value-zeroing',
  ])
    assert.equal(methodUnavailable({ ...facts, modelType: 'marian' }, id), undefined, id);
  assert.match(methodUnavailable(facts, 'value-zeroing-rollout')!, /ALTI\+/);
  assert.match(methodUnavailable(facts, 'norm')!, /self-attention stack/);
  assert.ok(methodUnavailable(facts, 'rollout'));
  assert.equal(methodUnavailable(facts, 'occlusion'), undefined);
  assert.match(methodUnavailable({ family: 'llama' }, 'cross-rollout')!, /For encoder–decoder models/);
});
