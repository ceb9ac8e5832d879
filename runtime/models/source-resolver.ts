// What the user named as a model → what to load. These kinds are accepted everywhere (CLI --model, the
// attentionLens.modelPath setting, Select Model): a Hugging Face folder on disk, an ONNX export (an .onnx file, or a
// folder with model.onnx / onnx/model.onnx / encoder_model.onnx + decoder_model.onnx), a GGUF file (llama.cpp's
// format, as Ollama and LM Studio store models), an Ollama model by name (ollama:NAME[:TAG], local-models.ts), and
// a Hugging Face Hub id (owner/name[@revision], or the model's page https://huggingface.co/owner/name[/tree/REV])
// that is served from the Hub cache or downloaded there (a repository
// without safetensors gets its ONNX export downloaded). A folder with safetensors weights whose model_type has a family is loaded by the
// family builder; an ONNX export in it is used otherwise.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LensError } from '../errors';
import { SUPPORTED_MODEL_TYPES } from '../formats/config';
import { type DownloadProgress, type ResolveOptions, resolveHubModel } from '../hub/download';
import { HubError } from '../hub/hub-errors';
import { formatHubId, isUrlLike, parseHubId } from '../hub/hub-id';
import { findOnnxInFolder, layoutOfFile, type OnnxLayout } from '../onnx/locate';
import { resolveOllama } from './local-models';
import { specialKind } from '../files/output-target';
import { CONFIG_FILE_MAX_BYTES, readSideFileSync } from '../files/side-file';

export type ResolvedModel =
  | { kind: 'folder'; dir: string; name: string; hubId?: string }
  | { kind: 'onnx'; layout: OnnxLayout; dir: string; name: string; hubId?: string }
  | { kind: 'gguf'; file: string; dir: string; name: string };

/** Hub settings: endpoint, token, offline, cache folder (defaults: HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE, HF_HUB_CACHE). */
export type HubOptions = Omit<ResolveOptions, 'signal' | 'onProgress'>;

export interface ResolveModelOptions {
  hub?: HubOptions;
  signal?: AbortSignal;
  onDownload?: (p: DownloadProgress) => void;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

/** True when the text can only be meant as a path (never tried as a Hub id). Slashes after an "@" belong to the
 * revision (owner/name@refs/pr/1), not to a path. */
export function looksLikePath(text: string): boolean {
  const at = text.indexOf('@');
  const repo = at > 0 ? text.slice(0, at) : text;
  return (
    /^(~|\.{1,2}([/\\]|$)|[/\\]|[A-Za-z]:)/.test(text) ||
    text.includes('\\') ||
    repo.split('/').length > 2 ||
    /\.(onnx|gguf)$/i.test(text) ||
    !repo.includes('/')
  );
}

/** The model_type of a folder's config.json, or undefined. */
function modelTypeOf(dir: string): string | undefined {
  try {
    const c = JSON.parse(
      readSideFileSync(path.join(dir, 'config.json'), 'BAD_CONFIG', CONFIG_FILE_MAX_BYTES).toString('utf8'),
    ) as {
      model_type?: unknown;
    };
    return typeof c.model_type === 'string' ? c.model_type : undefined;
  } catch {
    return undefined;
  }
}

/** A folder on disk: the family builder when it can, the ONNX export in it otherwise. */
export function resolveFolder(dir: string, name = path.basename(dir), hubId?: string): ResolvedModel {
  const weights = hasWeights(dir);
  const type = modelTypeOf(dir);
  const family = type !== undefined && type in SUPPORTED_MODEL_TYPES;
  if (!(weights && family)) {
    const layout = findOnnxInFolder(dir);
    if (layout) return { kind: 'onnx', layout, dir, name, hubId };
  }
  return { kind: 'folder', dir, name, hubId };
}

function notFound(full: string): LensError {
  return new LensError(
    'MODEL_NOT_FOUND',
    `The model folder ${full} does not exist; give a folder with config.json and the weights, an .onnx file, or a ` +
      'Hugging Face id (owner/name).',
  );
}

/** Resolves a folder, an .onnx file or a Hub id (downloading into the Hub cache when needed). */
export async function resolveModel(text: string, options: ResolveModelOptions = {}): Promise<ResolvedModel> {
  const given = text.trim();
  if (given === '')
    throw new LensError(
      'BAD_INPUT',
      'No model given: name a model folder, an .onnx or .gguf file, ollama:NAME[:TAG] or a Hugging Face id.',
    );
  if (/^ollama:/i.test(given)) {
    const file = resolveOllama(given);
    return { kind: 'gguf', file, dir: path.dirname(file), name: given.replace(/^ollama:/i, '') };
  }
  // A model's page pasted from the browser is its id (another URL gets parseHubId's line).
  if (isUrlLike(given)) return resolveHub(formatHubId(parseHubId(given)), undefined, options);
  const full = path.resolve(expandHome(given));
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(full);
  } catch {
    stat = undefined;
  }
  if (stat?.isDirectory()) return resolveFolder(full);
  if (stat?.isFile()) {
    if (/\.onnx$/i.test(full)) {
      const layout = layoutOfFile(full);
      return { kind: 'onnx', layout, dir: layout.dir, name: path.basename(layout.dir) };
    }
    if (/\.gguf$/i.test(full))
      return { kind: 'gguf', file: full, dir: path.dirname(full), name: path.basename(full).replace(/\.gguf$/i, '') };
    throw new LensError(
      'MODEL_NOT_FOUND',
      `${full} is not a folder nor an .onnx or .gguf file; give the model's folder (with config.json and the weights), an .onnx or .gguf file, or a Hugging Face id.`,
    );
  }
  const special = stat ? specialKind(stat) : undefined;
  if (special)
    throw new LensError(
      'MODEL_NOT_FOUND',
      `${full} is ${special}, not a model folder or file; give the model's folder (with config.json and the weights), an .onnx or .gguf file, or a Hugging Face id.`,
    );
  if (stat || looksLikePath(given)) throw notFound(full);
  return resolveHub(given, full, options);
}

