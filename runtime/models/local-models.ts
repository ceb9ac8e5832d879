// The GGUF models already on the user's machine, from the two apps most people download them with:
//   Ollama     manifests at <models>/manifests/<registry>/<namespace>/<name>/<tag> (JSON; the layer whose mediaType is
//              application/vnd.ollama.image.model is the GGUF, stored as <models>/blobs/sha256-<hex>); <models> is
//              $OLLAMA_MODELS or ~/.ollama/models.
//   LM Studio  <root>/<publisher>/<repo>/*.gguf under ~/.lmstudio/models and ~/.cache/lm-studio/models.
// Each model is described from its GGUF header only (architecture, quantisation, size; whether a family reads it):
// nothing is dequantized. Pure file-system reads, no vscode: the CLI and Select Model share it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LensError, quoted } from '../errors';
import { SUPPORTED_MODEL_TYPES } from '../formats/config-normalise';
import { readGgufHeader } from '../formats/gguf-file';
import { GGUF_MODEL_TYPES } from '../formats/gguf-config';
import { isDequantizable } from '../formats/gguf-dequant';
import type { GgufHeader } from '../formats/gguf-read';
import { readSideFileSync } from '../files/side-file';

export const OLLAMA_MODEL_MEDIA_TYPE = 'application/vnd.ollama.image.model';
const DEFAULT_REGISTRY = 'registry.ollama.ai';

export interface LocalModel {
  source: 'ollama' | 'lmstudio';
  /** What the user types: ollama:name:tag, or the GGUF path for LM Studio. */
  id: string;
  /** Display name: name:tag, or publisher/repo/file. */
  label: string;
  file: string;
  bytes: number;
  /** general.architecture, when the header could be read. */
  architecture?: string;
  /** The file's quantisation: general.file_type's name, else the most common tensor type. */
  quantisation?: string;
  /** True when a family builder reads this architecture and every tensor type. */
  supported: boolean;
  /** Why not, in a few words (unsupported architecture, tensor type, unreadable header). */
  note?: string;
}

/** llama.cpp's llama_ftype names (general.file_type). */
const FILE_TYPES: Record<number, string> = {
  0: 'F32',
  1: 'F16',
  2: 'Q4_0',
  3: 'Q4_1',
  7: 'Q8_0',
  8: 'Q5_0',
  9: 'Q5_1',
  10: 'Q2_K',
  11: 'Q3_K_S',
  12: 'Q3_K_M',
  13: 'Q3_K_L',
  14: 'Q4_K_S',
  15: 'Q4_K_M',
  16: 'Q5_K_S',
  17: 'Q5_K_M',
  18: 'Q6_K',
  19: 'IQ2_XXS',
  20: 'IQ2_XS',
  21: 'Q2_K_S',
  22: 'IQ3_XS',
  23: 'IQ3_XXS',
  24: 'IQ1_S',
  25: 'IQ4_NL',
  26: 'IQ3_S',
  27: 'IQ3_M',
  28: 'IQ2_S',
  29: 'IQ2_M',
  30: 'IQ4_XS',
  31: 'IQ1_M',
  32: 'BF16',
  36: 'TQ1_0',
  37: 'TQ2_0',
};

/** What a GGUF header says about a model, for lists. */
export function describeGguf(
  header: GgufHeader,
): Pick<LocalModel, 'architecture' | 'quantisation' | 'supported' | 'note'> {
  const archRaw = header.metadata.get('general.architecture');
  const architecture = typeof archRaw === 'string' ? archRaw : undefined;
  const ft = header.metadata.get('general.file_type');
  let quantisation = typeof ft === 'number' ? FILE_TYPES[ft] : undefined;
  if (!quantisation) {
    const counts = new Map<string, number>();
    for (const t of header.tensors) counts.set(t.typeName, (counts.get(t.typeName) ?? 0) + 1);
    quantisation = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  }
  const modelType = architecture ? GGUF_MODEL_TYPES[architecture] : undefined;
  if (!architecture) return { quantisation, supported: false, note: 'no architecture in the file' };
  if (!modelType || !(modelType in SUPPORTED_MODEL_TYPES))
    return { architecture, quantisation, supported: false, note: `architecture ${architecture} is not supported` };
  const bad = header.tensors.find((t) => !isDequantizable(t.type) && t.name.startsWith('blk.'));
  if (bad)
    return { architecture, quantisation, supported: false, note: `tensor type ${bad.typeName} is not supported` };
  return { architecture, quantisation, supported: true };
}

