"""A Marian-base-shaped model with random weights, exported by optimum's real ONNX exporter with a key/value cache.

Why: issue 17's target (attention streamed at <= 1.15x raw onnxruntime, teacher-forced and KV-cached greedy) must
hold on a model of opus-mt's size, where a cached step costs milliseconds, not only on tiny-marian-dates (0.3 ms a
step, where the taps' fixed cost dominates). Helsinki-NLP/opus-mt-* models are Marian "base": 6 + 6 layers, 8 heads,
d_model 512, FFN 2048, swish, static sinusoidal positions (max 512). This script builds that shape with seeded random
weights (torch.manual_seed(17); transformers' own init, std 0.02; a random non-zero final_logits_bias as trained
models have) and tiny-marian-dates' tokenizer and special ids (vocabulary 400: the step's logits are then cheaper
than opus-mt's 58k, so the taps' share is, if anything, overstated), and writes, under --out (default .cache/models,
git-ignored; never committed, never needed by CI):
  marian-base-random/               the Hugging Face folder (config.json, model.safetensors, tokenizer files)
  marian-base-random-onnx-past/     encoder_model + decoder_model + decoder_with_past_model (--no-post-process)
  marian-base-random-onnx-merged/   encoder_model + decoder_model_merged (optimum's default post-processing)
Each export is optimum.exporters.onnx.onnx_export_from_model on the model loaded with attn_implementation="eager"
(every attention a plain Softmax), task text2text-generation-with-past, opset 18, with the exporter's own validation
against PyTorch. Used by `npx tsx bench/seq2seq-onnx.ts` (and `bench/seq2seq.ts --base-dir`).

--fixture instead writes the small committed check of the same shape per layer (d_model 512, 8 heads of 64), for
test/unit/runtime/onnx/seq2seq-base-shape-import.test.ts: test/fixtures/models/marian-d512-onnx-merged/ — 1 encoder
+ 1 decoder layer, FFN 128, init_std 0.05 (attention peaked enough that a wrong head split would show), every weight
rounded to a multiple of 1/128 (exact in float32, so git's zlib packs the 15 MB of float32 a few times smaller),
exported in optimum's merged layout, plus reference_attention.json from transformers (eager attention): the source
of tiny-marian-dates' reference, greedy decoding by hand (argmax of the raw logits, <pad> banned as the import does,
use_cache=False, every margin between the best two logits checked > 1e-3 so float error cannot flip a token), and
the teacher-forced pass over [decoder_start] + greedy[:-1] with output_attentions.
Run with the optimum venv (optimum-onnx 0.1.0, transformers 4.57.6, torch 2.15; never /work/.venv-ref, never CI):
  /work/.venv-optimum/bin/python scripts/make-marian-base-onnx.py [--out DIR] [--fixture]
"""

import json

import argparse
import os
import shutil
import sys
import tempfile

import torch
from optimum.exporters.onnx import onnx_export_from_model
from transformers import MarianConfig, MarianMTModel

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKENIZER = os.path.join(ROOT, "test/fixtures/models/tiny-marian-dates")
TOKENIZER_FILES = [
    "generation_config.json",
    "source.spm",
    "target.spm",
    "vocab.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
]
# opus-mt-en-de's shape (Marian base), on tiny-marian-dates' vocabulary and special ids.
BASE_SHAPE = dict(
    d_model=512,
    encoder_layers=6,
    decoder_layers=6,
    encoder_attention_heads=8,
    decoder_attention_heads=8,
    encoder_ffn_dim=2048,
    decoder_ffn_dim=2048,
    max_position_embeddings=512,
)
SEED = 17
# The committed check: Marian base's attention shape (d 512, 8 heads of 64) in one layer each, small FFN.
FIXTURE_SHAPE = dict(
    d_model=512,
    encoder_layers=1,
    decoder_layers=1,
    encoder_attention_heads=8,
    decoder_attention_heads=8,
    encoder_ffn_dim=128,
    decoder_ffn_dim=128,
    max_position_embeddings=64,
    init_std=0.05,
)
FIXTURE_GRID = 128.0
FIXTURE_STEPS = 8


def build_model(shape: dict, seed: int) -> MarianMTModel:
    """tiny-marian-dates' config with `shape` swapped in, random weights from `seed`."""
    config = MarianConfig.from_pretrained(TOKENIZER)
    for k, v in shape.items():
        setattr(config, k, v)
    config.dropout = 0.0
    config._attn_implementation = "eager"
    torch.manual_seed(seed)
    model = MarianMTModel(config).eval()
    with torch.no_grad():
        model.final_logits_bias.normal_(0.0, 0.5)
    return model


