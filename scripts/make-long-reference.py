#!/usr/bin/env python3
# Writes test/fixtures/long/: a ~4,000-token document for the real-VS-Code phase `long` (test/e2e/long.e2e.ts) and
# what Hugging Face transformers computes for it with SmolLM2-135M-Instruct.Q4_1.gguf (fetched by
# `node scripts/fetch-model.mjs`; transformers dequantises Q4_1 to float32 with gguf.quants and undoes llama.cpp's
# q/k permutation), eager attention, float32:
#   - prose-4k.txt: deterministic prose made here from a seeded generator (word lists below; no outside text, so no
#     licence question), sentences added until the document reaches TARGET tokens;
#   - reference.json: the token ids (llama.cpp's "smollm" pre-tokenizer, as scripts/make-smollm2-reference.py: the
#     runtime's GGUF tokenizer must give the same ids, which the phase checks) and their SHA-256, and the
#     post-softmax attention at the CELLS below (layer, head, query, key), read from each chosen layer's eager
#     attention weights by a forward hook (the full output_attentions of 30 layers × 9 heads × 4,000² would be
#     17 GB; only the chosen layers' maps are kept, one at a time).
#
#   /work/.venv-ref/bin/python scripts/make-long-reference.py     (torch, transformers 5.25, gguf, numpy)
import hashlib
import json
import os
import random

import torch
import transformers
from tokenizers import pre_tokenizers
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIR = os.path.join(ROOT, ".cache", "models", "SmolLM2-135M-Instruct-GGUF")
FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
OUT = os.path.join(ROOT, "test", "fixtures", "long")
TARGET = 4000

SUBJECTS = ["The keeper of the lighthouse", "A young cartographer", "The old ferryman", "Her younger brother",
            "The village baker", "A travelling musician", "The harbour master", "Their neighbour", "The schoolteacher",
            "A quiet stranger", "The miller's daughter", "The night watchman"]
VERBS = ["walked slowly towards", "looked for a long time at", "wrote a careful letter about", "remembered",
         "painted a small picture of", "argued all evening about", "carried a basket to", "sang a song about",
         "drew a rough map of", "asked the children about", "waited patiently near", "told an old story about"]
OBJECTS = ["the stone bridge over the river", "the orchard behind the mill", "the narrow road to the coast",
           "the bell tower in the square", "the boats in the harbour", "the garden by the chapel",
           "the forest beyond the hills", "the market on the first day of spring", "the frozen lake in winter",
           "the lanterns along the quay", "the library on the hill", "the fields after the harvest"]
TAILS = ["because the weather had finally changed", "while the others were still asleep",
         "although nobody had asked them to", "before the first snow arrived", "as the tide came in",
         "when the clock struck seven", "after the long journey from the north", "and nobody said a word",
         "until the light began to fade", "so that the story would not be forgotten"]
LINKS = ["Later that week,", "In the morning,", "Some years before,", "On the same evening,", "Meanwhile,",
         "Without hesitation,", "For the third time,", "At the end of the season,"]


def sentence(rng: random.Random) -> str:
    s = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(TAILS)}."
    if rng.random() < 0.35:
        s = f"{rng.choice(LINKS)} {s[0].lower()}{s[1:]}"
    return s


tok = AutoTokenizer.from_pretrained(DIR, gguf_file=FILE)
tok.backend_tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
    [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]
)


def load_model():
    """from_pretrained(gguf_file=...) without accelerate: transformers' own GGUF reader (load_gguf_checkpoint:
    gguf.quants.dequantize, llama.cpp's q/k permutation undone, HF names) into the config it reads from the file."""
    config = AutoConfig.from_pretrained(DIR, gguf_file=FILE)
    m = AutoModelForCausalLM.from_config(config, attn_implementation="eager", dtype=torch.float32)
    tensors = load_gguf_checkpoint(os.path.join(DIR, FILE), return_tensors=True, model_to_load=m)["tensors"]
    missing, unexpected = m.load_state_dict({k: torch.as_tensor(v) for k, v in tensors.items()}, strict=False)
    assert not unexpected, unexpected
    assert set(missing) <= {"lm_head.weight"}, missing  # tied to the token embeddings
    m.tie_weights()
    return m.eval()


def encode(text: str) -> list:
    return tok(text, add_special_tokens=True)["input_ids"]


# Paragraphs of 4-7 sentences; sentences are added until the next one would pass TARGET tokens.
rng = random.Random(4096)
paragraphs: list = []
current: list = []
budget = rng.randint(4, 7)
text = ""
while True:
    s = sentence(rng)
    trial_current = current + [s]
    trial = "\n\n".join(paragraphs + [" ".join(trial_current)]) + "\n"
    if len(encode(trial)) > TARGET:
        break
    current = trial_current
    text = trial
    if len(current) == budget:
        paragraphs.append(" ".join(current))
        current = []
        budget = rng.randint(4, 7)

ids = encode(text)
n = len(ids)
print(f"{n} tokens, {len(text)} characters")

# (layer, head, query, key); negative query/key count from the end (n + q).
CELLS = [
    (3, 2, 40, 13),  # an early row
    (3, 2, -6, 74),  # a row near 4,000, a key far off the diagonal
    (21, 7, -3, 0),  # another layer and head: near 4,000, the first key
    (21, 7, 25, 11),  # an early row
]
cells = [(l, h, q % n, k % n) for l, h, q, k in CELLS]
layers = sorted({c[0] for c in cells})

torch.set_num_threads(2)
model = load_model()
captured: dict = {}


def hook(layer):
    def f(_module, _args, output):
        weights = output[1]  # [1, heads, n, n]: eager attention's softmax, returned by the attention module
        captured[layer] = {(h, q, k): float(weights[0, h, q, k]) for l, h, q, k in cells if l == layer}
        rows = sorted({(h, q) for l, h, q, _ in cells if l == layer})
        captured.setdefault("row_sums", []).extend(float(weights[0, h, q].sum()) for h, q in rows)
        for h, q in rows:  # printed to choose cells worth reading (not tiny)
            top = torch.topk(weights[0, h, q], 6)
            print(f"layer {layer} head {h} query {q}: top keys", [(int(i), round(float(v), 5)) for v, i in zip(*top)])

    return f


for l in layers:
    model.model.layers[l].self_attn.register_forward_hook(hook(l))
with torch.no_grad():
    model(torch.tensor([ids]), use_cache=False)

values = [
    {"layer": l, "head": h, "query": q, "key": k, "value": captured[l][(h, q, k)]} for l, h, q, k in cells
]
for v in values:
    print(v)
print("row sums", captured["row_sums"])
os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, "prose-4k.txt"), "w", encoding="utf-8", newline="\n") as f:
    f.write(text)
with open(os.path.join(OUT, "reference.json"), "w", encoding="utf-8") as f:
    json.dump(
        {
            "model": FILE,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "attn_implementation": "eager",
            "dtype": "float32",
            "text_file": "prose-4k.txt",
            "tokens": n,
            "ids_sha256_of": "the ids joined by commas",
            "ids_sha256": hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest(),
            "ids": ids,
            "cells": values,
        },
        f,
    )
    f.write("\n")
