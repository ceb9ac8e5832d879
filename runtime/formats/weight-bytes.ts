// WeightStores over a model's weights files held in memory (the panel's webview worker, which is handed the
// ArrayBuffers fetched from the model folder): model.safetensors or pytorch_model.bin, one file or the shards of an
// index. No Node imports. Apart from safetensors-bytes.ts so that torch-bin.ts can use that module's primitives
// without an import cycle.
import { LensError } from '../errors';
import {
  checkFloatDtype,
  corrupt,
  decodeInto,
  DTYPE_SIZE,
  entriesOfBytes,
  parseShardIndex,
  storeOf,
  type HeaderEntry,
  type WeightStore,
} from './safetensors-bytes';
import { memorySource, readTorchTensor, torchEntries, type TorchEntry } from './torch-bin';

/** One in-memory file of a model: its name in the folder (model.safetensors, a shard's name) and its bytes. */
export interface WeightFile {
  name: string;
  bytes: Uint8Array;
}

interface BytesEntry extends HeaderEntry {
  file: WeightFile;
  /** Set for a PyTorch checkpoint's tensor (a .bin file). */
  torch?: TorchEntry;
}

/** The tensors of one weights file in memory: a PyTorch checkpoint when its name ends in .bin, else safetensors. */
function entriesOfFile(file: WeightFile): BytesEntry[] {
  if (file.name.endsWith('.bin'))
    return torchEntries(memorySource(file.name, file.bytes)).map((en) => ({ ...en, file, torch: en }));
  return entriesOfBytes(file.name, file.bytes).map((en) => ({ ...en, file }));
}

function readBytesEntry(en: BytesEntry): Float32Array {
  if (en.torch) return readTorchTensor(memorySource(en.file.name, en.file.bytes), en.torch);
  checkFloatDtype(en.file.name, en);
  const out = new Float32Array((en.end - en.begin) / DTYPE_SIZE[en.dtype]);
  decodeInto(en.dtype, en.file.bytes.subarray(en.begin, en.end), out);
  return out;
}

/**
 * A WeightStore over weights files in memory: one model.safetensors (or pytorch_model.bin), or the shards that
 * `indexJson` (the text of model.safetensors.index.json or pytorch_model.bin.index.json) maps every tensor to. Tensors
 * are converted to float32 on each get().
 */
export function bytesWeights(files: WeightFile[], indexJson?: string): WeightStore {
  const byName = new Map(files.map((f) => [f.name, f]));
  const entries = new Map<string, BytesEntry>();
  if (indexJson === undefined) {
    if (files.length !== 1)
      throw new LensError('NO_WEIGHTS', `Expected one weights file, got ${files.length} files without an index.`);
    for (const en of entriesOfFile(files[0])) entries.set(en.name, en);
    return storeOf(entries, readBytesEntry);
  }
  const label = [...byName.keys()].some((n) => n.endsWith('.bin'))
    ? 'pytorch_model.bin.index.json'
    : 'model.safetensors.index.json';
  const weightMap = parseShardIndex(indexJson, label);
  const shards = new Map<string, Map<string, BytesEntry>>();
  for (const [name, shard] of Object.entries(weightMap)) {
    const file = byName.get(shard);
    if (!file) throw new LensError('NO_WEIGHTS', `Shard ${shard} listed in ${label} was not loaded.`);
    let inShard = shards.get(shard);
    if (!inShard) {
      inShard = new Map(entriesOfFile(file).map((en) => [en.name, en]));
      shards.set(shard, inShard);
    }
    const en = inShard.get(name);
    if (!en) throw corrupt(shard, `lacks tensor ${name}, which ${label} places there`);
    entries.set(name, en);
  }
  return storeOf(entries, readBytesEntry);
}
