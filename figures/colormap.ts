// Colour maps as pure functions, shared by every figure (the panel's canvas, SVG and PNG alike).
// viridis and magma are matplotlib's tables (lib/matplotlib/_cm_listed.py, CC0) sampled at every 16th of their 256
// entries plus the last, interpolated linearly (max deviation from the full table below 1/255 per channel);
// blues and greys are ColorBrewer's 9-class sequential schemes (as in matplotlib's "Blues" and "Greys").

export type ColorMapName = 'viridis' | 'magma' | 'blues' | 'greys';
export const COLOR_MAP_NAMES: readonly ColorMapName[] = ['viridis', 'magma', 'blues', 'greys'];

/** [position in 0..1, r, g, b] with r, g, b in 0..1. */
type Stop = [number, number, number, number];

const s255 = (i: number) => i / 255;

const VIRIDIS: Stop[] = [
  [s255(0), 0.267004, 0.004874, 0.329415],
  [s255(16), 0.282327, 0.094955, 0.417331],
  [s255(32), 0.278826, 0.17549, 0.483397],
  [s255(48), 0.258965, 0.251537, 0.524736],
  [s255(64), 0.229739, 0.322361, 0.545706],
  [s255(80), 0.19943, 0.387607, 0.554642],
  [s255(96), 0.172719, 0.448791, 0.557885],
  [s255(112), 0.149039, 0.508051, 0.55725],
  [s255(128), 0.127568, 0.566949, 0.550556],
  [s255(144), 0.120638, 0.625828, 0.533488],
  [s255(160), 0.157851, 0.683765, 0.501686],
  [s255(176), 0.24607, 0.73891, 0.452024],
  [s255(192), 0.369214, 0.788888, 0.382914],
  [s255(208), 0.515992, 0.831158, 0.294279],
  [s255(224), 0.678489, 0.863742, 0.189503],
  [s255(240), 0.845561, 0.887322, 0.099702],
  [s255(255), 0.993248, 0.906157, 0.143936],
];

const MAGMA: Stop[] = [
  [s255(0), 0.001462, 0.000466, 0.013866],
  [s255(16), 0.039608, 0.03109, 0.133515],
  [s255(32), 0.113094, 0.065492, 0.276784],
  [s255(48), 0.211718, 0.061992, 0.418647],
  [s255(64), 0.316654, 0.07169, 0.48538],
  [s255(80), 0.414709, 0.110431, 0.504662],
  [s255(96), 0.512831, 0.148179, 0.507648],
  [s255(112), 0.613617, 0.181811, 0.498536],
  [s255(128), 0.716387, 0.214982, 0.47529],
  [s255(144), 0.816914, 0.255895, 0.436461],
  [s255(160), 0.904281, 0.31961, 0.388137],
  [s255(176), 0.960949, 0.418323, 0.35963],
  [s255(192), 0.9867, 0.535582, 0.38221],
  [s255(208), 0.996096, 0.653659, 0.446213],
  [s255(224), 0.996898, 0.769591, 0.534892],
  [s255(240), 0.99244, 0.88433, 0.640099],
  [s255(255), 0.987053, 0.991438, 0.749504],
];

function brewer(hex: string[]): Stop[] {
  return hex.map((h, i) => [
    i / (hex.length - 1),
    parseInt(h.slice(0, 2), 16) / 255,
    parseInt(h.slice(2, 4), 16) / 255,
    parseInt(h.slice(4, 6), 16) / 255,
  ]);
}

const BLUES = brewer(['f7fbff', 'deebf7', 'c6dbef', '9ecae1', '6baed6', '4292c6', '2171b5', '08519c', '08306b']);
const GREYS = brewer(['ffffff', 'f0f0f0', 'd9d9d9', 'bdbdbd', '969696', '737373', '525252', '252525', '000000']);

const STOPS: Record<ColorMapName, Stop[]> = { viridis: VIRIDIS, magma: MAGMA, blues: BLUES, greys: GREYS };

export function isColorMapName(v: unknown): v is ColorMapName {
  return typeof v === 'string' && (COLOR_MAP_NAMES as readonly string[]).includes(v);
}

