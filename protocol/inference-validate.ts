// Validators of the in-webview inference channel (inference.ts), both directions. Pure: no DOM, no 'vscode'. The host
// checks every layer's byte size against its shape before the data reaches a view, the hover or an export.
import { attentionFactsProblem } from './facts-validate';
import type { InferHostMessage, InferWebviewMessage } from './inference';

export type InferValidation<T> = { ok: true; message: T } | { ok: false; reason: string };

type Obj = Record<string, unknown>;

const KINDS = ['self', 'causal', 'cross'];
const BACKENDS = ['webgpu', 'wasm'];
const MAX_TEXT = 4000;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isPositive = (v: unknown): v is number => isCount(v) && v > 0;
const isText = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_TEXT;
const isBuffer = (v: unknown): v is ArrayBuffer => v instanceof ArrayBuffer;

function problem(m: Obj): string | undefined {
  switch (m.type) {
    case 'inferProbed':
      if (!isCount(m.probeId)) return 'probeId must be a non-negative integer';
      if (m.adapter !== null && !isText(m.adapter)) return 'adapter must be a string or null';
      if (m.reason !== undefined && !isText(m.reason)) return 'reason must be a string';
      return undefined;
    case 'inferProgress':
      if (!isCount(m.loadId) || !isText(m.phase)) return 'loadId and phase are required';
      if (m.fraction !== undefined && !(typeof m.fraction === 'number' && m.fraction >= 0 && m.fraction <= 1))
        return 'fraction must be in [0, 1]';
      return undefined;
    case 'inferLoaded': {
      if (!isCount(m.loadId) || !BACKENDS.includes(m.backend as string) || !isText(m.note))
        return 'loadId, backend and note are required';
      const f = m.facts as Obj;
      if (!isObj(f) || !isPositive(f.layers) || !isPositive(f.heads) || !isPositive(f.headDim) || !isPositive(f.hidden))
        return 'facts must give positive layers, heads, headDim and hidden';
      if (!Array.isArray(f.attentionKinds) || f.attentionKinds.length !== f.layers)
        return 'facts.attentionKinds must have one entry per layer';
      const extras = attentionFactsProblem(f);
      if (extras) return extras;
      if (m.adapter !== undefined && !isText(m.adapter)) return 'adapter must be a string';
      return undefined;
    }
    case 'inferLoadFailed':
    case 'inferFailed':
      if (!isCount(m.type === 'inferFailed' ? m.runId : m.loadId)) return 'the id must be a non-negative integer';
      if (!isText(m.code) || !isText(m.message)) return 'code and message must be strings';
      return undefined;
    case 'inferLayer': {
      if (!isCount(m.runId) || !isCount(m.layer) || !KINDS.includes(m.kind as string))
        return 'runId, layer and kind are required';
      if (!isPositive(m.heads) || !isPositive(m.queryLength) || !isPositive(m.keyLength))
        return 'heads, queryLength and keyLength must be positive integers';
      if (!isBuffer(m.data)) return 'data must be an ArrayBuffer';
      const want = (m.heads as number) * (m.queryLength as number) * (m.keyLength as number) * 4;
      if (m.data.byteLength !== want) return `data has ${m.data.byteLength} bytes; [heads, query, key] needs ${want}`;
      if ((m.q !== undefined && !isBuffer(m.q)) || (m.k !== undefined && !isBuffer(m.k)))
        return 'q and k must be ArrayBuffers';
      return undefined;
    }
    case 'inferDone':
      if (!isCount(m.runId) || !isBuffer(m.lastHidden)) return 'runId and lastHidden are required';
      if (!Array.isArray(m.stageMs) || !m.stageMs.every((x) => typeof x === 'number')) return 'stageMs must be numbers';
      return undefined;
    case 'inferFallback':
      if (m.runId !== undefined && !isCount(m.runId)) return 'runId must be a non-negative integer';
      return isText(m.reason) ? undefined : 'reason must be a string';
    case 'inferEnded':
      return m.reason === undefined || isText(m.reason) ? undefined : 'reason must be a string';
    default:
      return `unknown inference message ${JSON.stringify(String(m.type)).slice(0, 60)}`;
  }
}

/** Validates a message of this channel received from the webview. */
export function validateInferWebviewMessage(raw: unknown): InferValidation<InferWebviewMessage> {
  if (!isObj(raw)) return { ok: false, reason: 'not an object' };
  const why = problem(raw);
  return why ? { ok: false, reason: why } : { ok: true, message: raw as unknown as InferWebviewMessage };
}

/** Validates a message of this channel received from the host. */
export function validateInferHostMessage(raw: unknown): InferValidation<InferHostMessage> {
  if (!isObj(raw)) return { ok: false, reason: 'not an object' };
  const m = raw;
  let why: string | undefined;
  switch (m.type) {
    case 'inferProbe':
      why = isCount(m.probeId) ? undefined : 'probeId must be a non-negative integer';
      break;
    case 'inferLoad':
      if (!isCount(m.loadId) || !isPositive(m.maxTokens)) why = 'loadId and maxTokens are required';
      else if (![m.modelBase, m.workerUrl, m.wasmUrl].every((u) => typeof u === 'string' && u.length > 0))
        why = 'modelBase, workerUrl and wasmUrl must be URLs';
      else if (!BACKENDS.includes(m.backend as string) || (m.fallback !== 'wasm' && m.fallback !== 'fail'))
        why = 'backend or fallback is invalid';
      break;
    case 'inferRun':
      if (!isCount(m.runId) || !Array.isArray(m.ids) || !m.ids.every(isCount)) why = 'runId and ids are required';
      else if (typeof m.withVectors !== 'boolean' && !(Array.isArray(m.withVectors) && m.withVectors.every(isCount)))
        why = 'withVectors must be a boolean or layer indices';
      break;
    case 'inferCancel':
      why = isCount(m.runId) ? undefined : 'runId must be a non-negative integer';
      break;
    case 'inferDispose':
      break;
    case 'inferLoseDevice':
      why = m.afterLayer === undefined || isCount(m.afterLayer) ? undefined : 'afterLayer must be a layer index';
      break;
    default:
      why = `unknown inference message ${JSON.stringify(String(m.type)).slice(0, 60)}`;
  }
  return why ? { ok: false, reason: why } : { ok: true, message: m as unknown as InferHostMessage };
}
