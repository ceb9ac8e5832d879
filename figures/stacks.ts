// Encoder–decoder runs list their layers as entries of three kinds — encoder self-attention, then decoder
// self-attention, then cross-attention (ModelFacts.encoderDecoder) — each kind one stack with its own layer numbers.
// The figures label them per stack (the grid's sections, the head view's switch): this module says which entries
// form which stack (from the model facts, before the layers arrive), and which entry of another kind
// has the same stack layer (the head view's encoder / decoder / cross switch keeps the layer); seq2seq-axes.ts names
// an entry in titles and labels from the arrived layers. One-stack models
// (every entry self or causal) have no stacks: their entries keep their plain numbers.
import type { AttentionKind } from '../runtime/types';

export type StackKind = 'encoder' | 'decoder' | 'cross';
export const STACK_KINDS: readonly StackKind[] = ['encoder', 'decoder', 'cross'];

/** One stack of an encoder–decoder run: its entries [first, first + count). */
export interface StackSection {
  kind: StackKind;
  /** e.g. "Encoder self-attention". */
  title: string;
  first: number;
  count: number;
}

const TITLES: Record<StackKind, string> = {
  encoder: 'Encoder self-attention (source → source)',
  decoder: 'Decoder self-attention (target → target, masked)',
  cross: 'Cross-attention (target → source)',
};

export function isStackKind(kind: AttentionKind | undefined): kind is StackKind {
  return kind === 'encoder' || kind === 'decoder' || kind === 'cross';
}

/** The stacks of a run whose entries have `kinds` (in entry order), or undefined for a one-stack model. Entries of
 *  one kind are contiguous in an encoder–decoder run; an entry whose kind is not known yet (undefined) ends no stack. */
export function stackSections(kinds: readonly (AttentionKind | undefined)[]): StackSection[] | undefined {
  if (!kinds.some(isStackKind)) return undefined;
  const out: StackSection[] = [];
  kinds.forEach((k, l) => {
    if (!isStackKind(k)) return;
    const last = out[out.length - 1];
    if (last && last.kind === k && last.first + last.count === l) last.count++;
    else out.push({ kind: k, title: TITLES[k], first: l, count: 1 });
  });
  return out;
}

/** The entry's stack and its layer within the stack, or undefined for one-stack models. */
export function stackOf(
  kinds: readonly (AttentionKind | undefined)[],
  layer: number,
): { kind: StackKind; stackLayer: number } | undefined {
  const section = stackSections(kinds)?.find((s) => layer >= s.first && layer < s.first + s.count);
  return section ? { kind: section.kind, stackLayer: layer - section.first } : undefined;
}

/** The entry of `kind` with the same stack layer as `layer` (the last of that stack when it has fewer layers), or
 *  undefined when the run has no such stack. */
export function sameStackLayer(
  kinds: readonly (AttentionKind | undefined)[],
  layer: number,
  kind: StackKind,
): number | undefined {
  const target = stackSections(kinds)?.find((s) => s.kind === kind);
  if (!target) return undefined;
  const at = stackOf(kinds, layer)?.stackLayer ?? 0;
  return target.first + Math.min(at, target.count - 1);
}
