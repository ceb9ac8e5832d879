// The memory check before loading: the estimate for SmolLM2-135M computed by hand from its architecture (a kept run
// of 8,192 tokens counted from the blocked graph's shapes; bench/long-memory.ts prints it beside the measured peak), and the
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
import { keptLargestBuffer, keptReachOnGpu, keptRunMemory } from '../../../../runtime/models/memory-estimate';
import { queryRows } from '../../../../runtime/models/attention-summaries';
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
  // At 8,192 tokens the maps (72 GB) are not kept: what a kept run holds and one layer's blocked graph at its
  // largest (keptRunMemory, checked by hand below), and the 30 layers' weights again in their summaries variant.
  const long = await estimateResolved({ kind: 'gguf', file: SMOL, dir: path.dirname(SMOL), name: 'smol' }, 8192);
  assert.ok(long);
  assert.equal(long.weightsBytes, est.weightsBytes);
  const kept = keptRunMemory({ layers: L, heads: 9, kvHeads: 3, hidden: E, intermediate: I, headDim: 64 }, 8192);
  assert.equal(
    long.runtimeBytes,
    250e6 + V * E * 4 + kept.heldBytes + kept.transientBytes + L * perLayer * 4,
    'base + the largest stage (the embedding) + kept + one layer + the layers again',
  );
});

test('a kept run of SmolLM2 at 8,192 tokens, counted by hand from the blocked graph (64-row blocks)', () => {
  const m = keptRunMemory({ layers: 30, heads: 9, kvHeads: 3, hidden: 576, intermediate: 1536, headDim: 64 }, 8192);
  // 128 MiB / (9 heads × 8,192 keys × 4 bytes) = 455 rows would fit; blocks are 64 rows (the rows a block has are
  // the graph's: read from queryRows, which another change may tune).
  const R = queryRows(8192, 9);
  assert.equal(m.rows, R);
  // Held per layer: q 9 × 8,192 × 64 × 4 = 18,874,368; k 3 × 8,192 × 64 × 4 = 6,291,456; lse (float64) 9 × 8,192 × 8
  // = 589,824; entropy and special mass 9 × 8,192 × 4 × 2 = 589,824; the top key and its weight (KEPT_TOP_K = 1)
  // 9 × 8,192 × 1 × 4 × 2 = 589,824; overview max and mean 9 × 128 × 128 × 4 × 2 = 1,179,648. Sum 28,114,944; × 30
  // layers (with the top 8 keys it was 967,311,360: the 923 MB the bench measured, KeptRun.bytes()):
  assert.equal(m.heldBytes, 843_448_320); // 804.4 MiB
  // One block's scores [9, R, 8,192] float32 (18,874,368 at 64 rows).
  assert.equal(m.blockBytes, 9 * R * 8192 * 4);
  // The layer at its largest, the Loop: body 4 blocks 75,497,472 + k sliced and transposed 2 × 9 × 8,192 × 64 × 4 =
  // 37,748,736 + v with 2 columns 9 × 8,192 × 66 × 4 = 19,464,192 + the block's mask 64 × 8,192 × 12 = 6,291,456
  // (139,001,856); outer q, k, v 3 × 18,874,368 + v with its columns 19,464,192 (76,087,296); the scans 3 copies ×
  // 9 heads × 8,192 rows × (66 + 2 + 2 + 256) × 4 = 288,423,936 (the top key and weight: 2 columns). The
  // feed-forward (3 × 1,536 + 6 × 576) × 8,192 × 4 = 264,241,152 is smaller.
  const rowsAll = Math.ceil(8192 / R) * R; // 8,192 at 64 rows
  const body = 4 * 9 * R * 8192 * 4 + 37_748_736 + 19_464_192 + R * 8192 * 12; // 139,001,856 at 64 rows
  assert.equal(m.transientBytes, body + 76_087_296 + 3 * 9 * rowsAll * 326 * 4);
  if (R === 64) assert.equal(m.transientBytes, 139_001_856 + 76_087_296 + 288_423_936);
});

test('a kept run of a small shape: partial blocks and overview cells round up', () => {
  // 2 layers, 4 heads of 8 (2 kv heads), 100 tokens, top-3: rows R = queryRows (today min(100, 64, 128 MiB /
  // 1,600) = 64: 2 blocks, 128 rows gathered), ceil(100 / 64) = 2 cells.
  const m = keptRunMemory({ layers: 2, heads: 4, kvHeads: 2, hidden: 32, intermediate: 64, headDim: 8 }, 100, 3);
  const R = queryRows(100, 4);
  const rowsAll = Math.ceil(100 / R) * R;
  assert.equal(m.rows, R);
  // Per layer: 100 × (4·4·8 + 4·2·8 + 8·4 + 4·(8 + 24)) = 100 × 352 = 35,200, + overview 2 × 4 × 2 × 2 × 4 = 128.
  assert.equal(m.heldBytes, 2 * 35_328);
  assert.equal(m.blockBytes, 4 * R * 100 * 4);
  // Body 4 blocks + k sliced and transposed 2 × 4 × 100 × 8 × 4 = 25,600 + v with 2 columns 4 × 100 × 10 × 4 = 16,000
  // + the mask R × 100 × 12; outer 3 × 12,800 + 16,000 = 54,400; scans 3 × 4 × rowsAll × (10 + 6 + 2 + 4) × 4.
  // At 64 rows: 409,600 + 25,600 + 16,000 + 76,800 = 528,000; 54,400; 135,168.
  const expected = 4 * (4 * R * 100 * 4) + 25_600 + 16_000 + R * 1200 + 54_400 + 3 * 4 * rowsAll * 22 * 4;
  assert.equal(m.transientBytes, expected);
  if (R === 64) assert.equal(m.transientBytes, 528_000 + 54_400 + 135_168);
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

test('WebGPU (128 MiB a buffer by default): the largest tensor of a kept SmolLM2 run and the length it reaches, by hand', () => {
  const smol = { heads: 9, hidden: 576, intermediate: 1536, headDim: 64 };
  const MiB128 = 128 * 2 ** 20; // 134,217,728
  // At 8,192 tokens: the feed-forward [8,192, 1,536] × 4 = 50,331,648 passes the gathered overview rows
  // [9, 8,192, 128] × 4 = 37,748,736 and one block's scores [9, 64, 8,192] × 4 = 18,874,368.
  assert.deepEqual(keptLargestBuffer(smol, 8192), { bytes: 50_331_648, what: 'the feed-forward [8192, 1536]' });
  // The overview rows grow as 9 × 64·c × c × 4 with c = ceil(n / 64) cells: 2,304 c² ≤ 134,217,728 → c ≤ 241
  // (241² = 58,081; 242² = 58,564), so n ≤ 241 × 64 = 15,424; the feed-forward stays under (15,424 × 6,144 = 94.8 MB).
  assert.equal(keptReachOnGpu(smol, MiB128, 65536), 15_424);
  assert.equal(keptLargestBuffer(smol, 15_424).bytes, 9 * 15_424 * 241 * 4);
  assert.ok(keptLargestBuffer(smol, 15_425).bytes > MiB128);
  // Capped by the input limit: 8,192.
  assert.equal(keptReachOnGpu(smol, MiB128, 8192), 8192);
});
