// Whether a loaded model can continue text, decided from its facts before a worker is asked: an encoder cannot, and an
// ONNX import has no KV-cached step graph here. One line each, naming the model, for the panel's Continue and the CLI.
import { LensError } from '../errors';
import type { ModelFacts } from '../types';

/** Throws UNSUPPORTED_MODEL when `facts` describe a model that cannot generate. */
export function checkCanGenerate(facts: Pick<ModelFacts, 'name' | 'family' | 'modelType'>): void {
  if (facts.family === 'bert')
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `${facts.name} (${facts.modelType}) is an encoder, not a causal language model, so it cannot generate text; ` +
        'use a decoder such as gpt2, llama, qwen2 or a GGUF chat model.',
    );
  if (facts.family === 'onnx')
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `${facts.name} is an ONNX export, which cannot generate with a KV cache here; give the model's Hugging Face ` +
        'folder (config.json + safetensors) or a GGUF file.',
    );
}
