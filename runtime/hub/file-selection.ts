// Decides which files of a Hub repository a model needs from the Hub's file listing, so nothing else (TF .h5, Flax,
// Rust, other ONNX variants...) is downloaded: config, tokenizer (tokenizer.json, or the files of a folder
// without one: vocab.txt, Marian's source.spm + target.spm + vocab.json, GPT-2's vocab.json + merges.txt), and
// safetensors weights (with their shards); in a repository without safetensors, its PyTorch checkpoint
// (pytorch_model.bin or its shards: many Helsinki-NLP opus-mt repositories ship only that); or, with neither
// (transformers.js / optimum exports), the ONNX graphs the folder will be opened with (onnx/candidates.ts: full precision before fp16 and quantized
// variants) and the external data files they name. Also checks, without the network, whether a cached snapshot folder
// has everything a model needs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { quoted } from '../errors';
import { pickOnnxCandidate } from '../onnx/candidates';
import { findOnnxInFolder } from '../onnx/locate';
import { externalDataLocations } from '../onnx/read';
import { HubError } from './hub-errors';

/** One file of the Hub API's `siblings` listing (with ?blobs=true). */
export interface HubSibling {
  rfilename: string;
  size?: number;
  /** Git blob sha1. */
  blobId?: string;
  lfs?: { sha256: string; size: number };
}

/** A file to have in the snapshot: its name, the blob it is stored as, and what to check it against. */
export interface WantedFile {
  name: string;
  /** The blob's name in the cache: the sha256 for LFS files, the git blob sha1 otherwise (huggingface_hub's etag). */
  blobId: string;
  size: number;
  sha256?: string;
  gitSha1?: string;
}

const OPTIONAL = ['tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json', 'chat_template.jinja'];
/** Marian (opus-mt) repositories ship sentencepiece files and a vocab.json instead of a tokenizer.json. */
const MARIAN = ['source.spm', 'target.spm', 'vocab.json'];
const OTHER_WEIGHTS = /(\.bin|\.ot|\.h5|\.msgpack|\.onnx|\.ckpt|\.pt|\.pth|\.gguf)$/i;

function wanted(repo: string, s: HubSibling): WantedFile {
  const size = s.lfs?.size ?? s.size;
  const blobId = s.lfs?.sha256 ?? s.blobId;
  const notHub = 'the endpoint does not answer like the Hugging Face Hub';
  if (typeof size !== 'number' || !blobId) {
    throw new HubError(
      'bad-response',
      `The Hub listing of ${repo} gives no size or hash for ${s.rfilename}; the endpoint may not be a Hub (it must support ?blobs=true).`,
    );
  }
  // Checked before anything is written: a size below 0 or a fraction, or a hash of the wrong shape, would otherwise
  // reach the downloader (a negative size with the empty file's sha256 "verified" a file never written).
  if (!Number.isSafeInteger(size) || size < 0 || (s.lfs && s.size !== undefined && s.size !== s.lfs.size)) {
    const given = s.lfs && s.size !== undefined && s.size !== s.lfs.size ? `${s.size} and ${s.lfs.size}` : `${size}`;
    throw new HubError(
      'bad-response',
      `The Hub listing of ${repo} gives ${s.rfilename} the size ${given}, not a whole number of bytes; ${notHub}.`,
    );
  }
  const hashOk = s.lfs ? /^[0-9a-f]{64}$/.test(s.lfs.sha256) : /^[0-9a-f]{40}$/.test(blobId);
  if (!hashOk) {
    throw new HubError(
      'bad-response',
      `The Hub listing of ${repo} gives ${s.rfilename} the ${s.lfs ? 'sha256' : 'git blob id'} ${quoted(blobId)}, ` +
        `which is not ${s.lfs ? '64' : '40'} hexadecimal digits; ${notHub}.`,
    );
  }
  return { name: s.rfilename, blobId, size, sha256: s.lfs?.sha256, gitSha1: s.lfs ? undefined : s.blobId };
}

/** What to download first; the shards of `shardIndex` and the external data of `onnxGraphs` come from their content. */
export interface ModelFiles {
  files: WantedFile[];
  shardIndex?: WantedFile;
  /** The ONNX graphs picked (encoder first), when the repository has no safetensors weights. */
  onnxGraphs?: WantedFile[];
}

