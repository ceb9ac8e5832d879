// The entry points that load a model for inspection: a Hugging Face folder, an ONNX export, a GGUF file (or an
// Ollama model by name) or a Hub id (resolved, downloaded when needed, checked against the memory available, its
// tokenizer loaded on this thread), or a synthetic BERT for benchmarks. The model itself
// runs in a worker thread (worker-inspector.ts).
import { checkCanGenerate } from '../generate/can-generate';
import { readConfig } from '../formats/config';
import { isSeq2SeqConfig } from '../models/seq2seq-config';
import { peekConfig } from '../models/seq2seq-read';
import { LensError } from '../errors';
import type { Inspector } from './api';
import type { Tokenizer } from '../tokenizers/tokenizer';
import { loadTokenizer } from '../tokenizers/index';
import type { DownloadProgress } from '../hub/download';
import { resolveModel, type HubOptions, type ResolvedModel } from '../models/source-resolver';
import { openGguf } from '../formats/gguf-file';
import { checkModelFits } from '../models/memory-check';
import { tokenizerFromGguf } from '../tokenizers/from-gguf';
import type { ModelSourceSpec, SyntheticSpec } from './worker-protocol';
import { defaultThreads, startWorker, type WorkerStartOptions } from './worker-inspector';

export type { SyntheticSpec } from './worker-protocol';
export { defaultThreads };

export interface InspectorLoadOptions extends WorkerStartOptions {
  /** Hub endpoint, token, cache and offline mode for Hub ids (default: HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE...). */
  hub?: HubOptions;
  /** Download progress of a Hub id's files (bytes, speed); onProgress gets phase 'downloading' too. */
  onDownload?: (p: DownloadProgress) => void;
  /** The caller will continue text (explain --generate): an encoder or an ONNX export is refused from its config,
   * before the worker reads any weight. */
  generate?: boolean;
  /** The model-randomisation sanity check: re-initialise the top `layers` layers (seeded); folders and GGUF only. */
  randomizeTop?: { layers: number; seed: number };
}

export interface SyntheticLoadOptions extends InspectorLoadOptions {
  /** A tokenizer for text input; without one, synthetic models run on token ids only. */
  tokenizer?: Tokenizer;
}

/**
 * Resolves what the user named (runtime/models/source-resolver.ts), downloading a Hub id first when needed: its
 * progress goes to options.onDownload (bytes, speed) and to options.onProgress as the load's 'downloading' phase.
 */
export function resolveWithProgress(model: string, options: InspectorLoadOptions = {}): Promise<ResolvedModel> {
  return resolveModel(model, {
    hub: options.hub,
    signal: options.signal,
    onDownload: (p) => {
      options.onProgress?.({
        phase: 'downloading',
        fraction: p.overallTotal > 0 ? p.overallBytes / p.overallTotal : 0,
      });
      options.onDownload?.(p);
    },
  });
}

/** The tokenizer of a resolved model: the folder's files, or a GGUF file's metadata. */
export async function loadResolvedTokenizer(resolved: ResolvedModel): Promise<Tokenizer> {
  if (resolved.kind === 'gguf') return tokenizerFromGguf(openGguf(resolved.file).meta);
  return loadTokenizer(resolved.kind === 'folder' ? resolved.dir : resolved.layout.dir);
}

/**
 * Loads a model into a worker: a Hugging Face folder (config.json, safetensors weights, tokenizer), an ONNX export
 * (an .onnx file or a folder with one; runtime/onnx), a GGUF file or ollama:NAME[:TAG], or a Hugging Face Hub id
 * (owner/name[@revision]) served from the Hub cache or downloaded into it first (options.hub, options.onDownload).
 * A model that will not fit in the available memory is refused before any weight is read (memory-estimate.ts).
 */
export async function load(model: string, options: InspectorLoadOptions = {}): Promise<Inspector> {
  const resolved = await resolveWithProgress(model, options);
  if (options.generate) {
    if (resolved.kind === 'onnx') checkCanGenerate({ name: resolved.name, family: 'onnx', modelType: 'onnx' });
    if (resolved.kind === 'folder') {
      const raw = peekConfig(resolved.dir);
      if (raw && isSeq2SeqConfig(raw))
        throw new LensError(
          'UNSUPPORTED_MODEL',
          `${resolved.name} (${String(raw.model_type)}) is an encoder–decoder model: it translates the text rather than continuing it, so --generate does not apply; leave it out (the translation is explained with --target target, or give --target-text).`,
        );
      const config = await readConfig(resolved.dir);
      checkCanGenerate({ name: resolved.name, family: config.family, modelType: config.modelType });
    }
  }
  await checkModelFits(resolved, options.maxTokens ?? 512, options.availableMemory);
  // The tokenizer loads on this thread while the worker reads the weights; the worker's error comes first when
  // both fail (it says more about a broken folder).
  const tokenizer = loadResolvedTokenizer(resolved).then(
    (t) => ({ ok: true as const, t }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  const source: ModelSourceSpec =
    resolved.kind === 'folder'
      ? { dir: resolved.dir }
      : resolved.kind === 'gguf'
        ? { gguf: resolved.file }
        : { onnx: resolved.layout };
  if (options.randomizeTop) {
    if ('onnx' in source)
      throw new LensError(
        'BAD_INPUT',
        'The randomisation check needs a model folder or GGUF file, not an ONNX export.',
      );
    source.randomizeTop = options.randomizeTop;
  }
  const inspector = await startWorker(source, { name: resolved.name, dir: resolved.dir }, options, undefined);
  const tok = await tokenizer;
  if (!tok.ok) {
    await inspector.dispose();
    throw tok.e;
  }
  inspector.tokenizer = tok.t;
  return inspector;
}

/** Loads a synthetic BERT with random weights (benchmarks, tests) through the same worker path as load(). */
export async function loadSynthetic(spec: SyntheticSpec, options: SyntheticLoadOptions = {}): Promise<Inspector> {
  const name = `synthetic-bert-${spec.layers}x${spec.hidden}`;
  return startWorker({ synthetic: spec }, { name, dir: '' }, options, options.tokenizer);
}
