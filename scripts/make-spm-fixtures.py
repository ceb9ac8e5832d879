#!/usr/bin/env python3
# Writes the sentencepiece / Marian / Unigram tokenizer fixtures (test/fixtures/tokenizers/sentencepiece/, marian-unigram/,
# hf-tiny/) and their references, computed by independent implementations: Google's `sentencepiece` library,
# transformers' MarianTokenizer and HF `tokenizers`. Offsets come back in UTF-8 bytes (sentencepiece's proto) or code
# points (sentencepiece's Normalize, `tokenizers`); they are written as UTF-16 code units, the unit of the TypeScript
# tokenizers and of VS Code.
#
#   /work/.venv-ref/bin/python scripts/make-spm-fixtures.py            # references only, from the committed models
#   /work/.venv-ref/bin/python scripts/make-spm-fixtures.py --train    # also retrain the small models first
#
# Needs sentencepiece, tokenizers and transformers (versions are recorded in the output) and the shared test data at
# ../shared (tiny-marian-dates, hf-tiny) for the copies made once into test/fixtures. Deterministic: fixed seeds.
import json
import os
import random
import shutil
import sys

import sentencepiece as spm
import tokenizers
import transformers
from sentencepiece import sentencepiece_model_pb2 as pb
from tokenizers import Tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared", "models"))
FIX = os.path.join(ROOT, "test", "fixtures")
SPM_DIR = os.path.join(FIX, "tokenizers", "sentencepiece")
MARIAN_DATES = os.path.join(FIX, "models", "tiny-marian-dates")
MARIAN_UNIGRAM = os.path.join(FIX, "tokenizers", "marian-unigram")
HF_TINY = os.path.join(FIX, "models", "hf-tiny")

# A few paragraphs to train the small models on: English, French, German, Spanish, dates, numbers, a little CJK.
CORPUS = """
Attention began in sequence-to-sequence translation: the encoder reads the source, the decoder writes the target.
For each target token, the cross-attention decides which source tokens to look at; the pictures of this alignment
are the first thing people learning about attention see. The meeting is on the 14th of March, 2021, at 10:30.
On Sunday the 3rd of October 1999 the river rose by 2.5 metres; by Monday it had fallen again.
Le chat dort sur le canapé pendant que la pluie tombe. Où est la bibliothèque ? Elle est à côté de l'école.
Nous avons mangé une crème brûlée délicieuse et bu un café très fort. Ça va très bien, merci beaucoup.
Der Bär läuft über die Straße und frisst Äpfel. Grüße aus München, Köln und Zürich! Das Mädchen heißt Jürgen nicht.
El niño come una manzana en el jardín. ¿Dónde está la estación? ¡Mañana es sábado!
The quick brown fox jumps over the lazy dog. Numbers like 1, 2, 3, 42, 100 and 2024 appear in dates and prices.
She said: "I'm going to the store, don't wait for me." He replied, 'OK, see you later!'
東京は日本の首都です。北京和上海是中国的城市。今日は良い天気ですね。
Translation models such as Marian, T5 and BART read sentencepiece files, not only tokenizer.json.
The year 2021 comes first in an ISO date such as 2021-03-14, so the alignment of the words is not monotonic.
Prices: 3.50 euros, 12 dollars, 7 pounds. Phone: 555-0142. Email: someone@example.com. Version 1.2.3.
In the beginning the universe was created. This has made a lot of people very angry and been widely regarded as a
bad move. Time is an illusion; lunchtime doubly so. The ships hung in the sky in much the same way that bricks don't.
""".strip()

