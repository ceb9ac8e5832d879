// The shape of a family builder, and the one place that turns a family into graphs: the staged plan of plan.ts
// (one graph per layer, the first with the embeddings and the last with the final norm; a head) and the single full graph, built from the same fragments so they agree.
import type { ModelConfig } from '../formats/config-normalise';
import {
  addSummaryOutputs,
  KEY_MASK_INPUT,
  outputSummaries,
  summaryNames,
  type BlockedRequest,
} from './attention-summaries';
import { A, GraphBuilder, type Dim } from './graph-builder';
import { computeFeeds, layerSide } from './feeds';
import { LensError } from '../errors';
import {
  layerOutputs,
  type LayerOutputNames,
  type Batch,
  type FeedOptions,
  type FullGraphOptions,
  type GraphPlan,
  type LayerExtras,
  type PlanFacts,
  type Stage,
  VALUE_KEEP_INPUT,
} from './plan';
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
  /** The output projection as [H·D, E] ([in, out]: head h owns rows h·D..(h+1)·D); adds its nodes when called. */
  outWeight: () => string;
  /** Context mixing (ALTI): the attention block's residual input x [B,S,E], the sum x + attention output (with its
   * bias) before any norm [B,S,E], and a post-LN block's LayerNorm (γ, β tensors [E], ε). Absent: the family's block
   * cannot be decomposed per token (a norm on the attention output before the residual sum). */
  mixing?: { resid: string; sum: string; postNorm?: { scale: string; bias: string; eps: number } };
}

/** The inputs a layer fragment reads besides the hidden state. */
export interface LayerInputs {
  /** [B,1,S,S]; empty when `blocked`, whose mask is built in the graph from positions. */
  bias: string;
  /** [B,1,S,R] with R the rotated dimensions (rope families only). */
  cos?: string;
  sin?: string;
  /** A KV cache (decode-step.ts): given this layer's new k and v [B,H,T,D] (after RoPE), returns the keys and
   * values attention reads, [B,H,P+T,D] (the past ones before them). Absent: attention reads k and v as they are.
   * The mixing variant uses the same hook to zero chosen value vectors (value zeroing). */
  cache?: (k: string, v: string) => [string, string];
  /** Long inputs: attention in query-row blocks with its summaries (a family that can: llama.ts). */
  blocked?: BlockedRequest;
}

/** A per-run graph input of a layer, by name and shape. */
export interface SideInput {
  name: string;
  dims: Dim[];
}

export interface LayerSideInputs {
  bias: SideInput;
  cos?: SideInput;
  sin?: SideInput;
}

/** The side inputs of each layer as feeds.ts computes them: the attention bias of the layer's kind (full or
 * sliding window) and the cos/sin tables of its RoPE. */
export function sideInputs(config: ModelConfig): (l: number) => LayerSideInputs {
  return (l) => {
    const side = layerSide(config, l);
    const out: LayerSideInputs = { bias: { name: side.bias, dims: ['batch', 1, 'seq', 'seq'] } };
    if (side.cos && side.sin) {
      const spec = config.layerTypes[l] === 'sliding' && config.ropeLocal ? config.ropeLocal : config.rope!;
      out.cos = { name: side.cos, dims: ['batch', 1, 'seq', spec.dim] };
      out.sin = { name: side.sin, dims: ['batch', 1, 'seq', spec.dim] };
    }
    return out;
  };
}

export interface FamilyGraphs {
  facts: PlanFacts;
  /** Embed-stage inputs (int64 [B,S]) in order: input_ids, position_ids[, token_type_ids]. */
  embedInputs: string[];
  /** The per-run inputs (attention bias, RoPE tables) layer l reads: sideInputs(config). */
  side(l: number): LayerSideInputs;
  /** The family computes attention in query-row blocks when asked (LayerInputs.blocked), its mask built in the
   * graph from positions; the others compute the map whole from the fed bias. */
  blockedAttention?: boolean;
  /** Adds the embeddings; inputs are already declared under their names. Returns [B,S,E]. */
  embed(g: GraphBuilder): string;
  /** Adds layer `l` on `hidden` [B,S,E]. */
  layer(g: GraphBuilder, l: number, hidden: string, inputs: LayerInputs): LayerTensors;
  /** Adds the final norm and the LM head. `where`: 'all' positions (the logits variant, the full graph), one
   * 'gathered' position per row (the gathered head), or 'none' (the default head stage: final norm only); a family
   * may leave a costly head out of 'all'. */
  head(g: GraphBuilder, hidden: string, where: 'all' | 'gathered' | 'none'): { lastHidden: string; logits?: string };
}

