// A sentencepiece model file run as sentencepiece's SentencePieceProcessor::Encode runs it: normalize (charsmap,
// whitespace, dummy prefix), segment with the model (Unigram Viterbi or score-ordered BPE), then turn unknown pieces
// into byte pieces (byte_fallback) or merge runs of them into one, exactly as PopulateSentencePieceText does. Every
// piece keeps its span in the original text (UTF-16 code units). `SentencePieceProcessor.encodePieces` gives pieces
// and sentencepiece ids; Marian maps the pieces through its own vocab.json (marian.ts), and
// `sentencePieceTokenizer` is the plain tokenizer of a .model file (sentencepiece ids, no special tokens added).
import type { Token } from '../types';
import { NormalizedText } from './normalized-text';
import { PieceIndex } from './piece-index';
import { PrecompiledCharsMap } from './precompiled-charsmap';
import { sentencePieceBpe } from './sentencepiece-bpe';
import { PieceType, readSentencePieceModel, type SpmModelProto } from './sentencepiece-model';
import { SPACE_SYMBOL, sentencePieceNormalizer } from './sentencepiece-normalizer';
import type { EncodeOptions, SpecialTokenIds, Tokenizer } from './tokenizer';
import { utf8Bytes } from './unicode';
import { viterbi, type PathPiece } from './unigram';

/** One encoded piece: its string (for an unknown piece, the normalized text it covers), id and original span. */
export interface SpmPieceSpan {
  piece: string;
  id: number;
  start: number;
  end: number;
}

const utf8Length = (s: string): number => [...s].reduce((n, c) => n + utf8Bytes(c).length, 0);

const FLT_MAX = 3.4028234663852886e38;
const FLT_MIN = 1.1754943508222875e-38;

export class SentencePieceProcessor {
  readonly proto: SpmModelProto;
  readonly unkId: number;
  readonly modelType: 'unigram' | 'bpe';
  /** NORMAL, USER_DEFINED and UNUSED pieces. */
  private readonly pieces = new Map<string, number>();
  /** CONTROL, UNKNOWN and BYTE pieces. */
  private readonly reserved = new Map<string, number>();
  private readonly normalize: (t: NormalizedText) => NormalizedText;
  private readonly segment: (chars: string[]) => PathPiece[];

  constructor(
    bytes: Uint8Array,
    readonly source: string,
  ) {
    const m = readSentencePieceModel(bytes, source);
    this.proto = m;
    this.modelType = m.trainer.modelType === 'bpe' ? 'bpe' : 'unigram';
    const n = m.pieces.length;
    const scores = new Float64Array(n);
    const unused = new Uint8Array(n);
    const userDefined: string[] = [];
    let unkId = -1;
    let minScore = FLT_MAX;
    let maxScore = FLT_MIN;
    m.pieces.forEach((p, id) => {
      const normal = p.type === PieceType.NORMAL || p.type === PieceType.USER_DEFINED || p.type === PieceType.UNUSED;
      (normal ? this.pieces : this.reserved).set(p.piece, id);
      scores[id] = p.score;
      if (p.type === PieceType.UNUSED) unused[id] = 1;
      if (p.type === PieceType.USER_DEFINED) userDefined.push(p.piece);
      if (p.type === PieceType.UNKNOWN) unkId = id;
      if (p.type === PieceType.NORMAL) {
        minScore = Math.min(minScore, p.score);
        maxScore = Math.max(maxScore, p.score);
      }
    });
    this.unkId = unkId;
    const ns = m.normalizer;
    this.normalize = sentencePieceNormalizer({
      charsMap: ns.precompiledCharsmap.length > 0 ? PrecompiledCharsMap.parse(ns.precompiledCharsmap, source) : null,
      userDefined,
      addDummyPrefix: ns.addDummyPrefix,
      removeExtraWhitespaces: ns.removeExtraWhitespaces,
      escapeWhitespaces: ns.escapeWhitespaces,
      treatWhitespaceAsSuffix: m.trainer.treatWhitespaceAsSuffix,
    });

    const udIndex = new PieceIndex(userDefined.map((p): [string, number] => [p, 0]));
    const userDefinedAt = (chars: string[], i: number): number => {
      let longest = 0;
      udIndex.prefixes(chars, i, (end) => (longest = end - i));
      return longest;
    };
    if (this.modelType === 'bpe') {
      const options = {
        pieces: this.pieces,
        scores,
        unused,
        pieceToId: (p: string) => this.pieceToId(p),
        userDefinedAt,
      };
      this.segment = (chars) => sentencePieceBpe(chars, options);
    } else {
      // User-defined pieces get sentencepiece's bonus so that they are always chosen.
      for (const p of userDefined) {
        const id = this.pieces.get(p) as number;
        scores[id] = Math.fround(utf8Length(p) * maxScore) - 0.1;
      }
      const options = {
        index: new PieceIndex(this.pieces),
        scores,
        skip: unused,
        unkId,
        unkScore: Math.fround(minScore - 10),
        float32: true,
      };
      this.segment = (chars) => viterbi(chars, options);
    }
  }

