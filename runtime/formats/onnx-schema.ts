// protobufjs reflection over the ONNX schema subset of onnx-descriptor.ts (re-exported here): encodeModel,
// encodeGraph and decodeModel for Node. Hand-written descriptor, so the project needs no generated code and no stale 'onnx-proto'
// package (which pins protobufjs 6). protobufjs compiles its coders with Function(): browser code under a CSP without
// 'unsafe-eval' encodes with onnx-encode.ts instead and must not import this module.
import * as protobuf from 'protobufjs/light';
import { ONNX_DESCRIPTOR, type GraphMsg, type ModelMsg } from './onnx-descriptor';

export { AttrType, DataType } from './onnx-descriptor';
export type { AttributeMsg, DimMsg, GraphMsg, ModelMsg, NodeMsg, TensorMsg, ValueInfoMsg } from './onnx-descriptor';

const root = protobuf.Root.fromJSON(ONNX_DESCRIPTOR);
export const ModelProto = root.lookupType('onnx.ModelProto');

export function encodeModel(model: ModelMsg): Uint8Array {
  return ModelProto.encode(ModelProto.fromObject(model as unknown as Record<string, unknown>)).finish();
}

/** A GraphProto's fields alone (appended inside a graph field, they merge into that graph). */
export function encodeGraph(graph: GraphMsg): Uint8Array {
  const GraphProto = root.lookupType('onnx.GraphProto');
  return GraphProto.encode(GraphProto.fromObject(graph as unknown as Record<string, unknown>)).finish();
}

export function decodeModel(bytes: Uint8Array): ModelMsg {
  const msg = ModelProto.decode(bytes);
  return ModelProto.toObject(msg, { longs: Number, defaults: true, arrays: true, bytes: Uint8Array }) as ModelMsg;
}