# The strings every tokenizer is compared on.
HAND = [
    "the 14th of March, 2021",
    "Wed, Sep 21, 2039",
    "3 march 21",
    "on sunday the 14th of march 2021",
    "14.03.2021",
    "2021-03-14",
    "Mar 14 '21",
    "The meeting is on the 14th of March, 2021.",
    "Le chat dort sur le canapé.",
    "Où est la bibliothèque ? À côté de l'école.",
    "Grüße aus München, Köln und Zürich!",
    "¿Dónde está la estación? ¡Mañana!",
    "東京は日本の首都です。",
    "北京和上海",
    "한국어 문장",
    "Привет, мир!",
    "مرحبا بالعالم",
    "hi 👍🏽 there 😀",
    "👨‍👩‍👧‍👦 family",
    "🇫🇷🇯🇵",
    "ＦＵＬＬＷＩＤＴＨ　ｔｅｘｔ １２３",
    "Ａ",
    "１４ｔｈ of Ｍａｒｃｈ, ２０２１",
    "①②③ ⑴ ⒈",
    "ﬁ ﬂ ﬃ ﬁne",
    "ﬁ",
    "aﬁb",
    "½ ¼ ² ³ ™ №",
    "㍻ ㎏ ㌔",
    "ｶﾞｷﾞ ﾊﾝｶｸ",
    "e\u0301 a\u0300\u0323 n\u0303",
    "Cafe\u0301 re\u0301sume\u0301",
    "Ǆ ǅ ǆ",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛",
    "a   b",
    "a  b  c",
    "   leading",
    "trailing   ",
    "  both  ",
    "tab\tseparated\tvalues",
    "new\nlines\nhere",
    "crlf\r\nline",
    "mixed \t \n  whitespace\n\n\nend",
    "nbsp\u00a0here",
    "ideographic\u3000space",
    "zero\u200bwidth\u200cjoin\u200d",
    "bom\ufeffhere",
    "control\x01char\x7f here",
    "nul\x00byte",
    "\x01leading control",
    "soft\u00adhyphen",
    "line\u2028sep\u2029para",
    "▁already▁escaped",
    "▁",
    "",
    " ",
    "   ",
    "\t",
    "\n",
    ".",
    "-",
    "a",
    "x",
    "Z",
    "é",
    "中",
    "😀",
    "\u0301",
    "</s>",
    "a</s>b",
    "<unk> inside",
    "<pad>",
    "<s>",
    ">>fr<< Bonjour le monde",
    ">>de<<Guten Tag",
    ">>xx<< unknown code",
    ">> not a code",
    "a >>fr<< in the middle",
    "- . - .",
    "3.50 euros, 555-0142",
    # Two segmentations with the same float32 score: sentencepiece keeps the first one found (▁ 5 55, not ▁ 55 5).
    "555",
    "5555 55 555555",
    "someone@example.com",
    "C:\\Users\\name\\file.txt",
    "<html><body>Hi</body></html>",
    "supercalifragilisticexpialidocious",
    "Donaudampfschifffahrtsgesellschaftskapitän",
    "x" * 60,
    "ab " * 30,
]

POOL = [
    "the", "of", "March", "2021", "14th", "3", "21", "Sep", "Wed", ",", ".", "-", "'", "café", "über", "niño", "東京",
    "中", "한국", "👍", "👍🏽", "😀", "①", "ﬁ", "Ａ", "１２", "½", "e\u0301", "\u200b", "\x01", "\t", "\n", "\r\n",
    "  ", "   ", "\u00a0", "\u3000", "</s>", "<unk>", "▁", "ｶﾞ", "Ǆ", "𝔘", "🇯🇵", "translation", "attention", "token",
]
SEPS = [" ", " ", " ", "", "  ", "\t", "\n", " \n "]


def random_strings(n, seed):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 12)):
            parts.append(rng.choice(POOL))
            parts.append(rng.choice(SEPS))
        s = "".join(parts)
        if rng.random() < 0.3:
            s = s.strip()
        out.append(s)
    return out


STRINGS = HAND + random_strings(120, 20240917)


