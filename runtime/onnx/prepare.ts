// Turns one imported .onnx file into what a session runs: the attention Softmax outputs (and the last hidden state)
// become extra graph outputs — as they are when every float of the graph is float32, otherwise through a Cast to
// float32 (fp16 exports report float32 too): a Cast onto a tensor that is also a graph output is a kernel and a copy
// onnxruntime runs on every call. The additions are appended as a second ModelProto that protobuf parsers merge into
// the first, so the original bytes — weights, functions, metadata — go to onnxruntime unchanged. Two more outputs
// spare the JS side work per run: the sum of every tap (one number: finite exactly when no probability is NaN or
// ±Infinity, as probabilities cannot overflow a sum), so a run scans its maps only when that sum says one is not
// finite; and, for a step decoder, every tap flattened into one joined output (one fetch per step instead of one per
// layer: each fetched output is an allocation and a copy in onnxruntime-node).
import * as path from 'node:path';
import {
  AttrType,
  DataType,
  encodeModel,
  type GraphMsg,
  type NodeMsg,
  type ValueInfoMsg,
} from '../formats/onnx-schema';
import { planInputs, type InputPlan } from './feeds';
import { findAttention } from './find-attention';
import { freshName, indexGraph, type GraphIndex } from './graph-index';
import { hiddenTensor, vocabFromGraph } from './model-info';
import { readOnnxFile, type OnnxFile } from './read';
import { concat } from './wire';

export interface PreparedGraph {
  label: string;
  /** The model with the taps as outputs. */
  bytes: Uint8Array;
  inputs: InputPlan[];
  /** Output names of the attention taps, in layer order: [B,H,Q,K] or [B·H,Q,K], float32. */
  taps: string[];
  /** Output name of the last hidden state [B,S,E], float32, when the graph has one (never for a step decoder). */
  hidden?: string;
  /** Output name of the sum of every tap, a float32 scalar: finite exactly when every tap is (not for a step decoder). */
  sums?: string;
  /** A step decoder's taps flattened and joined in tap order, one float32 output [1, Σ taps' sizes]. */
  joined?: string;
  /** Output names the graph already had. */
  outputs: string[];
  /** Graph output name → the float32 output to fetch for it (a Cast for float16/bfloat16/double outputs). */
  readable: Map<string, string>;
  vocabSize?: number;
}

/** The analysis of a decoded graph (no file access): taps, inputs and the tensors to expose. */
export function analyseGraph(index: GraphIndex, label: string, planFeeds: boolean, past = false) {
  const taps = findAttention(index, label);
  const inputs = planInputs(index.inputs, label, planFeeds, past);
  return { taps, inputs, hidden: hiddenTensor(index), vocabSize: vocabFromGraph(index) };
}

/** A decoded, analysed .onnx file: what both the single-session and the per-layer (stage) paths start from. */
export interface AnalysedFile {
  label: string;
  onnx: OnnxFile;
  index: GraphIndex;
  found: ReturnType<typeof analyseGraph>;
}

/** A graph already read (a branch of a merged decoder), with the label its messages use. */
export interface ReadGraph {
  onnx: OnnxFile;
  label: string;
}

/**
 * Reads (unless given) and analyses one .onnx file. `past`: the graph is an encoder–decoder's step decoder, whose
 * key/value cache inputs are fed.
 */
export function analyseFile(file: string | ReadGraph, planFeeds: boolean, past = false): AnalysedFile {
  const label = typeof file === 'string' ? path.basename(file) : file.label;
  const onnx = typeof file === 'string' ? readOnnxFile(file) : file.onnx;
  const index = indexGraph(onnx.graph, label);
  return { label, onnx, index, found: analyseGraph(index, label, planFeeds, past) };
}

/** Collects Casts to float32 of chosen tensors, and the graph outputs they become (fresh names). */
export function castOutputs(index: GraphIndex) {
  const nodes: NodeMsg[] = [];
  const outputs: ValueInfoMsg[] = [];
  const expose = (tensor: string, hint: string): string => {
    const out = freshName(index, hint);
    nodes.push({
      opType: 'Cast',
      input: [tensor],
      output: [out],
      name: freshName(index, `${hint}_cast`),
      attribute: [{ name: 'to', type: AttrType.INT, i: DataType.FLOAT }],
    });
    outputs.push({ name: out, type: { tensorType: { elemType: DataType.FLOAT } } });
    return out;
  };
  return { nodes, outputs, expose };
}

/** Float element types other than float32: their outputs are read through a Cast to float32. */
const OTHER_FLOATS = new Set<number>([DataType.FLOAT16, DataType.BFLOAT16, DataType.DOUBLE]);

/**
 * For each of the graph outputs `names`: the name to fetch it as float32 — itself, or (float16 / bfloat16 / double
 * outputs, as fp16 exports' logits) a Cast that `expose` adds.
 */
