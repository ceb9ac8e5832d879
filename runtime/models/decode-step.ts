// The graph of one generation step with a KV cache: T new tokens (the whole prompt at prefill, one token per step
// after it) read the keys and values of the P tokens before them, passed in and returned, so no step recomputes
// the sequence. It is built from the family's own fragments (embed, layer, head of family.ts: RoPE variants, norms,
// q/k norms, soft-caps, GQA) with one hook, LayerInputs.cache, which puts the past keys/values before the new
// ones; the per-run bias (causal and sliding window over P + T keys) and RoPE tables come from decode-feeds.ts.
// One graph serves prefill (P = 0) and every step, so the two can never disagree.
//
//   inputs : input_ids, position_ids int64 [1,T]; the side inputs of family.ts (attn_bias[_sliding] float32
//            [1,1,T,P+T], rope_cos/sin[_local] [1,1,T,R]); past_key_<l>, past_value_<l> float32 [1,KV,P,D]
//   outputs: logits [1,1,V] (the last new position's), present_key_<l>, present_value_<l> [1,KV,P+T,D], and with
//            attention attn_<l> [1,H,T,P+T] (post-softmax: at a step, the new token's row over every key)
// Keys and values are cached per key/value head (a grouped-query model's cache is heads / kvHeads times smaller than
// its attention's k and v, which the families build repeated to every query head).
import { LensError } from '../errors';
import { familyGraphs } from './builders';
import { A, GraphBuilder } from './graph-builder';
import type { PlanFacts } from './plan';
import type { ModelSource } from './source';

export interface StepGraph {
  facts: PlanFacts;
  onnx: Uint8Array;
  inputNames: string[];
  outputNames: string[];
}

export interface StepGraphOptions {
  /** Expose every layer's attention (attn_<l>); without it the graph is the plain KV-cached decoder (the bench's
   * baseline). */
  attention: boolean;
}

export const pastKey = (l: number) => `past_key_${l}`;
export const pastValue = (l: number) => `past_value_${l}`;
export const presentKey = (l: number) => `present_key_${l}`;
export const presentValue = (l: number) => `present_value_${l}`;

/** Throws unless the model is a causal LM: every layer causal self-attention and an LM head. */
export function checkCausalLm(facts: Pick<PlanFacts, 'attentionKinds' | 'hasLmHead' | 'modelType'>): void {
  if (!facts.hasLmHead || facts.attentionKinds.some((k) => k !== 'causal'))
    throw new LensError(
      'UNSUPPORTED_MODEL',
      `${facts.modelType} is not a causal language model, so it cannot generate text; use a decoder such as gpt2, ` +
        'llama, qwen2 or a GGUF chat model.',
    );
}

export function buildStepGraph(source: ModelSource, options: StepGraphOptions): StepGraph {
  const fam = familyGraphs(source);
  checkCausalLm(fam.facts);
  const g = new GraphBuilder(options.attention ? 'decode_step_attn' : 'decode_step');
  const { heads: H, kvHeads: KV, headDim: D, vocabSize: V, layers: L } = fam.facts;
  const groups = H / KV;
  // Query head h reads kv head floor(h / groups) (HF repeat_kv; llama.ts repeatKv): `pick` takes one copy of each
  // kv head out of the repeated k/v, `spread` repeats the cached heads back.
  const pick =
    groups > 1
      ? g.constI64(
          Array.from({ length: KV }, (_, i) => i * groups),
          [KV],
          'kv_heads',
        )
      : undefined;
  const spread =
    groups > 1
      ? g.constI64(
          Array.from({ length: H }, (_, h) => Math.floor(h / groups)),
          [H],
          'query_heads',
        )
      : undefined;
  const T = ['batch', 'seq'];
  for (const name of fam.embedInputs) g.input(name, 'int64', T);
  const inputNames = [...fam.embedInputs];
  const outputNames = ['logits'];
  let x = fam.embed(g); // [1,T,E]
  for (let l = 0; l < L; l++) {
    const side = fam.side(l);
    const declare = (name: string, last: number | string) => {
      if (g.hasTensor(name)) return name;
      inputNames.push(name);
      return g.input(name, 'float32', ['batch', 1, 'seq', last]);
    };
    const bias = declare(side.bias.name, 'total'); // [1,1,T,P+T]
    const cos = side.cos && declare(side.cos.name, side.cos.dims[3]); // [1,1,T,R]
    const sin = side.sin && declare(side.sin.name, side.sin.dims[3]);
    const pk = g.input(pastKey(l), 'float32', ['batch', KV, 'past', D]); // [1,KV,P,D]
    const pv = g.input(pastValue(l), 'float32', ['batch', KV, 'past', D]);
    inputNames.push(pk, pv);
    const cache = (k: string, v: string): [string, string] => {
      // k, v [1,H,T,D] hold each kv head `groups` times (the family repeats grouped projections): the cache keeps
      // one per kv head and attention reads them spread back to H heads.
      const one = (x: string) => (pick ? g.op('Gather', [x, pick], { axis: A.int(1) }) : x); // [1,KV,T,D]
      const kAll = g.op('Concat', [pk, one(k)], { axis: A.int(2) }); // [1,KV,P+T,D]
      const vAll = g.op('Concat', [pv, one(v)], { axis: A.int(2) });
      g.output(kAll, presentKey(l), 'float32', ['batch', KV, 'total', D]);
      g.output(vAll, presentValue(l), 'float32', ['batch', KV, 'total', D]);
      const all = (x: string) => (spread ? g.op('Gather', [x, spread], { axis: A.int(1) }) : x); // [1,H,P+T,D]
      return [all(kAll), all(vAll)];
    };
    const out = fam.layer(g, l, x, { bias, ...(cos && sin ? { cos, sin } : {}), cache });
    x = out.hidden; // [1,T,E]
    if (options.attention) {
      g.output(out.attn, `attn_${l}`, 'float32', ['batch', H, 'seq', 'total']);
      outputNames.push(`attn_${l}`);
    }
    outputNames.push(presentKey(l), presentValue(l));
  }
  // The head on the last new position only: [1,T,E] → [1,1,E] → logits [1,1,V].
  const last = g.op('Slice', [
    x,
    g.constI64([-1], [1], 'starts'),
    g.constI64([Number.MAX_SAFE_INTEGER], [1], 'ends'),
    g.constI64([1], [1], 'axes'),
  ]);
  const head = fam.head(g, last, 'gathered');
  if (!head.logits) throw new LensError('UNSUPPORTED_MODEL', `${fam.facts.modelType} has no LM head to generate with.`);
  g.output(head.logits, 'logits', 'float32', ['batch', 1, V]);
  return { facts: fam.facts, onnx: g.toBytes(), inputNames, outputNames };
}
