// Checks of the in-webview inference requests (inference.ts), both directions: the webview checks the host's
// requests, the host checks the webview's replies, events and notes — every layer's byte size against its shape before
// the data reaches a view, the hover or an export. Each returns why a payload is malformed, or undefined. Pure: no
// DOM, no 'vscode'.
import type { AttentionKind } from '../runtime/types';
import { attentionFactsProblem } from './facts-validate';

type Obj = Record<string, unknown>;

// Every AttentionKind (runtime/types.ts ATTENTION_KINDS; protocol/ imports only types from runtime/).
const KINDS: readonly string[] = ['self', 'causal', 'cross', 'encoder', 'decoder'] satisfies AttentionKind[];
const BACKENDS = ['webgpu', 'wasm'];
const MAX_TEXT = 4000;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isPositive = (v: unknown): v is number => isCount(v) && v > 0;
const isText = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_TEXT;
const isBuffer = (v: unknown): v is ArrayBuffer => v instanceof ArrayBuffer;

/** Why the host's request `name` is malformed (checked by the webview). */
export function checkInferRequest(name: string, p: unknown): string | undefined {
  if (!isObj(p)) return 'the payload must be an object';
  switch (name) {
    case 'inferProbe':
    case 'inferDispose':
      return undefined;
    case 'inferLoad':
      if (!isPositive(p.maxTokens)) return 'maxTokens is required';
      if (![p.modelBase, p.workerUrl, p.wasmUrl].every((u) => typeof u === 'string' && u.length > 0))
        return 'modelBase, workerUrl and wasmUrl must be URLs';
      if (!BACKENDS.includes(p.backend as string) || (p.fallback !== 'wasm' && p.fallback !== 'fail'))
        return 'backend or fallback is invalid';
      return undefined;
    case 'inferRun':
      if (!Array.isArray(p.ids) || !p.ids.every(isCount)) return 'ids are required';
      if (typeof p.withVectors !== 'boolean' && !(Array.isArray(p.withVectors) && p.withVectors.every(isCount)))
        return 'withVectors must be a boolean or layer indices';
      return undefined;
    case 'inferGenerate':
      return generateRequestProblem(p);
    case 'inferLoseDevice':
      return p.afterLayer === undefined || isCount(p.afterLayer) ? undefined : 'afterLayer must be a layer index';
    default:
      return `unknown inference request ${JSON.stringify(name).slice(0, 60)}`;
  }
}

/** Why the webview's reply to `name` is malformed (checked by the host). */
export function checkInferReply(name: string, p: unknown): string | undefined {
  if (!isObj(p)) return 'the reply must be an object';
  switch (name) {
    case 'inferProbe':
      if (p.adapter !== null && !isText(p.adapter)) return 'adapter must be a string or null';
      return p.reason === undefined || isText(p.reason) ? undefined : 'reason must be a string';
    case 'inferLoad': {
      if (!BACKENDS.includes(p.backend as string) || !isText(p.note)) return 'backend and note are required';
      const f = p.facts as Obj;
      if (!isObj(f) || !isPositive(f.layers) || !isPositive(f.heads) || !isPositive(f.headDim) || !isPositive(f.hidden))
        return 'facts must give positive layers, heads, headDim and hidden';
      if (!Array.isArray(f.attentionKinds) || f.attentionKinds.length !== f.layers)
        return 'facts.attentionKinds must have one entry per layer';
      const extras = attentionFactsProblem(f);
      if (extras) return extras;
      return p.adapter === undefined || isText(p.adapter) ? undefined : 'adapter must be a string';
    }
    case 'inferRun':
      if (!isBuffer(p.lastHidden)) return 'lastHidden is required';
      return Array.isArray(p.stageMs) && p.stageMs.every((x) => typeof x === 'number')
        ? undefined
        : 'stageMs must be numbers';
    case 'inferGenerate':
      if (!isCount(p.count) || !ENDS.includes(p.end as string)) return 'count and end are required';
      return typeof p.ms === 'number' && Number.isFinite(p.ms) ? undefined : 'ms must be a number';
    case 'inferDispose':
    case 'inferLoseDevice':
      return undefined;
    default:
      return `unknown inference request ${JSON.stringify(name).slice(0, 60)}`;
  }
}

