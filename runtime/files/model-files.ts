// The files a model's loader reads, found from the path alone (nothing is loaded, nothing downloaded), so that an
// output is never written over one of them: config, weights (safetensors and their shards, .onnx graphs and their
// external data, .gguf), tokenizer files, and for a Hub id the whole Hugging Face cache.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expandHome } from '../hub/hub-settings';
import { hubCacheDir } from '../hub/cache-layout';
import { externalDataLocations } from '../onnx/read';
import type { ProtectedPath } from './output-target';
import { readSideFileSync } from './side-file';

/** File names a model folder's loader may read (config, tokenizer, weights in every format we or Python read). */
const MODEL_FILE =
  /^(?:(?:config|generation_config|tokenizer|tokenizer_config|special_tokens_map|added_tokens|preprocessor_config|vocab)\.json|(?:vocab|merges)\.txt|.+\.(?:safetensors|index\.json|onnx|onnx_data(?:_\d+)?|onnx\.data|gguf|bin|pt|pth|ckpt|h5|msgpack|model|spm|tiktoken))$/i;

/** External data of .onnx graphs smaller than this are looked up (a graph with inline weights has none). */
const EXTERNAL_LOOKUP_BYTES = 32 * 2 ** 20;

const ROLE = "one of the model's own files";

function listModelFiles(dir: string, out: ProtectedPath[]): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!MODEL_FILE.test(name)) continue;
    const file = path.join(dir, name);
    out.push({ path: file, role: ROLE });
    if (/\.onnx$/i.test(name)) onnxExternalData(file, out);
    if (name === 'model.safetensors.index.json') shardsOf(dir, file, out);
  }
}

function onnxExternalData(file: string, out: ProtectedPath[]): void {
  try {
    if (fs.statSync(file).size > EXTERNAL_LOOKUP_BYTES) return;
    for (const location of externalDataLocations(fs.readFileSync(file), path.basename(file)))
      out.push({ path: path.join(path.dirname(file), location), role: ROLE });
  } catch {
    // An unreadable or broken graph is reported by the loader; its file itself is protected already.
  }
}

function shardsOf(dir: string, index: string, out: ProtectedPath[]): void {
  try {
    const map = (
      JSON.parse(readSideFileSync(index, 'CORRUPT_WEIGHTS').toString('utf8')) as {
        weight_map?: Record<string, unknown>;
      }
    ).weight_map;
    for (const shard of new Set(Object.values(map ?? {})))
      if (typeof shard === 'string') out.push({ path: path.join(dir, shard), role: ROLE });
  } catch {
    // reported by the loader
  }
}

/** What an output may not replace for `--model MODEL`: the files its loader reads, or the Hub cache for an id. */
export function modelFiles(model: string): ProtectedPath[] {
  const out: ProtectedPath[] = [];
  const full = path.resolve(expandHome(model.trim()));
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(full);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory()) {
    for (const sub of ['', 'onnx']) listModelFiles(path.join(full, sub), out);
  } else if (st?.isFile()) {
    out.push({ path: full, role: ROLE });
    if (/\.onnx$/i.test(full)) onnxExternalData(full, out);
    const dir = path.dirname(full);
    listModelFiles(dir, out);
    listModelFiles(path.dirname(dir), out); // transformers.js keeps config and tokenizer above onnx/
  } else {
    // A Hub id: its files live in the Hugging Face cache, which no output goes into.
    out.push({ path: hubCacheDir(), role: 'the Hugging Face cache', folder: true });
  }
  return out;
}

/** The input file of a command (--file, --data), which no output may replace. */
export function inputFile(file: string, option: string): ProtectedPath {
  return { path: path.resolve(expandHome(file)), role: `the input file (${option})` };
}