const BS = ['batch', 'seq'];

function declareEmbedInputs(g: GraphBuilder, fam: FamilyGraphs): void {
  for (const name of fam.embedInputs) g.input(name, 'int64', BS);
}

/** Declares layer l's side inputs in `g` (once per graph) and returns their names. With `blocked` (and a family
 * that can), attention runs in query-row blocks and the mask comes from positions and key_mask [B,S], not a bias. */
function declareLayerInputs(g: GraphBuilder, fam: FamilyGraphs, l: number, blocked = false): LayerInputs {
  const side = fam.side(l);
  const declare = (i: SideInput) => (g.hasTensor(i.name) ? i.name : g.input(i.name, 'float32', i.dims));
  let inputs: LayerInputs;
  if (blocked && fam.blockedAttention) {
    const keyMask = g.hasTensor(KEY_MASK_INPUT) ? KEY_MASK_INPUT : g.input(KEY_MASK_INPUT, 'float32', BS);
    const causal = fam.facts.attentionKinds[l] === 'causal';
    const window = fam.facts.slidingWindows?.[l] ?? null;
    inputs = { bias: '', blocked: { mask: { keyMask, causal, window } } };
  } else inputs = { bias: declare(side.bias) };
  if (side.cos && side.sin) {
    inputs.cos = declare(side.cos);
    inputs.sin = declare(side.sin);
  }
  return inputs;
}

