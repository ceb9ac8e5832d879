#!/usr/bin/env python3
# Is PyTorch eager's float32 run as exact as ours? (issue 15: a PyTorch that computed float32 matmuls in bf16/TF32
# on AMX would be faster for a reason that breaks the 1e-5 every value shown keeps, and would not be comparable.)
# Prints what torch calls for float32 matmuls (the precision settings; `MKL_VERBOSE=1` prints SGEMM per call), then
# runs SmolLM2-135M (the GGUF as scripts/bench-pytorch-eager.py loads it) at --n tokens on the bench's ids in float32
# and float64, eager attention, output_attentions=True, 2 threads, and prints the largest |p32 − p64| over every
# layer's map and of the last hidden state. Outside CI; nothing committed from it but the figures quoted in README.
#   nice /work/.venv-ref/bin/python scripts/pytorch-exactness.py [--n 512]
import argparse
import importlib.util
import os

import torch

spec = importlib.util.spec_from_file_location(
    "bench", os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench-pytorch-eager.py")
)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

ap = argparse.ArgumentParser()
ap.add_argument("--n", type=int, default=512)
a = ap.parse_args()
torch.set_num_threads(2)
print(
    f"torch {torch.__version__}: float32_matmul_precision={torch.get_float32_matmul_precision()}, "
    f"mkldnn matmul fp32_precision={getattr(getattr(torch.backends.mkldnn, 'matmul', None), 'fp32_precision', '?')}, "
    f"cpu capability {torch.backends.cpu.get_cpu_capability()}"
)
model = bench.smollm2()
ids = torch.tensor([bench.lcg_ids(a.n, model.config.vocab_size)])
with torch.no_grad():
    o32 = model(ids, output_attentions=True, output_hidden_states=True, use_cache=False, logits_to_keep=1)
    m64 = model.double()
    o64 = m64(ids, output_attentions=True, output_hidden_states=True, use_cache=False, logits_to_keep=1)
worst = max((p32.double() - p64).abs().max().item() for p32, p64 in zip(o32.attentions, o64.attentions))
hidden = (o32.hidden_states[-1].double() - o64.hidden_states[-1]).abs().max().item()
print(f"SmolLM2 {a.n} tokens, PyTorch eager float32 vs float64: max |Δp| over 30 layers' maps {worst:.2e}, "
      f"max |Δ last hidden| {hidden:.2e}")
