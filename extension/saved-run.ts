// A run exported as JSON (writers/attention-data.ts: "format": "attention-lens-run", version 1) read back for the panel:
// every field checked, so that a file from anywhere gives one line naming the file and what is wrong, never a stack
// trace or a view drawn from numbers that are not attention weights. vscode-free, so that unit tests check it.
import { ATTENTION_KINDS, type AttentionKind, type LayerAttention, type ModelFacts } from '../runtime/types';
import type { RunSource, TokenInfo } from '../protocol/messages';
import { attentionFactsProblem } from '../protocol/facts-validate';
import { LensError, quoted } from '../runtime/errors';
import { NPY_SIDECAR_FORMAT } from '../writers/attention-data';

export interface SavedRun {
  facts: ModelFacts;
  tokens: TokenInfo[];
  /** Token ids where the file has them (-1 where it does not). */
  ids: number[];
  /** [heads, query, key] per layer, consecutive from 0. */
  layers: LayerAttention[];
  source: RunSource;
}

const KINDS: readonly AttentionKind[] = ATTENTION_KINDS;
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
  if (isObj(data) && data.format === NPY_SIDECAR_FORMAT)
    throw bad(
      `the JSON sidecar of an NPY export: open it with its .npy beside it (${String(data.array && isObj(data.array) ? data.array.file : 'the .npy')}).`,
    );
  if (!isObj(data) || data.format !== 'attention-lens-run')
    throw bad('not an Attention Lens run (no "format": "attention-lens-run"). Open a file that Export… → JSON wrote.');
  const { facts, kinds, tokens, ids, source } = runHead(data, bad);
  if (!Array.isArray(data.layers) || data.layers.length === 0) throw bad('"layers" must hold at least one layer.');
  if (data.layers.length > facts.layers) throw bad(`${data.layers.length} layers, but "model" has ${facts.layers}.`);
  const layers = data.layers.map((l, i): LayerAttention => {
    const { H, Q, K } = layerHead(l, i, facts, kinds, tokens.length, bad);
    // [heads, query, key], row-major.
    const out = new Float32Array(H * Q * K);
    const a = (l as Record<string, unknown>).attention;
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
        for (let k = 0; k < K; k++)
          out[(h * Q + q) * K + k] = weight(row[k], `layer ${i}, head ${h}, query ${q}, key ${k}`, bad);
      }
    }
    return { layer: i, kind: kinds[i], heads: H, queryLength: Q, keyLength: K, data: out };
  });
  return { facts, tokens, ids, layers, source };
}

type Bad = (what: string) => LensError;

/** A weight read from a file: finite and within 0..1 (float32 rounding aside). */
function weight(v: unknown, where: string, bad: Bad): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw bad(`${where} is ${typeof v === 'number' ? String(v) : JSON.stringify(v)}, not a finite weight.`);
  if (v < -SLACK || v > 1 + SLACK) throw bad(`${where} is ${v}, outside 0..1: not an attention weight.`);
  return v;
}

/** A layer's entry: in order, the model's heads and kind, query and key lengths within the tokens. */
function layerHead(
  l: unknown,
  i: number,
  facts: ModelFacts,
  kinds: AttentionKind[],
  tokens: number,
  bad: Bad,
): { H: number; Q: number; K: number } {
  if (!isObj(l) || l.layer !== i) throw bad(`layer ${i} is missing or out of order ("layer" must be ${i}).`);
  const H = l.heads;
  const Q = l.queryLength;
  const K = l.keyLength;
  if (H !== facts.heads || !posInt(Q) || !posInt(K) || Q > tokens || K > tokens)
    throw bad(`layer ${i} must have ${facts.heads} heads and query and key lengths of at most ${tokens} tokens.`);
  if (l.kind !== kinds[i]) throw bad(`layer ${i} is "${String(l.kind)}" attention, but "model" says ${kinds[i]}.`);
  return { H, Q, K };
}

/** What a JSON run and an NPY sidecar share: version, model facts, tokens and source. */
function runHead(
  data: Record<string, unknown>,
  bad: Bad,
): { facts: ModelFacts; kinds: AttentionKind[]; tokens: TokenInfo[]; ids: number[]; source: RunSource } {
  if (data.version !== 1)
    throw bad(`version ${quoted(data.version)} of the run format; this Attention Lens reads version 1.`);

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
      // A token the model generated (Continue, attention-lens generate) stays told apart from the prompt.
      ...(t.generated === true ? { generated: true } : {}),
    });
    ids.push(Number.isInteger(t.id) ? (t.id as number) : -1);
  });

  const src = isObj(data.source) ? data.source : {};
  const source: RunSource = {
    uri: '',
    range: [0, 0, 0, 0],
    text: '',
    modelPath: typeof src.modelPath === 'string' ? src.modelPath : facts.dir,
    truncate: false,
  };
  return { facts, kinds: kinds as AttentionKind[], tokens, ids, source };
}

