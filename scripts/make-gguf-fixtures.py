#!/usr/bin/env python3
# Writes the small GGUF model fixtures of test/fixtures/gguf/ with gguf-py's GGUFWriter, in llama.cpp's layout
# (its tensor names, the q/k row permutation convert_hf_to_gguf.py applies to llama models, its tokenizer metadata),
# and the reference numbers Hugging Face transformers computes for them (reference.json):
#   tiny-llama-kquants.gguf  llama, 2 layers, hidden 256, 4 heads / 2 kv heads, random weights stored in 12 ggml
#                            types (K-quant blocks written as random bytes with valid scales, the others quantized by
#                            gguf-py), untied output; stories260K's vocabulary as a sentencepiece ("llama") tokenizer
#                            with scores and no merges. Reference: transformers loading this GGUF file.
#   hf-tiny-llama.gguf       test/fixtures/models/hf-tiny/llama converted (F32 weights, permuted q/k, Llama 3 rope
#                            scaling as llama.cpp stores it: a rope_freqs tensor), byte-level BPE with pre "llama-bpe".
#                            Reference: hf-tiny's reference_attention.json (transformers on the original folder;
#                            transformers' GGUF loader ignores rope_freqs, so it cannot serve here).
#   hf-tiny-qwen3.gguf       test/fixtures/models/hf-tiny/qwen3 converted (Q8_0 projections, F32 norms), pre "qwen2".
#                            Reference: transformers loading this GGUF file.
# For each: the config.json values the GGUF metadata must map to, token ids from transformers' GGUF tokenizer, and
# the eager float32 attention (base64 little-endian float32, [layers, heads, q, k]).
#
#   /work/.venv-ref/bin/python scripts/make-gguf-fixtures.py      (torch, transformers 5.25, gguf, numpy)
import base64
import json
import os

import gguf
import numpy as np
import torch
import transformers
from gguf import GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "test", "fixtures", "models")  # stories260K and hf-tiny, as ../shared/models has them
OUT = os.path.join(ROOT, "test", "fixtures", "gguf")
TEXT = "The librarian said that attention lets each word look back at the words before it."
rng = np.random.default_rng(7)


def permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """convert_hf_to_gguf.py LlamaModel.permute: HF rotate_half rows → llama.cpp's interleaved pairs."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def random_k_blocks(qtype: T, rows: int, cols: int, scale: float) -> np.ndarray:
    """Random K-quant bytes for a [rows, cols] tensor with finite, positive fp16 super-block scales."""
    block, size = GGML_QUANT_SIZES[qtype]
    n = rows * cols // block
    raw = rng.integers(0, 256, size=(n, size), dtype=np.uint8)
    fields = {T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208]}[qtype]
    for off in fields:
        raw[:, off : off + 2] = (rng.uniform(0.5, 1.0, size=n) * scale).astype(np.float16).view(np.uint8).reshape(n, 2)
    return raw.reshape(rows, cols // block * size)


def add(w: gguf.GGUFWriter, name: str, data: np.ndarray, qtype: T = T.F32) -> None:
    if qtype == T.F32:
        w.add_tensor(name, data.astype(np.float32))
    elif qtype in (T.F16,):
        w.add_tensor(name, data.astype(np.float16))
    else:
        q = gguf.quants.quantize(data.astype(np.float32), qtype)
        w.add_tensor(name, q, raw_dtype=qtype)


def write(writer: gguf.GGUFWriter, path: str) -> None:
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def attention(dirname: str, file: str, text: str, config=None):
    tok = AutoTokenizer.from_pretrained(dirname, gguf_file=file)
    extra = {"config": config} if config is not None else {}
    model = AutoModelForCausalLM.from_pretrained(
        dirname, gguf_file=file, attn_implementation="eager", dtype=torch.float32, **extra
    )
    model.eval()
    ids = tok(text)["input_ids"]
    with torch.no_grad():
        out = model(torch.tensor([ids]), output_attentions=True)
    att = torch.stack([a[0] for a in out.attentions]).numpy().astype("<f4")
    return ids, att


def b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def tokenizer_meta_sentencepiece(w: gguf.GGUFWriter, folder: str, add_bos: bool) -> None:
    """A tokenizer.json sentencepiece-style BPE (Metaspace, byte fallback) as llama.cpp's "llama" tokenizer."""
    tj = json.load(open(os.path.join(folder, "tokenizer.json")))
    vocab = dict(tj["model"]["vocab"])
    specials = {a["content"]: a["id"] for a in tj["added_tokens"]}
    size = max([*vocab.values(), *specials.values()]) + 1
    tokens, types = [""] * size, [1] * size
    for t, i in vocab.items():
        tokens[i] = t
        if len(t) == 6 and t.startswith("<0x") and t.endswith(">"):
            types[i] = 6
    for t, i in specials.items():
        tokens[i] = t
        types[i] = 3
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_scores([0.0] * size)
    w.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in tj["model"]["merges"]])
    w.add_add_bos_token(add_bos)


