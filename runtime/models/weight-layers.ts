// Notices a checkpoint with more layers than its config.json says: the family builders read only the layers the
// config names, so such a model runs "fine" while silently skipping the rest. Found from the tensor names
// (…layers.7…, …layer.7…, …h.7…), which every supported family numbers its blocks by.
import type { ModelSource } from './source';

const LAYER_INDEX = /(?:^|\.)(?:layers|layer|h|blocks)\.(\d+)\./;

/** How many layers the tensor names hold (the highest index + 1), or 0 when none is numbered. */
export function layersInWeights(names: readonly string[]): number {
  let most = 0;
  for (const name of names) {
    const m = LAYER_INDEX.exec(name);
    if (m) most = Math.max(most, Number(m[1]) + 1);
  }
  return most;
}

/** A one-line warning when the weights hold more layers than config.json, else undefined. */
export function layerCountWarning(source: ModelSource): string | undefined {
  const inWeights = layersInWeights(source.weights.names());
  const used = source.config.layers;
  if (inWeights <= used) return undefined;
  return (
    `config.json gives ${used} layer${used === 1 ? '' : 's'} but the weights hold ${inWeights}: layers ` +
    `${used}–${inWeights - 1} are not run. If that is not meant, fix the layer count in config.json.`
  );
}
