// Finds the attention probabilities in an imported ONNX graph: every Softmax whose output (possibly through
// Dropout, Cast, Where, Reshape...) is the left operand of the MatMul with the values V, and whose input comes
// (through scaling, masks and biases) from a MatMul of two computed tensors (Q·Kᵀ). They are ordered into layers by
// their topological position. A graph that computes attention inside a fused operator (com.microsoft Attention,
// MultiHeadAttention, GroupQueryAttention..., or ONNX's own Attention) or that has none of the pattern gets a
// FUSED_ATTENTION error that names what was found and how to export the model without fusion.
import { LensError } from '../errors';
import type { GraphMsg, NodeMsg } from '../formats/onnx-schema';
import type { GraphIndex } from './graph-index';

export interface AttentionTap {
  /** Index of the Softmax node. */
  node: number;
  /** The Softmax output: [B,H,Q,K] or [B·H,Q,K]. */
  tensor: string;
}

/** Operators that compute attention internally and never expose the probabilities. */
const FUSED = new Set([
  'Attention',
  'MultiHeadAttention',
  'GroupQueryAttention',
  'PackedAttention',
  'PackedMultiHeadAttention',
  'DecoderAttention',
  'DecoderMaskedMultiHeadAttention',
  'DecoderMaskedSelfAttention',
  'LongformerAttention',
  'QAttention',
  'QOrderedAttention',
  'SparseAttention',
  'PagedAttention',
]);

/** Matrix products: the operand positions of A and B. */
const MATMULS: Record<string, [number, number]> = {
  MatMul: [0, 1],
  FusedMatMul: [0, 1],
  MatMulInteger: [0, 1],
  QLinearMatMul: [0, 3],
  Einsum: [0, 1],
};

/** Ops the probabilities may pass through on their way to the MatMul with V (data operand positions). */
const FORWARD: Record<string, number[]> = {
  Dropout: [0],
  Cast: [0],
  Identity: [0],
  Where: [1, 2],
  Reshape: [0],
  Squeeze: [0],
  Unsqueeze: [0],
  Mul: [0, 1],
  Div: [0],
  QuantizeLinear: [0],
  DequantizeLinear: [0],
  Expand: [0],
};

/** Ops the scores may pass through between Q·Kᵀ and the Softmax (inputs followed backwards). */
const BACKWARD: Record<string, number[]> = {
  Add: [0, 1],
  Sub: [0, 1],
  Mul: [0, 1],
  Div: [0],
  Where: [1, 2],
  Cast: [0],
  Identity: [0],
  Reshape: [0],
  Squeeze: [0],
  Unsqueeze: [0],
  Tanh: [0],
  Clip: [0],
  Max: [0, 1],
  Min: [0, 1],
  Expand: [0],
  DequantizeLinear: [0],
};

const MAX_FORWARD = 6;
const MAX_BACKWARD = 10;

const isDefaultDomain = (n: NodeMsg) => !n.domain || n.domain === 'ai.onnx';

function howToExport(): string {
  return (
    'Export it without attention fusion (e.g. `optimum-cli export onnx --model <id> <dir>` without --optimize, ' +
    'and no onnxruntime.transformers optimizer pass), or open the Hugging Face folder (config.json + ' +
    'model.safetensors) instead.'
  );
}

/** Throws FUSED_ATTENTION when the graph computes attention in a fused operator. */
export function checkNotFused(index: GraphIndex, label: string): void {
  const found = new Map<string, number>();
  for (const n of index.nodes) {
    if (!FUSED.has(n.opType)) continue;
    const domain = n.domain || 'ai.onnx';
    if (domain !== 'com.microsoft' && domain !== 'ai.onnx') continue;
    const key = `${domain === 'ai.onnx' ? '' : domain + '.'}${n.opType}`;
    found.set(key, (found.get(key) ?? 0) + 1);
  }
  if (found.size === 0) return;
  const list = [...found].map(([op, count]) => `${op} (${count} node${count === 1 ? '' : 's'})`).join(', ');
  throw new LensError(
    'FUSED_ATTENTION',
    `${label} computes attention inside the fused operator ${list}, which never exposes the attention probabilities. ${howToExport()}`,
  );
}