def tokenizer_meta_bytelevel(w: gguf.GGUFWriter, folder: str, pre: str, add_bos: bool) -> dict:
    tj = json.load(open(os.path.join(folder, "tokenizer.json")))
    vocab = dict(tj["model"]["vocab"])
    specials = {a["content"]: a["id"] for a in tj["added_tokens"]}
    size = max([*vocab.values(), *specials.values()]) + 1
    tokens = [""] * size
    types = [1] * size
    for t, i in vocab.items():
        tokens[i] = t
    for t, i in specials.items():
        tokens[i] = t
        types[i] = 3
    merges = [m if isinstance(m, str) else " ".join(m) for m in tj["model"]["merges"]]
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(pre)
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_add_bos_token(add_bos)
    return {"tokens": tokens}


fixtures = {}

# ---- tiny-llama-kquants: random llama in 12 ggml types, sentencepiece tokenizer with scores --------------------
E, H, KV, D, I, L = 256, 4, 2, 64, 256, 2
st = json.load(open(os.path.join(SHARED, "stories260K", "tokenizer.json")))
vocab = st["model"]["vocab"]
V = len(vocab)
tokens = [None] * V
for t, i in vocab.items():
    tokens[i] = t
rank = {}
for r, m in enumerate(st["model"]["merges"]):
    a, b = m.split(" ", 1) if isinstance(m, str) else m
    rank.setdefault(a + b, r)
scores, types = [], []
for i, t in enumerate(tokens):
    if t in ("<unk>",):
        types.append(2)
    elif t in ("<s>", "</s>"):
        types.append(3)
    elif len(t) == 6 and t.startswith("<0x") and t.endswith(">"):
        types.append(6)
    else:
        types.append(1)
    scores.append(float(-rank[t]) if t in rank else -1e4 - i)
name = "tiny-llama-kquants.gguf"
w = gguf.GGUFWriter(os.path.join(OUT, name), "llama")
w.add_name("tiny-llama-kquants")
w.add_context_length(128)
w.add_embedding_length(E)
w.add_block_count(L)
w.add_feed_forward_length(I)
w.add_head_count(H)
w.add_head_count_kv(KV)
w.add_rope_dimension_count(D)
w.add_rope_freq_base(10000.0)
w.add_layer_norm_rms_eps(1e-5)
w.add_vocab_size(V)
w.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_K_M)
w.add_tokenizer_model("llama")
w.add_tokenizer_pre("default")
w.add_token_list(tokens)
w.add_token_scores(scores)
w.add_token_types(types)
w.add_bos_token_id(vocab["<s>"])
w.add_eos_token_id(vocab["</s>"])
w.add_unk_token_id(vocab["<unk>"])
w.add_add_bos_token(True)
w.add_add_eos_token(False)
g = lambda *s: (rng.standard_normal(s) * 0.6).astype(np.float32)  # noqa: E731
add(w, "token_embd.weight", g(V, E), T.Q8_0)
layer_types = [
    {"attn_q": T.Q4_K, "attn_k": T.Q5_K, "attn_v": T.Q6_K, "attn_output": T.Q3_K, "ffn_gate": T.Q2_K, "ffn_up": T.Q4_0, "ffn_down": T.Q5_1},
    {"attn_q": T.F16, "attn_k": T.BF16, "attn_v": T.Q5_0, "attn_output": T.Q4_1, "ffn_gate": T.Q8_0, "ffn_up": T.Q4_K, "ffn_down": T.Q6_K},
]
shapes = {"attn_q": (H * D, E), "attn_k": (KV * D, E), "attn_v": (KV * D, E), "attn_output": (E, H * D), "ffn_gate": (I, E), "ffn_up": (I, E), "ffn_down": (E, I)}
for l in range(L):
    add(w, f"blk.{l}.attn_norm.weight", 1 + 0.2 * g(E))
    add(w, f"blk.{l}.ffn_norm.weight", 1 + 0.2 * g(E))
    for part, qtype in layer_types[l].items():
        rows, cols = shapes[part]
        if qtype in (T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K):
            # Random K-quant blocks: already in llama.cpp's row order (the permutation is a row shuffle of random rows).
            scale = {T.Q2_K: 2e-3, T.Q3_K: 4e-3, T.Q4_K: 2e-3, T.Q5_K: 1e-3, T.Q6_K: 1e-3}[qtype]
            w.add_tensor(f"blk.{l}.{part}.weight", random_k_blocks(qtype, rows, cols, scale), raw_dtype=qtype)
            continue
        data = g(rows, cols) / np.sqrt(cols) * 4
        if part == "attn_q":
            data = permute(data, H)
        if part == "attn_k":
            data = permute(data, KV)
        if qtype == T.BF16:
            w.add_tensor(f"blk.{l}.{part}.weight", gguf.quants.quantize(data, T.BF16), raw_dtype=T.BF16)
        else:
            add(w, f"blk.{l}.{part}.weight", data, qtype)
