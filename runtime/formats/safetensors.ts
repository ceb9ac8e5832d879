// Reads Hugging Face .safetensors weights (one file, or shards listed in model.safetensors.index.json) from a model
// folder into float32 arrays for the graph builders. Header validation and dtype conversion live in
// safetensors-bytes.ts (pure, shared with the webview's in-memory reader); this file does the file I/O. Every header
// is validated before any tensor memory is allocated, so a truncated or corrupt download fails with one clear message
// instead of a crash deep inside onnxruntime. Tensors are read lazily, one at a time, at their file offsets: a model
// never needs twice its size in memory.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LensError, quoted } from '../errors';
import {
  checkFloatDtype,
  checkHeaderLength,
  corrupt,
  decodeInto,
  DTYPE_SIZE,
  parseHeader,
  parseShardIndex,
  storeOf,
  type HeaderEntry,
  type WeightStore,
} from './safetensors-bytes';
import { readFully } from './read-fully';
import { readTorchTensor, torchEntries, type ByteSource, type TorchEntry } from './torch-bin';
import { readSideFileSync } from '../files/side-file';

export { memoryWeights, type WeightStore } from './safetensors-bytes';

interface Entry extends HeaderEntry {
  /** Absolute path of the file that holds the tensor. */
  file: string;
}

/** Reads and validates one file's header; allocates nothing beyond the header itself. */
function readHeader(file: string): Entry[] {
  return withSource(file, (src) => {
    if (src.size < 8) checkHeaderLength(src.label, src.size, 0n);
    const view = new DataView(src.read(0, 8).buffer);
    const n = checkHeaderLength(src.label, src.size, view.getBigUint64(0, true));
    const header = Buffer.from(src.read(8, n)).toString('utf8');
    return parseHeader(src.label, header, n, src.size).map((en) => ({ ...en, file }));
  });
}

function readTensor(en: Entry): Float32Array {
  checkFloatDtype(path.basename(en.file), en);
  const bytes = en.end - en.begin;
  const out = new Float32Array(bytes / DTYPE_SIZE[en.dtype]);
  // F32 is read straight into the result; the others through a scratch buffer of their own size.
  const target = en.dtype === 'F32' ? new Uint8Array(out.buffer) : new Uint8Array(bytes);
  const fd = fs.openSync(en.file, 'r');
  try {
    readFully(fd, target, en.begin, () =>
      corrupt(path.basename(en.file), `is truncated: tensor ${en.name} could not be read completely`),
    );
  } finally {
    fs.closeSync(fd);
  }
  if (en.dtype !== 'F32') decodeInto(en.dtype, target, out);
  return out;
}

/** An open file as a ByteSource (torch-bin.ts reads through it). */
function fileSource(file: string, fd: number): ByteSource {
  const label = path.basename(file);
  const size = fs.fstatSync(fd).size;
  return {
    label,
    size,
    fresh: true,
    read(offset, length) {
      if (offset < 0 || offset + length > size)
        throw corrupt(label, 'is truncated: a part it points to lies past its end');
      const out = new Uint8Array(length);
      readFully(fd, out, offset, () => corrupt(label, 'is truncated'));
      return out;
    },
  };
}

