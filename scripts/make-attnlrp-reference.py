"""AttnLRP reference relevances for runtime/grad's AttnLRP rules (test/unit/runtime/grad/attnlrp.test.ts), computed
by the authors' own implementation, LXT 2.1 (https://github.com/rachtibat/LRP-eXplains-Transformers, efficient
mode: `lxt.efficient.monkey_patch`), on transformers' models in float64, independently of the project's graphs.

LXT computes AttnLRP as Gradient × Input with modified backward rules: LayerNorm / RMSNorm with the normaliser
detached, the identity rule on element-wise activations (d = dy · y / (x + 1e-10)), the uniform rule on the
products of two variables (q·k, attention·v, the gated MLP's product: the gradient halved), the plain gradient
through softmax and linear layers. Relevance of token j = Σ_e inputs_embeds[j, e] · d[j, e].

gpt2 (tiny-gpt2 and a random 32-wide GPT-2 the script makes and saves in test/fixtures/attnlrp/random-gpt2): LXT's own
GPT-2 map. Encoder–decoders (tiny-marian-dates, hf-tiny bart, t5 and mbart), which LXT does not patch: LXT's rule functions
placed where its patches place them (see SEQ2SEQ_CASES), the logit of one target token, both sides' embeddings.

Targets: stories260K and hf-tiny qwen3 the logit of a token at the last position (LXT's convention); all-MiniLM-L6-v2 (no LM head)
the cosine of the mean-pooled last hidden state with ref[i] = sin(i + 1), its two norms detached as LXT detaches a
norm layer's (so Σ relevance is compared with the cosine).

LXT's imports pull torchvision for its ViT patch map, unused here: a stub module stands in for it. LXT's RMSNorm
rule computes the norm in float32 (`hidden_states.to(torch.float32)`), so the stories260K reference carries float32
rounding at its norms (~1e-7 relative), far below the 1e-4 the test asks.

Run (LXT needs transformers 4.52, kept out of /work/.venv-ref):
  python3 -m venv --system-site-packages /work/.venv-lxt
  echo /work/.venv-ref/lib/python3.11/site-packages > /work/.venv-lxt/lib/python3.11/site-packages/zz-venv-ref.pth
  /work/.venv-lxt/bin/pip install transformers==4.52.4 && /work/.venv-lxt/bin/pip install --no-deps lxt==2.1
  /work/.venv-lxt/bin/python scripts/make-attnlrp-reference.py      (writes test/fixtures/attnlrp/*.json)
Where /work/.venv-ref has the `kernels` package (which transformers 4.52 then imports, and fails on), hide it:
  /work/.venv-lxt/bin/python -c "import sys, runpy; sys.modules['kernels'] = None; \
    runpy.run_path('scripts/make-attnlrp-reference.py', run_name='__main__')"
mBART's embedding module scales its own output by √d (MBartScaledWordEmbedding): its hook sees the rows × √d, so the
rows are the leaf ÷ √d and their gradient the leaf's × √d (the relevance, rows · gradient, is the same either way).
"""
import json
import math
import os
import sys
import types

import torch
import transformers
import transformers.utils.import_utils as _iu

# /work/.venv-ref's `kernels` needs a newer huggingface_hub than transformers 4.52 takes: not used, so hidden.
_iu._kernels_available = False

# torchvision stub (after transformers, which probes for the real package): lxt.efficient.models imports torchvision.models.vision_transformer for its ViT map only.
_tv = types.ModuleType("torchvision")
_tvm = types.ModuleType("torchvision.models")
_vt = types.ModuleType("torchvision.models.vision_transformer")
_vt.nn = types.SimpleNamespace(GELU=object, LayerNorm=object, MultiheadAttention=object)
_tvm.vision_transformer = _vt
_tv.models = _tvm
sys.modules.update({"torchvision": _tv, "torchvision.models": _tvm, "torchvision.models.vision_transformer": _vt})

