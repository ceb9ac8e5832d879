// What a tokenizer model (WordPiece, BPE) returns for one word: ids with the [start, end) range of characters of
// the word they cover (a byte-fallback token covers its whole character).

export interface ModelToken {
  id: number;
  /** First character index in the word. */
  start: number;
  /** One past the last character index in the word. */
  end: number;
}

export interface Model {
  readonly vocab: Map<string, number>;
  readonly unkId: number | undefined;
  tokenize(chars: string[]): ModelToken[];
}
