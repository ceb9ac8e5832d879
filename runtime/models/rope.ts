// RoPE inverse frequencies and cos/sin tables for every rope type of rope-config.ts, computed step by step in
// float32 as transformers' modeling_rope_utils.py does (Math.fround after each operation torch does in float32), so
// the attention matches to ~1e-6. LongRoPE picks its short or long factors per row: a row longer than
// original_max_position_embeddings uses long_factor (transformers decides on max(position_ids) + 1 of the batch; per
// row, a row gets the attention it would get alone). Dynamic NTK only rescales beyond max_position_embeddings,
// which inputs never reach (checkBatch), so it is unscaled RoPE here.
import type { RopeSpec } from '../formats/rope-config';

const f = Math.fround;

/** base^(2i/dim) for i < dim/2, as torch computes `base ** (arange(0, dim, 2).float() / dim)` in float32. */
function powers(theta: number, dim: number): Float32Array {
  const out = new Float32Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) out[i] = f(Math.pow(f(theta), f(f(2 * i) / dim)));
  return out;
}

/** The inverse frequencies [dim/2] of `spec` for a row of `seqLen` positions, and the factor on cos and sin. */
export function inverseFrequencies(spec: RopeSpec, seqLen: number): { invFreq: Float32Array; scale: number } {
  const half = spec.dim / 2;
  const pos = powers(spec.theta, spec.dim);
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = f(1 / pos[i]);
  switch (spec.type) {
    case 'default':
    case 'dynamic':
      return { invFreq: inv, scale: 1 };
    case 'linear':
      for (let i = 0; i < half; i++) inv[i] = f(inv[i] / spec.factor);
      return { invFreq: inv, scale: 1 };
    case 'llama3': {
      const lowWavelen = spec.originalMaxPositions / spec.lowFreqFactor;
      const highWavelen = spec.originalMaxPositions / spec.highFreqFactor;
      const out = new Float32Array(half);
      for (let i = 0; i < half; i++) {
        const wavelen = f(f(2 * Math.PI) / inv[i]);
        const scaled = wavelen > lowWavelen ? f(inv[i] / spec.factor) : inv[i];
        if (wavelen < highWavelen || wavelen > lowWavelen) {
          out[i] = scaled;
          continue;
        }
        const smooth = f(
          f(f(spec.originalMaxPositions / wavelen) - spec.lowFreqFactor) / f(spec.highFreqFactor - spec.lowFreqFactor),
        );
        out[i] = f(f(f(f(1 - smooth) * scaled) / spec.factor) + f(smooth * scaled));
      }
      return { invFreq: out, scale: 1 };
    }
    case 'longrope': {
      const ext = seqLen > spec.originalMaxPositions ? spec.longFactor : spec.shortFactor;
      const out = new Float32Array(half);
      for (let i = 0; i < half; i++) out[i] = f(1 / f(f(ext[i]) * pos[i]));
      return { invFreq: out, scale: spec.attentionFactor };
    }
    case 'yarn': {
      const dim = spec.dim;
      const base = spec.theta;
      const correctionDim = (rotations: number) =>
        (dim * Math.log(spec.originalMaxPositions / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
      let low = correctionDim(spec.betaFast);
      let high = correctionDim(spec.betaSlow);
      if (spec.truncate) {
        low = Math.floor(low);
        high = Math.ceil(high);
      }
      low = Math.max(low, 0);
      high = Math.min(high, dim - 1);
      if (low === high) high += 0.001;
      const out = new Float32Array(half);
      for (let i = 0; i < half; i++) {
        const extrapolation = f(1 / pos[i]);
        const interpolation = f(1 / f(spec.factor * pos[i]));
        const ramp = Math.min(1, Math.max(0, f(f(i - low) / f(high - low))));
        const extFactor = f(1 - ramp);
        out[i] = f(f(interpolation * f(1 - extFactor)) + f(extrapolation * extFactor));
      }
      return { invFreq: out, scale: spec.attentionFactor };
    }
  }
}

/** cos/sin tables [B,1,S,dim] (HF layout: emb = cat(freqs, freqs)) for position ids [B][S]. */
export function ropeTables(
  positions: number[][],
  spec: RopeSpec,
): { cos: Float32Array; sin: Float32Array; dims: number[] } {
  const B = positions.length;
  const S = positions[0].length;
  const D = spec.dim;
  const half = D / 2;
  const cos = new Float32Array(B * S * D); // [B,1,S,D]
  const sin = new Float32Array(B * S * D);
  for (let b = 0; b < B; b++) {
    const seqLen = Math.max(...positions[b]) + 1;
    const { invFreq, scale } = inverseFrequencies(spec, seqLen);
    const k = f(scale);
    for (let s = 0; s < S; s++) {
      const base = (b * S + s) * D;
      for (let i = 0; i < half; i++) {
        const angle = f(positions[b][s] * invFreq[i]);
        const c = k === 1 ? Math.cos(angle) : f(Math.cos(angle)) * k;
        const sn = k === 1 ? Math.sin(angle) : f(Math.sin(angle)) * k;
        cos[base + i] = c;
        cos[base + half + i] = c;
        sin[base + i] = sn;
        sin[base + half + i] = sn;
      }
    }
  }
  return { cos, sin, dims: [B, 1, S, D] };
}