/** `use` on the file opened as a ByteSource, closed after. */
function withSource<T>(file: string, use: (src: ByteSource) => T): T {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new LensError('NO_WEIGHTS', `Cannot open ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
  try {
    return use(fileSource(file, fd));
  } finally {
    fs.closeSync(fd);
  }
}

type TorchFileEntry = TorchEntry & { file: string };

/** The tensors of a PyTorch checkpoint file (pytorch_model.bin or a shard). */
export function readTorchEntries(file: string): TorchFileEntry[] {
  return withSource(file, (src) => torchEntries(src).map((en) => ({ ...en, file })));
}

const readTorchFileTensor = (en: TorchFileEntry) => withSource(en.file, (src) => readTorchTensor(src, en));

function exists(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Why a path that is there is not a readable file (a folder, a loop or broken symbolic link...), or undefined. */
function notAFile(p: string): string | undefined {
  let link: fs.Stats;
  try {
    link = fs.lstatSync(p);
  } catch {
    return undefined; // not there at all
  }
  try {
    const st = fs.statSync(p);
    if (st.isFile()) return undefined;
    return st.isDirectory() ? 'is a folder, not a file' : 'is not a regular file';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return 'is a loop of symbolic links';
    if (link.isSymbolicLink()) return `is a symbolic link to ${fs.readlinkSync(p)}, which does not exist`;
    return `cannot be read (${code ?? 'error'})`;
  }
}

/** The tensors of every shard a shard index (model.safetensors.index.json, pytorch_model.bin.index.json) names. */
function shardEntries<E extends HeaderEntry>(dir: string, index: string, read: (file: string) => E[]): Map<string, E> {
  const label = path.basename(index);
  const weightMap = parseShardIndex(readSideFileSync(index, 'CORRUPT_WEIGHTS').toString('utf8'), label);
  const entries = new Map<string, E>();
  const shards = new Map<string, Map<string, E>>();
  for (const [name, shard] of Object.entries(weightMap)) {
    if (path.isAbsolute(shard)) throw corrupt(label, `maps tensor ${name} to an invalid shard ${quoted(shard)}`);
    let inShard = shards.get(shard);
    if (!inShard) {
      const file = path.join(dir, shard);
      const why = notAFile(file);
      if (why) throw new LensError('NO_WEIGHTS', `Shard ${file} ${why}; put the shard's weights file there.`);
      if (!exists(file))
        throw new LensError('NO_WEIGHTS', `Shard ${shard} listed in ${label} is missing from ${dir} — download it.`);
      inShard = new Map(read(file).map((en) => [en.name, en]));
      shards.set(shard, inShard);
    }
    const en = inShard.get(name);
    if (!en) throw corrupt(path.basename(shard), `lacks tensor ${name}, which ${label} places there`);
    entries.set(name, en);
  }
  return entries;
}

/**
 * Opens the weights of a Hugging Face model folder: model.safetensors, or shards via model.safetensors.index.json;
 * without those, a PyTorch checkpoint (pytorch_model.bin, or its shards via pytorch_model.bin.index.json).
 */
export async function openWeights(dir: string): Promise<WeightStore> {
  const files = {
    single: path.join(dir, 'model.safetensors'),
    index: path.join(dir, 'model.safetensors.index.json'),
    torch: path.join(dir, 'pytorch_model.bin'),
    torchIndex: path.join(dir, 'pytorch_model.bin.index.json'),
  };
  for (const file of Object.values(files)) {
    const why = notAFile(file);
    if (why) throw new LensError('NO_WEIGHTS', `${file} ${why}; put the model's weights file there.`);
  }
  if (exists(files.single)) return storeOf(new Map(readHeader(files.single).map((en) => [en.name, en])), readTensor);
  if (exists(files.index)) return storeOf(shardEntries(dir, files.index, readHeader), readTensor);
  if (exists(files.torch))
    return storeOf(new Map(readTorchEntries(files.torch).map((en) => [en.name, en])), readTorchFileTensor);
  if (exists(files.torchIndex))
    return storeOf(shardEntries(dir, files.torchIndex, readTorchEntries), readTorchFileTensor);
  let listing: string[] = [];
  try {
    listing = fs.readdirSync(dir);
  } catch {
    // reported below
  }
  const other = listing.find((f) => /\.(pt|pth|ckpt|h5|msgpack)$/.test(f));
  throw new LensError(
    'NO_WEIGHTS',
    `No weights in ${dir}: looked for model.safetensors, model.safetensors.index.json, pytorch_model.bin and ` +
      'pytorch_model.bin.index.json.' +
      (other ? ` Found ${other}: save the model with transformers' save_pretrained to get model.safetensors.` : ''),
  );
}
