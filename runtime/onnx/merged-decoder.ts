// optimum's merged decoder (decoder_model_merged.onnx) holds two decoders in one file: a top-level If on the boolean
// input use_cache_branch whose else branch is the decoder without a cache (decoder_model.onnx: the first step, and
// the teacher-forced pass) and whose then branch is the decoder with one (decoder_with_past_model.onnx: each later
// step), both reading the weights as top-level initializers. Softmax nodes inside an If subgraph cannot be tapped as
// graph outputs, so each branch is lifted out into a model of its own: the top-level graph without the If (all its
// initializers, the inputs the branch reads), the branch's nodes, initializers and value_info copied at the wire
// level byte for byte (spliced into the graph field, so the result is one ordinary graph), and an Identity from each
// branch output to the If output's name, so both models keep the merged graph's input and output names.
import { LensError } from '../errors';
import { encodeGraph, type GraphMsg, type NodeMsg } from '../formats/onnx-schema';
import { parseOnnx, type OnnxFile } from './read';
import {
  filterGraph,
  G_INITIALIZER,
  G_INPUT,
  G_NODE,
  G_OUTPUT,
  G_QUANTIZATION,
  G_SPARSE_INITIALIZER,
  G_VALUE_INFO,
  MODEL_GRAPH,
  readFields,
  type WireField,
} from './wire';

/** The boolean input optimum's merged decoders switch on. */
export const USE_CACHE_BRANCH = 'use_cache_branch';

/** NodeProto / AttributeProto field numbers (ModelProto's and GraphProto's are in wire.ts). */
const N_ATTRIBUTE = 5;
const A_NAME = 1;
const A_GRAPH = 6;

/** The two decoders of a merged file: without a cache (first step, teacher forcing) and with one (later steps). */
export interface SplitDecoder {
  noCache: OnnxFile;
  withCache: OnnxFile;
}

/** True when the graph is an optimum merged decoder (it takes use_cache_branch). */
export function isMergedDecoder(graph: GraphMsg): boolean {
  return (graph.input ?? []).some((v) => v.name === USE_CACHE_BRANCH);
}

function refuse(label: string, why: string): LensError {
  return new LensError(
    'UNSUPPORTED_MODEL',
    `${label} takes ${USE_CACHE_BRANCH} but ${why}; re-export it with optimum (decoder_model_merged.onnx), or use ` +
      'decoder_model.onnx + decoder_with_past_model.onnx.',
  );
}

/** Tensor names a graph reads from outside itself (not computed by its nodes, not its own initializers). */
function outerReads(g: GraphMsg): Set<string> {
  const local = new Set<string>((g.initializer ?? []).map((t) => t.name ?? ''));
  for (const n of g.node ?? []) for (const o of n.output ?? []) local.add(o);
  const reads = new Set<string>();
  const visit = (n: NodeMsg) => {
    for (const i of n.input ?? []) if (i && !local.has(i)) reads.add(i);
    for (const a of n.attribute ?? []) {
      const attr = a as { g?: GraphMsg | null; graphs?: GraphMsg[] };
      for (const sub of [attr.g, ...(attr.graphs ?? [])]) if (sub?.node) for (const r of outerReads(sub)) reads.add(r);
    }
  };
  (g.node ?? []).forEach(visit);
  for (const o of g.output ?? []) if (o.name && !local.has(o.name)) reads.add(o.name);
  return reads;
}

/** The payload of the `which` branch attribute of the node at `nodeOrdinal` of the model's graph, as wire fields. */
function branchFields(bytes: Uint8Array, label: string, nodeOrdinal: number, which: string): WireField[] {
  const graph = readFields(bytes, label).find((f) => f.no === MODEL_GRAPH);
  if (!graph) throw refuse(label, 'it has no graph');
  const node = readFields(bytes, label, graph.dataStart, graph.dataEnd).filter((f) => f.no === G_NODE)[nodeOrdinal];
  const decoder = new TextDecoder();
  for (const a of readFields(bytes, label, node.dataStart, node.dataEnd).filter((f) => f.no === N_ATTRIBUTE)) {
    const fields = readFields(bytes, label, a.dataStart, a.dataEnd);
    const name = fields.find((f) => f.no === A_NAME);
    if (!name || decoder.decode(bytes.subarray(name.dataStart, name.dataEnd)) !== which) continue;
    const g = fields.find((f) => f.no === A_GRAPH);
    if (g) return readFields(bytes, label, g.dataStart, g.dataEnd);
  }
  throw refuse(label, `its If node has no ${which}`);
}

