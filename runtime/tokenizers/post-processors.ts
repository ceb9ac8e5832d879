// Post-processors of tokenizer.json: TemplateProcessing, BertProcessing and RobertaProcessing add the model's
// special tokens (no span in the text); ByteLevel and RobertaProcessing may trim the spaces a byte-level token
// starts or ends with out of its offsets (trim_offsets), exactly as HF does.
import type { Token } from '../types';
import { asObject, badTokenizer, unsupported } from './errors';

export type PostProcessor = (tokens: Token[], addSpecialTokens: boolean) => Token[];

const SPACE_CHAR = 'Ġ';

/** HF byte_level::process_offsets: trims leading/trailing 'Ġ' (spaces) out of each token's offsets. */
export function trimOffsets(tokens: Token[], addPrefixSpace: boolean): Token[] {
  return tokens.map((t, i) => {
    if (t.start === null || t.end === null) return t;
    const chars = Array.from(t.text);
    const isSpace = (c: string): boolean => c === SPACE_CHAR || /^\p{White_Space}$/u.test(c);
    let lead = 0;
    while (lead < chars.length && isSpace(chars[lead])) lead++;
    let trail = 0;
    while (trail < chars.length && isSpace(chars[chars.length - 1 - trail])) trail++;
    let { start, end } = t;
    if (lead > 0) {
      if ((i === 0 || start === 0) && addPrefixSpace && lead === 1) lead = 0;
      start = Math.min(start + lead, end);
    }
    if (trail > 0 && end >= trail) end = Math.max(end - trail, start);
    return start === t.start && end === t.end ? t : { ...t, start, end };
  });
}

function special(id: number, text: string): Token {
  return { id, text, start: null, end: null, special: true };
}

function wrap(first: Token[], last: Token[]): PostProcessor {
  return (tokens, add) => (add ? [...first, ...tokens, ...last] : tokens);
}

function pairOf(v: unknown, source: string, what: string): [string, number] {
  if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'number') return [v[0], v[1]];
  throw badTokenizer(source, `the post-processor's "${what}" is not a [token, id] pair`);
}

export function postProcessorFromJson(json: unknown, source: string): PostProcessor | null {
  if (json === null || json === undefined) return null;
  const o = asObject(json);
  if (!o) throw badTokenizer(source, '"post_processor" is not an object');
  switch (o.type) {
    case 'TemplateProcessing': {
      if (!Array.isArray(o.single)) throw badTokenizer(source, 'TemplateProcessing has no "single" template');
      const specials = asObject(o.special_tokens) ?? {};
      const first: Token[] = [];
      const last: Token[] = [];
      let seenSequence = false;
      for (const piece of o.single) {
        const p = asObject(piece);
        const sp = asObject(p?.SpecialToken);
        if (asObject(p?.Sequence)) {
          seenSequence = true;
          continue;
        }
        if (!sp || typeof sp.id !== 'string') throw badTokenizer(source, 'a TemplateProcessing piece is malformed');
        const def = asObject(specials[sp.id]);
        const ids = def?.ids;
        const toks = def?.tokens;
        if (!Array.isArray(ids) || !Array.isArray(toks) || ids.length !== toks.length) {
          throw badTokenizer(source, `TemplateProcessing special token "${sp.id}" has no ids`);
        }
        const made = ids.map((id, k) => special(Number(id), String(toks[k])));
        (seenSequence ? last : first).push(...made);
      }
      return wrap(first, last);
    }
    case 'BertProcessing': {
      const [cls, clsId] = pairOf(o.cls, source, 'cls');
      const [sep, sepId] = pairOf(o.sep, source, 'sep');
      return wrap([special(clsId, cls)], [special(sepId, sep)]);
    }
    case 'RobertaProcessing': {
      const [cls, clsId] = pairOf(o.cls, source, 'cls');
      const [sep, sepId] = pairOf(o.sep, source, 'sep');
      const trim = o.trim_offsets !== false;
      const prefix = o.add_prefix_space !== false;
      const add = wrap([special(clsId, cls)], [special(sepId, sep)]);
      return (tokens, addSpecial) => add(trim ? trimOffsets(tokens, prefix) : tokens, addSpecial);
    }
    case 'ByteLevel': {
      const trim = o.trim_offsets === true;
      const prefix = o.add_prefix_space === true;
      return (tokens) => (trim ? trimOffsets(tokens, prefix) : tokens);
    }
    case 'Sequence': {
      if (!Array.isArray(o.processors)) throw badTokenizer(source, 'a Sequence post-processor has no "processors"');
      const parts = o.processors.map((p) => postProcessorFromJson(p, source)).filter((p): p is PostProcessor => !!p);
      return (tokens, add) => parts.reduce((acc, p) => p(acc, add), tokens);
    }
    default:
      throw unsupported(source, 'post-processor', o.type);
  }
}
