// Turns a GGUF tensor's bytes into float32, block by block, exactly as ggml does (the gguf Python package's
// gguf/quants.py is the reference the tests compare with, bit for bit): F32, F16, BF16, the 32-element blocks
// Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 (one fp16 scale, and for _1 an fp16 minimum) and the 256-element K-quant super-blocks
// Q2_K..Q6_K (an fp16 scale and minimum for the super-block, 4- to 8-bit sub-block scales). Every float operation is
// rounded to float32 in the order numpy evaluates it (Math.fround), so the results are identical, not just close.
//
// Element order inside a block follows ggml's packing: low nibbles of a 16/32-byte run are the first half of the
// elements, high nibbles the second; high bits (Q5, Q3_K, Q5_K, Q6_K) come from separate bit planes.
import { LensError } from '../errors';
import { GGML_TYPES } from './gguf-read';
import { halfToFloatTable } from './safetensors-bytes';

const f = Math.fround;

/** Names of the ggml types dequantize() reads. */
export const DEQUANT_TYPES = [
  'F32',
  'F16',
  'BF16',
  'Q4_0',
  'Q4_1',
  'Q5_0',
  'Q5_1',
  'Q8_0',
  'Q2_K',
  'Q3_K',
  'Q4_K',
  'Q5_K',
  'Q6_K',
] as const;

const SUPPORTED = new Set<string>(DEQUANT_TYPES);

export function isDequantizable(type: number): boolean {
  return SUPPORTED.has(GGML_TYPES[type]?.name ?? '');
}

/** The 6-bit scale and minimum of sub-block j (0..7) of Q4_K/Q5_K, from the 12 packed bytes at `s`. */
function scaleMinK4(b: Uint8Array, s: number, j: number): [number, number] {
  if (j < 4) return [b[s + j] & 63, b[s + j + 4] & 63];
  return [(b[s + j + 4] & 0x0f) | ((b[s + j - 4] >> 6) << 4), (b[s + j + 4] >> 4) | ((b[s + j] >> 6) << 4)];
}

/**
 * Dequantizes `count` elements of ggml type `type` from `raw` (exactly count/blockSize blocks) into `out`.
 * `what` names the tensor in the error for an unsupported type.
 */
