#!/usr/bin/env python3
# Writes the extra tiny random-weight decoder fixtures of test/fixtures/models/hf-tiny/ (beside the folders copied from
# ../shared/models/hf-tiny) with Hugging Face transformers' own modelling code, the reference the family builders
# are checked against: RoPE variants the shared folders do not cover (Phi-3 LongRoPE with partial rotary and a
# sliding window, YaRN, dynamic NTK), a Qwen2 config with rope_theta 1e6 and max_window_layers as transformers 5
# saves it, and the transformers 4 form (top-level rope_theta / rope_scaling / rope_local_base_freq /
# sliding_window_pattern) of two shared configs, checked to load into the very same model.
#
#   /work/.venv-ref/bin/python scripts/make-hf-tiny-fixtures.py      (torch, transformers 5.25, tokenizers)
#
# Each new folder is what save_pretrained() writes (config.json, generation_config.json, model.safetensors in
# float32) plus the tokenizer of a shared folder and reference_attention.json in the shared folders' format
# (see test/fixtures/models/hf-tiny/README.md), computed on the folder reloaded with attn_implementation='eager'.
# Deterministic: torch.manual_seed per folder, CPU, float32.
import json
import os
import shutil
import sys

import torch
import transformers
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "models", "hf-tiny")
TEXT = "The librarian said that attention lets each word in the small café look back at the words before it."
SHORT_TEXT = "Attention lets each word look back."


def g9(x):
    return float("%.9g" % x)


def tree(t):
    return [tree(x) for x in t] if isinstance(t, list) else g9(t)


def load(folder, cls=AutoModelForCausalLM):
    m = cls.from_pretrained(folder, attn_implementation="eager", dtype=torch.float32)
    m.eval()
    return m


def run(model, ids):
    with torch.no_grad():
        out = model(torch.tensor([ids]), output_attentions=True)
    attn = torch.stack([a[0] for a in out.attentions])  # [layers, heads, q, k]
    return attn, out.logits[0, -1]


def top5(logits, tok):
    lp = torch.log_softmax(logits.double(), dim=-1)
    v, i = torch.topk(lp, 5)
    return {"ids": i.tolist(), "tokens": [tok.id_to_token(x) for x in i.tolist()], "logprobs": [g9(x) for x in v]}


def encode(tok, text):
    return tok.encode(text).ids


def checks(attn, window, layer_types):
    L, H, S, _ = attn.shape
    q = torch.arange(S)[:, None]
    k = torch.arange(S)[None, :]
    c = {
        "rows_sum_max_abs_err": float((attn.sum(-1) - 1).abs().max()),
        "above_diagonal_max": float(attn[:, :, k.expand(S, S) > q.expand(S, S)].abs().max()),
        "mean_row_max": float(attn.max(-1).values.mean()),
    }
    if window is not None:
        outside = torch.stack(
            [attn[l][:, (k <= q - window).expand(S, S)] for l in range(L) if layer_types[l] == "sliding_attention"]
        )
        c["outside_window_max"] = float(outside.abs().max())
    return c


