// A mutable view of one ONNX ModelProto for the reverse-mode transform (backward.ts): every tensor's static shape
// (the gradient graph is built for one batch size and one length, so broadcasting can be undone by fixed
// ReduceSum axes), the values of small int64 constants (Reshape shapes, Split sizes, axes), and node emission with
// fresh names whose shapes are inferred as they are added (shapes.ts).
import {
  AttrType,
  DataType,
  type AttributeMsg,
  type ModelMsg,
  type NodeMsg,
  type TensorMsg,
} from '../formats/onnx-descriptor';
import { LensError } from '../errors';
import { num } from './attrs';
import { inferNode } from './shapes';

export type Shape = number[];

export type AttrValue = number | number[] | { float: number };

function attribute(name: string, v: AttrValue): AttributeMsg {
  if (Array.isArray(v)) return { name, type: AttrType.INTS, ints: v };
  if (typeof v === 'number') return { name, type: AttrType.INT, i: v };
  return { name, type: AttrType.FLOAT, f: v.float };
}

export class GradGraph {
  readonly shapes = new Map<string, Shape>();
  /** Tensor → element type (DataType), for float / int decisions. */
  readonly types = new Map<string, number>();
  /** int64 initializers' values (small constants only). */
  readonly ints = new Map<string, number[]>();
  /** One-element float initializers' values (the constants of ops.ts fragments, for fused.ts). */
  readonly floats = new Map<string, number>();
  /** float initializer names (weights and constants): never differentiated. */
  readonly initializerNames = new Set<string>();
  private readonly names = new Set<string>();
  private counter = 0;
  /** The forward graph's producer of each tensor and its number of readers (the graph as it was given). */
  private readonly producers = new Map<string, NodeMsg>();
  private readonly readers = new Map<string, number>();

  constructor(readonly model: ModelMsg) {
    const graph = model.graph!;
    for (const t of graph.initializer ?? []) this.addInitializer(t);
    for (const i of graph.input ?? []) {
      const tt = i.type?.tensorType;
      const dims = (tt?.shape?.dim ?? []).map((d) => {
        if (d.dimValue === undefined) throw new Error(`gradient graph input ${i.name} has a symbolic dimension`);
        return num(d.dimValue);
      });
      this.shapes.set(i.name, dims);
      this.types.set(i.name, tt?.elemType ?? DataType.FLOAT);
      this.names.add(i.name);
    }
    for (const node of graph.node ?? []) {
      for (const o of node.output) {
        this.names.add(o);
        this.producers.set(o, node);
      }
      for (const i of node.input) this.readers.set(i, (this.readers.get(i) ?? 0) + 1);
      this.infer(node);
    }
    for (const o of graph.output ?? []) this.readers.set(o.name!, (this.readers.get(o.name!) ?? 0) + 1);
  }

  /** The forward node that produces `name` (undefined for inputs and initializers). */
  forwardProducer(name: string): NodeMsg | undefined {
    return this.producers.get(name);
  }

  /** How many forward nodes (and graph outputs) read `name`. */
  forwardReaders(name: string): number {
    return this.readers.get(name) ?? 0;
  }

  private addInitializer(t: TensorMsg): void {
    const name = t.name!;
    this.names.add(name);
    this.initializerNames.add(name);
    this.shapes.set(
      name,
      (t.dims ?? []).map((d) => num(d)),
    );
    this.types.set(name, t.dataType ?? DataType.FLOAT);
    if ((t.dataType ?? DataType.FLOAT) === DataType.FLOAT && t.rawData?.byteLength === 4) {
      const raw = t.rawData;
      this.floats.set(name, new DataView(raw.buffer, raw.byteOffset, 4).getFloat32(0, true));
    } else if (t.dataType === DataType.FLOAT && t.floatData?.length === 1) this.floats.set(name, t.floatData[0]);
    if (t.dataType === DataType.INT64) {
      const raw = t.rawData!;
      const view = new BigInt64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
      this.ints.set(
        name,
        Array.from(view, (v) => Number(v)),
      );
    }
  }

