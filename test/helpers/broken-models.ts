// The broken models the bad-input catalogues of the CLI and the extension share, made in a writable copy of
// stories260K: a weight that holds NaN (named at load), and queries and keys scaled so that q·k overflows to ±Infinity
// in layer 1 (softmax turns that into NaN attention at layer 1, head 0); and an ONNX initializer that holds NaN.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { G_INITIALIZER, MODEL_GRAPH, readFields } from '../../runtime/onnx/wire';
import { patchTensor } from './safetensors-writer';

/** TensorProto's name and raw_data field numbers. */
const TENSOR_NAME = 8;
const TENSOR_RAW_DATA = 9;

/** model.layers.2.mlp.up_proj.weight's value 5 becomes NaN. */
export function putNaNWeight(dir: string): void {
  patchTensor(path.join(dir, 'model.safetensors'), 'model.layers.2.mlp.up_proj.weight', (w) => (w[5] = NaN));
}

/** Layer 1's q and k projections scaled by 1e30. */
export function overflowAttention(dir: string): void {
  for (const t of ['q_proj', 'k_proj'])
    patchTensor(path.join(dir, 'model.safetensors'), `model.layers.1.self_attn.${t}.weight`, (w) =>
      w.forEach((x, i) => (w[i] = x * 1e30)),
    );
}

/**
 * An ONNX file's float32 initializer `name` (stored as raw_data) filled with NaN in place: the NaN reaches the
 * attention of the layer that reads it (an imported export's weights are not scanned at load).
 */
export function putNaNInitializer(file: string, name: string): void {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const graph = readFields(bytes, file).find((f) => f.no === MODEL_GRAPH)!;
  const decoder = new TextDecoder();
  for (const init of readFields(bytes, file, graph.dataStart, graph.dataEnd).filter((f) => f.no === G_INITIALIZER)) {
    const fields = readFields(bytes, file, init.dataStart, init.dataEnd);
    const n = fields.find((f) => f.no === TENSOR_NAME);
    if (!n || decoder.decode(bytes.subarray(n.dataStart, n.dataEnd)) !== name) continue;
    const raw = fields.find((f) => f.no === TENSOR_RAW_DATA)!;
    new DataView(bytes.buffer).setFloat32(raw.dataStart, NaN, true); // the first value
    fs.writeFileSync(file, bytes);
    return;
  }
  throw new Error(`${file} has no initializer ${name}`);
}
