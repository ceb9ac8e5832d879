// A float64 interpreter of the ONNX operators the family builders emit, in plain loops, sharing no code with
// runtime/: the tests differentiate a graph by central finite differences through it (test/unit/runtime/grad/),
// an independent check of the reverse-mode rules that onnxruntime runs in float32.
import type { ModelMsg, NodeMsg, TensorMsg } from '../../runtime/formats/onnx-descriptor';

export interface T64 {
  shape: number[];
  data: Float64Array;
}

const size = (s: number[]) => s.reduce((a, d) => a * d, 1);
const strides = (s: number[]) => {
  const out = new Array<number>(s.length).fill(1);
  for (let i = s.length - 2; i >= 0; i--) out[i] = out[i + 1] * s[i + 1];
  return out;
};
const toNum = (v: unknown) => (typeof v === 'number' ? v : (v as { toNumber(): number }).toNumber());

function attr(node: NodeMsg, name: string): number | number[] | undefined {
  const a = node.attribute?.find((x) => x.name === name);
  if (!a) return undefined;
  if (a.ints && a.ints.length) return a.ints.map(toNum);
  if (a.f !== undefined && a.type === 1) return a.f;
  if (a.i !== undefined) return toNum(a.i);
  return undefined;
}

function fromInit(t: TensorMsg): T64 {
  const shape = (t.dims ?? []).map(toNum);
  const raw = t.rawData!;
  const buf = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
  const data =
    t.dataType === 7 ? Float64Array.from(new BigInt64Array(buf), Number) : Float64Array.from(new Float32Array(buf));
  return { shape, data };
}

function broadcastShape(a: number[], b: number[]): number[] {
  const r = Math.max(a.length, b.length);
  return Array.from({ length: r }, (_, i) => {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== 1 && y !== 1 && x !== y) throw new Error(`no broadcast of [${a}] and [${b}]`);
    return Math.max(x, y) === 1 ? 1 : x === 1 ? y : x;
  });
}

/** Index into `t` of the broadcast position `idx` (of an output of rank idx.length). */
function at(t: T64, idx: number[]): number {
  const st = strides(t.shape);
  const off = idx.length - t.shape.length;
  let k = 0;
  for (let i = 0; i < t.shape.length; i++) k += (t.shape[i] === 1 ? 0 : idx[i + off]) * st[i];
  return t.data[k];
}

function forEachIndex(shape: number[], f: (idx: number[], flat: number) => void): void {
  const n = size(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    f(idx, flat);
    for (let i = shape.length - 1; i >= 0; i--) {
      if (++idx[i] < shape[i]) break;
      idx[i] = 0;
    }
  }
}

function elementwise(inputs: T64[], f: (...v: number[]) => number): T64 {
  const shape = inputs.map((t) => t.shape).reduce(broadcastShape);
  const data = new Float64Array(size(shape));
  forEachIndex(shape, (idx, flat) => (data[flat] = f(...inputs.map((t) => at(t, idx)))));
  return { shape, data };
}

function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 is too coarse for finite differences: use the series / continued fraction.
  const t = Math.abs(x);
  if (t < 3) {
    let sum = 0;
    let term = t;
    for (let n = 0; n < 200; n++) {
      sum += term / (2 * n + 1);
      term *= (-t * t) / (n + 1);
      if (Math.abs(term) < 1e-20) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (t + f);
  return Math.sign(x) * (1 - Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f));
}

/** Reduces along `axes` with keepdims. */
function reduce(x: T64, axes: number[], keep: boolean, f: 'sum' | 'mean'): T64 {
  const r = x.shape.length;
  const ax = axes.map((a) => (a < 0 ? a + r : a));
  const kept = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const out = new Float64Array(size(kept));
  const ks = strides(kept);
  forEachIndex(x.shape, (idx, flat) => {
    let k = 0;
    idx.forEach((v, i) => (k += (ax.includes(i) ? 0 : v) * ks[i]));
    out[k] += x.data[flat];
  });
  if (f === 'mean') {
    const n = ax.reduce((a, i) => a * x.shape[i], 1);
    for (let i = 0; i < out.length; i++) out[i] /= n;
  }
  return { shape: keep ? kept : x.shape.filter((_, i) => !ax.includes(i)), data: out };
}

function transpose(x: T64, perm: number[]): T64 {
  const shape = perm.map((p) => x.shape[p]);
  const xs = strides(x.shape);
  const data = new Float64Array(size(shape));
  forEachIndex(shape, (idx, flat) => {
    let k = 0;
    idx.forEach((v, i) => (k += v * xs[perm[i]]));
    data[flat] = x.data[k];
  });
  return { shape, data };
}

