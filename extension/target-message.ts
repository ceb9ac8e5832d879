// The target side of an encoder–decoder run as the panel receives it: the runtime's RunTargetResult (target tokens,
// decoder inputs, their log-probabilities, how it ended, the beam size) turned into the protocol's `target` note, with
// the translation as text decoded by the target tokenizer (special tokens such as </s> left out), so the webview
// shows what the model wrote; and each greedy step as it streams (`targetStep`: the token and its rows).
import type { RunTargetResult, TargetStep } from '../runtime/inspector/api';
import type { Tokenizer } from '../runtime/tokenizers/tokenizer';
import type { Token } from '../runtime/types';
import type { TargetMessage, TargetStepMessage, TokenInfo } from '../protocol/messages';

function info(t: Token): TokenInfo {
  return { text: t.text, start: t.start, end: t.end, special: t.special };
}

/** Target tokens as text: the target tokenizer's decoding of those that are not special. */
function decodeTarget(tokens: readonly Token[], tokenizer: Tokenizer | undefined): string {
  const words = tokens.filter((x) => !x.special);
  const decoder = tokenizer?.target ?? tokenizer;
  return decoder ? decoder.decode(words.map((x) => x.id)) : words.map((x) => x.text).join(' ');
}

/** The `target` note of run `runId`; `tokenizer` is the model's (its `target` tokenizer decodes when it has one). */
export function targetMessage(runId: number, t: RunTargetResult, tokenizer: Tokenizer | undefined): TargetMessage {
  return {
    type: 'target',
    runId,
    tokens: t.tokens.map(info),
    decoderInput: t.decoderInput.map(info),
    mode: t.mode,
    ...(t.end ? { end: t.end } : {}),
    text: decodeTarget(t.tokens, tokenizer),
    logprobs: t.logprobs,
    ...(t.beams ? { beams: t.beams } : {}),
  };
}

const bytes = (a: Float32Array): ArrayBuffer =>
  (a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a.buffer : a.slice().buffer) as ArrayBuffer;

/** The `targetStep` note of a streamed greedy token; `sofar` are the target tokens up to and including it. */
export function targetStepMessage(
  runId: number,
  step: TargetStep,
  sofar: readonly Token[],
  tokenizer: Tokenizer | undefined,
): TargetStepMessage {
  return {
    type: 'targetStep',
    runId,
    index: step.index,
    token: info(step.token),
    logprob: step.logprob,
    text: decodeTarget(sofar, tokenizer),
    selfRows: step.selfRows.map(bytes),
    crossRows: step.crossRows.map(bytes),
  };
}