const ENDS = ['stop', 'length'];

function generateRequestProblem(p: Obj): string | undefined {
  if (!Array.isArray(p.ids) || p.ids.length === 0 || !p.ids.every(isCount)) return 'ids are required';
  if (!isPositive(p.maxNew)) return 'maxNew must be a positive integer';
  if (p.temperature !== undefined && !(typeof p.temperature === 'number' && p.temperature >= 0 && p.temperature < 1e6))
    return 'temperature must be a number ≥ 0';
  if (p.topP !== undefined && !(typeof p.topP === 'number' && p.topP > 0 && p.topP <= 1))
    return 'topP must be in (0, 1]';
  if (p.seed !== undefined && !(typeof p.seed === 'number' && Number.isSafeInteger(p.seed)))
    return 'seed must be an integer';
  if (!Array.isArray(p.stopIds) || !p.stopIds.every(isCount)) return 'stopIds must be token ids';
  return typeof p.rows === 'boolean' ? undefined : 'rows must be a boolean';
}

/** Why a generated token (an event of inferGenerate) is malformed; each row's size against its heads is checked by
 * the host's inspector, which knows the model. */
function generatedTokenProblem(p: Obj): string | undefined {
  if (!isCount(p.index) || !isCount(p.id) || !isCount(p.position)) return 'index, id and position are required';
  if ((p.position as number) < (p.index as number)) return 'position must be at least the index';
  if (!Array.isArray(p.rows) || !p.rows.every(isBuffer)) return 'rows must be ArrayBuffers';
  const keys = (p.position as number) + 1;
  for (const r of p.rows as ArrayBuffer[])
    if (r.byteLength === 0 || r.byteLength % (4 * keys) !== 0)
      return `a row has ${r.byteLength} bytes, not heads × ${keys} keys of float32`;
  return p.end === undefined || ENDS.includes(p.end as string) ? undefined : 'end must be stop or length';
}

/** Why an event the webview streams for `name` is malformed (checked by the host). */
export function checkInferEvent(name: string, p: unknown): string | undefined {
  if (!isObj(p)) return 'the event must be an object';
  if (name === 'inferLoad') {
    if (!isText(p.phase)) return 'phase is required';
    return p.fraction === undefined || (typeof p.fraction === 'number' && p.fraction >= 0 && p.fraction <= 1)
      ? undefined
      : 'fraction must be in [0, 1]';
  }
  if (name === 'inferGenerate') return generatedTokenProblem(p);
  if (name !== 'inferRun') return `"${name}" streams no events`;
  if (p.type === 'fallback') return isText(p.reason) ? undefined : 'reason must be a string';
  if (p.type !== 'layer') return 'an event of a run is a layer or a fallback';
  if (!isCount(p.layer) || !KINDS.includes(p.kind as string)) return 'layer and kind are required';
  if (!isPositive(p.heads) || !isPositive(p.queryLength) || !isPositive(p.keyLength))
    return 'heads, queryLength and keyLength must be positive integers';
  if (!isBuffer(p.data)) return 'data must be an ArrayBuffer';
  const want = (p.heads as number) * (p.queryLength as number) * (p.keyLength as number) * 4;
  if (p.data.byteLength !== want) return `data has ${p.data.byteLength} bytes; [heads, query, key] needs ${want}`;
  if ((p.q !== undefined && !isBuffer(p.q)) || (p.k !== undefined && !isBuffer(p.k)))
    return 'q and k must be ArrayBuffers';
  return undefined;
}

/** Why the webview's note `name` is malformed (checked by the host); undefined for a note of another part. */
export function checkInferNote(name: string, p: unknown): string | undefined {
  if (name !== 'inferEnded') return undefined;
  return isObj(p) && isText(p.reason) ? undefined : 'reason must be a string';
}
