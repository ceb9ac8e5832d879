#!/usr/bin/env python3
# Writes test/fixtures/tokenizers/split-patterns.json: the Split pre-tokenizers of real tokenizer.json files
# (Oniguruma regular expressions, some with the inline case-insensitive group (?i:...) that Node 20's RegExp refuses,
# or possessive quantifiers) and, for a few hundred strings each, the pieces Hugging Face's own `tokenizers` library
# cuts (the Rust implementation, with Oniguruma, that transformers runs). Python's `regex` module is a second,
# independent matcher: the script records on how many strings it agrees with `tokenizers` (all, when last run).
# Offsets are converted from code points to UTF-16 code units, the unit of the TypeScript tokenizers and VS Code.
#
#   /work/.venv-ref/bin/python scripts/make-pretokenizer-fixtures.py     (tokenizers, regex)
#
# Deterministic: a fixed seed.
import json
import os
import random

import regex
import tokenizers
from tokenizers import Regex, pre_tokenizers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "tokenizers", "split-patterns.json")

# The patterns as the models' tokenizer.json files hold them (pre_tokenizer → Split → pattern).
PATTERNS = [
    {
        "name": "llama3",
        "source": "meta-llama/Meta-Llama-3-8B tokenizer.json (also Llama 3.1/3.2/3.3, OLMo 2, DeepSeek-R1-Distill-"
        "Llama; the tiktoken cl100k_base pattern)",
        "pattern": {
            "Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+"
            "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
        },
        "behavior": "Isolated",
    },
    {
        "name": "qwen2.5",
        "source": "Qwen/Qwen2.5-0.5B tokenizer.json (also Qwen2, Qwen3, QwQ): single digits",
        "pattern": {
            "Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+"
            "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
        },
        "behavior": "Isolated",
    },
    {
        "name": "gemma",
        "source": "google/gemma-2 and gemma-3 tokenizer.json (transformers' GemmaTokenizer / GemmaConverter): Split "
        'on the String " ", merged with the previous piece (after the Replace " " → "▁" normalizer it cuts nothing)',
        "pattern": {"String": " "},
        "behavior": "MergedWithPrevious",
    },
    {
        "name": "o200k",
        "source": "the tiktoken o200k_base pattern in tokenizer.json form (GPT-4o-style tokenizers, e.g. "
        "microsoft/Phi-4-mini-instruct): case classes and an optional (?i:...) suffix",
        "pattern": {
            "Regex": "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+"
            "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+"
            "[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
        },
        "behavior": "Isolated",
    },
    {
        "name": "cl100k-possessive",
        "source": "tiktoken's current cl100k_base pattern (possessive quantifiers, (?i:[sdmt]|ll|ve|re)), as "
        "tokenizer.json files converted from tiktoken models carry it",
        "pattern": {
            "Regex": "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]++"
            "[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+"
        },
        "behavior": "Isolated",
    },
    {
        "name": "gpt2",
        "source": "openai-community/gpt2-style pattern as a Split regex (e.g. in Sequence pre-tokenizers)",
        "pattern": {"Regex": "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"},
        "behavior": "Isolated",
    },
]

