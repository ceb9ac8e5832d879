// The selection run as a chat prompt: the text rendered as one user message by the model's own chat template (with
// add_generation_prompt), tokenized as transformers' apply_chat_template tokenizes it (the whole prompt at once, no
// post-processor tokens: the template writes its own), then split into the user's tokens — their offsets moved back
// into the selection, exactly — and template tokens (role markers, special tokens, a default system prompt, the
// generation prompt): `template: true`, `special: true`, no offsets, so hover and tint skip them, the figures draw
// them dimmer and explanations leave them out of their candidates by default.
import { LensError } from '../errors';
import type { Token } from '../types';
import { renderChat, type ChatTemplate } from './chat-template';
import type { Tokenizer } from './tokenizer';

/** Stands in for the user's text to find what the template writes around it (Private Use Area: no template
 * filter changes it, no tokenizer gives it meaning). */
const PLACEHOLDER = '\uE000attention-lens-user-text\uE001';

export interface ChatPrompt {
  /** The rendered prompt. */
  prompt: string;
  /** Where the user's text (or the part of it the template kept, e.g. trimmed) lies in the prompt. */
  userStart: number;
  userEnd: number;
  /** Offset of that part within the user's text (0 unless the template trimmed leading whitespace). */
  textStart: number;
}

function changed(chat: ChatTemplate): LensError {
  return new LensError(
    'BAD_CHAT_TEMPLATE',
    `The model's chat template (${chat.origin}) rewrites the user's text, so its tokens cannot be mapped back to the selection; run the text without the chat template.`,
  );
}

/** Renders `text` as the user message and finds it in the prompt. */
export function chatPrompt(chat: ChatTemplate, text: string): ChatPrompt {
  const prompt = renderChat(chat, [{ role: 'user', content: text }]);
  const around = renderChat(chat, [{ role: 'user', content: PLACEHOLDER }]);
  const at = around.indexOf(PLACEHOLDER);
  if (at < 0 || around.indexOf(PLACEHOLDER, at + 1) >= 0) throw changed(chat);
  const prefix = around.slice(0, at);
  const suffix = around.slice(at + PLACEHOLDER.length);
  if (!prompt.startsWith(prefix) || !prompt.endsWith(suffix) || prompt.length < prefix.length + suffix.length) {
    throw changed(chat);
  }
  const kept = prompt.slice(prefix.length, prompt.length - suffix.length);
  // Verbatim, or a part of it (a template that trims the content); anything else is a rewrite.
  const textStart = kept === text ? 0 : kept.length > 0 ? text.indexOf(kept) : -1;
  if (textStart < 0) throw changed(chat);
  return { prompt, userStart: prefix.length, userEnd: prefix.length + kept.length, textStart };
}

/**
 * The tokens of `text` as a chat prompt: every token of the rendered prompt, the user's with [start, end) offsets
 * into `text` (a token that straddles the user's text and the template's keeps the user's part), the template's
 * marked `template` with null offsets.
 */
export function encodeChatPrompt(tokenizer: Tokenizer, text: string, modelName: string): Token[] {
  const chat = tokenizer.chatTemplate;
  if (!chat) {
    throw new LensError(
      'NO_CHAT_TEMPLATE',
      `${modelName} has no chat template (tokenizer_config.json chat_template, chat_template.jinja or GGUF tokenizer.chat_template): run the text as it is (Show Attention, or the CLI without --chat).`,
    );
  }
  const p = chatPrompt(chat, text);
  const shift = p.userStart - p.textStart; // prompt offset − text offset
  return tokenizer.encode(p.prompt, { addSpecialTokens: false }).map((t): Token => {
    const { start, end } = t;
    const inside =
      start !== null &&
      end !== null &&
      (start === end ? start >= p.userStart && start < p.userEnd : start < p.userEnd && end > p.userStart);
    if (!inside) return { id: t.id, text: t.text, start: null, end: null, special: true, template: true };
    return { ...t, start: Math.max(start, p.userStart) - shift, end: Math.min(end, p.userEnd) - shift };
  });
}
