// Serializes one stage of a partitioned imported graph (partition.ts) as a model a session can load: the original
// model's bytes with only the stage's nodes, initializers, inputs, outputs and value_info kept — filtered at the
// wire level, so opset imports, local functions and metadata stay byte for byte — plus, appended as a second
// ModelProto that protobuf parsers merge into the first, the tensors it takes from earlier stages (typed as the
// earlier stage returned them), the ones it hands on (untyped: onnxruntime infers them), and a Cast to float32 for
// its attention tap, the hidden state and float16 graph outputs (fp16 exports report float32 too).
import { DataType, encodeModel, type ValueInfoMsg } from '../formats/onnx-schema';
import type { AttentionTap } from './find-attention';
import type { GraphIndex } from './graph-index';
import { PartitionError, type StageSpec } from './partition';
import { castOutputs, readableOutputs } from './prepare';
import {
  concat,
  filterGraph,
  G_INITIALIZER,
  G_INPUT,
  G_NODE,
  G_OUTPUT,
  G_QUANTIZATION,
  G_SPARSE_INITIALIZER,
  G_VALUE_INFO,
} from './wire';

/** The element type and shape of a tensor passed between stages. */
export interface PassType {
  /** onnxruntime's name of the element type ('float32', 'int64', 'bool'...). */
  type: string;
  /** Per dimension: its size when fixed, a symbolic name (the sequence), or null when unknown. */
  dims: (number | string | null)[];
}

/** ONNX TensorProto.DataType of onnxruntime's element type names. */
const ELEM_TYPES: Record<string, number> = {
  float32: DataType.FLOAT,
  uint8: DataType.UINT8,
  int8: DataType.INT8,
  uint16: 4,
  int16: 5,
  int32: DataType.INT32,
  int64: DataType.INT64,
  bool: DataType.BOOL,
  float16: DataType.FLOAT16,
  float64: DataType.DOUBLE,
  uint32: 12,
  uint64: 13,
};

export interface BuiltStage {
  bytes: Uint8Array;
  /** Output names of the stage's taps (float32), in the order of spec.taps. */
  tapOutputs: string[];
  /** Output name of the hidden state (float32), when the stage computes it. */
  hiddenOutput?: string;
  /** The graph outputs the stage computes → the float32 output to fetch for each. */
  readable: Map<string, string>;
}

function passInput(name: string, t: PassType | undefined, label: string): ValueInfoMsg {
  const elemType = t ? ELEM_TYPES[t.type] : undefined;
  if (!t || elemType === undefined)
    throw new PartitionError(`${label}: tensor ${name} passes between stages as ${t?.type ?? 'an unknown type'}`);
  // Fixed sizes matter: onnxruntime fuses (LayerNorm, Gelu, MatMul + Add...) only where it knows them, and the
  // numbers must stay those of the graph in one piece.
  const dim = t.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : d === null ? {} : { dimParam: d }));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}

/**
 * The model bytes of one stage. `model` is the whole model with its external data inlined, `index` its graph's
 * index, `importTypes` what earlier stages returned for the tensors this one imports.
 */
export function buildStage(
  model: Uint8Array,
  index: GraphIndex,
  spec: StageSpec,
  taps: AttentionTap[],
  hidden: string | undefined,
  importTypes: Map<string, PassType>,
  label: string,
): BuiltStage {
  const g = index.graph;
  const nodes = new Set(spec.nodes);
  const initializers = new Set(spec.initializers);
  // Old exports (IR < 4) also declare initializers as inputs; those declarations stay with their initializers.
  const inputs = new Set([...spec.inputs, ...spec.initializers]);
  const outputs = new Set(spec.outputs);
  const computed = new Set(spec.nodes.flatMap((i) => index.nodes[i].output ?? []));
  const bytes = filterGraph(model, label, (field, i) => {
    switch (field) {
      case G_NODE:
        return nodes.has(i);
      case G_INITIALIZER:
        return initializers.has(g.initializer?.[i]?.name ?? '');
      case G_INPUT:
        return inputs.has(g.input?.[i]?.name ?? '');
      case G_OUTPUT:
        return outputs.has(g.output?.[i]?.name ?? '');
      case G_VALUE_INFO:
        return computed.has(g.valueInfo?.[i]?.name ?? '');
      case G_QUANTIZATION:
        return false;
      case G_SPARSE_INITIALIZER:
        throw new PartitionError(`${label} has sparse initializers`);
      default:
        return true;
    }
  });

  const { nodes: casts, outputs: added, expose } = castOutputs(index);
  const tapOutputs = spec.taps.map((k) => expose(taps[k].tensor, `attention_lens_attn_${k}`));
  const hiddenOutput = spec.hidden && hidden ? expose(hidden, 'attention_lens_hidden') : undefined;
  const readable = readableOutputs(index, spec.outputs, expose);
  for (const name of spec.exports) added.push({ name });
  const extra = encodeModel({
    graph: {
      node: casts,
      input: spec.imports.map((name) => passInput(name, importTypes.get(name), label)),
      output: added,
      initializer: [],
    },
  });
  return { bytes: concat([bytes, extra]), tapOutputs, hiddenOutput, readable };
}
