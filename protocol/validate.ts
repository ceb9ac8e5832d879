// Validators for both directions of the panel protocol. Pure functions: no DOM, no 'vscode'.
// The host validates every webview message (shape, field types, ranges, runId) before use and drops the rest;
// the webview validates host messages too, so that a malformed message cannot throw inside a view.
import {
  COLOR_MAPS,
  MAX_LOG_LENGTH,
  PANEL_VIEWS,
  type HostMessage,
  type RunSource,
  type TokenInfo,
  type WebviewMessage,
} from './messages';

export type Validation<T> = { ok: true; message: T } | { ok: false; reason: string };

/** What the host knows about a panel's current run, to check the run-scoped fields of webview messages. */
export interface RunContext {
  /** The panel's current run, or undefined when it has none. */
  runId: number | undefined;
  layers: number;
  tokens: number;
  /** Heads per layer (checks `viewChanged`); any non-negative head is accepted when absent. */
  heads?: number;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}
function isIndex(v: unknown, length: number): v is number {
  return isInt(v) && v >= 0 && v < length;
}
function fail<T>(reason: string): Validation<T> {
  return { ok: false, reason };
}
/** Exactly these keys (besides `type`), so that unexpected payloads are rejected rather than carried along. */
function onlyKeys(m: Obj, keys: string[]): string | undefined {
  for (const k of Object.keys(m)) if (k !== 'type' && !keys.includes(k)) return `unexpected field '${k}'`;
  return undefined;
}

function checkRun(m: Obj, ctx: RunContext): string | undefined {
  if (!isInt(m.runId) || m.runId < 0) return 'runId must be a non-negative integer';
  if (ctx.runId === undefined) return 'the panel has no run';
  if (m.runId !== ctx.runId) return `runId ${m.runId} is not the panel's current run (${ctx.runId})`;
  return undefined;
}

