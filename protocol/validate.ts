// Validators for both directions of the panel protocol (messages.ts). Pure functions: no DOM, no 'vscode'.
// The host validates every webview note and request (shape, field types, ranges, runId) before use and drops or
// refuses the rest; the webview validates the host's notes, replies and events too, so that a malformed message
// cannot throw inside a view. panel-channel.ts hands them to the channel as its checks.
import type { AttentionKind } from '../runtime/types';
import { attentionFactsProblem } from './facts-validate';
import {
  AGREEMENT_METRICS,
  COLOR_MAPS,
  EXPLAIN_METHODS,
  MAX_COMPARE_TEXT_LENGTH,
  MAX_DROPPED_TEXT,
  MAX_DROPPED_URI,
  MAX_KEPT_WINDOW,
  MAX_VECTOR_KEYS,
  MAX_LOG_LENGTH,
  MAX_CONTINUE_TOKENS,
  MAX_TARGET_LENGTH,
  PANEL_TABS,
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
/** Why `value` is not one of `allowed`, or undefined when it is. */
function notOneOf(name: string, value: unknown, allowed: readonly string[]): string | undefined {
  return allowed.includes(value as string) ? undefined : `${name} must be one of ${allowed.join(', ')}`;
}

/** Exactly these keys (besides `type`), so that unexpected payloads are rejected rather than carried along. */
function onlyKeys(m: Obj, keys: string[]): string | undefined {
  for (const k of Object.keys(m)) if (k !== 'type' && !keys.includes(k)) return `unexpected field '${k}'`;
  return undefined;
}

/** A head of the run, or 'mean' / 'max' over its heads. */
function isHeadChoice(v: unknown, heads: number | undefined): v is number | 'mean' | 'max' {
  return v === 'mean' || v === 'max' || (isInt(v) && v >= 0 && (heads === undefined || v < heads));
}

/** The grammar of target specs (runtime/explain/target-spec.ts); the host parses them and explains what is wrong
 *  with one that fits the grammar but not the model or the text (an empty reference, a position past the end). */
const TARGET_GRAMMAR =
  /^(next|mask|next:[\s\S]+|mask:[\s\S]+|mask@\d+|token:\d+:\d+|generated:\d+|similarity:[\s\S]*|target|target:[1-9]\d*|contrast:[^|]+\|[^|]+|prob:(next|next:[\s\S]+|token:\d+:\d+|generated:\d+))$/;
const METHOD_IDS = EXPLAIN_METHODS.map((m) => m.id);
const REQUEST_KINDS = ['explain', 'compare'];

function checkTarget(v: unknown): string | undefined {
  if (typeof v !== 'string') return 'target must be a string';
  if (v.length > MAX_TARGET_LENGTH) return `target longer than ${MAX_TARGET_LENGTH} characters`;
  if (!TARGET_GRAMMAR.test(v.trim()))
    return 'target must be [prob:]next, [prob:]next:TOKEN, [prob:]token:POS:ID, [prob:]generated:N, contrast:A|B[@…], mask, mask:TOKEN, mask@POS, similarity:TEXT, target or target:POS';
  return undefined;
}

function checkMethods(v: unknown): string | undefined {
  if (!Array.isArray(v) || v.length === 0 || v.length > METHOD_IDS.length)
    return `methods must be a non-empty array of at most ${METHOD_IDS.length} method ids`;
  if (!v.every((x) => typeof x === 'string' && METHOD_IDS.includes(x)))
    return `methods must be among ${METHOD_IDS.join(', ')}`;
  if (new Set(v).size !== v.length) return 'methods must not repeat';
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
    case 'generatedText':
      problem = onlyKeys(m, ['runId', 'action']) ?? checkRun(m, ctx);
      if (!problem && m.action !== 'insert' && m.action !== 'copy') problem = "action must be 'insert' or 'copy'";
      return problem
        ? fail(problem)
        : {
            ok: true,
            message: { type: 'generatedText', runId: m.runId as number, action: m.action as 'insert' | 'copy' },
          };
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
      problem = onlyKeys(m, ['runId', 'view', 'layer', 'head', 'window']) ?? checkRun(m, ctx);
      problem ??= notOneOf('view', m.view, PANEL_VIEWS);
      if (!problem && !isIndex(m.layer, ctx.layers)) problem = `layer must be an integer in [0, ${ctx.layers})`;
      const headOk =
        m.head === 'mean' ||
        m.head === 'max' ||
        (isInt(m.head) && m.head >= 0 && (ctx.heads === undefined || m.head < ctx.heads));
      if (!problem && !headOk) problem = `head must be 'mean', 'max' or an integer in [0, ${ctx.heads ?? '∞'})`;
      // Within any run's lengths (a decoder's target may be longer than the source: the export checks the layer).
      const span = (x: unknown) => isSpan(x, 1 << 20);
      const w = m.window;
      if (
        !problem &&
        w !== undefined &&
        !(isObj(w) && onlyKeys(w, ['rows', 'cols']) === undefined && span(w.rows) && span(w.cols))
      )
        problem = 'window must be { rows: { start, end }, cols: { start, end } } with whole numbers, start < end';
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
              ...(w !== undefined
                ? { window: w as { rows: { start: number; end: number }; cols: { start: number; end: number } } }
                : {}),
            },
          };
    }
    case 'tabChanged':
      // Not about a run: a panel without one has tabs too.
      problem = onlyKeys(m, ['tab', 'mode', 'metric']);
      problem ??= notOneOf('tab', m.tab, PANEL_TABS);
      if (!problem && !REQUEST_KINDS.includes(m.mode as string)) problem = "mode must be 'explain' or 'compare'";
      problem ??= notOneOf('metric', m.metric, AGREEMENT_METRICS);
      return problem
        ? fail(problem)
        : {
            ok: true,
            message: {
              type: 'tabChanged',
              tab: m.tab as 'explain',
              mode: m.mode as 'explain',
              metric: m.metric as 'kendall',
            },
          };
    case 'export':
      problem = onlyKeys(m, ['runId']) ?? checkRun(m, ctx);
      return problem ? fail(problem) : { ok: true, message: { type: 'export', runId: m.runId as number } };
    case 'exportExplain':
      problem = onlyKeys(m, ['runId', 'what', 'metric']) ?? checkRun(m, ctx);
      if (!problem && m.what !== 'explain' && m.what !== 'compare') problem = "what must be 'explain' or 'compare'";
      problem ??= notOneOf('metric', m.metric, AGREEMENT_METRICS);
      return problem
        ? fail(problem)
        : {
            ok: true,
            message: {
              type: 'exportExplain',
              runId: m.runId as number,
              what: m.what as 'explain',
              metric: m.metric as 'kendall',
            },
          };
    case 'openDropped': {
      // Not about a run: a file may be dropped onto an empty panel.
      problem = onlyKeys(m, ['uri', 'text', 'name', 'npy', 'npyName']);
      const files = m.text !== undefined || m.npy !== undefined;
      if (!problem && (m.uri === undefined) === !files) problem = 'exactly one of uri and the dropped files';
      if (!problem && m.uri !== undefined) {
        if (
          typeof m.uri !== 'string' ||
          m.uri.length > MAX_DROPPED_URI ||
          !/^(file|vscode-remote):\/\/[^\s]*\.(json|npy)$/i.test(m.uri)
        )
          problem = `uri must be a file: or vscode-remote: URI of a .json or .npy file, at most ${MAX_DROPPED_URI} characters`;
      }
      if (!problem && m.text !== undefined && (typeof m.text !== 'string' || m.text.length > MAX_DROPPED_TEXT))
        problem = `text must be a string of at most ${MAX_DROPPED_TEXT} characters`;
      if (!problem && m.name !== undefined && (typeof m.name !== 'string' || m.name.length > 255))
        problem = 'name must be a string of at most 255 characters';
      if (!problem && m.npy !== undefined && (!(m.npy instanceof ArrayBuffer) || m.npy.byteLength > MAX_DROPPED_TEXT))
        problem = `npy must be an ArrayBuffer of at most ${MAX_DROPPED_TEXT} bytes`;
      if (!problem && (m.npy === undefined) !== (m.npyName === undefined)) problem = 'npy and npyName go together';
      if (
        !problem &&
        m.npyName !== undefined &&
        (typeof m.npyName !== 'string' || m.npyName.length > 255 || !/\.npy$/i.test(m.npyName))
      )
        problem = 'npyName must be the name of a .npy file, at most 255 characters';
      if (problem) return fail(problem);
      return {
        ok: true,
        message: {
          type: 'openDropped',
          ...(m.uri !== undefined ? { uri: m.uri as string } : {}),
          ...(m.text !== undefined ? { text: m.text as string } : {}),
          ...(m.name !== undefined ? { name: m.name as string } : {}),
          ...(m.npy !== undefined ? { npy: m.npy as ArrayBuffer, npyName: m.npyName as string } : {}),
        },
      };
    }
    default:
      return fail(`unknown message type ${JSON.stringify(String(m.type)).slice(0, 60)}`);
  }
}

