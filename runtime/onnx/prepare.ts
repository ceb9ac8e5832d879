// Turns one imported .onnx file into what a session runs: the attention Softmax outputs (and the last hidden state)
// become extra graph outputs, each through a Cast to float32 (fp16 exports report float32 too). The additions are
// appended as a second ModelProto that protobuf parsers merge into the first, so the original bytes — weights,
// functions, metadata — go to onnxruntime unchanged.
import * as path from 'node:path';
import { AttrType, DataType, encodeModel, type NodeMsg, type ValueInfoMsg } from '../formats/onnx-schema';
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
  /** Output name of the last hidden state [B,S,E], float32, when the graph has one. */
  hidden?: string;
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

/** The whole model with every tap (and the hidden state) as an extra output: one session runs it all. */
export function tapWholeGraph(a: AnalysedFile): PreparedGraph {
  const { nodes, outputs: added, expose } = castOutputs(a.index);
  const taps = a.found.taps.map((t, i) => expose(t.tensor, `attention_lens_attn_${i}`));
  const hidden = a.found.hidden ? expose(a.found.hidden, 'attention_lens_hidden') : undefined;
  const outputs = (a.onnx.graph.output ?? []).map((o) => o.name);
  const readable = readableOutputs(a.index, outputs, expose);
  const extra = encodeModel({ graph: { node: nodes, output: added, initializer: [], input: [] } });
  return {
    label: a.label,
    bytes: concat([a.onnx.bytes, extra]),
    inputs: a.found.inputs,
    taps,
    hidden,
    outputs,
    readable,
    vocabSize: a.found.vocabSize,
  };
}

/** Reads, analyses and taps one .onnx file. */
export function prepareGraph(file: string, planFeeds: boolean): PreparedGraph {
  return tapWholeGraph(analyseFile(file, planFeeds));
}