/** The parsed NPY 1.0/2.0/3.0 header: its dtype, order and shape, and where the data starts. */
function npyHeaderOf(bytes: Uint8Array, bad: Bad): { descr: string; fortran: boolean; shape: number[]; start: number } {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw bad('not an NPY file (no \\x93NUMPY magic).');
  const major = bytes[6];
  const wide = major >= 2;
  const len = wide ? bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (bytes[11] << 24) : bytes[8] | (bytes[9] << 8);
  const at = wide ? 12 : 10;
  if (major < 1 || major > 3 || at + len > bytes.length)
    throw bad(`an NPY header of version ${major} that is cut short.`);
  const dict = new TextDecoder('latin1').decode(bytes.subarray(at, at + len));
  const descr = /'descr':\s*'([^']*)'/.exec(dict)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(dict)?.[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(dict)?.[1];
  if (descr === undefined || fortran === undefined || shape === undefined)
    throw bad('an NPY header without descr, fortran_order and shape.');
  const dims = shape
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '')
    .map(Number);
  return { descr, fortran: fortran === 'True', shape: dims, start: at + len };
}

/**
 * Reads an NPY export (writers/attention-data.ts: float32 [layers, heads, query, key]) with its JSON sidecar (the
 * tokens, model and layer layout); throws LensError('BAD_INPUT') with one line naming the file at fault.
 */
export function parseSavedNpyRun(sidecarText: string, sidecarName: string, npy: Uint8Array, npyName: string): SavedRun {
  const badSide = (what: string) => new LensError('BAD_INPUT', `${sidecarName}: ${what}`);
  const badNpy = (what: string) => new LensError('BAD_INPUT', `${npyName}: ${what}`);
  let data: unknown;
  try {
    data = JSON.parse(sidecarText);
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw badSide(`not JSON (${why}). The sidecar is the .npy.json file that Export… → NPY wrote beside the .npy.`);
  }
  if (!isObj(data) || data.format !== NPY_SIDECAR_FORMAT)
    throw badSide(`not the sidecar of an NPY export (no "format": "${NPY_SIDECAR_FORMAT}").`);
  if (Array.isArray(data.arrays))
    throw badSide(
      'an encoder–decoder run exported as one NPY per kind does not open as a saved run yet; export it as JSON to open it again.',
    );
  const { facts, kinds, tokens, ids, source } = runHead(data, badSide);
  if (!Array.isArray(data.layers) || data.layers.length === 0) throw badSide('"layers" must hold at least one layer.');
  if (data.layers.length > facts.layers)
    throw badSide(`${data.layers.length} layers, but "model" has ${facts.layers}.`);
  const heads = data.layers.map((l, i) => layerHead(l, i, facts, kinds, tokens.length, badSide));
  const { H, Q, K } = heads[0];
  if (heads.some((h) => h.Q !== Q || h.K !== K))
    throw badSide('every layer of an NPY export has the same query and key lengths.');
  const want = [heads.length, H, Q, K];

  const head = npyHeaderOf(npy, badNpy);
  if (head.descr !== '<f4' || head.fortran)
    throw badNpy(
      `holds ${head.descr}${head.fortran ? ' in Fortran order' : ''}; an Attention Lens NPY is little-endian float32 (<f4) in C order.`,
    );
  if (head.shape.join(',') !== want.join(','))
    throw badNpy(
      `has the shape (${head.shape.join(', ')}), but its sidecar says (${want.join(', ')}) [layers, heads, query, key].`,
    );
  const count = want.reduce((a, b) => a * b, 1);
  if (npy.length - head.start !== count * 4)
    throw badNpy(`has ${npy.length - head.start} bytes of data, not ${count} float32 values (${count * 4} bytes).`);
  // [layers, heads, query, key], little-endian, copied out so that each layer owns its bytes.
  const view = new DataView(npy.buffer, npy.byteOffset + head.start, count * 4);
  const per = H * Q * K;
  const layers = heads.map((_, l): LayerAttention => {
    const out = new Float32Array(per); // [heads, query, key]
    for (let i = 0; i < per; i++) {
      const v = view.getFloat32((l * per + i) * 4, true);
      if (!(v >= -SLACK && v <= 1 + SLACK)) {
        const where = `layer ${l}, head ${Math.floor(i / (Q * K))}, query ${Math.floor(i / K) % Q}, key ${i % K}`;
        weight(v, where, badNpy); // throws: non-finite or outside 0..1
      }
      out[i] = v;
    }
    return { layer: l, kind: kinds[l], heads: H, queryLength: Q, keyLength: K, data: out };
  });
  return { facts, tokens, ids, layers, source };
}
