#!/usr/bin/env python3
# Writes test/fixtures/gguf/smollm2-reference.json: what Hugging Face transformers computes for
# SmolLM2-135M-Instruct.Q4_1.gguf (fetched by `node scripts/fetch-model.mjs`), loaded with transformers' own GGUF
# path (gguf.quants.dequantize + its undoing of llama.cpp's q/k permutation), eager attention, float32:
#   - token ids and UTF-16 offsets for several texts (accents, CJK, emoji, code, newlines, digits) and ChatML
#     prompts rendered with the file's own chat template (add_generation_prompt);
#   - `ids_transformers`: transformers 5.25's own GGUF tokenizer, which ignores tokenizer.ggml.pre = "smollm" and
#     so splits numbers differently; `ids`: the same tokenizer with the pre-tokenizer llama.cpp assigns to smollm
#     (individual digits, then GPT-2's byte-level split), which is also the one of SmolLM2's own tokenizer.json;
#   - the post-softmax attention [30 layers, 9 heads, 11, 11] of a short sentence (base64 little-endian float32);
#   - the top-5 next tokens (log-softmax) after a chat prompt.
#
#   /work/.venv-ref/bin/python scripts/make-smollm2-reference.py     (torch, transformers 5.25, gguf, numpy)
import base64
import json
import os

import numpy as np
import torch
import transformers
from tokenizers import pre_tokenizers
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIR = os.path.join(ROOT, ".cache", "models", "SmolLM2-135M-Instruct-GGUF")
FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
OUT = os.path.join(ROOT, "test", "fixtures", "gguf", "smollm2-reference.json")

TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello world! Café 東京 🎉 2024",
    "naïve façade résumé — Ångström, İstanbul",
    "日本語のテキストです。中文，标点！한국어 문장",
    "emoji 👍🏽 and flags 🇫🇷 and a family 👩‍👩‍👧",
    "def square(x):\n    return x ** 2  # squared\n",
    "line one\n\nline two\r\n\ttabbed   spaces",
    "I'm sure it's fine, we'll see; they've DONE it",
    "numbers 12345 and 3.14159, 1,000,000 in 2025",
    "<|im_start|>user\nHi<|im_end|>\n<|endoftext|>",
]
CHATS = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Explain attention in one line."}],
]
ATTENTION_TEXT = "The cat sat on the mat because it was tired."


def utf16(text: str, offsets):
    """Code-point offsets → UTF-16 code-unit offsets."""
    units = [0]
    for ch in text:
        units.append(units[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return [[units[a], units[b]] for a, b in offsets]


tok_tf = AutoTokenizer.from_pretrained(DIR, gguf_file=FILE)
tok_cpp = AutoTokenizer.from_pretrained(DIR, gguf_file=FILE)
tok_cpp.backend_tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
    [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]
)

prompts = [tok_tf.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in CHATS]


def encode(text: str) -> dict:
    enc = tok_cpp(text, return_offsets_mapping=True, add_special_tokens=True)
    ref = tok_tf(text, add_special_tokens=True)
    return {
        "text": text,
        "ids": enc["input_ids"],
        "offsets": utf16(text, enc["offset_mapping"]),
        "ids_transformers": ref["input_ids"],
    }


model = AutoModelForCausalLM.from_pretrained(DIR, gguf_file=FILE, attn_implementation="eager", dtype=torch.float32)
model.eval()

ids = tok_cpp(ATTENTION_TEXT)["input_ids"]
with torch.no_grad():
    out = model(torch.tensor([ids]), output_attentions=True)
att = torch.stack([a[0] for a in out.attentions]).numpy().astype("<f4")  # [layers, heads, q, k]
assert np.allclose(att.sum(-1), 1, atol=1e-5)

chat_ids = tok_cpp(prompts[0])["input_ids"]
with torch.no_grad():
    logits = model(torch.tensor([chat_ids])).logits[0, -1].double()
logp = torch.log_softmax(logits, -1)
top = torch.topk(logp, 5)

result = {
    "generator": "scripts/make-smollm2-reference.py",
    "versions": {"transformers": transformers.__version__, "torch": torch.__version__},
    "file": FILE,
    "texts": [encode(t) for t in TEXTS],
    "chats": [{"messages": c, "prompt": p, **encode(p)} for c, p in zip(CHATS, prompts)],
    "attention": {
        "text": ATTENTION_TEXT,
        "input_ids": ids,
        "shape": list(att.shape),
        "data": base64.b64encode(att.tobytes()).decode("ascii"),
    },
    "next_token": {
        "prompt": prompts[0],
        "input_ids": chat_ids,
        "top5": [{"id": int(i), "token": tok_tf.convert_ids_to_tokens(int(i)), "logprob": float(v)} for v, i in zip(top.values, top.indices)],
    },
}
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT + ".tmp", "w") as f:
    json.dump(result, f, indent=1, ensure_ascii=False)
os.replace(OUT + ".tmp", OUT)
print(OUT, os.path.getsize(OUT), "bytes", att.shape, result["next_token"]["top5"][0])
