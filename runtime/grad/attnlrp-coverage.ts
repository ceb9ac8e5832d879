// Which models AttnLRP runs on, apart from the graphs (the panel's method list reads it too): the model types whose
// operators its rules cover (runtime/grad/attnlrp-rules.ts) and whose relevances were checked against the authors'
// LXT (test/unit/runtime/grad/attnlrp.test.ts: LXT's own patches for llama, qwen3, gpt2 and bert;
// attnlrp-seq2seq.test.ts: LXT's rule functions placed on marian, bart, t5 and mbart, which LXT does not patch itself).

export const ATTNLRP_MODEL_TYPES: readonly string[] = [
  'llama',
  'qwen3',
  'gpt2',
  'bert',
  'marian',
  'bart',
  't5',
  'mbart',
];

/** Why a model type gets no AttnLRP, in one line (undefined: it does). */
export function attnLrpUncovered(modelType: string): string | undefined {
  if (ATTNLRP_MODEL_TYPES.includes(modelType)) return undefined;
  return `AttnLRP runs on the model types ${ATTNLRP_MODEL_TYPES.slice(0, -1).join(', ')} and ${ATTNLRP_MODEL_TYPES.at(-1)} (its rules checked against the authors’ LXT); this model is ${modelType}: use gradient × input or Integrated Gradients.`;
}