/** The colour of t (clamped to [0, 1]; NaN counts as 0) as 0..255 integers [r, g, b]. */
export function colorAt(name: ColorMapName, t: number): [number, number, number] {
  const stops = STOPS[name];
  const x = Number.isNaN(t) ? 0 : Math.min(1, Math.max(0, t));
  let i = 1;
  while (i < stops.length - 1 && stops[i][0] < x) i++;
  const a = stops[i - 1];
  const b = stops[i];
  const f = b[0] === a[0] ? 0 : (x - a[0]) / (b[0] - a[0]);
  const ch = (k: 1 | 2 | 3) => Math.round((a[k] + (b[k] - a[k]) * f) * 255);
  return [ch(1), ch(2), ch(3)];
}

/** `#rrggbb` of t. */
export function colorHex(name: ColorMapName, t: number): string {
  return (
    '#' +
    colorAt(name, t)
      .map((c) => c.toString(16).padStart(2, '0'))
      .join('')
  );
}

const lutCache = new Map<ColorMapName, Uint8Array>();

/** A 256-entry RGBA lookup table (entry i is colorAt(name, i / 255), alpha 255). Cached; do not modify. */
export function colorLut(name: ColorMapName): Uint8Array {
  let lut = lutCache.get(name);
  if (!lut) {
    lut = new Uint8Array(256 * 4);
    for (let i = 0; i < 256; i++) {
      const [r, g, b] = colorAt(name, i / 255);
      lut.set([r, g, b, 255], i * 4);
    }
    lutCache.set(name, lut);
  }
  return lut;
}

/** Diverging blue–white–red (ColorBrewer RdBu ends) for signed values: t in [-1, 1] → [r, g, b]. */
export function diverging(t: number): [number, number, number] {
  const x = Number.isNaN(t) ? 0 : Math.min(1, Math.max(-1, t));
  const mid = [247, 247, 247];
  const end = x < 0 ? [33, 102, 172] : [178, 24, 43];
  const f = Math.abs(x);
  return [0, 1, 2].map((i) => Math.round(mid[i] + (end[i] - mid[i]) * f)) as [number, number, number];
}

/**
 * RGBA of values through a 256-entry LUT with `vmax` mapped to its last entry (clamped; NaN as 0); masked cells get
 * `masked`. [n] → [n, 4].
 */
export function colorize(
  values: Float32Array,
  masked: Uint8Array | undefined,
  lut: Uint8Array,
  vmax: number,
  maskedColor: readonly [number, number, number],
): Uint8ClampedArray {
  const out = new Uint8ClampedArray(values.length * 4);
  const scale = vmax > 0 ? 255 / vmax : 0;
  for (let i = 0, p = 0; i < values.length; i++, p += 4) {
    if (masked?.[i]) {
      out[p] = maskedColor[0];
      out[p + 1] = maskedColor[1];
      out[p + 2] = maskedColor[2];
    } else {
      const v = values[i] * scale;
      const j = (v > 0 ? Math.min(255, Math.round(v)) : 0) * 4;
      out[p] = lut[j];
      out[p + 1] = lut[j + 1];
      out[p + 2] = lut[j + 2];
    }
    out[p + 3] = 255;
  }
  return out;
}

/** RGBA of a signed map on the diverging scale ±vmax; non-finite cells get `nanColor` and are marked masked. */
export function colorizeDiverging(
  values: ArrayLike<number>,
  vmax: number,
  nanColor: readonly [number, number, number],
): { rgba: Uint8ClampedArray; masked: Uint8Array } {
  const rgba = new Uint8ClampedArray(values.length * 4);
  const masked = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const c = Number.isFinite(v) ? diverging(vmax > 0 ? v / vmax : 0) : nanColor;
    if (!Number.isFinite(v)) masked[i] = 1;
    rgba.set([c[0], c[1], c[2], 255], i * 4);
  }
  return { rgba, masked };
}

/** A colour bar's cells: `steps` colours of the map from 0 to 1 as RGBA. */
export function lutRamp(lut: Uint8Array, steps: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(steps * 4);
  for (let i = 0; i < steps; i++) {
    const j = Math.round((i / Math.max(1, steps - 1)) * 255) * 4;
    out.set([lut[j], lut[j + 1], lut[j + 2], 255], i * 4);
  }
  return out;
}
