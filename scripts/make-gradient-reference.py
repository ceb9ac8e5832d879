"""Gradient reference values for runtime/grad (test/unit/runtime/grad/model-gradients.test.ts), computed by
PyTorch autograd in float64 with transformers, independently of the project's ONNX graphs.

For each model: d(target)/d(token embeddings) [S, E] at the rows of the embedding table of fixed ids (gemma's
√hidden scale applied after them, as its embedding module does), and for the causal LMs the
gradient of the target w.r.t. every layer's post-softmax attention [L, H, S, S] (eager attention).
Targets: causal LMs log p(token | prefix) read at the last position (log_softmax of the logits); the encoder
(all-MiniLM-L6-v2, no LM head) the cosine of the mean-pooled last hidden state with a fixed reference vector
ref[i] = sin(i + 1).

Encoder–decoders (tiny-marian-dates, hf-tiny bart, mbart and t5): log p(labels[position]) of one target token, and
log p(whole target) = Σ_t log p(labels[t]), teacher-forced (decoder inputs [start] + labels[:-1]; mbart: its last
label first); the gradients w.r.t. the rows of the shared embedding table read for the source and for the decoder
inputs (captured by a forward hook on the embedding module, so Marian's √d scale comes after them, as in the
project's graphs; mBART's embedding module scales its own output by √d, so its hook's gradient is multiplied by that
scale to give the gradient w.r.t. the rows).

Contrastive targets (--contrast: stories260K and qwen3, GQA): log p(A) − log p(B) at the last position, written to
<name>-contrast.json with the contrast token B beside A (the log-softmax's normaliser cancels, so the logits'
difference z_A − z_B has the same value and gradient).

Run: /work/.venv-ref/bin/python scripts/make-gradient-reference.py [--seq2seq | --contrast]   (writes
test/fixtures/gradients/*.json; --seq2seq: only the encoder–decoder cases; --contrast: only the contrastive ones)
"""
import json
import math
import os
import sys

import torch
from transformers import AutoModel, AutoModelForCausalLM, AutoModelForSeq2SeqLM

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out_dir = os.path.join(root, "test", "fixtures", "gradients")
os.makedirs(out_dir, exist_ok=True)

CASES = [
    # name, folder, ids, target token, causal
    ("stories260K", "test/fixtures/models/stories260K", [1, 403, 407, 261, 378, 1], 3, True),
    ("tiny-gpt2", "test/fixtures/models/tiny-gpt2", [464, 3290, 318, 257, 1332], 11, True),
    ("qwen3", "test/fixtures/models/hf-tiny/qwen3", [5, 17, 42, 99, 7, 250], 31, True),
    # More RoPE decoder families (12 tokens, so that the sliding windows of 8 matter)
] + [
    (f"hf-tiny-{f}", f"test/fixtures/models/hf-tiny/{f}", [5, 17, 42, 99, 7, 250, 3, 64, 128, 11, 300, 42], 31, True)
    for f in ["llama", "mistral", "gemma2", "gemma3", "phi3", "olmo2"]
] + [
    ("all-MiniLM-L6-v2", ".cache/models/all-MiniLM-L6-v2", [101, 1996, 4937, 2001, 1012, 102], None, False),
]


def rounded(t):
    return [float(f"{v:.10g}") for v in t.detach().reshape(-1).tolist()]


