"""test/fixtures/tokenizers/mbart/: tokenizer folders made by transformers' own MBartTokenizer and MBart50Tokenizer
(on hf-tiny/t5's small Unigram vocabulary, with their language codes added as they add them), and the ids transformers
gives for a few sources and for targets (tokenizer(text_target=...): the target language's code, where mBART puts
it: last for mBART, first for mBART-50), with tokenizer_config.json's languages and with two other pairs, in
reference.json. Read by test/unit/runtime/tokenizers/mbart.test.ts.

Usage: /work/.venv-ref/bin/python scripts/make-mbart-tokenizer-fixtures.py
"""
import json, os
from transformers import MBart50Tokenizer, MBartTokenizer

root = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures')
out = os.path.join(root, 'tokenizers', 'mbart')
t5 = json.load(open(os.path.join(root, 'models', 'hf-tiny', 't5', 'tokenizer.json')))
# The Unigram pieces after the specials (<pad> </s> <unk>): mBART's vocabulary starts with its own four.
vocab = [(p, s) for p, s in t5['model']['vocab'] if p not in ('<pad>', '</s>', '<unk>')]
texts = ['The library opens at nine.', 'Hello world', 'a b c, d e f!']
reference = {'what': 'ids of transformers\' MBartTokenizer / MBart50Tokenizer (transformers 5.25): tok(text) and '
                     'tok(text_target=text)', 'folders': {}}
for name, cls, src, tgt in [('mbart-cc25', MBartTokenizer, 'en_XX', 'ro_RO'), ('mbart-50', MBart50Tokenizer, 'en_XX', 'fr_XX')]:
    folder = os.path.join(out, name)
    tok = cls(vocab=[('<s>', 0.0), ('<pad>', 0.0), ('</s>', 0.0), ('<unk>', 0.0)] + vocab, src_lang=src, tgt_lang=tgt)
    tok.save_pretrained(folder)
    tok = cls.from_pretrained(folder)
    cases = []
    for text in texts:
        cases.append({'text': text, 'source_ids': tok(text).input_ids, 'target_ids': tok(text_target=text).input_ids})
    # Other languages than tokenizer_config.json's, as a run asks for them (src_lang / tgt_lang set on the tokenizer).
    languages = []
    for other_src, other_tgt in [('de_DE', 'ja_XX'), ('ro_RO', 'en_XX')]:
        tok.src_lang = other_src
        tok.tgt_lang = other_tgt
        for text in texts:
            languages.append({'src_lang': other_src, 'tgt_lang': other_tgt, 'text': text,
                              'source_ids': tok(text).input_ids, 'target_ids': tok(text_target=text).input_ids})
    tok.src_lang = src
    tok.tgt_lang = tgt
    reference['folders'][name] = {'class': cls.__name__, 'src_lang': src, 'tgt_lang': tgt, 'cases': cases,
                                  'languages': languages}
    print(name, cases[0])
json.dump(reference, open(os.path.join(out, 'reference.json'), 'w'), indent=1)
for dirpath, _, files in os.walk(out):
    for f in files:
        os.chmod(os.path.join(dirpath, f), 0o644)
print(sorted(os.listdir(os.path.join(out, 'mbart-cc25'))))
