// Decides which files of a Hub repository a model needs (config, tokenizer, safetensors weights and their shards)
// from the Hub's file listing, so nothing else (PyTorch .bin, TF .h5, Flax, ONNX copies...) is downloaded; and
// checks, without the network, whether a cached snapshot folder has everything a model needs.
import * as fs from 'node:fs';
import * as path from 'node:path';
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

const OPTIONAL = ['tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json'];
const OTHER_WEIGHTS = /(\.bin|\.h5|\.msgpack|\.onnx|\.ckpt|\.pt|\.pth|\.gguf)$/i;

function wanted(repo: string, s: HubSibling): WantedFile {
  const size = s.lfs?.size ?? s.size;
  const blobId = s.lfs?.sha256 ?? s.blobId;
  if (typeof size !== 'number' || !blobId || !/^[0-9a-f]{40,64}$/.test(blobId)) {
    throw new HubError(
      'bad-response',
      `The Hub listing of ${repo} gives no size or hash for ${s.rfilename}; the endpoint may not be a Hub (it must support ?blobs=true).`,
    );
  }
  return { name: s.rfilename, blobId, size, sha256: s.lfs?.sha256, gitSha1: s.lfs ? undefined : s.blobId };
}

/** The files to download, plus the shard index when the weights are sharded (its shards come from its content). */
export function pickModelFiles(repo: string, siblings: HubSibling[]): { files: WantedFile[]; shardIndex?: WantedFile } {
  const byName = new Map(siblings.map((s) => [s.rfilename, s]));
  const take = (name: string) => (byName.has(name) ? [wanted(repo, byName.get(name)!)] : []);
  if (!byName.has('config.json')) {
    throw new HubError('no-config', `${repo} has no config.json at its top level: it is not a Transformers model.`);
  }
  let tokenizer: WantedFile[];
  if (byName.has('tokenizer.json')) tokenizer = take('tokenizer.json');
  else if (byName.has('vocab.txt')) tokenizer = take('vocab.txt');
  else if (byName.has('vocab.json') && byName.has('merges.txt'))
    tokenizer = [...take('vocab.json'), ...take('merges.txt')];
  else {
    throw new HubError(
      'no-tokenizer',
      `${repo} has no tokenizer Attention Lens can read (tokenizer.json, vocab.txt, or vocab.json + merges.txt).`,
    );
  }
  const files = [...take('config.json'), ...tokenizer, ...OPTIONAL.flatMap(take)];
  if (byName.has('model.safetensors')) return { files: [...files, ...take('model.safetensors')] };
  if (byName.has('model.safetensors.index.json')) {
    const shardIndex = take('model.safetensors.index.json')[0];
    return { files: [...files, shardIndex], shardIndex };
  }
  const others = siblings.map((s) => s.rfilename).filter((n) => !n.includes('/') && OTHER_WEIGHTS.test(n));
  throw new HubError(
    'no-weights',
    others.length > 0
      ? `${repo} has no safetensors weights (only ${others.slice(0, 3).join(', ')}); Attention Lens reads model.safetensors. Pick a repository that has them, or convert the weights.`
      : `${repo} has no model.safetensors (nor a sharded model.safetensors.index.json).`,
  );
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
    throw new HubError('bad-response', `${label} is not a safetensors index (no "weight_map").`);
  }
  const names = [...new Set(Object.values(map as Record<string, unknown>))];
  for (const n of names) {
    if (typeof n !== 'string' || n === '' || n.includes('..') || n.startsWith('/') || n.includes('\\')) {
      throw new HubError('bad-response', `${label} names a shard that is not a plain file name: ${JSON.stringify(n)}.`);
    }
  }
  return names as string[];
}

/** The shards to download, as WantedFiles from the listing. */
export function pickShards(repo: string, siblings: HubSibling[], names: string[]): WantedFile[] {
  const byName = new Map(siblings.map((s) => [s.rfilename, s]));
  return names.map((n) => {
    const s = byName.get(n);
    if (!s)
      throw new HubError('not-found', `${repo}'s model.safetensors.index.json names ${n}, which the repository lacks.`);
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

/** What a cached snapshot folder lacks for a model (config, tokenizer, weights and every shard), or undefined. */
export async function missingFromSnapshot(dir: string): Promise<string | undefined> {
  const has = (name: string) => exists(path.join(dir, name));
  if (!(await has('config.json'))) return 'config.json';
  const tokenizer =
    (await has('tokenizer.json')) ||
    (await has('vocab.txt')) ||
    ((await has('vocab.json')) && (await has('merges.txt')));
  if (!tokenizer) return 'a tokenizer';
  if (await has('model.safetensors')) return undefined;
  const index = path.join(dir, 'model.safetensors.index.json');
  if (!(await exists(index))) return 'model.safetensors';
  let names: string[];
  try {
    names = shardNames(await fs.promises.readFile(index, 'utf8'), index);
  } catch {
    return 'a readable model.safetensors.index.json';
  }
  for (const n of names) if (!(await has(n))) return n;
  return undefined;
}