def gradients(path, ids, token, causal, dtype, contrast=None):
    cls = AutoModelForCausalLM if causal else AutoModel
    model = cls.from_pretrained(path, attn_implementation="eager", dtype=dtype).eval()
    emb = model.get_input_embeddings().weight[torch.tensor([ids])].detach().clone().requires_grad_(True)  # [1,S,E]
    S, E = emb.shape[1], emb.shape[2]
    # Rows of the embedding table; gemma's embedding module multiplies them by √hidden (embed_scale), which the
    # project's graphs do after the table too, so the gradient is w.r.t. the table rows in both.
    scale = getattr(model.get_input_embeddings(), "embed_scale", None)
    x = emb * scale.to(dtype) if scale is not None else emb
    out = model(inputs_embeds=x, attention_mask=torch.ones(1, S, dtype=torch.long), output_attentions=True)
    attn = out.attentions
    for a in attn:
        a.retain_grad()
    if causal:
        logp = torch.log_softmax(out.logits[0, S - 1], dim=-1)
        target = logp[token] if contrast is None else logp[token] - logp[contrast]
        measure = "log-prob"
        extra = {"readout": S - 1, "token": token, **({} if contrast is None else {"contrast": contrast})}
    else:
        pooled = out.last_hidden_state[0].mean(dim=0)  # [E]
        ref = torch.tensor([math.sin(i + 1) for i in range(E)], dtype=dtype)
        target = torch.dot(pooled, ref) / (pooled.norm() * ref.norm())
        measure = "cosine"
        extra = {"reference": "sin(i + 1), i = 0 .. hidden - 1"}
    target.backward()
    return target, emb, attn, measure, extra


def relative(a, b):
    return float((a.double() - b.double()).norm() / b.double().norm())


SEQ2SEQ_CASES = [
    # name, folder, source ids, decoder input ids, labels, position of the explained token
    (
        "tiny-marian-dates",
        "test/fixtures/models/tiny-marian-dates",
        [5, 65, 4, 6, 26, 3, 166, 0],  # the 14th of March, 2021 </s>
        [399, 166, 2, 12, 2, 42],  # <pad> ▁2021 - 03 - 14
        [166, 2, 12, 2, 42, 0],  # ▁2021 - 03 - 14 </s>
        0,  # ▁2021
    ),
    ("hf-tiny-bart", "test/fixtures/models/hf-tiny/bart", [0, 31, 200, 7, 415, 66, 2], [2, 0, 91, 12, 300], [0, 91, 12, 300, 2], 3),
    ("hf-tiny-t5", "test/fixtures/models/hf-tiny/t5", [37, 5, 200, 91, 12, 250, 1], [0, 17, 42, 99, 8], [17, 42, 99, 8, 1], 2),
    # mBART: sources and labels end with </s> ro_RO (521); the decoder starts with the last label.
    ("hf-tiny-mbart", "test/fixtures/models/hf-tiny/mbart", [297, 444, 92, 416, 86, 2, 521], [521, 91, 12, 300, 2], [91, 12, 300, 2, 521], 2),
]


def seq2seq_gradients(path, src, dec, labels, position, dtype):
    model = AutoModelForSeq2SeqLM.from_pretrained(path, attn_implementation="eager", dtype=dtype).eval()
    emb = model.get_input_embeddings()
    # The hook sees the table rows × scale where the module scales its output (mBART); 1 elsewhere.
    scale = float(getattr(emb, "embed_scale", 1.0) or 1.0)
    assert scale == 1.0 or model.config.model_type == "mbart", "the hook must see the table rows"
    leaves = []

    def hook(_module, _inputs, out):
        leaf = out.detach().clone().requires_grad_(True)
        leaves.append(leaf)
        return leaf

    handles = {id(m): m.register_forward_hook(hook) for m in [model.get_encoder().embed_tokens, model.get_decoder().embed_tokens]}
    del handles  # kept registered; the same module may serve both sides (one hook)
    out = model(
        input_ids=torch.tensor([src]),
        attention_mask=torch.ones(1, len(src), dtype=torch.long),
        decoder_input_ids=torch.tensor([dec]),
        use_cache=False,
        output_attentions=True,
    )
    cross = list(out.cross_attentions)  # [L] of [1,H,T,S]
    assert len(leaves) == 2, f"expected the encoder's and the decoder's embedding lookups, got {len(leaves)}"
    logp = torch.log_softmax(out.logits[0], dim=-1)  # [T,V]
    picked = logp[torch.arange(len(labels)), torch.tensor(labels)]  # [T]
    results = {}
    for kind, target in (("token", picked[position]), ("sequence", picked.sum())):
        gs, gt, *gc = torch.autograd.grad(target, leaves + cross, retain_graph=True)
        results[kind] = (target, gs[0] * scale, gt[0] * scale, [a[0] for a in cross], [g[0] for g in gc])
    return results


