#!/usr/bin/env python3
# Writes the reference fixtures for the tokenizer tests (test/fixtures/tokenizers/*.json) with Hugging Face's
# own `tokenizers` library, an implementation independent of ours. Offsets come back from Python in code points;
# they are converted here to UTF-16 code units, the unit the TypeScript tokenizers (and VS Code) use.
#
#   pip install tokenizers && python3 scripts/make-tokenizer-fixtures.py
#
# Reads the tokenizers in test/fixtures (models/, tokenizers/). Deterministic: a fixed seed.
import json
import os
import random
import sys

import tokenizers
from tokenizers import Tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "test", "fixtures")
OUT = os.path.join(FIXTURES, "tokenizers")

SOURCES = {
    "minilm": os.path.join(FIXTURES, "tokenizers", "all-MiniLM-L6-v2", "tokenizer.json"),
    "gpt2": os.path.join(FIXTURES, "models", "tiny-gpt2", "tokenizer.json"),
    "stories260k": os.path.join(FIXTURES, "models", "stories260K", "tokenizer.json"),
}

HAND = [
    "The quick brown fox jumps over the lazy dogs.",
    "Once upon a time, there was a little girl named Lily. She",
    "Café Ünïcödé",
    "我爱北京 text",
    "hi 👍🏽 there",
    "a\tb\nc",
    "a   b",
    "",
    " ",
    "   ",
    "\n",
    "\t\t",
    " leading space",
    "trailing space ",
    "  two leading and two trailing  ",
    "Hello, world!",
    "HELLO WORLD",
    "naïve façade résumé coöperate",
    "Ångström Øresund ß straße",
    "İstanbul ΣΊΣΥΦΟΣ Σ",
    "ﬁ ﬂ ½ ² ①",
    "Ǆ ǅ ǆ",
    "e\u0301 a\u0300\u0323 n\u0303",
    "東京タワー 도쿄 타워",
    "日本語のテキストです。",
    "中文，标点！（括号）",
    "한국어 문장입니다",
    "Привет, мир! Ёжик",
    "Γειά σου Κόσμε",
    "مرحبا بالعالم",
    "שלום עולם",
    "नमस्ते दुनिया",
    "สวัสดีชาวโลก",
    "👨‍👩‍👧‍👦 family",
    "🏳️‍🌈 flag",
    "👩🏽‍💻 coder",
    "❤️ ❤ ☺️",
    "🇫🇷🇯🇵",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛",
    "emoji👍glued",
    "😀😃😄😁",
    "control\x00char\x01s\x7f here",
    "zero\u200bwidth\u200cjoin\u200d",
    "bom\ufeffhere",
    "nel\x85next",
    "nbsp\u00a0here",
    "ideographic\u3000space",
    "line\u2028sep\u2029para",
    "replacement \ufffd char",
    "private \ue000 use",
    "crlf\r\nline",
    "mixed \t \n  whitespace\n\n\nend",
    "123 4567 89.01 1,000,000",
    "3.14159 -42 +7 1e10 0x1F",
    "2024-01-15T10:30:00Z",
    "!!! ??? ... --- ***",
    "\"quoted\" 'single' `back`",
    "(parens) [brackets] {braces} <angles>",
    "a+b=c; x<y>z | p&q ^ ~r $5 @user #tag %",
    "don't won't I'm you're we've they'll she'd",
    "DON'T WON'T I'M",
    "it's 'tis the season's",
    "def f(x):\n    return x ** 2  # square\n",
    "for (let i = 0; i < n; i++) { sum += a[i]; }",
    "const s = `template ${value}`;",
    "SELECT * FROM users WHERE id = 42;",
    "https://example.com/path?query=1&b=two#frag",
    "user@example.com",
    "C:\\Users\\name\\file.txt",
    "<html><body class=\"x\">Hi</body></html>",
    "snake_case camelCase PascalCase kebab-case",
    "supercalifragilisticexpialidocious",
    "pneumonoultramicroscopicsilicovolcanoconiosis",
    "a" * 120,
    "ab" * 70,
    "x" * 99 + " " + "y" * 100 + " " + "z" * 101,
    "Donaudampfschifffahrtsgesellschaftskapitän",
    "[CLS] inside [SEP] text [MASK]",
    "[cls] lower [unk]",
    "<|endoftext|>start and end<|endoftext|>",
    "<s>bos and </s>eos<unk>",
    "word<s>glued</s>",
    "   multiple   spaces   between   words   ",
    "a  b   c    d",
    "tab\tseparated\tvalues",
    "new\nlines\nhere",
    ".",
    ",",
    "a",
    "A",
    "é",
    "😀",
    "中",
    "\u0301",
    "Mr. Smith went to Washington, D.C., in 1999.",
    "The year 2000 (Y2K) problem; e.g., i.e., etc.",
    "¿Dónde está la biblioteca? ¡Aquí!",
    "Ça va? Très bien, merci.",
    "Zürich, München, Köln",
    "Ελληνικά και English mixed",
    "mixed中文and English字符",
    "数字123和letters",
    "カタカナとひらがな",
    "ﾊﾝｶｸｶﾀｶﾅ",
    "ＦＵＬＬＷＩＤＴＨ　ｔｅｘｔ",
    "™ © ® ° ± × ÷ € £ ¥",
    "→ ← ↑ ↓ ⇒ ∀ ∃ ∑ ∫ √ ∞",
    "a—b–c-d",
    "“smart quotes” ‘single’",
    "…ellipsis…",
    "Once upon a time there was a dog. The dog liked to run and play in the park with his friends.",
    "She said, \"I'm going to the store.\" He replied, 'OK!'",
    # Unassigned code points (category Cn) are not control characters to BERT's normalizer: the word becomes [UNK].
    "a\u0378b",
    "\u0378",
    "hello\u0378 world",
    "x\ufffey \uffff z \U0010ffff end",
]

