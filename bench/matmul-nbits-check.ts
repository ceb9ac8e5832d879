// Whether onnxruntime's MatMulNBits (bits 4, block 32) reproduces the dequantization of Q4_1 and the K-quants (q·d + m,
// a float zero point −m/d) on the native and Wasm CPU kernels: compares it with the float32 MatMul of the exactly
// dequantized weight, at accuracy levels 0 and 4. ARCHITECTURE.md (Models) says why GGUF weights are dequantized to
// float32 instead. Prints the largest difference per backend.   npx tsx bench/matmul-nbits-check.ts
import { AttrType, DataType, type ModelMsg } from '../runtime/formats/onnx-descriptor';
import { encodeModelPlain } from '../runtime/formats/onnx-encode';
import { createSession } from '../runtime/backend/ort';
import { mulberry32 } from '../runtime/random';

const K = 256,
  N = 64,
  M = 8,
  B = 32,
  nb = K / B;
const r = mulberry32(3);
const q = new Uint8Array(N * K).map(() => Math.floor(r() * 16));
const d = new Float32Array(N * nb).map(() => Math.fround(0.01 + r() * 0.05));
const m = new Float32Array(N * nb).map(() => Math.fround(-0.4 + r() * 0.3));
const W = new Float32Array(N * K); // [N, K] = q·d + m
for (let n = 0; n < N; n++)
  for (let k = 0; k < K; k++) {
    const b = n * nb + Math.floor(k / B);
    W[n * K + k] = Math.fround(Math.fround(d[b] * q[n * K + k]) + m[b]);
  }
const packed = new Uint8Array(N * nb * (B / 2));
for (let n = 0; n < N; n++)
  for (let k = 0; k < K; k += 2) packed[(n * K + k) / 2] = q[n * K + k] | (q[n * K + k + 1] << 4);
const zp = new Float32Array(N * nb).map((_, i) => -m[i] / d[i]);
const A = new Float32Array(M * K).map(() => r() - 0.5);
const WT = new Float32Array(K * N);
for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) WT[k * N + n] = W[n * K + k];
const bytes = (a: Float32Array | Uint8Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const vi = (name: string, dims: number[]) => ({
  name,
  type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((x) => ({ dimValue: x })) } } },
});
function model(nbits: boolean, accuracy: number): Uint8Array {
  const m: ModelMsg = {
    irVersion: 8,
    producerName: 'x',
    opsetImport: [
      { domain: '', version: 17 },
      { domain: 'com.microsoft', version: 1 },
    ],
    graph: {
      name: 'g',
      node: nbits
        ? [
            {
              opType: 'MatMulNBits',
              domain: 'com.microsoft',
              input: ['a', 'b', 's', 'z'],
              output: ['y'],
              attribute: [
                { name: 'K', type: AttrType.INT, i: K },
                { name: 'N', type: AttrType.INT, i: N },
                { name: 'bits', type: AttrType.INT, i: 4 },
                { name: 'block_size', type: AttrType.INT, i: B },
                { name: 'accuracy_level', type: AttrType.INT, i: accuracy },
              ],
            },
          ]
        : [{ opType: 'MatMul', input: ['a', 'w'], output: ['y'] }],
      initializer: nbits
        ? [
            { name: 'b', dims: [N, nb, B / 2], dataType: DataType.UINT8, rawData: packed },
            { name: 's', dims: [N, nb], dataType: DataType.FLOAT, rawData: bytes(d) },
            { name: 'z', dims: [N, nb], dataType: DataType.FLOAT, rawData: bytes(zp) },
          ]
        : [{ name: 'w', dims: [K, N], dataType: DataType.FLOAT, rawData: bytes(WT) }],
      input: [vi('a', [M, K])],
      output: [vi('y', [M, N])],
    },
  };
  return encodeModelPlain(m);
}
(async () => {
  for (const backend of ['native', 'wasm'] as const) {
    const ref = await createSession(model(false, 0), { backend, threads: 1 });
    const want = (await ref.run({ a: { type: 'float32', dims: [M, K], data: A } }, ['y'])).y.data as Float32Array;
    for (const acc of [0, 4]) {
      try {
        const s = await createSession(model(true, acc), { backend, threads: 1 });
        const got = (await s.run({ a: { type: 'float32', dims: [M, K], data: A } }, ['y'])).y.data as Float32Array;
        let worst = 0,
          scale = 0;
        for (let i = 0; i < got.length; i++) {
          worst = Math.max(worst, Math.abs(got[i] - want[i]));
          scale = Math.max(scale, Math.abs(want[i]));
        }
        console.log(
          backend,
          `accuracy_level ${acc}: max |diff| ${worst.toExponential(2)} (outputs up to ${scale.toFixed(2)})`,
        );
      } catch (e) {
        console.log(backend, `accuracy_level ${acc}: ${(e as Error).message.split('\n')[0].slice(0, 200)}`);
      }
    }
  }
})();
