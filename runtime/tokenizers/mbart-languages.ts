// mBART's language codes. transformers' MBartTokenizer and MBart50Tokenizer put a language code around every text —
// mBART `$A </s> code`, mBART-50 `code $A </s>` (their set_src_lang_special_tokens / set_tgt_lang_special_tokens) —
// the source language's on source text and the target language's on target text (`text_target`, the labels of
// teacher forcing), while the saved tokenizer.json's template has the source's. tokenizer_config.json names the class
// and the languages (src_lang, tgt_lang). This module gives the template for any code, so that a tokenizer can read
// text as any of the model's languages: tgt_lang's for the target side, and whichever source or target language a
// run asks for (a many-to-many mBART-50 translates between any two of its 52).
import { asObject, badTokenizer } from './errors';
import { quoted } from '../errors';

/** mBART (the code last; a translation's decoder starts with the target's code) or mBART-50 (the code first; a
 * translation's first generated token is the target's code). */
export type MbartKind = 'mbart' | 'mbart50';

/** The mBART kind of a tokenizer_config.json, or undefined for any other tokenizer. */
export function mbartKind(config: Record<string, unknown>): MbartKind | undefined {
  const cls = typeof config.tokenizer_class === 'string' ? config.tokenizer_class.replace(/Fast$/, '') : '';
  return cls === 'MBartTokenizer' ? 'mbart' : cls === 'MBart50Tokenizer' ? 'mbart50' : undefined;
}

/** The added tokens of a tokenizer.json, content → id. */
export function addedIds(json: unknown): Map<string, number> {
  const o = asObject(json);
  const added = Array.isArray(o?.added_tokens) ? (o.added_tokens as unknown[]) : [];
  const ids = new Map<string, number>();
  for (const a of added.map(asObject))
    if (typeof a?.content === 'string' && typeof a.id === 'number') ids.set(a.content, a.id);
  return ids;
}

/** The language codes (fairseq's xx_XX) among a tokenizer.json's added tokens, code → id, in id order. */
export function mbartCodes(added: Map<string, number>): Map<string, number> {
  return new Map([...added].filter(([t]) => /^[a-z]{2}_[A-Z]{2}$/.test(t)).sort((a, b) => a[1] - b[1]));
}

/**
 * transformers' TemplateProcessing post_processor (tokenizer.json form) for text in language `code`, from the added
 * tokens (addedIds); `source` names the file in errors. Throws BAD_TOKENIZER when the code or the eos token is not an
 * added token.
 */
export function mbartTemplate(
  added: Map<string, number>,
  config: Record<string, unknown>,
  kind: MbartKind,
  code: string,
  source: string,
  what = 'the language',
): unknown {
  const idOf = (content: string) => {
    const id = added.get(content);
    if (id === undefined) throw badTokenizer(source, `${what} ${quoted(content)} is not one of its tokens`);
    return id;
  };
  const eos = typeof config.eos_token === 'string' ? config.eos_token : '</s>';
  const special = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
  const seq = (id: 'A' | 'B') => ({ Sequence: { id, type_id: 0 } });
  const [single, pair] =
    kind === 'mbart50'
      ? [
          [special(code), seq('A'), special(eos)],
          [special(code), seq('A'), seq('B'), special(eos)],
        ]
      : [
          [seq('A'), special(eos), special(code)],
          [seq('A'), seq('B'), special(eos), special(code)],
        ];
  const tokens = (t: string) => ({ id: t, ids: [idOf(t)], tokens: [t] });
  return { type: 'TemplateProcessing', single, pair, special_tokens: { [eos]: tokens(eos), [code]: tokens(code) } };
}

/** tokenizer_config.json's tgt_lang when the target side reads differently from the source (undefined: it does not,
 * or the tokenizer is not mBART's). */
export function mbartTargetLanguage(config: Record<string, unknown>): string | undefined {
  const tgt = config.tgt_lang;
  return mbartKind(config) && typeof tgt === 'string' && tgt !== '' && tgt !== config.src_lang ? tgt : undefined;
}
