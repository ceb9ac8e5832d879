// A small builder for ONNX graphs: families describe their computation as a list of standard ONNX ops (opset 17)
// with named tensors, and the builder serializes it. Keeping attention as plain MatMul/Softmax ops (never a fused
// Attention operator) is what lets every layer's probabilities be graph outputs.
import {
  AttrType,
  DataType,
  type AttributeMsg,
  type GraphMsg,
  type ModelMsg,
  type NodeMsg,
  type TensorMsg,
  type ValueInfoMsg,
} from '../formats/onnx-descriptor';
import { encodeModelPlain } from '../formats/onnx-encode';

export const OPSET = 17;

export type ElemType = 'float32' | 'int64' | 'bool';
/** A dimension: a fixed size or a symbolic name ('batch', 'seq'). */
export type Dim = number | string;

export type Attr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string }
  | { kind: 'graph'; value: GraphBuilder };

/** Attribute constructors: `{ axis: A.int(-1), epsilon: A.float(1e-12) }`. */
export const A = {
  int: (value: number): Attr => ({ kind: 'int', value }),
  float: (value: number): Attr => ({ kind: 'float', value }),
  ints: (value: number[]): Attr => ({ kind: 'ints', value }),
  floats: (value: number[]): Attr => ({ kind: 'floats', value }),
  string: (value: string): Attr => ({ kind: 'string', value }),
  /** A subgraph built by GraphBuilder.subgraph (Loop's body). */
  graph: (value: GraphBuilder): Attr => ({ kind: 'graph', value }),
};

const elem = (t: ElemType) => (t === 'float32' ? DataType.FLOAT : t === 'int64' ? DataType.INT64 : DataType.BOOL);

