"""Beam-search translations of the encoder–decoder test models by Hugging Face transformers' generate().

Why: runtime/generate/seq2seq-beam.ts implements beam search (num_beams, length_penalty, early_stopping, and the
generation_config logits processors: bad_words_ids, forced_eos_token_id) and must choose the same tokens as
transformers does. This script runs model.generate(num_beams=N, ...) on tiny-marian-dates (trained) and the hf-tiny
bart, t5 and mbart folders (random weights) for a few sources and beam sizes, and writes the source ids, the settings and
the chosen tokens (decoder start left out) to test/fixtures/generate/seq2seq-beams.json.
Run with /work/.venv-ref/bin/python scripts/make-seq2seq-beam-fixture.py (never in CI).
"""

import json
import os

import torch
import transformers
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer, GenerationConfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "test/fixtures/models")
OUT = os.path.join(ROOT, "test/fixtures/generate/seq2seq-beams.json")

CASES = {
    "tiny-marian-dates": {
        "texts": ["the 14th of March, 2021", "May 3, 1999", "7 June 2004", "hello there", "12/11/10"],
        "max_new": 20,
    },
    # Inputs on which the random-weight models' beams differ from greedy decoding (checked when this was written).
    "hf-tiny/bart": {"texts": ["Hello world", "a b c d e f g", "zebra quantum", "x"], "max_new": 15},
    "hf-tiny/t5": {"texts": ["Hello world", "a b c d e f g", "zebra quantum", "x"], "max_new": 15},
    "hf-tiny/mbart": {"texts": ["Hello world", "a b c d e f g", "zebra quantum", "x"], "max_new": 12},
}
# (beams, length_penalty, early_stopping): the generation_config's own (1.0, False) and two others.
SETTINGS = [(2, None, None), (3, None, None), (4, None, None), (3, 0.6, True), (4, 2.0, "never")]


def main():
    torch.manual_seed(0)
    out = {"transformers": transformers.__version__, "cases": []}
    for name, case in CASES.items():
        folder = os.path.join(MODELS, name)
        model = AutoModelForSeq2SeqLM.from_pretrained(folder, attn_implementation="eager").eval()
        tok = AutoTokenizer.from_pretrained(folder)
        base = GenerationConfig.from_pretrained(folder)
        for text in case["texts"]:
            ids = tok(text, return_tensors="pt").input_ids
            for beams, lp, es in SETTINGS:
                cfg = GenerationConfig.from_dict(base.to_dict())
                cfg.num_beams = beams
                cfg.do_sample = False
                cfg.max_length = case["max_new"] + 1  # the decoder start token counts
                cfg.min_length = 0
                if lp is not None:
                    cfg.length_penalty = lp
                if es is not None:
                    cfg.early_stopping = es
                with torch.no_grad():
                    res = model.generate(
                        ids, generation_config=cfg, return_dict_in_generate=True, output_scores=True
                    )
                seq = res.sequences[0].tolist()[1:]
                # the fill after eos (pad) is not part of the hypothesis
                eos = cfg.eos_token_id if isinstance(cfg.eos_token_id, int) else cfg.eos_token_id[0]
                if eos in seq:
                    seq = seq[: seq.index(eos) + 1]
                with torch.no_grad():
                    greedy = model.generate(ids, num_beams=1, do_sample=False, max_length=cfg.max_length)
                greedy_tokens = greedy[0].tolist()[1:]
                if eos in greedy_tokens:
                    greedy_tokens = greedy_tokens[: greedy_tokens.index(eos) + 1]
                out["cases"].append(
                    {
                        "model": name,
                        "text": text,
                        "source_ids": ids[0].tolist(),
                        "beams": beams,
                        "max_new": case["max_new"],
                        "length_penalty": cfg.length_penalty,
                        "early_stopping": cfg.early_stopping,
                        "tokens": seq,
                        "differs_from_greedy": seq != greedy_tokens,
                        "score": float(res.sequences_scores[0]),
                    }
                )
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {len(out['cases'])} cases to {OUT}")


if __name__ == "__main__":
    main()
