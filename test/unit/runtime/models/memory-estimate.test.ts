// The memory check before loading: the estimate for SmolLM2-135M computed by hand from its architecture, and the
// refusal of an 8B Q4_K_M model (a Llama-3-8B-shaped GGUF whose header is real and whose data is a sparse file)
// with the estimate and what to do — before any weight is read, for GGUF and safetensors alike.
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { isLensError } from '../../../../runtime/errors';
import { load } from '../../../../runtime/inspector/load-model';
import { checkModelFits, estimateResolved } from '../../../../runtime/models/memory-check';
import { ggufHeader } from '../../../helpers/gguf-write';
import { smolLm2Gguf } from '../../../helpers/fixtures';

const SMOL = smolLm2Gguf();
const TMP = mkdtempSync(path.join(tmpdir(), 'lens-mem-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

test('SmolLM2-135M: weights held as float32 (k/v once per key/value head) and the tied embedding twice (by hand)', async () => {
  const E = 576,
    I = 1536,
    V = 49152,
    L = 30,
    KVD = 192;
  const perLayer = E * E * 2 + KVD * E * 2 + 3 * E * I + 2 * E; // q, o; k, v of 3 kv heads; MLP; 2 norms
  const params = L * perLayer + 2 * V * E + E; // embedding + tied LM head, final norm
  const est = await estimateResolved({ kind: 'gguf', file: SMOL, dir: path.dirname(SMOL), name: 'smol' }, 512);
  assert.ok(est);
  assert.equal(est.weightsBytes, params * 4);
  // The run at 512 tokens keeps 30 × 9 attention maps of 512² (×2 while they cross the thread boundary).
  assert.ok(est.runtimeBytes >= 2 * 30 * 9 * 512 * 512 * 4);
  assert.ok(est.runtimeBytes < 1.2e9, `${est.runtimeBytes}`);
  // At 8,192 tokens the maps (72 GB) are not kept: q, k, lse and summaries per layer (by hand: 30 × 12 heads × 8,192
  // × 64 × 4 ≈ 755 MB, 30 × 9 × 8,192 × 80 ≈ 177 MB) and one block of 512 query rows' scores.
  const long = await estimateResolved({ kind: 'gguf', file: SMOL, dir: path.dirname(SMOL), name: 'smol' }, 8192);
  assert.ok(long);
  const kept = 30 * (12 * 8192 * 64 * 4 + 9 * 8192 * 80);
  const scores = 3 * 9 * 512 * 8192 * 4;
  assert.ok(long.runtimeBytes >= kept + scores, `${long.runtimeBytes}`);
  assert.ok(long.runtimeBytes < kept + scores + 1e9, `${long.runtimeBytes}`);
});

/** A Llama-3-8B-shaped Q4_K_M GGUF: the real header, tensor data left sparse (no disk used). */
function llama8bQ4km(): string {
  const E = 4096,
    I = 14336,
    L = 32,
    V = 128256,
    KV = 1024;
  const Q4K = 12,
    Q6K = 14,
    F32 = 0;
  const bytes = (type: number, n: number) => (type === F32 ? n * 4 : type === Q4K ? (n / 256) * 144 : (n / 256) * 210);
  const t = (name: string, dims: number[], type: number) => ({
    name,
    dims,
    type,
    size: bytes(
      type,
      dims.reduce((a, b) => a * b, 1),
    ),
  });
  const tensors = [t('token_embd.weight', [E, V], Q4K)];
  for (let l = 0; l < L; l++)
    tensors.push(
      t(`blk.${l}.attn_norm.weight`, [E], F32),
      t(`blk.${l}.ffn_norm.weight`, [E], F32),
      t(`blk.${l}.attn_q.weight`, [E, E], Q4K),
      t(`blk.${l}.attn_k.weight`, [E, KV], Q4K),
      t(`blk.${l}.attn_v.weight`, [E, KV], Q6K),
      t(`blk.${l}.attn_output.weight`, [E, E], Q4K),
      t(`blk.${l}.ffn_gate.weight`, [E, I], Q4K),
      t(`blk.${l}.ffn_up.weight`, [E, I], Q4K),
      t(`blk.${l}.ffn_down.weight`, [I, E], Q6K),
    );
  tensors.push(t('output_norm.weight', [E], F32), t('output.weight', [E, V], Q6K));
  const header = ggufHeader(
    {
      'general.architecture': { str: 'llama' },
      'general.file_type': { u32: 15 },
      'llama.block_count': { u32: L },
      'llama.context_length': { u32: 8192 },
      'llama.embedding_length': { u32: E },
      'llama.feed_forward_length': { u32: I },
      'llama.attention.head_count': { u32: 32 },
      'llama.attention.head_count_kv': { u32: 8 },
      'llama.rope.freq_base': { f32: 500000 },
      'llama.attention.layer_norm_rms_epsilon': { f32: 1e-5 },
      'llama.vocab_size': { u32: V },
    },
    tensors,
  );
  const file = path.join(TMP, 'llama-8b-Q4_K_M.gguf');
  writeFileSync(file, header.bytes);
  const fd = openSync(file, 'r+');
  ftruncateSync(fd, header.bytes.length + header.dataBytes);
  closeSync(fd);
  return file;
}

test('an 8B Q4_K_M model is refused before loading, with the estimate and what to do', async () => {
  const file = llama8bQ4km();
  const est = await checkModelFits({ kind: 'gguf', file, dir: TMP, name: 'llama-8b' }, 512, 1e12);
  // 8.03 B parameters × 4 bytes (k/v held once per key/value head, not repeated to the 32 query heads).
  assert.ok(est && est.weightsBytes > 32e9 && est.weightsBytes < 32.5e9, `${est?.weightsBytes}`);
  await assert.rejects(load(file, { availableMemory: 16e9, workerPath: '/nonexistent' }), (e) => {
    assert.ok(isLensError(e) && e.code === 'MODEL_TOO_LARGE', String(e));
    assert.match(
      e.message,
      /llama-8b-Q4_K_M needs about 3\d\.\d GB of memory here \(its weights held as float32: 32\.\d GB/,
    );
    assert.match(e.message, /16\.0 GB is available/);
    assert.match(e.message, /pick a smaller model/);
    assert.ok(!e.message.includes('\n'));
    return true;
  });
});

test('a model that fits goes on to load (the check passes SmolLM2 with 4 GB)', async () => {
  const est = await checkModelFits({ kind: 'gguf', file: SMOL, dir: path.dirname(SMOL), name: 'smol' }, 512, 4e9);
  assert.ok(est && est.totalBytes < 4e9);
});