/** A Hub id (`given`), downloaded when needed; `full` is the folder it could also have meant, for the 404 message. */
async function resolveHub(
  given: string,
  full: string | undefined,
  options: ResolveModelOptions,
): Promise<ResolvedModel> {
  const id = parseHubId(given);
  let dir: string;
  try {
    dir = await resolveHubModel(id, { ...options.hub, signal: options.signal, onProgress: options.onDownload });
  } catch (e) {
    if (e instanceof HubError && e.reason === 'not-found' && /^No model /.test(e.message) && full)
      throw new HubError('not-found', `There is no folder ${full}, and ${e.message.replace(/^No/, 'no')}`);
    throw e;
  }
  return resolveFolder(dir, id.name, given);
}

/** A cached Hub model: its id, complete snapshot folder and size on disk. */
export interface CachedHubModel {
  id: string;
  dir: string;
  bytes: number;
}

/** The complete snapshots of `refs/main` in a Hub cache folder (for the model picker). */
export function listCachedHubModels(cacheDir: string): CachedHubModel[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(cacheDir);
  } catch {
    return [];
  }
  const out: CachedHubModel[] = [];
  for (const e of entries.sort()) {
    const m = /^models--([^-].*?)--(.+)$/.exec(e);
    if (!m) continue;
    const root = path.join(cacheDir, e);
    let commit: string;
    try {
      commit = fs.readFileSync(path.join(root, 'refs', 'main'), 'utf8').trim();
    } catch {
      continue;
    }
    const dir = path.join(root, 'snapshots', commit);
    if (!/^[0-9a-f]{40}$/.test(commit) || !isFile(path.join(dir, 'config.json'))) continue;
    const weights = hasWeights(dir) || hasOnnx(dir);
    if (!weights) continue;
    out.push({ id: `${m[1]}/${m[2]}`, dir, bytes: folderBytes(path.join(root, 'blobs')) });
  }
  return out;
}

/** True when the folder holds weights the family builders read: safetensors, or a PyTorch checkpoint (formats/torch-bin.ts). */
function hasWeights(dir: string): boolean {
  return WEIGHT_FILES.some((name) => isFile(path.join(dir, name)));
}

const WEIGHT_FILES = [
  'model.safetensors',
  'model.safetensors.index.json',
  'pytorch_model.bin',
  'pytorch_model.bin.index.json',
];

/** True when the folder holds an ONNX export Attention Lens would open (a Hub repository without safetensors). */
function hasOnnx(dir: string): boolean {
  try {
    return findOnnxInFolder(dir) !== undefined;
  } catch {
    return false;
  }
}

function folderBytes(dir: string): number {
  let total = 0;
  try {
    for (const f of fs.readdirSync(dir)) {
      const st = fs.statSync(path.join(dir, f));
      if (st.isFile() && !f.endsWith('.incomplete')) total += st.size;
    }
  } catch {
    return total;
  }
  return total;
}

/** What config.json says about a model folder (for lists): model_type, layers × heads, weights size. */
export interface ModelSummary {
  modelType?: string;
  layers?: number;
  heads?: number;
  bytes: number;
}

export function summarizeFolder(dir: string): ModelSummary {
  let raw: Record<string, unknown> = {};
  try {
    raw = JSON.parse(
      readSideFileSync(path.join(dir, 'config.json'), 'BAD_CONFIG', CONFIG_FILE_MAX_BYTES).toString('utf8'),
    ) as Record<string, unknown>;
  } catch {
    raw = {};
  }
  const int = (...names: string[]) => names.map((n) => raw[n]).find((v): v is number => typeof v === 'number');
  let bytes = 0;
  // Weights at the top, and a transformers.js export's graphs under onnx/.
  for (const sub of [dir, path.join(dir, 'onnx')]) {
    let names: string[];
    try {
      names = fs.readdirSync(sub);
    } catch {
      continue;
    }
    for (const f of names) {
      if (!/\.(safetensors|onnx|onnx_data|onnx\.data)$/.test(f)) continue;
      try {
        bytes += fs.statSync(path.join(sub, f)).size;
      } catch {
        continue;
      }
    }
  }
  return {
    modelType: typeof raw.model_type === 'string' ? raw.model_type : undefined,
    layers: int('num_hidden_layers', 'n_layer', 'n_layers', 'num_layers'),
    heads: int('num_attention_heads', 'n_head', 'n_heads', 'num_heads'),
    bytes,
  };
}
