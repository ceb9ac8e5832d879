"""test/fixtures/models/tiny-mbart50-onnx-past: optimum's ONNX export (with a key/value cache) of a tiny mBART-50.

Why: an imported encoder–decoder export must translate into the language a run asks for as transformers does
(RunOptions.targetLanguage: mBART-50 forces the code as its first generated token), and read its source in another
(sourceLanguage). The model is hf-tiny/mbart's random weights beside transformers' own MBart50Tokenizer of
test/fixtures/tokenizers/mbart/mbart-50 — the same pair scripts/make-mbart-language-fixture.py puts together, so the
references of test/fixtures/generate/mbart-languages.json (made with transformers 5.25 on the safetensors) are this
export's too. Exported by optimum.exporters.onnx.onnx_export_from_model on the model loaded with
attn_implementation="eager" (every attention a plain Softmax), task text2text-generation-with-past, opset 18, without
post-processing (encoder_model + decoder_model + decoder_with_past_model), with the exporter's own validation.
Run with the optimum venv (never CI): /work/.venv-optimum/bin/python scripts/make-mbart50-onnx.py
"""

import os
import shutil
import sys
import tempfile

import torch
from optimum.exporters.onnx import onnx_export_from_model
from transformers import MBartForConditionalGeneration

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "test/fixtures")
OUT = os.path.join(FIXTURES, "models/tiny-mbart50-onnx-past")
MODEL_FILES = ["config.json", "generation_config.json", "model.safetensors"]
TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json"]
KEEP = ["encoder_model.onnx", "decoder_model.onnx", "decoder_with_past_model.onnx"]


def main() -> None:
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryDirectory() as tmp:
        for f in MODEL_FILES:
            shutil.copyfile(os.path.join(FIXTURES, "models/hf-tiny/mbart", f), os.path.join(folder, f))
        for f in TOKENIZER_FILES:
            shutil.copyfile(os.path.join(FIXTURES, "tokenizers/mbart/mbart-50", f), os.path.join(folder, f))
        model = MBartForConditionalGeneration.from_pretrained(folder, attn_implementation="eager").eval()
        onnx_export_from_model(
            model, tmp, task="text2text-generation-with-past", opset=18, no_post_process=True, do_validation=True
        )
        print("exported:", sorted(os.listdir(tmp)), file=sys.stderr)
        os.makedirs(OUT, exist_ok=True)
        for name in KEEP:
            shutil.copyfile(os.path.join(tmp, name), os.path.join(OUT, name))
        for name in ["config.json", "generation_config.json", *TOKENIZER_FILES]:
            shutil.copyfile(os.path.join(folder, name), os.path.join(OUT, name))
    print(sorted(os.listdir(OUT)))


if __name__ == "__main__":
    main()