/** Why the webview's request `name` (PanelCalls) is malformed for the panel's current run, or undefined. */
export function checkPanelRequest(name: string, raw: unknown, ctx: RunContext): string | undefined {
  if (!isObj(raw)) return 'not an object';
  const m = raw;
  switch (name) {
    case 'vectors': {
      const problem = onlyKeys(m, ['runId', 'layer', 'window']) ?? checkRun(m, ctx);
      if (problem) return problem;
      if (!isIndex(m.layer, ctx.layers)) return `layer must be an integer in [0, ${ctx.layers})`;
      if (m.window === undefined) return undefined;
      const w = m.window;
      if (!isObj(w) || Object.keys(w).length !== 2) return 'window must be { query, keys }';
      if (!isIndex(w.query, ctx.tokens)) return `window.query must be an integer in [0, ${ctx.tokens})`;
      if (!isSpan(w.keys, ctx.tokens)) return `window.keys must be a span inside the ${ctx.tokens} tokens`;
      return w.keys.end - w.keys.start <= MAX_VECTOR_KEYS
        ? undefined
        : `window.keys must cover at most ${MAX_VECTOR_KEYS} keys`;
    }
    case 'keptWindow':
      return onlyKeys(m, ['runId', 'layer', 'head', 'rows', 'cols']) ?? checkRun(m, ctx) ?? checkKeptWindow(m, ctx);
    case 'explain':
      return (
        onlyKeys(m, ['runId', 'target', 'methods']) ??
        checkRun(m, ctx) ??
        checkTarget(m.target) ??
        checkMethods(m.methods)
      );
    case 'generate': {
      const problem = onlyKeys(m, ['runId', 'maxNew', 'temperature', 'topP', 'seed']) ?? checkRun(m, ctx);
      if (problem) return problem;
      if (!isInt(m.maxNew) || m.maxNew < 1 || m.maxNew > MAX_CONTINUE_TOKENS)
        return `maxNew must be an integer in [1, ${MAX_CONTINUE_TOKENS}]`;
      const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
      if (m.temperature !== undefined && !(finite(m.temperature) && (m.temperature as number) >= 0))
        return 'temperature must be a number ≥ 0';
      if (m.topP !== undefined && !(finite(m.topP) && (m.topP as number) > 0 && (m.topP as number) <= 1))
        return 'topP must be in (0, 1]';
      if (m.seed !== undefined && !(isInt(m.seed) && m.seed >= 0 && m.seed <= 0xffffffff))
        return 'seed must be an integer in [0, 4294967295]';
      return undefined;
    }
    case 'compare': {
      const problem = onlyKeys(m, ['runId', 'mode', 'layer', 'a', 'b', 'text']) ?? checkRun(m, ctx);
      if (problem) return problem;
      if (m.mode !== 'heads' && m.mode !== 'inputs') return "mode must be 'heads' or 'inputs'";
      if (!isIndex(m.layer, ctx.layers)) return `layer must be an integer in [0, ${ctx.layers})`;
      if (!isHeadChoice(m.a, ctx.heads) || !isHeadChoice(m.b, ctx.heads))
        return `heads a and b must be 'mean', 'max' or an integer in [0, ${ctx.heads ?? '∞'})`;
      if (m.mode === 'inputs') {
        if (typeof m.text !== 'string') return "text must be a string in mode 'inputs'";
        if (m.text.length > MAX_COMPARE_TEXT_LENGTH) return `text longer than ${MAX_COMPARE_TEXT_LENGTH} characters`;
      }
      if (m.mode === 'heads' && m.text !== undefined) return "text is only for mode 'inputs'";
      return undefined;
    }
    default:
      return `unknown request ${JSON.stringify(name).slice(0, 60)}`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Host -> webview (structural checks; the host is trusted, but a bad message must not break the views)

// Every AttentionKind (runtime/types.ts ATTENTION_KINDS; protocol/ imports only types from runtime/).
const KINDS: readonly string[] = ['self', 'causal', 'cross', 'encoder', 'decoder'] satisfies AttentionKind[];

function isTokenInfo(t: unknown): t is TokenInfo {
  if (!isObj(t)) return false;
  const span = (v: unknown) => v === null || (isInt(v) && v >= 0);
  return (
    typeof t.text === 'string' &&
    span(t.start) &&
    span(t.end) &&
    typeof t.special === 'boolean' &&
    (t.template === undefined || typeof t.template === 'boolean') &&
    (t.generated === undefined || typeof t.generated === 'boolean')
  );
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
    typeof s.truncate === 'boolean' &&
    (s.chat === undefined || typeof s.chat === 'boolean') &&
    (s.savedFile === undefined || (typeof s.savedFile === 'string' && s.savedFile.length > 0)) &&
    (s.generated === undefined ||
      (Array.isArray(s.generated) &&
        s.generated.length <= MAX_GENERATED_IDS &&
        s.generated.every((n) => isInt(n) && n >= 0))) &&
    (s.target === undefined || (typeof s.target === 'string' && s.target.trim().length > 0))
  );
}

/** Most output ids a run's source carries (the CLI's and the panel's most new tokens, several Continues). */
const MAX_GENERATED_IDS = 8192;

function isPositive(v: unknown): v is number {
  return isInt(v) && v > 0;
}

/** A number, or null (a non-finite number after the JSON crossing). */
function isNum(v: unknown): boolean {
  return v === null || typeof v === 'number';
}
const isStr = (v: unknown): v is string => typeof v === 'string';

/** The parts of an ExplainResult the Explain view reads, with every per-token vector as long as the tokens. */
export function isExplainResult(r: unknown): boolean {
  if (!isObj(r) || !isObj(r.model) || !isStr(r.model.name) || !isObj(r.target) || !isObj(r.timings)) return false;
  const t = r.target;
  if (!isStr(t.spec) || !isStr(t.label) || !isStr(t.kind) || !isStr(t.measure) || !isNum(t.value)) return false;
  if (!Array.isArray(r.tokens) || r.tokens.length === 0) return false;
  if (!r.tokens.every((x) => isTokenInfo(x) && isObj(x) && isInt(x.id))) return false;
  const n = r.tokens.length;
  if (!Array.isArray(r.candidates) || r.candidates.length !== n || !r.candidates.every((c) => typeof c === 'boolean'))
    return false;
  const methodOk = (m: unknown) =>
    isObj(m) &&
    isStr(m.id) &&
    isStr(m.label) &&
    isStr(m.kind) &&
    isNum(m.ms) &&
    (m.error === undefined || isStr(m.error)) &&
    Array.isArray(m.scores) &&
    (m.scores.length === 0 || m.scores.length === n) &&
    m.scores.every(isNum);
  const pairOk = (x: unknown) => isObj(x) && isStr(x.a) && isStr(x.b);
  const agreementOk = (x: unknown) =>
    pairOk(x) && isObj(x) && isNum(x.kendall) && isNum(x.spearman) && isNum(x.topK) && isInt(x.k);
  const distanceOk = (x: unknown) => pairOk(x) && isObj(x) && isNum(x.jsd) && isNum(x.tvd);
  const binOk = (b: unknown) =>
    isObj(b) && isNum(b.percent) && isInt(b.k) && isNum(b.comprehensiveness) && isNum(b.sufficiency);
  const faithOk = (f: unknown) =>
    isObj(f) &&
    isStr(f.method) &&
    isNum(f.full) &&
    isNum(f.aopcComprehensiveness) &&
    isNum(f.aopcSufficiency) &&
    Array.isArray(f.bins) &&
    f.bins.every(binOk);
  return (
    Array.isArray(r.methods) &&
    r.methods.every(methodOk) &&
    Array.isArray(r.agreement) &&
    r.agreement.every(agreementOk) &&
    Array.isArray(r.distance) &&
    r.distance.every(distanceOk) &&
    Array.isArray(r.faithfulness) &&
    r.faithfulness.every(faithOk) &&
    Array.isArray(r.erasure) &&
    Array.isArray(r.heads) &&
    (r.notes === undefined || (Array.isArray(r.notes) && r.notes.every(isStr))) &&
    (r.headSweep === undefined || isHeadSweep(r.headSweep))
  );
}

/** The head sweep the Explain view draws: a layers × heads grid of numbers (or null) and the recency value. */
function isHeadSweep(s: unknown): boolean {
  if (!isObj(s) || !isStr(s.reference) || !isInt(s.heads) || !isNum(s.recency)) return false;
  if (!Array.isArray(s.layers) || !s.layers.every(isInt) || s.layers.length > 1024 || s.heads > 1024) return false;
  return Array.isArray(s.values) && s.values.length === s.layers.length * s.heads && s.values.every(isNum);
}

function compareMapSize(v: unknown): number | undefined {
  if (!isObj(v) || !isStr(v.label) || typeof v.causal !== 'boolean') return undefined;
  if (!Array.isArray(v.tokens) || v.tokens.length === 0 || !v.tokens.every(isTokenInfo)) return undefined;
  const n = v.tokens.length;
  return v.data instanceof ArrayBuffer && v.data.byteLength === n * n * 4 ? n : undefined;
}

function checkCompareResult(m: Obj): string | undefined {
  if (!isInt(m.runId) || !isInt(m.layer) || m.layer < 0) return 'runId/layer';
  if (m.mode !== 'heads' && m.mode !== 'inputs') return 'mode';
  const na = compareMapSize(m.a);
  const nb = compareMapSize(m.b);
  if (na === undefined || nb === undefined) return 'maps a/b';
  if (!(m.alignA instanceof ArrayBuffer) || !(m.alignB instanceof ArrayBuffer)) return 'alignA/alignB';
  const k = m.alignA.byteLength / 4;
  if (!Number.isInteger(k) || m.alignB.byteLength !== k * 4 || k > Math.min(na, nb)) return 'alignment size';
  if (!(m.diff instanceof ArrayBuffer) || m.diff.byteLength !== k * k * 4) return 'diff size';
  if (!(m.rowJsd instanceof ArrayBuffer) || m.rowJsd.byteLength !== k * 4) return 'rowJsd size';
  if (!isNum(m.jsd) || !isNum(m.tvd)) return 'jsd/tvd';
  return undefined;
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
      const extras = attentionFactsProblem(f);
      if (extras) return fail(extras);
      if (!isRunSource(m.source)) return fail('source');
      if (typeof m.kept !== 'boolean') return fail('kept must be true or false');
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
    case 'target': {
      if (!isInt(m.runId)) return fail('runId');
      if (!Array.isArray(m.tokens) || !m.tokens.every(isTokenInfo)) return fail('target tokens');
      if (!Array.isArray(m.decoderInput) || !m.decoderInput.every(isTokenInfo)) return fail('target decoderInput');
      if (m.decoderInput.length !== m.tokens.length) return fail('target decoderInput must be as long as its tokens');
      if (m.mode !== 'teacher-forced' && m.mode !== 'translated') return fail('target mode');
      if (m.end !== undefined && m.end !== 'stop' && m.end !== 'length') return fail('target end');
      if (!Array.isArray(m.logprobs) || m.logprobs.length !== m.tokens.length || !m.logprobs.every(isNum))
        return fail('target logprobs must be numbers, one per token');
      if (m.beams !== undefined && !(isPositive(m.beams) && m.mode === 'translated')) return fail('target beams');
      return typeof m.text === 'string' ? ok : fail('target text');
    }
    case 'targetStep': {
      if (!isInt(m.runId) || !isInt(m.index) || m.index < 0) return fail('runId/index');
      if (!isTokenInfo(m.token) || !isNum(m.logprob) || typeof m.text !== 'string') return fail('targetStep token');
      const self = m.selfRows;
      const cross = m.crossRows;
      if (!Array.isArray(self) || !Array.isArray(cross) || self.length === 0 || self.length !== cross.length)
        return fail('targetStep rows: one self and one cross row per decoder layer');
      const row = (m.index + 1) * 4;
      if (!self.every((b) => b instanceof ArrayBuffer && b.byteLength > 0 && b.byteLength % row === 0))
        return fail('targetStep self rows must be [heads, index + 1] float32');
      if (!cross.every((b) => b instanceof ArrayBuffer && b.byteLength > 0 && b.byteLength % 4 === 0))
        return fail('targetStep cross rows must be float32');
      return ok;
    }
    case 'keptLayer': {
      if (!isInt(m.runId) || !isInt(m.layer) || m.layer < 0) return fail('runId/layer');
      if (!KINDS.includes(m.kind as string)) return fail('kind');
      if (![m.heads, m.length, m.res, m.block].every(isPositive)) return fail('sizes');
      if (typeof m.causal !== 'boolean' || !(m.window === null || isPositive(m.window))) return fail('mask');
      const want = (m.heads as number) * (m.res as number) * (m.res as number) * 4;
      for (const a of [m.blockMax, m.blockMean])
        if (!(a instanceof ArrayBuffer) || a.byteLength !== want) return fail(`overview must be ${want} bytes`);
      return ok;
    }
    case 'runFinished':
      return isInt(m.runId) && (m.timings === null || isObj(m.timings)) ? ok : fail('runFinished');
    case 'runFailed':
      return isInt(m.runId) && typeof m.message === 'string' && typeof m.cancelled === 'boolean'
        ? ok
        : fail('runFailed');
    case 'notice':
      return typeof m.text === 'string' && (m.busy === undefined || typeof m.busy === 'boolean') ? ok : fail('notice');
    case 'focusToken':
      return isInt(m.runId) && isInt(m.index) && m.index >= 0 ? ok : fail('focusToken');
    case 'explainResult':
      if (!isInt(m.runId)) return fail('runId');
      return isExplainResult(m.result) ? ok : fail('explainResult.result');
    case 'compareResult': {
      const problem = checkCompareResult(m);
      return problem ? fail(`compareResult: ${problem}`) : ok;
    }
    default:
      return fail('unknown message type');
  }
}

