// A model's chat template (the Jinja template transformers' apply_chat_template renders), found where the model
// keeps it — tokenizer_config.json `chat_template` (a string, or a list of named templates: "default"),
// chat_template.jinja beside it (transformers 5 saves it there), or a GGUF file's tokenizer.chat_template — and
// rendered by @huggingface/jinja (a maintained Jinja implementation made for chat templates) with the variables
// transformers passes: messages, add_generation_prompt, the special tokens' strings (bos_token, eos_token...),
// tools and documents as none.
import { Environment, Interpreter, Template } from '@huggingface/jinja';
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

/** The most numbers all of a render's range() calls may make: real templates count messages or tools (a few dozen);
 *  @huggingface/jinja's own range builds its whole list first, so range(10**12) aborted the process (a V8 fatal
 *  error no catch reaches) and nested ranges could run for hours. */
export const RANGE_BUDGET = 1_000_000;

/** Python's range() as @huggingface/jinja has it, within a budget of numbers shared by one render's calls. */
function boundedRange(): (start: number, stop?: number, step?: number) => number[] {
  let left = RANGE_BUDGET;
  return (start, stop, step = 1) => {
    if (stop === undefined) [start, stop] = [0, start];
    if (![start, stop, step].every(Number.isFinite)) throw new Error('range() takes finite numbers');
    if (step === 0) throw new Error('range() step must not be zero');
    const count = Math.max(0, Math.ceil((stop - start) / step));
    if (count > left)
      throw new Error(
        `range() asks for ${count.toLocaleString('en-US')} numbers, more than a chat template needs (at most ${RANGE_BUDGET.toLocaleString('en-US')} in all)`,
      );
    left -= count;
    return Array.from({ length: count }, (_, i) => start + i * step);
  };
}

/** The globals @huggingface/jinja 0.5's Template.render declares (setupGlobals, not exported), range() bounded. */
function templateGlobals(): Record<string, unknown> {
  return {
    false: false,
    true: true,
    none: null,
    True: true,
    False: false,
    None: null,
    raise_exception: (message: unknown) => {
      throw new Error(String(message));
    },
    range: boundedRange(),
    strftime_now: (format: string) => strftime(new Date(), format),
  };
}

/** Python's strftime for the directives chat templates use (%Y %m %d %b %B %H %M %%), as @huggingface/jinja has it. */
function strftime(date: Date, format: string): string {
  const pad2 = (n: number) => String(n).padStart(2, '0');
  return format.replace(/%[YmdbBHM%]/g, (token) => {
    switch (token) {
      case '%Y':
        return String(date.getFullYear());
      case '%m':
        return pad2(date.getMonth() + 1);
      case '%d':
        return pad2(date.getDate());
      case '%b':
        return new Intl.DateTimeFormat(undefined, { month: 'short' }).format(date);
      case '%B':
        return new Intl.DateTimeFormat(undefined, { month: 'long' }).format(date);
      case '%H':
        return pad2(date.getHours());
      case '%M':
        return pad2(date.getMinutes());
      default:
        return '%';
    }
  });
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
    // Template.render's own environment, with range() bounded (render cannot replace a global: it declares them first).
    const env = new Environment();
    const variables: Record<string, unknown> = {
      ...templateGlobals(),
      ...chat.specialTokens,
      messages,
      add_generation_prompt: addGenerationPrompt,
      tools: null,
      documents: null,
    };
    for (const [name, value] of Object.entries(variables)) env.set(name, value);
    return String(new Interpreter(env).run(template.parsed).value);
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