HAND = [
    "The quick brown fox jumps over the lazy dogs.",
    "don't won't I'm you're we've they'll she'd",
    "DON'T WON'T I'M YOU'RE WE'VE THEY'LL SHE'D",
    "Don'T wOn'T i'M yOU'Re",
    "it's 'tis the season's",
    "x'ſ 'ſ 'K 'K (Kelvin) 'ß 'SS 'ss 'ﬆ 'st",
    "'s't're've'm'll'd",
    "''s '''t 's' 'S'",
    "rock'n'roll o'clock",
    "She said, \"I'm going.\" He replied, 'OK!'",
    "Café Ünïcödé naïve façade",
    "Ångström Øresund ß straße İstanbul ΣΊΣΥΦΟΣ",
    "我爱北京 text 中文，标点！",
    "東京タワー 도쿄 타워",
    "Привет, мир! Ёжик",
    "مرحبا بالعالم",
    "नमस्ते दुनिया",
    "e\u0301 a\u0300\u0323 n\u0303",
    "hi 👍🏽 there 👨‍👩‍👧‍👦",
    "emoji👍glued😀😃",
    "a\tb\nc",
    "crlf\r\nline\r\n\r\nend",
    "mixed \t \n  whitespace\n\n\nend",
    "   multiple   spaces   between   words   ",
    "trailing space ",
    " leading",
    "",
    " ",
    "\n",
    "\r",
    "  \n  ",
    "nel\x85next",
    "nbsp\u00a0here \u00a0 x",
    "bom\ufeffhere",
    "zero\u200bwidth\u200cjoin\u200d",
    "mongolian\u180evowel",
    "ideographic\u3000space",
    "line\u2028sep\u2029para",
    "vt\x0bff\x0cend",
    "123 4567 89.01 1,000,000 12345678901",
    "٣٤٥ ١٢٣٤ ² ³ ½ Ⅻ ①",
    "3.14159 -42 +7 1e10 0x1F",
    "!!! ??? ... --- *** ///",
    "a/b//c http://x.y/z?q=1",
    "def f(x):\n    return x ** 2  # square\n",
    "for (let i = 0; i < n; i++) { sum += a[i]; }",
    "<html><body class=\"x\">Hi</body></html>",
    "snake_case camelCase PascalCase kebab-case HTTPServer getHTTPResponseCode",
    "ÜBER Über über ǅungla ǈ ǋ",
    "ﬁ ﬂ ﬀ ﬃ",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛 𐐀𐐨",
    "control\x00char\x01s\x7f here",
    "a" * 50 + "'S" + "b" * 30,
    "x" * 40 + " " + "1" * 25,
]

ALPHABET = list(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    "''''''sStTdDmMlLrReEvV     \t\n\n\r.,;:!?-_/\\()[]{}\"`~@#$%^&*+=<>|"
)
ALPHABET += ["ſ", "K", "ß", "é", "É", "ñ", "Ω", "ω", "ς", "Σ", "中", "文", "あ", "ア", "한", "Ж", "ж", "٣", "²", "½",
             "\u0301", "\u0323", "\u00a0", "\u3000", "\u2028", "\x85", "\ufeff", "\u200b", "👍", "🏽", "😀", "𝟙", "𐐀"]


def random_strings(rng, n):
    out = []
    for _ in range(n):
        length = rng.choice([1, 2, 3, 5, 8, 13, 21, 34])
        out.append("".join(rng.choice(ALPHABET) for _ in range(length)))
    return out


def utf16_offsets(text):
    """Code point index → UTF-16 offset (one more entry for the end)."""
    offs = [0]
    for ch in text:
        offs.append(offs[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return offs


def pieces_tokenizers(p, text):
    pat = Regex(p["pattern"]["Regex"]) if "Regex" in p["pattern"] else p["pattern"]["String"]
    behavior = {"Isolated": "isolated", "MergedWithPrevious": "merged_with_previous"}[p["behavior"]]
    split = pre_tokenizers.Split(pat, behavior=behavior, invert=False)
    u = utf16_offsets(text)
    return [[u[s], u[e]] for _, (s, e) in split.pre_tokenize_str(text)]


def pieces_regex(p, text):
    """The same split computed with Python's `regex` module (Isolated: matches and the gaps between them)."""
    if "Regex" not in p["pattern"] or p["behavior"] != "Isolated":
        return None
    u = utf16_offsets(text)
    out, last = [], 0
    for m in regex.finditer(p["pattern"]["Regex"], text):
        if m.end() == m.start():
            continue
        if m.start() > last:
            out.append([u[last], u[m.start()]])
        out.append([u[m.start()], u[m.end()]])
        last = m.end()
    if last < len(text):
        out.append([u[last], u[len(text)]])
    return out


def main():
    rng = random.Random(14)
    texts = HAND + random_strings(rng, 250)
    fixture = {
        "generator": f"scripts/make-pretokenizer-fixtures.py with tokenizers {tokenizers.__version__}, "
        f"regex {regex.__version__}",
        "patterns": [],
    }
    for p in PATTERNS:
        cases = []
        agree = 0
        compared = 0
        for t in texts:
            want = pieces_tokenizers(p, t)
            cases.append({"text": t, "pieces": want})
            other = pieces_regex(p, t)
            if other is not None:
                compared += 1
                agree += other == want
        entry = dict(p)
        entry["python_regex_agrees"] = f"{agree} of {compared}" if compared else "not compared"
        entry["cases"] = cases
        fixture["patterns"].append(entry)
        print(p["name"], len(cases), entry["python_regex_agrees"])
    with open(OUT, "w") as f:
        json.dump(fixture, f, ensure_ascii=False, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