function checkVectors(m: Obj): string | undefined {
  if (!isInt(m.runId) || !isInt(m.layer)) return 'runId/layer';
  const sizes = [m.heads, m.kvHeads, m.queryLength, m.keyLength, m.headDim];
  if (!sizes.every(isPositive)) return 'sizes';
  if (m.q === null && m.k === null) return undefined;
  if (!(m.q instanceof ArrayBuffer) || !(m.k instanceof ArrayBuffer)) return 'q/k';
  const [h, kv, q, k, d] = sizes as number[];
  if (m.q.byteLength !== h * q * d * 4) return 'q size';
  if (m.k.byteLength !== kv * k * d * 4) return 'k size';
  if (m.window === undefined) return undefined;
  const w = m.window;
  if (!isObj(w) || !isInt(w.query) || w.query < 0 || !isInt(w.keyStart) || w.keyStart < 0) return 'window';
  if (q !== 1) return 'a window has one query';
  if (!Array.isArray(w.lse) || w.lse.length !== h || !w.lse.every((x) => typeof x === 'number' && Number.isFinite(x)))
    return 'window lse';
  return undefined;
}

/** A span [start, end) of at least one position inside `length`. */
function isSpan(v: unknown, length: number): v is { start: number; end: number } {
  return (
    isObj(v) &&
    Object.keys(v).length === 2 &&
    isInt(v.start) &&
    isInt(v.end) &&
    v.start >= 0 &&
    v.end > v.start &&
    v.end <= length
  );
}

