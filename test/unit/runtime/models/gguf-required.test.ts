// runtime/models/gguf-source.ts checks a GGUF file's tensors against what the decoder builder requires before the
// builder runs (so that a mismatch is told in GGUF terms: blk.N.attn_q.weight, llama.embedding_length), from its own
// list, requiredGgufTensors. That list mirrors llama.ts: this test keeps the two the same by recording every tensor
// the builder reads while it builds each GGUF fixture's plan and whole graph, and comparing it with the list mapped to Hugging Face
// names. A builder that starts or stops reading a tensor fails here until requiredGgufTensors follows it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openGguf } from '../../../../runtime/formats/gguf-file';
import { hfTensorName } from '../../../../runtime/formats/gguf-tensors';
import { readGgufModel, requiredGgufTensors } from '../../../../runtime/models/gguf-source';
import { buildFullGraph, buildPlan } from '../../../../runtime/models/read-model';
import { fixturesDir } from '../../../helpers/fixtures';

const DIR = path.join(fixturesDir, 'gguf');
const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.gguf'));

test('the GGUF fixtures cover the decoder variants the list distinguishes', () => {
  assert.ok(files.length >= 6, `GGUF fixtures: ${files.join(', ')}`);
});

for (const f of files)
  test(`${f}: the tensors the builder reads are requiredGgufTensors (and output.weight when untied)`, () => {
    const file = path.join(DIR, f);
    const arch = openGguf(file).meta.str('general.architecture') ?? '';
    const source = readGgufModel(file);
    const read = new Set<string>();
    const get = source.weights.get.bind(source.weights);
    const recorded = { ...source, weights: { ...source.weights, get: (n: string) => (read.add(n), get(n)) } };
    const plan = buildPlan(recorded);
    for (const stage of plan.stages) assert.ok(stage.onnx.length > 0, `stage ${stage.role} built`); // built on first use
    buildFullGraph(recorded, { attentionOutputs: false }); // with the LM head (lm_head.weight when untied)
    const listed = new Set(
      requiredGgufTensors(source.config).map(([g]) => {
        const hf = hfTensorName(arch, g);
        assert.ok(hf !== undefined, `${g} has no Hugging Face name for ${arch}`);
        return hf;
      }),
    );
    if (!source.config.tieWordEmbeddings && source.weights.has('lm_head.weight')) listed.add('lm_head.weight');
    const missing = [...read].filter((n) => !listed.has(n)).sort();
    const extra = [...listed].filter((n) => !read.has(n)).sort();
    assert.deepEqual(missing, [], `read by the builder, not in requiredGgufTensors: ${missing.join(', ')}`);
    assert.deepEqual(extra, [], `in requiredGgufTensors, not read by the builder: ${extra.join(', ')}`);
  });
