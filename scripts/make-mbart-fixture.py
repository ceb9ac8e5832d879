"""test/fixtures/models/hf-tiny/mbart: a random-weight MBartForConditionalGeneration with transformers' reference
attention, in the format of the other hf-tiny encoder-decoders (../shared/models/hf-tiny/README.md).

Usage: /work/.venv-ref/bin/python scripts/make-mbart-fixture.py

What mBART changes from BART (runtime/models/bart.ts): pre-LN layers (the norm before each block), a final
layer_norm on both stacks, embeddings x sqrt(d_model) (scale_embedding); and, given labels, transformers' mBART
builds the decoder inputs by moving the last non-pad label (the language code mBART's tokenizer puts last) to the
front instead of putting decoder_start_token_id there. The tokenizer is hf-tiny/bart's BPE with one added token,
ro_RO (id 521), and mBART's template: every text ends with </s> ro_RO (MBartTokenizer's suffix). decoder_start_token_id
is 2 (</s>), so the two rules give different decoder inputs and the test can tell them apart.
"""
import json, os
import torch
from transformers import AutoTokenizer, MBartConfig, MBartForConditionalGeneration, PreTrainedTokenizerFast
from transformers.models.mbart.modeling_mbart import shift_tokens_right

root = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'models', 'hf-tiny')
out = os.path.join(root, 'mbart')
os.makedirs(out, exist_ok=True)

tj = json.load(open(os.path.join(root, 'bart', 'tokenizer.json')))
lang = max(max(tj['model']['vocab'].values()), max(t['id'] for t in tj['added_tokens'])) + 1
tj['added_tokens'].append({'id': lang, 'content': 'ro_RO', 'single_word': False, 'lstrip': False, 'rstrip': False,
                           'normalized': False, 'special': True})
tj['post_processor'] = {
    'type': 'TemplateProcessing',
    'single': [{'Sequence': {'id': 'A', 'type_id': 0}}, {'SpecialToken': {'id': '</s>', 'type_id': 0}},
               {'SpecialToken': {'id': 'ro_RO', 'type_id': 0}}],
    'pair': [{'Sequence': {'id': 'A', 'type_id': 0}}, {'Sequence': {'id': 'B', 'type_id': 0}},
             {'SpecialToken': {'id': '</s>', 'type_id': 0}}, {'SpecialToken': {'id': 'ro_RO', 'type_id': 0}}],
    'special_tokens': {'</s>': {'id': '</s>', 'ids': [2], 'tokens': ['</s>']},
                       'ro_RO': {'id': 'ro_RO', 'ids': [lang], 'tokens': ['ro_RO']}},
}
json.dump(tj, open(os.path.join(out, 'tokenizer.json'), 'w'), ensure_ascii=False)
tc = json.load(open(os.path.join(root, 'bart', 'tokenizer_config.json')))
json.dump(tc, open(os.path.join(out, 'tokenizer_config.json'), 'w'), indent=2)
tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(out, 'tokenizer.json'), **{k: v for k, v in tc.items() if k.endswith('_token')})

torch.manual_seed(1009)
config = MBartConfig(vocab_size=lang + 1, d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
                     decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=64,
                     scale_embedding=True, pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2,
                     forced_eos_token_id=2, dropout=0.0, attention_dropout=0.0, activation_dropout=0.0)
model = MBartForConditionalGeneration(config).eval()
# Non-trivial norms and biases (init gives ones and zeros, which would hide a missing or misplaced norm).
with torch.no_grad():
    for name, p in model.named_parameters():
        if 'layer_norm' in name or 'layernorm' in name:
            p.add_(torch.randn_like(p) * 0.2)
    model.final_logits_bias.add_(torch.randn_like(model.final_logits_bias) * 0.1)
    model.final_logits_bias[0, 2] -= 4.0  # </s> less likely, so that greedy decoding runs its 10 tokens
model.save_pretrained(out)
os.chmod(os.path.join(out, 'model.safetensors'), 0o644)
model = MBartForConditionalGeneration.from_pretrained(out, attn_implementation='eager', dtype=torch.float32).eval()

source = 'The library opens at nine, and the reading room is upstairs.'
target = 'The library is open from nine to six.'
ids = tok(source).input_ids
labels = tok(text_target=target).input_ids
assert labels[-2:] == [2, lang], labels
dec = shift_tokens_right(torch.tensor([labels]), config.pad_token_id)[0].tolist()
assert dec[0] == lang and dec != [2] + labels[:-1]
with torch.no_grad():
    o = model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels]), output_attentions=True)
    gen = model.generate(torch.tensor([ids]), max_new_tokens=10, num_beams=1, do_sample=False)[0].tolist()
    logp = torch.log_softmax(o.logits[0, -1], -1)
    top = torch.topk(logp, 5)
g9 = lambda t: [[[[float(f'{x:.9g}') for x in row] for row in head] for head in layer] for layer in (a[0].tolist() for a in t)]
ref = {
    'family': 'mbart', 'model_class': 'MBartForConditionalGeneration', 'variant_seed': 1009,
    'weights': 'random (torch.manual_seed(1009)), layer norms and final_logits_bias perturbed; float32; not a trained model',
    'computed_by': f'Hugging Face transformers (torch {torch.__version__}), this folder reloaded with from_pretrained(..., '
                   "attn_implementation='eager', dtype=float32), output_attentions=True, CPU; scripts/make-mbart-fixture.py",
    'highlights': "mBART: pre-LN blocks, final layer_norm on both stacks, layernorm_embedding, embeddings x sqrt(d_model), "
                  "learned positions with offset 2; labels' last non-pad token (ro_RO) moved to the front as the first decoder input",
    'source_text': source, 'target_text': target, 'input_ids': ids, 'tokens': tok.convert_ids_to_tokens(ids),
    'labels': labels, 'decoder_input_ids': dec, 'decoder_tokens': tok.convert_ids_to_tokens(dec),
    'decoder_input_ids_note': "transformers' mBART shift_tokens_right(labels, pad_token_id): the last non-pad label first",
    'generated_ids': gen,
    'generated_note': 'model.generate(input_ids, max_new_tokens=10, num_beams=1, do_sample=False): decoder start first',
    'encoder_attentions': g9(o.encoder_attentions), 'decoder_attentions': g9(o.decoder_attentions),
    'cross_attentions': g9(o.cross_attentions),
    'top5_last': {'ids': top.indices.tolist(), 'logprobs': [float(f'{x:.9g}') for x in top.values.tolist()]},
}
json.dump(ref, open(os.path.join(out, 'reference_attention.json'), 'w'))
print('labels', labels, 'decoder inputs', dec, 'generated', gen, 'files', sorted(os.listdir(out)))