/** One branch of the merged decoder as a model of its own (see the header). */
function liftBranch(onnx: OnnxFile, label: string, ifOrdinal: number, which: 'then_branch' | 'else_branch'): OnnxFile {
  const graph = onnx.graph;
  const ifNode = graph.node![ifOrdinal];
  const attr = (ifNode.attribute ?? []).find((a) => a.name === which) as { g?: GraphMsg | null } | undefined;
  const branch = attr?.g ?? undefined;
  if (!branch?.node) throw refuse(label, `its If node has no ${which}`);
  const outs = branch.output ?? [];
  const ifOutputs = ifNode.output ?? [];
  if (outs.length !== ifOutputs.length)
    throw refuse(label, `its ${which} has ${outs.length} outputs, not ${ifOutputs.length}`);
  const topOutputs = graph.output ?? [];
  if (topOutputs.some((o) => !ifOutputs.includes(o.name ?? '')))
    throw refuse(label, 'some of its outputs do not come from the If node');
  const reads = outerReads(branch);
  const others = (graph.node ?? []).filter((_, i) => i !== ifOrdinal);
  for (const n of others) for (const i of n.input ?? []) if (i) reads.add(i);
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const kept = (name: string) => reads.has(name) || initializers.has(name);
  const identities: NodeMsg[] = outs
    .map((o, i) => ({ from: o.name ?? '', to: ifOutputs[i] }))
    .filter((p) => p.from !== p.to)
    .map((p) => ({ opType: 'Identity', input: [p.from], output: [p.to], name: `attention_lens_${which}_${p.to}` }));
  // The branch's own nodes, initializers and value_info, byte for byte (its name, inputs and outputs stay behind).
  const copied = branchFields(onnx.bytes, label, ifOrdinal, which)
    .filter((f) => [G_NODE, G_INITIALIZER, G_VALUE_INFO, G_SPARSE_INITIALIZER].includes(f.no))
    .map((f) => onnx.bytes.subarray(f.start, f.end));
  const added = encodeGraph({ node: identities, output: topOutputs, initializer: [], input: [] });
  const append = new Uint8Array(copied.reduce((n, c) => n + c.length, 0) + added.length);
  let at = 0;
  for (const c of [...copied, added]) {
    append.set(c, at);
    at += c.length;
  }
  const bytes = filterGraph(
    onnx.bytes,
    label,
    (field, i) => {
      switch (field) {
        case G_NODE:
          return i !== ifOrdinal;
        case G_INPUT:
          return kept(graph.input?.[i]?.name ?? '');
        case G_OUTPUT:
        case G_VALUE_INFO:
        case G_QUANTIZATION:
          return false;
        default:
          return true;
      }
    },
    append,
  );
  const branchLabel = `${label} (${which === 'then_branch' ? 'cache' : 'no-cache'} branch)`;
  const { model, graph: lifted } = parseOnnx(bytes, branchLabel);
  return { file: onnx.file, model, graph: lifted, bytes };
}

/** Splits an optimum merged decoder into its two decoders (see the header). */
export function splitMergedDecoder(onnx: OnnxFile, label: string): SplitDecoder {
  const ifs = (onnx.graph.node ?? [])
    .map((n, i) => ({ n, i }))
    .filter(({ n }) => n.opType === 'If' && n.input?.[0] === USE_CACHE_BRANCH);
  if (ifs.length !== 1) throw refuse(label, `it has ${ifs.length} If nodes on it, not one`);
  return {
    noCache: liftBranch(onnx, label, ifs[0].i, 'else_branch'),
    withCache: liftBranch(onnx, label, ifs[0].i, 'then_branch'),
  };
}
