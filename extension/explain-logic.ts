// Pure decisions of the Explain view's host side (extension/explain-host.ts): what to tell the user before running
// anything, how progress and errors read in the view, and the comparison of two attention maps as the message the
// webview draws. vscode-free, so that unit tests can check it.
import type { ExplainProgress } from '../runtime/explain/explain';
import { parseTargetSpec } from '../runtime/explain/target-spec';
import { alignTokens, compareMaps, type HeadSelector } from '../runtime/explain/compare-maps';
import { isLensError } from '../runtime/errors';
import type { ModelFacts } from '../runtime/types';
import {
  EXPLAIN_METHODS,
  type CompareMode,
  type CompareResultMessage,
  type ExplainRequestKind,
  type TokenInfo,
} from '../protocol/messages';
import { describeError } from './input';

/** Methods that read the value vectors (Kobayashi et al. 2020), which imported ONNX exports do not expose. */
export const NORM_METHODS: readonly string[] = ['norm', 'norm-rollout'];

export const EMPTY_REFERENCE =
  'Type a reference text: a similarity target explains the cosine similarity of this input’s embedding with the reference’s.';
export const EMPTY_SECOND_INPUT = 'Type a second input to compare this one with.';

export function methodLabel(id: string): string {
  return EXPLAIN_METHODS.find((m) => m.id === id)?.label ?? (id === 'uniform' ? 'Uniform attention (baseline)' : id);
}

/** Why an explanation cannot run for this model, target and methods, before any model pass; undefined when it can.
 *  Targets that parse but do not fit the model or the text are reported by the runtime when it plans the target. */
export function checkExplainRequest(facts: ModelFacts, target: string, methods: readonly string[]): string | undefined {
  if (/^similarity:\s*$/.test(target)) return EMPTY_REFERENCE;
  try {
    parseTargetSpec(target);
  } catch (e) {
    return describeError(e).message;
  }
  if (methods.length === 0) return 'Choose at least one method.';
  const norm = methods.filter((m) => NORM_METHODS.includes(m));
  if (facts.family === 'onnx' && norm.length)
    return (
      `${norm.map(methodLabel).join(' and ')} need${norm.length === 1 ? 's' : ''} the value vectors, which an imported ONNX ` +
      'export does not expose: untick it, or load the model’s Hugging Face folder (config.json + model.safetensors).'
    );
  return undefined;
}

/** The one-line message of a failed explanation or comparison (never a stack trace). */
export function explainFailure(e: unknown, kind: ExplainRequestKind): { message: string; cancelled: boolean } {
  const what = kind === 'explain' ? 'explanation' : 'comparison';
  if (isLensError(e) && e.code === 'CANCELLED') return { message: `The ${what} was cancelled.`, cancelled: true };
  if (isLensError(e) && e.code === 'DISPOSED')
    return {
      message: `The model was released (idle, or another model was chosen) before the ${what} finished: run Show Attention again, then ask again.`,
      cancelled: false,
    };
  if (e instanceof Error && e.name === 'AbortError') return { message: `The ${what} was cancelled.`, cancelled: true };
  return { message: describeError(e).message, cancelled: false };
}

/** The status line of an explanation in flight. */
export function progressText(p: ExplainProgress): string {
  switch (p.phase) {
    case 'main-pass':
      return 'Running the model on the input…';
    case 'method':
      return `Method ${(p.done ?? 0) + 1} of ${p.total ?? '?'}: ${methodLabel(p.method ?? '')}…`;
    case 'faithfulness':
      return 'Faithfulness: re-running the model without (and with only) the top tokens of each method…';
    case 'erasure':
      return 'Erasure curves…';
    case 'done':
      return 'Done.';
  }
}

export function headLabel(head: HeadSelector): string {
  return typeof head === 'number' ? `head ${head}` : `${head} of heads`;
}

/** One side of a comparison before it is sent. */
export interface CompareSide {
  label: string;
  tokens: TokenInfo[];
  causal: boolean;
  /** [n, n] */
  map: Float32Array;
}

/** What a comparison computed, kept by the host for replay and export. */
export interface Comparison {
  mode: CompareMode;
  layer: number;
  a: CompareSide;
  b: CompareSide;
  alignA: Int32Array;
  alignB: Int32Array;
  diff: Float32Array;
  rowJsd: Float32Array;
  jsd: number;
  tvd: number;
  truncatedFrom?: number;
}

/** Compares two maps of one layer: every position for two heads of one input, the aligned tokens for two inputs. */
export function compare(mode: CompareMode, layer: number, a: CompareSide, b: CompareSide): Comparison {
  const na = a.tokens.length;
  const nb = b.tokens.length;
  const [ia, ib] =
    mode === 'heads' && na === nb
      ? [Array.from({ length: na }, (_, i) => i), Array.from({ length: nb }, (_, i) => i)]
      : alignTokens(
          a.tokens.map((t) => t.text),
          b.tokens.map((t) => t.text),
        );
  const c = compareMaps(a.map, na, b.map, nb, ia, ib);
  return {
    mode,
    layer,
    a,
    b,
    alignA: Int32Array.from(ia),
    alignB: Int32Array.from(ib),
    diff: c.diff,
    rowJsd: Float32Array.from(c.rowJsd),
    jsd: c.jsd,
    tvd: c.tvd,
  };
}

/** The ArrayBuffer of exactly this typed array's bytes. */
function own(a: Float32Array | Int32Array): ArrayBuffer {
  if (a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) return a.buffer;
  return a.slice().buffer as ArrayBuffer;
}

const finite = (v: number) => (Number.isFinite(v) ? v : null);

/** The compareResult message of a comparison (every map an ArrayBuffer of float32/int32). */
export function compareMessage(runId: number, c: Comparison): CompareResultMessage {
  const side = (s: CompareSide) => ({ label: s.label, tokens: s.tokens, causal: s.causal, data: own(s.map) });
  return {
    type: 'compareResult',
    runId,
    mode: c.mode,
    layer: c.layer,
    a: side(c.a),
    b: side(c.b),
    alignA: own(c.alignA),
    alignB: own(c.alignB),
    diff: own(c.diff),
    rowJsd: own(c.rowJsd),
    jsd: finite(c.jsd),
    tvd: finite(c.tvd),
    ...(c.truncatedFrom !== undefined ? { truncatedFrom: c.truncatedFrom } : {}),
  };
}

/** The comparison as JSON data (maps as nested arrays; NaN as null). */
export function comparisonJson(c: Comparison, modelName: string): unknown {
  const rows = (data: Float32Array, n: number) =>
    Array.from({ length: n }, (_, r) => Array.from(data.subarray(r * n, (r + 1) * n), finite));
  const side = (s: CompareSide) => ({
    label: s.label,
    tokens: s.tokens,
    causal: s.causal,
    attention: rows(s.map, s.tokens.length),
  });
  return {
    model: modelName,
    mode: c.mode,
    layer: c.layer,
    a: side(c.a),
    b: side(c.b),
    aligned: Array.from(c.alignA, (i, k) => [i, c.alignB[k]]),
    difference: rows(c.diff, c.alignA.length),
    rowJsd: Array.from(c.rowJsd, finite),
    jsd: finite(c.jsd),
    tvd: finite(c.tvd),
    ...(c.truncatedFrom !== undefined ? { truncatedFrom: c.truncatedFrom } : {}),
  };
}