add(w, "output_norm.weight", 1 + 0.2 * g(E))
add(w, "output.weight", g(V, E) / 4, T.Q4_0)
write(w, os.path.join(OUT, name))
ids, att = attention(OUT, name, TEXT)
fixtures[name] = {
    "config": {"model_type": "llama", "hidden_size": E, "num_hidden_layers": L, "num_attention_heads": H, "num_key_value_heads": KV, "head_dim": D, "intermediate_size": I, "vocab_size": V, "max_position_embeddings": 128, "rope_theta": 10000.0, "tie_word_embeddings": False},
    "text": TEXT,
    "input_ids": ids,
    "shape": list(att.shape),
    "attention": b64(att),
    "reference": "transformers loading this GGUF file",
}

# ---- hf-tiny conversions ------------------------------------------------------------------------------------------
from safetensors.numpy import load_file  # noqa: E402


def convert(family: str, arch: str, pre: str, quant: dict) -> str:
    folder = os.path.join(SHARED, "hf-tiny", family)
    cfg = json.load(open(os.path.join(folder, "config.json")))
    sd = load_file(os.path.join(folder, "model.safetensors"))
    name = f"hf-tiny-{family}.gguf"
    w = gguf.GGUFWriter(os.path.join(OUT, name), arch)
    w.add_name(f"hf-tiny-{family}")
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(cfg["num_attention_heads"])
    w.add_head_count_kv(cfg["num_key_value_heads"])
    head_dim = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    w.add_key_length(head_dim)
    w.add_value_length(head_dim)
    w.add_rope_dimension_count(head_dim)
    rope = cfg["rope_parameters"].get("full_attention", cfg["rope_parameters"])
    w.add_rope_freq_base(rope["rope_theta"])
    if rope.get("rope_type") == "linear":
        w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        w.add_rope_scaling_factor(rope["factor"])
    if cfg.get("sliding_window"):
        w.add_sliding_window(cfg["sliding_window"])
    if arch == "gemma2":
        w.add_float32("gemma2.attn_logit_softcapping", cfg["attn_logit_softcapping"])
        w.add_float32("gemma2.final_logit_softcapping", cfg["final_logit_softcapping"])
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    w.add_vocab_size(cfg["vocab_size"])
    if cfg.get("eos_token_id") is not None:
        w.add_eos_token_id(cfg["eos_token_id"])
    if cfg.get("bos_token_id") is not None:
        w.add_bos_token_id(cfg["bos_token_id"])
    if pre == "sentencepiece":
        tokenizer_meta_sentencepiece(w, folder, add_bos=True)
        if arch.startswith("gemma"):
            w.add_add_space_prefix(False)
    else:
        tokenizer_meta_bytelevel(w, folder, pre, add_bos=family == "llama")
    n_head, n_kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    names = {
        "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm", "self_attn.q_proj": "attn_q",
        "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
        "self_attn.q_norm": "attn_q_norm", "self_attn.k_norm": "attn_k_norm", "mlp.gate_proj": "ffn_gate",
        "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down",
        # phi3's fused projections, OLMo 2's norms after attention and MLP
        "self_attn.qkv_proj": "attn_qkv", "mlp.gate_up_proj": "ffn_up",
        **({"post_attention_layernorm": "post_attention_norm", "post_feedforward_layernorm": "post_ffw_norm"} if arch in ("olmo2", "gemma2", "gemma3") else {}),
        "pre_feedforward_layernorm": "ffn_norm",
    }
    for k, v in sd.items():
        if k == "model.embed_tokens.weight":
            out = "token_embd.weight"
        elif k == "model.norm.weight":
            out = "output_norm.weight"
        elif k == "lm_head.weight":
            if cfg.get("tie_word_embeddings"):
                continue
            out = "output.weight"
        else:
            parts = k.split(".")  # model.layers.N.<module...>.weight
            out = f"blk.{parts[2]}.{names['.'.join(parts[3:-1])]}.{parts[-1]}"
        if arch == "llama" and out.endswith("attn_q.weight"):
            v = permute(v, n_head)
        if arch == "llama" and out.endswith("attn_k.weight"):
            v = permute(v, n_kv)
        if arch.startswith("gemma") and out.endswith("norm.weight"):
            v = v + 1  # convert_hf_to_gguf.py Gemma2Model/Gemma3Model: llama.cpp's RMSNorm multiplies by w, not 1 + w
        part = out.split(".")[-2]
        add(w, out, v, quant.get(part, T.F32))
    rp = cfg["rope_parameters"]
    if rp.get("rope_type") == "llama3":
        # convert_hf_to_gguf.py LlamaModel.generate_extra_tensors
        import math

        base, dim = rp["rope_theta"], head_dim
        freqs = 1.0 / (base ** (np.arange(0, dim, 2, dtype=np.float32) / dim))
        factor, low, high, old = rp["factor"], rp["low_freq_factor"], rp["high_freq_factor"], rp["original_max_position_embeddings"]
        factors = []
        for f in freqs:
            wavelen = 2 * math.pi / f
            if wavelen < old / high:
                factors.append(1)
            elif wavelen > old / low:
                factors.append(factor)
            else:
                smooth = (old / wavelen - low) / (high - low)
                factors.append(1 / ((1 - smooth) / factor + smooth))
        w.add_tensor("rope_freqs.weight", np.array(factors, dtype=np.float32))
    write(w, os.path.join(OUT, name))
    return name