function matmul(a: T64, b: T64): T64 {
  const [n, k] = a.shape.slice(-2);
  const m = b.shape[b.shape.length - 1];
  const batch = broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const shape = [...batch, n, m];
  const data = new Float64Array(size(shape));
  const aBatch = {
    shape: a.shape.slice(0, -2),
    data: Float64Array.from({ length: size(a.shape.slice(0, -2)) }, (_, i) => i),
  };
  const bBatch = {
    shape: b.shape.slice(0, -2),
    data: Float64Array.from({ length: size(b.shape.slice(0, -2)) }, (_, i) => i),
  };
  forEachIndex(batch, (idx, flat) => {
    const ao = at(aBatch, idx) * n * k;
    const bo = at(bBatch, idx) * k * m;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let t = 0; t < k; t++) s += a.data[ao + i * k + t] * b.data[bo + t * m + j];
        data[flat * n * m + i * m + j] = s;
      }
  });
  return { shape, data };
}

/** Slices [begin, end) of each axis (step 1). */
function slice(x: T64, begin: number[], end: number[]): T64 {
  const shape = begin.map((b, i) => end[i] - b);
  const xs = strides(x.shape);
  const data = new Float64Array(size(shape));
  forEachIndex(shape, (idx, flat) => {
    let k = 0;
    idx.forEach((v, i) => (k += (v + begin[i]) * xs[i]));
    data[flat] = x.data[k];
  });
  return { shape, data };
}

function concat(parts: T64[], axis: number): T64 {
  const r = parts[0].shape.length;
  const a = axis < 0 ? axis + r : axis;
  const shape = [...parts[0].shape];
  shape[a] = parts.reduce((s, p) => s + p.shape[a], 0);
  const data = new Float64Array(size(shape));
  const st = strides(shape);
  let offset = 0;
  for (const p of parts) {
    forEachIndex(p.shape, (idx, flat) => {
      let k = 0;
      idx.forEach((v, i) => (k += (i === a ? v + offset : v) * st[i]));
      data[k] = p.data[flat];
    });
    offset += p.shape[a];
  }
  return { shape, data };
}

function softmax(x: T64, axis: number, log: boolean): T64 {
  const r = x.shape.length;
  const a = axis < 0 ? axis + r : axis;
  const perm = [...Array(r).keys()].filter((i) => i !== a).concat(a);
  const t = transpose(x, perm);
  const n = t.shape[r - 1];
  for (let row = 0; row < t.data.length / n; row++) {
    const v = t.data.subarray(row * n, (row + 1) * n);
    const max = Math.max(...v);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += Math.exp(v[i] - max);
    for (let i = 0; i < n; i++) v[i] = log ? v[i] - max - Math.log(sum) : Math.exp(v[i] - max) / sum;
  }
  return transpose(
    t,
    perm.map((_, i) => perm.indexOf(i)),
  );
}

const UNARY: Record<string, (v: number) => number> = {
  Neg: (v) => -v,
  Tanh: Math.tanh,
  Erf: erf,
  Sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  Relu: (v) => Math.max(0, v),
  Sqrt: Math.sqrt,
  Reciprocal: (v) => 1 / v,
  Exp: Math.exp,
  Log: Math.log,
  Identity: (v) => v,
  Cast: (v) => v,
};
const BINARY: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
  Pow: (a, b) => a ** b,
  Greater: (a, b) => (a > b ? 1 : 0),
  Less: (a, b) => (a < b ? 1 : 0),
};

