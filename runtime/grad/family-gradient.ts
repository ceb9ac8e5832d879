// The gradient graph of a model family: the family's own fragments (embed, layers, head) assembled for one batch
// size and length, with the token embeddings fed as an input (inputs_embeds: the rows of the embedding table, where
// the family's Gather on input_ids was, so every later step — position embeddings, gemma's √hidden scale, norms —
// stays in the graph; HF's gemma applies that scale before its inputs_embeds, which changes no attribution: gradient
// × input and IG are unchanged, saliency scales every token alike), the explained scalar per row (target [B]), and
// the backward part of backward.ts
// giving d(target)/d(inputs_embeds) [B,S,E] and, on request, every layer's probabilities and their gradients.
// Rows of a batch do not interact, so the gradient of Σ_b target_b is each row's own gradient (Integrated Gradients
// batches its interpolation steps along B).
import { DataType, type ModelMsg, type TensorMsg } from '../formats/onnx-descriptor';
import { encodeModelPlain } from '../formats/onnx-encode';
import { LensError } from '../errors';
import { familyGraphs } from '../models/builders';
import { computeFeeds } from '../models/feeds';
import type { FamilyGraphs, LayerInputs } from '../models/family';
import { A, GraphBuilder } from '../models/graph-builder';
import type { ModelSource } from '../models/source';
import { attnLrpUncovered } from './attnlrp-coverage';
import { addBackward } from './backward';
import { GradGraph } from './grad-graph';

/** What the gradient explains (runtime/analysis/targets.ts): a log-probability or probability of a token at one
 * readout position (LM heads), or the cosine of the mean-pooled last hidden state with a reference (encoders). */
export type GradientMeasure = 'log-prob' | 'prob' | 'cosine' | 'logit';

/** Which backward rules the graph applies: the gradient's, or AttnLRP's (attnlrp-rules.ts). */
export type BackwardRules = 'gradient' | 'attnlrp';

/** Why a model gets no AttnLRP (undefined: it does): imported ONNX, or a model type outside its rules. */
export function attnLrpRefusalFor(modelType: string, family: string): string | undefined {
  return family === 'onnx' ? GRADIENT_REFUSED_ONNX : attnLrpUncovered(modelType);
}

export interface GradientGraphSpec {
  batch: number;
  seq: number;
  measure: GradientMeasure;
  /** Also output attn_<l> [B,H,S,S] and grad_attn_<l> (attention × gradient). */
  attention?: boolean;
  /** Run the last layer on every row even for a token target (the bench's before/after of lastLayerAt). */
  fullLastLayer?: boolean;
  /** Keep denormal floats in the session (the bench's before/after; by default the session flushes them to zero). */
  keepDenormals?: boolean;
  /** Differentiate GELU / SiLU node by node instead of as fused fragments (fused.ts; the bench's before/after). */
  plainRules?: boolean;
  /** Differentiate RMSNorm node by node (the bench's before/after of fused.ts's matchRmsNorm). */
  plainRmsNorm?: boolean;
  /** Attention's Softmax by its own rule (the bench's before/after of fused.ts's matchAttentionSoftmax). */
  plainSoftmax?: boolean;
  /** Keep an attention bias that is zero everywhere (dropZeroBias; the bench's before/after). */
  keepZeroBias?: boolean;
  /** AttnLRP's rules instead of the gradient's (default 'gradient'); measure 'logit' or 'cosine'. */
  rules?: BackwardRules;
}

export interface GradientGraph {
  onnx: Uint8Array;
  spec: GradientGraphSpec;
  /** The graph inputs to feed besides inputs_embeds and the target inputs. */
  inputNames: string[];
  /** The token embedding table [vocab, hidden] (the rows that inputs_embeds replaces). */
  table: { data: Float32Array; rows: number; width: number };
  hidden: number;
  heads: number;
  layers: number;
  vocab: number;
}

export const EMBEDS = 'inputs_embeds';

