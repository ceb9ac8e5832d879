// Reading a node's attributes as plain numbers (ints may arrive as Long from a decoded protobuf).
import type { NodeMsg } from '../formats/onnx-descriptor';

export const num = (v: number | { toNumber(): number } | undefined): number =>
  v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber();

/** An attribute of a node, as a number / numbers / undefined. */
export function attrInt(node: NodeMsg, name: string): number | undefined {
  const a = node.attribute?.find((x) => x.name === name);
  return a?.i === undefined ? undefined : num(a.i);
}
export function attrFloat(node: NodeMsg, name: string): number | undefined {
  return node.attribute?.find((x) => x.name === name)?.f;
}
export function attrInts(node: NodeMsg, name: string): number[] | undefined {
  const a = node.attribute?.find((x) => x.name === name);
  return a?.ints?.map((v) => num(v));
}