  get nodes(): NodeMsg[] {
    return this.model.graph!.node!;
  }

  shape(name: string): Shape {
    const s = this.shapes.get(name);
    if (!s) throw new Error(`gradient graph: no shape for tensor ${name}`);
    return s;
  }

  isFloat(name: string): boolean {
    return (this.types.get(name) ?? DataType.FLOAT) === DataType.FLOAT;
  }

  /** The value of a one-element float constant (undefined for anything else). */
  floatScalar(name: string): number | undefined {
    return this.floats.get(name);
  }

  /** The values of an int64 constant input (Reshape shape, axes, sizes). */
  intsOf(name: string, what: string): number[] {
    const v = this.ints.get(name);
    if (!v) throw new LensError('UNSUPPORTED_MODEL', `Gradient methods need ${what} (${name}) to be a constant.`);
    return v;
  }

  /** Gives an existing node its optional outputs up to `count` (fresh names where absent) and returns them all
   * (fused.ts: a forward LayerNormalization's Mean and InvStdDev, for its backward). */
  outputsOf(node: NodeMsg, count: number): string[] {
    while (node.output.length < count) node.output.push('');
    node.output = node.output.map((o) => o || this.fresh(`${node.opType.toLowerCase()}_out`));
    this.infer(node);
    return node.output;
  }

  private infer(node: NodeMsg): void {
    const out = inferNode(this, node);
    node.output.forEach((o, i) => {
      if (!o) return;
      this.shapes.set(o, out[i].shape);
      this.types.set(o, out[i].type);
    });
  }

  fresh(hint: string): string {
    let n: string;
    do n = `grad_${hint}_${this.counter++}`;
    while (this.names.has(n));
    this.names.add(n);
    return n;
  }

  /** Adds a node; returns its outputs (fresh names unless given). */
  opN(type: string, inputs: string[], count: number, attrs: Record<string, AttrValue> = {}, outs?: string[]): string[] {
    const output = outs ?? Array.from({ length: count }, () => this.fresh(type.toLowerCase()));
    for (const o of outs ?? []) this.names.add(o);
    const node: NodeMsg = {
      opType: type,
      input: inputs,
      output,
      name: this.fresh(`n_${type}`),
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    };
    this.nodes.push(node);
    this.infer(node);
    return output;
  }

  op(type: string, inputs: string[], attrs: Record<string, AttrValue> = {}, out?: string): string {
    return this.opN(type, inputs, 1, attrs, out ? [out] : undefined)[0];
  }

  constF(values: number[], dims: Shape): string {
    const name = this.fresh('c');
    const t: TensorMsg = {
      name,
      dims,
      dataType: DataType.FLOAT,
      rawData: new Uint8Array(Float32Array.from(values).buffer),
    };
    this.model.graph!.initializer!.push(t);
    this.addInitializer(t);
    return name;
  }

  constI64(values: number[]): string {
    const name = this.fresh('i');
    const t: TensorMsg = {
      name,
      dims: [values.length],
      dataType: DataType.INT64,
      rawData: new Uint8Array(new BigInt64Array(values.map((v) => BigInt(v))).buffer),
    };
    this.model.graph!.initializer!.push(t);
    this.addInitializer(t);
    return name;
  }

  /** A float tensor of zeros of a shape. */
  zeros(shape: Shape): string {
    return this.op('Expand', [this.constF([0], []), this.constI64(shape)]);
  }

  /** Adds a graph output (float32, static shape). */
  output(name: string, as: string): void {
    const src = name === as ? name : this.op('Identity', [name], {}, as);
    this.model.graph!.output!.push({
      name: src,
      type: {
        tensorType: {
          elemType: DataType.FLOAT,
          shape: { dim: this.shape(src).map((d) => ({ dimValue: d })) },
        },
      },
    });
  }
}
