// sentencepiece's BPE model (bpe_model.cc): unlike HF BPE there is no merges list — the text starts as characters
// (user-defined symbols as whole, frozen symbols) and the adjacent pair whose concatenation is the piece with the
// highest score is merged first (leftmost on ties), until no pair forms a piece. A merged piece that is UNUSED is
// split back into the two symbols it was made of.
import type { PathPiece } from './unigram';

export interface SpmBpeOptions {
  /** NORMAL, USER_DEFINED and UNUSED pieces → id (sentencepiece's pieces_). */
  pieces: Map<string, number>;
  scores: Float64Array;
  unused: Uint8Array;
  /** Id of a piece that is not a mergeable piece (control, unknown, byte pieces first; else the unknown id). */
  pieceToId: (piece: string) => number;
  /** Length in chars of the longest user-defined symbol at chars[i], or 0. */
  userDefinedAt: (chars: string[], i: number) => number;
}

interface Pair {
  left: number;
  right: number;
  score: number;
  /** Characters of the merged piece, to recognise a pair made stale by another merge. */
  size: number;
}

/** Max-heap: highest score first, then the leftmost pair (sentencepiece's SymbolPairComparator). */
class Agenda {
  private heap: Pair[] = [];

  get size(): number {
    return this.heap.length;
  }

  private before(a: Pair, b: Pair): boolean {
    return a.score > b.score || (a.score === b.score && a.left < b.left);
  }

  push(p: Pair): void {
    const h = this.heap;
    h.push(p);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  pop(): Pair {
    const h = this.heap;
    const top = h[0];
    const last = h.pop() as Pair;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.before(h[l], h[m])) m = l;
        if (r < h.length && this.before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

/** Encodes normalized characters; returns the pieces as character ranges with their ids. */
export function sentencePieceBpe(chars: string[], o: SpmBpeOptions): PathPiece[] {
  // Initial symbols: characters, or whole user-defined symbols (frozen: never merged).
  const start: number[] = [];
  const end: number[] = [];
  const freeze: boolean[] = [];
  for (let i = 0; i < chars.length;) {
    const ud = o.userDefinedAt(chars, i);
    const len = ud > 0 ? ud : 1;
    start.push(i);
    end.push(i + len);
    freeze.push(ud > 0);
    i += len;
  }
  const n = start.length;
  if (n === 0) return [];
  const prev = Int32Array.from({ length: n }, (_, i) => i - 1);
  const next = Int32Array.from({ length: n }, (_, i) => (i + 1 < n ? i + 1 : -1));
  const text = (i: number): string => chars.slice(start[i], end[i]).join('');
  const revMerge = new Map<string, [string, string]>();
  const agenda = new Agenda();

  const maybeAdd = (left: number, right: number): void => {
    if (left === -1 || right === -1 || freeze[left] || freeze[right]) return;
    const a = text(left);
    const b = text(right);
    const id = o.pieces.get(a + b);
    if (id === undefined) return;
    agenda.push({ left, right, score: o.scores[id], size: end[right] - start[left] });
    if (o.unused[id]) revMerge.set(a + b, [a, b]);
  };

  for (let i = 1; i < n; i++) maybeAdd(i - 1, i);
  while (agenda.size > 0) {
    const top = agenda.pop();
    const { left, right } = top;
    // Stale: one side was merged away or grew since the pair was queued.
    if (start[left] === end[left] || start[right] === end[right]) continue;
    if (end[left] - start[left] + (end[right] - start[right]) !== top.size) continue;
    end[left] = end[right];
    next[left] = next[right];
    if (next[right] >= 0) prev[next[right]] = left;
    start[right] = end[right];
    maybeAdd(prev[left], left);
    maybeAdd(left, next[left]);
  }

  const out: PathPiece[] = [];
  const emit = (piece: string, at: number): void => {
    const id = o.pieceToId(piece);
    const split = o.unused[id] && o.pieces.get(piece) === id ? revMerge.get(piece) : undefined;
    if (!split) {
      out.push({ start: at, end: at + Array.from(piece).length, id });
      return;
    }
    emit(split[0], at);
    emit(split[1], at + Array.from(split[0]).length);
  };
  for (let i = 0; i !== -1; i = next[i]) emit(text(i), start[i]);
  return out;
}
