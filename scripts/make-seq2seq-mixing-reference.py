"""Context-mixing reference values for encoder–decoders (test/unit/runtime/analysis/seq2seq-mixing.test.ts),
computed in float64 with transformers and numpy, independently of the project's ONNX graphs and TypeScript.

For each model (tiny-marian-dates on "the 14th of March, 2021", hf-tiny bart, t5 and mbart), teacher-forced on fixed source
ids and decoder inputs ([start] + labels[:-1]):

- ALTI (Ferrando et al. 2022) of every attention block, from its definition: the block's output for query i is a sum
  of one vector per key j, T_i(x_j) = Σ_h α_h,ij f_h(x_j) with f_h(x_j) = v_h,j · W_O,h (the head's columns of the
  output projection), plus the residual x_i; a post-LN block (BART, Marian) applies its LayerNorm to every term with
  token i's statistics (γ ⊙ (T − mean T) / σ_i), a pre-LN block (T5, mBART) none. c_ij = max(0, ‖y_i‖₁ − ‖y_i − T̃_i(x_j)‖₁),
  normalised over the terms. Self-attention blocks (encoder, decoder): the residual joins the term of j = i, [Q,K].
  Cross-attention blocks: the residual (the decoder's own state) is a term of its own, the last column, [T, S+1].
- ALTI+ (Ferrando et al. 2022, "Towards Opening the Black Box of Neural Machine Translation: Source and Target
  Contributions"): over the S source and T decoder-input tokens, R = M_L ⋯ M_1 · M_0 with M_0 = blockdiag(R_enc, I)
  (R_enc = the encoder's ALTI rollout C_enc,L ⋯ C_enc,1) and, for decoder layer l, M_l's source rows the identity and
  its target rows [C_cross,l[:, :S] | diag(C_cross,l[:, S]) · C_self,l]: the cross block's residual share goes to the
  decoder inputs as the self-attention block mixes them. `alti_plus_source` = R[S:, :S] [T,S], `alti_plus_target` =
  R[S:, S:] [T,T]; each row sums to 1.
- Value zeroing through cross-attention (Mohebbi et al. 2023, as applied to encoder–decoder cross-attention in their
  speech-Transformer follow-up): for decoder layer l and source token j, the decoder re-run with the cross-attention
  value vector of encoder output j zeroed in layer l only; C_l[t, j] = max(0, 1 − cos(y_t^l, y_t^l(¬j))) with y^l the
  output of decoder layer l, normalised over j. `value_zeroing` [L][T,S].

Run: /work/.venv-ref/bin/python scripts/make-seq2seq-mixing-reference.py   (writes test/fixtures/mixing/*.json)
"""
import json
import os

import numpy as np
import torch
from transformers import AutoModelForSeq2SeqLM

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out_dir = os.path.join(root, "test", "fixtures", "mixing")
os.makedirs(out_dir, exist_ok=True)

CASES = [
    # name, folder, source ids, decoder input ids (the same cases as make-gradient-reference.py --seq2seq)
    (
        "tiny-marian-dates",
        "test/fixtures/models/tiny-marian-dates",
        [5, 65, 4, 6, 26, 3, 166, 0],  # the 14th of March, 2021 </s>
        [399, 166, 2, 12, 2, 42],  # <pad> ▁2021 - 03 - 14
    ),
    # 40 source tokens: value zeroing runs in two batches (at most 32 zeroed rows each)
    (
        "tiny-marian-dates-40",
        "test/fixtures/models/tiny-marian-dates",
        [5 + (i * 37) % 390 for i in range(39)] + [0],
        [399, 166, 2, 12],
    ),
    ("hf-tiny-bart", "test/fixtures/models/hf-tiny/bart", [0, 31, 200, 7, 415, 66, 2], [2, 0, 91, 12, 300]),
    ("hf-tiny-t5", "test/fixtures/models/hf-tiny/t5", [37, 5, 200, 91, 12, 250, 1], [0, 17, 42, 99, 8]),
    ("hf-tiny-mbart", "test/fixtures/models/hf-tiny/mbart", [297, 444, 92, 416, 86, 2, 521], [521, 91, 12, 300, 2]),
]


def first(x):
    return x[0] if isinstance(x, tuple) else x


