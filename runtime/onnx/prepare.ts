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
import { readOnnxFile } from './read';
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
  vocabSize?: number;
}

/** The analysis of a decoded graph (no file access): taps, inputs and the tensors to expose. */
export function analyseGraph(index: GraphIndex, label: string, planFeeds: boolean) {
  const taps = findAttention(index, label);
  const inputs = planInputs(index.inputs, label, planFeeds);
  return { taps, inputs, hidden: hiddenTensor(index), vocabSize: vocabFromGraph(index) };
}

function floatOutput(name: string): ValueInfoMsg {
  return { name, type: { tensorType: { elemType: DataType.FLOAT } } };
}

/** Reads, analyses and taps one .onnx file. */
export function prepareGraph(file: string, planFeeds: boolean): PreparedGraph {
  const label = path.basename(file);
  const onnx = readOnnxFile(file);
  const index = indexGraph(onnx.graph, label);
  const found = analyseGraph(index, label, planFeeds);
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
    outputs.push(floatOutput(out));
    return out;
  };
  const taps = found.taps.map((t, i) => expose(t.tensor, `attention_lens_attn_${i}`));
  const hidden = found.hidden ? expose(found.hidden, 'attention_lens_hidden') : undefined;
  const extra = encodeModel({ graph: { node: nodes, output: outputs, initializer: [], input: [] } });
  return {
    label,
    bytes: concat([onnx.bytes, extra]),
    inputs: found.inputs,
    taps,
    hidden,
    outputs: (onnx.graph.output ?? []).map((o) => o.name),
    vocabSize: found.vocabSize,
  };
}
