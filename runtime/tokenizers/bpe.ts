// BPE as HF `tokenizers` runs it: characters (with optional continuing-subword prefix / end-of-word suffix),
// byte fallback to <0xNN> tokens, unknown-token fusing, then merges applied lowest rank first (leftmost on ties)
// with a priority queue over a linked list of symbols. Used for GPT-2 byte-level BPE and sentencepiece-style BPE.
import type { Model, ModelToken } from './model';
import { utf8Bytes } from './unicode';

export interface BpeOptions {
  vocab: Map<string, number>;
  /** Pairs of token strings, in priority order. */
  merges: [string, string][];
  unkToken: string | null;
  continuingSubwordPrefix: string | null;
  endOfWordSuffix: string | null;
  fuseUnk: boolean;
  byteFallback: boolean;
  ignoreMerges: boolean;
}

/** At most this many cached words, each shorter than CACHE_MAX_CHARS (HF caches the same way). */
const CACHE_LIMIT = 20000;
const CACHE_MAX_CHARS = 256;

/** Min-heap of merges keyed by (rank, position). */
class MergeQueue {
  private rank: number[] = [];
  private pos: number[] = [];
  private id: number[] = [];

  get size(): number {
    return this.rank.length;
  }

  private less(i: number, j: number): boolean {
    return this.rank[i] < this.rank[j] || (this.rank[i] === this.rank[j] && this.pos[i] < this.pos[j]);
  }

  private swap(i: number, j: number): void {
    const r = this.rank[i];
    this.rank[i] = this.rank[j];
    this.rank[j] = r;
    const p = this.pos[i];
    this.pos[i] = this.pos[j];
    this.pos[j] = p;
    const d = this.id[i];
    this.id[i] = this.id[j];
    this.id[j] = d;
  }

  push(rank: number, pos: number, id: number): void {
    this.rank.push(rank);
    this.pos.push(pos);
    this.id.push(id);
    let i = this.rank.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  /** Removes the top; returns [pos, newId]. */
  pop(): [number, number] {
    const top: [number, number] = [this.pos[0], this.id[0]];
    const last = this.rank.length - 1;
    this.swap(0, last);
    this.rank.pop();
    this.pos.pop();
    this.id.pop();
    let i = 0;
    const n = this.rank.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
}

export class Bpe implements Model {
  readonly vocab: Map<string, number>;
  readonly unkId: number | undefined;
  private readonly vocabSize: number;
  /** (left id * size + right id) → [rank, new id]. */
  private readonly merges = new Map<number, [number, number]>();
  private readonly byteIds: (number | undefined)[] = [];
  private readonly cache = new Map<string, ModelToken[]>();

  constructor(private readonly o: BpeOptions) {
    this.vocab = o.vocab;
    this.unkId = o.unkToken === null ? undefined : o.vocab.get(o.unkToken);
    let maxId = 0;
    for (const id of o.vocab.values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;
    const prefix = o.continuingSubwordPrefix ?? '';
    o.merges.forEach(([a, b], rank) => {
      const left = o.vocab.get(a);
      const right = o.vocab.get(b);
      const merged = o.vocab.get(prefix && b.startsWith(prefix) ? a + b.slice(prefix.length) : a + b);
      if (left === undefined || right === undefined || merged === undefined) {
        throw new Error(`merge "${a} ${b}" uses a token that is not in the vocabulary`);
      }
      const key = left * this.vocabSize + right;
      if (!this.merges.has(key)) this.merges.set(key, [rank, merged]);
    });
    for (let b = 0; b < 256; b++) {
      this.byteIds.push(o.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`));
    }
  }

  tokenize(chars: string[]): ModelToken[] {
    if (chars.length === 0) return [];
    const key = chars.join('');
    if (chars.length >= CACHE_MAX_CHARS) return this.merge(chars, key);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const out = this.merge(chars, key);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(key, out);
    return out;
  }

  private merge(chars: string[], word: string): ModelToken[] {
    const o = this.o;
    if (o.ignoreMerges) {
      const id = this.vocab.get(word);
      if (id !== undefined) return [{ id, start: 0, end: chars.length }];
    }
    // Initial symbols.
    const ids: number[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    let unk: ModelToken | null = null;
    const flushUnk = (): void => {
      if (unk) {
        ids.push(unk.id);
        starts.push(unk.start);
        ends.push(unk.end);
        unk = null;
      }
    };
    for (let i = 0; i < chars.length; i++) {
      let s = chars[i];
      if (i > 0 && o.continuingSubwordPrefix) s = o.continuingSubwordPrefix + s;
      if (i === chars.length - 1 && o.endOfWordSuffix) s = s + o.endOfWordSuffix;
      const id = this.vocab.get(s);
      if (id !== undefined) {
        flushUnk();
        ids.push(id);
        starts.push(i);
        ends.push(i + 1);
        continue;
      }
      if (o.byteFallback) {
        const bytes = [...s].flatMap(utf8Bytes).map((b) => this.byteIds[b]);
        if (bytes.every((b) => b !== undefined)) {
          // HF adds the byte tokens without flushing a pending unknown token first.
          for (const b of bytes) {
            ids.push(b as number);
            starts.push(i);
            ends.push(i + 1);
          }
          continue;
        }
      }
      if (this.unkId !== undefined) {
        const pending = unk as ModelToken | null;
        if (pending && o.fuseUnk) pending.end = i + 1;
        else {
          flushUnk();
          unk = { id: this.unkId, start: i, end: i + 1 };
        }
      }
    }
    flushUnk();

    // Merge loop over a linked list.
    const n = ids.length;
    const prev = new Int32Array(n);
    const next = new Int32Array(n);
    const alive = new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
    }
    const q = new MergeQueue();
    const size = this.vocabSize;
    for (let i = 0; i + 1 < n; i++) {
      const m = this.merges.get(ids[i] * size + ids[i + 1]);
      if (m) q.push(m[0], i, m[1]);
    }
    while (q.size > 0) {
      const [pos, newId] = q.pop();
      if (!alive[pos] || next[pos] < 0) continue;
      const right = next[pos];
      const m = this.merges.get(ids[pos] * size + ids[right]);
      if (!m || m[1] !== newId) continue;
      ids[pos] = newId;
      ends[pos] = ends[right];
      alive[right] = 0;
      next[pos] = next[right];
      if (next[right] >= 0) prev[next[right]] = pos;
      if (prev[pos] >= 0) {
        const pm = this.merges.get(ids[prev[pos]] * size + ids[pos]);
        if (pm) q.push(pm[0], prev[pos], pm[1]);
      }
      if (next[pos] >= 0) {
        const nm = this.merges.get(ids[pos] * size + ids[next[pos]]);
        if (nm) q.push(nm[0], pos, nm[1]);
      }
    }
    const out: ModelToken[] = [];
    for (let i = 0; i < n; i++) if (alive[i]) out.push({ id: ids[i], start: starts[i], end: ends[i] });
    return out;
  }
}
