// Decoders of tokenizer.json (ByteLevel, WordPiece, Metaspace, Replace, ByteFallback, Fuse, Strip, BPEDecoder,
// Sequence): turn token strings back into text, best effort, for showing generated or target tokens.
import { asObject, badTokenizer } from './errors';
import { matchSpans } from './tokenizer-regex';
import { patternToRegExp } from './normalizers';
import { CHAR_TO_BYTE, decodeUtf8 } from './unicode';

/** Maps the list of token strings to a new list (HF decode_chain); the final text is their concatenation. */
export type Decoder = (tokens: string[]) => string[];

const BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/;

const byteLevelDecoder: Decoder = (tokens) => {
  const bytes: number[] = [];
  let bad = '';
  for (const ch of tokens.join('')) {
    const b = CHAR_TO_BYTE.get(ch);
    if (b === undefined) bad += ch;
    else bytes.push(b);
  }
  return [decodeUtf8(bytes) + bad];
};

const byteFallback: Decoder = (tokens) => {
  const out: string[] = [];
  let pending: number[] = [];
  const flush = (): void => {
    if (pending.length > 0) out.push(decodeUtf8(pending));
    pending = [];
  };
  for (const t of tokens) {
    const m = BYTE_TOKEN.exec(t);
    if (m) pending.push(parseInt(m[1], 16));
    else {
      flush();
      out.push(t);
    }
  }
  flush();
  return out;
};

function wordPieceDecoder(prefix: string, cleanup: boolean): Decoder {
  return (tokens) =>
    tokens.map((t, i) => {
      let s = i > 0 ? (t.startsWith(prefix) ? t.slice(prefix.length) : ' ' + t) : t;
      if (cleanup) {
        s = s
          .replace(/ \./g, '.')
          .replace(/ \?/g, '?')
          .replace(/ !/g, '!')
          .replace(/ ,/g, ',')
          .replace(/ ' /g, "'")
          .replace(/ n't/g, "n't")
          .replace(/ 'm/g, "'m")
          .replace(/ 's/g, "'s")
          .replace(/ 've/g, "'ve")
          .replace(/ 're/g, "'re");
      }
      return s;
    });
}

export function decoderFromJson(json: unknown, source: string): Decoder | null {
  if (json === null || json === undefined) return null;
  const o = asObject(json);
  if (!o) throw badTokenizer(source, '"decoder" is not an object');
  switch (o.type) {
    case 'ByteLevel':
      return byteLevelDecoder;
    case 'ByteFallback':
      return byteFallback;
    case 'Fuse':
      return (tokens) => [tokens.join('')];
    case 'WordPiece':
      return wordPieceDecoder(typeof o.prefix === 'string' ? o.prefix : '##', o.cleanup !== false);
    case 'Metaspace': {
      const rep = typeof o.replacement === 'string' ? o.replacement : '▁';
      const stripFirst = o.prepend_scheme !== 'never' && o.add_prefix_space !== false;
      return (tokens) =>
        tokens.map((t, i) => {
          const s = t.split(rep).join(' ');
          return i === 0 && stripFirst && s.startsWith(' ') ? s.slice(1) : s;
        });
    }
    case 'Replace': {
      const re = patternToRegExp(o.pattern, source, 'decoder');
      const content = typeof o.content === 'string' ? o.content : '';
      // The content is literal (as in HF; String.replace would read "$&" and the like in it).
      return (tokens) =>
        tokens.map((t) => {
          const spans = matchSpans(re, t);
          let out = '';
          let last = 0;
          for (let i = 0; i < spans.length; i += 2) {
            out += t.slice(last, spans[i]) + content;
            last = spans[i + 1];
          }
          return out + t.slice(last);
        });
    }
    case 'Strip': {
      const c = typeof o.content === 'string' ? o.content : ' ';
      const start = typeof o.start === 'number' ? o.start : 0;
      const stop = typeof o.stop === 'number' ? o.stop : 0;
      return (tokens) =>
        tokens.map((t) => {
          let a = 0;
          let b = t.length;
          while (a < start && t.startsWith(c, a)) a += c.length;
          for (let k = 0; k < stop && b - c.length >= a && t.endsWith(c, b); k++) b -= c.length;
          return t.slice(a, b);
        });
    }
    case 'BPEDecoder': {
      const suffix = typeof o.suffix === 'string' ? o.suffix : '</w>';
      return (tokens) => tokens.map((t, i) => t.split(suffix).join(i === tokens.length - 1 ? '' : ' '));
    }
    case 'Sequence': {
      if (!Array.isArray(o.decoders)) throw badTokenizer(source, 'a Sequence decoder has no "decoders"');
      const parts = o.decoders.map((d) => decoderFromJson(d, source)).filter((d): d is Decoder => !!d);
      return (tokens) => parts.reduce((acc, d) => d(acc), tokens);
    }
    default:
      // Decoding is best effort: an unknown decoder falls back to joining with spaces.
      return null;
  }
}