/** A repository of GGUF files (llama.cpp's format, with no config.json): opened from a file, not by its Hub id. */
function ggufRepo(repo: string, names: string[]): HubError {
  const pick = names.find((n) => /q4_k_m/i.test(n)) ?? names[0];
  const shown = names.length > 3 ? `${names.slice(0, 3).join(', ')}, …` : names.join(', ');
  return new HubError(
    'no-config',
    `${repo} holds GGUF files (${shown}), not a Transformers model, and a GGUF file is opened from disk: download ` +
      `one (\`hf download ${repo} ${pick} --local-dir .\`) and give its path as the model, or get it with Ollama ` +
      `(\`ollama pull hf.co/${repo}\`, then ollama:hf.co/${repo}) or LM Studio (its models are found on this machine).`,
  );
}

/** The files to download: safetensors weights when the repository has them, else its PyTorch checkpoint, else an ONNX
 * export. */
export function pickModelFiles(repo: string, siblings: HubSibling[]): ModelFiles {
  const byName = new Map(siblings.map((s) => [s.rfilename, s]));
  const take = (name: string) => (byName.has(name) ? [wanted(repo, byName.get(name)!)] : []);
  if (!byName.has('config.json')) {
    const gguf = siblings.map((s) => s.rfilename).filter((n) => /\.gguf$/i.test(n));
    if (gguf.length > 0) throw ggufRepo(repo, gguf);
    throw new HubError('no-config', `${repo} has no config.json at its top level: it is not a Transformers model.`);
  }
  let tokenizer: WantedFile[];
  if (byName.has('tokenizer.json')) tokenizer = take('tokenizer.json');
  else if (byName.has('vocab.txt')) tokenizer = take('vocab.txt');
  else if (MARIAN.every((n) => byName.has(n))) tokenizer = [...MARIAN.flatMap(take), ...take('target_vocab.json')];
  else if (byName.has('vocab.json') && byName.has('merges.txt'))
    tokenizer = [...take('vocab.json'), ...take('merges.txt')];
  else {
    throw new HubError(
      'no-tokenizer',
      `${repo} has no tokenizer Attention Lens can read (tokenizer.json, vocab.txt, source.spm + target.spm + vocab.json, or vocab.json + merges.txt).`,
    );
  }
  const files = [...take('config.json'), ...tokenizer, ...OPTIONAL.flatMap(take)];
  if (byName.has('model.safetensors')) return { files: [...files, ...take('model.safetensors')] };
  if (byName.has('model.safetensors.index.json')) {
    const shardIndex = take('model.safetensors.index.json')[0];
    return { files: [...files, shardIndex], shardIndex };
  }
  if (byName.has('pytorch_model.bin')) return { files: [...files, ...take('pytorch_model.bin')] };
  if (byName.has('pytorch_model.bin.index.json')) {
    const shardIndex = take('pytorch_model.bin.index.json')[0];
    return { files: [...files, shardIndex], shardIndex };
  }
  const onnx = pickOnnxCandidate((name) => byName.has(name));
  if (onnx) {
    const onnxGraphs = [
      ...(onnx.encoder ? take(onnx.encoder) : []),
      ...take(onnx.model),
      ...(onnx.step ? take(onnx.step) : []),
    ];
    return { files: [...files, ...onnxGraphs], onnxGraphs };
  }
  const others = siblings
    .map((s) => s.rfilename)
    .filter((n) => (!n.includes('/') || n.startsWith('onnx/')) && OTHER_WEIGHTS.test(n));
  throw new HubError(
    'no-weights',
    others.length > 0
      ? `${repo} has no safetensors weights nor pytorch_model.bin (only ${others.slice(0, 3).join(', ')}) and no ONNX export Attention Lens can open (model.onnx, or encoder_model.onnx + decoder_model.onnx, at the top or under onnx/). Pick a repository that has one, or convert the weights.`
      : `${repo} has no model.safetensors (nor a sharded model.safetensors.index.json), no pytorch_model.bin, and no ONNX export (model.onnx or onnx/model.onnx).`,
  );
}