function describeFile(file: string): Pick<LocalModel, 'architecture' | 'quantisation' | 'supported' | 'note'> {
  try {
    return describeGguf(readGgufHeader(file));
  } catch (e) {
    return { supported: false, note: e instanceof Error ? e.message.split(' — ')[0] : 'unreadable' };
  }
}

function statFile(p: string): fs.Stats | undefined {
  try {
    const st = fs.statSync(p);
    return st.isFile() ? st : undefined;
  } catch {
    return undefined;
  }
}

function listDir(p: string): string[] {
  try {
    return fs.readdirSync(p).sort();
  } catch {
    return [];
  }
}

/** Ollama's models folder: $OLLAMA_MODELS, else ~/.ollama/models. */
export function ollamaModelsDir(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string {
  const v = env.OLLAMA_MODELS?.trim();
  return v ? v : path.join(home, '.ollama', 'models');
}

interface OllamaRef {
  registry: string;
  namespace: string;
  name: string;
  tag: string;
}

/** ollama:NAME[:TAG] (NAME may be namespace/name or registry/namespace/name, as `ollama pull` accepts). */
export function parseOllamaRef(text: string): OllamaRef {
  const body = text.replace(/^ollama:/i, '');
  const m = /^([A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+){0,2})(?::([A-Za-z0-9._-]+))?$/.exec(body);
  // Each part names a folder or file under the manifests: "." and ".." would leave them.
  if (!m || [...m[1].split('/'), m[2]].some((part) => part === '.' || part === '..'))
    throw new LensError(
      'BAD_INPUT',
      `"${text}" is not an Ollama model name; write ollama:NAME or ollama:NAME:TAG (e.g. ollama:llama3.2:1b).`,
    );
  const parts = m[1].split('/');
  const name = parts[parts.length - 1];
  const namespace = parts.length >= 2 ? parts[parts.length - 2] : 'library';
  const registry = parts.length === 3 ? parts[0] : DEFAULT_REGISTRY;
  return { registry, namespace, name, tag: m[2] ?? 'latest' };
}

/** The GGUF blob a manifest names, or a reason it has none. */
function modelBlob(manifestFile: string, modelsDir: string): { file: string; bytes: number } | string {
  let manifest: unknown;
  try {
    manifest = JSON.parse(readSideFileSync(manifestFile, 'MODEL_NOT_FOUND').toString('utf8'));
  } catch (e) {
    return e instanceof LensError
      ? 'its manifest is not a regular file of a manifest’s size'
      : 'its manifest is not valid JSON';
  }
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest))
    return 'its manifest is not a JSON object';
  const layers = (manifest as { layers?: unknown }).layers;
  if (!Array.isArray(layers)) return 'its manifest has no layers';
  const layer = layers.find(
    (l): l is { digest: string; size?: number } =>
      typeof l === 'object' && l !== null && (l as { mediaType?: unknown }).mediaType === OLLAMA_MODEL_MEDIA_TYPE,
  );
  if (!layer || typeof layer.digest !== 'string') return 'its manifest has no model layer';
  const m = /^sha256[:-]([0-9a-f]{64})$/.exec(layer.digest);
  if (!m) return `its model layer has an unexpected digest ${quoted(layer.digest)}`;
  const file = path.join(modelsDir, 'blobs', `sha256-${m[1]}`);
  const st = statFile(file);
  if (!st) return `its model blob ${path.basename(file)} is missing`;
  return { file, bytes: st.size };
}

