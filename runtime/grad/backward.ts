// The reverse-mode transform: onnxruntime only runs inference, so the gradient of a scalar in one of the project's
// own graphs is computed by a second part of the same graph. Starting from d(target)/d(target) = 1 it walks the
// nodes backwards, applies each operator's rule (rules.ts) where the node lies between the inputs asked for and the
// target, sums the contributions a tensor receives from its several consumers, and adds the gradients of the
// requested tensors (inputs or intermediate ones, like attention probabilities) as graph outputs.
import type { ModelMsg } from '../formats/onnx-descriptor';
import { LensError } from '../errors';
import { GradGraph } from './grad-graph';
import { findFused, foldAttentionScale, foldGeluScales } from './fused';
import { attnLrpRule, identityRule, isConstantUnderAttnLrp } from './attnlrp-rules';
import { backwardNode } from './rules';

export interface BackwardRequest {
  /** A scalar (shape [] or [1]) float tensor of the graph. */
  target: string;
  /** Tensors whose gradients become outputs, each as `grads[i].as`. */
  grads: { of: string; as: string }[];
  /** Forward tensors added as outputs too (attention probabilities), each as `as`. */
  outputs?: { of: string; as: string }[];
  /** Differentiate GELU and SiLU fragments as units and scale attention's queries instead of its scores (fused.ts;
   * default true; false: node by node, the bench's before; never with AttnLRP's rules). */
  fuse?: boolean;
  /** With fuse: RMSNorm as one fragment too (default true; false: the bench's before/after of matchRmsNorm). */
  fuseRmsNorm?: boolean;
  /** With fuse: attention's Softmax from its output's gradient (default true; false: the bench's before/after of
   * matchAttentionSoftmax). */
  fuseSoftmax?: boolean;
  /** 'attnlrp': AttnLRP's rules (attnlrp-rules.ts) instead of the gradient's, so that input ⊙ the result is the
   * relevance; default 'gradient'. */
  rules?: 'gradient' | 'attnlrp';
  /** attnlrp: the element-wise activations (GraphBuilder.activations), each given the identity rule as a whole. */
  activations?: readonly { input: string; output: string }[];
}

/** Adds the backward part to `model` (modified in place; inputs must have static shapes) and returns it. */
export function addBackward(model: ModelMsg, request: BackwardRequest): ModelMsg {
  // Fusions change the gradient's rules, not AttnLRP's (attnlrp-rules.ts has its own for activations).
  const fusing = request.fuse !== false && request.rules !== 'attnlrp';
  if (fusing) {
    foldAttentionScale(model);
    foldGeluScales(model);
  }
  const g = new GradGraph(model);
  const forward = [...g.nodes];
  const target = request.target;
  if (g.shape(target).reduce((a, d) => a * d, 1) !== 1) throw new Error(`gradient target ${target} is not a scalar`);

  // Tensors that depend on a requested one (forward) and that the target depends on (backward).
  // AttnLRP: the norms' denominators are constants, so nothing behind them depends on the inputs.
  const lrp = request.rules === 'attnlrp';
  const fromWrt = new Set(request.grads.map((r) => r.of));
  for (const node of forward)
    if (node.input.some((i) => fromWrt.has(i)) && !(lrp && isConstantUnderAttnLrp(node)))
      for (const o of node.output) if (g.isFloat(o)) fromWrt.add(o);
  const toTarget = new Set([target]);
  for (let n = forward.length - 1; n >= 0; n--) {
    const node = forward[n];
    if (node.output.some((o) => toTarget.has(o))) for (const i of node.input) if (i) toTarget.add(i);
  }
  for (const r of request.grads)
    if (!toTarget.has(r.of)) throw new LensError('UNSUPPORTED_MODEL', `The target does not depend on ${r.of}.`);
  const needed = (t: string) => fromWrt.has(t) && toTarget.has(t) && !g.initializerNames.has(t);

  const parts = new Map<string, string[]>();
  const add = (t: string, d: string) => parts.set(t, [...(parts.get(t) ?? []), d]);
  /** The summed gradient of a tensor (undefined: it does not reach the target). */
  const total = (t: string): string | undefined => {
    const p = parts.get(t);
    if (!p?.length) return undefined;
    if (p.length === 1) return p[0];
    const sum = g.op('Sum', p);
    parts.set(t, [sum]);
    return sum;
  };
  add(target, g.constF([1], g.shape(target)));
  const activationInput = new Map((lrp ? (request.activations ?? []) : []).map((a) => [a.output, a.input]));

  // Fragments differentiated as one: their last node runs the fragment's rule, the others are skipped (their
  // inner tensors have no other consumer, so nothing else waits for their gradients).
  const outputs = new Set([...(request.outputs ?? []).map((o) => o.of), ...request.grads.map((r) => r.of), target]);
  const fused = fusing
    ? findFused(g, forward, outputs, {
        rmsNorm: request.fuseRmsNorm !== false,
        softmax: request.fuseSoftmax !== false,
      })
    : [];
  const fusedAt = new Map(fused.map((f) => [f.last, f]));
  const inside = new Set(fused.flatMap((f) => f.nodes.filter((n) => n !== f.last)));

  for (let n = forward.length - 1; n >= 0; n--) {
    const node = forward[n];
    if (inside.has(node)) continue;
    const f = fusedAt.get(node);
    if (f) {
      const dy = needed(node.output[0]) || node.output[0] === target ? total(node.output[0]) : undefined;
      if (dy && needed(f.input)) for (const d of [f.backward(g, dy, total)].flat()) add(f.input, d);
      continue;
    }
    const need = node.input.map((i) => i !== '' && needed(i));
    if (!need.some(Boolean)) continue;
    const dy = node.output.map((o) => (needed(o) || o === target ? total(o) : undefined));
    if (dy.every((d) => d === undefined)) continue;
    if (lrp) {
      const x = activationInput.get(node.output[0]);
      if (x !== undefined) {
        // The identity rule from the activation's output straight to its input; its primitives get nothing.
        if (needed(x) && dy[0]) add(x, identityRule(g, x, node.output[0], dy[0]));
        continue;
      }
      const rule = attnLrpRule(g, node, dy, need);
      if (Array.isArray(rule)) {
        rule.forEach((d, i) => need[i] && d && add(node.input[i], d));
        continue;
      }
      if (rule !== 'plain') {
        backwardNode(g, node, rule.dy, need).forEach((d, i) => d && add(node.input[i], d));
        continue;
      }
    }
    backwardNode(g, node, dy, need).forEach((d, i) => d && add(node.input[i], d));
  }
  for (const r of request.grads) {
    const d = total(r.of) ?? g.zeros(g.shape(r.of));
    g.output(d, r.as);
  }
  for (const o of request.outputs ?? []) g.output(o.of, o.as);
  return model;
}
