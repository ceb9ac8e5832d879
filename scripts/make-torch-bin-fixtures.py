"""PyTorch checkpoints for runtime/formats/torch-bin.ts's tests (test/fixtures/torch/), written by torch.save itself.

Usage: /work/.venv-ref/bin/python scripts/make-torch-bin-fixtures.py

- synthetic-zip.bin / synthetic-legacy.bin: the same state dict in both layouts torch.save writes (the zip archive of
  PyTorch >= 1.6 and the older pickle-then-storages one, _use_new_zipfile_serialization=False). Every value is
  v(i) = ((7 i) mod 31 - 15) / 4 of its storage's element i (exact in float16 and bfloat16), so the test computes the
  expected numbers from the formula, not from this script: w float32 [4,6]; t = w.T and s = w[1:3], views of w's
  storage (strided, and at an offset); h float16 [5]; b bfloat16 [3,2]; d float64 [2]; pos int64 [3] (i); scalar
  float32 [] = 2.5; p an nn.Parameter [2,2].
- synthetic-deflated.bin: synthetic-zip.bin with its members deflated (torch never writes that; refused).
- sharded/: w and h in pytorch_model-00001-of-00002.bin, b in -00002-, and pytorch_model.bin.index.json.
- tiny-marian-dates.bin: test/fixtures/models/tiny-marian-dates/model.safetensors (a copy of the shared model) as a
  legacy-layout pytorch_model.bin
  (the layout PyTorch wrote before 1.6, when the first Helsinki-NLP/opus-mt uploads were made), shared embeddings stored once as in transformers.

A re-run writes the same tensors, not the same bytes: torch.save names the legacy layout's storages after their
addresses in memory and gives each zip archive a fresh serialization id.
"""
import collections, json, os, sys
import torch
from safetensors.torch import load_file

out = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'torch')
os.makedirs(os.path.join(out, 'sharded'), exist_ok=True)

def v(n, dtype):
    i = torch.arange(n, dtype=torch.float64)
    return (((7 * i) % 31 - 15) / 4).to(dtype)

w = v(24, torch.float32).reshape(4, 6)
sd = collections.OrderedDict()
sd['w'] = w
sd['t'] = w.t()
sd['s'] = w[1:3]
sd['h'] = v(5, torch.float16)
sd['b'] = v(6, torch.bfloat16).reshape(3, 2)
sd['d'] = v(2, torch.float64)
sd['pos'] = torch.arange(3)
sd['scalar'] = torch.tensor(2.5)
sd['p'] = torch.nn.Parameter(v(4, torch.float32).reshape(2, 2))
torch.save(sd, os.path.join(out, 'synthetic-zip.bin'))
torch.save(sd, os.path.join(out, 'synthetic-legacy.bin'), _use_new_zipfile_serialization=False)

import zipfile
with zipfile.ZipFile(os.path.join(out, 'synthetic-zip.bin')) as src, \
        zipfile.ZipFile(os.path.join(out, 'synthetic-deflated.bin'), 'w', zipfile.ZIP_DEFLATED) as dst:
    for info in src.infolist():
        dst.writestr(info.filename, src.read(info.filename))

torch.save(collections.OrderedDict(w=w.clone(), h=sd['h'].clone()), os.path.join(out, 'sharded', 'pytorch_model-00001-of-00002.bin'))
torch.save(collections.OrderedDict(b=sd['b'].clone()), os.path.join(out, 'sharded', 'pytorch_model-00002-of-00002.bin'))
with open(os.path.join(out, 'sharded', 'pytorch_model.bin.index.json'), 'w') as f:
    json.dump({'metadata': {'total_size': 24 * 4 + 5 * 2 + 6 * 2}, 'weight_map': {
        'w': 'pytorch_model-00001-of-00002.bin', 'h': 'pytorch_model-00001-of-00002.bin',
        'b': 'pytorch_model-00002-of-00002.bin'}}, f, indent=2)

marian = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'models', 'tiny-marian-dates', 'model.safetensors')
tensors = load_file(marian)
# transformers ties model.shared, the embed_tokens and lm_head: one storage, saved once, as save_pretrained does.
shared = tensors['model.shared.weight']
state = collections.OrderedDict()
for name, t in tensors.items():
    state[name] = shared if torch.equal(t, shared) and t.shape == shared.shape else t
torch.save(state, os.path.join(out, 'tiny-marian-dates.bin'), _use_new_zipfile_serialization=False)
print(sorted(tensors.keys())[:5], len(tensors), 'tensors;', torch.__version__)
