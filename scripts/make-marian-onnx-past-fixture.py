"""Export test/fixtures/models/tiny-marian-dates with optimum's real ONNX exporter, with a key/value cache.

Why: the ONNX import (runtime/onnx/) must load and translate optimum's exports that carry a KV cache, in both of the
layouts optimum writes for `--task text2text-generation-with-past`:
  tiny-marian-dates-onnx-past/:   encoder_model.onnx + decoder_model.onnx + decoder_with_past_model.onnx
                                  (optimum's `--no-post-process`: the decoders left unmerged)
  tiny-marian-dates-onnx-merged/: encoder_model.onnx + decoder_model_merged.onnx (optimum's default post-processing:
                                  both decoders merged into one graph behind an If on `use_cache_branch`)
The model is loaded with attn_implementation="eager" so every attention is a plain Softmax, then handed to
optimum.exporters.onnx.onnx_export_from_model (optimum-onnx 0.1.0, optimum 2.1.0, transformers 4.57.6, torch 2.15;
onnxruntime 1.32 for the exporter's own validation against PyTorch; opset 18, the exporter's minimum for marian).
Run with a venv that has optimum-onnx (never /work/.venv-ref, never in CI):
  python3 -m venv --system-site-packages /work/.venv-optimum && /work/.venv-optimum/bin/pip install optimum-onnx
  /work/.venv-optimum/bin/python scripts/make-marian-onnx-past-fixture.py
"""

import os
import shutil
import sys
import tempfile

from optimum.exporters.onnx import onnx_export_from_model
from transformers import MarianMTModel

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "test/fixtures/models/tiny-marian-dates")
MODELS = os.path.join(ROOT, "test/fixtures/models")
SIDE_FILES = [
    "config.json",
    "generation_config.json",
    "source.spm",
    "target.spm",
    "vocab.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
]


def export(post_process: bool, keep: list[str], out: str) -> None:
    model = MarianMTModel.from_pretrained(SRC, attn_implementation="eager").eval()
    with tempfile.TemporaryDirectory() as tmp:
        onnx_export_from_model(
            model,
            tmp,
            task="text2text-generation-with-past",
            opset=18,
            no_post_process=not post_process,
            do_validation=True,
        )
        print(out, "exported:", sorted(os.listdir(tmp)), file=sys.stderr)
        os.makedirs(out, exist_ok=True)
        for name in keep:
            shutil.copyfile(os.path.join(tmp, name), os.path.join(out, name))
    for name in SIDE_FILES:
        shutil.copyfile(os.path.join(SRC, name), os.path.join(out, name))


def main():
    export(
        False,
        ["encoder_model.onnx", "decoder_model.onnx", "decoder_with_past_model.onnx"],
        os.path.join(MODELS, "tiny-marian-dates-onnx-past"),
    )
    export(True, ["encoder_model.onnx", "decoder_model_merged.onnx"], os.path.join(MODELS, "tiny-marian-dates-onnx-merged"))


if __name__ == "__main__":
    main()
