// Context mixing computed independently of runtime/analysis/mixing.ts, for its tests: ALTI (Ferrando et al. 2022)
// and value zeroing (Mohebbi et al. 2023) straight from their definitions on the naive float64 forward pass
// (naive-forward.ts records each attention block, and re-runs the model with one token's values zeroed in one
// layer). Plain loops, float64, no ONNX; slow and obvious on purpose.
import { naiveForward, type NaiveBlock } from './naive-forward';

/** f_h(x_j): token j's value vector of head h through that head's columns of W_O (HF linear, [hidden, H·D]). */
function headVector(b: NaiveBlock, heads: number, hidden: number, h: number, j: number): Float64Array {
  const D = b.headDim;
  const group = heads / b.kvHeads; // query heads per key/value head
  const kv = Math.floor(h / group);
  const out = new Float64Array(hidden);
  for (let e = 0; e < hidden; e++) {
    let acc = 0;
    for (let d = 0; d < D; d++) acc += b.v[j * b.kvHeads * D + kv * D + d] * b.oWeight[e * heads * D + h * D + d];
    out[e] = acc;
  }
  return out;
}

/** Rows of a square matrix scaled to sum to 1 (an all-zero row stays 0). */
function byRowSum(m: number[][]): number[][] {
  return m.map((row) => {
    const s = row.reduce((a, b) => a + b, 0);
    return row.map((x) => (s > 0 ? x / s : 0));
  });
}

/** The ALTI matrix of every layer: [layer][i][j]. */
export function referenceAltiLayers(modelDir: string, ids: number[]): number[][][] {
  const run = naiveForward(modelDir, ids, undefined, { record: true });
  const S = ids.length;
  return run.blocks!.map((b, l) => {
    const hidden = b.resid.length / S;
    const H = run.heads;
    const alpha = run.attention[l]; // [H, S, S]
    const f = Array.from({ length: S }, (_, j) => Array.from({ length: H }, (_, h) => headVector(b, H, hidden, h, j)));
    const rows: number[][] = [];
    for (let i = 0; i < S; i++) {
      // The block's terms for token i, then its resultant.
      const terms: Float64Array[] = [];
      for (let j = 0; j < S; j++) {
        const t = new Float64Array(hidden);
        for (let h = 0; h < H; h++) for (let e = 0; e < hidden; e++) t[e] += alpha[(h * S + i) * S + j] * f[j][h][e];
        if (i === j) for (let e = 0; e < hidden; e++) t[e] += b.resid[i * hidden + e];
        terms.push(t);
      }
      const z = b.sum.subarray(i * hidden, (i + 1) * hidden);
      let y: Float64Array = Float64Array.from(z);
      let transformed = terms;
      if (b.ln) {
        const { gamma, beta, eps } = b.ln;
        const mean = z.reduce((a, x) => a + x, 0) / hidden;
        const variance = z.reduce((a, x) => a + (x - mean) ** 2, 0) / hidden;
        const sd = Math.sqrt(variance + eps);
        y = y.map((x, e) => (gamma[e] * (x - mean)) / sd + beta[e]);
        transformed = terms.map((t) => {
          const m = t.reduce((a, x) => a + x, 0) / hidden;
          return t.map((x, e) => (gamma[e] * (x - m)) / sd);
        });
      }
      const l1 = (v: ArrayLike<number>) => Array.from(v).reduce((a, x) => a + Math.abs(x), 0);
      const yNorm = l1(y);
      rows.push(transformed.map((t) => Math.max(0, yNorm - l1(y.map((x, e) => x - t[e])))));
    }
    return byRowSum(rows);
  });
}

/** Value zeroing's matrix of layer `layer`: [i][j] = 1 − cos(x_i, x_i with token j's values zeroed), by row sum. */
export function referenceValueZeroing(modelDir: string, ids: number[], layer: number): number[][] {
  const S = ids.length;
  const original = naiveForward(modelDir, ids, undefined, { record: true, stopAfter: layer }).blocks![layer].out;
  const hidden = original.length / S;
  const m: number[][] = Array.from({ length: S }, () => Array(S).fill(0));
  for (let j = 0; j < S; j++) {
    const zeroed = naiveForward(modelDir, ids, undefined, {
      record: true,
      zeroValue: { layer, token: j },
      stopAfter: layer,
    }).blocks![layer].out;
    for (let i = 0; i < S; i++) {
      let dot = 0;
      let a2 = 0;
      let b2 = 0;
      for (let e = 0; e < hidden; e++) {
        dot += original[i * hidden + e] * zeroed[i * hidden + e];
        a2 += original[i * hidden + e] ** 2;
        b2 += zeroed[i * hidden + e] ** 2;
      }
      m[i][j] = Math.max(0, 1 - dot / Math.sqrt(a2 * b2));
    }
  }
  return byRowSum(m);
}

/** C_last ⋯ C_first by plain matrix products. */
export function referenceRollout(layers: number[][][]): number[][] {
  return layers
    .slice(1)
    .reduce((r, c) => c.map((row) => r[0].map((_, j) => row.reduce((acc, x, k) => acc + x * r[k][j], 0))), layers[0]);
}
