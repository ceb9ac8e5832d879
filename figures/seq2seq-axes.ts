// Encoder–decoder maps have three token lists: the source (the run's tokens, keys of encoder and cross layers), the
// target (the translation: row i of a decoder or cross layer is the decoder predicting target token i, so its rows
// are labelled by what they predict) and the decoder's inputs ([decoder start] + target[:-1]: the keys of decoder
// layers — key j is what the decoder read at position j, one token behind the target). This module says which list
// labels which axis of a layer of each kind, names the axes, and computes the argmax alignment path of a
// cross-attention map (for each target token, the source token it attends to most: the alignment picture).
import type { AttentionKind } from '../runtime/types';
import type { HeadChoice, RunMaps, RunToken } from './run-maps';

export type Side = 'source' | 'target' | 'decoder-input';

const STACK_KINDS: readonly AttentionKind[] = ['encoder', 'decoder', 'cross'];

/** An encoder–decoder entry's place in its stack (the number of earlier entries of its kind), or undefined for a
 * one-stack model's layer or one not computed yet. */
export function stackIndex(maps: Pick<RunMaps, 'shape'>, layer: number): number | undefined {
  const kind = maps.shape(layer)?.kind;
  if (!kind || !STACK_KINDS.includes(kind)) return undefined;
  let k = 0;
  for (let l = 0; l < layer; l++) if (maps.shape(l)?.kind === kind) k++;
  return k;
}

/** How a figure's title names a layer: "layer 3 (causal)", or with its kind and place in its stack for
 * encoder–decoder entries ("layer 5: cross-attention 1"), so that an export says which attention it shows. */
export function layerTitle(maps: Pick<RunMaps, 'shape'>, layer: number): string {
  const kind = maps.shape(layer)?.kind;
  const k = stackIndex(maps, layer);
  if (kind === undefined) return `layer ${layer}`;
  if (k === undefined) return `layer ${layer} (${kind})`;
  const name =
    kind === 'cross' ? 'cross-attention' : kind === 'encoder' ? 'encoder self-attention' : 'decoder self-attention';
  return `layer ${layer}: ${name} ${k}`;
}

/** A grid row's label: L3, or E0 / D1 / X1 (encoder, decoder, cross) for encoder–decoder entries. */
export function layerLabel(maps: Pick<RunMaps, 'shape'>, layer: number): string {
  const kind = maps.shape(layer)?.kind;
  const k = stackIndex(maps, layer);
  if (k === undefined) return `L${layer}`;
  return `${kind === 'cross' ? 'X' : kind === 'encoder' ? 'E' : 'D'}${k}`;
}

/** Which token list labels the rows (queries) and columns (keys) of a layer of `kind`. */
export function axisSides(kind: AttentionKind): { rows: Side; cols: Side } {
  if (kind === 'cross') return { rows: 'target', cols: 'source' };
  if (kind === 'decoder') return { rows: 'target', cols: 'decoder-input' };
  return { rows: 'source', cols: 'source' };
}

/** What labels the decoder's start token where the decoder's inputs are not known (a translation still streaming). */
export const DECODER_START_LABEL = '⟨start⟩';

/** The tokens of one side: the run's tokens (source), the target's (empty until it is known), or the decoder's
 * inputs (the target shifted right behind the decoder's start token, where they were not given). */
export function sideTokens(
  maps: Pick<RunMaps, 'tokens' | 'targetTokens' | 'decoderInputTokens'>,
  side: Side,
): readonly RunToken[] {
  if (side === 'source') return maps.tokens;
  const target = maps.targetTokens ?? [];
  if (side === 'target') return target;
  if (maps.decoderInputTokens && maps.decoderInputTokens.length === target.length) return maps.decoderInputTokens;
  return target.length ? [{ text: DECODER_START_LABEL, label: DECODER_START_LABEL }, ...target.slice(0, -1)] : [];
}

const SIDE_NAMES: Record<Side, string> = { source: 'source', target: 'target', 'decoder-input': 'decoder input' };

/** The axis titles of the matrix: query/key for one-stack models, source/target for encoder–decoder kinds. */
export function axisTitles(kind: AttentionKind): { rows: string; cols: string } {
  if (kind !== 'encoder' && kind !== 'decoder' && kind !== 'cross') return { rows: 'query', cols: 'key' };
  const s = axisSides(kind);
  return { rows: `${SIDE_NAMES[s.rows]} (query)`, cols: `${SIDE_NAMES[s.cols]} (key)` };
}

/** For each row of the map, the column with the largest weight (the first on ties): the argmax alignment path of
 * a cross-attention layer, target row → source column. Undefined while the layer has not arrived. */
export function argmaxAlignment(maps: RunMaps, layer: number, head: HeadChoice): number[] | undefined {
  const s = maps.shape(layer);
  if (!s) return undefined;
  const path: number[] = [];
  for (let q = 0; q < s.queryLength; q++) {
    const row = maps.row(layer, head, q); // [keys]
    let best = 0;
    for (let k = 1; k < row.length; k++) if (row[k] > row[best]) best = k;
    path.push(best);
  }
  return path;
}
