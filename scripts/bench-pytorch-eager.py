#!/usr/bin/env python3
# PyTorch eager with attention outputs — what BertViz users run — timed on this machine, for issue 15's note (never in
# CI; the product and its tests never use Python). Same models as the runtime's benches, same token ids, 2 threads:
#   - SmolLM2-135M-Instruct from the Q4_1 GGUF (scripts/fetch-model.mjs), dequantised to float32 by transformers' own
#     GGUF reader (as scripts/make-long-reference.py), eager attention, output_attentions=True, at each length of
#     --lengths (default 512,2048,8192) on the ids bench/long-inputs.ts uses (its LCG). Where every layer's maps
#     (layers × heads × n² × 4 bytes: 72 GB at 8,192) would pass --max-maps-gb, the run keeps no maps: eager attention
#     still computes and softmaxes every layer's [heads, n, n] scores (the same work), only the 30-layer tuple is not
#     returned — printed as "maps computed, not returned" (a lower bound on a run that returns them);
#   - all-MiniLM-L6-v2 (.cache/models/all-MiniLM-L6-v2) at 512 tokens, output_attentions=True, on bench/main.ts's ids.
# Median and range of --runs timed runs after --warmup untimed ones (default 1), wall and CPU time (user + system of the
# process, every thread: what a loaded machine inflates far less), the bytes of attention returned and the peak RSS. With
# --runtime LOG (the output of `npx tsx bench/long-inputs.ts ... --modes graph`) the runtime's kept-run rows are
# printed beside PyTorch's.
#
#   nice /work/.venv-ref/bin/python scripts/bench-pytorch-eager.py [--lengths 512,2048,8192] [--runs 3]
#       [--max-maps-gb 8] [--warmup 1] [--skip-minilm] [--runtime /tmp/long-inputs.log] [--profile]
# --profile: after the timed runs of each SmolLM2 length, one more run under torch.profiler, its operators' CPU time
# printed (beside bench/raw-profile.ts's onnxruntime per-op table for the same ids).
import argparse
import os
import re
import resource
import statistics
import time

import torch
from transformers import AutoConfig, AutoModel, AutoModelForCausalLM
from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GGUF_DIR = os.path.join(ROOT, ".cache", "models", "SmolLM2-135M-Instruct-GGUF")
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MINILM = os.path.join(ROOT, ".cache", "models", "all-MiniLM-L6-v2")


def smollm2():
    """from_pretrained(gguf_file=...) without accelerate: transformers' GGUF reader into the config it reads."""
    config = AutoConfig.from_pretrained(GGUF_DIR, gguf_file=GGUF_FILE)
    m = AutoModelForCausalLM.from_config(config, attn_implementation="eager", dtype=torch.float32)
    tensors = load_gguf_checkpoint(os.path.join(GGUF_DIR, GGUF_FILE), return_tensors=True, model_to_load=m)["tensors"]
    missing, unexpected = m.load_state_dict({k: torch.as_tensor(v) for k, v in tensors.items()}, strict=False)
    assert not unexpected and set(missing) <= {"lm_head.weight"}, (missing, unexpected)
    m.tie_weights()
    return m.eval()


def lcg_ids(n: int, vocab: int) -> list:
    """bench/long-inputs.ts's tokens(n, vocab): the same ids."""
    s, out = 12345, []
    for _ in range(n):
        s = (s * 1664525 + 1013904223) % 2**32
        out.append(3 + s % (vocab - 3))
    return out


def xorshift_ids(n: int, lo: int, hi: int, seed: int = 7) -> list:
    """bench/main.ts's randomIds(n, lo, hi): the ids of its all-MiniLM-L6-v2 and SmolLM2 rows."""
    s, out = seed, []
    for _ in range(n):
        s = (s ^ (s << 13)) & 0xFFFFFFFF
        s ^= s >> 17
        s = (s ^ (s << 5)) & 0xFFFFFFFF
        out.append(lo + s % (hi - lo))
    return out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


CPU_MS = []  # per timed run of the last time_runs: the process's CPU time (user + system, every thread), ms


def time_runs(fn, runs: int, warmup: int = 1):
    for _ in range(warmup):
        fn()
    xs = []
    CPU_MS.clear()
    for _ in range(runs):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        xs.append((time.perf_counter() - t0) * 1000)
        CPU_MS.append((time.process_time() - c0) * 1000)
    return xs


