// The normalization rules a sentencepiece model carries (`precompiled_charsmap`: nmt_nfkc, nfkc, ...), read as
// sentencepiece writes them and as HF tokenizers' `Precompiled` normalizer reads them: a little-endian u32 byte size,
// a darts-clone double-array trie over UTF-8 byte strings (u32 units), then a blob of NUL-terminated replacement
// strings the trie's values point into. Lookups bounds-check every unit and value, so a hostile blob gives a
// BAD_TOKENIZER error instead of a stray read.
import { badTokenizer } from './errors';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface CharsMapMatch {
  /** Bytes of the key matched. */
  length: number;
  /** The replacement (possibly empty: the key is deleted). */
  replacement: string;
}

export class PrecompiledCharsMap {
  private readonly units: Uint32Array;
  private readonly normalized: Uint8Array;
  private readonly strings = new Map<number, string>();

  private constructor(
    units: Uint32Array,
    normalized: Uint8Array,
    private readonly source: string,
  ) {
    this.units = units;
    this.normalized = normalized;
  }

  /** Parses a precompiled_charsmap blob (sentencepiece's DecodePrecompiledCharsMap checks, plus UTF-8). */
  static parse(blob: Uint8Array, source: string): PrecompiledCharsMap {
    if (blob.length <= 4) throw badTokenizer(source, 'the precompiled charsmap is too short');
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieBytes = view.getUint32(0, true);
    if (trieBytes + 4 > blob.length) {
      throw badTokenizer(source, `the precompiled charsmap's trie (${trieBytes} bytes) is larger than the charsmap`);
    }
    const n = Math.floor(trieBytes / 4);
    if (n === 0) throw badTokenizer(source, 'the precompiled charsmap has an empty trie');
    const units = new Uint32Array(n);
    for (let i = 0; i < n; i++) units[i] = view.getUint32(4 + 4 * i, true);
    const normalized = blob.subarray(4 + trieBytes);
    try {
      utf8.decode(normalized);
    } catch {
      throw badTokenizer(source, "the precompiled charsmap's replacement strings are not valid UTF-8");
    }
    return new PrecompiledCharsMap(units, normalized, source);
  }

  /** Decodes the standard base64 of a tokenizer.json `precompiled_charsmap`. */
  static fromBase64(b64: string, source: string): PrecompiledCharsMap {
    let bin: string;
    try {
      bin = atob(b64);
    } catch {
      throw badTokenizer(source, 'the precompiled_charsmap is not valid base64');
    }
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return PrecompiledCharsMap.parse(bytes, source);
  }

  /**
   * darts-clone's commonPrefixSearch over key[from, to): calls `hit(length, value)` for each key of the trie that is
   * a prefix, shortest first, until it returns false. Stops at a NUL byte when `stopAtNul` (HF's reading).
   */
  private prefixes(
    key: Uint8Array,
    from: number,
    to: number,
    stopAtNul: boolean,
    hit: (len: number, value: number) => boolean,
  ): void {
    const u = this.units;
    let node = offset(u[0]);
    for (let i = from; i < to; i++) {
      const c = key[i];
      if (stopAtNul && c === 0) return;
      node ^= c;
      if (node >= u.length) return;
      const unit = u[node];
      if (label(unit) !== c) return;
      node ^= offset(unit);
      if (hasLeaf(unit)) {
        if (node >= u.length) throw badTokenizer(this.source, 'the precompiled charsmap trie points outside itself');
        if (!hit(i + 1 - from, u[node] & 0x7fffffff)) return;
      }
    }
  }

  private replacement(value: number): string {
    const cached = this.strings.get(value);
    if (cached !== undefined) return cached;
    const b = this.normalized;
    if (value >= b.length) throw badTokenizer(this.source, 'the precompiled charsmap points outside its strings');
    let end = value;
    while (end < b.length && b[end] !== 0) end++;
    let s: string;
    try {
      s = utf8.decode(b.subarray(value, end));
    } catch {
      throw badTokenizer(this.source, 'a precompiled charsmap replacement is not valid UTF-8');
    }
    this.strings.set(value, s);
    return s;
  }

  /**
   * sentencepiece's NormalizePrefix: the longest rule whose key is a prefix of bytes[from, to) (among the first 32
   * prefixes, as sentencepiece keeps), or undefined.
   */
  longest(bytes: Uint8Array, from: number, to: number): CharsMapMatch | undefined {
    let best = 0;
    let value = 0;
    let count = 0;
    this.prefixes(bytes, from, to, false, (len, v) => {
      if (best === 0 || len > best) {
        best = len;
        value = v;
      }
      return ++count < 32;
    });
    return best === 0 ? undefined : { length: best, replacement: this.replacement(value) };
  }

  /** HF `Precompiled::transform`: the replacement of the shortest rule whose key is a prefix of `bytes`. */
  first(bytes: Uint8Array): string | undefined {
    let value = -1;
    this.prefixes(bytes, 0, bytes.length, true, (_len, v) => {
      value = v;
      return false;
    });
    return value < 0 ? undefined : this.replacement(value);
  }
}

const hasLeaf = (unit: number): boolean => ((unit >>> 8) & 1) === 1;
/** The label, with bit 31 kept so that a value unit never equals a byte. */
const label = (unit: number): number => (unit & 0x800000ff) >>> 0;
const offset = (unit: number): number => (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