/** The side input names of some layers, each once, in the order the layers first read them. */
function sideInputNames(fam: FamilyGraphs, layers: number[]): string[] {
  const names: string[] = [];
  for (const l of layers) {
    const s = fam.side(l);
    for (const i of [s.bias, s.cos, s.sin]) if (i && !names.includes(i.name)) names.push(i.name);
  }
  return names;
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

/** value_gram [B,S,H,H] of one layer: the Gram matrix over heads of f_h(x_j) = v_h,j · W_O,h (plan.ts). */
function valueGram(g: GraphBuilder, out: LayerTensors, H: number, D: number, E: number): string {
  const wo = g.op('Reshape', [out.outWeight(), g.constI64([H, D, E], [3], 'shape')]); // [H,D,E]
  const f = g.op('MatMul', [out.v, wo]); // [B,H,S,D]·[H,D,E] → [B,H,S,E]
  const fs = g.op('Transpose', [f], { perm: A.ints([0, 2, 1, 3]) }); // [B,S,H,E]
  const ft = g.op('Transpose', [f], { perm: A.ints([0, 2, 3, 1]) }); // [B,S,E,H]
  return g.op('MatMul', [fs, ft]); // [B,S,H,H]
}

/** v [B,H,S,D] with token j's vectors multiplied by keep[b, l, j]. */
function zeroValues(g: GraphBuilder, v: string, keep: string, l: number): string {
  const row = g.op('Gather', [keep, g.constI64([l], [], `keep_layer_${l}`)], { axis: A.int(1) }); // [B,S]
  const k4 = g.op('Unsqueeze', [row, g.constI64([1, 3], [2], `keep_axes_${l}`)]); // [B,1,S,1]
  return g.op('Mul', [v, k4]); // [B,H,S,D]
}

/** The mixing outputs of one layer (plan.ts): f_h(x_j) = v_h,j · W_O,h [B,S,H,E], the residual input and the sum
 * after attention [B,S,E], and for a post-LN block its LayerNorm as [3,E]: γ, β and ε in every column. */
function outputMixing(g: GraphBuilder, out: LayerTensors, n: LayerOutputNames, H: number, D: number, E: number): void {
  if (!out.mixing)
    throw new LensError(
      'INFERENCE_FAILED',
      'Context mixing (ALTI, value zeroing) reads an attention block whose output goes straight into the residual sum; this model normalises it first (Gemma 2 and 3, OLMo 2), which the methods do not model: use an attention, perturbation or gradient method.',
    );
  const wo = g.op('Reshape', [out.outWeight(), g.constI64([H, D, E], [3], 'mix_wo_shape')]); // [H,D,E]
  const f = g.op('MatMul', [out.v, wo]); // [B,H,S,D]·[H,D,E] → [B,H,S,E]
  g.output(g.op('Transpose', [f], { perm: A.ints([0, 2, 1, 3]) }), n.mixVectors, 'float32', ['batch', 'seq', H, E]);
  g.output(out.mixing.resid, n.mixResid, 'float32', ['batch', 'seq', E]);
  g.output(out.mixing.sum, n.mixSum, 'float32', ['batch', 'seq', E]);
  const pn = out.mixing.postNorm;
  if (pn) {
    const row = (t: string) => g.op('Unsqueeze', [t, g.constI64([0], [1], 'mix_axis0')]); // [1,E]
    const eps = g.op('Expand', [g.constF([pn.eps], [1, 1], 'mix_eps'), g.constI64([1, E], [2], 'mix_eps_shape')]); // [1,E]
    g.output(g.op('Concat', [row(pn.scale), row(pn.bias), eps], { axis: A.int(0) }), n.mixNorm, 'float32', [3, E]);
  }
}

/** Width below which a model's layers after the first share one stage. Each stage call and layer message costs a
 * fixed ~0.5 ms (session run set-up, waking the thread pool and the calling thread); a 384-wide layer computes in
 * ~3.5 ms at 128 tokens (all-MiniLM-L6-v2), so per-layer stages cost it 15-25 % (bench), while a 768-wide layer
 * (11 ms) loses ~4 %. A narrow model's whole run takes a few tens of ms, shorter than the panel can show layer by
 * layer, so it streams layer 0 (early first paint) and then the rest together. */
export const GROUP_BELOW_HIDDEN = 512;

/** Layers per stage after layer 0 for a wider model. One stage per layer cost SmolLM2-135M (30 × 576) 1.26–1.32× raw
 * onnxruntime at 128 tokens and 2.2× at 512 (its 30 calls, and 30 sets of outputs crossing into JS one by one);
 * four layers a stage 1.02–1.11× and 1.32–1.39× (`node --expose-gc dist/bench.js --only SmolLM2`, interleaved A/B on an
 * idle machine), eight no better than four. The panel still streams: layer 0 alone, then four at a time. */
export const WIDE_LAYERS_PER_STAGE = 4;

/** The layers of each layer stage, in order: [[0], [1 .. L-1]] for a narrow model, [[0], [1..4], [5..8], ...] for a
 * wider one, one per stage for two layers or fewer. */
export function layerGroups(layers: number, hidden: number): number[][] {
  if (layers <= 2) return Array.from({ length: layers }, (_, l) => [l]);
  const per = hidden < GROUP_BELOW_HIDDEN ? layers - 1 : WIDE_LAYERS_PER_STAGE;
  const groups: number[][] = [[0]];
  for (let l = 1; l < layers; l += per) groups.push(Array.from({ length: Math.min(per, layers - l) }, (_, i) => l + i));
  return groups;
}

export interface PlanOptions {
  /** The layers of each layer stage, in order (default: layerGroups); the bench compares groupings with it. */
  groups?: number[][];
}

/** The staged plan of plan.ts. */
export function assemblePlan(source: ModelSource, fam: FamilyGraphs, options: PlanOptions = {}): GraphPlan {
  const { hidden: E, heads: H, headDim: D, vocabSize: V, layers: L } = fam.facts;
  const stages: Stage[] = [];

  // The embeddings run in layer 0's graph and the final norm in the last layer's (its last_hidden output), and a
  // small model's layers after the first share one stage (layerGroups): a run makes one call per stage.
  // The layer graphs that run by default expose only hidden_out and attn: a graph output cannot be fused away, and
  // exposing q/k/v as well cost 30-60 % at 128 tokens (bench). Variants with q/k/v or the value Gram matrices (norm-
  // based attribution) are built only when asked for.
  const groupStage = (layers: number[], extras: LayerExtras): Uint8Array => {
    const suffix = `${extras.vectors ? '_vectors' : ''}${extras.norms ? '_norms' : ''}${extras.mixing ? '_mixing' : ''}${extras.summaries ? `_summaries${extras.blocked ? '_blocked' : ''}` : ''}`;
    const g = new GraphBuilder(`layers_${layers[0]}_${layers[layers.length - 1]}${suffix}`);
    let x: string;
    if (layers[0] === 0) {
      declareEmbedInputs(g, fam);
      x = fam.embed(g); // [B,S,E]
    } else x = g.input('hidden', 'float32', [...BS, E]);
    const names = layerOutputs({ layers });
    const outs: LayerTensors[] = [];
    const requests: (BlockedRequest | undefined)[] = [];
    // The mixing variant reads value_keep [B,L,S]: v of token j in layer l is multiplied by value_keep[b,l,j]
    // (1 keeps it, 0 zeroes it: value zeroing runs many rows, each zeroing one token in one layer).
    const keep = extras.mixing ? g.input(VALUE_KEEP_INPUT, 'float32', ['batch', L, 'seq']) : undefined;
    for (const l of layers) {
      const inputs = declareLayerInputs(g, fam, l, extras.summaries === true && extras.blocked === true);
      if (keep) inputs.cache = (k, v) => [k, zeroValues(g, v, keep, l)];
      requests.push(inputs.blocked);
      const out = fam.layer(g, l, x, inputs);
      outs.push(out);
      x = out.hidden; // [B,S,E]
    }
    g.output(x, 'hidden_out', 'float32', [...BS, E]);
    outs.forEach((out, i) => {
      const n = names[i];
      if (extras.summaries) {
        // Long inputs: q, k and the summaries leave the graph, the map does not.
        const names = summaryNames(n.attn.slice('attn'.length));
        const blocked = requests[i]?.result;
        if (blocked) outputSummaries(g, blocked, H, names);
        else addSummaryOutputs(g, out.attn, H, names);
        g.output(out.q, n.q, 'float32', ['batch', H, 'seq', D]);
        // k once per key/value head (the query heads of a group read the same keys): a third of SmolLM2's to fetch.
        const KV = fam.facts.kvHeads;
        const first = Array.from({ length: KV }, (_, i) => i * (H / KV));
        const k = KV < H ? g.op('Gather', [out.k, g.constI64(first)], { axis: A.int(1) }) : out.k; // [B,KV,S,D]
        g.output(k, n.k, 'float32', ['batch', KV, 'seq', D]);
        return;
      }
      g.output(out.attn, n.attn, 'float32', ['batch', H, 'seq', 'seq']);
      if (extras.vectors)
        for (const k of ['q', 'k', 'v'] as const) g.output(out[k], n[k], 'float32', ['batch', H, 'seq', D]);
      if (extras.norms) g.output(valueGram(g, out, H, D, E), n.valueGram, 'float32', ['batch', 'seq', H, H]);
      if (extras.mixing) outputMixing(g, out, n, H, D, E);
    });
    if (layers[layers.length - 1] === L - 1)
      g.output(fam.head(g, x, 'none').lastHidden, 'last_hidden', 'float32', [...BS, E]);
    return g.toBytes();
  };
  for (const layers of options.groups ?? layerGroups(L, E)) {
    const side = sideInputNames(fam, layers);
    const stage: Stage = {
      role: 'layer',
      layer: layers[0],
      // Built when read, not kept: the engine creates each stage's session from its bytes and drops them before
      // the next stage is built, so loading never holds every layer's serialized weights beside the sessions'
      // (for a half-precision checkpoint that was two float32 copies of the weights at once).
      get onnx() {
        return groupStage(layers, {});
      },
      inputNames: layers[0] === 0 ? [...fam.embedInputs, ...side] : ['hidden', ...side],
      outputNames: [
        'hidden_out',
        ...layerOutputs({ layers }).map((n) => n.attn),
        ...(layers[layers.length - 1] === L - 1 ? ['last_hidden'] : []),
      ],
      vectors: () => groupStage(layers, { vectors: true }),
      variant: (extras) => groupStage(layers, extras),
      mapsReachHidden: true, // every family layer adds its attention's context to the residual stream
    };
    if (layers.length > 1) stage.layers = layers;
    stages.push(stage);
  }

  // The default head stage stops at the final norm: every run fetches last_hidden only, and onnxruntime would
  // compute an LM head's [B,S,V] logits even unfetched (~45 % of GPT-2's time at 128 tokens).
  const headGraph = (withLogits: boolean): { g: GraphBuilder; logits: boolean } => {
    const gh = new GraphBuilder(withLogits ? 'head_logits' : 'head');
    const h = gh.input('hidden', 'float32', [...BS, E]);
    const head = fam.head(gh, h, withLogits ? 'all' : 'none');
    gh.output(head.lastHidden, 'last_hidden', 'float32', [...BS, E]);
    if (head.logits) gh.output(head.logits, 'logits', 'float32', [...BS, V]);
    return { g: gh, logits: head.logits !== undefined };
  };
  const headStage = stage(headGraph(false).g, 'head', ['hidden'], ['last_hidden']);
  if (fam.facts.hasLmHead) headStage.withLogits = () => headGraph(true).g.toBytes();
  headStage.gathered = () => gatheredHead(fam);
  stages.push(headStage);

  const config = source.config;
  return {
    facts: fam.facts,
    stages,
    feeds: (batch: Batch, options?: FeedOptions) => computeFeeds(batch, config, options),
  };
}

/** The head on one position per row: hidden [B,S,E], select int64 [B] → hidden_at [B,1,E], logits_at [B,1,V]. */
function gatheredHead(fam: FamilyGraphs): Uint8Array {
  const { hidden: E, vocabSize: V } = fam.facts;
  const g = new GraphBuilder('head_gathered');
  const h = g.input('hidden', 'float32', [...BS, E]);
  const select = g.input('select', 'int64', ['batch']);
  const index = g.op('Unsqueeze', [select, g.constI64([1], [1], 'axes')]); // [B,1]
  const picked = g.op('GatherND', [h, index], { batch_dims: A.int(1) }); // [B,E]
  const x = g.op('Unsqueeze', [picked, g.constI64([1], [1], 'axes')]); // [B,1,E]
  const head = fam.head(g, x, 'gathered');
  g.output(head.lastHidden, 'hidden_at', 'float32', ['batch', 1, E]);
  if (head.logits) g.output(head.logits, 'logits_at', 'float32', ['batch', 1, V]);
  return g.toBytes();
}

/** Every layer in one graph; inputs are the union of the stage inputs, so plan.feeds() feeds it. */
export function assembleFull(
  fam: FamilyGraphs,
  options: FullGraphOptions,
): { onnx: Uint8Array; inputNames: string[]; outputNames: string[] } {
  const { hidden: E, heads: H, vocabSize: V, layers: L } = fam.facts;
  const g = new GraphBuilder('full');
  declareEmbedInputs(g, fam);
  let x = fam.embed(g);
  const attn: string[] = [];
  for (let l = 0; l < L; l++) {
    const out = fam.layer(g, l, x, declareLayerInputs(g, fam, l));
    x = out.hidden;
    attn.push(out.attn);
  }
  const head = fam.head(g, x, options.logits === false ? 'none' : 'all');
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
  const inputNames = [
    ...fam.embedInputs,
    ...sideInputNames(
      fam,
      Array.from({ length: L }, (_, l) => l),
    ),
  ];
  return { onnx: g.toBytes(), inputNames, outputNames };
}