/** Why an imported ONNX graph gets no gradient methods. */
export const GRADIENT_REFUSED_ONNX =
  'Gradient methods need a model whose graphs this project builds (a Hugging Face folder or a GGUF file); an imported ONNX export cannot be differentiated: load the model’s Hugging Face folder instead, or use an attention or perturbation method.';

/** Forward graph with concrete dims: [B,S] ids and positions, side inputs, target [B], total []. */
function forwardGraph(
  fam: FamilyGraphs,
  spec: GradientGraphSpec,
): { model: ModelMsg; attn: string[]; activations: GraphBuilder['activations'] } {
  const { batch: B, seq: S } = spec;
  const { hidden: E, vocabSize: V, layers: L } = fam.facts;
  const g = new GraphBuilder('gradient');
  for (const name of fam.embedInputs) g.input(name, 'int64', [B, S]);
  let x = fam.embed(g); // [B,S,E]
  const attn: string[] = [];
  // A token target reads one row of the last layer: without attention outputs, that layer runs its queries, its
  // feed-forward and its backward on the readout row alone (keys and values still from every row; see lastLayerAt).
  const oneRow = spec.measure !== 'cosine' && !spec.attention && !spec.fullLastLayer && fam.facts.hasLmHead;
  const readout = oneRow ? g.input('readout', 'int64', [1]) : undefined;
  const select = spec.measure === 'cosine' ? undefined : g.input('select', 'float32', [B, 1, S]); // one-hot readout
  let picked: string | undefined; // [B,1,E]
  for (let l = 0; l < L; l++) {
    const side = fam.side(l);
    const declare = (name: string, dims: (number | string)[]) =>
      g.hasTensor(name)
        ? name
        : g.input(
            name,
            'float32',
            dims.map((d) => (d === 'batch' ? B : d === 'seq' ? S : (d as number))),
          );
    const inputs = {
      bias: declare(side.bias.name, side.bias.dims),
      ...(side.cos && side.sin
        ? { cos: declare(side.cos.name, side.cos.dims), sin: declare(side.sin.name, side.sin.dims) }
        : {}),
    };
    if (readout && l === L - 1) {
      picked = lastLayerAt(g, fam, l, x, inputs, readout, select!);
      break;
    }
    const out = fam.layer(g, l, x, inputs);
    x = out.hidden; // [B,S,E]
    attn.push(out.attn); // [B,H,S,S]
  }
  let target: string; // [B]
  if (spec.measure === 'cosine') {
    const h = fam.head(g, x, 'none').lastHidden; // [B,S,E]
    const pool = g.input('pool', 'float32', [B, 1, S]); // mean-pooling weights
    const p = g.op('MatMul', [pool, h]); // [B,1,E]
    const ref = g.input('reference', 'float32', [1, 1, E]);
    const sum12 = (t: string) => g.op('ReduceSum', [t, g.constI64([1, 2])], { keepdims: A.int(0) }); // [B] or [1]
    const dot = sum12(g.op('Mul', [p, ref])); // [B]
    const norms = g.op('Mul', [
      g.op('Sqrt', [sum12(g.op('Mul', [p, p]))]),
      g.op('Sqrt', [sum12(g.op('Mul', [ref, ref]))]),
    ]);
    target = g.op('Div', [dot, norms]); // [B]
  } else {
    if (!fam.facts.hasLmHead)
      throw new LensError(
        'BAD_INPUT',
        'This model has no language-model head: explain a similarity:TEXT target instead.',
      );
    picked ??= g.op('MatMul', [select!, x]); // [B,1,E]
    const logits = fam.head(g, picked, 'gathered').logits!; // [B,1,V]
    // log p, or the logit itself (AttnLRP explains the logit, LXT's convention)
    const read = spec.measure === 'logit' ? logits : g.op('LogSoftmax', [logits], { axis: A.int(-1) }); // [B,1,V]
    const onehot = g.input('target_onehot', 'float32', [B, 1, V]);
    target = g.op('ReduceSum', [g.op('Mul', [read, onehot]), g.constI64([1, 2])], { keepdims: A.int(0) }); // [B]
    if (spec.measure === 'prob') target = g.op('Exp', [target]);
  }
  g.output(target, 'target', 'float32', [B]);
  const total = g.op('ReduceSum', ['target', g.constI64([0])], { keepdims: A.int(0) }); // []
  g.output(total, 'target_total', 'float32', []);
  void E;
  return { model: g.toModel(), attn, activations: g.activations };
}