class Block:
    """What one attention block's ALTI needs, captured by hooks."""

    def __init__(self, attn_mod, v_lin, o_lin, resid_mod, sum_mod, norm, post_ln, sum_is_input=None):
        self.o = o_lin.weight.detach().numpy()  # [E, H·D]
        self.norm = norm
        self.post_ln = post_ln
        self.data = {}

        def pre(_m, args, kwargs):
            self.data["resid"] = (args[0] if args else kwargs["hidden_states"])[0].detach().numpy()

        def value(_m, _i, out):
            self.data["v"] = out[0].detach().numpy()

        resid_mod.register_forward_pre_hook(pre, with_kwargs=True)
        v_lin.register_forward_hook(value)
        if post_ln if sum_is_input is None else sum_is_input:
            # BART/Marian: the LayerNorm's input is residual + attention output (mBART: the next block's norm's).
            sum_mod.register_forward_pre_hook(lambda _m, args: self.data.__setitem__("sum", args[0][0].detach().numpy()))
        else:
            # T5: the sublayer's output is residual + attention output.
            sum_mod.register_forward_hook(lambda _m, _i, out: self.data.__setitem__("sum", first(out)[0].detach().numpy()))


def blocks_of(model, family):
    enc, dec = model.get_encoder(), model.get_decoder()
    H = model.config.num_attention_heads if family != "t5" else model.config.num_heads
    out = {"encoder": [], "self": [], "cross": []}
    if family == "t5":
        for b in enc.block:
            s = b.layer[0]
            out["encoder"].append(Block(s.SelfAttention, s.SelfAttention.v, s.SelfAttention.o, s, s, None, False))
        for b in dec.block:
            s, c = b.layer[0], b.layer[1]
            out["self"].append(Block(s.SelfAttention, s.SelfAttention.v, s.SelfAttention.o, s, s, None, False))
            out["cross"].append(Block(c.EncDecAttention, c.EncDecAttention.v, c.EncDecAttention.o, c, c, None, False))
    elif family == "mbart":
        # Pre-LN: a block's residual is its layer's input (cross: the input of encoder_attn_layer_norm, the self
        # block's sum), its sum the input of the next norm; no norm after the sum.
        for l in enc.layers:
            a = l.self_attn
            out["encoder"].append(Block(a, a.v_proj, a.out_proj, l, l.final_layer_norm, None, False, True))
        for l in dec.layers:
            a, c = l.self_attn, l.encoder_attn
            out["self"].append(Block(a, a.v_proj, a.out_proj, l, l.encoder_attn_layer_norm, None, False, True))
            out["cross"].append(Block(c, c.v_proj, c.out_proj, l.encoder_attn_layer_norm, l.final_layer_norm, None, False, True))
    else:
        for l in enc.layers:
            a = l.self_attn
            out["encoder"].append(Block(a, a.v_proj, a.out_proj, a, l.self_attn_layer_norm, l.self_attn_layer_norm, True))
        for l in dec.layers:
            a, c = l.self_attn, l.encoder_attn
            out["self"].append(Block(a, a.v_proj, a.out_proj, a, l.self_attn_layer_norm, l.self_attn_layer_norm, True))
            out["cross"].append(Block(c, c.v_proj, c.out_proj, c, l.encoder_attn_layer_norm, l.encoder_attn_layer_norm, True))
    return out, H


def alti(block, attn, heads, cross):
    """ALTI of one block: [Q,K] (self: residual in j = i) or [Q,K+1] (cross: the residual last)."""
    v, o, resid, total = block.data["v"], block.o, block.data["resid"], block.data["sum"]
    K = v.shape[0]
    Q, E = total.shape
    D = v.shape[1] // heads
    f = np.stack([v[:, h * D:(h + 1) * D] @ o[:, h * D:(h + 1) * D].T for h in range(heads)], axis=1)  # [K,H,E]
    rows = []
    for i in range(Q):
        terms = [sum(attn[h, i, j] * f[j, h] for h in range(heads)) for j in range(K)]
        if cross:
            terms.append(resid[i].copy())
        else:
            terms[i] = terms[i] + resid[i]
        y = total[i].copy()
        if block.post_ln:
            ln = block.norm
            g, b, eps = ln.weight.detach().numpy(), ln.bias.detach().numpy(), ln.eps
            sd = np.sqrt(np.var(y) + eps)
            y = g * (y - y.mean()) / sd + b
            terms = [g * (t - t.mean()) / sd for t in terms]
        yn = np.abs(y).sum()
        c = np.array([max(0.0, yn - np.abs(y - t).sum()) for t in terms])
        rows.append(c / c.sum() if c.sum() > 0 else c)
    return np.array(rows)