name = convert("llama", "llama", "llama-bpe", {})
ref = json.load(open(os.path.join(SHARED, "hf-tiny", "llama", "reference_attention.json")))
tok = AutoTokenizer.from_pretrained(OUT, gguf_file=name)
assert tok(ref["text"])["input_ids"] == ref["input_ids"], "the GGUF tokenizer must match the folder's"
cfg = json.load(open(os.path.join(SHARED, "hf-tiny", "llama", "config.json")))
fixtures[name] = {
    "config": {k: cfg[k] for k in ["model_type", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim", "intermediate_size", "vocab_size", "max_position_embeddings", "tie_word_embeddings"]}
    | {"rope_theta": cfg["rope_parameters"]["rope_theta"], "rope_scaling": {k: v for k, v in cfg["rope_parameters"].items() if k != "rope_theta"}},
    "text": ref["text"],
    "input_ids": ref["input_ids"],
    "shape": ref["shape"],
    "attention": b64(np.array(ref["attentions"], dtype=np.float32)),
    "reference": "hf-tiny/llama/reference_attention.json (transformers on the safetensors folder)",
}

name = convert("qwen3", "qwen3", "qwen2", {"attn_q": T.Q8_0, "attn_k": T.Q8_0, "attn_v": T.Q8_0, "ffn_down": T.Q8_0})
# transformers' GGUF config mapping for qwen3 drops attention.key_length (head_dim 16 ≠ hidden/heads), so the model
# gets the folder's config; the weights still come from this GGUF file, dequantized by gguf-py.
ids, att = attention(OUT, name, TEXT, transformers.AutoConfig.from_pretrained(os.path.join(SHARED, "hf-tiny", "qwen3")))
cfg = json.load(open(os.path.join(SHARED, "hf-tiny", "qwen3", "config.json")))
fixtures[name] = {
    "config": {k: cfg[k] for k in ["model_type", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim", "intermediate_size", "vocab_size", "max_position_embeddings", "tie_word_embeddings"]}
    | {"rope_theta": cfg["rope_parameters"]["rope_theta"]},
    "text": TEXT,
    "input_ids": ids,
    "shape": list(att.shape),
    "attention": b64(att),
    "reference": "transformers loading this GGUF file's weights with hf-tiny/qwen3's config.json",
}

# phi3 (fused qkv and gate_up) and OLMo 2 (q/k norms over the whole projection, norms after attention and MLP):
# float32 weights, so the folder's own reference attention (transformers on the safetensors) applies.
for family, arch, pre in [("phi3", "phi3", "sentencepiece"), ("olmo2", "olmo2", "llama-bpe")]:
    name = convert(family, arch, pre, {})
    ref = json.load(open(os.path.join(SHARED, "hf-tiny", family, "reference_attention.json")))
    try:
        gguf_ids = AutoTokenizer.from_pretrained(OUT, gguf_file=name)(ref["text"])["input_ids"]
    except ValueError:  # transformers 5.25 reads no olmo2 GGUF; the folder's tokenizer.json ids are the reference
        gguf_ids = None
    cfg = json.load(open(os.path.join(SHARED, "hf-tiny", family, "config.json")))
    fixtures[name] = {
        "config": {k: cfg[k] for k in ["model_type", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "intermediate_size", "vocab_size", "max_position_embeddings", "tie_word_embeddings"]}
        | {"rope_theta": cfg["rope_parameters"]["rope_theta"]},
        "text": ref["text"],
        "input_ids": ref["input_ids"],
        "transformers_gguf_ids": gguf_ids,
        "shape": ref["shape"],
        "attention": b64(np.array(ref["attentions"], dtype=np.float32)),
        "reference": f"hf-tiny/{family}/reference_attention.json (transformers on the safetensors folder)",
    }

# Gemma 2 and 3: norms stored as 1 + w, soft-capping (2), window 8, q/k norms and linear-scaled global RoPE (3).
# A GGUF file cannot say query_pre_attn_scalar or which layers slide: llama.cpp scales queries by 1/sqrt(head_dim)
# (hidden/heads for the 27B models) and slides every layer but each second (Gemma 2) or sixth (Gemma 3). The
# reference is transformers loading this file's weights with hf-tiny's config changed to exactly that.
for family in ["gemma2", "gemma3"]:
    name = convert(family, family, "sentencepiece", {"attn_q": T.Q8_0, "ffn_down": T.Q8_0})
    folder = os.path.join(SHARED, "hf-tiny", family)
    cfg = transformers.AutoConfig.from_pretrained(folder)
    cfg.query_pre_attn_scalar = cfg.head_dim
    L = cfg.num_hidden_layers
    cfg.layer_types = [
        "sliding_attention" if (i % (2 if family == "gemma2" else 6)) < (1 if family == "gemma2" else 5) else "full_attention"
        for i in range(L)
    ]
    ids, att = attention(OUT, name, TEXT, cfg)
    raw = json.load(open(os.path.join(folder, "config.json")))
    fixtures[name] = {
        "config": {k: raw[k] for k in ["model_type", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim", "intermediate_size", "vocab_size", "max_position_embeddings", "tie_word_embeddings", "sliding_window"]}
        | {"query_pre_attn_scalar": cfg.head_dim}
        | ({"attn_logit_softcapping": 2.0, "final_logit_softcapping": 5.0} if family == "gemma2" else {"rope_theta": 1e6, "rope_scaling": {"rope_type": "linear", "factor": 8.0}, "rope_local_base_freq": 10000, "sliding_window_pattern": 6}),
        "text": TEXT,
        "input_ids": ids,
        "shape": list(att.shape),
        "attention": b64(att),
        "layer_types": cfg.layer_types,
        "reference": f"transformers loading this GGUF file's weights with hf-tiny/{family}'s config, query_pre_attn_scalar = head_dim and llama.cpp's layer pattern",
    }

result = {"generator": "scripts/make-gguf-fixtures.py", "versions": {"transformers": transformers.__version__, "torch": torch.__version__}, "fixtures": fixtures}
with open(os.path.join(OUT, "reference.json.tmp"), "w") as f:
    json.dump(result, f, indent=1, ensure_ascii=False)
os.replace(os.path.join(OUT, "reference.json.tmp"), os.path.join(OUT, "reference.json"))
for n in fixtures:
    print(n, os.path.getsize(os.path.join(OUT, n)), "bytes", fixtures[n]["shape"])
