// stories260K's reference attention (an independent numpy forward pass, test/fixtures/models/stories260K) as the
// figures read a run: its tokens and layers in a MemoryRunMaps, for the tests of figures, writers and the painter.
import { readFileSync } from 'node:fs';
import type { LayerAttention } from '../../runtime/types';
import { MemoryRunMaps } from '../../figures/run-maps';
import { storiesReferenceFile } from './fixtures';

export interface StoriesReference {
  text: string;
  tokens: string[];
  /** [layers, heads, query, key] */
  shape: [number, number, number, number];
  attn: number[][][][];
}

export function storiesReference(): StoriesReference {
  return JSON.parse(readFileSync(storiesReferenceFile, 'utf8')) as StoriesReference;
}

/** Every layer of the reference as LayerAttention (causal), data [heads, query, key]. */
export function storiesLayers(ref = storiesReference()): LayerAttention[] {
  const [, H, Q, K] = ref.shape;
  return ref.attn.map((l, i) => ({
    layer: i,
    kind: 'causal',
    heads: H,
    queryLength: Q,
    keyLength: K,
    data: Float32Array.from(l.flat(2)),
  }));
}

/** The reference run as the figures read it. */
export function storiesMaps(ref = storiesReference()): MemoryRunMaps {
  return new MemoryRunMaps(
    'stories260K',
    ref.tokens.map((text) => ({ text })),
    storiesLayers(ref),
    ref.shape[1],
  );
}
