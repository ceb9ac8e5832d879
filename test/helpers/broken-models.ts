// The broken models the bad-input catalogues of the CLI and the extension share, made in a writable copy of
// stories260K: a weight that holds NaN (named at load), and queries and keys scaled so that q·k overflows to ±Infinity
// in layer 1 (softmax turns that into NaN attention at layer 1, head 0).
import * as path from 'node:path';
import { patchTensor } from './safetensors-writer';

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
