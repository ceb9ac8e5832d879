// Which importance methods explain an encoder–decoder (scores over the SOURCE tokens), in one place: the Explain of
// encoder–decoders (seq2seq-explain.ts), the CLI and the panel read it. A method joins by adding its id here. The
// gradient methods run on the encoder–decoder gradient graphs of runtime/grad/seq2seq-gradients.ts (attention ×
// gradient on a decoder layer's cross-attention).
// Attention ids of decoder-only and encoder models are read as their encoder–decoder counterparts.
import { getMethod } from '../analysis/registry';
import { LensError } from '../errors';

/** Registry ids that run on encoder–decoders; the uniform baseline is always added. */
export const SEQ2SEQ_METHODS: readonly string[] = [
  'cross-attention',
  'cross-rollout',
  'loo',
  'occlusion',
  'saliency',
  'grad-x-input',
  'integrated-gradients',
  'attn-x-grad',
  'attnlrp',
  'alti',
  'value-zeroing',
];

/** The context-mixing methods among them (seq2seq-explain.ts asks Inspector.seq2seqMixing: ALTI+ and value zeroing
 * through one decoder layer's cross-attention, runtime/analysis/seq2seq-mixing.ts). */
export const SEQ2SEQ_MIXING_METHODS: readonly string[] = ['alti', 'value-zeroing'];

/** The gradient methods among them (seq2seq-explain.ts computes them with seq2seqGradientAttribution). */
export const SEQ2SEQ_GRADIENT_METHODS: readonly string[] = [
  'saliency',
  'grad-x-input',
  'integrated-gradients',
  'attn-x-grad',
  'attnlrp',
];

/** The default methods on an encoder–decoder. */
export const SEQ2SEQ_DEFAULT_METHODS: readonly string[] = ['cross-attention', 'cross-rollout', 'loo'];

/** raw-attention and rollout, asked of an encoder–decoder, are its raw cross-attention and its rollout. */
const SEQ2SEQ_ALIASES: Record<string, string> = { 'raw-attention': 'cross-attention', rollout: 'cross-rollout' };

/** The id a resolved registry id runs as on an encoder–decoder (raw-attention → cross-attention...). */
export function seq2seqMethodId(id: string): string {
  return SEQ2SEQ_ALIASES[id] ?? id;
}

/** Registry ids (already resolved) as they run on an encoder–decoder; a LensError names one that cannot. */
export function seq2seqMethods(ids: readonly string[], modelType: string): string[] {
  const out: string[] = [];
  for (const asked of ids) {
    const id = SEQ2SEQ_ALIASES[asked] ?? asked;
    if (!SEQ2SEQ_METHODS.includes(id)) {
      const kind = getMethod(id)?.kind;
      const why =
        id === 'value-zeroing-rollout'
          ? `"${id}" multiplies one stack's layer matrices; an encoder–decoder's rollout of contributions is alti (ALTI+, through the encoder and the decoder's self and cross blocks), and value-zeroing zeroes the source in one decoder layer's cross-attention`
          : kind === 'gradient'
            ? `"${id}" reads one self-attention stack's gradient, which an encoder–decoder does not have alone`
            : `"${id}" reads one self-attention stack (or its value vectors), which an encoder–decoder does not have alone`;
      throw new LensError(
        'UNSUPPORTED_MODEL',
        `${why} (${modelType}); explain its source tokens with ${SEQ2SEQ_METHODS.join(', ')}.`,
      );
    }
    if (!out.includes(id)) out.push(id);
  }
  return out;
}