POOL = [
    "the", "cat", "sat", "on", "mat", "Hello", "WORLD", "naïve", "café", "über", "ñandú", "東京", "北京",
    "我", "爱", "한국", "日本", "👍", "👍🏽", "👨‍👩‍👧", "🎉", "❤️", "42", "3.14", "1,000", "don't", "it's", "(",
    ")", "[", "]", "{", "}", ",", ".", "!", "?", ";", ":", "-", "_", "/", "\\", "'", "\"", "#", "@", "$", "%",
    "&", "*", "+", "=", "<", ">", "|", "~", "^", "`", "def", "return", "x", "=>", "==", "!=", "Ω", "Σ", "ß",
    "İ", "ﬁ", "Ǆ", "e\u0301", "\u200d", "\u200b", "\x00", "\x1b", "\t", "\n", "\r", "  ", "   ", "\u00a0",
    "\u3000", "supercalifragilistic", "Lily", "Once", "upon", "time", "little", "girl", "park", "ball",
    "[SEP]", "<s>", "<|endoftext|>", "𝔘", "🇯🇵",
]
SEPS = [" ", " ", " ", "", "  ", "\t", "\n", " \n "]


def random_strings(n, seed):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        k = rng.randint(1, 14)
        parts = []
        for _ in range(k):
            parts.append(rng.choice(POOL))
            parts.append(rng.choice(SEPS))
        s = "".join(parts)
        if rng.random() < 0.3:
            s = s.strip()
        out.append(s)
    return out


def utf16_prefix(text):
    """prefix[i] = UTF-16 length of the first i code points."""
    prefix = [0]
    for ch in text:
        prefix.append(prefix[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return prefix


def main():
    os.makedirs(OUT, exist_ok=True)
    texts = HAND + random_strings(170, 1234)
    for name, path in SOURCES.items():
        if not os.path.exists(path):
            sys.exit(f"missing {path}: the tokenizer fixtures belong in {FIXTURES}")
        tok = Tokenizer.from_file(path)
        tok.no_truncation()
        tok.no_padding()
        cases = []
        for text in texts:
            enc = tok.encode(text, add_special_tokens=True)
            prefix = utf16_prefix(text)
            offsets = []
            for (s, e), special in zip(enc.offsets, enc.special_tokens_mask):
                offsets.append(None if special else [prefix[s], prefix[e]])
            cases.append({"text": text, "ids": enc.ids, "offsets": offsets})
        doc = {
            "source": os.path.relpath(path, ROOT),
            "generator": f"scripts/make-tokenizer-fixtures.py with HF tokenizers {tokenizers.__version__}",
            "offsets": "UTF-16 code units [start, end) into text; null for tokens added by the post-processor",
            "cases": cases,
        }
        with open(os.path.join(OUT, f"{name}.json"), "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
            f.write("\n")
        print(name, len(cases), "cases")


if __name__ == "__main__":
    main()