function run(node: NodeMsg, x: T64[]): T64[] {
  const op = node.opType;
  if (UNARY[op]) return [elementwise([x[0]], UNARY[op])];
  if (BINARY[op]) return [elementwise([x[0], x[1]], BINARY[op])];
  const ints = (t: T64) => Array.from(t.data);
  switch (op) {
    case 'Where':
      return [elementwise(x, (c, a, b) => (c ? a : b))];
    case 'MatMul':
      return [matmul(x[0], x[1])];
    case 'Transpose':
      return [transpose(x[0], (attr(node, 'perm') as number[]) ?? [...x[0].shape.keys()].reverse())];
    case 'Reshape': {
      const spec = ints(x[1]).map((d, i) => (d === 0 ? x[0].shape[i] : d));
      const known = spec.reduce((a, d) => (d === -1 ? a : a * d), 1);
      return [{ shape: spec.map((d) => (d === -1 ? size(x[0].shape) / known : d)), data: x[0].data }];
    }
    case 'Unsqueeze': {
      const shape = [...x[0].shape];
      const r = shape.length + x[1].data.length;
      for (const a of ints(x[1])
        .map((a) => (a < 0 ? a + r : a))
        .sort((p, q) => p - q))
        shape.splice(a, 0, 1);
      return [{ shape, data: x[0].data }];
    }
    case 'Squeeze': {
      const r = x[0].shape.length;
      const axes = ints(x[1]).map((a) => (a < 0 ? a + r : a));
      return [{ shape: x[0].shape.filter((_, i) => !axes.includes(i)), data: x[0].data }];
    }
    case 'Expand':
      return [elementwise([x[0], { shape: ints(x[1]), data: new Float64Array(size(ints(x[1]))) }], (a) => a)];
    case 'Split': {
      const r = x[0].shape.length;
      const a0 = (attr(node, 'axis') as number | undefined) ?? 0;
      const a = a0 < 0 ? a0 + r : a0;
      const sizes = x[1] ? ints(x[1]) : node.output.map(() => x[0].shape[a] / node.output.length);
      let off = 0;
      return sizes.map((s) => {
        const begin = x[0].shape.map((_, i) => (i === a ? off : 0));
        const end = x[0].shape.map((d, i) => (i === a ? off + s : d));
        off += s;
        return slice(x[0], begin, end);
      });
    }
    case 'Concat':
      return [concat(x, attr(node, 'axis') as number)];
    case 'Slice': {
      const r = x[0].shape.length;
      const begin = x[0].shape.map(() => 0);
      const end = [...x[0].shape];
      const axes = x[3] ? ints(x[3]) : ints(x[1]).map((_, i) => i);
      axes.forEach((a0, i) => {
        const a = a0 < 0 ? a0 + r : a0;
        const clamp = (v: number) => Math.min(x[0].shape[a], Math.max(0, v < 0 ? v + x[0].shape[a] : v));
        begin[a] = clamp(x[1].data[i]);
        end[a] = clamp(x[2].data[i]);
      });
      return [slice(x[0], begin, end)];
    }
    case 'Softmax':
    case 'LogSoftmax':
      return [softmax(x[0], (attr(node, 'axis') as number | undefined) ?? -1, op === 'LogSoftmax')];
    case 'ReduceSum':
    case 'ReduceMean': {
      const axes = x[1] ? ints(x[1]) : ((attr(node, 'axes') as number[] | undefined) ?? [...x[0].shape.keys()]);
      return [
        reduce(
          x[0],
          axes,
          ((attr(node, 'keepdims') as number | undefined) ?? 1) === 1,
          op === 'ReduceSum' ? 'sum' : 'mean',
        ),
      ];
    }
    case 'LayerNormalization': {
      const eps = (attr(node, 'epsilon') as number | undefined) ?? 1e-5;
      const mean = reduce(x[0], [-1], true, 'mean');
      const xc = elementwise([x[0], mean], (a, m) => a - m);
      const variance = reduce(
        elementwise([xc], (v) => v * v),
        [-1],
        true,
        'mean',
      );
      const normed = elementwise([xc, variance], (v, s) => v / Math.sqrt(s + eps));
      return [elementwise([normed, x[1], x[2]], (v, g, b) => v * g + b)];
    }
  }
  throw new Error(`onnx-eval64: no operator ${op}`);
}

/** Runs a model's graph in float64; returns every named output. Float initializers are read as float32 values. */
export function evalModel64(
  model: ModelMsg,
  feeds: Record<string, T64>,
  overrides: Record<string, T64> = {},
): Record<string, T64> {
  const env = new Map<string, T64>();
  for (const t of model.graph!.initializer ?? []) env.set(t.name!, fromInit(t));
  for (const [k, v] of Object.entries(feeds)) env.set(k, v);
  for (const node of model.graph!.node ?? []) {
    const outs = run(
      node,
      node.input.map((i) => {
        const v = env.get(i);
        if (!v && i !== '') throw new Error(`onnx-eval64: ${i} is not computed`);
        return v!;
      }),
    );
    node.output.forEach((o, i) => env.set(o, overrides[o] ?? outs[i]));
  }
  const result: Record<string, T64> = {};
  for (const o of model.graph!.output ?? []) result[o.name] = env.get(o.name)!;
  return result;
}