/** The external data file names (relative to the repository) that a downloaded ONNX graph's initializers name. */
export function externalDataNames(graph: string, bytes: Uint8Array): string[] {
  const dir = path.posix.dirname(graph);
  return externalDataLocations(bytes, graph).map((location) => {
    const parts = location.split(/[\\/]/);
    if (path.isAbsolute(location) || /^[A-Za-z]:/.test(location) || parts.includes('..') || parts.includes('')) {
      throw new HubError(
        'bad-response',
        `${graph} names external data that is not a file beside it: ${quoted(location)}.`,
      );
    }
    return dir === '.' ? parts.join('/') : `${dir}/${parts.join('/')}`;
  });
}

/** Shard file names listed in a model.safetensors.index.json, checked to be plain names the listing has. */
export function shardNames(indexText: string, label: string): string[] {
  let map: unknown;
  try {
    map = (JSON.parse(indexText) as { weight_map?: unknown }).weight_map;
  } catch {
    map = undefined;
  }
  if (!map || typeof map !== 'object') {
    throw new HubError('bad-response', `${label} is not a shard index (no "weight_map").`);
  }
  const names = [...new Set(Object.values(map as Record<string, unknown>))];
  for (const n of names) {
    if (typeof n !== 'string' || n === '' || n.includes('..') || n.startsWith('/') || n.includes('\\')) {
      throw new HubError('bad-response', `${label} names a shard that is not a plain file name: ${quoted(n)}.`);
    }
  }
  return names as string[];
}

/** Files named by the shard index or an ONNX graph (`by`), as WantedFiles from the listing. */
export function pickShards(
  repo: string,
  siblings: HubSibling[],
  names: string[],
  by = 'model.safetensors.index.json',
): WantedFile[] {
  const byName = new Map(siblings.map((s) => [s.rfilename, s]));
  return names.map((n) => {
    const s = byName.get(n);
    if (!s) throw new HubError('not-found', `${repo}'s ${by} names ${n}, which the repository lacks.`);
    return wanted(repo, s);
  });
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await fs.promises.stat(file)).isFile();
  } catch {
    return false;
  }
}

/** What a cached snapshot folder lacks for a model (config, tokenizer, weights with every shard, or an ONNX export
 * with its external data), or undefined. */
export async function missingFromSnapshot(dir: string): Promise<string | undefined> {
  const has = (name: string) => exists(path.join(dir, name));
  if (!(await has('config.json'))) return 'config.json';
  const tokenizer =
    (await has('tokenizer.json')) ||
    (await has('vocab.txt')) ||
    ((await has('source.spm')) && (await has('target.spm')) && (await has('vocab.json'))) ||
    ((await has('vocab.json')) && (await has('merges.txt')));
  if (!tokenizer) return 'a tokenizer';
  if ((await has('model.safetensors')) || (await has('pytorch_model.bin'))) return undefined;
  for (const name of ['model.safetensors.index.json', 'pytorch_model.bin.index.json']) {
    const index = path.join(dir, name);
    if (!(await exists(index))) continue;
    let names: string[];
    try {
      names = shardNames(await fs.promises.readFile(index, 'utf8'), index);
    } catch {
      return `a readable ${name}`;
    }
    for (const n of names) if (!(await has(n))) return n;
    return undefined;
  }
  return missingOnnx(dir);
}

/** What a snapshot without safetensors lacks of an ONNX export (its graphs and their external data), or undefined. */
async function missingOnnx(dir: string): Promise<string | undefined> {
  let graphs: string[];
  try {
    const layout = findOnnxInFolder(dir);
    graphs = layout ? [layout.encoder, layout.model, layout.step].filter((g) => g !== undefined) : [];
  } catch {
    graphs = [];
  }
  if (graphs.length === 0) return 'model.safetensors';
  for (const graph of graphs) {
    const name = path.relative(dir, graph).split(path.sep).join('/');
    let names: string[];
    try {
      names = externalDataNames(name, await fs.promises.readFile(graph));
    } catch {
      return `a readable ${name}`;
    }
    for (const n of names) if (!(await exists(path.join(dir, ...n.split('/'))))) return n;
  }
  return undefined;
}