def seq2seq_cases():
    for name, folder, src, dec, labels, position in SEQ2SEQ_CASES:
        path = os.path.join(root, folder)
        r64 = seq2seq_gradients(path, src, dec, labels, position, torch.float64)
        r32 = seq2seq_gradients(path, src, dec, labels, position, torch.float32)
        record = {
            "model": name,
            "folder": folder,
            "computed_by": "scripts/make-gradient-reference.py (PyTorch autograd, float64, eager attention)",
            "torch": torch.__version__,
            "source_ids": src,
            "decoder_input_ids": dec,
            "labels": labels,
            "position": position,
            "hidden": r64["token"][1].shape[-1],
        }
        for kind in ("token", "sequence"):
            target, gs, gt, ca, gc = r64[kind]
            _, gs32, gt32, _, gc32 = r32[kind]
            record[kind] = {
                "target": target.item(),
                "grad_source": rounded(gs),
                "grad_target": rounded(gt),
                "cross_attention": [rounded(a) for a in ca],
                "grad_cross": [rounded(g) for g in gc],
                "torch_float32_relative_error": {
                    "grad_source": relative(gs32, gs),
                    "grad_target": relative(gt32, gt),
                    "grad_cross": [relative(a, b) for a, b in zip(gc32, gc)],
                },
            }
        with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
            json.dump(record, f)
        print(name, {k: (record[k]["target"], record[k]["torch_float32_relative_error"]) for k in ("token", "sequence")})


# name, contrast token B (A is the case's target token)
CONTRAST_CASES = {"stories260K": 403, "qwen3": 7}

if "--seq2seq" in sys.argv:
    seq2seq_cases()
    sys.exit(0)

contrast_only = "--contrast" in sys.argv
for name, folder, ids, token, causal in CASES:
    path = os.path.join(root, folder)
    if not os.path.exists(path):
        print(f"skipping {name}: {path} is missing", file=sys.stderr)
        continue
    contrast = CONTRAST_CASES.get(name) if contrast_only else None
    if contrast_only and contrast is None:
        continue
    target, emb, attn, measure, extra = gradients(path, ids, token, causal, torch.float64, contrast)
    S, E = emb.shape[1], emb.shape[2]
    # The same computation in float32: how far rounding alone moves these gradients (the conditioning of the case).
    _, emb32, attn32, _, _ = gradients(path, ids, token, causal, torch.float32, contrast)
    record = {
        "model": name,
        "folder": folder,
        "computed_by": "scripts/make-gradient-reference.py (PyTorch autograd, float64, eager attention)",
        "torch": torch.__version__,
        "ids": ids,
        "measure": measure,
        **extra,
        "target": target.item(),
        "seq": S,
        "hidden": E,
        "grad_embeds": rounded(emb.grad[0]),
        "torch_float32_relative_error": {
            "grad_embeds": relative(emb32.grad, emb.grad),
            "grad_attn": [relative(a32.grad, a.grad) for a32, a in zip(attn32, attn)] if causal else None,
        },
    }
    if causal:
        record["layers"] = len(attn)
        record["heads"] = attn[0].shape[1]
        record["grad_attn"] = [rounded(a.grad[0]) for a in attn]  # [L][H*S*S]
    file = f"{name}-contrast.json" if contrast_only else f"{name}.json"
    with open(os.path.join(out_dir, file), "w") as f:
        json.dump(record, f)
    print(file, measure, target.item(), record["torch_float32_relative_error"])

if not contrast_only:
    seq2seq_cases()
