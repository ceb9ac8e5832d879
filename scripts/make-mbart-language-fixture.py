"""Translations into a chosen language by Hugging Face transformers' mBART and mBART-50, as their users ask for them.

Why: a many-to-many mBART-50 translates between any two of its languages — the source's code from the tokenizer's
src_lang, the target's forced as the first generated token (generate(forced_bos_token_id=code)) — and an mBART
(cc25-style) checkpoint starts its decoder with the target's code (generate(decoder_start_token_id=code)); a given
target is tokenized with tgt_lang. Attention Lens takes the two languages as run options (sourceLanguage /
targetLanguage, CLI --source-lang / --target-lang). This script puts each of the mBART tokenizer fixtures
(test/fixtures/tokenizers/mbart/mbart-50, mbart-cc25: transformers' own MBart50Tokenizer and MBartTokenizer) beside
the random weights of test/fixtures/models/hf-tiny/mbart in a temporary folder and records, for two language pairs
and a few texts: the source ids (tok.src_lang = src), greedy and 3-beam translations (max_new tokens), and the
labels (tok(text_target=..., tgt_lang)) of a given target with their log-probabilities under teacher forcing
(decoder inputs = mBART's shift of the labels). Written to test/fixtures/generate/mbart-languages.json.
Run with /work/.venv-ref/bin/python scripts/make-mbart-language-fixture.py (never in CI).
"""

import json
import os
import shutil
import tempfile

import torch
import transformers
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
from transformers.models.mbart.modeling_mbart import shift_tokens_right

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "test/fixtures")
OUT = os.path.join(FIXTURES, "generate/mbart-languages.json")
TEXTS = ["Hello world", "a b c d e f g"]
PAIRS = [("en_XX", "de_DE"), ("fr_XX", "ro_RO")]
MAX_NEW = 10


def folder_for(tokenizer: str, into: str) -> None:
    model = os.path.join(FIXTURES, "models/hf-tiny/mbart")
    for f in ("config.json", "generation_config.json", "model.safetensors"):
        shutil.copy(os.path.join(model, f), into)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(FIXTURES, "tokenizers/mbart", tokenizer, f), into)


def cut(seq: list[int], eos: int) -> list[int]:
    return seq[: seq.index(eos) + 1] if eos in seq else seq


def main() -> None:
    torch.manual_seed(0)
    out = {"transformers": transformers.__version__, "max_new": MAX_NEW, "cases": []}
    for tokenizer in ("mbart-50", "mbart-cc25"):
        with tempfile.TemporaryDirectory() as folder:
            folder_for(tokenizer, folder)
            model = AutoModelForSeq2SeqLM.from_pretrained(folder, attn_implementation="eager").eval()
            tok = AutoTokenizer.from_pretrained(folder)
            eos = model.config.eos_token_id
            fifty = tokenizer == "mbart-50"
            for src, tgt in PAIRS:
                tok.src_lang = src
                tok.tgt_lang = tgt
                code = tok.convert_tokens_to_ids(tgt)
                # mBART-50: the target's code forced first; mBART: the decoder starts with it.
                how = {"forced_bos_token_id": code} if fifty else {"decoder_start_token_id": code}
                for text in TEXTS:
                    ids = tok(text, return_tensors="pt").input_ids
                    row = {"tokenizer": tokenizer, "src_lang": src, "tgt_lang": tgt, "text": text}
                    row["source_ids"] = ids[0].tolist()
                    with torch.no_grad():
                        for beams in (1, 3):
                            seq = model.generate(
                                ids, num_beams=beams, do_sample=False, max_length=MAX_NEW + 1, **how
                            )[0].tolist()
                            row["decoder_start"] = seq[0]
                            row["greedy" if beams == 1 else "beams3"] = cut(seq[1:], eos)
                        labels = tok(text_target="zebra quantum", return_tensors="pt").input_ids
                        dec = shift_tokens_right(labels, model.config.pad_token_id)
                        logits = model(input_ids=ids, decoder_input_ids=dec).logits[0]
                        logp = torch.log_softmax(logits, -1)
                    row["target_text"] = "zebra quantum"
                    row["labels"] = labels[0].tolist()
                    row["decoder_input_ids"] = dec[0].tolist()
                    row["label_logprobs"] = [float(logp[i, t]) for i, t in enumerate(labels[0].tolist())]
                    out["cases"].append(row)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {len(out['cases'])} cases to {OUT}")
    for c in out["cases"]:
        print(c["tokenizer"], c["src_lang"], c["tgt_lang"], c["source_ids"], c["decoder_start"], c["greedy"], c["beams3"])


if __name__ == "__main__":
    main()