import lxt  # noqa: E402
from lxt.efficient import monkey_patch  # noqa: E402
from lxt.efficient.patches import layer_norm_forward, patch_method  # noqa: E402
from lxt.efficient.rules import divide_gradient, identity_rule_implicit  # noqa: E402
from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoModelForSeq2SeqLM  # noqa: E402
from transformers import GPT2Config, GPT2LMHeadModel  # noqa: E402
from transformers.models.gpt2 import modeling_gpt2  # noqa: E402
from transformers.models.bert import modeling_bert  # noqa: E402
from transformers.models.llama import modeling_llama  # noqa: E402
from transformers.models.qwen3 import modeling_qwen3  # noqa: E402

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out_dir = os.path.join(root, "test", "fixtures", "attnlrp")
os.makedirs(out_dir, exist_ok=True)



def make_random_gpt2(folder):
    """A second GPT-2, better conditioned than tiny-gpt2 (whose LayerNorms normalise two values): 32 wide, 4 heads of
    8, 2 layers, 96 tokens, random weights (seed 18) large enough that attention is far from uniform. Written once in
    float32 (safetensors, transformers' own names) and read back like any model folder."""
    torch.manual_seed(18)
    config = GPT2Config(vocab_size=96, n_positions=32, n_embd=32, n_layer=2, n_head=4, activation_function="gelu_new")
    model = GPT2LMHeadModel(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "ln_" in name and name.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
            else:
                p.copy_(0.3 * torch.randn_like(p))
    model.save_pretrained(folder, safe_serialization=True)
    for extra in ("generation_config.json",):
        if os.path.exists(os.path.join(folder, extra)):
            os.remove(os.path.join(folder, extra))


random_gpt2 = os.path.join(out_dir, "random-gpt2")
make_random_gpt2(random_gpt2)

# name, folder, ids, target token (None: cosine), LXT's module to patch
CASES = [
    ("stories260K", "test/fixtures/models/stories260K", [1, 403, 407, 261, 378, 1], 3, modeling_llama),
    ("all-MiniLM-L6-v2", ".cache/models/all-MiniLM-L6-v2", [101, 1996, 4937, 2001, 1012, 102], None, modeling_bert),
    # hf-tiny qwen3 (q/k RMSNorms, GQA): saved by transformers 5.25, whose rope_parameters 4.52 reads as rope_theta.
    ("qwen3", "test/fixtures/models/hf-tiny/qwen3", [5, 17, 42, 99, 7, 250], 31, modeling_qwen3),
    # gpt2 (LXT's own GPT-2 patch, its attnLRP map: Conv1D linears, LayerNorm with σ detached, gelu_new's identity
    # rule, q/k/v gradients divided by 4/4/2): tiny-gpt2 (two-wide LayerNorms) and a random 32-wide GPT-2.
    ("tiny-gpt2", "test/fixtures/models/tiny-gpt2", [464, 3290, 318, 257, 1332], 11, modeling_gpt2),
    ("random-gpt2", "test/fixtures/attnlrp/random-gpt2", [5, 17, 42, 9, 77, 3, 64], 31, modeling_gpt2),
]


def rounded(t):
    return [float(f"{v:.10g}") for v in t.detach().reshape(-1).tolist()]


def run(path, ids, token, dtype, patched):
    cls = AutoModelForCausalLM if token is not None else AutoModel
    config = AutoConfig.from_pretrained(path)
    rope = getattr(config, "rope_parameters", None)
    if isinstance(rope, dict) and rope.get("rope_type", "default") == "default":
        config.rope_theta = rope["rope_theta"]
    model = cls.from_pretrained(path, config=config, attn_implementation="eager", torch_dtype=dtype).eval()
    emb = model.get_input_embeddings().weight[torch.tensor([ids])].detach().clone().requires_grad_(True)  # [1,S,E]
    S, E = emb.shape[1], emb.shape[2]
    out = model(inputs_embeds=emb, attention_mask=torch.ones(1, S, dtype=torch.long))
    if token is not None:
        target = out.logits[0, S - 1, token]
    else:
        pooled = out.last_hidden_state[0].mean(dim=0)  # [E]
        ref = torch.tensor([math.sin(i + 1) for i in range(E)], dtype=dtype)
        norms = pooled.norm() * ref.norm()
        target = torch.dot(pooled, ref) / (norms.detach() if patched else norms)
    target.backward()
    return target, emb


def relative(a, b):
    return float((a.double() - b.double()).norm() / b.double().norm())


# Encoder–decoders: LXT 2.1 has no Marian, BART or T5 patch, so the script places LXT's own rule functions where its
# patches place them for the models it covers (its bert / llama / gpt2 maps): LayerNorm with σ detached
# (layer_norm_forward; T5's RMSNorm: rms_norm_forward), the identity rule on each feed-forward activation
# (identity_rule_implicit), the uniform rule on attention as its wrap_attention_forward does (the gradients of q, k and v
# divided by 4, 4 and 2, here at the outputs of the q/k/v projections: the scaling and head split between them are
# linear) — for self- and cross-attention alike — and, in T5's gated feed-forward, the product's gradient halved
# (divide_gradient by 2 on both factors). Explained: the logit of labels[position] at that decoder position; the
# modified gradients w.r.t. both sides' embedding rows (before Marian's √d scale, as the gradient fixtures).
SEQ2SEQ_CASES = [
    # name, folder, source ids, decoder input ids, labels, position (the same inputs as test/fixtures/gradients)
    ("tiny-marian-dates", "test/fixtures/models/tiny-marian-dates", [5, 65, 4, 6, 26, 3, 166, 0], [399, 166, 2, 12, 2, 42], [166, 2, 12, 2, 42, 0], 0),
    ("hf-tiny-bart", "test/fixtures/models/hf-tiny/bart", [0, 31, 200, 7, 415, 66, 2], [2, 0, 91, 12, 300], [0, 91, 12, 300, 2], 3),
    ("hf-tiny-t5", "test/fixtures/models/hf-tiny/t5", [37, 5, 200, 91, 12, 250, 1], [0, 17, 42, 99, 8], [17, 42, 99, 8, 1], 2),
    ("hf-tiny-mbart", "test/fixtures/models/hf-tiny/mbart", [297, 444, 92, 416, 86, 2, 521], [521, 91, 12, 300, 2], [91, 12, 300, 2, 521], 2),
]


class IdentityRule(torch.nn.Module):
    """An activation module with LXT's identity rule (identity_rule_implicit) as its backward."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return identity_rule_implicit(self.fn, x)


def divide_output(factor):
    return lambda _module, _inputs, out: divide_gradient(out, factor)


def patch_seq2seq(model):
    from lxt.efficient.patches import rms_norm_forward
    from transformers.models.t5.modeling_t5 import T5LayerNorm

    patch_method(layer_norm_forward, torch.nn.LayerNorm)
    if T5LayerNorm.forward is not rms_norm_forward:
        patch_method(rms_norm_forward, T5LayerNorm)
    for m in model.modules():
        for q, k, v in (("q_proj", "k_proj", "v_proj"), ("q", "k", "v")):
            if all(isinstance(getattr(m, n, None), torch.nn.Linear) for n in (q, k, v)):
                getattr(m, q).register_forward_hook(divide_output(4))
                getattr(m, k).register_forward_hook(divide_output(4))
                getattr(m, v).register_forward_hook(divide_output(2))
        for act in ("activation_fn", "act"):
            fn = getattr(m, act, None)
            if isinstance(fn, torch.nn.Module) and not isinstance(m, IdentityRule):
                setattr(m, act, IdentityRule(fn))
        if hasattr(m, "wi_0") and hasattr(m, "wi_1"):
            m.wi_0.register_forward_hook(divide_output(2))
            m.wi_1.register_forward_hook(divide_output(2))


def seq2seq_lrp(path, src, dec, labels, position, dtype, patched):
    config = AutoConfig.from_pretrained(path)
    # hf-tiny t5 was saved by transformers 5 with scale_decoder_outputs false: its tied LM head reads the decoder
    # output unscaled, where 4.52 scales by d_model^-½ whenever the embeddings are tied. Untied, with the shared table
    # copied into the head, 4.52 computes the same model (checked below against the gradient fixture's log p).
    untie = getattr(config, "scale_decoder_outputs", True) is False and config.tie_word_embeddings
    if untie:
        config.tie_word_embeddings = False
    model = AutoModelForSeq2SeqLM.from_pretrained(path, config=config, attn_implementation="eager", torch_dtype=dtype).eval()
    if untie:
        with torch.no_grad():
            model.lm_head.weight.copy_(model.get_input_embeddings().weight)
    if patched:
        patch_seq2seq(model)
    emb = model.get_input_embeddings()
    scale = float(getattr(emb, "embed_scale", 1.0) or 1.0)
    assert scale == 1.0 or model.config.model_type == "mbart", "the hook must see the table rows"
    leaves = []

    def hook(_module, _inputs, out):
        leaf = out.detach().clone().requires_grad_(True)
        leaves.append(leaf)
        return leaf

    for m in {id(m): m for m in [model.get_encoder().embed_tokens, model.get_decoder().embed_tokens]}.values():
        m.register_forward_hook(hook)
    out = model(
        input_ids=torch.tensor([src]),
        attention_mask=torch.ones(1, len(src), dtype=torch.long),
        decoder_input_ids=torch.tensor([dec]),
        use_cache=False,
    )
    assert len(leaves) == 2
    logit = out.logits[0, position, labels[position]]
    log_prob = torch.log_softmax(out.logits[0, position], dim=-1)[labels[position]]
    # The whole target: Σ_t logit_t(labels[t]), every decoder row (Explain's `target`).
    whole = out.logits[0, torch.arange(len(labels)), torch.tensor(labels)].sum()
    ws, wt = torch.autograd.grad(whole, leaves, retain_graph=True)
    gs, gt = torch.autograd.grad(logit, leaves)
    sequence = {"target": whole, "grad_source": ws[0] * scale, "grad_target": wt[0] * scale}
    rows_s, rows_t = leaves[0][0].detach() / scale, leaves[1][0].detach() / scale
    return logit, log_prob, rows_s, gs[0] * scale, rows_t, gt[0] * scale, sequence


def seq2seq_cases():
    for name, folder, src, dec, labels, position in SEQ2SEQ_CASES:
        path = os.path.join(root, folder)
        _, _, _, plain_s, _, plain_t, _ = seq2seq_lrp(path, src, dec, labels, position, torch.float64, False)
        logit, log_prob, xs, gs, xt, gt, seq = seq2seq_lrp(path, src, dec, labels, position, torch.float64, True)
        _, _, xs32, gs32, xt32, gt32, seq32 = seq2seq_lrp(path, src, dec, labels, position, torch.float32, True)
        # transformers 4.52 reads these folders (saved by 5.25) as the gradient fixtures' 5.x did: same log p (to 1e-6:
        # LXT's RMSNorm rule, on T5, computes its norm in float32).
        with open(os.path.join(root, "test", "fixtures", "gradients", f"{name}.json")) as f:
            expected = json.load(f)["token"]["target"]
        assert abs(float(log_prob) - expected) < 1e-6 * max(1, abs(expected)), (name, float(log_prob), expected)
        rs, rt = (xs * gs).sum(-1), (xt * gt).sum(-1)  # [S], [T]
        rs32, rt32 = (xs32 * gs32).sum(-1), (xt32 * gt32).sum(-1)
        both = torch.cat([gs.reshape(-1), gt.reshape(-1)])
        doc = {
            "what": "AttnLRP (LXT 2.1's rule functions placed on transformers' encoder–decoder) modified gradients "
            "w.r.t. the source and decoder embedding rows, and token relevances",
            "source_ids": src,
            "decoder_input_ids": dec,
            "labels": labels,
            "position": position,
            "measure": "logit",
            "hidden": gs.shape[-1],
            "target": float(logit),
            "grad_source": rounded(gs),
            "grad_target": rounded(gt),
            "relevance_source": rounded(rs),
            "relevance_target": rounded(rt),
            "relevance_sum": float(rs.sum() + rt.sum()),
            "plain_gradient_relative_difference": relative(torch.cat([plain_s.reshape(-1), plain_t.reshape(-1)]), both),
            "lxt_float32_relative_error": relative(torch.cat([gs32.reshape(-1), gt32.reshape(-1)]), both),
            "lxt_float32_relevance_relative_error": relative(torch.cat([rs32, rt32]), torch.cat([rs, rt])),
            "sequence": {
                "target": float(seq["target"]),
                "grad_source": rounded(seq["grad_source"]),
                "grad_target": rounded(seq["grad_target"]),
                "relevance_source": rounded((xs * seq["grad_source"]).sum(-1)),
                "relevance_target": rounded((xt * seq["grad_target"]).sum(-1)),
                "lxt_float32_relative_error": relative(
                    torch.cat([seq32["grad_source"].reshape(-1), seq32["grad_target"].reshape(-1)]),
                    torch.cat([seq["grad_source"].reshape(-1), seq["grad_target"].reshape(-1)]),
                ),
            },
            "versions": {"lxt": "2.1", "torch": torch.__version__, "transformers": transformers.__version__},
        }
        with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
            json.dump(doc, f)
        print(
            f"{name}: logit {float(logit):.6g}, Σ relevance {doc['relevance_sum']:.6g} (source {float(rs.sum()):.4g}), "
            f"plain-gradient difference {doc['plain_gradient_relative_difference']:.3g}, "
            f"float32 {doc['lxt_float32_relative_error']:.3g} (relevance {doc['lxt_float32_relevance_relative_error']:.3g})"
        )


# The plain gradients first, before any patch: LXT patches torch.nn.LayerNorm and Dropout for every model at once.
plain_grads = {name: run(os.path.join(root, folder), ids, token, torch.float64, False)[1] for name, folder, ids, token, _ in CASES}

for name, folder, ids, token, module in CASES:
    path = os.path.join(root, folder)
    plain = plain_grads[name]
    monkey_patch(module, verbose=False)
    target, emb = run(path, ids, token, torch.float64, True)
    _, emb32 = run(path, ids, token, torch.float32, True)
    grad = emb.grad[0]  # [S,E] the modified gradient
    relevance = (emb[0] * grad).sum(-1)  # [S]
    relevance32 = (emb32[0] * emb32.grad[0]).sum(-1)
    doc = {
        "what": "AttnLRP (LXT 2.1 efficient mode) modified gradient w.r.t. inputs_embeds and token relevances",
        "ids": ids,
        "measure": "logit" if token is not None else "cosine",
        **({"readout": len(ids) - 1, "token": token} if token is not None else {"reference": "sin(i + 1)"}),
        "seq": grad.shape[0],
        "hidden": grad.shape[1],
        "target": float(target),
        "relevance": rounded(relevance),
        "relevance_sum": float(relevance.sum()),
        "grad_embeds": rounded(grad),
        "plain_gradient_relative_difference": relative(plain.grad[0], grad),
        "lxt_float32_relative_error": relative(emb32.grad[0], grad),
        "lxt_float32_relevance_relative_error": relative(relevance32, relevance),
        "versions": {"lxt": "2.1", "torch": torch.__version__, "transformers": transformers.__version__},
    }
    with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
        json.dump(doc, f)
    print(
        f"{name}: target {float(target):.6g}, Σ relevance {float(relevance.sum()):.6g}, "
        f"plain-gradient difference {doc['plain_gradient_relative_difference']:.3g}, "
        f"float32 {doc['lxt_float32_relative_error']:.3g} (relevance {doc['lxt_float32_relevance_relative_error']:.3g})"
    )

seq2seq_cases()
print("lxt", getattr(lxt, "__file__", ""))
