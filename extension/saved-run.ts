// A run exported as JSON (writers/attention-data.ts: "format": "attention-lens-run", version 1) read back for the panel:
// every field checked, so that a file from anywhere gives one line naming the file and what is wrong, never a stack
// trace or a view drawn from numbers that are not attention weights. vscode-free, so that unit tests check it.
import type { AttentionKind, LayerAttention, ModelFacts } from '../runtime/types';
import type { RunSource, TokenInfo } from '../protocol/messages';
import { attentionFactsProblem } from '../protocol/facts-validate';
import { LensError } from '../runtime/errors';

export interface SavedRun {
  facts: ModelFacts;
  tokens: TokenInfo[];
  /** Token ids where the file has them (-1 where it does not). */
  ids: number[];
  /** [heads, query, key] per layer, consecutive from 0. */
  layers: LayerAttention[];
  source: RunSource;
}

const KINDS: readonly AttentionKind[] = ['self', 'causal', 'cross'];
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const posInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
const offset = (v: unknown) => v === null || (Number.isInteger(v) && (v as number) >= 0);
/** Rows of attention may sum to 1 within float32 rounding; a weight is within [0, 1] up to that. */
const SLACK = 1e-5;

/** Reads the text of a saved run; throws LensError('BAD_INPUT') with one line naming `name` and the problem. */
export function parseSavedRun(text: string, name: string): SavedRun {
  const bad = (what: string) => new LensError('BAD_INPUT', `${name}: ${what}`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw bad(`not JSON (${why}). Open a run that Attention Lens exported as JSON (Export… → JSON).`);
  }
  if (!isObj(data) || data.format !== 'attention-lens-run')
    throw bad('not an Attention Lens run (no "format": "attention-lens-run"). Open a file that Export… → JSON wrote.');
  if (data.version !== 1)
    throw bad(`version ${JSON.stringify(data.version)} of the run format; this Attention Lens reads version 1.`);

  const m = data.model;
  if (!isObj(m) || typeof m.name !== 'string' || !posInt(m.layers) || !posInt(m.heads) || !posInt(m.headDim))
    throw bad('"model" must have a name and positive integer layers, heads and headDim.');
  const layersN = m.layers;
  const kinds = m.attentionKinds;
  if (!Array.isArray(kinds) || kinds.length !== layersN || !kinds.every((k) => KINDS.includes(k as AttentionKind)))
    throw bad(`"model".attentionKinds must list ${layersN} kinds (self, causal or cross), one per layer.`);
  const int = (v: unknown, dflt: number) => (Number.isInteger(v) && (v as number) >= 0 ? (v as number) : dflt);
  const facts: ModelFacts = {
    name: m.name,
    dir: typeof m.dir === 'string' ? m.dir : '',
    family: (typeof m.family === 'string' ? m.family : 'onnx') as ModelFacts['family'],
    modelType: typeof m.modelType === 'string' ? m.modelType : '',
    layers: layersN,
    heads: m.heads,
    kvHeads: posInt(m.kvHeads) ? m.kvHeads : m.heads,
    headDim: m.headDim,
    hidden: int(m.hidden, 0),
    vocabSize: int(m.vocabSize, 0),
    maxPositions: int(m.maxPositions, 0),
    attentionKinds: kinds as AttentionKind[],
    hasLmHead: m.hasLmHead === true,
    ...(m.slidingWindows !== undefined ? { slidingWindows: m.slidingWindows as (number | null)[] } : {}),
    ...(m.attentionScale !== undefined ? { attentionScale: m.attentionScale as number } : {}),
    ...(m.attentionSoftcap !== undefined ? { attentionSoftcap: m.attentionSoftcap as number } : {}),
  };
  const factsProblem = attentionFactsProblem({ ...facts });
  if (factsProblem) throw bad(`"model": ${factsProblem}.`);

  if (!Array.isArray(data.tokens) || data.tokens.length === 0) throw bad('"tokens" must be a non-empty list.');
  const tokens: TokenInfo[] = [];
  const ids: number[] = [];
  data.tokens.forEach((t, i) => {
    if (!isObj(t) || typeof t.text !== 'string' || !offset(t.start) || !offset(t.end) || typeof t.special !== 'boolean')
      throw bad(`token ${i} must have text (a string), start and end (integers or null) and special (true or false).`);
    if ((t.start === null) !== (t.end === null) || (t.start !== null && (t.end as number) < (t.start as number)))
      throw bad(
        `token ${i} has the span ${String(t.start)}..${String(t.end)}; start and end go together, end ≥ start.`,
      );
    tokens.push({
      text: t.text,
      start: t.start as number | null,
      end: t.end as number | null,
      special: t.special,
      // A chat template's token (exported with "template": true) stays dimmer when the run is opened again.
      ...(t.template === true ? { template: true } : {}),
    });
    ids.push(Number.isInteger(t.id) ? (t.id as number) : -1);
  });

  if (!Array.isArray(data.layers) || data.layers.length === 0) throw bad('"layers" must hold at least one layer.');
  if (data.layers.length > layersN) throw bad(`${data.layers.length} layers, but "model" has ${layersN}.`);
  const layers = data.layers.map((l, i): LayerAttention => {
    if (!isObj(l) || l.layer !== i) throw bad(`layer ${i} is missing or out of order ("layer" must be ${i}).`);
    const H = l.heads;
    const Q = l.queryLength;
    const K = l.keyLength;
    if (H !== facts.heads || !posInt(Q) || !posInt(K) || Q > tokens.length || K > tokens.length)
      throw bad(
        `layer ${i} must have ${facts.heads} heads and query and key lengths of at most ${tokens.length} tokens.`,
      );
    if (l.kind !== kinds[i]) throw bad(`layer ${i} is "${String(l.kind)}" attention, but "model" says ${kinds[i]}.`);
    // [heads, query, key], row-major.
    const out = new Float32Array(H * Q * K);
    const a = l.attention;
    const shape = `${H} × ${Q} × ${K}`;
    if (!Array.isArray(a) || a.length !== H)
      throw bad(`layer ${i}: "attention" must be heads × query × key = ${shape}.`);
    for (let h = 0; h < H; h++) {
      const rows: unknown = a[h];
      if (!Array.isArray(rows) || rows.length !== Q) throw bad(`layer ${i}, head ${h}: must have ${Q} query rows.`);
      for (let q = 0; q < Q; q++) {
        const row: unknown = rows[q];
        if (!Array.isArray(row) || row.length !== K)
          throw bad(`layer ${i}, head ${h}, query ${q}: must have ${K} key weights.`);
        for (let k = 0; k < K; k++) {
          const v: unknown = row[k];
          if (typeof v !== 'number' || !Number.isFinite(v))
            throw bad(`layer ${i}, head ${h}, query ${q}, key ${k} is ${JSON.stringify(v)}, not a finite weight.`);
          if (v < -SLACK || v > 1 + SLACK)
            throw bad(`layer ${i}, head ${h}, query ${q}, key ${k} is ${v}, outside 0..1: not an attention weight.`);
          out[(h * Q + q) * K + k] = v;
        }
      }
    }
    return { layer: i, kind: l.kind as AttentionKind, heads: H, queryLength: Q, keyLength: K, data: out };
  });

  const src = isObj(data.source) ? data.source : {};
  const source: RunSource = {
    uri: '',
    range: [0, 0, 0, 0],
    text: '',
    modelPath: typeof src.modelPath === 'string' ? src.modelPath : facts.dir,
    truncate: false,
  };
  return { facts, tokens, ids, layers, source };
}
