// The Tokenizer built from parts, as HF `tokenizers` runs them: cut the text on added tokens, normalize (keeping
// the alignment to the original text), cut on normalized added tokens, pre-tokenize, run the model on each word,
// then post-process. Offsets are UTF-16 code units of the original text, the unit VS Code positions use.
import type { Token } from '../types';
import type { EncodeOptions, SpecialTokenIds, Tokenizer } from './tokenizer';
import type { AddedToken, AddedTokenMatcher } from './added-tokens';
import type { Decoder } from './decoders';
import type { Model } from './model';
import { NormalizedText } from './normalized-text';
import type { Normalizer } from './normalizers';
import type { PostProcessor } from './post-processors';
import type { PreTokenizer } from './pre-tokenizers';

export interface PipelineParts {
  kind: string;
  model: Model;
  normalizer: Normalizer | null;
  preTokenizer: PreTokenizer | null;
  postProcessor: PostProcessor | null;
  decoder: Decoder | null;
  addedTokens: AddedToken[];
  /** Matches added tokens that are not normalized, in the original text. */
  rawMatcher: AddedTokenMatcher;
  /** Matches normalized added tokens, in the normalized text. */
  normalizedMatcher: AddedTokenMatcher;
  special: SpecialTokenIds;
}

export class PipelineTokenizer implements Tokenizer {
  readonly kind: string;
  readonly vocabSize: number;
  readonly special: SpecialTokenIds;
  private readonly idToText = new Map<number, string>();
  private readonly textToId = new Map<string, number>();
  private readonly specialIds = new Set<number>();

  constructor(private readonly p: PipelineParts) {
    this.kind = p.kind;
    this.special = p.special;
    for (const [t, id] of p.model.vocab) {
      this.textToId.set(t, id);
      if (!this.idToText.has(id)) this.idToText.set(id, t);
    }
    for (const a of p.addedTokens) {
      this.textToId.set(a.content, a.id);
      this.idToText.set(a.id, a.content);
      if (a.special) this.specialIds.add(a.id);
    }
    let max = -1;
    for (const id of this.idToText.keys()) max = Math.max(max, id);
    this.vocabSize = max + 1;
  }

  /** The same tokenizer with another post-processor (mBART's template for another language): the vocabulary, the
   * model and the added tokens are shared. */
  withPostProcessor(postProcessor: PostProcessor | null): PipelineTokenizer {
    return new PipelineTokenizer({ ...this.p, postProcessor });
  }

  isSpecial(id: number): boolean {
    return this.specialIds.has(id) || Object.values(this.special).includes(id);
  }

  encode(text: string, options: EncodeOptions = {}): Token[] {
    const out: Token[] = [];
    const original = NormalizedText.fromOriginal(text);
    for (const piece of this.p.rawMatcher.split(original)) {
      const part = original.slice(piece.start, piece.end);
      if (piece.token) {
        out.push(this.addedToken(piece.token, part));
        continue;
      }
      const normalized = this.p.normalizer ? this.p.normalizer(part) : part;
      for (const sub of this.p.normalizedMatcher.split(normalized)) {
        const chunk = normalized.slice(sub.start, sub.end);
        if (sub.token) out.push(this.addedToken(sub.token, chunk));
        else this.encodeChunk(chunk, out);
      }
    }
    const add = options.addSpecialTokens !== false;
    return this.p.postProcessor ? this.p.postProcessor(out, add) : out;
  }

  private addedToken(token: AddedToken, span: NormalizedText): Token {
    return {
      id: token.id,
      text: token.content,
      start: span.starts[0],
      end: span.ends[span.length - 1],
      special: false,
    };
  }

  private encodeChunk(chunk: NormalizedText, out: Token[]): void {
    const words = this.p.preTokenizer ? this.p.preTokenizer([chunk]) : [chunk];
    // HF's Unigram gives an unknown piece the text it stands for ("H"), not the unknown token's name.
    const unknownAsText = this.kind === 'unigram' ? this.p.model.unkId : undefined;
    for (const w of words) {
      for (const t of this.p.model.tokenize(w.chars)) {
        out.push({
          id: t.id,
          text: t.id === unknownAsText ? w.chars.slice(t.start, t.end).join('') : (this.idToText.get(t.id) ?? ''),
          start: w.starts[t.start],
          end: w.ends[t.end - 1],
          special: false,
        });
      }
    }
  }

  idToToken(id: number): string | undefined {
    return this.idToText.get(id);
  }

  tokenToId(token: string): number | undefined {
    return this.textToId.get(token);
  }

  decode(ids: number[]): string {
    const tokens = ids
      .filter((id) => !this.specialIds.has(id))
      .map((id) => this.idToText.get(id))
      .filter((t): t is string => t !== undefined);
    return this.p.decoder ? this.p.decoder(tokens).join('') : tokens.join(' ');
  }
}
