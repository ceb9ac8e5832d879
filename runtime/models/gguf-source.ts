// A GGUF file as a model source: its metadata becomes the config.json dictionary the family normaliser reads
// (formats/gguf-config.ts) and its tensors a WeightStore under Hugging Face names in HF layout
// (formats/gguf-tensors.ts), dequantized to float32 one tensor at a time as the graphs are built. From here on a
// GGUF model is built, checked and run exactly like a safetensors folder of the same family.
import * as path from 'node:path';
import { normaliseConfig } from '../formats/config-normalise';
import { openGguf, type GgufFile } from '../formats/gguf-file';
import { ggufConfig, NORM_PLUS_ONE, PERMUTED_QK } from '../formats/gguf-config';
import { ggufWeights } from '../formats/gguf-tensors';
import type { ModelSource } from './source';

/** The config.json equivalent of an open GGUF file (see gguf-config.ts). */
export function rawConfigOf(g: GgufFile): Record<string, unknown> {
  const names = new Set(g.header.tensors.map((t) => t.name));
  return ggufConfig(g.meta, names, (name) => {
    const t = g.tensor(name);
    return t ? g.read(t) : undefined;
  });
}

/** Opens a .gguf file as a ModelSource: validated header, normalised config, lazy HF-named weights. */
export function readGgufModel(file: string): ModelSource {
  const g = openGguf(file);
  const raw = rawConfigOf(g);
  const config = normaliseConfig(raw, `${g.label} (GGUF metadata)`);
  const arch = g.meta.str('general.architecture') ?? '';
  const weights = ggufWeights({
    arch,
    label: g.label,
    tensors: g.header.tensors,
    read: (info) => g.read(info),
    permute: PERMUTED_QK.has(arch) ? { heads: config.heads, kvHeads: config.kvHeads } : undefined,
    normMinusOne: NORM_PLUS_ONE.has(arch),
  });
  return { config, weights, dir: path.dirname(file) };
}