def make(name, base, model_cls, config, seed, highlights, effects, short_run=False, copy_weights_from=None):
    """Builds, saves and reloads one model; writes its reference. effects: label → config override dict whose
    attention is compared with the real one (to show the fixture exercises the feature)."""
    folder = os.path.join(OUT, name)
    if os.path.exists(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(os.path.join(OUT, base, f), os.path.join(folder, f))
    tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    torch.manual_seed(seed)
    model = model_cls(config).eval()
    if copy_weights_from is not None:
        copy_weights_from(model)
    model.save_pretrained(folder)
    model = load(folder, model_cls)
    ids = encode(tok, TEXT)
    attn, logits = run(model, ids)
    saved = json.load(open(os.path.join(folder, "config.json")))
    text_config = getattr(model.config, "text_config", model.config)
    window = getattr(text_config, "sliding_window", None)
    # Models without layer_types (phi3, mistral) apply their window, when set, in every layer.
    every = "sliding_attention" if window is not None else "full_attention"
    layer_types = getattr(text_config, "layer_types", None) or [every] * text_config.num_hidden_layers
    ref = {
        "family": name,
        "variant_seed": seed,
        "model_class": type(model).__name__,
        "config_class": type(model.config).__name__,
        "weights": f"random (torch.manual_seed({seed})), float32; not a trained model",
        "computed_by": f"Hugging Face transformers {transformers.__version__} (torch {torch.__version__}), this "
        "folder reloaded with from_pretrained(..., attn_implementation='eager', dtype=float32), "
        "output_attentions=True, CPU",
        "attn_implementation": "eager",
        "highlights": highlights,
        "text": TEXT,
        "input_ids": ids,
        "tokens": [tok.id_to_token(i) for i in ids],
        "shape": list(attn.shape),
        "layer_types": list(layer_types),
        "sliding_window": window,
        "attentions": tree(attn.tolist()),
        "top5_last": top5(logits, tok),
        "checks": checks(attn, window, layer_types),
    }
    feature = {}
    for label, override in effects.items():
        cfg = json.loads(json.dumps(saved))
        cfg.update(override)
        alt_dir = folder + ".alt"
        shutil.copytree(folder, alt_dir)
        json.dump(cfg, open(os.path.join(alt_dir, "config.json"), "w"))
        alt, _ = run(load(alt_dir, model_cls), ids)
        shutil.rmtree(alt_dir)
        feature[label] = float((alt - attn).abs().max())
    ref["checks"]["feature_effect"] = feature
    if short_run:
        sids = encode(tok, SHORT_TEXT)
        sattn, slogits = run(model, sids)
        ref["extra_runs"] = [
            {
                "text": SHORT_TEXT,
                "input_ids": sids,
                "tokens": [tok.id_to_token(i) for i in sids],
                "shape": list(sattn.shape),
                "attentions": tree(sattn.tolist()),
                "top5_last": top5(slogits, tok),
            }
        ]
    with open(os.path.join(folder, "reference_attention.json"), "w") as f:
        json.dump(ref, f, ensure_ascii=False)
    print(name, ref["shape"], ref["checks"], file=sys.stderr)


def old_form(name, convert):
    """Writes config-transformers4.json: the same model in the transformers 4 field names, checked to reload into
    identical attention."""
    folder = os.path.join(OUT, name)
    saved = json.load(open(os.path.join(folder, "config.json")))
    old = convert(json.loads(json.dumps(saved)))
    path = os.path.join(folder, "config-transformers4.json")
    with open(path, "w") as f:
        json.dump(old, f, indent=2, ensure_ascii=False)
        f.write("\n")
    ref = json.load(open(os.path.join(folder, "reference_attention.json")))
    alt_dir = folder + ".old"
    shutil.copytree(folder, alt_dir)
    shutil.copyfile(path, os.path.join(alt_dir, "config.json"))
    a, _ = run(load(alt_dir), ref["input_ids"])
    b, _ = run(load(folder), ref["input_ids"])
    shutil.rmtree(alt_dir)
    diff = float((a - b).abs().max())
    print(name, "transformers 4 form reloads with max attention diff", diff, file=sys.stderr)
    assert diff == 0.0, diff


def llama_v4(c):
    rp = c.pop("rope_parameters")
    c["rope_theta"] = rp.pop("rope_theta")
    c["rope_scaling"] = rp
    return c


def gemma3_v4(c):
    rp = c.pop("rope_parameters")
    c["rope_theta"] = rp["full_attention"].pop("rope_theta")
    c["rope_local_base_freq"] = rp["sliding_attention"]["rope_theta"]
    c["rope_scaling"] = rp["full_attention"]
    c["sliding_window_pattern"] = 3  # (i + 1) % 3 != 0 → sliding: sliding, sliding, full, sliding
    del c["layer_types"]
    del c["_sliding_window_pattern"]
    return c


def main():
    from transformers import LlamaConfig, LlamaForCausalLM, Phi3Config, Phi3ForCausalLM
    from transformers import Qwen2Config, Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM

    def vocab(base):
        return Tokenizer.from_file(os.path.join(OUT, base, "tokenizer.json")).get_vocab_size()

    phi3 = Phi3Config(
        vocab_size=vocab("phi3"),
        hidden_size=64,
        intermediate_size=96,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        original_max_position_embeddings=16,
        sliding_window=24,
        rope_parameters={
            "rope_type": "longrope",
            "rope_theta": 10000.0,
            "partial_rotary_factor": 0.75,
            "short_factor": [1.0, 1.1, 1.3, 1.7, 2.5, 4.0],
            "long_factor": [1.0, 2.0, 4.0, 8.0, 16.0, 32.0],
        },
        initializer_range=0.12,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=636,
    )
    make(
        "phi3-longrope",
        "phi3",
        Phi3ForCausalLM,
        phi3,
        1100,
        "Phi-3 LongRoPE: head_dim 16 with partial_rotary_factor 0.75 (12 rotated dims, 4 passed through); "
        "original_max_position_embeddings 16, so the 39-token text uses long_factor and the 9-token extra run "
        "short_factor; attention_factor sqrt(1 + ln(256/16)/ln 16) multiplies cos and sin; sliding window 24 in "
        "every layer; fused qkv_proj and gate_up_proj",
        {
            "rope default (no longrope)": {
                "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.75}
            },
            "sliding_window=None": {"sliding_window": None},
        },
        short_run=True,
    )
    qwen2 = Qwen2Config(
        vocab_size=vocab("qwen3"),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
        use_sliding_window=True,
        sliding_window=8,
        max_window_layers=1,
        tie_word_embeddings=True,
        initializer_range=0.25,
        eos_token_id=600,
        pad_token_id=600,
    )
    make(
        "qwen2",
        "qwen3",
        Qwen2ForCausalLM,
        qwen2,
        1101,
        "Qwen 2 as transformers 5 saves it: rope_parameters.rope_theta 1e6 (not the top-level rope_theta); q/k/v "
        "biases; use_sliding_window with max_window_layers 1, so layer 0 is global and layers 1-2 slide (window 8); "
        "tied embeddings",
        {
            "rope_theta 1e4 (the old silent default)": {
                "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0}
            },
            "use_sliding_window=False": {"use_sliding_window": False, "layer_types": None},
        },
    )
    yarn = Qwen3Config(
        vocab_size=vocab("qwen3"),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        max_position_embeddings=256,
        rope_parameters={
            "rope_type": "yarn",
            "rope_theta": 10000.0,
            "factor": 4.0,
            "original_max_position_embeddings": 64,
        },
        tie_word_embeddings=True,
        initializer_range=0.25,
        eos_token_id=600,
        pad_token_id=600,
    )
    make(
        "qwen3-yarn",
        "qwen3",
        Qwen3ForCausalLM,
        yarn,
        1102,
        "YaRN RoPE (factor 4, original_max_position_embeddings 64, beta_fast 32 / beta_slow 1 defaults, truncate): "
        "inv_freq blends extrapolated and interpolated frequencies over a linear ramp between the correction dims, "
        "cos and sin multiplied by 0.1 ln(4) + 1; per-head q/k RMSNorm",
        {"rope default (no yarn)": {"rope_parameters": {"rope_type": "default", "rope_theta": 10000.0}}},
    )
    dyn = LlamaConfig(
        vocab_size=vocab("llama"),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        rope_parameters={"rope_type": "dynamic", "rope_theta": 10000.0, "factor": 4.0},
        tie_word_embeddings=True,
        initializer_range=0.25,
        bos_token_id=640,
        eos_token_id=641,
    )
    make(
        "llama-dynamic",
        "llama",
        LlamaForCausalLM,
        dyn,
        1103,
        "Dynamic NTK RoPE (factor 4): transformers rescales the base only for inputs longer than "
        "max_position_embeddings (256), so at 38 tokens it equals unscaled RoPE; the loader must accept it",
        {"rope default": {"rope_parameters": {"rope_type": "default", "rope_theta": 10000.0}}},
    )
    # Gemma 3 as the 4B-27B checkpoints ship it: Gemma3ForConditionalGeneration (model_type gemma3), the text model
    # in text_config and under language_model.model., a (tiny) SigLIP vision tower beside it. The language model's
    # weights are those of gemma3/, so a text-only run must give gemma3/'s reference attention.
    from safetensors.torch import load_file
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration

    text = json.load(open(os.path.join(OUT, "gemma3", "config.json")))
    for k in ("architectures", "transformers_version", "dtype", "_sliding_window_pattern"):
        text.pop(k, None)
    vision = dict(model_type="siglip_vision_model", hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                  num_attention_heads=2, image_size=28, patch_size=14)
    text_weights = load_file(os.path.join(OUT, "gemma3", "model.safetensors"))

    def copy_text(model):
        missing = model.model.language_model.load_state_dict(
            {k.removeprefix("model."): v for k, v in text_weights.items() if k != "lm_head.weight"})
        assert not missing.missing_keys and not missing.unexpected_keys, missing

    make(
        "gemma3-multimodal",
        "gemma3",
        Gemma3ForConditionalGeneration,
        Gemma3Config(text_config=text, vision_config=vision, mm_tokens_per_image=4, image_token_index=677,
                     boi_token_index=675, eoi_token_index=676),
        1104,
        "Gemma 3 multimodal checkpoint layout (model_type gemma3, text_config, language_model.model.* weights, a "
        "SigLIP vision tower); the language model is gemma3/'s, run on text only",
        {},
        copy_weights_from=copy_text,
    )
    old_form("llama", llama_v4)
    old_form("gemma3", gemma3_v4)


if __name__ == "__main__":
    main()