/** Follows `tensor` forward through pass-through ops to the A operand of a MatMul whose B is computed (V). */
function feedsValueMatMul(index: GraphIndex, tensor: string): boolean {
  const seen = new Set<string>([tensor]);
  let frontier = [tensor];
  for (let depth = 0; depth <= MAX_FORWARD && frontier.length > 0; depth++) {
    const next: string[] = [];
    for (const t of frontier) {
      for (const c of index.consumers.get(t) ?? []) {
        const n = index.nodes[c];
        const ins = n.input ?? [];
        const mm = MATMULS[n.opType];
        if (mm && ins[mm[0]] === t && ins[mm[1]] && !index.constants.has(ins[mm[1]])) return true;
        const through = isDefaultDomain(n) ? FORWARD[n.opType] : undefined;
        if (!through || !through.some((p) => ins[p] === t)) continue;
        for (const o of n.output ?? []) {
          if (o && !seen.has(o)) {
            seen.add(o);
            next.push(o);
          }
        }
      }
    }
    frontier = next;
  }
  return false;
}

/** Follows `tensor` backward through score ops to a MatMul of two computed tensors (Q·Kᵀ). */
function comesFromScores(index: GraphIndex, tensor: string): boolean {
  const seen = new Set<string>([tensor]);
  let frontier = [tensor];
  for (let depth = 0; depth <= MAX_BACKWARD && frontier.length > 0; depth++) {
    const next: string[] = [];
    for (const t of frontier) {
      const p = index.producer.get(t);
      if (p === undefined) continue;
      const n = index.nodes[p];
      const ins = n.input ?? [];
      const mm = MATMULS[n.opType];
      if (mm && ins[mm[0]] && ins[mm[1]] && !index.constants.has(ins[mm[0]]) && !index.constants.has(ins[mm[1]]))
        return true;
      const through = isDefaultDomain(n) ? BACKWARD[n.opType] : undefined;
      for (const pos of through ?? []) {
        const x = ins[pos];
        if (x && !index.constants.has(x) && !seen.has(x)) {
          seen.add(x);
          next.push(x);
        }
      }
    }
    frontier = next;
  }
  return false;
}

/** The attention Softmax nodes of a graph, in layer order. Throws FUSED_ATTENTION when there are none. */
export function findAttention(index: GraphIndex, label: string): AttentionTap[] {
  checkNotFused(index, label);
  const taps: AttentionTap[] = [];
  for (const i of index.order) {
    const n = index.nodes[i];
    if (n.opType !== 'Softmax' || !isDefaultDomain(n)) continue;
    const out = n.output?.[0];
    const x = n.input?.[0];
    if (!out || !x) continue;
    if (feedsValueMatMul(index, out) && comesFromScores(index, x)) taps.push({ node: i, tensor: out });
  }
  if (taps.length > 0) return taps;
  throw noAttention(index.graph, label);
}

function countSoftmax(g: GraphMsg, depth = 0): number {
  if (depth > 8) return 0;
  let count = 0;
  for (const n of g.node ?? []) {
    if (n.opType === 'Softmax') count++;
    for (const a of n.attribute ?? []) {
      const attr = a as { g?: GraphMsg | null; graphs?: GraphMsg[] };
      if (attr.g?.node) count += countSoftmax(attr.g, depth + 1);
      for (const sub of attr.graphs ?? []) if (sub?.node) count += countSoftmax(sub, depth + 1);
    }
  }
  return count;
}

function noAttention(graph: GraphMsg, label: string): LensError {
  const top = (graph.node ?? []).filter((n) => n.opType === 'Softmax').length;
  const inSubgraphs = countSoftmax(graph) - top;
  if (top === 0 && inSubgraphs > 0) {
    return new LensError(
      'FUSED_ATTENTION',
      `${label} keeps its layers inside If/Loop subgraphs (a merged decoder with a cache branch), whose attention ` +
        'cannot be exposed. Use decoder_model.onnx, or export without the cache (`optimum-cli export onnx --task ' +
        'text-generation` rather than text-generation-with-past), or open the Hugging Face folder instead.',
    );
  }
  const custom = [
    ...new Set(
      (graph.node ?? [])
        .filter((n) => !isDefaultDomain(n))
        .map((n) => `${n.domain}.${n.opType}`)
        .slice(0, 50),
    ),
  ].slice(0, 5);
  const found =
    top > 0
      ? `its ${top} Softmax node${top === 1 ? ' does' : 's do'} not feed a MatMul with the values`
      : 'it has no Softmax';
  const hint = custom.length > 0 ? ` Non-standard operators that may hide it: ${custom.join(', ')}.` : '';
  return new LensError(
    'FUSED_ATTENTION',
    `Found no attention in ${label}: ${found} (the pattern softmax(Q·Kᵀ)·V).${hint} ${howToExport()}`,
  );
}
