// Loads a model for generation (Node: the CLI and the bench): what the user named is resolved as for a run (a
// folder, a GGUF file or ollama:NAME, a Hub id), checked against the memory available, refused early when it is not
// a causal LM (from its config, before any graph is built), and its decode-step graph built into one session on
// this thread. ONNX exports have no decode-step graph (their graphs cannot take a KV cache), so they are refused.
import { LensError } from '../errors';
import { resolveBackend } from '../backend/ort';
import { readGgufModel } from '../models/gguf-source';
import { checkModelFits } from '../models/memory-check';
import { readModel } from '../models/read-model';
import { isSeq2SeqFolder } from '../models/seq2seq-read';
import {
  defaultThreads,
  loadResolvedTokenizer,
  resolveWithProgress,
  type InspectorLoadOptions,
} from '../inspector/load-model';
import type { Tokenizer } from '../tokenizers/tokenizer';
import type { BackendName } from '../types';
import { KvGenerator } from './kv-generator';

export interface LoadedGenerator {
  generator: KvGenerator;
  tokenizer: Tokenizer;
  name: string;
  dir: string;
  threads: number;
}

export interface GeneratorLoadOptions extends Pick<InspectorLoadOptions, 'hub' | 'onDownload' | 'signal'> {
  backend: BackendName | 'auto';
  threads?: number;
  /** Tokens the run will hold (prompt + new), for the memory check. */
  maxTokens: number;
  attention?: boolean;
}

export async function loadGenerator(model: string, options: GeneratorLoadOptions): Promise<LoadedGenerator> {
  const resolved = await resolveWithProgress(model, options);
  if (resolved.kind === 'onnx')
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `${resolved.name} is an ONNX export, which cannot generate with a KV cache here; give the model's Hugging Face ` +
        'folder (config.json + safetensors) or a GGUF file.',
    );
  if (resolved.kind === 'folder' && isSeq2SeqFolder(resolved.dir))
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `${resolved.name} is an encoder–decoder model, which translates rather than continues a prompt; use run --translate (or --target-text).`,
    );
  await checkModelFits(resolved, options.maxTokens);
  const source = resolved.kind === 'folder' ? await readModel(resolved.dir) : readGgufModel(resolved.file);
  if (source.config.family === 'bert')
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `${resolved.name} (${source.config.modelType}) is an encoder, not a causal language model, so it cannot ` +
        'generate text; use a decoder such as gpt2, llama, qwen2 or a GGUF chat model.',
    );
  const tokenizer = await loadResolvedTokenizer(resolved);
  const threads = Math.max(1, Math.floor(options.threads ?? defaultThreads()));
  const backend = await resolveBackend(options.backend, threads);
  const generator = await KvGenerator.create(source, { backend, threads, attention: options.attention });
  return { generator, tokenizer, name: resolved.name, dir: resolved.dir, threads };
}

export { stopTokenIds } from './stop-tokens';
