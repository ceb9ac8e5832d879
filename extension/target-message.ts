// The target side of an encoder–decoder run as the panel receives it: the runtime's RunTargetResult (target tokens,
// decoder inputs, how it ended) turned into the protocol's `target` note, with the translation as text decoded by
// the target tokenizer (special tokens such as </s> left out), so the webview shows what the model wrote.
import type { RunTargetResult } from '../runtime/inspector/api';
import type { Tokenizer } from '../runtime/tokenizers/tokenizer';
import type { Token } from '../runtime/types';
import type { TargetMessage, TokenInfo } from '../protocol/messages';

function info(t: Token): TokenInfo {
  return { text: t.text, start: t.start, end: t.end, special: t.special };
}

/** The `target` note of run `runId`; `tokenizer` is the model's (its `target` tokenizer decodes when it has one). */
export function targetMessage(runId: number, t: RunTargetResult, tokenizer: Tokenizer | undefined): TargetMessage {
  const words = t.tokens.filter((x) => !x.special);
  const decoder = tokenizer?.target ?? tokenizer;
  const text = decoder ? decoder.decode(words.map((x) => x.id)) : words.map((x) => x.text).join(' ');
  return {
    type: 'target',
    runId,
    tokens: t.tokens.map(info),
    decoderInput: t.decoderInput.map(info),
    mode: t.mode,
    ...(t.end ? { end: t.end } : {}),
    text,
  };
}
