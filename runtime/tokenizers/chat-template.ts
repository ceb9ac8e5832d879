// A model's chat template (the Jinja template transformers' apply_chat_template renders), found where the model
// keeps it — tokenizer_config.json `chat_template` (a string, or a list of named templates: "default"),
// chat_template.jinja beside it (transformers 5 saves it there), or a GGUF file's tokenizer.chat_template — and
// rendered by @huggingface/jinja (a maintained Jinja implementation made for chat templates) with the variables
// transformers passes: messages, add_generation_prompt, the special tokens' strings (bos_token, eos_token...),
// tools and documents as none.
import { Template } from '@huggingface/jinja';
import { LensError } from '../errors';
import { asObject } from './errors';
import type { SpecialTokenNames } from './from-json';

export interface ChatTemplate {
  /** The Jinja source. */
  source: string;
  /** Where it came from (for messages): "tokenizer_config.json", "chat_template.jinja", "GGUF metadata". */
  origin: string;
  /** The special tokens' strings the template may use: bos_token, eos_token, unk_token, pad_token... */
  specialTokens: Record<string, string>;
}

export interface ChatMessage {
  role: string;
  content: string;
}

/** `{bos_token: "<s>", eos_token: "</s>", ...}` from the tokenizer's special-token names. */
export function templateSpecialTokens(names: SpecialTokenNames): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(names)) if (typeof v === 'string') out[`${k}_token`] = v;
  return out;
}

/**
 * tokenizer_config.json's `chat_template`: a string, or a list of `{name, template}` (the one named "default", as
 * transformers picks it). Undefined when there is none; a malformed value is a one-line BAD_TOKENIZER.
 */
export function chatTemplateOfConfig(value: unknown, file: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const named = value.map(asObject);
    const pick = named.find((t) => t?.name === 'default') ?? (named.length === 1 ? named[0] : undefined);
    if (pick && typeof pick.template === 'string') return pick.template;
  }
  throw new LensError(
    'BAD_TOKENIZER',
    `${file}: chat_template is neither a string nor a list with a "default" {name, template}; fix it or remove it to run the text as it is.`,
  );
}

/** Renders messages with the template, as transformers' apply_chat_template(tokenize=False) does. */
export function renderChat(chat: ChatTemplate, messages: ChatMessage[], addGenerationPrompt = true): string {
  let template: Template;
  try {
    template = new Template(chat.source);
  } catch (e) {
    throw new LensError(
      'BAD_CHAT_TEMPLATE',
      `The model's chat template (${chat.origin}) cannot be read: ${firstLine(e)}. Run the text without the chat template.`,
    );
  }
  try {
    return template.render({
      ...chat.specialTokens,
      messages,
      add_generation_prompt: addGenerationPrompt,
      tools: null,
      documents: null,
    });
  } catch (e) {
    throw new LensError(
      'BAD_CHAT_TEMPLATE',
      `The model's chat template (${chat.origin}) fails on a user message: ${firstLine(e)}. Run the text without the chat template.`,
    );
  }
}

function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return (m.split('\n')[0] || 'unknown error').slice(0, 200);
}
