#!/usr/bin/env python3
# The torch side of bench/gemm-micro.ts (issue 15: are PyTorch's GEMMs faster than onnxruntime's on this CPU?). One
# round: each GEMM shape of SmolLM2's layer at 512 tokens timed as HF runs it (F.linear over an [out, in] weight, i.e.
# x · Wᵀ; torch.matmul for the batched scores), 2 threads, float32, `--iters` calls per sample, `--samples` samples;
# prints one JSON line per shape: wall and CPU ms per call (median), and what torch is configured to call. Never in CI.
#   nice /work/.venv-ref/bin/python scripts/gemm-torch.py --shapes '[[512,576,576],...]' [--iters 20] [--samples 5]
import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--shapes", required=True)  # JSON: [[M, K, N], ...] or [[batch, M, K, N], ...] for batched
p.add_argument("--iters", type=int, default=20)
p.add_argument("--samples", type=int, default=5)
p.add_argument("--info", action="store_true")
a = p.parse_args()
torch.set_num_threads(2)
torch.manual_seed(0)
if a.info:
    print(json.dumps({
        "torch": torch.__version__,
        "mkldnn_enabled": torch.backends.mkldnn.enabled,
        "mkl": torch.backends.mkl.is_available(),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "mkldnn_matmul_fp32_precision": getattr(getattr(torch.backends.mkldnn, "matmul", None), "fp32_precision", "?"),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "threads": torch.get_num_threads(),
    }))
with torch.inference_mode():
    for shape in json.loads(a.shapes):
        if len(shape) == 3:
            m, k, n = shape
            x = torch.randn(m, k)
            w = torch.randn(n, k)  # HF Linear weight [out, in]
            fn = lambda: F.linear(x, w)  # noqa: E731
            flops = 2 * m * k * n
        else:
            b, m, k, n = shape
            x = torch.randn(b, m, k)
            y = torch.randn(b, k, n)
            fn = lambda: torch.matmul(x, y)  # noqa: E731
            flops = 2 * b * m * k * n
        fn()
        wall, cpu = [], []
        for _ in range(a.samples):
            c0, t0 = time.process_time(), time.perf_counter()
            for _ in range(a.iters):
                fn()
            wall.append((time.perf_counter() - t0) * 1000 / a.iters)
            cpu.append((time.process_time() - c0) * 1000 / a.iters)
        print(json.dumps({"shape": shape, "flops": flops, "wall_ms": statistics.median(wall), "cpu_ms": statistics.median(cpu)}))