def round_to_grid(model: MarianMTModel, grid: float) -> None:
    """Every weight and final_logits_bias rounded to a multiple of 1/grid (exact in float32); not the sinusoidal
    position tables, which are not saved but rebuilt at load."""
    with torch.no_grad():
        for name, p in [*model.named_parameters(), ("final_logits_bias", model.final_logits_bias)]:
            if "embed_positions" not in name:
                p.copy_(torch.round(p * grid) / grid)


def reference(model: MarianMTModel, out: str) -> None:
    """transformers' greedy target and teacher-forced attention for tiny-marian-dates' reference source."""
    tiny = json.load(open(os.path.join(TOKENIZER, "reference_attention.json")))
    config = model.config
    src = torch.tensor([tiny["source_ids"]])
    start, pad, eos = config.decoder_start_token_id, config.pad_token_id, config.eos_token_id
    target: list[int] = []
    margins: list[float] = []
    with torch.no_grad():
        for _ in range(FIXTURE_STEPS):
            dec = torch.tensor([[start, *target]])
            logits = model(input_ids=src, decoder_input_ids=dec, use_cache=False).logits[0, -1].clone()
            logits[pad] = -float("inf")
            top = torch.topk(logits, 2)
            margins.append(float(top.values[0] - top.values[1]))
            target.append(int(top.indices[0]))
            if target[-1] == eos:
                break
        if min(margins) <= 1e-3:
            raise SystemExit(f"greedy margins {margins}: a near tie; pick another seed")
        dec_in = [start, *target[:-1]]
        o = model(
            input_ids=src,
            decoder_input_ids=torch.tensor([dec_in]),
            use_cache=False,
            output_attentions=True,
        )
    logp = torch.log_softmax(o.logits[0], -1)
    attn = lambda xs: [x[0].tolist() for x in xs]  # [layer][head][query][key]
    ref = {
        "model": "marian-d512 (MarianMTModel, random weights: 1 encoder + 1 decoder layer, 8 heads, d_model 512, FFN 128)",
        "computed_with": f"transformers {__import__('transformers').__version__}, torch {torch.__version__}, CPU, "
        "float32, eval mode, attn_implementation='eager', output_attentions=True, use_cache=False",
        "procedure": "target_ids: greedy by hand, argmax of the raw logits with <pad> (399) banned, "
        f"{FIXTURE_STEPS} steps or until </s>, each step a full forward pass without a cache; then ONE "
        "teacher-forced pass with decoder_input_ids = [decoder_start_token_id] + target_ids[:-1].",
        "source_text": tiny["source_text"],
        "source_ids": tiny["source_ids"],
        "decoder_start_token_id": start,
        "target_ids": target,
        "greedy_margins": margins,
        "decoder_input_ids": dec_in,
        "target_logprobs": [float(logp[i, t]) for i, t in enumerate(target)],
        "encoder_attentions": attn(o.encoder_attentions),
        "decoder_attentions": attn(o.decoder_attentions),
        "cross_attentions": attn(o.cross_attentions),
    }
    with open(os.path.join(out, "reference_attention.json"), "w") as f:
        json.dump(ref, f)
        f.write("\n")


def make_fixture() -> None:
    model = build_model(FIXTURE_SHAPE, SEED)
    round_to_grid(model, FIXTURE_GRID)
    out = os.path.join(ROOT, "test/fixtures/models/marian-d512-onnx-merged")
    with tempfile.TemporaryDirectory() as folder:
        save_folder(model, folder)
        export(folder, True, ["encoder_model.onnx", "decoder_model_merged.onnx"], out)
        # The reference from the saved folder, loaded as a user would: what the export was made from.
        reference(MarianMTModel.from_pretrained(folder, attn_implementation="eager").eval(), out)


def save_folder(model: MarianMTModel, out: str) -> None:
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out)
    for name in TOKENIZER_FILES:
        shutil.copyfile(os.path.join(TOKENIZER, name), os.path.join(out, name))


def export(folder: str, post_process: bool, keep: list[str], out: str) -> None:
    model = MarianMTModel.from_pretrained(folder, attn_implementation="eager").eval()
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
    for name in ["config.json", *TOKENIZER_FILES]:
        shutil.copyfile(os.path.join(folder, name), os.path.join(out, name))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(ROOT, ".cache/models"))
    parser.add_argument("--fixture", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(2)
    if args.fixture:
        make_fixture()
        return
    folder = os.path.join(args.out, "marian-base-random")
    save_folder(build_model(BASE_SHAPE, SEED), folder)
    export(
        folder,
        False,
        ["encoder_model.onnx", "decoder_model.onnx", "decoder_with_past_model.onnx"],
        os.path.join(args.out, "marian-base-random-onnx-past"),
    )
    export(
        folder,
        True,
        ["encoder_model.onnx", "decoder_model_merged.onnx"],
        os.path.join(args.out, "marian-base-random-onnx-merged"),
    )


if __name__ == "__main__":
    main()