def fmt(xs) -> str:
    med = statistics.median(xs)
    unit, k = ("s", 1000) if med >= 10_000 else ("ms", 1)
    return f"{med / k:.1f} {unit} ({min(xs) / k:.1f}–{max(xs) / k:.1f})"


def runtime_rows(path: str) -> dict:
    """n → (run, ratio to raw, kept MB) of bench/long-inputs.ts's 'kept, summaries in graph' rows."""
    rows = {}
    for line in open(path, encoding="utf-8"):
        cells = [c.strip() for c in line.split("|")]
        if len(cells) >= 9 and cells[1] == "kept, summaries in graph" and cells[0].isdigit():
            rows[int(cells[0])] = (cells[3], cells[2], cells[4], cells[7])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lengths", default="512,2048,8192")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--max-maps-gb", type=float, default=8.0)
    ap.add_argument("--runtime", default=None)
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs first (0 at 8,192 tokens, where one is minutes)")
    ap.add_argument("--skip-minilm", action="store_true")
    ap.add_argument("--profile", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(2)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load {os.getloadavg()[0]:.1f}")
    rows = []
    lengths = [int(x) for x in a.lengths.split(",") if x]  # --lengths "": all-MiniLM-L6-v2 only
    model = smollm2() if lengths else None
    cfg = model.config if model else None
    for n in lengths:
        ids = torch.tensor([lcg_ids(n, cfg.vocab_size)])
        maps_gb = cfg.num_hidden_layers * cfg.num_attention_heads * n * n * 4 / 1e9
        keep = maps_gb <= a.max_maps_gb
        returned = [0]

        def run():
            with torch.no_grad():
                out = model(ids, output_attentions=keep, use_cache=False, logits_to_keep=1)
            returned[0] = sum(t.numel() * 4 for t in out.attentions) if keep else 0
            del out

        xs = time_runs(run, a.runs, a.warmup)
        if a.profile:
            from torch.profiler import ProfilerActivity, profile

            with profile(activities=[ProfilerActivity.CPU]) as prof:
                run()
            print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=14), flush=True)
        mode = "output_attentions=True" if keep else f"maps computed, not returned ({maps_gb:.0f} GB)"
        rows.append((n, mode, xs, returned[0], peak_rss_mb()))
        print(f"SmolLM2 {n}: {fmt(xs)}, CPU {fmt(CPU_MS)} [{mode}] attention returned {returned[0] / 2**20:.0f} MB, "
              f"peak RSS {peak_rss_mb():.0f} MB, load {os.getloadavg()[0]:.1f}", flush=True)
    del model
    if not a.skip_minilm:
        m = AutoModel.from_pretrained(MINILM, attn_implementation="eager", dtype=torch.float32).eval()
        ids = torch.tensor([[101] + xorshift_ids(510, 1000, 30000) + [102]])  # bench/main.ts's MiniLM ids
        mask = torch.ones_like(ids)

        def run_minilm():
            with torch.no_grad():
                m(input_ids=ids, attention_mask=mask, output_attentions=True)

        xs = time_runs(run_minilm, max(a.runs, 7))
        print(f"all-MiniLM-L6-v2 512: {fmt(xs)}, CPU {fmt(CPU_MS)} [output_attentions=True], "
              f"load {os.getloadavg()[0]:.1f}", flush=True)
    rt = runtime_rows(a.runtime) if a.runtime else {}
    print("\n| tokens | PyTorch eager | what PyTorch returns | runtime kept run | runtime raw | kept ÷ PyTorch | kept MB |")
    print("| ------ | ------------- | -------------------- | ---------------- | ----------- | -------------- | ------- |")
    for n, mode, xs, _, _ in rows:
        r = rt.get(n)
        if r:
            run_ms = float(re.match(r"[\d.]+", r[0]).group(0))
            ratio = f"{run_ms / statistics.median(xs):.2f}×"
        print(f"| {n} | {fmt(xs)} | {mode} | {r[0] if r else '—'} | {r[1] if r else '—'} | "
              f"{ratio if r else '—'} | {r[3] if r else '—'} |")


if __name__ == "__main__":
    main()
