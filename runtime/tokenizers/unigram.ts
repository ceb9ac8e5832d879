// The Unigram model: the segmentation of a word into vocabulary pieces with the highest total score (Viterbi over
// every piece that matches at every position; a character no piece starts with becomes the unknown piece, scored
// min_score - 10). `viterbi` is the search both sentencepiece (EncodeOptimized, float32 path scores, user-defined
// bonus, unused pieces skipped) and HF tokenizers (encode_optimized, float64) run; `Unigram` is HF's model of a
// tokenizer.json (T5, mT5, XLM-R...): consecutive unknown characters fused into one token, optional byte fallback.
import type { Model, ModelToken } from './model';
import { badTokenizer } from './errors';
import { PieceIndex } from './piece-index';
import { utf8Bytes } from './unicode';

/** A piece of the best path: chars[start, end) is vocabulary id `id`. */
export interface PathPiece {
  start: number;
  end: number;
  id: number;
}

export interface ViterbiOptions {
  index: PieceIndex;
  /** Score of each id (sentencepiece gives user-defined pieces their bonus here). */
  scores: Float64Array;
  /** Ids the lattice never uses (sentencepiece's UNUSED pieces); null: none. */
  skip: Uint8Array | null;
  /** Unknown piece id; -1 when the model has none (then an unknown character is an error). */
  unkId: number;
  unkScore: number;
  /** Keep path scores in float32 (sentencepiece) instead of float64 (HF). */
  float32: boolean;
}

/** Thrown (and turned into a BAD_TOKENIZER error by the caller) when a model without unknown piece needs one. */
export class NoUnknownPiece extends Error {}

/** The best segmentation of chars; ties keep the first candidate found (shorter pieces, earlier starts). */
export function viterbi(chars: string[], o: ViterbiOptions): PathPiece[] {
  const n = chars.length;
  const best = new Float64Array(n + 1);
  const from = new Int32Array(n + 1).fill(-1);
  const ids = new Int32Array(n + 1);
  const round = o.float32 ? Math.fround : (x: number) => x;
  for (let s = 0; s < n; s++) {
    const base = best[s];
    let single = false;
    o.index.prefixes(chars, s, (e, id) => {
      if (o.skip && o.skip[id]) return;
      // A float32 model adds in float32, as sentencepiece does: a candidate that ties there keeps the first one.
      const cand = round(o.scores[id] + base);
      if (from[e] === -1 || cand > best[e]) {
        best[e] = cand;
        from[e] = s;
        ids[e] = id;
      }
      if (e === s + 1) single = true;
    });
    if (!single) {
      const cand = round(o.unkScore + base);
      if (from[s + 1] === -1 || cand > best[s + 1]) {
        if (o.unkId < 0) throw new NoUnknownPiece();
        best[s + 1] = cand;
        from[s + 1] = s;
        ids[s + 1] = o.unkId;
      }
    }
  }
  const out: PathPiece[] = [];
  for (let e = n; e > 0; e = from[e]) out.push({ start: from[e], end: e, id: ids[e] });
  return out.reverse();
}

export interface UnigramOptions {
  /** [piece, score] in id order. */
  vocab: [string, number][];
  unkId: number | null;
  byteFallback: boolean;
  /** Named in errors. */
  source: string;
}

/** HF tokenizers' Unigram model (fuse_unk on, the optimized encoder), on one pre-tokenized word. */
export class Unigram implements Model {
  readonly vocab: Map<string, number>;
  readonly unkId: number | undefined;
  private readonly options: ViterbiOptions;
  private readonly byteIds: (number | undefined)[] = [];

  constructor(private readonly o: UnigramOptions) {
    if (o.vocab.length === 0) throw badTokenizer(o.source, 'the Unigram vocabulary is empty');
    if (o.unkId !== null && (o.unkId < 0 || o.unkId >= o.vocab.length)) {
      throw badTokenizer(o.source, `the Unigram unk_id ${o.unkId} is not in the vocabulary`);
    }
    this.vocab = new Map();
    let min = Infinity;
    const scores = new Float64Array(o.vocab.length);
    o.vocab.forEach(([piece, score], id) => {
      this.vocab.set(piece, id);
      scores[id] = score;
      if (score < min) min = score;
    });
    this.unkId = o.unkId ?? undefined;
    this.options = {
      index: new PieceIndex(o.vocab.map(([p], id): [string, number] => [p, id])),
      scores,
      skip: null,
      unkId: o.unkId ?? -1,
      unkScore: min - 10,
      float32: false,
    };
    for (let b = 0; b < 256; b++) {
      this.byteIds.push(this.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`));
    }
  }

  tokenize(chars: string[]): ModelToken[] {
    let path: PathPiece[];
    try {
      path = viterbi(chars, this.options);
    } catch (e) {
      if (e instanceof NoUnknownPiece) {
        throw badTokenizer(
          this.o.source,
          'the Unigram model has no unk_id but the text has characters outside its vocabulary',
        );
      }
      throw e;
    }
    // Fuse runs of unknown pieces.
    const fused: PathPiece[] = [];
    for (const p of path) {
      const last = fused[fused.length - 1];
      if (p.id === this.options.unkId && last && last.id === this.options.unkId) last.end = p.end;
      else fused.push({ ...p });
    }
    const out: ModelToken[] = [];
    for (const p of fused) {
      const s = chars.slice(p.start, p.end).join('');
      const id = this.vocab.get(s);
      if (id !== undefined) {
        out.push({ id, start: p.start, end: p.end });
        continue;
      }
      if (this.o.byteFallback) {
        const bytes = [...s].flatMap(utf8Bytes).map((b) => this.byteIds[b]);
        if (bytes.every((b) => b !== undefined)) {
          for (const b of bytes) out.push({ id: b as number, start: p.start, end: p.end });
          continue;
        }
      }
      out.push({ id: this.options.unkId, start: p.start, end: p.end });
    }
    return out;
  }
}
