#!/usr/bin/env python3
# Writes test/fixtures/gguf/tokenizer-reference.json: token ids and UTF-16 offsets of texts that begin with
# whitespace or hold special tokens, from transformers' tokenizer of a sentencepiece-style GGUF file
# (AutoTokenizer.from_pretrained(dir, gguf_file=...)), an implementation independent of ours. For hf-tiny-phi3.gguf
# (merges present) transformers converts the file as llama.cpp tokenizes it (llm_tokenizer_spm with
# add_space_prefix): "▁" before the text, whatever it starts with, and again after every special token.
#
#   /work/.venv-ref/bin/python scripts/make-gguf-tokenizer-reference.py
import json
import os

import transformers
from transformers import AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GGUF = os.path.join(ROOT, "test", "fixtures", "gguf")
FILES = ["hf-tiny-phi3.gguf"]
TEXTS = [
    " a",
    "  two spaces first",
    "\nnewline first",
    "<s>a",
    "x<s>y",
    "a </s> b",
    "<|user|>\nHi there<|end|>\n<|assistant|>",
    "Hello world",
    "",
]


def utf16_prefix(text):
    prefix = [0]
    for ch in text:
        prefix.append(prefix[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return prefix


def main():
    out = {
        "generator": f"scripts/make-gguf-tokenizer-reference.py with transformers {transformers.__version__}",
        "offsets": "UTF-16 code units [start, end) into text; null for special tokens",
        "files": {},
    }
    for name in FILES:
        tok = AutoTokenizer.from_pretrained(GGUF, gguf_file=name)
        cases = []
        for text in TEXTS:
            enc = tok(text, return_offsets_mapping=True, return_special_tokens_mask=True)
            prefix = utf16_prefix(text)
            offsets = []
            for (s, e), special in zip(enc["offset_mapping"], enc["special_tokens_mask"]):
                offsets.append(None if special else [prefix[s], prefix[e]])
            cases.append({"text": text, "ids": enc["input_ids"], "offsets": offsets})
        out["files"][name] = cases
    with open(os.path.join(GGUF, "tokenizer-reference.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(json.dumps(out, ensure_ascii=False)[:1500])


if __name__ == "__main__":
    main()
