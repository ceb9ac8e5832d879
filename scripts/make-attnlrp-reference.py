"""AttnLRP reference relevances for runtime/grad's AttnLRP rules (test/unit/runtime/grad/attnlrp.test.ts), computed
by the authors' own implementation, LXT 2.1 (https://github.com/rachtibat/LRP-eXplains-Transformers, efficient
mode: `lxt.efficient.monkey_patch`), on transformers' models in float64, independently of the project's graphs.

LXT computes AttnLRP as Gradient × Input with modified backward rules: LayerNorm / RMSNorm with the normaliser
detached, the identity rule on element-wise activations (d = dy · y / (x + 1e-10)), the uniform rule on the
products of two variables (q·k, attention·v, the gated MLP's product: the gradient halved), the plain gradient
through softmax and linear layers. Relevance of token j = Σ_e inputs_embeds[j, e] · d[j, e].

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
from transformers import AutoConfig, AutoModel, AutoModelForCausalLM  # noqa: E402
from transformers.models.bert import modeling_bert  # noqa: E402
from transformers.models.llama import modeling_llama  # noqa: E402
from transformers.models.qwen3 import modeling_qwen3  # noqa: E402

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out_dir = os.path.join(root, "test", "fixtures", "attnlrp")
os.makedirs(out_dir, exist_ok=True)

# name, folder, ids, target token (None: cosine), LXT's module to patch
CASES = [
    ("stories260K", "test/fixtures/models/stories260K", [1, 403, 407, 261, 378, 1], 3, modeling_llama),
    ("all-MiniLM-L6-v2", ".cache/models/all-MiniLM-L6-v2", [101, 1996, 4937, 2001, 1012, 102], None, modeling_bert),
    # hf-tiny qwen3 (q/k RMSNorms, GQA): saved by transformers 5.25, whose rope_parameters 4.52 reads as rope_theta.
    ("qwen3", "test/fixtures/models/hf-tiny/qwen3", [5, 17, 42, 99, 7, 250], 31, modeling_qwen3),
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


for name, folder, ids, token, module in CASES:
    path = os.path.join(root, folder)
    # The plain gradient first (unpatched), for the check that the rules change it.
    _, plain = run(path, ids, token, torch.float64, False)
    monkey_patch(module, verbose=False)
    target, emb = run(path, ids, token, torch.float64, True)
    _, emb32 = run(path, ids, token, torch.float32, True)
    grad = emb.grad[0]  # [S,E] the modified gradient
    relevance = (emb[0] * grad).sum(-1)  # [S]
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
        "versions": {"lxt": "2.1", "torch": torch.__version__, "transformers": transformers.__version__},
    }
    with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
        json.dump(doc, f)
    print(
        f"{name}: target {float(target):.6g}, Σ relevance {float(relevance.sum()):.6g}, "
        f"plain-gradient difference {doc['plain_gradient_relative_difference']:.3g}, "
        f"float32 {doc['lxt_float32_relative_error']:.3g}"
    )
print("lxt", getattr(lxt, "__file__", ""))