/** A keptWindow request (or its reply, without the context's bounds): layer, head, spans inside the run, size. */
function checkKeptWindow(m: Obj, ctx?: RunContext): string | undefined {
  const layers = ctx?.layers ?? Number.MAX_SAFE_INTEGER;
  const heads = ctx?.heads ?? Number.MAX_SAFE_INTEGER;
  const tokens = ctx?.tokens ?? Number.MAX_SAFE_INTEGER;
  if (!isIndex(m.layer, layers)) return `layer must be an integer in [0, ${layers})`;
  if (!isIndex(m.head, heads)) return `head must be an integer in [0, ${heads})`;
  if (!isSpan(m.rows, tokens) || !isSpan(m.cols, tokens))
    return `rows and cols must be spans inside the ${tokens} tokens`;
  const entries = (m.rows.end - m.rows.start) * (m.cols.end - m.cols.start);
  return entries <= MAX_KEPT_WINDOW ? undefined : `a window of ${entries} entries is more than ${MAX_KEPT_WINDOW}`;
}

/** Why the host's reply to the webview's request `name` is malformed (checked by the webview), or undefined. */
export function checkPanelReply(name: string, m: unknown): string | undefined {
  if (!isObj(m)) return 'not an object';
  switch (name) {
    case 'vectors':
      return checkVectors(m);
    case 'keptWindow': {
      if (!isInt(m.runId)) return 'runId';
      const problem = checkKeptWindow(m);
      if (problem) return problem;
      const rows = m.rows as { start: number; end: number };
      const cols = m.cols as { start: number; end: number };
      const want = (rows.end - rows.start) * (cols.end - cols.start) * 4;
      return m.data instanceof ArrayBuffer && m.data.byteLength === want ? undefined : `data must be ${want} bytes`;
    }
    case 'explain':
      if (!isInt(m.runId)) return 'runId';
      return isExplainResult(m.result) ? undefined : 'result';
    case 'compare':
      return checkCompareResult(m);
    case 'generate': {
      if (!isInt(m.runId) || !isInt(m.count) || m.count < 0) return 'runId/count';
      if (m.end !== 'stop' && m.end !== 'length' && m.end !== 'stopped')
        return "end must be 'stop', 'length' or 'stopped'";
      if (!isStr(m.text)) return 'text';
      const d = m.decoding;
      if (
        !isObj(d) ||
        (d.kind !== 'greedy' && !(d.kind === 'sample' && isNum(d.temperature) && isNum(d.topP) && isInt(d.seed)))
      )
        return 'decoding';
      return isRunSource(m.source) ? undefined : 'source';
    }
    default:
      return `unknown request ${JSON.stringify(name).slice(0, 60)}`;
  }
}

