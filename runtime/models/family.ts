// The shape of a family builder, and the one place that turns a family into graphs: the staged plan of plan.ts
// (embed, one graph per layer, head) and the single full graph, built from the same fragments so they agree.
import { GraphBuilder } from './graph-builder';
import { computeFeeds } from './feeds';
import type { Batch, FullGraphOptions, GraphPlan, PlanFacts, Stage } from './plan';
import type { ModelSource } from './source';

/** Tensor names a layer fragment produces inside a graph. */
export interface LayerTensors {
  /** [B,S,E] */
  hidden: string;
  /** [B,H,S,S] post-softmax. */
  attn: string;
  /** [B,H,S,D] each; q and k after RoPE, unscaled; every query head. */
  q: string;
  k: string;
  v: string;
}

/** The inputs a layer fragment reads besides the hidden state. */
export interface LayerInputs {
  /** [B,1,S,S] */
  bias: string;
  /** [B,1,S,D] (rope families only). */
  cos?: string;
  sin?: string;
}

export interface FamilyGraphs {
  facts: PlanFacts;
  /** Embed-stage inputs (int64 [B,S]) in order: input_ids, position_ids[, token_type_ids]. */
  embedInputs: string[];
  /** Layers take rope_cos/rope_sin. */
  usesRope: boolean;
  /** Adds the embeddings; inputs are already declared under their names. Returns [B,S,E]. */
  embed(g: GraphBuilder): string;
  /** Adds layer `l` on `hidden` [B,S,E]. */
  layer(g: GraphBuilder, l: number, hidden: string, inputs: LayerInputs): LayerTensors;
  /** Adds the final norm and the LM head. */
  head(g: GraphBuilder, hidden: string): { lastHidden: string; logits?: string };
}

const BS = ['batch', 'seq'];

function declareEmbedInputs(g: GraphBuilder, fam: FamilyGraphs): void {
  for (const name of fam.embedInputs) g.input(name, 'int64', BS);
}

function declareLayerInputs(g: GraphBuilder, fam: FamilyGraphs): LayerInputs {
  const bias = g.input('attn_bias', 'float32', ['batch', 1, 'seq', 'seq']);
  if (!fam.usesRope) return { bias };
  const D = fam.facts.headDim;
  return {
    bias,
    cos: g.input('rope_cos', 'float32', ['batch', 1, 'seq', D]),
    sin: g.input('rope_sin', 'float32', ['batch', 1, 'seq', D]),
  };
}

function stage(
  g: GraphBuilder,
  role: Stage['role'],
  inputNames: string[],
  outputNames: string[],
  layer?: number,
): Stage {
  const s: Stage = { role, onnx: g.toBytes(), inputNames, outputNames };
  if (layer !== undefined) s.layer = layer;
  return s;
}

/** The staged plan of plan.ts. */
export function assemblePlan(source: ModelSource, fam: FamilyGraphs): GraphPlan {
  const { hidden: E, heads: H, headDim: D, vocabSize: V, layers: L } = fam.facts;
  const stages: Stage[] = [];

  const ge = new GraphBuilder('embed');
  declareEmbedInputs(ge, fam);
  ge.output(fam.embed(ge), 'hidden', 'float32', [...BS, E]);
  stages.push(stage(ge, 'embed', [...fam.embedInputs], ['hidden']));

  // The layer graphs that run by default expose only hidden_out and attn: a graph output cannot be fused away, and
  // exposing q/k/v as well cost 30-60 % at 128 tokens (bench). The variant with q/k/v is built only when asked for.
  const layerStage = (l: number, withVectors: boolean): Uint8Array => {
    const g = new GraphBuilder(withVectors ? `layer_${l}_vectors` : `layer_${l}`);
    const x = g.input('hidden', 'float32', [...BS, E]);
    const inputs = declareLayerInputs(g, fam);
    const out = fam.layer(g, l, x, inputs);
    g.output(out.hidden, 'hidden_out', 'float32', [...BS, E]);
    g.output(out.attn, 'attn', 'float32', ['batch', H, 'seq', 'seq']);
    if (withVectors) for (const n of ['q', 'k', 'v'] as const) g.output(out[n], n, 'float32', ['batch', H, 'seq', D]);
    return g.toBytes();
  };
  const layerInputs = ['hidden', 'attn_bias', ...(fam.usesRope ? ['rope_cos', 'rope_sin'] : [])];
  for (let l = 0; l < L; l++) {
    stages.push({
      role: 'layer',
      layer: l,
      onnx: layerStage(l, false),
      inputNames: layerInputs,
      outputNames: ['hidden_out', 'attn'],
      vectors: () => layerStage(l, true),
    });
  }

  const gh = new GraphBuilder('head');
  const h = gh.input('hidden', 'float32', [...BS, E]);
  const head = fam.head(gh, h);
  gh.output(head.lastHidden, 'last_hidden', 'float32', [...BS, E]);
  const headOutputs = ['last_hidden'];
  if (head.logits) {
    gh.output(head.logits, 'logits', 'float32', [...BS, V]);
    headOutputs.push('logits');
  }
  stages.push(stage(gh, 'head', ['hidden'], headOutputs));

  const config = source.config;
  return { facts: fam.facts, stages, feeds: (batch: Batch) => computeFeeds(batch, config) };
}

/** Every layer in one graph; inputs are the union of the stage inputs, so plan.feeds() feeds it. */
export function assembleFull(
  fam: FamilyGraphs,
  options: FullGraphOptions,
): { onnx: Uint8Array; inputNames: string[]; outputNames: string[] } {
  const { hidden: E, heads: H, vocabSize: V, layers: L } = fam.facts;
  const g = new GraphBuilder('full');
  declareEmbedInputs(g, fam);
  const inputs = declareLayerInputs(g, fam);
  let x = fam.embed(g);
  const attn: string[] = [];
  for (let l = 0; l < L; l++) {
    const out = fam.layer(g, l, x, inputs);
    x = out.hidden;
    attn.push(out.attn);
  }
  const head = fam.head(g, x);
  const outputNames = ['last_hidden'];
  g.output(head.lastHidden, 'last_hidden', 'float32', [...BS, E]);
  if (head.logits) {
    g.output(head.logits, 'logits', 'float32', [...BS, V]);
    outputNames.push('logits');
  }
  if (options.attentionOutputs) {
    attn.forEach((a, l) => g.output(a, `attn_${l}`, 'float32', ['batch', H, 'seq', 'seq']));
    for (let l = 0; l < L; l++) outputNames.push(`attn_${l}`);
  }
  const inputNames = [...fam.embedInputs, 'attn_bias', ...(fam.usesRope ? ['rope_cos', 'rope_sin'] : [])];
  return { onnx: g.toBytes(), inputNames, outputNames };
}
