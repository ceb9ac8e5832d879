// Writes test/fixtures/models/tiny-gpt2/model.safetensors: random weights of the shape of sshleifer/tiny-gpt2
// (GPT-2 layout: 2 layers × 2 heads, hidden size 2, Conv1D weights stored [in, out], tied lm_head), drawn from the
// project's seeded generator (runtime/random.ts). The upstream weights carry no licence, so the repository keeps
// only the upstream tokenizer files and config, and these weights. Deterministic: the same file on every run.
//
//   npx tsx scripts/make-tiny-gpt2-weights.ts
//
// Weights are larger than GPT-2's initialisation (std 0.5, and 2 for the q/k/v projection, instead of 0.02; non-zero
// biases and LayerNorm parameters), so that the attention is far from uniform and the tests that compare it with an independent
// forward pass (test/reference/naive-forward.ts) compare something that varies from key to key.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mulberry32 } from '../runtime/random';
import { writeSafetensors, type F32Tensors } from '../test/helpers/safetensors-writer';

const SEED = 2024;
const dir = path.resolve(__dirname, '..', 'test', 'fixtures', 'models', 'tiny-gpt2');
const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, number | null>;
const E = config.n_embd!;
const L = config.n_layer!;
const V = config.vocab_size!;
const P = config.n_positions!;
const I = config.n_inner ?? 4 * E;

const uniform = mulberry32(SEED);
/** A standard normal draw (Box–Muller on two uniforms). */
function normal(): number {
  const u = 1 - uniform(); // (0, 1]
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
}

const tensors: F32Tensors = {};
const add = (name: string, shape: number[], mean: number, std: number) => {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = mean + std * normal();
  tensors[name] = { shape, data };
};

add('transformer.wte.weight', [V, E], 0, 0.5); // [vocab, hidden], also the lm_head
add('transformer.wpe.weight', [P, E], 0, 0.5); // [positions, hidden]
for (let l = 0; l < L; l++) {
  const p = `transformer.h.${l}.`;
  add(p + 'ln_1.weight', [E], 1, 0.1);
  add(p + 'ln_1.bias', [E], 0, 0.1);
  add(p + 'attn.c_attn.weight', [E, 3 * E], 0, 2); // [in, q|k|v out]
  add(p + 'attn.c_attn.bias', [3 * E], 0, 0.5);
  add(p + 'attn.c_proj.weight', [E, E], 0, 0.5); // [in, out]
  add(p + 'attn.c_proj.bias', [E], 0, 0.1);
  add(p + 'ln_2.weight', [E], 1, 0.1);
  add(p + 'ln_2.bias', [E], 0, 0.1);
  add(p + 'mlp.c_fc.weight', [E, I], 0, 0.5); // [in, inner]
  add(p + 'mlp.c_fc.bias', [I], 0, 0.1);
  add(p + 'mlp.c_proj.weight', [I, E], 0, 0.5); // [inner, out]
  add(p + 'mlp.c_proj.bias', [E], 0, 0.1);
}
add('transformer.ln_f.weight', [E], 1, 0.1);
add('transformer.ln_f.bias', [E], 0, 0.1);

const file = path.join(dir, 'model.safetensors');
writeSafetensors(file, tensors, { format: 'pt' });
console.log(`wrote ${file} (${Object.keys(tensors).length} tensors, seed ${SEED})`);
