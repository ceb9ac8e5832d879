#!/usr/bin/env python3
# Writes test/fixtures/gguf/dequant-blocks.json: for every ggml type Attention Lens reads, raw blocks and the float32
# values that the gguf package's reference dequantizer (gguf.quants.dequantize, the code transformers uses to load
# GGUF) gives for them. Blocks are (1) real ones from SmolLM2-135M-Instruct.Q4_1.gguf where the file has the type
# (Q4_1, Q8_0, F32), (2) real SmolLM2 weights quantized by gguf.quants.quantize where it can quantize the type,
# and (3) random bytes with valid (finite, positive) fp16 scales and minimums, which reach every bit pattern of
# the quantized values and the packed 6-bit scales. Values are stored as base64 little-endian float32, so the test
# compares bit for bit.
#
#   /work/.venv-ref/bin/python scripts/make-gguf-dequant-fixture.py   (numpy, gguf; run `node scripts/fetch-model.mjs`)
import base64
import json
import os

import gguf
import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMOL = os.path.join(ROOT, ".cache", "models", "SmolLM2-135M-Instruct-GGUF", "SmolLM2-135M-Instruct.Q4_1.gguf")
OUT = os.path.join(ROOT, "test", "fixtures", "gguf", "dequant-blocks.json")

TYPES = ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]
# Byte offsets of the fp16 scale/minimum fields inside one block (ggml's block structs).
F16_FIELDS = {
    "Q4_0": [0], "Q4_1": [0, 2], "Q5_0": [0], "Q5_1": [0, 2], "Q8_0": [0],
    "Q2_K": [80, 82], "Q3_K": [108], "Q4_K": [0, 2], "Q5_K": [0, 2], "Q6_K": [208],
}

rng = np.random.default_rng(20240614)
reader = gguf.GGUFReader(SMOL)
tensors = {t.name: t for t in reader.tensors}


def b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def entry(qtype: T, raw: np.ndarray, source: str) -> dict:
    raw = np.ascontiguousarray(raw, dtype=np.uint8).reshape(-1)
    values = gguf.quants.dequantize(raw, qtype).astype(np.float32).reshape(-1)
    assert np.all(np.isfinite(values)), (qtype.name, source)
    return {"source": source, "count": int(values.size), "raw": b64(raw), "values": b64(values.astype("<f4"))}


def random_blocks(name: str, n: int) -> np.ndarray:
    qtype = T[name]
    block, size = GGML_QUANT_SIZES[qtype]
    if name in ("F32", "F16", "BF16"):
        x = (rng.standard_normal(64) * 3).astype(np.float32)
        return gguf.quants.quantize(x, qtype).view(np.uint8) if name != "F32" else x.view(np.uint8)
    raw = rng.integers(0, 256, size=(n, size), dtype=np.uint8)
    for off in F16_FIELDS[name]:
        scale = (rng.uniform(0.25, 2.0, size=n) * 2.0 ** rng.integers(-12, 1, size=n)).astype(np.float16)
        raw[:, off : off + 2] = scale.view(np.uint8).reshape(n, 2)
    return raw


out = {"generator": "scripts/make-gguf-dequant-fixture.py", "gguf": gguf.__version__ if hasattr(gguf, "__version__") else "0.19", "types": {}}
weights = gguf.quants.dequantize(tensors["blk.0.ffn_gate.weight"].data, T.Q4_1).reshape(-1)[:256].astype(np.float32)
for name in TYPES:
    qtype = T[name]
    block, size = GGML_QUANT_SIZES[qtype]
    cases = []
    # (1) real blocks of that type in the SmolLM2 file
    real = {"Q4_1": "blk.3.attn_q.weight", "Q8_0": "token_embd.weight", "F32": "blk.3.attn_norm.weight"}.get(name)
    if real:
        data = tensors[real].data.reshape(-1).view(np.uint8)
        cases.append(entry(qtype, data[: 4 * size if block > 1 else 64 * size], f"SmolLM2 {real}, first bytes"))
    # (2) SmolLM2 weights quantized by gguf-py, where it implements quantize for the type
    try:
        q = gguf.quants.quantize(weights[: max(block, (256 // block) * block)], qtype)
        cases.append(entry(qtype, q.view(np.uint8), "SmolLM2 blk.0.ffn_gate values quantized by gguf.quants.quantize"))
    except (NotImplementedError, gguf.quants.QuantError, TypeError):
        pass
    # (3) random blocks with valid scales
    cases.append(entry(qtype, random_blocks(name, 6), "random bytes, finite positive fp16 scales"))
    out["types"][name] = {"id": int(qtype), "blockSize": block, "typeSize": size, "cases": cases}

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT + ".tmp", "w") as f:
    json.dump(out, f, indent=1)
os.replace(OUT + ".tmp", OUT)
print(OUT, os.path.getsize(OUT), "bytes")
