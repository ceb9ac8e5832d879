"""Greedy translations by Hugging Face transformers' generate(num_beams=1) under generation_config logits processors.

Why: greedy translation (runtime/generate/greedy-pick.ts, used by the family graphs' Seq2SeqRunner.translate and by
imported ONNX exports) must choose the tokens transformers' greedy generate() chooses, and generate() applies the
model's generation_config there too: bad_words_ids (one token and several), forced_bos_token_id (mBART-50's target
language, BART's <s>), forced_eos_token_id (eos at the length limit), min_length, min_new_tokens,
no_repeat_ngram_size, repetition_penalty, suppress_tokens, begin_suppress_tokens, encoder_repetition_penalty,
encoder_no_repeat_ngram_size, exponential_decay_length_penalty and sequence_bias; beam search applies the same
ones. This script runs
model.generate(num_beams=1, do_sample=False), and with num_beams=3, on tiny-marian-dates (trained) and the hf-tiny bart, t5 and mbart folders
(random weights) with the folder's generation_config.json and with one setting changed at a time, and writes each
case's source ids, the changed settings, max_new and the chosen tokens of both (decoder start left out, cut after eos) to
test/fixtures/generate/seq2seq-greedy.json. The tests write the same settings into a copy of the folder's
generation_config.json, so the product reads them as it reads a real model's.
Run with /work/.venv-ref/bin/python scripts/make-seq2seq-greedy-fixture.py (never in CI).
"""

import json
import os

import torch
import transformers
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer, GenerationConfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "test/fixtures/models")
OUT = os.path.join(ROOT, "test/fixtures/generate/seq2seq-greedy.json")

CASES = {
    "tiny-marian-dates": {"texts": ["the 14th of March, 2021", "May 3, 1999", "hello there"], "max_new": 20},
    "hf-tiny/bart": {"texts": ["Hello world", "a b c d e f g", "zebra quantum"], "max_new": 15},
    "hf-tiny/t5": {"texts": ["Hello world", "a b c d e f g", "zebra quantum"], "max_new": 15},
    "hf-tiny/mbart": {"texts": ["Hello world", "a b c d e f g", "zebra quantum"], "max_new": 12},
}


def greedy(model, ids, base, changes, max_new, beams=1):
    cfg = GenerationConfig.from_dict({**base.to_dict(), **changes})
    cfg.num_beams = beams
    cfg.do_sample = False
    cfg.max_length = max_new + 1  # the decoder start token counts
    with torch.no_grad():
        seq = model.generate(ids, generation_config=cfg)[0].tolist()[1:]
    eos = cfg.eos_token_id if isinstance(cfg.eos_token_id, int) else cfg.eos_token_id[0]
    return seq[: seq.index(eos) + 1] if eos in seq else seq


def main():
    torch.manual_seed(0)
    out = {"transformers": transformers.__version__, "cases": []}
    for name, case in CASES.items():
        folder = os.path.join(MODELS, name)
        model = AutoModelForSeq2SeqLM.from_pretrained(folder, attn_implementation="eager").eval()
        tok = AutoTokenizer.from_pretrained(folder)
        base = GenerationConfig.from_pretrained(folder)
        eos = base.eos_token_id if isinstance(base.eos_token_id, int) else base.eos_token_id[0]
        for text in case["texts"]:
            ids = tok(text, return_tensors="pt").input_ids
            max_new = case["max_new"]
            plain = greedy(model, ids, base, {}, max_new)
            # A token the plain translation does not start with, to force as the first one.
            first = plain[0] if plain else eos
            forced = next(t for t in (5, 6, 7) if t != first and t != eos)
            changes = [
                {},
                {"no_repeat_ngram_size": 2},
                {"min_length": len(plain) + 3},
                {"forced_bos_token_id": forced},
                {"bad_words_ids": [[t] for t in sorted(set(plain[:2]) - {eos})] or [[forced]]},
                # eos forced at the length limit (the folder's forced_eos_token_id) on a short limit; t5 has none
                {"forced_eos_token_id": eos, "max_new": 3},
                {"repetition_penalty": 1.3},
                {"repetition_penalty": 0.5},
                {"min_new_tokens": len(plain) + 2},
                {"suppress_tokens": [first]},
                {"begin_suppress_tokens": [first]},
                {"encoder_repetition_penalty": 1.5},
                {"encoder_repetition_penalty": 0.6},
                {"encoder_no_repeat_ngram_size": 1},
                {"encoder_no_repeat_ngram_size": 2},
                {"exponential_decay_length_penalty": [1, 1.6]},
                # a positive bias on one token, a negative one on the plain translation's second token after its first
                {"sequence_bias": [[[forced], 2.5]] + ([[plain[:2], -8.0]] if len(plain) > 1 else [])},
                # a bad word of two tokens: the plain translation's first two
                {"bad_words_ids": [plain[:2]] if len(plain) > 1 and plain[1] != eos else [[forced, first]]},
            ]
            for change in changes:
                settings = {k: v for k, v in change.items() if k != "max_new"}
                limit = change.get("max_new", max_new)
                tokens = greedy(model, ids, base, settings, limit)
                out["cases"].append(
                    {
                        "model": name,
                        "text": text,
                        "source_ids": ids[0].tolist(),
                        "max_new": limit,
                        "generation": settings,
                        "tokens": tokens,
                        "beams3": greedy(model, ids, base, settings, limit, beams=3),
                        "differs_from_plain": tokens != plain[: len(tokens)] or len(tokens) != len(plain),
                    }
                )
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    n = len(out["cases"])
    differ = sum(c["differs_from_plain"] for c in out["cases"] if c["generation"])
    print(f"wrote {n} cases to {OUT}; {differ} of the changed settings change the tokens")


if __name__ == "__main__":
    main()