function valueInfo(name: string, type: ElemType, dims: Dim[]): ValueInfoMsg {
  return {
    name,
    type: {
      tensorType: {
        elemType: elem(type),
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, a: Attr): AttributeMsg {
  switch (a.kind) {
    case 'int':
      return { name, type: AttrType.INT, i: a.value };
    case 'float':
      return { name, type: AttrType.FLOAT, f: a.value };
    case 'ints':
      return { name, type: AttrType.INTS, ints: a.value };
    case 'floats':
      return { name, type: AttrType.FLOATS, floats: a.value };
    case 'string':
      return { name, type: AttrType.STRING, s: new TextEncoder().encode(a.value) };
    case 'graph':
      return { name, type: AttrType.GRAPH, g: a.value.toGraph() };
  }
}

export class GraphBuilder {
  private readonly nodes: NodeMsg[] = [];
  private readonly initializers: TensorMsg[] = [];
  private readonly inputs: ValueInfoMsg[] = [];
  private readonly outputs: ValueInfoMsg[] = [];
  private readonly names = new Set<string>();
  /** Node outputs → the node that produces them (to rename an output in place). */
  private readonly producers = new Map<string, NodeMsg>();
  /** Old name → graph output name, for node outputs renamed by output(). */
  private readonly aliases = new Map<string, string>();
  private counter = 0;
  /** Subgraphs whose nodes may read this graph's tensors by name (renamed with them by output()). */
  private readonly children: GraphBuilder[] = [];
  /** Element-wise activations built by ops.activation from primitives (GELU, SiLU), as input → output: AttnLRP
   * (runtime/grad) gives each one rule as a whole function (the identity rule) instead of its primitives' rules. */
  readonly activations: { input: string; output: string }[] = [];

  /** `prefix` starts every generated name (a subgraph's names must not shadow its outer graph's). */
  constructor(
    readonly name: string,
    private readonly prefix = '',
    private readonly parent?: GraphBuilder,
  ) {}

  /** A subgraph (a Loop's body): its nodes may read this graph's tensors by name; its own names are prefixed. */
  subgraph(hint: string): GraphBuilder {
    const name = `${this.prefix}${hint}${this.children.length}`;
    const child = new GraphBuilder(name, `${name}/`, this);
    this.children.push(child);
    return child;
  }

  private fresh(hint: string): string {
    let n: string;
    do n = `${this.prefix}${hint}_${this.counter++}`;
    while (this.names.has(n) || this.parent?.hasTensor(n));
    this.names.add(n);
    return n;
  }

  private claim(name: string): string {
    if (this.hasTensor(name)) throw new Error(`graph ${this.name}: tensor name ${name} used twice`);
    this.names.add(name);
    return name;
  }

  /** True when a tensor (input, weight, constant or node output) of this name exists in the graph. */
  hasTensor(name: string): boolean {
    return this.names.has(name) || (this.parent?.hasTensor(name) ?? false);
  }

  /** Renames tensor `from` to `to` in every node's inputs, this graph's and its subgraphs'. */
  private renameInputs(from: string, to: string): void {
    for (const node of this.nodes) node.input.forEach((n, i) => n === from && (node.input[i] = to));
    for (const child of this.children) child.renameInputs(from, to);
  }

  /** A float32 initializer added once per graph: later calls with the same name reuse it without reading data. */
  weightOnce(name: string, data: () => Float32Array, dims: number[]): string {
    return this.names.has(name) ? name : this.weight(name, data(), dims);
  }

  /** Declares a graph input. */
  input(name: string, type: ElemType, dims: Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), type, dims));
    return name;
  }

  /**
   * Declares `value` as a graph output called `name`. A node output is renamed in place (onnxruntime keeps an
   * Identity that feeds a graph output, and copying [B,H,S,S] attention through it cost ~2 % of a small model's run);
   * inputs, initializers and values already given another output name go through an Identity.
   */
  output(value: string, name: string, type: ElemType, dims: Dim[]): void {
    const v = this.aliases.get(value) ?? value;
    const producer = this.producers.get(v);
    if (v !== name && producer && !this.outputs.some((o) => o.name === v)) {
      this.claim(name);
      this.renameInputs(v, name);
      producer.output.forEach((n, i) => n === v && (producer.output[i] = name));
      this.producers.delete(v);
      this.producers.set(name, producer);
      this.aliases.set(value, name);
      this.aliases.set(v, name);
    } else if (v !== name) this.op('Identity', [v], {}, name);
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** A float32 initializer (weights). The data is referenced, not copied, until serialization. */
  weight(name: string, data: Float32Array, dims: number[]): string {
    return this.floatInitializer(this.claim(name), data, dims);
  }

  private floatInitializer(name: string, data: Float32Array, dims: number[]): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length)
      throw new Error(`graph ${this.name}: weight ${name} has ${data.length} values, dims ${dims}`);
    this.initializers.push({
      name,
      dims,
      dataType: DataType.FLOAT,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  }

  /** A small float32 constant. */
  constF(values: number[] | Float32Array, dims: number[], hint = 'c'): string {
    return this.floatInitializer(
      this.fresh(hint),
      values instanceof Float32Array ? values : Float32Array.from(values),
      dims,
    );
  }

  /** A small int64 constant (shapes, axes, indices). */
  constI64(values: number[], dims: number[] = [values.length], hint = 'i'): string {
    const name = this.fresh(hint);
    const raw = new BigInt64Array(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims, dataType: DataType.INT64, rawData: new Uint8Array(raw.buffer) });
    return name;
  }

  /** Adds a node with one output and returns the output's name. */
  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, out?: string): string {
    return this.opN(opType, inputs, 1, attrs, out ? [out] : undefined)[0];
  }

  /** Adds a node with several outputs. */
  opN(opType: string, inputs: string[], count: number, attrs: Record<string, Attr> = {}, outs?: string[]): string[] {
    const output = outs
      ? outs.map((o) => this.claim(o))
      : Array.from({ length: count }, () => this.fresh(opType.toLowerCase()));
    const node: NodeMsg = {
      opType,
      input: inputs.map((i) => this.aliases.get(i) ?? i),
      output,
      name: this.fresh(`n_${opType}`),
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    };
    this.nodes.push(node);
    for (const o of output) this.producers.set(o, node);
    return [...output];
  }

  /** Serializes the graph as an ONNX ModelProto (without run-time code generation: it runs in the webview too). */
  toBytes(): Uint8Array {
    return encodeModelPlain(this.toModel());
  }

  /** The graph alone (a subgraph's attribute value). */
  toGraph(): GraphMsg {
    return {
      name: this.name,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
    };
  }

  /** The graph as a ModelProto object. */
  toModel(): ModelMsg {
    return {
      irVersion: 8,
      producerName: 'attention-lens',
      producerVersion: '0.1.0',
      opsetImport: [{ domain: '', version: OPSET }],
      graph: this.toGraph(),
    };
  }
}