export function dequantizeInto(type: number, raw: Uint8Array, out: Float32Array, what: string): void {
  const info = GGML_TYPES[type];
  const name = info?.name ?? `type ${type}`;
  if (!SUPPORTED.has(name))
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `Tensor ${what} is of ggml type ${name}, which Attention Lens cannot read; supported: ${DEQUANT_TYPES.join(', ')}. Use a file quantised with one of those (e.g. Q4_K_M, Q8_0).`,
    );
  const count = out.length;
  const nb = count / info.blockSize;
  if (raw.byteLength < nb * info.typeSize)
    throw new RangeError(`${what}: ${raw.byteLength} bytes for ${count} elements`);
  const h = halfToFloatTable();
  const b = raw;
  const half = (o: number) => h[b[o] | (b[o + 1] << 8)];
  const i8 = (v: number) => (v << 24) >> 24;
  switch (name) {
    case 'F32': {
      const dv = new DataView(b.buffer, b.byteOffset, count * 4);
      for (let i = 0; i < count; i++) out[i] = dv.getFloat32(i * 4, true);
      return;
    }
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = half(i * 2);
      return;
    case 'BF16': {
      const u = new Uint32Array(out.buffer, out.byteOffset, count);
      for (let i = 0; i < count; i++) u[i] = ((b[i * 2] | (b[i * 2 + 1] << 8)) << 16) >>> 0;
      return;
    }
    case 'Q4_0':
      for (let k = 0; k < nb; k++) {
        const o = k * 18;
        const d = half(o);
        const y = k * 32;
        for (let j = 0; j < 16; j++) {
          const q = b[o + 2 + j];
          out[y + j] = d * ((q & 0x0f) - 8);
          out[y + j + 16] = d * ((q >> 4) - 8);
        }
      }
      return;
    case 'Q4_1':
      for (let k = 0; k < nb; k++) {
        const o = k * 20;
        const d = half(o);
        const m = half(o + 2);
        const y = k * 32;
        for (let j = 0; j < 16; j++) {
          const q = b[o + 4 + j];
          out[y + j] = f(d * (q & 0x0f)) + m;
          out[y + j + 16] = f(d * (q >> 4)) + m;
        }
      }
      return;
    case 'Q5_0':
      for (let k = 0; k < nb; k++) {
        const o = k * 22;
        const d = half(o);
        const qh = (b[o + 2] | (b[o + 3] << 8) | (b[o + 4] << 16) | (b[o + 5] << 24)) >>> 0;
        const y = k * 32;
        for (let j = 0; j < 16; j++) {
          const q = b[o + 6 + j];
          out[y + j] = d * (((q & 0x0f) | (((qh >>> j) & 1) << 4)) - 16);
          out[y + j + 16] = d * (((q >> 4) | (((qh >>> (j + 16)) & 1) << 4)) - 16);
        }
      }
      return;
    case 'Q5_1':
      for (let k = 0; k < nb; k++) {
        const o = k * 24;
        const d = half(o);
        const m = half(o + 2);
        const qh = (b[o + 4] | (b[o + 5] << 8) | (b[o + 6] << 16) | (b[o + 7] << 24)) >>> 0;
        const y = k * 32;
        for (let j = 0; j < 16; j++) {
          const q = b[o + 8 + j];
          out[y + j] = f(d * ((q & 0x0f) | (((qh >>> j) & 1) << 4))) + m;
          out[y + j + 16] = f(d * ((q >> 4) | (((qh >>> (j + 16)) & 1) << 4))) + m;
        }
      }
      return;
    case 'Q8_0':
      for (let k = 0; k < nb; k++) {
        const o = k * 34;
        const d = half(o);
        const y = k * 32;
        for (let j = 0; j < 32; j++) out[y + j] = i8(b[o + 2 + j]) * d;
      }
      return;
    case 'Q2_K':
      // scales[16] qs[64] d dmin; element e: sub-block e>>4, 2 bits from qs[(e>>7)*32 + (e&31)] at shift 2*((e>>5)&3).
      for (let k = 0; k < nb; k++) {
        const o = k * 84;
        const d = half(o + 80);
        const dmin = half(o + 82);
        const y = k * 256;
        for (let s = 0; s < 16; s++) {
          const sc = b[o + s];
          const dl = f(d * (sc & 0x0f));
          const ml = f(dmin * (sc >> 4));
          for (let i = 0; i < 16; i++) {
            const e = s * 16 + i;
            const q = (b[o + 16 + (e >> 7) * 32 + (e & 31)] >> (2 * ((e >> 5) & 3))) & 3;
            out[y + e] = f(dl * q) - ml;
          }
        }
      }
      return;
    case 'Q3_K':
      // hmask[32] qs[64] scales[12] d; 6-bit signed scales per 16 elements; a clear hmask bit subtracts 4.
      for (let k = 0; k < nb; k++) {
        const o = k * 110;
        const d = half(o + 108);
        const sc = o + 96;
        const y = k * 256;
        for (let s = 0; s < 16; s++) {
          const low = s < 8 ? b[sc + s] & 0x0f : b[sc + s - 8] >> 4;
          const high = (b[sc + 8 + (s & 3)] >> (2 * (s >> 2))) & 3;
          const dl = f(d * ((low | (high << 4)) - 32));
          for (let i = 0; i < 16; i++) {
            const e = s * 16 + i;
            const l = e & 31;
            const ql = (b[o + 32 + (e >> 7) * 32 + l] >> (2 * ((e >> 5) & 3))) & 3;
            const hb = (b[o + l] >> (e >> 5)) & 1;
            out[y + e] = dl * (ql - ((hb ^ 1) << 2));
          }
        }
      }
      return;
    case 'Q4_K':
    case 'Q5_K': {
      // d dmin scales[12] (qh[32] for Q5_K) qs[128]; 8 sub-blocks of 32 with 6-bit scale and minimum.
      const five = name === 'Q5_K';
      const size = five ? 176 : 144;
      const qsAt = five ? 48 : 16;
      for (let k = 0; k < nb; k++) {
        const o = k * size;
        const d = half(o);
        const dmin = half(o + 2);
        const y = k * 256;
        for (let s = 0; s < 8; s++) {
          const [scale, min] = scaleMinK4(b, o + 4, s);
          const dl = f(d * scale);
          const ml = f(dmin * min);
          const run = o + qsAt + (s >> 1) * 32;
          const shift = 4 * (s & 1);
          for (let l = 0; l < 32; l++) {
            let q = (b[run + l] >> shift) & 0x0f;
            if (five) q |= ((b[o + 16 + l] >> s) & 1) << 4;
            out[y + s * 32 + l] = f(dl * q) - ml;
          }
        }
      }
      return;
    }
    case 'Q6_K':
      // ql[128] qh[64] scales int8[16] d; element e: low 4 bits from ql[(e>>7)*64 + (e&63)] (nibble (e>>6)&1),
      // high 2 bits from qh[(e>>7)*32 + (e&31)] at shift 2*((e>>5)&3); value d*scale[e>>4]*(q-32).
      for (let k = 0; k < nb; k++) {
        const o = k * 210;
        const d = half(o + 208);
        const y = k * 256;
        for (let s = 0; s < 16; s++) {
          const dl = f(d * i8(b[o + 192 + s]));
          for (let i = 0; i < 16; i++) {
            const e = s * 16 + i;
            const ql = (b[o + (e >> 7) * 64 + (e & 63)] >> (4 * ((e >> 6) & 1))) & 0x0f;
            const qh = (b[o + 128 + (e >> 7) * 32 + (e & 31)] >> (2 * ((e >> 5) & 3))) & 3;
            out[y + e] = dl * ((ql | (qh << 4)) - 32);
          }
        }
      }
      return;
  }
}

/** Dequantizes a whole tensor of `count` elements into a new Float32Array. */
export function dequantize(type: number, raw: Uint8Array, count: number, what = 'tensor'): Float32Array {
  const out = new Float32Array(count);
  dequantizeInto(type, raw, out, what);
  return out;
}
