"""Greedy generation by Hugging Face transformers of the hf-tiny Phi-3 LongRoPE model across its short/long switch.

Why: Phi-3's LongRoPE uses short_factor while the sequence is at most original_max_position_embeddings long and
long_factor beyond, and transformers' Phi3ForCausalLM.prepare_inputs_for_generation drops the KV cache the first time
the input reaches original_max_position_embeddings + 1 tokens, recomputing the whole sequence with long_factor (the
cached keys were rotated with the short one). runtime/generate/kv-generator.ts must do the same, or its tokens and
rows leave transformers' from that step on. This script runs model.generate(do_sample=False, output_attentions=True)
on test/fixtures/models/hf-tiny/phi3-longrope (original_max_position_embeddings 16) from a 12-token prompt for 10 new
tokens, and writes the prompt ids, the generated ids and, for each generated token but the last, its attention row
per layer and head (the last query row of the forward pass that fed it) to
test/fixtures/generate/phi3-longrope-generation.json.
Run with /work/.venv-ref/bin/python scripts/make-phi3-longrope-generation-fixture.py (never in CI).
"""

import json
import os

import torch
import transformers
from transformers import AutoModelForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLDER = os.path.join(ROOT, "test/fixtures/models/hf-tiny/phi3-longrope")
OUT = os.path.join(ROOT, "test/fixtures/generate/phi3-longrope-generation.json")
PROMPT = [1, 456, 301, 609, 439, 308, 399, 301, 300, 349, 282, 355]  # "<s> Attention lets each" (12 tokens)
NEW = 10


def main():
    model = AutoModelForCausalLM.from_pretrained(FOLDER, attn_implementation="eager", dtype=torch.float32).eval()
    ids = torch.tensor([PROMPT])
    with torch.no_grad():
        out = model.generate(
            ids,
            max_new_tokens=NEW,
            min_new_tokens=NEW,
            do_sample=False,
            output_attentions=True,
            return_dict_in_generate=True,
        )
    generated = out.sequences[0, len(PROMPT) :].tolist()
    # out.attentions[k]: the forward pass that chose generated token k; for k >= 1 it fed generated token k - 1, whose
    # query row is the last row of each layer's [1, heads, q, keys].
    rows = []
    queries = []
    for k in range(1, len(out.attentions)):
        layers = out.attentions[k]
        queries.append(int(layers[0].shape[2]))
        rows.append([layer[0, :, -1, :].tolist() for layer in layers])
    cfg = model.config
    json.dump(
        {
            "transformers": transformers.__version__,
            "model": "test/fixtures/models/hf-tiny/phi3-longrope",
            "original_max_position_embeddings": cfg.original_max_position_embeddings,
            "prompt": PROMPT,
            "generated": generated,
            "queries_per_step": queries,
            "rows": rows,
        },
        open(OUT, "w"),
    )
    print("generated", generated, "queries per step", queries)


if __name__ == "__main__":
    main()
