// The tokenizer of Marian models (Helsinki-NLP/opus-mt-*), as transformers' MarianTokenizer builds it from
// source.spm, target.spm and vocab.json (opus-mt repositories ship no tokenizer.json): special tokens written in the
// text are cut out first, a leading ">>xx<<" language code stays one token, the rest is split into pieces by the
// sentencepiece model of its side, and the pieces are mapped through vocab.json (Marian ids are not sentencepiece
// ids; a piece vocab.json lacks is <unk>); "</s>" is appended, no BOS. Target text (labels for teacher forcing)
// uses target.spm, and target_vocab.json when the model has separate vocabularies.
import type { Token } from '../types';
import { AddedTokenMatcher, type AddedToken } from './added-tokens';
import { asObject, badTokenizer } from './errors';
import { vocabOf, type SpecialTokenNames } from './from-json';
import { NormalizedText } from './normalized-text';
import { decodePieces, loadSentencePiece, type SentencePieceProcessor } from './sentencepiece';
import type { EncodeOptions, SpecialTokenIds, Tokenizer } from './tokenizer';

export interface MarianFiles {
  sourceSpm: { bytes: Uint8Array; name: string };
  targetSpm: { bytes: Uint8Array; name: string };
  vocab: { json: unknown; name: string };
  /** target_vocab.json, read only when tokenizer_config.json says separate_vocabs. */
  targetVocab?: { json: unknown; name: string };
  /** tokenizer_config.json (may be empty). */
  config: Record<string, unknown>;
  names: SpecialTokenNames;
}

const NOT_A_VOCAB = 'not a JSON object of piece → id';

/** The added tokens MarianTokenizer cuts the text on: added_tokens_decoder, else the special tokens in vocab.json. */
function addedTokens(config: Record<string, unknown>, vocab: Map<string, number>, specials: string[]): AddedToken[] {
  const decl = asObject(config.added_tokens_decoder);
  if (decl) {
    const out: AddedToken[] = [];
    for (const [id, t] of Object.entries(decl)) {
      const o = asObject(t);
      if (!o || typeof o.content !== 'string' || !/^\d+$/.test(id)) continue;
      out.push({
        id: Number(id),
        content: o.content,
        singleWord: o.single_word === true,
        lstrip: o.lstrip === true,
        rstrip: o.rstrip === true,
        normalized: false,
        special: o.special !== false,
      });
    }
    return out;
  }
  return specials
    .filter((s, i) => vocab.has(s) && specials.indexOf(s) === i)
    .map((s) => ({
      id: vocab.get(s) as number,
      content: s,
      singleWord: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    }));
}

class MarianSide implements Tokenizer {
  readonly kind: string;
  readonly vocabSize: number;
  readonly special: SpecialTokenIds;
  private readonly idToText = new Map<number, string>();
  private readonly specialIds = new Set<number>();
  private readonly matcher: AddedTokenMatcher;
  private readonly unkId: number;
  private readonly eos: Token;

  constructor(
    private readonly sp: SentencePieceProcessor,
    private readonly vocab: Map<string, number>,
    vocabName: string,
    config: Record<string, unknown>,
    names: SpecialTokenNames,
    readonly target?: Tokenizer,
  ) {
    this.kind = sp.modelType === 'bpe' ? 'bpe-sentencepiece' : 'unigram';
    for (const [t, id] of vocab) if (!this.idToText.has(id)) this.idToText.set(id, t);
    const unk = names.unk ?? '<unk>';
    const eos = names.eos ?? '</s>';
    const pad = names.pad ?? '<pad>';
    const unkId = vocab.get(unk);
    if (unkId === undefined) throw badTokenizer(vocabName, `the vocabulary has no unknown token ${unk}`);
    const eosId = vocab.get(eos);
    if (eosId === undefined) throw badTokenizer(vocabName, `the vocabulary has no end-of-sequence token ${eos}`);
    this.unkId = unkId;
    const added = addedTokens(config, vocab, [eos, unk, pad]);
    for (const a of added) {
      this.idToText.set(a.id, a.content);
      if (a.special) this.specialIds.add(a.id);
    }
    this.specialIds.add(eosId);
    this.matcher = new AddedTokenMatcher(added.map((token) => ({ token, look: token.content })));
    this.eos = { id: eosId, text: eos, start: null, end: null, special: true };
    this.special = { unk: unkId, eos: eosId, pad: vocab.get(pad) };
    let max = -1;
    for (const id of this.idToText.keys()) max = Math.max(max, id);
    this.vocabSize = max + 1;
  }

  isSpecial(id: number): boolean {
    return this.specialIds.has(id) || Object.values(this.special).includes(id);
  }

  encode(text: string, options: EncodeOptions = {}): Token[] {
    const original = NormalizedText.fromOriginal(text);
    const out: Token[] = [];
    for (const piece of this.matcher.split(original)) {
      let part = original.slice(piece.start, piece.end);
      if (piece.token) {
        const t = piece.token;
        out.push({ id: t.id, text: t.content, start: part.starts[0], end: part.ends[part.length - 1], special: false });
        continue;
      }
      // MarianTokenizer.remove_language_code: a leading ">>xx<<" is one token.
      const s = part.toString();
      const close = s.startsWith('>>') ? s.indexOf('<<') : -1;
      if (close >= 0) {
        const code = s.slice(0, close + 2);
        const n = part.utf16ToCharIndex()[close + 2];
        const id = this.vocab.get(code) ?? this.unkId;
        out.push({
          id,
          text: this.idToText.get(id) ?? code,
          start: part.starts[0],
          end: part.ends[n - 1],
          special: false,
        });
        part = part.slice(n, part.length);
      }
      for (const p of this.sp.encodePieces(part)) {
        const id = this.vocab.get(p.piece) ?? this.unkId;
        out.push({ id, text: this.idToText.get(id) ?? p.piece, start: p.start, end: p.end, special: false });
      }
    }
    if (options.addSpecialTokens !== false) out.push({ ...this.eos });
    return out;
  }

  idToToken(id: number): string | undefined {
    return this.idToText.get(id);
  }

  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  decode(ids: number[]): string {
    const pieces = ids
      .filter((id) => !this.specialIds.has(id))
      .map((id) => this.idToText.get(id))
      .filter((t): t is string => t !== undefined);
    return decodePieces(pieces).trim();
  }
}

/** Builds the Marian tokenizer (source side; `.target` encodes target text). */
export function marianTokenizer(f: MarianFiles): Tokenizer {
  const vocab = vocabOf(f.vocab.json, f.vocab.name, NOT_A_VOCAB);
  const separate = f.config.separate_vocabs === true;
  let targetVocab = vocab;
  let targetName = f.vocab.name;
  if (separate) {
    if (!f.targetVocab) throw badTokenizer(f.vocab.name, 'separate_vocabs is set but there is no target_vocab.json');
    targetVocab = vocabOf(f.targetVocab.json, f.targetVocab.name, NOT_A_VOCAB);
    targetName = f.targetVocab.name;
  }
  const source = loadSentencePiece(f.sourceSpm.bytes, f.sourceSpm.name);
  const same =
    f.targetSpm.bytes.length === f.sourceSpm.bytes.length &&
    f.targetSpm.bytes.every((b, i) => b === f.sourceSpm.bytes[i]);
  const targetSp = same ? source : loadSentencePiece(f.targetSpm.bytes, f.targetSpm.name);
  const target = new MarianSide(targetSp, targetVocab, targetName, f.config, f.names);
  return new MarianSide(source, vocab, f.vocab.name, f.config, f.names, target);
}