/**
 * The last layer at the readout row only: its keys and values come from every row (a first call of the layer, of
 * which only k and v stay: the rest has no consumer and pruneDead drops it), its queries, attention row, residual and
 * feed-forward from the readout row x[:, r] [B,1,E] (select · x; a second call that reads those keys and values through the
 * layer's KV-cache hook, with the bias row and the cos/sin of position r). Returns the layer's output at r [B,1,E].
 */
function lastLayerAt(
  g: GraphBuilder,
  fam: FamilyGraphs,
  l: number,
  x: string,
  inputs: LayerInputs,
  readout: string,
  select: string,
): string {
  const all = fam.layer(g, l, x, inputs); // k, v [B,H,S,D]
  // Side inputs (no gradient) by index; the hidden state by the one-hot MatMul, whose backward is a rule.
  const row = (t: string, axis: number) => g.op('Gather', [t, readout], { axis: A.int(axis) });
  const xr = g.op('MatMul', [select, x]); // [B,1,E]
  const at: LayerInputs = {
    bias: row(inputs.bias, 2), // [B,1,1,S]
    ...(inputs.cos && inputs.sin ? { cos: row(inputs.cos, 2), sin: row(inputs.sin, 2) } : {}), // [B,1,1,R]
    cache: () => [all.k, all.v],
  };
  return fam.layer(g, l, xr, at).hidden; // [B,1,E]
}

/** Drops the nodes no graph output depends on (the last layer's unused rows, see lastLayerAt). */
function pruneDead(model: ModelMsg): void {
  const graph = model.graph!;
  const live = new Set(graph.output!.map((o) => o.name));
  const kept = [];
  for (let n = graph.node!.length - 1; n >= 0; n--) {
    const node = graph.node![n];
    if (!node.output.some((o) => live.has(o))) continue;
    for (const i of node.input) live.add(i);
    kept.push(node);
  }
  graph.node = kept.reverse();
}

/**
 * Drops the attention bias where the runner's feeds make it zero everywhere: every row is fed the same ids with a
 * mask of ones (gradients.ts), so an encoder's padding bias [B,1,S,S] is all 0 and each layer's Add of it to the
 * [B,H,S,S] scores is a pass over the largest tensor of attention for nothing (all-MiniLM-L6-v2's IG: six of them
 * over [33,12,64,64]). Causal and sliding-window biases are not zero and stay. The Adds are bypassed and the input
 * leaves the graph (the runner feeds only the inputs the graph has).
 */
function dropZeroBias(model: ModelMsg, config: ModelSource['config'], S: number): void {
  const graph = model.graph!;
  // One row tells: every row of the runner's feeds is the same.
  const side = computeFeeds(
    { ids: [new Array<number>(S).fill(0)], mask: [new Array<number>(S).fill(1)] },
    config,
  ).layer;
  const outputs = new Set(graph.output!.map((o) => o.name));
  for (const input of [...graph.input!]) {
    const feed = side[input.name];
    if (!feed || feed.type !== 'float32' || !(feed.data as Float32Array).every((v) => v === 0)) continue;
    const readers = graph.node!.filter((n) => n.input.includes(input.name));
    if (!readers.every((n) => n.opType === 'Add' && n.input.length === 2 && !outputs.has(n.output[0]))) continue;
    const bypass = new Map<string, string>();
    for (const add of readers) bypass.set(add.output[0], add.input[0] === input.name ? add.input[1] : add.input[0]);
    // Only where the bias broadcasts into the scores (the sum has the scores' shape).
    const shapes = new GradGraph(model);
    if ([...bypass].some(([sum, other]) => shapes.shape(sum).join() !== shapes.shape(other).join())) continue;
    graph.node = graph.node!.filter((n) => !readers.includes(n));
    for (const n of graph.node) n.input = n.input.map((i) => bypass.get(i) ?? i);
    graph.input = graph.input!.filter((i) => i !== input);
  }
}

