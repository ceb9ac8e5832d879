// Reads a sentencepiece model file (source.spm / target.spm of Marian, spiece.model, tokenizer.model): the
// ModelProto protobuf of google/sentencepiece's sentencepiece_model.proto — its pieces (string, score, type), the
// trainer_spec fields that encoding depends on, and the normalizer_spec (precompiled charsmap and whitespace rules).
// protobufjs's Reader checks every length against the buffer before it reads or allocates anything, so a truncated or
// hostile file ends in one BAD_TOKENIZER line; the pieces are then checked the way sentencepiece itself checks them.
import { Reader } from 'protobufjs/minimal';
import { badTokenizer } from './errors';
import { quoted } from '../errors';

/** SentencePiece.Type, as numbered in sentencepiece_model.proto. */
export const PieceType = {
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;
export type PieceTypeValue = (typeof PieceType)[keyof typeof PieceType];

/** TrainerSpec.ModelType. */
export type SpmModelType = 'unigram' | 'bpe' | 'word' | 'char';
const MODEL_TYPES: Record<number, SpmModelType> = { 1: 'unigram', 2: 'bpe', 3: 'word', 4: 'char' };

export interface SpmPiece {
  piece: string;
  /** float32, as stored. */
  score: number;
  type: PieceTypeValue;
}

/** The TrainerSpec fields that matter when encoding (defaults as in the .proto). */
export interface SpmTrainerSpec {
  modelType: SpmModelType;
  byteFallback: boolean;
  treatWhitespaceAsSuffix: boolean;
  unkId: number;
  bosId: number;
  eosId: number;
  padId: number;
  unkPiece: string;
  bosPiece: string;
  eosPiece: string;
  padPiece: string;
}

export interface SpmNormalizerSpec {
  /** nmt_nfkc, nfkc, identity, ... (informational: the rules are in precompiledCharsmap). */
  name: string;
  /** Empty when the model does not normalize. */
  precompiledCharsmap: Uint8Array;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
}

export interface SpmModelProto {
  pieces: SpmPiece[];
  trainer: SpmTrainerSpec;
  normalizer: SpmNormalizerSpec;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The fields of one length-delimited message, each handed to `field` with a reader positioned on its value. */
function eachField(r: Reader, field: (no: number, wire: number) => boolean): void {
  while (r.pos < r.len) {
    const tag = r.uint32();
    const no = tag >>> 3;
    const wire = tag & 7;
    if (no === 0) throw new Error(`field number 0 at byte ${r.pos}`);
    if (!field(no, wire)) r.skipType(wire);
  }
}

function text(r: Reader): string {
  return utf8.decode(r.bytes());
}

function parsePiece(r: Reader): SpmPiece {
  const p: SpmPiece = { piece: '', score: 0, type: PieceType.NORMAL };
  eachField(r, (no, wire) => {
    if (no === 1 && wire === 2) p.piece = text(r);
    else if (no === 2 && wire === 5) p.score = r.float();
    else if (no === 3 && wire === 0) p.type = r.int32() as PieceTypeValue;
    else return false;
    return true;
  });
  return p;
}

function parseTrainer(r: Reader): RawTrainer {
  const t = {
    modelTypeNo: 1,
    modelType: 'unigram' as SpmModelType,
    byteFallback: false,
    treatWhitespaceAsSuffix: false,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    padId: -1,
    unkPiece: '<unk>',
    bosPiece: '<s>',
    eosPiece: '</s>',
    padPiece: '<pad>',
  };
  eachField(r, (no, wire) => {
    if (wire === 0) {
      if (no === 3) t.modelTypeNo = r.int32();
      else if (no === 35) t.byteFallback = r.bool();
      else if (no === 24) t.treatWhitespaceAsSuffix = r.bool();
      else if (no === 40) t.unkId = r.int32();
      else if (no === 41) t.bosId = r.int32();
      else if (no === 42) t.eosId = r.int32();
      else if (no === 43) t.padId = r.int32();
      else return false;
      return true;
    }
    if (wire === 2) {
      if (no === 45) t.unkPiece = text(r);
      else if (no === 46) t.bosPiece = text(r);
      else if (no === 47) t.eosPiece = text(r);
      else if (no === 48) t.padPiece = text(r);
      else return false;
      return true;
    }
    return false;
  });
  return t;
}

function parseNormalizer(r: Reader): SpmNormalizerSpec {
  const n: SpmNormalizerSpec = {
    name: '',
    precompiledCharsmap: new Uint8Array(0),
    addDummyPrefix: true,
    removeExtraWhitespaces: true,
    escapeWhitespaces: true,
  };
  eachField(r, (no, wire) => {
    if (no === 1 && wire === 2) n.name = text(r);
    else if (no === 2 && wire === 2) n.precompiledCharsmap = r.bytes();
    else if (no === 3 && wire === 0) n.addDummyPrefix = r.bool();
    else if (no === 4 && wire === 0) n.removeExtraWhitespaces = r.bool();
    else if (no === 5 && wire === 0) n.escapeWhitespaces = r.bool();
    else return false;
    return true;
  });
  return n;
}

/** Decodes the protobuf; throws BAD_TOKENIZER naming `source` when the bytes are not a well-formed ModelProto. */
type RawTrainer = SpmTrainerSpec & { modelTypeNo: number };

function decode(
  bytes: Uint8Array,
  source: string,
): { pieces: SpmPiece[]; trainer: RawTrainer; normalizer: SpmNormalizerSpec } {
  const pieces: SpmPiece[] = [];
  let trainer: RawTrainer | undefined;
  let normalizer: SpmNormalizerSpec | undefined;
  try {
    // A plain Uint8Array view, so the same Reader runs in Node (where files come as Buffers) and in browsers.
    const r = Reader.create(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    eachField(r, (no, wire) => {
      if (wire !== 2 || no < 1 || no > 3) return false;
      const sub = Reader.create(r.bytes());
      if (no === 1) pieces.push(parsePiece(sub));
      else if (no === 2) trainer = parseTrainer(sub);
      else normalizer = parseNormalizer(sub);
      return true;
    });
  } catch (e) {
    const why = e instanceof TypeError ? 'a piece is not valid UTF-8' : (e as Error).message;
    throw badTokenizer(source, `not a readable sentencepiece model (${why})`);
  }
  const t = trainer ?? parseTrainer(Reader.create(new Uint8Array(0)));
  const n = normalizer ?? parseNormalizer(Reader.create(new Uint8Array(0)));
  return { pieces, trainer: t, normalizer: n };
}

const BYTE_PIECE = /^<0x([0-9A-F]{2})>$/;

/** The byte of a `<0xNN>` piece, or -1. */
export function pieceToByte(piece: string): number {
  const m = BYTE_PIECE.exec(piece);
  return m ? parseInt(m[1], 16) : -1;
}

/**
 * Reads a sentencepiece model file's bytes. `source` (the file's name or path) is named in every error. Checks what
 * sentencepiece's own loader checks: pieces are non-empty and unique, exactly one is the unknown piece, byte pieces
 * come with byte_fallback (and then all 256 exist); the model type must be unigram or BPE.
 */
export function readSentencePieceModel(bytes: Uint8Array, source: string): SpmModelProto {
  const m = decode(bytes, source);
  const modelType = MODEL_TYPES[m.trainer.modelTypeNo];
  if (!modelType) throw badTokenizer(source, `unknown sentencepiece model type ${m.trainer.modelTypeNo}`);
  if (modelType !== 'unigram' && modelType !== 'bpe') {
    throw badTokenizer(
      source,
      `sentencepiece ${modelType.toUpperCase()} models are not supported (only UNIGRAM and BPE)`,
    );
  }
  if (m.pieces.length === 0) throw badTokenizer(source, 'the sentencepiece model has no pieces');
  const normal = new Set<string>();
  const reserved = new Set<string>();
  const bytesSeen = new Set<number>();
  let unk = -1;
  m.pieces.forEach((p, i) => {
    if (p.piece.length === 0) throw badTokenizer(source, `piece ${i} is empty`);
    if (!Number.isFinite(p.score)) throw badTokenizer(source, `piece ${i} (${quoted(p.piece)}) has no finite score`);
    if (p.type < 1 || p.type > 6) throw badTokenizer(source, `piece ${i} has an unknown type ${p.type}`);
    const isNormal = p.type === PieceType.NORMAL || p.type === PieceType.USER_DEFINED || p.type === PieceType.UNUSED;
    const set = isNormal ? normal : reserved;
    if (set.has(p.piece)) throw badTokenizer(source, `the piece ${quoted(p.piece)} is defined twice`);
    set.add(p.piece);
    if (p.type === PieceType.UNKNOWN) {
      if (unk >= 0) throw badTokenizer(source, `pieces ${unk} and ${i} are both the unknown piece`);
      unk = i;
    }
    if (p.type === PieceType.BYTE) {
      if (!m.trainer.byteFallback) {
        throw badTokenizer(source, `byte piece ${quoted(p.piece)} is found although byte_fallback is false`);
      }
      const b = pieceToByte(p.piece);
      if (b < 0) throw badTokenizer(source, `byte piece ${quoted(p.piece)} is not of the form <0xNN>`);
      bytesSeen.add(b);
    }
  });
  if (unk < 0) throw badTokenizer(source, 'the sentencepiece model has no unknown piece');
  if (m.trainer.byteFallback && bytesSeen.size !== 256) {
    throw badTokenizer(source, `byte_fallback is true but only ${bytesSeen.size} of the 256 byte pieces exist`);
  }
  const { modelTypeNo: _, ...trainer } = m.trainer;
  return { pieces: m.pieces, trainer: { ...trainer, modelType }, normalizer: m.normalizer };
}