  /** sentencepiece's PieceToId: reserved pieces first, then the others, else the unknown id. */
  pieceToId(piece: string): number {
    return this.reserved.get(piece) ?? this.pieces.get(piece) ?? this.unkId;
  }

  get size(): number {
    return this.proto.pieces.length;
  }

  idToPiece(id: number): string | undefined {
    return this.proto.pieces[id]?.piece;
  }

  /** Pieces of a stretch of original text (aligned to itself), with spans in the original text. */
  encodePieces(original: NormalizedText): SpmPieceSpan[] {
    const norm = this.normalize(original);
    const out: SpmPieceSpan[] = [];
    let prevUnk = false;
    for (const p of this.segment(norm.chars)) {
      const piece = norm.chars.slice(p.start, p.end).join('');
      const start = norm.starts[p.start];
      const end = norm.ends[p.end - 1];
      const unk = p.id === this.unkId;
      if (unk && this.proto.trainer.byteFallback) {
        for (const b of new TextEncoder().encode(piece)) {
          const name = `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
          out.push({ piece: name, id: this.pieceToId(name), start, end });
        }
      } else if (unk && prevUnk) {
        const last = out[out.length - 1];
        last.piece += piece;
        last.end = end;
      } else {
        out.push({ piece, id: p.id, start, end });
      }
      prevUnk = unk;
    }
    return out;
  }
}

/** Reads a sentencepiece model file's bytes (`source` names it in errors). */
export function loadSentencePiece(bytes: Uint8Array, source: string): SentencePieceProcessor {
  return new SentencePieceProcessor(bytes, source);
}

/**
 * The tokenizer of a bare sentencepiece model (spiece.model, tokenizer.model): sentencepiece ids, exactly as
 * `SentencePieceProcessor.encode(text)` returns them (no BOS/EOS added, control pieces written in the text are text).
 */
export function sentencePieceTokenizer(bytes: Uint8Array, source: string): Tokenizer {
  return new SentencePieceTokenizer(loadSentencePiece(bytes, source));
}

class SentencePieceTokenizer implements Tokenizer {
  readonly kind: string;
  readonly vocabSize: number;
  readonly special: SpecialTokenIds;

  constructor(private readonly sp: SentencePieceProcessor) {
    this.kind = sp.modelType === 'bpe' ? 'bpe-sentencepiece' : 'unigram';
    this.vocabSize = sp.size;
    const t = sp.proto.trainer;
    const ok = (id: number): number | undefined =>
      id >= 0 && id < sp.size && sp.proto.pieces[id].type === PieceType.CONTROL ? id : undefined;
    this.special = { unk: sp.unkId, bos: ok(t.bosId), eos: ok(t.eosId), pad: ok(t.padId) };
  }

  encode(text: string, _options: EncodeOptions = {}): Token[] {
    return this.sp.encodePieces(NormalizedText.fromOriginal(text)).map((p) => ({
      id: p.id,
      text: this.sp.idToPiece(p.id) ?? p.piece,
      start: p.start,
      end: p.end,
      special: false,
    }));
  }

  idToToken(id: number): string | undefined {
    return this.sp.idToPiece(id);
  }

  tokenToId(token: string): number | undefined {
    const id = this.sp.pieceToId(token);
    return id === this.sp.unkId && token !== this.sp.idToPiece(id) ? undefined : id;
  }

  decode(ids: number[]): string {
    const pieces = ids
      .map((id) => this.sp.proto.pieces[id])
      .filter((p) => p !== undefined && p.type !== PieceType.CONTROL && p.type !== PieceType.UNKNOWN)
      .map((p) => p.piece);
    return decodePieces(pieces);
  }
}

/** Best-effort text of pieces: byte pieces decoded as UTF-8, ▁ as spaces, the dummy-prefix space dropped. */
export function decodePieces(pieces: string[]): string {
  const bytes: number[] = [];
  let out = '';
  const flush = (): void => {
    if (bytes.length > 0) out += new TextDecoder().decode(new Uint8Array(bytes));
    bytes.length = 0;
  };
  for (const p of pieces) {
    const m = /^<0x([0-9A-F]{2})>$/.exec(p);
    if (m) bytes.push(parseInt(m[1], 16));
    else {
      flush();
      out += p;
    }
  }
  flush();
  out = out.split(SPACE_SYMBOL).join(' ');
  return out.startsWith(' ') ? out.slice(1) : out;
}
