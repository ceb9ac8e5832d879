// The RGBA of a tile through a colour map, remembered per tile (tiles are cached by the run's maps), so that
// redrawing a figure — the grid on every layer that arrives, the matrix on every hover — recolours only what changed
// and painters can keep their images of unchanged cells. DOM-free.
import { colorLut, colorize, type ColorMapName } from './colormap';
import type { Tile } from './run-maps';

const cache = new WeakMap<Tile, { key: string; rgba: Uint8ClampedArray }>();

/** colorize(tile.values, tile.masked, colorLut(colorMap), vmax, masked): the same array for the same arguments. */
export function tileColors(
  tile: Tile,
  colorMap: ColorMapName,
  vmax: number,
  masked: readonly [number, number, number],
): Uint8ClampedArray {
  const key = `${colorMap}:${vmax}:${masked.join(',')}`;
  const hit = cache.get(tile);
  if (hit?.key === key) return hit.rgba;
  const rgba = colorize(tile.values, tile.masked, colorLut(colorMap), vmax, masked);
  cache.set(tile, { key, rgba });
  return rgba;
}
