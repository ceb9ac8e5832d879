// mBART's target side: transformers' MBartTokenizer and MBart50Tokenizer tokenize a target (`text_target`, the labels
// of teacher forcing) with the target language's code where the saved tokenizer.json's template has the source's:
// mBART `$A </s> tgt_lang`, mBART-50 `tgt_lang $A </s>` (their set_tgt_lang_special_tokens). tokenizer_config.json
// names the languages (src_lang, tgt_lang); without a tgt_lang the target reads as the source does, as there.
import { asObject, badTokenizer } from './errors';

/** The tokenizer.json of the target side (its post-processor for tgt_lang), or undefined where it is the source's. */
export function mbartTargetJson(json: unknown, config: Record<string, unknown>, source: string): unknown {
  const cls = typeof config.tokenizer_class === 'string' ? config.tokenizer_class.replace(/Fast$/, '') : '';
  const fifty = cls === 'MBart50Tokenizer';
  if (cls !== 'MBartTokenizer' && !fifty) return undefined;
  const tgt = config.tgt_lang;
  if (typeof tgt !== 'string' || tgt === '' || tgt === config.src_lang) return undefined;
  const o = asObject(json);
  const added = Array.isArray(o?.added_tokens) ? (o.added_tokens as unknown[]) : [];
  const idOf = (content: string) => {
    const t = added.map(asObject).find((a) => a?.content === content);
    if (!t || typeof t.id !== 'number')
      throw badTokenizer(
        source,
        `tokenizer_config.json's tgt_lang ${JSON.stringify(content)} is not one of its tokens`,
      );
    return t.id;
  };
  const eos = typeof config.eos_token === 'string' ? config.eos_token : '</s>';
  const special = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
  const seq = (id: 'A' | 'B') => ({ Sequence: { id, type_id: 0 } });
  const [single, pair] = fifty
    ? [
        [special(tgt), seq('A'), special(eos)],
        [special(tgt), seq('A'), seq('B'), special(eos)],
      ]
    : [
        [seq('A'), special(eos), special(tgt)],
        [seq('A'), seq('B'), special(eos), special(tgt)],
      ];
  const tokens = (t: string) => ({ id: t, ids: [idOf(t)], tokens: [t] });
  const post_processor = {
    type: 'TemplateProcessing',
    single,
    pair,
    special_tokens: { [eos]: tokens(eos), [tgt]: tokens(tgt) },
  };
  return { ...o, post_processor };
}
