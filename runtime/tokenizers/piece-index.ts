// Finds every vocabulary piece that starts at a position of a text, shortest first — what the Unigram models do with
// a trie (sentencepiece's darts-clone, HF's own trie). Here the pieces are one sorted array and each extension of the
// prefix narrows the range of candidates by binary search: no memory beyond the array, and the search stops as soon
// as no piece continues the text, however long the longest piece is.

export class PieceIndex {
  private readonly sorted: string[];
  private readonly ids: Int32Array;

  /** Pieces and their ids; when a piece appears twice the later id wins (a Map's insertion rule). */
  constructor(entries: Iterable<[string, number]>) {
    const byPiece = new Map<string, number>();
    for (const [p, id] of entries) if (p.length > 0) byPiece.set(p, id);
    this.sorted = [...byPiece.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    this.ids = Int32Array.from(this.sorted, (p) => byPiece.get(p) as number);
  }

  /** Calls `hit(end, id)` for each piece equal to chars[start, end), in increasing `end`. */
  prefixes(chars: string[], start: number, hit: (end: number, id: number) => void): void {
    const s = this.sorted;
    let lo = 0;
    let hi = s.length;
    let prefix = '';
    for (let j = start; j < chars.length && lo < hi; j++) {
      prefix += chars[j];
      // First piece >= prefix.
      let a = lo;
      let b = hi;
      while (a < b) {
        const m = (a + b) >>> 1;
        if (s[m] < prefix) a = m + 1;
        else b = m;
      }
      lo = a;
      // First piece from there that does not start with prefix.
      b = hi;
      while (a < b) {
        const m = (a + b) >>> 1;
        if (s[m].startsWith(prefix)) a = m + 1;
        else b = m;
      }
      hi = a;
      if (lo < hi && s[lo] === prefix) hit(j + 1, this.ids[lo]);
    }
  }
}