/** Replaces the Gather of the token embedding table on input_ids by the graph input inputs_embeds [B,S,E]; the
 * table leaves the graph unless another node (a tied LM head) reads it (all-MiniLM-L6-v2: 47 MB not serialized). */
function feedEmbeddings(model: ModelMsg, B: number, S: number, E: number): { table: TensorMsg } {
  const graph = model.graph!;
  const nodes = graph.node!;
  const at = nodes.findIndex((n) => n.opType === 'Gather' && n.input[1] === 'input_ids');
  if (at < 0) throw new Error('gradient graph: no Gather of the token embeddings on input_ids');
  const [table] = nodes[at].input;
  const out = nodes[at].output[0];
  nodes.splice(at, 1);
  for (const n of nodes) n.input = n.input.map((i) => (i === out ? EMBEDS : i));
  graph.input = graph.input!.filter((i) => i.name !== 'input_ids');
  graph.input.push({
    name: EMBEDS,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [B, S, E].map((d) => ({ dimValue: d })) } } },
  });
  const init = graph.initializer!.find((t) => t.name === table)!;
  if (!nodes.some((n) => n.input.includes(table))) graph.initializer = graph.initializer!.filter((t) => t !== init);
  return { table: init };
}

/** Builds the gradient graph of a model folder's family for one batch size, length and measure. */
export function buildGradientGraph(source: ModelSource, spec: GradientGraphSpec): GradientGraph {
  const fam = familyGraphs(source);
  const { hidden: E, heads: H, layers: L, vocabSize: V } = fam.facts;
  const rules = spec.rules ?? 'gradient';
  if (rules === 'attnlrp') {
    const refusal = attnLrpRefusalFor(fam.facts.modelType, fam.facts.family);
    if (refusal) throw new LensError('UNSUPPORTED_MODEL', refusal);
    if (spec.measure !== 'logit' && spec.measure !== 'cosine')
      throw new RangeError(`AttnLRP explains a logit or a cosine, not ${spec.measure}`);
  } else if (spec.measure === 'logit') throw new RangeError('the logit measure is AttnLRP’s');
  const { model, attn, activations } = forwardGraph(fam, spec);
  pruneDead(model);
  if (!spec.keepZeroBias) dropZeroBias(model, source.config, spec.seq);
  const { table: init } = feedEmbeddings(model, spec.batch, spec.seq, E);
  const raw = init.rawData!;
  const data = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4); // [V,E]
  addBackward(model, {
    target: 'target_total',
    grads: [
      { of: EMBEDS, as: 'grad_embeds' },
      ...(spec.attention ? attn.map((a, l) => ({ of: a, as: `grad_attn_${l}` })) : []),
    ],
    outputs: spec.attention ? attn.map((a, l) => ({ of: a, as: `attn_${l}` })) : [],
    fuse: !spec.plainRules,
    fuseRmsNorm: !spec.plainRmsNorm,
    fuseSoftmax: !spec.plainSoftmax,
    rules,
    activations,
  });
  void H;
  const inputNames = model.graph!.input!.map((i) => i.name);
  return {
    onnx: encodeModelPlain(model),
    spec,
    inputNames,
    table: { data, rows: data.length / E, width: E },
    hidden: E,
    heads: H,
    layers: L,
    vocab: V,
  };
}
