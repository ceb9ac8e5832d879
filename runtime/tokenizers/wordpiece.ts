// WordPiece (BERT): greedy longest-match-first over each word, continuation pieces prefixed with "##"; a word
// that cannot be covered, or is longer than max_input_chars_per_word, becomes one [UNK] spanning the word.
import type { Model, ModelToken } from './model';

export interface WordPieceOptions {
  vocab: Map<string, number>;
  unkToken: string;
  continuingSubwordPrefix: string;
  maxInputCharsPerWord: number;
}

export class WordPiece implements Model {
  readonly vocab: Map<string, number>;
  readonly unkId: number | undefined;
  private readonly prefix: string;
  private readonly maxChars: number;
  private readonly longest: number;

  constructor(o: WordPieceOptions) {
    this.vocab = o.vocab;
    this.unkId = o.vocab.get(o.unkToken);
    this.prefix = o.continuingSubwordPrefix;
    this.maxChars = o.maxInputCharsPerWord;
    let longest = 1;
    for (const k of o.vocab.keys()) longest = Math.max(longest, Array.from(k).length);
    this.longest = longest;
  }

  tokenize(chars: string[]): ModelToken[] {
    const n = chars.length;
    if (n === 0) return [];
    const unk = (): ModelToken[] => (this.unkId === undefined ? [] : [{ id: this.unkId, start: 0, end: n }]);
    if (n > this.maxChars) return unk();
    const out: ModelToken[] = [];
    let start = 0;
    while (start < n) {
      let end = Math.min(n, start + this.longest);
      let found: number | undefined;
      while (end > start) {
        const piece = chars.slice(start, end).join('');
        found = this.vocab.get(start > 0 ? this.prefix + piece : piece);
        if (found !== undefined) break;
        end--;
      }
      if (found === undefined) return unk();
      out.push({ id: found, start, end });
      start = end;
    }
    return out;
  }
}