export function readableOutputs(
  index: GraphIndex,
  names: readonly string[],
  expose: (tensor: string, hint: string) => string,
): Map<string, string> {
  const readable = new Map<string, string>();
  for (const name of names) {
    const elemType = index.graph.output?.find((o) => o.name === name)?.type?.tensorType?.elemType ?? undefined;
    readable.set(name, elemType !== undefined && OTHER_FLOATS.has(elemType) ? expose(name, `${name}_float`) : name);
  }
  return readable;
}

/**
 * True when no tensor of the graph can hold a float type other than float32 (no such initializer, input, output,
 * value_info, Cast target or constant, and no subgraph whose types would need their own look): its Softmax outputs
 * are then float32 and become graph outputs as they are.
 */
export function onlyFloat32(graph: GraphMsg): boolean {
  const other = (t: number | null | undefined) => t !== undefined && t !== null && OTHER_FLOATS.has(t);
  if ((graph.initializer ?? []).some((t) => other(t.dataType))) return false;
  for (const v of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])])
    if (other(v.type?.tensorType?.elemType)) return false;
  for (const n of graph.node ?? [])
    for (const a of n.attribute ?? []) {
      if (a.type === AttrType.GRAPH || a.type === GRAPHS || a.g) return false;
      if (a.type === AttrType.TENSOR && other(a.t?.dataType)) return false;
      if (a.type === AttrType.INT && ['to', 'dtype', 'output_dtype'].includes(a.name) && other(Number(a.i)))
        return false;
    }
  return true;
}

/** AttributeProto's GRAPHS type (a list of subgraphs), absent from AttrType. */
const GRAPHS = 10;

/**
 * The whole model with every tap (and the hidden state) as an extra output: one session runs it all. `step`: an
 * encoder–decoder's step decoder, which gets the joined taps output instead of the hidden state and the sum.
 */
export function tapWholeGraph(a: AnalysedFile, step = false): PreparedGraph {
  const { nodes, outputs: added, expose } = castOutputs(a.index);
  const outputs = (a.onnx.graph.output ?? []).map((o) => o.name);
  const direct = onlyFloat32(a.onnx.graph);
  // A float32 tensor is fetched as it is (a graph output already, or made one); any other through a Cast.
  const asFloat32 = (tensor: string, hint: string) => {
    if (!direct) return expose(tensor, hint);
    if (!outputs.includes(tensor) && !added.some((o) => o.name === tensor))
      added.push({ name: tensor, type: { tensorType: { elemType: DataType.FLOAT } } });
    return tensor;
  };
  const taps = a.found.taps.map((t, i) => asFloat32(t.tensor, `attention_lens_attn_${i}`));
  const hidden = a.found.hidden && !step ? asFloat32(a.found.hidden, 'attention_lens_hidden') : undefined;
  const readable = readableOutputs(a.index, outputs, expose);
  const node = (opType: string, input: string[], hint: string, attribute: NodeMsg['attribute'] = []) => {
    const out = freshName(a.index, hint);
    nodes.push({ opType, input, output: [out], name: freshName(a.index, `${hint}_node`), attribute });
    return out;
  };
  const int = (name: string, i: number) => ({ name, type: AttrType.INT, i });
  let sums: string | undefined;
  let joined: string | undefined;
  if (taps.length > 0 && !step) {
    // ReduceSum without axes sums every axis in every opset; keepdims 0 gives a scalar, Sum adds the taps' scalars.
    const each = taps.map((t, i) => node('ReduceSum', [t], `attention_lens_sum_${i}`, [int('keepdims', 0)]));
    sums = node('Sum', each, 'attention_lens_sums');
    added.push({ name: sums, type: { tensorType: { elemType: DataType.FLOAT } } });
  }
  if (taps.length > 0 && step) {
    // [1, H·Q·K] per tap ([B,H,Q,K] or [B·H,Q,K] with B = 1), joined along axis 1.
    const flat = taps.map((t, i) => node('Flatten', [t], `attention_lens_flat_${i}`, [int('axis', 0)]));
    joined = node('Concat', flat, 'attention_lens_joined', [int('axis', 1)]);
    added.push({ name: joined, type: { tensorType: { elemType: DataType.FLOAT } } });
  }
  const extra = encodeModel({ graph: { node: nodes, output: added, initializer: [], input: [] } });
  return {
    label: a.label,
    bytes: concat([a.onnx.bytes, extra]),
    inputs: a.found.inputs,
    taps,
    hidden,
    sums,
    joined,
    outputs,
    readable,
    vocabSize: a.found.vocabSize,
  };
}

/** Reads, analyses and taps one .onnx file. */
export function prepareGraph(file: string, planFeeds: boolean): PreparedGraph {
  return tapWholeGraph(analyseFile(file, planFeeds));
}