/** Why a generated token's event is malformed: its token, and one float32 row [heads, position + 1] per layer
 *  (the sizes the webview checks against its run when it applies it). */
function checkGeneratedEvent(m: unknown): string | undefined {
  if (!isObj(m) || !isInt(m.runId) || !isInt(m.position) || m.position < 1) return 'runId/position';
  if (!isTokenInfo(m.token)) return 'token';
  if (!Array.isArray(m.rows) || m.rows.length === 0) return 'rows';
  const bytes = (m.position + 1) * 4;
  for (const r of m.rows)
    if (!(r instanceof ArrayBuffer) || r.byteLength === 0 || r.byteLength % bytes !== 0)
      return `each row must be float32 [heads, ${m.position + 1}]`;
  return undefined;
}

/** Why the progress the host streams for the webview's request `name` is malformed, or undefined. */
export function checkPanelEvent(name: string, m: unknown): string | undefined {
  if (name === 'generate') return checkGeneratedEvent(m);
  if (name !== 'explain' && name !== 'compare') return `"${name}" streams no events`;
  if (!isObj(m) || !isStr(m.text)) return 'progress needs a text';
  const count = (v: unknown) => v === undefined || (isInt(v) && v >= 0);
  return count(m.done) && count(m.total) ? undefined : 'done and total must be counts';
}
