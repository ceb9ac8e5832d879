// The panel's Continue, the parts that need no VS Code: how a request's sampling settings become the decoding the
// run uses (greedy, or sampled with a seed — the host draws one when the user gave none, and reports it so that the
// run can be repeated), the TokenInfo of a generated token, a run grown by one token (every layer's map gains the
// token's row, runtime/generate/grow-maps.ts; query/key vectors of the old size are dropped), and the generated text.
import { appendQueryRow } from '../runtime/generate/grow-maps';
import type { LayerResult } from '../runtime/inspector/api';
import type { GenerateReply, GenerateRequest, TokenInfo } from '../protocol/messages';

export type Decoding = GenerateReply['decoding'];

/** Greedy when the temperature is absent or 0; otherwise sampling with top-p (default 1) and the given seed or
 * `drawSeed()`. */
export function decodingOf(
  m: Pick<GenerateRequest, 'temperature' | 'topP' | 'seed'>,
  drawSeed: () => number,
): Decoding {
  if (m.temperature === undefined || m.temperature === 0) return { kind: 'greedy' };
  return { kind: 'sample', temperature: m.temperature, topP: m.topP ?? 1, seed: m.seed ?? drawSeed() };
}

/** A generated token as the panel's run holds it: its vocabulary piece, no span, marked generated (and special when
 * it is a stop token). */
export function generatedToken(piece: string, stop: boolean): TokenInfo {
  return { text: piece, start: null, end: null, special: stop, generated: true };
}

/** Every layer of a run grown by one token's rows ([heads, S + 1] per layer): [heads, S + 1, S + 1]. */
export function growLayers(layers: readonly LayerResult[], rows: readonly Float32Array[]): LayerResult[] {
  return layers.map((l) => {
    const { q: _q, k: _k, ...attention } = l; // vectors of S tokens no longer fit: recomputed on request
    return appendQueryRow(attention, rows[l.layer]);
  });
}

/** The generated ids of a run whose first `promptLength` ids are its input, without stop tokens. */
export function generatedIds(ids: readonly number[], promptLength: number, stops: ReadonlySet<number>): number[] {
  return ids.slice(promptLength).filter((id) => !stops.has(id));
}