/** Validates a message received from the webview against the panel's current run. */
export function validateWebviewMessage(raw: unknown, ctx: RunContext): Validation<WebviewMessage> {
  if (!isObj(raw)) return fail('not an object');
  const m = raw;
  let problem: string | undefined;
  switch (m.type) {
    case 'ready':
      problem = onlyKeys(m, []);
      return problem ? fail(problem) : { ok: true, message: { type: 'ready' } };
    case 'selectToken':
      problem = onlyKeys(m, ['runId', 'index']) ?? checkRun(m, ctx);
      if (!problem && !isIndex(m.index, ctx.tokens)) problem = `index must be an integer in [0, ${ctx.tokens})`;
      return problem
        ? fail(problem)
        : { ok: true, message: { type: 'selectToken', runId: m.runId as number, index: m.index as number } };
    case 'requestVectors':
      problem = onlyKeys(m, ['runId', 'layer']) ?? checkRun(m, ctx);
      if (!problem && !isIndex(m.layer, ctx.layers)) problem = `layer must be an integer in [0, ${ctx.layers})`;
      return problem
        ? fail(problem)
        : { ok: true, message: { type: 'requestVectors', runId: m.runId as number, layer: m.layer as number } };
    case 'cancel':
      problem = onlyKeys(m, ['runId']) ?? checkRun(m, ctx);
      return problem ? fail(problem) : { ok: true, message: { type: 'cancel', runId: m.runId as number } };
    case 'log':
      problem = onlyKeys(m, ['level', 'message']);
      if (!problem && m.level !== 'info' && m.level !== 'warn' && m.level !== 'error')
        problem = "level must be 'info', 'warn' or 'error'";
      if (!problem && typeof m.message !== 'string') problem = 'message must be a string';
      if (!problem && (m.message as string).length > MAX_LOG_LENGTH)
        problem = `message longer than ${MAX_LOG_LENGTH} characters`;
      return problem
        ? fail(problem)
        : { ok: true, message: { type: 'log', level: m.level as 'info', message: m.message as string } };
    case 'viewChanged': {
      problem = onlyKeys(m, ['runId', 'view', 'layer', 'head']) ?? checkRun(m, ctx);
      if (!problem && !PANEL_VIEWS.includes(m.view as never)) problem = `view must be one of ${PANEL_VIEWS.join(', ')}`;
      if (!problem && !isIndex(m.layer, ctx.layers)) problem = `layer must be an integer in [0, ${ctx.layers})`;
      const headOk =
        m.head === 'mean' ||
        m.head === 'max' ||
        (isInt(m.head) && m.head >= 0 && (ctx.heads === undefined || m.head < ctx.heads));
      if (!problem && !headOk) problem = `head must be 'mean', 'max' or an integer in [0, ${ctx.heads ?? '∞'})`;
      return problem
        ? fail(problem)
        : {
            ok: true,
            message: {
              type: 'viewChanged',
              runId: m.runId as number,
              view: m.view as 'grid',
              layer: m.layer as number,
              head: m.head as number,
            },
          };
    }
    case 'export':
      problem = onlyKeys(m, ['runId']) ?? checkRun(m, ctx);
      return problem ? fail(problem) : { ok: true, message: { type: 'export', runId: m.runId as number } };
    default:
      return fail(`unknown message type ${JSON.stringify(String(m.type)).slice(0, 60)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Host -> webview (structural checks; the host is trusted, but a bad message must not break the views)

const KINDS = ['self', 'causal', 'cross'];

function isTokenInfo(t: unknown): t is TokenInfo {
  if (!isObj(t)) return false;
  const span = (v: unknown) => v === null || (isInt(v) && v >= 0);
  return typeof t.text === 'string' && span(t.start) && span(t.end) && typeof t.special === 'boolean';
}

/** True for a well-formed RunSource (e.g. one read back from a restored panel's state). */
export function isRunSource(s: unknown): s is RunSource {
  return (
    isObj(s) &&
    typeof s.uri === 'string' &&
    Array.isArray(s.range) &&
    s.range.length === 4 &&
    s.range.every((n) => isInt(n) && n >= 0) &&
    typeof s.text === 'string' &&
    typeof s.modelPath === 'string' &&
    typeof s.truncate === 'boolean'
  );
}

function isPositive(v: unknown): v is number {
  return isInt(v) && v > 0;
}

/** Checks the shape of a message received from the host (sizes of binary payloads included). */
export function validateHostMessage(raw: unknown): Validation<HostMessage> {
  if (!isObj(raw)) return fail('not an object');
  const m = raw;
  const ok = { ok: true, message: m as unknown as HostMessage } as const;
  switch (m.type) {
    case 'settings':
      return COLOR_MAPS.includes(m.colorMap as never) ? ok : fail('unknown colour map');
    case 'runStarted': {
      if (!isInt(m.runId)) return fail('runId');
      if (!Array.isArray(m.tokens) || !m.tokens.every(isTokenInfo)) return fail('tokens');
      const f = m.facts;
      if (!isObj(f) || !isPositive(f.layers) || !isPositive(f.heads) || !isPositive(f.headDim)) return fail('facts');
      if (!Array.isArray(f.attentionKinds) || f.attentionKinds.length !== f.layers) return fail('facts.attentionKinds');
      if (!isRunSource(m.source)) return fail('source');
      return ok;
    }
    case 'layer': {
      if (!isInt(m.runId) || !isInt(m.layer) || m.layer < 0) return fail('runId/layer');
      if (!KINDS.includes(m.kind as string)) return fail('kind');
      if (!isPositive(m.heads) || !isPositive(m.queryLength) || !isPositive(m.keyLength)) return fail('sizes');
      if (!(m.data instanceof ArrayBuffer)) return fail('data must be an ArrayBuffer');
      const want = m.heads * m.queryLength * m.keyLength * 4;
      if (m.data.byteLength !== want) return fail(`data has ${m.data.byteLength} bytes, expected ${want}`);
      return ok;
    }
    case 'vectors': {
      if (!isInt(m.runId) || !isInt(m.layer)) return fail('runId/layer');
      const sizes = [m.heads, m.kvHeads, m.queryLength, m.keyLength, m.headDim];
      if (!sizes.every(isPositive)) return fail('sizes');
      if (m.q === null && m.k === null) return ok;
      if (!(m.q instanceof ArrayBuffer) || !(m.k instanceof ArrayBuffer)) return fail('q/k');
      const [h, kv, q, k, d] = sizes as number[];
      if (m.q.byteLength !== h * q * d * 4) return fail('q size');
      if (m.k.byteLength !== kv * k * d * 4) return fail('k size');
      return ok;
    }
    case 'runFinished':
      return isInt(m.runId) && (m.timings === null || isObj(m.timings)) ? ok : fail('runFinished');
    case 'runFailed':
      return isInt(m.runId) && typeof m.message === 'string' && typeof m.cancelled === 'boolean'
        ? ok
        : fail('runFailed');
    case 'notice':
      return typeof m.text === 'string' ? ok : fail('notice');
    case 'focusToken':
      return isInt(m.runId) && isInt(m.index) && m.index >= 0 ? ok : fail('focusToken');
    default:
      return fail('unknown message type');
  }
}