/** The GGUF file of an Ollama model (ollama:NAME[:TAG]); one clear line when it is not installed. */
export function resolveOllama(text: string, env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string {
  const ref = parseOllamaRef(text);
  const dir = ollamaModelsDir(env, home);
  const manifest = path.join(dir, 'manifests', ref.registry, ref.namespace, ref.name, ref.tag);
  // As Ollama names it: another registry (hf.co/...) and a namespace other than library are part of the name.
  const registry = ref.registry === DEFAULT_REGISTRY ? '' : `${ref.registry}/`;
  const shown = `${registry}${ref.namespace === 'library' && !registry ? '' : `${ref.namespace}/`}${ref.name}:${ref.tag}`;
  if (!statFile(manifest)) {
    const installed = listOllama(env, home).map((m) => m.label);
    throw new LensError(
      'MODEL_NOT_FOUND',
      `Ollama has no model ${shown} in ${dir}` +
        (installed.length > 0 ? ` (installed: ${installed.slice(0, 8).join(', ')})` : '') +
        `; run \`ollama pull ${shown}\` or set OLLAMA_MODELS to Ollama's models folder.`,
    );
  }
  const blob = modelBlob(manifest, dir);
  if (typeof blob === 'string')
    throw new LensError(
      'MODEL_NOT_FOUND',
      `Ollama's model ${shown} cannot be used: ${blob}; run \`ollama pull ${shown}\` again.`,
    );
  return blob.file;
}

/** Every Ollama model with a GGUF model layer, described from its header. */
export function listOllama(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): LocalModel[] {
  const dir = ollamaModelsDir(env, home);
  const root = path.join(dir, 'manifests');
  const out: LocalModel[] = [];
  for (const registry of listDir(root))
    for (const namespace of listDir(path.join(root, registry)))
      for (const name of listDir(path.join(root, registry, namespace)))
        for (const tag of listDir(path.join(root, registry, namespace, name))) {
          const manifest = path.join(root, registry, namespace, name, tag);
          if (!statFile(manifest)) continue;
          const blob = modelBlob(manifest, dir);
          if (typeof blob === 'string') continue;
          const prefix =
            registry === DEFAULT_REGISTRY
              ? namespace === 'library'
                ? ''
                : `${namespace}/`
              : `${registry}/${namespace}/`;
          const label = `${prefix}${name}:${tag}`;
          out.push({
            source: 'ollama',
            id: `ollama:${label}`,
            label,
            file: blob.file,
            bytes: blob.bytes,
            ...describeFile(blob.file),
          });
        }
  return out;
}

/** LM Studio's model folders that exist: ~/.lmstudio/models and ~/.cache/lm-studio/models. */
export function lmStudioDirs(home = os.homedir()): string[] {
  return [path.join(home, '.lmstudio', 'models'), path.join(home, '.cache', 'lm-studio', 'models')];
}

/** Every .gguf at <root>/<publisher>/<repo>/ in LM Studio's folders (multimodal projector files left out). */
export function listLmStudio(home = os.homedir()): LocalModel[] {
  const out: LocalModel[] = [];
  const seen = new Set<string>();
  for (const root of lmStudioDirs(home))
    for (const publisher of listDir(root))
      for (const repo of listDir(path.join(root, publisher)))
        for (const f of listDir(path.join(root, publisher, repo))) {
          if (!/\.gguf$/i.test(f) || /^mmproj/i.test(f)) continue;
          const file = path.join(root, publisher, repo, f);
          const st = statFile(file);
          if (!st) continue;
          let real = file;
          try {
            real = fs.realpathSync(file);
          } catch {
            // keep the path as listed
          }
          if (seen.has(real)) continue;
          seen.add(real);
          out.push({
            source: 'lmstudio',
            id: file,
            label: `${publisher}/${repo}/${f}`,
            file,
            bytes: st.size,
            ...describeFile(file),
          });
        }
  return out;
}

/** Ollama's and LM Studio's models, Ollama first. */
export function listLocalModels(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): LocalModel[] {
  return [...listOllama(env, home), ...listLmStudio(home)];
}