def rollout(layers):
    r = layers[0]
    for c in layers[1:]:
        r = c @ r
    return r


def run(model, src, dec, **kw):
    return model(
        input_ids=torch.tensor([src]),
        attention_mask=torch.ones(1, len(src), dtype=torch.long),
        decoder_input_ids=torch.tensor([dec]),
        use_cache=False,
        **kw,
    )


def rounded(a):
    return [float(f"{v:.12g}") for v in np.asarray(a).reshape(-1).tolist()]


def reference(name, folder, src, dec):
    path = os.path.join(root, folder)
    model = AutoModelForSeq2SeqLM.from_pretrained(path, attn_implementation="eager", dtype=torch.float64).eval()
    family = model.config.model_type
    S, T = len(src), len(dec)
    blocks, H = blocks_of(model, family)
    with torch.no_grad():
        out = run(model, src, dec, output_attentions=True)
    enc_attn = [a[0].numpy() for a in out.encoder_attentions]
    self_attn = [a[0].numpy() for a in out.decoder_attentions]
    cross_attn = [a[0].numpy() for a in out.cross_attentions]
    c_enc = [alti(b, a, H, False) for b, a in zip(blocks["encoder"], enc_attn)]
    c_self = [alti(b, a, H, False) for b, a in zip(blocks["self"], self_attn)]
    c_cross = [alti(b, a, H, True) for b, a in zip(blocks["cross"], cross_attn)]
    # ALTI+: rollout over source + target tokens.
    N = S + T
    r = np.zeros((N, N))
    r[:S, :S] = rollout(c_enc)
    r[S:, S:] = np.eye(T)
    for cs, cc in zip(c_self, c_cross):
        m = np.eye(N)
        m[S:, :] = 0
        m[S:, :S] = cc[:, :S]
        m[S:, S:] = cc[:, S:S + 1] * cs
        r = m @ r

    # Value zeroing through cross-attention, one decoder layer at a time.
    dec_mod = model.get_decoder()
    layers = dec_mod.block if family == "t5" else dec_mod.layers
    cross_v = [b.layer[1].EncDecAttention.v for b in layers] if family == "t5" else [l.encoder_attn.v_proj for l in layers]
    captured = {}
    hooks = [layer.register_forward_hook(lambda _m, _i, o, l=l: captured.__setitem__(l, first(o)[0].detach().numpy().copy()))
             for l, layer in enumerate(layers)]
    with torch.no_grad():
        run(model, src, dec)
    original = dict(captured)
    vz = []
    for l in range(len(layers)):
        c = np.zeros((T, S))
        for j in range(S):
            def zero(_m, _i, o, j=j):
                o = o.clone()
                o[:, j, :] = 0
                return o
            h = cross_v[l].register_forward_hook(zero)
            with torch.no_grad():
                run(model, src, dec)
            h.remove()
            a, b = original[l], captured[l]
            for t in range(T):
                cos = float(a[t] @ b[t] / np.sqrt((a[t] @ a[t]) * (b[t] @ b[t])))
                c[t, j] = max(0.0, 1 - cos)
        vz.append(c / c.sum(axis=1, keepdims=True))
    for h in hooks:
        h.remove()
    import transformers

    record = {
        "model": name,
        "folder": folder,
        "computed_by": "scripts/make-seq2seq-mixing-reference.py (transformers eager attention + numpy, float64)",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "source_ids": src,
        "decoder_input_ids": dec,
        "alti_encoder": [rounded(c) for c in c_enc],
        "alti_self": [rounded(c) for c in c_self],
        "alti_cross": [rounded(c) for c in c_cross],
        "alti_plus_source": rounded(r[S:, :S]),
        "alti_plus_target": rounded(r[S:, S:]),
        "value_zeroing": [rounded(c) for c in vz],
    }
    with open(os.path.join(out_dir, f"seq2seq-{name}.json"), "w") as f:
        json.dump(record, f)
    print(name, "ALTI+ source share per target row:", np.round(r[S:, :S].sum(axis=1), 4))


for case in CASES:
    reference(*case)