def utf16_of_codepoints(text):
    """prefix[i] = UTF-16 length of the first i code points."""
    prefix = [0]
    for ch in text:
        prefix.append(prefix[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return prefix


def utf16_of_bytes(text):
    """UTF-8 byte offset -> UTF-16 offset (at character boundaries)."""
    m = {0: 0}
    b = u = 0
    for ch in text:
        b += len(ch.encode("utf-8"))
        u += 2 if ord(ch) > 0xFFFF else 1
        m[b] = u
    return m


# ---------------------------------------------------------------------------------------------------------------
# Training the small sentencepiece models (only with --train).

MODELS = {
    # opus-mt style: unigram, nmt_nfkc, defaults otherwise.
    "unigram-nmt": dict(model_type="unigram", vocab_size=420, normalization_rule_name="nmt_nfkc"),
    # byte fallback, user-defined symbols, plain nfkc, extra whitespace kept, digits split.
    "unigram-bytes": dict(
        model_type="unigram",
        vocab_size=520,
        normalization_rule_name="nfkc",
        byte_fallback=True,
        user_defined_symbols=["<sep>", "@", "->"],
        remove_extra_whitespaces=False,
        split_digits=True,
    ),
    # BPE without normalization, byte fallback, whitespace as suffix, a control symbol.
    "bpe-suffix": dict(
        model_type="bpe",
        vocab_size=480,
        normalization_rule_name="identity",
        byte_fallback=True,
        treat_whitespace_as_suffix=True,
        control_symbols=["<ctrl>"],
    ),
    # T5's layout (pad 0, eos 1, unk 2, no bos), for the Precompiled tokenizer.json.
    "unigram-t5": dict(
        model_type="unigram",
        vocab_size=400,
        normalization_rule_name="nmt_nfkc",
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
    ),
}


def train():
    os.makedirs(SPM_DIR, exist_ok=True)
    corpus = os.path.join(SPM_DIR, "corpus.txt")
    with open(corpus, "w", encoding="utf-8") as f:
        f.write(CORPUS + "\n")
    for name, opts in MODELS.items():
        spm.SentencePieceTrainer.train(
            input=corpus,
            model_prefix=os.path.join(SPM_DIR, name),
            character_coverage=1.0,
            num_threads=1,
            shuffle_input_sentence=False,
            hard_vocab_limit=False,
            minloglevel=2,
            **opts,
        )
        os.remove(os.path.join(SPM_DIR, name + ".vocab"))
    os.remove(corpus)
    # A copy of unigram-nmt with a few pieces marked UNUSED (what SetVocabulary / spm_export_vocab restrictions make),
    # and a BPE copy of tiny-marian-dates' model with some merged pieces unused; both without normalization rules
    # (identity), to keep them small.
    def with_unused(src, dst, pieces):
        m = pb.ModelProto()
        m.ParseFromString(open(src, "rb").read())
        m.normalizer_spec.name = "identity"
        m.normalizer_spec.precompiled_charsmap = b""
        found = 0
        for p in m.pieces:
            if p.piece in pieces:
                p.type = pb.ModelProto.SentencePiece.UNUSED
                found += 1
        assert found == len(pieces), (src, pieces)
        open(dst, "wb").write(m.SerializeToString())

    with_unused(os.path.join(SPM_DIR, "unigram-nmt.model"), os.path.join(SPM_DIR, "unigram-unused.model"),
                ["▁th", "in", "▁a", "s"])
    with_unused(os.path.join(SHARED, "tiny-marian-dates", "source.spm"), os.path.join(SPM_DIR, "bpe-unused.model"),
                ["▁the", "th", "▁2021", "ber"])


# ---------------------------------------------------------------------------------------------------------------
# References.


def spm_reference(model_path):
    """ids, pieces, sentencepiece's own offsets, and the offsets under our rule, for every string."""
    sp = spm.SentencePieceProcessor(model_file=model_path)
    cases = []
    for text in STRINGS:
        pieces = list(sp.encode(text, out_type="proto").pieces)
        b2u = utf16_of_bytes(text)
        cp2u = utf16_of_codepoints(text)
        normalized, offs = sp.normalize(text, with_offsets=True)
        o = [cp2u[x] for x in offs]  # norm_to_orig of each normalized char, then of the end, in UTF-16
        n = len(normalized)
        assert len(o) == n + 1
        ours = [None] * len(pieces)
        pos = 0  # position in the normalized text (code points)
        k = 0
        while k < len(pieces):
            if sp.is_byte(pieces[k].id):
                # The byte pieces of one unknown character: as many as its UTF-8 takes.
                group = [k]
                data = bytes([int(pieces[k].piece[3:5], 16)])
                while True:
                    try:
                        length = len(data.decode("utf-8"))
                        break
                    except UnicodeDecodeError:
                        k += 1
                        group.append(k)
                        data += bytes([int(pieces[k].piece[3:5], 16)])
            else:
                group = [k]
                length = len(pieces[k].piece)
                assert normalized[pos : pos + length] == pieces[k].piece, (model_path, text, pieces[k].piece)
            # Our rule: start where sentencepiece starts; end at the end of the run of normalized characters that
            # share the last character's original position (so never inside one character's normalization).
            e = pos + length
            while e < n and o[e] == o[e - 1]:
                e += 1
            for g in group:
                ours[g] = [o[pos], o[e]]
            pos += length
            k += 1
        assert pos == n, (model_path, text)
        cases.append(
            {
                "text": text,
                "ids": [p.id for p in pieces],
                "pieces": [p.piece for p in pieces],
                # sentencepiece's own spans where they differ from ours (null where equal).
                "spm_offsets": [
                    None if [b2u[p.begin], b2u[p.end]] == ours[i] else [b2u[p.begin], b2u[p.end]]
                    for i, p in enumerate(pieces)
                ],
                "offsets": ours,
            }
        )
    return {"cases": cases}


def marian_reference(folder):
    tok = transformers.MarianTokenizer.from_pretrained(folder)
    cases = []
    for text in STRINGS:
        ids = tok(text).input_ids
        cases.append(
            {
                "text": text,
                "pieces": tok.tokenize(text),
                "ids": ids,
                "target_ids": tok(text_target=text).input_ids,
                "decoded": tok.decode(ids, skip_special_tokens=True),
            }
        )
    return cases


def hf_reference(path):
    tok = Tokenizer.from_file(path)
    tok.no_truncation()
    tok.no_padding()
    cases = []
    for text in STRINGS:
        enc = tok.encode(text, add_special_tokens=True)
        prefix = utf16_of_codepoints(text)
        offsets = [None if special else [prefix[s], prefix[e]] for (s, e), special in zip(enc.offsets, enc.special_tokens_mask)]
        cases.append({"text": text, "ids": enc.ids, "offsets": offsets})
    return cases


def make_marian_unigram():
    """An opus-mt-shaped folder around two different unigram models, with a Marian vocab.json."""
    os.makedirs(MARIAN_UNIGRAM, exist_ok=True)
    shutil.copyfile(os.path.join(SPM_DIR, "unigram-nmt.model"), os.path.join(MARIAN_UNIGRAM, "source.spm"))
    shutil.copyfile(os.path.join(SPM_DIR, "unigram-bytes.model"), os.path.join(MARIAN_UNIGRAM, "target.spm"))
    pieces = []
    for f in ("source.spm", "target.spm"):
        m = pb.ModelProto()
        m.ParseFromString(open(os.path.join(MARIAN_UNIGRAM, f), "rb").read())
        pieces += [p.piece for p in m.pieces if p.type in (1, 4, 6)]
    rng = random.Random(7)
    vocab = {"</s>": 0, "<unk>": 1, ">>fr<<": 2, ">>de<<": 3}
    for p in pieces:
        # Leave a few pieces out so that they map to <unk>, as pieces missing from a real opus-mt vocab.json do.
        if p not in vocab and rng.random() > 0.08:
            vocab[p] = len(vocab)
    vocab["<pad>"] = len(vocab)
    with open(os.path.join(MARIAN_UNIGRAM, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False, indent=1)
    with open(os.path.join(MARIAN_UNIGRAM, "special_tokens_map.json"), "w") as f:
        json.dump({"eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}, f)
    with open(os.path.join(MARIAN_UNIGRAM, "tokenizer_config.json"), "w") as f:
        json.dump({"source_lang": "en", "target_lang": "fr", "tokenizer_class": "MarianTokenizer"}, f, indent=1)


def make_precompiled_json():
    """A T5-style tokenizer.json (Precompiled charsmap normalizer) built by transformers' T5Tokenizer from unigram-t5."""
    m = pb.ModelProto()
    m.ParseFromString(open(os.path.join(SPM_DIR, "unigram-t5.model"), "rb").read())
    vocab = [(p.piece, p.score) for p in m.pieces]
    tok = transformers.T5Tokenizer(vocab=vocab, _spm_precompiled_charsmap=m.normalizer_spec.precompiled_charsmap,
                                   extra_ids=0)
    tok.backend_tokenizer.save(os.path.join(SPM_DIR, "t5-precompiled.json"))
    os.remove(os.path.join(SPM_DIR, "unigram-t5.model"))


def copy_shared():
    """The shared files the tests need, copied once into test/fixtures (see the PROVENANCE.md files there)."""
    src = os.path.join(SHARED, "tiny-marian-dates")
    os.makedirs(MARIAN_DATES, exist_ok=True)
    for f in os.listdir(src):
        shutil.copyfile(os.path.join(src, f), os.path.join(MARIAN_DATES, f))
    for fam in ("t5", "bart"):
        dst = os.path.join(HF_TINY, fam)
        os.makedirs(dst, exist_ok=True)
        for f in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copyfile(os.path.join(SHARED, "hf-tiny", fam, f), os.path.join(dst, f))


def dump(path, doc):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


def main():
    if "--train" in sys.argv:
        train()
        make_marian_unigram()
        make_precompiled_json()
        copy_shared()
    versions = f"sentencepiece {spm.__version__}, tokenizers {tokenizers.__version__}, transformers {transformers.__version__}"
    generator = f"scripts/make-spm-fixtures.py with {versions}"
    offsets_note = (
        "UTF-16 code units [start, end) into text. offsets: sentencepiece's spans, except that a piece ending inside "
        "the normalization of one original character (or a byte piece of a character) ends where that character's "
        "normalized text ends, as the TypeScript tokenizer does; spm_offsets: sentencepiece's own span where it "
        "differs (null where equal)"
    )
    models = {
        "tiny-marian-dates": os.path.join(MARIAN_DATES, "source.spm"),
        "unigram-nmt": os.path.join(SPM_DIR, "unigram-nmt.model"),
        "unigram-bytes": os.path.join(SPM_DIR, "unigram-bytes.model"),
        "bpe-suffix": os.path.join(SPM_DIR, "bpe-suffix.model"),
        "unigram-unused": os.path.join(SPM_DIR, "unigram-unused.model"),
        "bpe-unused": os.path.join(SPM_DIR, "bpe-unused.model"),
    }
    dump(
        os.path.join(SPM_DIR, "spm-reference.json"),
        {
            "generator": generator,
            "offsets": offsets_note,
            "models": {k: {"file": os.path.relpath(v, ROOT), **spm_reference(v)} for k, v in models.items()},
        },
    )
    dump(
        os.path.join(SPM_DIR, "marian-reference.json"),
        {
            "generator": generator,
            "ids": "MarianTokenizer.from_pretrained(folder): tokenize(text), tok(text).input_ids, "
            "tok(text_target=text).input_ids, tok.decode(ids, skip_special_tokens=True)",
            "folders": {
                "tiny-marian-dates": marian_reference(MARIAN_DATES),
                "marian-unigram": marian_reference(MARIAN_UNIGRAM),
            },
        },
    )
    jsons = {
        "t5": os.path.join(HF_TINY, "t5", "tokenizer.json"),
        "bart": os.path.join(HF_TINY, "bart", "tokenizer.json"),
        "t5-precompiled": os.path.join(SPM_DIR, "t5-precompiled.json"),
    }
    dump(
        os.path.join(SPM_DIR, "hf-reference.json"),
        {
            "generator": generator,
            "offsets": "UTF-16 code units [start, end) into text; null for tokens added by the post-processor",
            "tokenizers": {k: {"file": os.path.relpath(v, ROOT), "cases": hf_reference(v)} for k, v in jsons.items()},
            # The texts and ids the hf-tiny t5 / bart reference_attention.json files were computed with.
            "reference_attention": {
                fam: {k: ref[k] for k in ("source_text", "input_ids", "target_text", "labels")}
                for fam in ("t5", "bart")
                for ref in [json.load(open(os.path.join(SHARED, "hf-tiny", fam, "reference_attention.json")))]
            },
        },
    )
    print(len(STRINGS), "strings;", versions)


if __name__ == "__main__":
    main()
