"""Export test/fixtures/models/tiny-marian-dates to optimum's encoder/decoder ONNX layout.

Why: the ONNX import (runtime/onnx/) must be checked on an optimum-style encoder_model.onnx + decoder_model.onnx pair
of a real translation model. optimum is not in the reference venv, so this writes the same layout with
torch.onnx.export (TorchScript exporter), eager attention so every attention is a plain Softmax:
  encoder_model.onnx: input_ids [batch, src], attention_mask [batch, src] -> last_hidden_state [batch, src, d]
  decoder_model.onnx: input_ids [batch, tgt], encoder_hidden_states [batch, src, d],
                      encoder_attention_mask [batch, src] -> logits [batch, tgt, vocab]   (no KV cache)
Run with /work/.venv-ref/bin/python scripts/make-marian-onnx-fixture.py (never in CI).
"""

import os
import shutil
import sys

import torch
from transformers import MarianMTModel

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "test/fixtures/models/tiny-marian-dates")
OUT = os.path.join(ROOT, "test/fixtures/models/tiny-marian-dates-onnx")


class Encoder(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.encoder = model.get_encoder()

    def forward(self, input_ids, attention_mask):
        return self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


class Decoder(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.decoder = model.get_decoder()
        self.lm_head = model.lm_head
        self.register_buffer("final_logits_bias", model.final_logits_bias.detach().clone())

    def forward(self, input_ids, encoder_hidden_states, encoder_attention_mask):
        hidden = self.decoder(
            input_ids=input_ids,
            encoder_hidden_states=encoder_hidden_states,
            encoder_attention_mask=encoder_attention_mask,
            use_cache=False,
        ).last_hidden_state
        return self.lm_head(hidden) + self.final_logits_bias


def main():
    model = MarianMTModel.from_pretrained(SRC, attn_implementation="eager").eval()
    os.makedirs(OUT, exist_ok=True)
    ids = torch.tensor([[5, 6, 7, 8, 0]], dtype=torch.long)
    mask = torch.ones_like(ids)
    dec = torch.tensor([[399, 5, 6]], dtype=torch.long)
    with torch.no_grad():
        hidden = Encoder(model)(ids, mask)
        torch.onnx.export(
            Encoder(model),
            (ids, mask),
            os.path.join(OUT, "encoder_model.onnx"),
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": {0: "batch_size", 1: "encoder_sequence_length"},
                "attention_mask": {0: "batch_size", 1: "encoder_sequence_length"},
                "last_hidden_state": {0: "batch_size", 1: "encoder_sequence_length"},
            },
            opset_version=17,
            dynamo=False,
        )
        torch.onnx.export(
            Decoder(model),
            (dec, hidden, mask),
            os.path.join(OUT, "decoder_model.onnx"),
            input_names=["input_ids", "encoder_hidden_states", "encoder_attention_mask"],
            output_names=["logits"],
            dynamic_axes={
                "input_ids": {0: "batch_size", 1: "decoder_sequence_length"},
                "encoder_hidden_states": {0: "batch_size", 1: "encoder_sequence_length"},
                "encoder_attention_mask": {0: "batch_size", 1: "encoder_sequence_length"},
                "logits": {0: "batch_size", 1: "decoder_sequence_length"},
            },
            opset_version=17,
            dynamo=False,
        )
    for name in [
        "config.json",
        "generation_config.json",
        "source.spm",
        "target.spm",
        "vocab.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
    ]:
        shutil.copyfile(os.path.join(SRC, name), os.path.join(OUT, name))
    print("wrote", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
